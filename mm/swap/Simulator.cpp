// Simulator.cpp: the fault path and the simulated accessed/dirty bits (see Simulator.h).
#include "mm/swap/Simulator.h"

#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"

Simulator::Simulator(Span<u8> memory, u32 frame_count, ReplacementPolicy& policy, u32 tick_interval)
    : m_frames(take_array<Frame>(memory, frame_count)), m_policy(policy), m_tick_interval(tick_interval) {
    VERIFY(policy.frame_count() == frame_count && policy.resident_count() == 0);
}

u32 Simulator::find(u32 page, bool& found) const {
    u32 free_frame = kNoPage;
    for (u32 frame = 0; frame < m_frames.size(); ++frame) {
        if (m_frames[frame].page == page) {
            found = true;
            return frame;
        }
        if (m_frames[frame].page == kNoPage && free_frame == kNoPage) free_frame = frame;
    }
    found = false;
    return free_frame;
}

ErrorOr<SimulatedAccess> Simulator::access(PageAccess access) {
    VERIFY(access.page != kNoPage);
    SimulatedAccess result{access.page, access.write, false, 0};
    bool found;
    u32 frame = find(access.page, found);
    if (found) {
        result.hit = true;
        ++m_hits;
        m_policy.referenced(frame);
    } else {
        if (frame == kNoPage) {
            frame = TRY(m_policy.choose_victim(*this));
            if (frame >= m_frames.size() || m_frames[frame].page == kNoPage || m_frames[frame].pinned)
                mneme_panic("%s chose frame %u, which is %s", m_policy.name(), frame,
                            frame >= m_frames.size()          ? "out of range"
                            : m_frames[frame].page == kNoPage ? "empty"
                                                              : "pinned");
            Frame& victim = m_frames[frame];
            result.victim_page = victim.page;
            result.wrote_back = victim.dirty;
            if (victim.dirty) ++m_write_backs;
            m_policy.removed(frame);
            victim = Frame{};
        }
        ++m_misses;
        m_frames[frame] = Frame{access.page, false, false, false};
        m_policy.page_in(frame);
    }
    // The access itself (the one that faulted, restarted, on a miss) sets the bits.
    m_frames[frame].accessed = true;
    if (access.write) m_frames[frame].dirty = true;
    result.frame = frame;
    if (m_tick_interval != 0 && accesses() % m_tick_interval == 0) m_policy.tick(*this);
    return result;
}

u32 Simulator::run(Span<const PageAccess> string) {
    u32 done = 0;
    for (const PageAccess& access : string) {
        if (this->access(access).is_error()) break;
        ++done;
    }
    return done;
}

bool Simulator::check_invariants(FormatSink sink, void* context) const {
    u32 resident = 0;
    for (u32 frame = 0; frame < m_frames.size(); ++frame) {
        const Frame& state = m_frames[frame];
        bool holds = state.page != kNoPage;
        resident += holds ? 1 : 0;
        if (holds != m_policy.is_resident(frame))
            return invariant_violation(sink, context, "simulator: frame %u %s a page but %s says it is %s", frame,
                                       holds ? "holds" : "does not hold", m_policy.name(), holds ? "free" : "resident");
        if (!holds && (state.accessed || state.dirty))
            return invariant_violation(sink, context, "simulator: free frame %u has A or D set", frame);
        for (u32 other = frame + 1; holds && other < m_frames.size(); ++other)
            if (m_frames[other].page == state.page)
                return invariant_violation(sink, context, "simulator: page %u is in frames %u and %u", state.page,
                                           frame, other);
    }
    if (resident != m_policy.resident_count())
        return invariant_violation(sink, context, "simulator: %u frames hold pages, %s counts %u", resident,
                                   m_policy.name(), m_policy.resident_count());
    return m_policy.check_invariants(sink, context);
}
