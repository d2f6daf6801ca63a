// ApStartup.cpp: INIT-SIPI-SIPI, one application processor at a time, and the AP's first C++ code.
//
// The sequence is the SDM's (Vol. 3A 8.4.4.1, "Typical BSP Initialization Sequence"), addressed to one APIC
// id at a time through the ICR's destination field (10.6.1) rather than broadcast, so a CPU the firmware
// listed as disabled, or beyond `cpus=`, is never woken: INIT, 10 ms, STARTUP, 200 us, STARTUP again, 200 us.
// Emulators do not need the delays; real processors do, and a 486 has no TSC, so they are counted on the
// PIT (pit::Stopwatch). A second STARTUP to a CPU that already left its wait-for-SIPI state is ignored
// (8.4.2). The BSP then waits up to 100 ms for the AP to say it is online; one that does not is sent INIT
// again, which stops it where it is and leaves it waiting (so it cannot run later on freed page tables),
// and is skipped.
//
// While it turns paging on, the AP runs at the trampoline's physical address. The kernel's own directory
// does not map low memory (boot.asm's identity map is gone), so bring-up uses a directory of its own: the
// kernel half copied from the kernel's (the same page tables: kernel stacks and the direct map are there) and
// one page table mapping the trampoline's page at its own address. ap_main leaves it for the kernel's
// directory at once, and the two frames are freed when every AP is up.
#include "kernel/smp/Smp.h"
#include "kernel/smp/SmpInternal.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/LocalApic.h"
#include "arch/i386/PageTableEntry.h"
#include "arch/i386/Pit.h"
#include "arch/i386/Tss.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/boot/Layout.h"
#include "kernel/debug/Traps.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/KernelStack.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/Tlb.h"
#include "libc/base/Assert.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/sync/BigKernelLock.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/LockRegistry.h"
#include "kernel/sync/SpinLock.h"
#include "libc/base/Format.h"
#include "libc/rt/String.h"

extern "C" char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_parameters[];
extern "C" [[noreturn]] void ap_main(u32 index);

namespace smp {
namespace {

// The parameter block at the end of arch/i386/Trampoline.asm.
struct TrampolineParameters {
    u32 cr3, cr4, stack_top, entry, cpu_index;
};

constexpr u32 kIcrSpins = 100000;     // polls of "send pending"; an APIC delivers in a few
constexpr u32 kInitDelayUs = 10000;   // SDM 8.4.4.1: 10 ms after INIT
constexpr u32 kStartupDelayUs = 200;  // 200 us after each STARTUP
constexpr u32 kOnlineTimeoutUs = 100000;
constexpr u32 kDrillTimeoutUs = 2000000;  // apdf=1: the AP prints a double-fault report before it is online

TaskStateSegment g_tss[CpuList::kMaxCpus];
u16 g_tss_selector[CpuList::kMaxCpus];
static_assert(CpuList::kMaxCpus <= idt::kMaxTables, "each CPU loads an IDT of its own");

// Each AP's double-fault task (see set_up_double_fault_task).
TaskStateSegment g_double_fault_tss[CpuList::kMaxCpus];
KernelStack g_double_fault_stack[CpuList::kMaxCpus];
u16 g_double_fault_selector[CpuList::kMaxCpus];

// The local APIC timer's initial count for one PIT period: the APs' clock ticks as often as CPU 0's.
u32 g_apic_timer_count = 0;

// Counts the APIC timer (bus clock / 16, SDM Vol. 3A 10.5.4) against the PIT for 10 ms on this CPU; every
// CPU's APIC timer runs on the same bus clock.
u32 calibrate_apic_timer(uptr apic) {
    constexpr u32 kWindowUs = 10000;
    local_apic::start_timer_counting(apic);
    pit::delay_us(kWindowUs);
    u64 counted = local_apic::timer_counted(apic);
    u64 per_tick = counted * (1000000 / pit::frequency()) / kWindowUs;
    return per_tick ? static_cast<u32>(per_tick) : 1;
}

// Each AP appends its index here before it halts: a lock taken on the APs themselves, for the tests.
sync::TicketLock g_check_in_lock("smp check-in", lock_rank::kSmpCheckIn);
MNEME_REGISTER_LOCK(g_check_in_lock);
u32 g_check_in[CpuList::kMaxCpus];
u32 g_check_in_count = 0;

bool is_online(u32 index) { return __atomic_load_n(&g_cpus[index].online, __ATOMIC_ACQUIRE) != 0; }

// The bring-up directory (see above); returns its physical address, or 0.
u32 build_bringup_directory(u32& table_physical) {
    auto directory = pmm::allocate();
    if (directory.is_error()) return 0;
    auto table = pmm::allocate();
    if (table.is_error()) {
        pmm::free(directory.value());
        return 0;
    }
    auto* pdes = static_cast<PageDirectoryEntry*>(pmm::frame_pointer(directory.value()));
    auto* ptes = static_cast<PageTableEntry*>(pmm::frame_pointer(table.value()));
    memset(pdes, 0, kPageSize);
    memset(ptes, 0, kPageSize);
    u32 kernel_first = page_directory_index(static_cast<u32>(layout::kKernelBase));
    memcpy(pdes + kernel_first, paging::kernel_directory_entries(), (kEntriesPerTable - kernel_first) * sizeof(u32));
    table_physical = table.value() << kPageShift;
    ptes[page_table_index(g_trampoline)].set_physical_address(g_trampoline);
    ptes[page_table_index(g_trampoline)].set_present(true);
    ptes[page_table_index(g_trampoline)].set_writable(true);
    PageDirectoryEntry& pde = pdes[page_directory_index(g_trampoline)];
    pde.set_physical_address(table_physical);
    pde.set_present(true);
    pde.set_writable(true);
    return directory.value() << kPageShift;
}

// CPU `index`'s double-fault task: a TSS in a GDT slot of its own, on a KernelStack of its own (with the
// guard page under it), in the kernel's directory, with the AP's GS, named by gate 8 of the AP's own IDT.
// Sharing CPU 0's would run an AP's double fault on CPU 0's stack, report CPU 0, and leave the back link
// naming CPU 0's TSS; two at once would find the one TSS busy (Intel SDM Vol. 3A 6.15, 7.3).
bool set_up_double_fault_task(u32 index, u16 cpu_data) {
    static void* tables[CpuList::kMaxCpus];  // each AP's IDT, kept for good once made (a retry reuses it)
    if (!tables[index]) tables[index] = kmalloc(idt::kTableBytes);
    if (!tables[index]) return false;
    idt::adopt_table(index, tables[index]);
    auto stack = KernelStack::allocate();
    if (stack.is_error()) return false;
    auto selector =
        gdt::add_double_fault_tss(g_double_fault_tss[index], stack.value().top(), paging::kernel_directory(), cpu_data);
    if (selector.is_error()) {
        stack.value().release();
        return false;
    }
    g_double_fault_stack[index] = stack.value();
    g_double_fault_selector[index] = selector.value();
    idt::set_double_fault_task(index, selector.value());
    return true;
}

// Undoes set_up_double_fault_task for an AP that did not come online.
void release_double_fault_task(u32 index) {
    g_double_fault_stack[index].release();
    gdt::release_double_fault_tss(g_double_fault_selector[index]);
    g_double_fault_selector[index] = 0;
    idt::set_double_fault_task(index, gdt::kDoubleFaultTss);
}

// Sends INIT-SIPI-SIPI to CPU `index` and waits for it; true when it came online.
bool start_one(uptr apic, u32 index) {
    Cpu& cpu = g_cpus[index];
    cpu.started = true;
    if (!local_apic::send_init(apic, cpu.apic_id, kIcrSpins)) return false;
    pit::delay_us(kInitDelayUs);
    u8 vector = static_cast<u8>(g_trampoline >> kPageShift);
    pit::Stopwatch watch;
    for (int startup = 0; startup < 2; ++startup) {
        if (!local_apic::send_startup(apic, cpu.apic_id, vector, kIcrSpins)) return false;
        u32 sent = watch.elapsed_us();
        while (watch.elapsed_us() - sent < kStartupDelayUs && !is_online(index)) {
        }
    }
    u32 timeout = boot_options::get().ap_double_fault ? kDrillTimeoutUs : kOnlineTimeoutUs;
    while (!is_online(index) && watch.elapsed_us() < timeout) {
    }
    cpu.start_us = watch.elapsed_us();
    return is_online(index);
}

// apdf=1: a real double fault on this AP, under a recovery point (kernel/debug/Traps.h). It runs before the
// AP says it is online, while the BSP only polls for that, so nothing else uses the recovery point or the
// AP's stacks meanwhile. The AP's kernel stack overflows into its guard page; the page fault cannot be
// delivered there, so the CPU switches to the task its own IDT's gate 8 names (Intel SDM Vol. 3A 6.15),
// which reports, points the interrupted TSS at the recovery point and returns to it with IRET.
void double_fault_drill(u32 index) {
    if (traps::run_recoverable(traps::overflow_kernel_stack)) return;  // no fault: drill_recovered stays false
    traps::DoubleFaultRecord record = traps::last_double_fault();
    Cpu& cpu = g_cpus[index];
    cpu.drill_recovered = record.count != 0;
    cpu.drill_cpu = record.cpu;
    cpu.drill_task = record.task;
    cpu.drill_interrupted = record.interrupted;
}

}  // namespace

void start_application_processors() {
    if (g_cpu_count <= 1) return;
    uptr apic = paging::local_apic_registers();
    u32 table = 0;
    u32 directory = build_bringup_directory(table);
    if (!directory) {
        kwarn("smp", "no memory for the bring-up page directory: the other %u CPUs are not started", g_cpu_count - 1);
        g_cpu_count = 1;
        return;
    }
    u32 size = static_cast<u32>(ap_trampoline_end - ap_trampoline_start);
    memcpy(layout::physical_pointer<u8>(g_trampoline), ap_trampoline_start, size);
    auto* parameters = layout::physical_pointer<TrampolineParameters>(
        g_trampoline + static_cast<u32>(ap_trampoline_parameters - ap_trampoline_start));
    parameters->cr3 = directory;
    parameters->cr4 = paging::uses_large_pages() || paging::uses_global_pages() ? cpu::read_cr4() : 0;
    parameters->entry = reinterpret_cast<u32>(&ap_main);

    g_apic_timer_count = calibrate_apic_timer(apic);
    big_lock::start_locking();  // from here another CPU may enter the kernel
    klog("cpu0", "APIC id %u, the bootstrap processor; APIC timer: %u counts per %u ms tick", g_cpus[0].apic_id,
         g_apic_timer_count, 1000 / pit::frequency());
    for (u32 i = 1; i < g_cpu_count; ++i) {
        char name[8];
        format_to_buffer(name, sizeof(name), "cpu%u", i);
        auto stack = KernelStack::allocate();
        auto selector = gdt::add_cpu_tss(g_tss[i]);
        PerCpu& area = per_cpu::prepare(i, g_cpus[i].apic_id);
        ErrorOr<u16> data = selector.is_error()
                                ? ErrorOr<u16>(Error::NoSpace)
                                : gdt::add_cpu_data(reinterpret_cast<u32>(&area), sizeof(PerCpu), selector.value());
        bool double_fault = !stack.is_error() && !data.is_error() && set_up_double_fault_task(i, data.value());
        if (!double_fault) {
            kwarn(name, "APIC id %u: no %s for it; skipped", g_cpus[i].apic_id,
                  stack.is_error()                         ? "kernel stack"
                  : selector.is_error() || data.is_error() ? "GDT slot"
                                                           : "double-fault stack or GDT slot");
            if (!stack.is_error()) stack.value().release();
            if (!data.is_error()) gdt::release_cpu_data(data.value(), selector.value());
            if (!selector.is_error()) gdt::release(selector.value() >> 3);
            continue;
        }
        g_tss_selector[i] = selector.value();
        g_tss[i].esp0 = stack.value().top();
        area.tss = &g_tss[i];
        parameters->stack_top = stack.value().top();
        parameters->cpu_index = i;
        if (start_one(apic, i)) {
            klog(name, "APIC id %u, started in %u.%u ms", g_cpus[i].apic_id, g_cpus[i].start_us / 1000,
                 g_cpus[i].start_us % 1000 / 100);
            continue;
        }
        // Back to wait-for-SIPI, so it cannot wake later on the freed directory or stack (SDM 8.4.1).
        (void)local_apic::send_init(apic, g_cpus[i].apic_id, kIcrSpins);
        stack.value().release();
        release_double_fault_task(i);
        gdt::release_cpu_data(data.value(), selector.value());
        gdt::release(selector.value() >> 3);
        kwarn(name, "APIC id %u did not answer; skipped", g_cpus[i].apic_id);
    }
    pmm::free(directory >> kPageShift);
    pmm::free(table >> kPageShift);
    klog("smp", "%u of %u CPUs online; each runs processes, and halts in its idle loop when there are none",
         online_count(), g_cpu_count);
}

u16 tss_selector(u32 index) { return index == 0 ? gdt::kTss : g_tss_selector[index]; }
u16 double_fault_tss_selector(u32 index) { return index == 0 ? gdt::kDoubleFaultTss : g_double_fault_selector[index]; }

u32 check_in_count() {
    sync::Locker locker(g_check_in_lock);
    return g_check_in_count;
}

u32 checked_in(u32 position) {
    sync::Locker locker(g_check_in_lock);
    return position < g_check_in_count ? g_check_in[position] : 0;
}

}  // namespace smp

// The AP's first C++ code, on its own kernel stack, with the bring-up directory in CR3 and interrupts off.
extern "C" [[noreturn]] void ap_main(u32 index) {
    using namespace smp;
    gdt::load_on_application_processor(g_tss_selector[index]);  // and GS: this_cpu() works from here
    tlb::load_directory(paging::kernel_directory());            // the identity page goes; the kernel half stays
    idt::load_on_this_cpu(index);                               // its own table: gate 8 names its own double-fault task
    local_apic::enable_quietly(paging::local_apic_registers());
    PerCpu* self = per_cpu::this_cpu();
    g_cpus[index].gs_index = self->index;
    g_cpus[index].gs_apic_id = self->apic_id;
    g_cpus[index].apic_id_register = local_apic::id(paging::local_apic_registers());
    if (boot_options::get().ap_double_fault) double_fault_drill(index);
    {
        sync::Locker locker(g_check_in_lock);
        g_check_in[g_check_in_count++] = index;
    }
    // From here it takes TLB shootdowns (its IDT is loaded, its directory recorded) and counts time.
    per_cpu::mark_online(index);
    local_apic::start_periodic_timer(paging::local_apic_registers(), idt::kApicTimerVector, g_apic_timer_count);
    __atomic_store_n(&self->idle, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&g_cpus[index].online, 1, __ATOMIC_RELEASE);
    scheduler::run_idle();
    mneme_panic("%s: the idle loop returned", self->name);
}
