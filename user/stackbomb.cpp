// stackbomb.cpp: hostile program: recurses without bound. The stack grows on demand (each touch of the
// next page below is a page fault the kernel answers with a fresh zeroed frame) until it reaches the limit
// of 8 MiB below 0xC0000000; the next fault is outside any region and the kernel kills the process with
// SIGSEGV. It prints its depth every MiB, so the growth is visible.
// help(hostile): stackbomb | recurses without end: the stack stops at 8 MiB, killed with SIGSEGV
#include "libc/user/Stdio.h"

// The recursion is unbounded on purpose.
#pragma GCC diagnostic ignored "-Winfinite-recursion"

namespace {

constexpr u32 kFrameBytes = 1024;

u32 g_report_at = 1;

u32 dive(u32 depth, const volatile char* caller_frame) {
    volatile char frame[kFrameBytes];
    frame[0] = static_cast<char>(depth);
    frame[kFrameBytes - 1] = caller_frame ? caller_frame[0] : 0;
    u32 bytes = depth * kFrameBytes;
    if (bytes >= g_report_at * MiB) {
        printf("stackbomb: about %u MiB of stack (esp near %p)\n", g_report_at,
               static_cast<void*>(const_cast<char*>(frame)));
        ++g_report_at;
    }
    // Used after the call, so this is no tail call and every level keeps its frame.
    return dive(depth + 1, frame) + frame[1];
}

}  // namespace

int main() {
    printf("stackbomb: recursing without bound, 1 KiB per call; expect SIGSEGV at the 8 MiB stack limit\n");
    u32 result = dive(1, nullptr);
    printf("stackbomb: ERROR: recursion ended (%u)\n", result);
    return 1;
}
