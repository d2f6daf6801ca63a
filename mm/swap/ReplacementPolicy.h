// ReplacementPolicy.h: the interface between the kernel's page replacement and a policy that picks the
// victim when memory is full (OSTEP ch. 22, "Swapping: Policies"; Tanenbaum, Modern Operating Systems,
// 3.4, "Page Replacement Algorithms").
//
// The kernel (or the host Simulator) owns the frames; a policy only watches them. Frames are indices
// 0 .. frame_count - 1. The conversation:
//
//   page_in(frame)          the frame now holds a page the policy may later evict. This counts as the
//                           page's first reference.
//   referenced(frame)       the page in the frame was just used. Real hardware does not report every access
//                           (it sets the accessed bit instead), so only the exact LRU needs this, and it runs
//                           on recorded reference strings; the other policies ignore it.
//   tick(frames)            a periodic sample, e.g. every timer interrupt: aging shifts the accessed bits
//                           into its counters here.
//   choose_victim(frames)   memory is full: which frame should be emptied? The frame stays resident (and the
//                           policy keeps tracking it) until removed(frame); the kernel pins it while it is
//                           written out, so a second call picks another frame.
//   removed(frame)          the frame no longer holds the page: the victim was written out, or the page went
//                           for another reason (unmapped, its process exited).
//
// A policy learns about a page's use from the accessed (A) and dirty (D) bits through FrameAccessor. On
// i386 the CPU sets A in the PTE on every access and D on every write (Intel SDM vol. 3A, 4.8); in the
// kernel the accessor ORs the bits of every PTE that maps the frame (the reverse map finds them, shared
// copy-on-write frames included) and clears them all, invalidating each TLB entry, since the CPU does not
// set A again for a translation it still caches. On the host the Simulator's frame table plays the hardware.
//
// A policy may clear A (second chance, aging) but never D: a page whose D is cleared without being written
// out loses its last writes. The kernel clears D itself when the write-back is done.
//
// Pinned frames (under I/O, holding page tables, locked by the kernel) are never chosen: evictable(frame)
// says which are not.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Types.h"

// What a policy may read and do to the frames' hardware bits.
class FrameAccessor {
public:
    virtual bool accessed(u32 frame) const = 0;
    virtual bool dirty(u32 frame) const = 0;
    virtual void clear_accessed(u32 frame) = 0;
    // False for a pinned frame, which must not be chosen.
    virtual bool evictable(u32 frame) const = 0;

protected:
    ~FrameAccessor() = default;
};

class ReplacementPolicy {
public:
    // "fifo", "clock", ... for messages, the monitor and the replay tool.
    virtual const char* name() const = 0;
    virtual u32 frame_count() const = 0;

    // `frame` must not be resident (panics otherwise).
    virtual void page_in(u32 frame) = 0;
    // `frame` must be resident (panics otherwise).
    virtual void removed(u32 frame) = 0;
    virtual void referenced(u32) {}
    virtual void tick(FrameAccessor&) {}
    // A resident, evictable frame. Error::NoEntry when no frame is resident, Error::Busy when every resident
    // frame is pinned.
    virtual ErrorOr<u32> choose_victim(FrameAccessor& frames) = 0;

    virtual bool is_resident(u32 frame) const = 0;
    virtual u32 resident_count() const = 0;

    // Re-derives the policy's invariants from scratch; false at the first violation, printed through the sink
    // if there is one.
    virtual bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const = 0;

protected:
    // Not virtual: policies live in memory the caller provides and are never deleted through this interface
    // (a virtual destructor would make the kernel provide operator delete).
    ~ReplacementPolicy() = default;
};
