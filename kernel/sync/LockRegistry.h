// LockRegistry.h: the kernel's named locks, listed for the monitor's `cpus` view with their counts.
//
// A lock joins the list where it is defined:
//     sync::SpinLock g_output_lock("console output", lock_rank::kConsoleOutput);
//     MNEME_REGISTER_LOCK(g_output_lock);
// Like KTEST and MONITOR_COMMAND, the entry is a constant pointer in a linker section (.lock_registry,
// bracketed by __lock_registry_start/__lock_registry_end in linker.ld): nothing runs at boot, a lock can
// be registered before it is first taken, and the list needs no lock of its own. An entry names a
// LockClass (name and rank) and the counters a lock core keeps (libc/base/LockCore.h), so a lock that is
// not a sync::BasicLock registers the same way with MNEME_REGISTER_LOCK_PARTS:
//     constexpr LockClass kBigLock{"big kernel lock", lock_rank::kBigKernelLock};
//     TicketLockCore<atomic::KernelAtomics> g_big_lock_core;
//     MNEME_REGISTER_LOCK_PARTS(big_kernel_lock, kBigLock, g_big_lock_core.counters());
// Only locks with static storage can be listed this way (a lock inside a heap object is not).
#pragma once

#include "libc/base/LockCore.h"
#include "libc/base/LockOrder.h"
#include "libc/base/Span.h"

namespace sync {

struct RegisteredLock {
    const LockClass* lock_class;
    const LockCounters* counters;
};

// Every registered lock, in link order.
Span<const RegisteredLock* const> registered_locks();

}  // namespace sync

// constinit: the entry must be a constant (addresses of static objects), never code run at boot.
#define MNEME_REGISTER_LOCK_PARTS(identifier, lock_class_object, counters_object)                                    \
    static constinit const sync::RegisteredLock lock_registry_entry_##identifier = {&(lock_class_object),            \
                                                                                    &(counters_object)};             \
    [[gnu::used,                                                                                                     \
      gnu::section(".lock_registry")]] static const sync::RegisteredLock* const lock_registry_pointer_##identifier = \
        &lock_registry_entry_##identifier

#define MNEME_REGISTER_LOCK(lock) MNEME_REGISTER_LOCK_PARTS(lock, (lock).lock_class(), (lock).counters())
