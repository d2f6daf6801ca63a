// Discovery.cpp: which processors there are, from the firmware's tables (format/CpuTables.h parses them).
//
// Both tables are found by a scan of the BIOS areas (ACPI 6.5 5.2.5.1; MP spec 1.4 4.1): the first KiB of
// the Extended BIOS Data Area (its segment is the word at 0x40E), the last KiB of base memory (the KiB count
// is the word at 0x413) and the BIOS ROM, 0xE0000-0xFFFFF. Every table is read through the direct map, and
// the bytes handed to a parser stop where the direct map ends: a table placed above it is reported, not
// read. A bad table is a warning, and the next source is tried; without any, Mneme runs on the one CPU.
#include "kernel/smp/Smp.h"
#include "kernel/smp/SmpInternal.h"

#include "arch/i386/LocalApic.h"
#include "format/CpuTables.h"
#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/Format.h"
#include "libc/rt/String.h"

namespace smp {

Cpu g_cpus[CpuList::kMaxCpus];
u32 g_cpu_count = 0;
u32 g_trampoline = 0;

namespace {

constexpr u32 kMaxTableBytes = 64 * KiB;   // larger than any MADT or MP table of a PC; a cap on a bad length
constexpr u32 kTrampolineLimit = 0xA0000;  // the page must lie in conventional memory, below the EBDA/VGA

struct Area {
    u32 start, size;
};

// Bytes readable through the direct map from `physical`, at most `cap`.
u32 readable(u64 physical, u32 cap) {
    u64 end = paging::direct_map_bytes();
    if (physical >= end) return 0;
    return end - physical < cap ? static_cast<u32>(end - physical) : cap;
}
const u8* at(u64 physical) { return layout::physical_pointer<const u8>(static_cast<uptr>(physical)); }
u16 read_word(u32 physical) { return static_cast<u16>(at(physical)[0] | (at(physical)[1] << 8)); }

u32 search_areas(Area out[3]) {
    u32 n = 0;
    u32 ebda = u32{read_word(0x40E)} << 4;
    if (ebda >= 0x80000 && ebda < 0xA0000) out[n++] = Area{ebda, KiB};
    u32 base_kib = read_word(0x413);
    if (base_kib >= 512 && base_kib <= 640 && base_kib * KiB - KiB != ebda) out[n++] = Area{base_kib * KiB - KiB, KiB};
    out[n++] = Area{0xE0000, 0x20000};
    return n;
}

// The first of the BIOS areas (search_areas) in which `find` finds its structure: the address it returns, or 0.
// A damaged one (a signature with a bad checksum) is reported under `what` and the search goes on.
u32 search_bios_areas(cpu_tables::Result (*find)(const u8*, u32), const char* what) {
    Area areas[3];
    u32 n = search_areas(areas);
    for (u32 i = 0; i < n; ++i) {
        auto found = find(at(areas[i].start), readable(areas[i].start, areas[i].size));
        if (!found.is_error()) return found.value();
        if (found.error().code != Error::NoEntry)
            kwarn("smp", "%s: %s (in 0x%05x-0x%05x); ignored", what, found.error().what(), areas[i].start,
                  areas[i].start + areas[i].size - 1);
    }
    return 0;
}

bool from_madt(CpuList& list) {
    u32 rsdt = search_bios_areas(cpu_tables::find_rsdp, "ACPI");
    if (!rsdt) return false;
    auto length = cpu_tables::check_table(at(rsdt), readable(rsdt, kMaxTableBytes), "RSDT");
    if (length.is_error()) {
        kwarn("smp", "ACPI: the RSDT at 0x%08x: %s; ignored", rsdt, length.error().what());
        return false;
    }
    const u8* table = at(rsdt);
    for (u32 i = 0; i < cpu_tables::rsdt_entry_count(table, length.value()); ++i) {
        u32 address = cpu_tables::rsdt_entry(table, i);
        if (readable(address, 4) < 4 || memcmp(at(address), "APIC", 4) != 0) continue;
        auto madt_length = cpu_tables::check_table(at(address), readable(address, kMaxTableBytes), "APIC");
        if (madt_length.is_error()) {
            kwarn("smp", "ACPI: the MADT at 0x%08x: %s; ignored", address, madt_length.error().what());
            return false;
        }
        CpuList parsed;
        auto result = cpu_tables::parse_madt(at(address), madt_length.value(), parsed);
        if (result.is_error()) {
            kwarn("smp", "ACPI: the MADT at 0x%08x: %s; ignored", address, result.error().what());
            return false;
        }
        list = parsed;
        return true;
    }
    return false;
}

bool from_mp_table(CpuList& list) {
    u32 address = search_bios_areas(cpu_tables::find_mp_floating_pointer, "MP table");
    if (!address) return false;
    CpuList parsed;
    auto result = cpu_tables::parse_mp_table(at(address), readable(address, kMaxTableBytes), parsed);
    if (result.is_error()) {
        kwarn("smp", "the MP table at 0x%08x: %s; ignored", address, result.error().what());
        return false;
    }
    list = parsed;
    return true;
}

// The processors from the MADT, or from the MP table where there is no usable MADT; returns which table
// listed them, or nullptr when neither did.
const char* find_processors(CpuList& list) {
    if (from_madt(list)) return "ACPI MADT";
    if (from_mp_table(list)) return "MP table";
    return nullptr;
}

// "0 1 2 3": the APIC ids of the enabled CPUs, for the boot line.
void format_ids(const CpuList& list, char* out, u32 size) {
    u32 used = 0;
    out[0] = '\0';
    for (u32 i = 0; i < list.count && used + 5 < size; ++i) {
        if (!list.cpus[i].enabled) continue;
        used += format_to_buffer(out + used, size - used, used ? " %u" : "%u", list.cpus[i].apic_id);
    }
}

void use_bootstrap_only(u8 bsp_id) {
    g_cpus[0] = Cpu{bsp_id, true, true, 1, 0, 0, 0, 0};
    g_cpu_count = 1;
    per_cpu::area(0).apic_id = bsp_id;
}

// CPUID reports no local APIC, yet the machine may have one: the 486 systems of the MultiProcessor
// Specification put a discrete 82489DX beside each CPU (MP spec 1.4, 3.6.1 and 5.1: its version is 0x0X), and
// QEMU gives every CPU an APIC when started with -smp N, whatever the CPU model. The 8259's interrupts then
// reach the CPU only through that APIC's LINT0, which the firmware, trusting CPUID too, left masked: no timer
// tick would ever arrive. So when the firmware's tables list processors and an APIC answers at the address
// they give, route the PIC's interrupts through it (virtual-wire mode). Mneme still runs on this CPU only.
void route_through_undeclared_apic() {
    CpuList list;
    const char* source = find_processors(list);
    if (!source) {
        klog("smp", "no local APIC (CPUID): one CPU");
        return;
    }
    u32 physical = list.local_apic_address ? list.local_apic_address : local_apic::kDefaultPhysicalBase;
    if (list.enabled_count() == 0 || physical != local_apic::kDefaultPhysicalBase) {
        klog("smp", "no local APIC (CPUID): one CPU");
        return;
    }
    uptr registers = paging::map_undeclared_local_apic();
    u32 version = local_apic::version(registers);
    if (!local_apic::looks_like_an_apic(version)) {
        klog("smp", "no local APIC (CPUID, and nothing answers at 0x%08x): one CPU", physical);
        return;
    }
    local_apic::route_pic_interrupts(registers);
    klog("smp",
         "CPUID reports no local APIC, but the %s lists %u CPUs and an APIC answers at 0x%08x (version 0x%02x): "
         "the PIC's interrupts routed through it; one CPU",
         source, list.enabled_count(), physical, version & 0xFF);
}

}  // namespace

void discover(const BootOptions& options) {
    uptr apic = paging::local_apic_registers();
    if (!apic) {
        use_bootstrap_only(0);
        route_through_undeclared_apic();
        return;
    }
    u8 bsp_id = local_apic::id(apic);
    use_bootstrap_only(bsp_id);

    CpuList list;
    const char* source = find_processors(list);
    if (!source) {
        klog("smp", "no ACPI MADT or MP table lists the processors: using this one (APIC id %u) only", bsp_id);
        return;
    }
    u32 enabled = list.enabled_count();
    char ids[3 * CpuList::kMaxCpus + 1];
    format_ids(list, ids, sizeof(ids));
    if (list.dropped)
        kwarn("smp", "the %s lists %u more processors than the %u Mneme keeps; those are not used", source,
              list.dropped, CpuList::kMaxCpus);
    if (enabled <= 1) {
        klog("smp", "1 CPU in the %s (APIC id %s): nothing to start%s", source, ids,
             list.count && source[0] == 'M' ? " (QEMU's MP table lists only CPU 0 unless -smp N,sockets=N)" : "");
        return;
    }
    u32 limit = options.cpus ? options.cpus : CpuList::kMaxCpus;
    for (u32 i = 0; i < list.count && g_cpu_count < limit; ++i) {
        const CpuEntry& entry = list.cpus[i];
        if (!entry.enabled || entry.apic_id == bsp_id) continue;
        g_cpus[g_cpu_count++] = Cpu{entry.apic_id, false, false, 0, 0, 0, 0, 0};
    }
    if (g_cpu_count == 1) {
        klog("smp", "%u CPUs in the %s (APIC ids %s); cpus=%u: using this one only", enabled, source, ids,
             options.cpus);
        return;
    }
    u32 apic_physical = list.local_apic_address ? list.local_apic_address : local_apic::kDefaultPhysicalBase;
    if (apic_physical != local_apic::kDefaultPhysicalBase) {
        kwarn("smp",
              "the %s puts the local APIC at 0x%08x, not at 0x%08x where Mneme maps it: the other %u CPUs "
              "are not started",
              source, apic_physical, local_apic::kDefaultPhysicalBase, g_cpu_count - 1);
        use_bootstrap_only(bsp_id);
        return;
    }
    auto page = pmm::boot_allocate(kPageSize, kTrampolineLimit, "AP start-up trampoline");
    if (page.is_error()) {
        kwarn("smp", "no free page below 640 KiB for the start-up trampoline: the other %u CPUs are not started",
              g_cpu_count - 1);
        use_bootstrap_only(bsp_id);
        return;
    }
    g_trampoline = static_cast<u32>(page.value());
    klog("smp", "%u CPUs in the %s (APIC ids %s), using %u; this is APIC id %u; trampoline at 0x%05x", enabled, source,
         ids, g_cpu_count, bsp_id, g_trampoline);
}

u32 cpu_count() { return g_cpu_count; }
const Cpu& cpu(u32 index) { return g_cpus[index]; }
u32 online_count() {
    u32 n = 0;
    for (u32 i = 0; i < g_cpu_count; ++i) n += __atomic_load_n(&g_cpus[i].online, __ATOMIC_ACQUIRE) ? 1 : 0;
    return n;
}

}  // namespace smp
