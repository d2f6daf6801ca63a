// badread.cpp: hostile program: reads kernel memory. The kernel's pages are supervisor-only (the U/S bit
// of their page-table entries is clear), so the read raises a page fault with a protection-violation
// error code, and the kernel kills the process with SIGSEGV instead of letting it see kernel data.
// help(hostile): badread | reads kernel memory: killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    volatile const u32* kernel_text = reinterpret_cast<const u32*>(0xC0100000);
    printf("badread: reading kernel memory at %p (the kernel image); expect SIGSEGV\n",
           const_cast<const u32*>(kernel_text));
    u32 value = *kernel_text;
    printf("badread: ERROR: read %#x from kernel memory and survived\n", value);
    return 1;
}
