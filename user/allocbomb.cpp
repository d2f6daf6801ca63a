// allocbomb.cpp: hostile program: allocates without bound, three ways, until each is refused.
//
//   1. brk: sbrk(1 MiB) until the kernel refuses (-ENOMEM: the heap would run into the mmap area, or past
//      what the kernel allows). Pages are not touched: this exhausts address space, not memory.
//   2. mmap2: 4 MiB anonymous mappings until the kernel refuses (-ENOMEM: no room left below the stack).
//      Not touched either. Everything from 1 and 2 is then given back.
//   3. malloc: 1 MiB blocks, every page written, until malloc returns NULL. This one exhausts physical
//      memory. A kernel that counts what it promised (overcommit off) makes malloc return NULL and the
//      program frees everything and exits 0; a kernel that maps pages lazily (Mneme, like Linux) finds
//      no frame for some page fault and kills the process -- with a message on the console naming it.
//      Either ending is acceptable; the system must stay up and every frame must come back.
//
// Exit 0 when every phase ended with a clean refusal.
// help(hostile): allocbomb | allocates without bound (brk, mmap, touching pages) until refused
#include "libc/base/Error.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

constexpr size_t kStep = 1 * MiB;
constexpr size_t kMapStep = 4 * MiB;
constexpr int kMaxMappings = 1024;  // 4 GiB / 4 MiB: more than a 32-bit address space can hold
void* g_mappings[kMaxMappings];

bool brk_phase() {
    void* start = sbrk(0);
    size_t total = 0;
    for (;;) {
        if (sbrk(static_cast<long>(kStep)) == reinterpret_cast<void*>(-1)) break;
        total += kStep;
    }
    printf("allocbomb: brk grew by %zu MiB from %p before the kernel refused (%u frames free)\n", total / MiB, start,
           free_frames());
    // Back down in the same steps: the total may not fit in sbrk's signed argument.
    bool ok = total > 0;
    for (size_t left = total; left > 0 && ok; left -= kStep)
        ok = sbrk(-static_cast<long>(kStep)) != reinterpret_cast<void*>(-1);
    ok = ok && sbrk(0) == start;
    if (!ok) printf("allocbomb: ERROR: could not grow the break at all, or not shrink it back\n");
    return ok;
}

bool mmap_phase() {
    int count = 0;
    long failure = 0;
    while (count < kMaxMappings) {
        long result = sys_mmap2(nullptr, kMapStep, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
        if (is_error_result(result)) {
            failure = result;
            break;
        }
        g_mappings[count++] = reinterpret_cast<void*>(result);
    }
    printf("allocbomb: %d mappings of 4 MiB (%d MiB) before mmap2 failed with %ld (%s)\n", count, count * 4, failure,
           strerror(static_cast<int>(failure)));
    bool ok = count > 0 && failure == -static_cast<long>(Error::NoMemory);
    for (int i = 0; i < count; ++i) {
        if (sys_munmap(g_mappings[i], kMapStep) != 0) ok = false;
    }
    if (!ok) printf("allocbomb: ERROR: expected some mappings, then ENOMEM, then every munmap to succeed\n");
    return ok;
}

bool malloc_phase() {
    printf("allocbomb: now malloc(1 MiB) and write every page until malloc returns NULL (%u frames free)\n",
           free_frames());
    void* list = nullptr;  // each block's first word points to the previous block
    size_t count = 0;
    for (;;) {
        char* block = static_cast<char*>(malloc(kStep));
        if (!block) break;
        for (size_t offset = 0; offset < kStep; offset += 4096) block[offset] = 1;
        *reinterpret_cast<void**>(block) = list;
        list = block;
        ++count;
        if (count % 8 == 0) printf("allocbomb: %zu MiB allocated and touched, %u frames free\n", count, free_frames());
    }
    printf("allocbomb: malloc returned NULL after %zu MiB; freeing them\n", count);
    while (list) {
        void* next = *static_cast<void**>(list);
        free(list);
        list = next;
    }
    malloc_trim(0);
    printf("allocbomb: all freed, %u frames free\n", free_frames());
    return count > 0;
}

}  // namespace

int main() {
    printf("allocbomb: allocating without bound with brk, mmap2 and malloc (%u frames free)\n", free_frames());
    bool ok = brk_phase();
    ok = mmap_phase() && ok;
    ok = malloc_phase() && ok;
    printf("allocbomb: %s\n", ok ? "every allocation was refused cleanly" : "ERROR: see above");
    return ok ? 0 : 1;
}
