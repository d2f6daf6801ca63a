// PerCpu.cpp: the per-CPU areas (see PerCpu.h).
#include "kernel/smp/PerCpu.h"

#include "arch/i386/Gdt.h"
#include "format/CpuTables.h"
#include "libc/base/Format.h"

namespace per_cpu {
namespace {

static_assert(kMaxCpus == CpuList::kMaxCpus);
PerCpu g_areas[kMaxCpus];
u32 g_online_mask = 0;

}  // namespace

PerCpu& prepare(u32 index, u32 apic_id) {
    PerCpu& area = g_areas[index];
    area = PerCpu{};
    area.self = &area;
    area.index = index;
    area.apic_id = apic_id;
    format_to_buffer(area.name, sizeof(area.name), "cpu%u", index);
    return area;
}

void initialize_bootstrap() {
    PerCpu& area = prepare(0, 0);  // the APIC id is filled in by smp::discover
    gdt::set_bootstrap_cpu_data(reinterpret_cast<u32>(&area), sizeof(PerCpu));
    area.tss = &gdt::tss();
    mark_online(0);
}

u32 online_mask() { return __atomic_load_n(&g_online_mask, __ATOMIC_ACQUIRE); }
void mark_online(u32 index) { __atomic_fetch_or(&g_online_mask, 1u << index, __ATOMIC_RELEASE); }

PerCpu& area(u32 index) { return g_areas[index]; }

}  // namespace per_cpu
