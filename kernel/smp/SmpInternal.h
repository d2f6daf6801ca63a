// SmpInternal.h: what Discovery.cpp hands to ApStartup.cpp.
#pragma once

#include "format/CpuTables.h"
#include "kernel/smp/Smp.h"

namespace smp {

extern Cpu g_cpus[CpuList::kMaxCpus];  // [0] is the bootstrap processor
extern u32 g_cpu_count;
extern u32 g_trampoline;  // physical address of the trampoline's page, 0 when no AP is started

}  // namespace smp
