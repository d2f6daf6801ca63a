// Gdt.cpp: building and loading the GDT and the TSSs (Intel SDM Vol. 3A 3.5.1, 7.2).
#include "arch/i386/Gdt.h"

#include "arch/i386/Cpu.h"

namespace gdt {
namespace {

alignas(8) SegmentDescriptor g_table[kEntries];
TaskStateSegment g_tss;
TaskStateSegment g_double_fault_tss;
// The LDT each CPU has loaded, by its TSS's GDT index (STR tells a CPU its own): LDTR is per CPU, and a
// record shared by all would let one CPU's clear_ldt() hide another's loaded table from it.
const SegmentDescriptor* g_ldt_of_task[kEntries] = {};
const SegmentDescriptor*& this_cpus_ldt() { return g_ldt_of_task[cpu::store_task_register() >> 3]; }
void (*g_double_fault_entry)() = nullptr;

// A double-fault task starts with a clean register state on its own stack, in the kernel's address space,
// with the GS of the CPU it belongs to (the task switch loads every segment register from the TSS, SDM
// Vol. 3A 7.3, so this is how the handler knows its CPU).
void fill_double_fault_tss(TaskStateSegment& tss, u32 stack_top, u32 cr3, u16 gs) {
    tss = TaskStateSegment{};
    tss.esp0 = stack_top;
    tss.ss0 = kKernelData;
    tss.esp = stack_top;
    tss.eip = reinterpret_cast<u32>(g_double_fault_entry);
    tss.eflags = 0x2;  // bit 1 is reserved and reads as one; interrupts off
    tss.cs = kKernelCode;
    tss.ds = tss.es = tss.fs = tss.ss = kKernelData;
    tss.gs = gs;
    tss.cr3 = cr3;
    tss.io_map_base = sizeof(TaskStateSegment);
}

}  // namespace

// Read by trap_common (Isr.asm) with the task register's index: the GS selector of the CPU that runs the
// TSS. Slots without a per-CPU segment hold the flat kernel data selector, so a trap taken before (or a
// TSS never paired) still loads a valid GS.
extern "C" u16 gdt_cpu_data_by_task[kEntries];
u16 gdt_cpu_data_by_task[kEntries];

namespace {

// LGDT, then reload the segment registers: they cache the old descriptors until reloaded (SDM 3.4.3).
// CS can only be reloaded by a far transfer, hence the far jump to the next instruction.
void load(const cpu::DescriptorTablePointer& pointer) {
    asm volatile(
        "lgdt %0\n"
        "ljmp %1, $1f\n"
        "1:\n"
        "mov %2, %%ax\n"
        "mov %%ax, %%ds\n"
        "mov %%ax, %%es\n"
        "mov %%ax, %%fs\n"
        "mov %%ax, %%gs\n"
        "mov %%ax, %%ss\n"
        :
        : "m"(pointer), "i"(kKernelCode), "i"(kKernelData)
        : "eax", "memory");
}

}  // namespace

void initialize(u32 double_fault_stack_top, void (*double_fault_entry)()) {
    using P = SegmentDescriptor::Privilege;
    g_table[0] = SegmentDescriptor();
    g_table[1] = SegmentDescriptor::code(0, 0xFFFFFFFF, P::Kernel);
    g_table[2] = SegmentDescriptor::data(0, 0xFFFFFFFF, P::Kernel);
    g_table[3] = SegmentDescriptor::code(0, 0xFFFFFFFF, P::User);
    g_table[4] = SegmentDescriptor::data(0, 0xFFFFFFFF, P::User);
    for (u16& selector : gdt_cpu_data_by_task) selector = kKernelData;

    g_tss = TaskStateSegment{};
    g_tss.ss0 = kKernelData;
    g_tss.io_map_base = sizeof(TaskStateSegment);
    g_table[5] = SegmentDescriptor::tss(reinterpret_cast<u32>(&g_tss), sizeof(TaskStateSegment) - 1);

    // CPU 0's double-fault task. CR3 is filled in by the caller once the kernel page directory exists (the
    // boot one serves until then); GS once CPU 0's per-CPU segment exists (set_bootstrap_cpu_data).
    g_double_fault_entry = double_fault_entry;
    fill_double_fault_tss(g_double_fault_tss, double_fault_stack_top, cpu::read_cr3(), kKernelData);
    g_table[6] = SegmentDescriptor::tss(reinterpret_cast<u32>(&g_double_fault_tss), sizeof(TaskStateSegment) - 1);

    cpu::DescriptorTablePointer pointer{sizeof(g_table) - 1, reinterpret_cast<u32>(g_table)};
    load(pointer);
    asm volatile("ltr %0" : : "r"(kTss));
}

ErrorOr<u16> add_cpu_tss(TaskStateSegment& tss) {
    tss = TaskStateSegment{};
    tss.ss0 = kKernelData;
    tss.io_map_base = sizeof(TaskStateSegment);
    u16 index = TRY(allocate(SegmentDescriptor::tss(reinterpret_cast<u32>(&tss), sizeof(TaskStateSegment) - 1)));
    return make_selector(index, false, 0);
}

ErrorOr<u16> add_double_fault_tss(TaskStateSegment& tss, u32 stack_top, u32 cr3, u16 cpu_data) {
    fill_double_fault_tss(tss, stack_top, cr3, cpu_data);
    u16 index = TRY(allocate(SegmentDescriptor::tss(reinterpret_cast<u32>(&tss), sizeof(TaskStateSegment) - 1)));
    gdt_cpu_data_by_task[index] = cpu_data;
    return make_selector(index, false, 0);
}

void release_double_fault_tss(u16 selector) {
    gdt_cpu_data_by_task[(selector >> 3) % kEntries] = kKernelData;
    release(selector >> 3);
}

TaskStateSegment* task_state(u16 selector) {
    const SegmentDescriptor& d = g_table[(selector >> 3) % kEntries];
    // A 32-bit TSS descriptor, available (9) or busy (0xB) (SDM Vol. 3A 7.2.2).
    if (selector == 0 || !d.is_present() || d.is_code_or_data() || (d.type() & ~0x2) != 0x9) return nullptr;
    return reinterpret_cast<TaskStateSegment*>(d.base());
}

void load_on_application_processor(u16 tss_selector) {
    cpu::DescriptorTablePointer pointer{sizeof(g_table) - 1, reinterpret_cast<u32>(g_table)};
    load(pointer);
    asm volatile("ltr %0" : : "r"(tss_selector));
    cpu::load_gs(cpu_data_for_task(tss_selector));
}

// A byte-granular limit: GS reaches the area and nothing past it (an access beyond faults, SDM 5.3).
void set_bootstrap_cpu_data(u32 base, u32 size) {
    g_table[kCpuData >> 3] = SegmentDescriptor::data(base, size - 1, SegmentDescriptor::Privilege::Kernel);
    gdt_cpu_data_by_task[kTss >> 3] = kCpuData;
    // CPU 0's double-fault task runs with CPU 0's GS (each AP's has its own, add_double_fault_tss).
    gdt_cpu_data_by_task[kDoubleFaultTss >> 3] = kCpuData;
    g_double_fault_tss.gs = kCpuData;
    cpu::load_gs(kCpuData);
}

ErrorOr<u16> add_cpu_data(u32 base, u32 size, u16 tss_selector) {
    u16 index = TRY(allocate(SegmentDescriptor::data(base, size - 1, SegmentDescriptor::Privilege::Kernel)));
    u16 selector = make_selector(index, false, 0);
    gdt_cpu_data_by_task[tss_selector >> 3] = selector;
    return selector;
}

void release_cpu_data(u16 selector, u16 tss_selector) {
    gdt_cpu_data_by_task[tss_selector >> 3] = kKernelData;
    release(selector >> 3);
}

u16 cpu_data_for_task(u16 tss_selector) { return gdt_cpu_data_by_task[(tss_selector >> 3) % kEntries]; }

TaskStateSegment& tss() { return g_tss; }
TaskStateSegment& double_fault_tss() { return g_double_fault_tss; }

void load_ldt(const SegmentDescriptor* table, u32 entries) {
    g_table[kLdt >> 3] = SegmentDescriptor::ldt(reinterpret_cast<u32>(table), entries * sizeof(SegmentDescriptor) - 1);
    cpu::load_ldt(kLdt);  // LDTR caches the descriptor: the shared slot may change under another CPU after this
    this_cpus_ldt() = table;
}

void clear_ldt() {
    const SegmentDescriptor*& loaded = this_cpus_ldt();
    if (!loaded) return;
    cpu::load_ldt(0);
    g_table[kLdt >> 3] = SegmentDescriptor();  // LDTR caches its descriptor: no other CPU loses its LDT by this
    loaded = nullptr;
}

const SegmentDescriptor* current_ldt() { return this_cpus_ldt(); }

ErrorOr<u16> allocate(SegmentDescriptor descriptor) {
    for (u16 i = kFirstDynamic; i < kEntries; ++i) {
        if (g_table[i].is_null()) {
            g_table[i] = descriptor;
            return i;
        }
    }
    return Error::NoSpace;
}

void release(u16 index) {
    if (index >= kFirstDynamic && index < kEntries) g_table[index] = SegmentDescriptor();
}

SegmentDescriptor& entry(u16 index) { return g_table[index]; }

}  // namespace gdt
