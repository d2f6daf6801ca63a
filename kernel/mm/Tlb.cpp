// Tlb.cpp: see Tlb.h. With one CPU online every call is what it always was: a local INVLPG or CR3 load.
#include "kernel/mm/Tlb.h"

#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Idt.h"
#include "arch/i386/LocalApic.h"
#include "kernel/boot/Layout.h"
#include "libc/base/Assert.h"
#include "kernel/mm/Paging.h"
#include "kernel/smp/PerCpu.h"

namespace tlb {
namespace {
u32 g_invalidations = 0;
u32 g_loads = 0;
u32 g_shootdowns = 0;
u32 g_ipis = 0;

// The request being served. Written only by the holder of the big kernel lock, before it raises the
// targets' flags (a release store), read by a target after it sees its flag (an acquire load).
struct Request {
    u32 vaddr;
    bool everything;  // flush every non-global translation (CR3 reload) instead of one page
};
Request g_request;

constexpr u32 kIcrSpins = 100000;
// A target that has not answered after this many rounds of waiting is stuck (interrupts off in a loop):
// panicking with its name beats a silent hang. Far beyond any real delay, even under TCG's round robin.
constexpr u32 kPatience = 1u << 28;

void flush_here(const Request& request) {
    if (request.everything)
        cpu::write_cr3(cpu::read_cr3());
    else
        cpu::invlpg(request.vaddr);
}

// Sends `request` to every CPU in `targets` and waits for each to acknowledge.
void shoot_down(u32 targets, Request request) {
    cpu::InterruptGuard guard;  // one request at a time, and none of ours nested inside it
    g_request = request;
    uptr apic = paging::local_apic_registers();
    for (u32 mask = targets; mask; mask &= mask - 1) {
        PerCpu& target = per_cpu::area(__builtin_ctz(mask));
        atomic::store_release(target.tlb_request, 1);
        if (!local_apic::send_ipi(apic, static_cast<u8>(target.apic_id), idt::kTlbShootdownVector, kIcrSpins))
            mneme_panic("tlb: the local APIC did not send the shootdown IPI to %s", target.name);
        ++g_ipis;
    }
    for (u32 mask = targets; mask; mask &= mask - 1) {
        PerCpu& target = per_cpu::area(__builtin_ctz(mask));
        for (u32 waited = 0; atomic::load_acquire(target.tlb_request); ++waited) {
            if (waited == kPatience)
                mneme_panic("tlb: %s did not acknowledge a shootdown of %#x (stuck with interrupts off?)", target.name,
                            request.vaddr);
            atomic::pause();
        }
    }
    ++g_shootdowns;
}

// The other online CPUs whose CR3 holds `directory` (all of them for a kernel page).
u32 others_using(u32 directory, bool kernel_page) {
    u32 self = per_cpu::this_cpu()->index;
    u32 targets = 0;
    for (u32 mask = per_cpu::online_mask() & ~(1u << self); mask; mask &= mask - 1) {
        u32 i = __builtin_ctz(mask);
        if (kernel_page || atomic::load_acquire(per_cpu::area(i).directory) == directory) targets |= 1u << i;
    }
    return targets;
}
}  // namespace

void invalidate(u32 directory, u32 vaddr) {
    ++g_invalidations;
    bool kernel_page = vaddr >= layout::kKernelBase;
    if (kernel_page || cpu::read_cr3() == directory) cpu::invlpg(vaddr);
    if (!per_cpu::several_online()) return;
    if (u32 targets = others_using(directory, kernel_page)) shoot_down(targets, Request{vaddr, false});
}

void invalidate_kernel_page(u32 vaddr) { invalidate(0, vaddr); }

void quiesce(u32 directory) {
    if (!per_cpu::several_online()) return;
    if (u32 targets = others_using(directory, false)) shoot_down(targets, Request{0, true});
}

void serve_request() {
    PerCpu* self = per_cpu::this_cpu();
    if (!atomic::load_acquire(self->tlb_request)) return;
    flush_here(g_request);
    ++self->tlb_flushes;
    atomic::store_release(self->tlb_request, 0);
}

void load_directory(u32 directory) {
    if (cpu::read_cr3() == directory) return;
    ++g_loads;
    // Recorded before the load: an initiator that reads the old value while this CPU switches away from that
    // space sends a harmless extra request; one that reads the new value flushes what may be cached.
    atomic::store_release(per_cpu::this_cpu()->directory, directory);
    cpu::write_cr3(directory);
}

void flush_all() {
    ++g_invalidations;
    cpu::write_cr3(cpu::read_cr3());
    if (!per_cpu::several_online()) return;
    if (u32 targets = others_using(cpu::read_cr3(), false)) shoot_down(targets, Request{0, true});
}

u32 current_directory() { return cpu::read_cr3(); }
u32 invalidations() { return g_invalidations; }
u32 directory_loads() { return g_loads; }
u32 shootdowns() { return g_shootdowns; }
u32 shootdown_ipis() { return g_ipis; }

}  // namespace tlb
