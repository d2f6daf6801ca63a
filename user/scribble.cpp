// scribble.cpp: a program that writes where it has no business: over every copy of a neighbour's message in
// the arena of the older memory models. Under static relocation nothing stops it (every process's page tables
// map the whole arena user-writable, and the segments are flat), so the neighbour's output shows the damage;
// under base and bounds the arena's address is far beyond its segment's limit, and it is killed at the first
// read (docs/relocation-and-segments.md).
// help(program): scribble | (older memory models) overwrite a neighbour's message in the arena; run `victim &` first
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "mm/vm/UserLayout.h"

extern "C" char __executable_start[];

int main() {
    // The message victim keeps, spelled so that this program's own copy is not the only match: the first
    // half here, the second added at run time.
    char marker[40];
    snprintf(marker, sizeof(marker), "%s%s", "victim's precious ", "message");
    u32 length = static_cast<u32>(strlen(marker));
    // Under static relocation addresses are linear: the arena starts at kArenaWindow. Under base and bounds
    // this is offset 0x10000000 of our segment, far past its limit.
    char* arena = reinterpret_cast<char*>(user_layout::kArenaWindow);
    // Search only below ourselves (victim was placed first); under base and bounds our image is at a small
    // offset, below the arena's address: try its first page anyway, which is where the limit stops us.
    char* end = __executable_start > arena ? __executable_start : arena + 4096;
    printf("scribble: searching 0x%08x-0x%08x for \"%s\"\n", reinterpret_cast<u32>(arena), reinterpret_cast<u32>(end),
           marker);
    u32 hits = 0;
    for (char* p = arena; p + length < end; ++p) {
        if (p[0] != marker[0] || memcmp(p, marker, length) != 0) continue;
        memcpy(p, "SCRIBBLED BY A NEIGHBOUR!", length);  // as long as the marker: 25 characters
        ++hits;
    }
    printf("scribble: overwrote %u cop%s of it\n", hits, hits == 1 ? "y" : "ies");
    return hits ? 0 : 1;
}
