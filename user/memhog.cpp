// memhog.cpp: allocates memory in steps and shows it leaving and coming back to the kernel's free pool.
//
//   memhog [MIB [STEP-MIB]] [--sbrk]     (default 16 MiB in 1 MiB steps, with malloc)
//
// After each step every page of the new memory is written (demand paging: a page costs a frame only once
// touched) and the free frames from mneme_meminfo are printed; at the end everything is freed (malloc_trim
// returns what the allocator kept, or the break moves back with --sbrk) and the free count is printed again.
// Exit status 1 if an allocation failed.
// help(program): memhog [MIB [STEP-MIB]] [--sbrk] | allocates memory in steps and gives it back (watch `mem`)
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

constexpr int kMaxSteps = 1024;
char* g_blocks[kMaxSteps];

void touch(char* block, size_t bytes) {
    for (size_t offset = 0; offset < bytes; offset += 4096) block[offset] = static_cast<char>(offset >> 12);
}

void report(const char* what, u32 start_frames) {
    u32 now = free_frames();
    printf("memhog: %-29s %6u frames free (%u MiB), %d MiB taken since the start\n", what, now, now / 256,
           static_cast<int>(start_frames - now) / 256);
}

}  // namespace

int main(int argc, char** argv) {
    u32 total_mib = 16, step_mib = 1;
    bool use_sbrk = false, usable = true;
    int numbers = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--sbrk") == 0)
            use_sbrk = true;
        else if (numbers++ == 0)
            usable &= parse_decimal(argv[i], 1, 4096, &total_mib);
        else
            usable &= numbers == 2 && parse_decimal(argv[i], 1, 4096, &step_mib);
    }
    if (!usable || total_mib / step_mib > kMaxSteps) {
        fprintf(stderr, "usage: memhog [MIB [STEP-MIB]] [--sbrk]\n");
        return 64;
    }
    size_t step = static_cast<size_t>(step_mib) * MiB;
    int steps = static_cast<int>(total_mib / step_mib);
    u32 start = free_frames();
    printf("memhog: taking %u MiB in %u MiB steps with %s; %u frames free\n", total_mib, step_mib,
           use_sbrk ? "sbrk" : "malloc", start);

    int done = 0;
    for (; done < steps; ++done) {
        char* block;
        if (use_sbrk) {
            void* old = sbrk(static_cast<long>(step));
            block = old == reinterpret_cast<void*>(-1) ? nullptr : static_cast<char*>(old);
        } else {
            block = static_cast<char*>(malloc(step));
        }
        if (!block) {
            printf("memhog: allocation %d failed (out of memory)\n", done + 1);
            break;
        }
        g_blocks[done] = block;
        char label[40];
        format_to_buffer(label, sizeof(label), "%u MiB reserved, untouched:", (done + 1) * step_mib);
        report(label, start);
        touch(block, step);
        format_to_buffer(label, sizeof(label), "%u MiB written:", (done + 1) * step_mib);
        report(label, start);
    }

    if (use_sbrk) {
        for (int i = done; i > 0; --i) sbrk(-static_cast<long>(step));
    } else {
        for (int i = 0; i < done; ++i) free(g_blocks[i]);
        malloc_trim(0);
    }
    report("all freed:", start);
    return done == steps ? 0 : 1;
}
