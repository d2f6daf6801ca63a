// Simulator.h: a machine with `frame_count` page frames running a reference string under a replacement
// policy, with the accessed and dirty bits played as the hardware would (OSTEP ch. 22; Tanenbaum, Modern
// Operating Systems, 3.5.1).
//
// For each access:
//   hit   the page is in a frame: set A, and D on a write (what the CPU does in the PTE, Intel SDM vol. 3A,
//         4.8), then tell the policy referenced(frame);
//   miss  a page fault: take the lowest free frame, or, when memory is full, ask the policy for a victim,
//         write it back if its D is set (a write-back), tell the policy removed(victim) and reuse its frame;
//         then page the new page in (A and D clear), tell the policy page_in(frame), and let the access that
//         faulted complete: it sets A, and D on a write.
// After every tick_interval-th access the Simulator calls the policy's tick(), as a timer interrupt would.
// The default K = 4 (kDefaultTickInterval) makes one tick a few accesses long, as many memory references
// fall between two timer interrupts; K = 1 gives aging one bit of history per access, close to LRU, and a
// K longer than the string gives it none. K = 0 never ticks.
//
// The Simulator is itself the FrameAccessor the policy reads the bits through, and it checks the policy's
// side of the contract: a victim must be resident and not pinned (it panics otherwise), and the policy's
// resident frames must be exactly the frames that hold a page (check_invariants). Tests pin frames with
// pin() to play "under I/O".
//
// A page is found by scanning the frames, O(frames) per access: simulated memories are small.
#pragma once

#include "mm/swap/CallerMemory.h"
#include "mm/swap/ReferenceString.h"
#include "mm/swap/ReplacementPolicy.h"

// What one access did.
struct SimulatedAccess {
    static constexpr u32 kNoPage = 0xffffffffu;

    u32 page;
    bool write;
    bool hit;
    u32 frame;                  // where the page is now
    u32 victim_page = kNoPage;  // the page evicted to make room, if any
    bool wrote_back = false;    // the victim was dirty and written out
};

class Simulator final : public FrameAccessor {
    MNEME_NONCOPYABLE(Simulator);
    MNEME_NONMOVABLE(Simulator);

public:
    static constexpr u32 kDefaultTickInterval = 4;
    static constexpr u32 kNoPage = SimulatedAccess::kNoPage;

    static constexpr size_t bytes_needed(u32 frame_count) { return array_bytes<Frame>(frame_count); }
    // `policy` must be new (nothing resident) and manage `frame_count` frames.
    Simulator(Span<u8> memory, u32 frame_count, ReplacementPolicy& policy, u32 tick_interval = kDefaultTickInterval);

    // Runs one access. Error::Busy when the page must come in, memory is full and every frame is pinned: the
    // access does not happen (though the policy may have cleared A bits looking for a victim).
    ErrorOr<SimulatedAccess> access(PageAccess access);
    // Runs accesses until the end of `string` or the first error; returns the number run.
    u32 run(Span<const PageAccess> string);

    u32 frame_count() const { return static_cast<u32>(m_frames.size()); }
    u32 page_in_frame(u32 frame) const { return m_frames[frame].page; }  // kNoPage when free
    void pin(u32 frame, bool pinned) { m_frames[frame].pinned = pinned; }

    u32 accesses() const { return m_hits + m_misses; }
    u32 hits() const { return m_hits; }
    u32 misses() const { return m_misses; }  // page faults, the first load of each page included
    u32 write_backs() const { return m_write_backs; }

    // FrameAccessor: the simulated PTE bits.
    bool accessed(u32 frame) const override { return m_frames[frame].accessed; }
    bool dirty(u32 frame) const override { return m_frames[frame].dirty; }
    void clear_accessed(u32 frame) override { m_frames[frame].accessed = false; }
    bool evictable(u32 frame) const override { return !m_frames[frame].pinned; }

    // The Simulator's own consistency and the policy's agreement with it, then the policy's invariants.
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const;

private:
    struct Frame {
        u32 page = kNoPage;
        bool accessed = false;
        bool dirty = false;
        bool pinned = false;
    };

    // The frame holding `page`, or the lowest free frame, or kNoPage when memory is full.
    u32 find(u32 page, bool& found) const;

    Span<Frame> m_frames;
    ReplacementPolicy& m_policy;
    u32 m_tick_interval;
    u32 m_hits = 0;
    u32 m_misses = 0;
    u32 m_write_backs = 0;
};
