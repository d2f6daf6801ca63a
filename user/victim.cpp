// victim.cpp: keeps a message in its data and checks it for a while: scribble's neighbour. Under static
// relocation scribble can reach it, and victim reports the damage (exit 3); under base and bounds it cannot.
// help(program): victim [SECONDS] | keeps a message and reports if a neighbour overwrote it (pair with scribble)
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

char g_message[48] = "victim's precious message, intact";

int main(int argc, char** argv) {
    u32 seconds = 3;
    if (argc > 2 || (argc > 1 && !parse_decimal(argv[1], 0, 3600, &seconds))) {
        fprintf(stderr, "usage: victim [SECONDS]   (0 to 3600)\n");
        return 64;
    }
    // A checksum, not a copy: a copy on the stack lies in the arena too, and a scribbler overwrites both.
    auto checksum = [] {
        u32 sum = 0;
        for (char c : g_message) sum = sum * 31 + static_cast<u8>(c);
        return sum;
    };
    u32 original = checksum();
    printf("victim: my message at 0x%08x says \"%s\"\n", reinterpret_cast<u32>(g_message), g_message);
    for (u32 i = 0; i < seconds * 10; ++i) {
        sleep_ms(100);
        if (checksum() != original) {
            printf("victim: my message was overwritten: it now says \"%s\"\n", g_message);
            return 3;
        }
    }
    printf("victim: my message is still \"%s\"\n", g_message);
    return 0;
}
