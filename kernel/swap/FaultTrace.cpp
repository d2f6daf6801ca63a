// FaultTrace.cpp: the ring of recent user page faults (see FaultTrace.h).
#include "kernel/swap/FaultTrace.h"

namespace fault_trace {
namespace {

Fault g_ring[kCapacity];
u32 g_count = 0;  // faults recorded since boot; the ring holds the last kCapacity

}  // namespace

void record(i32 pid, u32 address, bool write, bool major) {
    g_ring[g_count % kCapacity] = Fault{pid, address >> 12, write ? 1u : 0u, major ? 1u : 0u};
    ++g_count;
}

u32 for_each(i32 pid, void (*visit)(const Fault&, void*), void* context) {
    u32 first = g_count > kCapacity ? g_count - kCapacity : 0;
    u32 visited = 0;
    for (u32 i = first; i < g_count; ++i) {
        const Fault& fault = g_ring[i % kCapacity];
        if (pid != 0 && fault.pid != pid) continue;
        visit(fault, context);
        ++visited;
    }
    return visited;
}

u32 recorded() { return g_count; }

}  // namespace fault_trace
