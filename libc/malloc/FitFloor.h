// FitFloor.h: a probe for one benchmark, build/bench/malloc_fit_floor, and compiled into no other program
// (only that benchmark builds FitAllocator.cpp with MNEME_FIT_FLOOR defined).
//
// The question it answers: how fast could a fit policy be if finding its block cost nothing? A run of a
// list version under Mode::Record notes the block every allocation chose (as an offset from the heap's
// start; -1 when the heap had to grow). A second run of the same calls under Mode::Replay takes those blocks
// without searching, and keeps its free list unordered, so that freeing inserts in O(1) instead of walking
// to the block's address. The decisions, and so every header written, every split, every coalescing and
// every growth, are the recorded run's; what is left out is exactly the work a search structure (the list,
// the array of a hybrid, the trees) does. No structure can do less than nothing, so the replay's time is a
// lower bound -- the floor -- for any mechanism that keeps this heap layout and makes these decisions
// (docs/malloc.md, "The floor").
#pragma once

#include "libc/base/Types.h"

namespace Malloc::FitFloor {

enum class Mode : u8 { Off, Record, Replay };

struct Script {
    Mode mode = Mode::Off;
    intptr_t* offsets = nullptr;  // one per allocation: the chosen block - heap start, or -1 (grow)
    size_t capacity = 0;
    size_t next = 0;  // the next offset to record or replay
};

extern Script script;

}  // namespace Malloc::FitFloor
