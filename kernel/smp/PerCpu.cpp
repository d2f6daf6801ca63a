// PerCpu.cpp: the per-CPU areas (see PerCpu.h).
#include "kernel/smp/PerCpu.h"

#include "arch/i386/Gdt.h"
#include "format/CpuTables.h"
#include "libc/base/Format.h"

namespace per_cpu {
namespace {

static_assert(kMaxCpus == CpuList::kMaxCpus);
PerCpu g_areas[kMaxCpus];

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
}

PerCpu& area(u32 index) { return g_areas[index]; }

}  // namespace per_cpu
