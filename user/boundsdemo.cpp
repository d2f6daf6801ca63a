// boundsdemo.cpp: base and bounds at work. Reads, writes or jumps page by page past the end of its heap until
// it leaves its segment, or overflows its stack: the CPU (or, on QEMU, which does not check segment limits,
// the paging backstop) stops it at its limit, and only it is killed (docs/relocation-and-segments.md).
// `code` writes into its own code instead, through CS: under segments the code segment is execute/read only
// (a CPU that checks types raises #GP; QEMU, which does not, meets the read-only page of the shared code).
// help(program): boundsdemo [read|write|jump|stack|code] | (base-bounds, segments) step past the segment's limit, or write to the code, and be killed
#include "libc/user/Malloc.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

// The recursion below is meant to run out of stack.
#pragma GCC diagnostic ignored "-Winfinite-recursion"

namespace {

constexpr u32 kStep = 4096;

[[gnu::noinline]] u32 recurse(u32 depth) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(depth);
    if (depth % 16 == 0) printf("boundsdemo: stack depth %u, esp near offset 0x%08x\n", depth,
                                reinterpret_cast<u32>(&frame[0]));
    return recurse(depth + 1) + frame[0];
}

}  // namespace

int main(int argc, char** argv) {
    const char* what = argc > 1 ? argv[1] : "read";
    const char* const kActions[] = {"read", "write", "jump", "stack", "code"};
    bool listed = false;
    for (const char* action : kActions) listed |= strcmp(what, action) == 0;
    if (!listed || argc > 2) {
        fprintf(stderr, "usage: boundsdemo [read|write|jump|stack|code]   (read when none is given)\n");
        return 64;
    }
    const char* model = getenv("MNEME_MEMORY");
    if (!model) model = "paging";
    if (strcmp(what, "stack") == 0)
        printf("boundsdemo: memory model %s; overflowing the stack\n", model);
    else if (strcmp(what, "code") == 0)
        printf("boundsdemo: memory model %s; writing into my own code\n", model);
    else
        printf("boundsdemo: memory model %s; %s past the end of the heap at offset 0x%08x\n", model, what,
               reinterpret_cast<u32>(sbrk(0)));
    if (strcmp(what, "stack") == 0) return static_cast<int>(recurse(0));
    if (strcmp(what, "code") == 0) {
        // The first byte of recurse(), written through a CS override: the offset is a code offset under
        // segments (where DS names another segment), the address itself under paging (flat segments).
        u32 target = reinterpret_cast<u32>(&recurse);
        printf("boundsdemo: writing 0x90 into my own code at CS:0x%08x\n", target);
        asm volatile("movb $0x90, %%cs:(%0)" : : "r"(target) : "memory");
        printf("boundsdemo: my code took the write (nothing protects it under this model)\n");
        return 1;
    }
    volatile u8* p = static_cast<volatile u8*>(sbrk(0));
    for (u32 step = 0; step < 1024; ++step, p += kStep) {
        printf("boundsdemo: %s at offset 0x%08x\n", what, reinterpret_cast<u32>(p));
        if (strcmp(what, "write") == 0) {
            *p = 0x5A;
        } else if (strcmp(what, "jump") == 0) {
            // A page of zero bytes decodes as `add [eax], al`: harmless inside the segment, so jump to the
            // offset and come back is not possible; jump straight at a far offset instead.
            auto far_away = reinterpret_cast<void (*)()>(0x00F00000);
            printf("boundsdemo: jumping to offset 0x%08x\n", reinterpret_cast<u32>(far_away));
            far_away();
        } else {
            (void)*p;
        }
    }
    printf("boundsdemo: no limit stopped me (am I running under paging?)\n");
    return 1;
}
