// FifoPolicy.cpp: a queue in page-in order (see FifoPolicy.h).
#include "mm/swap/FifoPolicy.h"

void FifoPolicy::page_in(u32 frame) { m_queue.push_back(frame); }

void FifoPolicy::removed(u32 frame) { m_queue.remove(frame); }

// The oldest page that is not pinned. FIFO reads no bit: it never learns whether the page is in use.
ErrorOr<u32> FifoPolicy::choose_victim(FrameAccessor& frames) { return first_evictable(m_queue, frames); }

bool FifoPolicy::check_invariants(FormatSink sink, void* context) const {
    return m_queue.check_invariants(name(), sink, context);
}
