// Tlb.cpp: see Tlb.h. One CPU today: an invalidation is local. With several CPUs, invalidate_page() and
// flush_all() are where the others are told (an IPI, and a wait for their acknowledgements).
#include "kernel/mm/Tlb.h"

#include "arch/i386/Cpu.h"

namespace tlb {
namespace {
u32 g_invalidations = 0;
u32 g_loads = 0;
}  // namespace

void invalidate_page(u32 vaddr) {
    ++g_invalidations;
    cpu::invlpg(vaddr);
}

void load_directory(u32 directory) {
    if (cpu::read_cr3() == directory) return;
    ++g_loads;
    cpu::write_cr3(directory);
}

void flush_all() {
    ++g_invalidations;
    cpu::write_cr3(cpu::read_cr3());
}

u32 current_directory() { return cpu::read_cr3(); }
u32 invalidations() { return g_invalidations; }
u32 directory_loads() { return g_loads; }

}  // namespace tlb
