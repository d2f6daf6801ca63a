// LockRegistry.cpp: the list of registered locks is the .lock_registry section (see LockRegistry.h).
#include "kernel/sync/LockRegistry.h"

extern "C" const sync::RegisteredLock* const __lock_registry_start[];
extern "C" const sync::RegisteredLock* const __lock_registry_end[];

namespace sync {

Span<const RegisteredLock* const> registered_locks() {
    return {__lock_registry_start, static_cast<size_t>(__lock_registry_end - __lock_registry_start)};
}

}  // namespace sync
