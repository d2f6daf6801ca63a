// holder.cpp: holds KIB of memory filled with a pattern for SECONDS, then checks every byte. Under base and
// bounds its segment may be moved meanwhile (its heap outgrowing its hole, or the arena compacting around
// it): it reports its segment base before and after, and a correct checksum shows the move went unnoticed.
// With DELAY_MS it waits that long before it starts growing (so a neighbour can be placed right after it,
// and its growth has to move it), and with `moved` it exits 5 if its segment base did not change.
// help(program): holder KIB [SECONDS [DELAY_MS [moved]]] | fill KIB of heap with a pattern, wait, check it (moves show in its base)
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"

namespace {

// This process's segment line from mneme_procinfo ("segment base 0x..., limit 0x... (base-bounds)").
void my_segments(char* out, size_t size) {
    snprintf(out, size, "(paging)");
    for (u32 index = 0;; ++index) {
        MnemeProcInfo info;
        if (sys_mneme_procinfo(index, &info) != 0) return;
        if (info.pid != sys_getpid()) continue;
        info.segments[sizeof(info.segments) - 1] = '\0';
        if (info.segments[0]) snprintf(out, size, "%s", info.segments);
        return;
    }
}

constexpr u32 kMaxSteps = 1024;

u8 pattern(u32 i) { return static_cast<u8>((i * 2654435761u) >> 24); }

}  // namespace

int main(int argc, char** argv) {
    u32 kib = 0, seconds = 2, delay_ms = 0;
    // At most kMaxSteps steps of 64 KiB: 64 MiB, the largest arena (arena= boot option).
    bool usable = argc >= 2 && argc <= 5 && parse_decimal(argv[1], 1, kMaxSteps * 64, &kib) &&
                  (argc < 3 || parse_decimal(argv[2], 0, 3600, &seconds)) &&
                  (argc < 4 || parse_decimal(argv[3], 0, 3600000, &delay_ms)) &&
                  (argc < 5 || strcmp(argv[4], "moved") == 0);
    if (!usable) {
        fprintf(stderr, "usage: holder KIB [SECONDS [DELAY_MS [moved]]]   (KIB 1 to 65536, taken in 64 KiB steps; "
                        "SECONDS up to 3600)\n");
        return 64;
    }
    u32 bytes = kib * 1024;
    bool expect_move = argc > 4;
    char before[96], after[96];
    my_segments(before, sizeof(before));
    if (delay_ms) sleep_ms(delay_ms);
    // Grown in 64 KiB steps, each filled at once: under base and bounds every step may move the process.
    u32 chunks = (bytes + 65535) / 65536;
    u8* blocks[kMaxSteps];
    u32 sum = 0;
    for (u32 c = 0; c < chunks; ++c) {
        blocks[c] = static_cast<u8*>(malloc(65536));
        if (!blocks[c]) {
            printf("holder: pid %d: out of memory after %u KiB\n", sys_getpid(), c * 64);
            return 4;
        }
        for (u32 i = 0; i < 65536; ++i) sum += blocks[c][i] = pattern(c * 65536 + i);
    }
    printf("holder: pid %d holds %u KiB%s, checksum 0x%08x; %s\n", sys_getpid(), chunks * 64,
           chunks * 64 != kib ? " (in 64 KiB steps)" : "", sum, before);
    sleep_ms(seconds * 1000);
    u32 check = 0;
    bool intact = true;
    for (u32 c = 0; c < chunks; ++c)
        for (u32 i = 0; i < 65536; ++i) {
            check += blocks[c][i];
            intact &= blocks[c][i] == pattern(c * 65536 + i);
        }
    my_segments(after, sizeof(after));
    printf("holder: pid %d checksum 0x%08x %s; %s\n", sys_getpid(), check, intact ? "intact" : "CORRUPTED", after);
    if (!intact) return 3;
    // The base is the first hex number in the line.
    if (expect_move && strncmp(before, after, 29) == 0) {
        printf("holder: pid %d was expected to move, but its base did not change\n", sys_getpid());
        return 5;
    }
    return 0;
}
