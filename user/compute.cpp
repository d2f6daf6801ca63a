// compute.cpp: a CPU- and memory-bound worker for testing the scheduler and the isolation of address
// spaces: `compute SEED [EXPECTED]`.
//
// Each round fills a 1 MiB buffer (malloc: a fresh mapping, demand-paged) from a pseudo-random sequence,
// yields the CPU, then reads the buffer back checking every word against the sequence and folding it into
// a checksum. usertests' user.compute_parallel runs 8 of these at once with different seeds: with preemption
// they interleave, and any page shared or swapped by mistake shows up as a wrong word. The final checksum is
// compared with the one computed without a buffer (user/Compute.h) and, if given, with EXPECTED (hexadecimal).
//
// Exit status: 0 correct, 1 wrong checksum, 2 a word read back differs from what was written.
// help(program): compute SEED [EXPECTED] | a CPU- and memory-bound worker; prints a checksum of its work
#include "user/Compute.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: compute SEED [EXPECTED-CHECKSUM-HEX]\n");
        return 64;
    }
    char* end = nullptr;
    u32 seed = static_cast<u32>(strtoul(argv[1], &end, 0));
    char* expected_end = nullptr;
    u32 expected_argument = argc > 2 ? static_cast<u32>(strtoul(argv[2], &expected_end, 16)) : 0;
    if (argc > 3 || end == argv[1] || *end != '\0' || (argc > 2 && (expected_end == argv[2] || *expected_end))) {
        fprintf(stderr, "usage: compute SEED [EXPECTED-CHECKSUM-HEX]   (SEED a number: 12, 0x1f)\n");
        return 64;
    }
    u32* buffer = static_cast<u32*>(malloc(kComputeWords * sizeof(u32)));
    if (!buffer) {
        fprintf(stderr, "compute %u: out of memory\n", seed);
        return 3;
    }
    u32 total = 0;
    for (u32 round = 0; round < kComputeRounds; ++round) {
        Random writer(compute_round_seed(seed, round));
        for (u32 i = 0; i < kComputeWords; ++i) buffer[i] = writer.next();
        sys_sched_yield();  // let another compute run between the writes and the reads
        Random reader(compute_round_seed(seed, round));
        u32 checksum = 0;
        for (u32 i = 0; i < kComputeWords; ++i) {
            u32 expected = reader.next();
            if (buffer[i] != expected) {
                printf("compute %u: ERROR: word %u at %p is %#x, wrote %#x\n", seed, i, static_cast<void*>(&buffer[i]),
                       buffer[i], expected);
                return 2;
            }
            checksum = compute_fold(checksum, buffer[i]);
        }
        total ^= checksum + round;
    }
    free(buffer);
    u32 expected = compute_expected(seed);
    bool matches_argument = argc < 3 || expected_argument == total;
    bool ok = total == expected && matches_argument;
    printf("compute %u: checksum %08x %s\n", seed, total, ok ? "ok" : "ERROR: expected a different checksum");
    return ok ? 0 : 1;
}
