// Atomic.h: the three instructions a lock is built from, and the kernel's policy for libc/base/LockCore.h.
//
// - LOCK XADD adds to memory and returns the old value in one indivisible read-modify-write: the ticket
//   lock's "take a number". The LOCK prefix makes the access atomic for every processor on the bus and
//   orders it against all other loads and stores (Intel SDM Vol. 3A 8.1.2, "Bus Locking"; 8.2.2: locked
//   instructions have a total order and are not reordered with loads or stores). XADD exists since the 486.
// - XCHG with a memory operand is locked whether or not it carries the prefix (8.1.2.1): test-and-set.
// - PAUSE (F3 90) tells the processor it is in a spin-wait loop, so it does not speculate ahead on the
//   spinning load and pay a memory-order mis-speculation when the lock is released, and it saves power; on
//   processors before the Pentium 4 it decodes as REP NOP, a plain no-op (8.10.6.1, "Use the PAUSE
//   Instruction in Spin-Wait Loops").
// Plain aligned 32-bit loads and stores are atomic by themselves (8.1.1), and under the x86 ordering model a
// store is not reordered with earlier loads or stores, nor a load with later ones (8.2.2): an ordinary MOV
// is a release store or an acquire load, as long as the compiler does not move memory accesses across it,
// which the "memory" clobber forbids.
#pragma once

#include "libc/base/Types.h"

namespace atomic {

inline u32 fetch_add(u32& word, u32 value) {
    asm volatile("lock xaddl %0, %1" : "+r"(value), "+m"(word) : : "memory", "cc");
    return value;
}

inline u32 exchange(u32& word, u32 value) {
    asm volatile("xchgl %0, %1" : "+r"(value), "+m"(word) : : "memory");
    return value;
}

// LOCK CMPXCHG (the 486 has it, 8.1.2.2): if `word` holds `expected`, store `desired`; true if it did.
inline bool compare_exchange(u32& word, u32 expected, u32 desired) {
    u32 found = expected;
    asm volatile("lock cmpxchgl %2, %1" : "+a"(found), "+m"(word) : "r"(desired) : "memory", "cc");
    return found == expected;
}

inline u32 load_acquire(const u32& word) {
    u32 value;
    asm volatile("movl %1, %0" : "=r"(value) : "m"(word) : "memory");
    return value;
}

inline void store_release(u32& word, u32 value) { asm volatile("movl %1, %0" : "=m"(word) : "r"(value) : "memory"); }

inline void pause() { asm volatile("pause" : : : "memory"); }

// The policy the lock cores in libc/base/LockCore.h are instantiated with in the kernel.
struct KernelAtomics {
    using Word = u32;
    static u32 fetch_add(Word& word, u32 value) { return atomic::fetch_add(word, value); }
    static u32 exchange(Word& word, u32 value) { return atomic::exchange(word, value); }
    static bool compare_exchange(Word& word, u32 expected, u32 desired) {
        return atomic::compare_exchange(word, expected, desired);
    }
    static u32 load(const Word& word) { return atomic::load_acquire(word); }
    static void store(Word& word, u32 value) { atomic::store_release(word, value); }
    static void relax() { atomic::pause(); }
};

}  // namespace atomic
