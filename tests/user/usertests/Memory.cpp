// Memory.cpp: the program break (brk), anonymous mappings (mmap2, munmap) and stack growth: demand paging,
// frames given back, zeroed pages, and what mneme_procinfo says. Each runs in a child (run_in_child), so the
// address space it leaves behind goes away with it.
#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

constexpr u32 kGrowPages = 1024;  // 4 MiB

const char* brk_body() {
    u32 start = free_pages();
    char* base = static_cast<char*>(sbrk(0));
    if (sbrk(kGrowPages * 4096) != base) return child_fail("sbrk(4 MiB) failed");
    if (sbrk(0) != base + kGrowPages * 4096) return child_fail("the break did not move by 4 MiB");
    // Demand paging: growing the heap reserves addresses; frames come only with the first touch.
    int reserved = -frames_since(start);
    if (reserved > static_cast<int>(kSlackFrames))
        return child_fail("sbrk(4 MiB) took %d frames before any page was touched", reserved);
    for (u32 page = 0; page < kGrowPages; ++page) {
        if (base[page * 4096] != 0) return child_fail("new heap page %u is not zero", page);
        base[page * 4096] = static_cast<char>(page);
    }
    int touched = -frames_since(start);
    if (touched < static_cast<int>(kGrowPages))
        return child_fail("touching 1024 heap pages took only %d frames", touched);
    MnemeProcInfo info = my_procinfo();
    // With swapping some of them may be out on the disk: resident or swapped, every page is there.
    if (info.heap_bytes < kGrowPages * 4096 || info.resident_pages + info.swapped_pages < kGrowPages)
        return child_fail("procinfo: heap %u bytes, %u resident and %u swapped pages after a 4 MiB heap was touched",
                          info.heap_bytes, info.resident_pages, info.swapped_pages);
    if (sbrk(-static_cast<long>(kGrowPages * 4096)) == reinterpret_cast<void*>(-1)) return child_fail("sbrk(-4 MiB)");
    if (sbrk(0) != base) return child_fail("the break did not come back");
    int left = -frames_since(start);
    if (left > static_cast<int>(kSlackFrames))
        return child_fail("after shrinking the heap %d frames are still gone (%d were taken)", left, touched);
    // Growing again must give zeroed pages, not the old contents.
    if (sbrk(4096) != base) return child_fail("sbrk(4096) after the shrink");
    if (base[0] != 0) return child_fail("a page given back and taken again kept its old contents");
    sbrk(-4096);
    return nullptr;
}

const char* mmap_body() {
    u32 start = free_pages();
    constexpr size_t kBytes = kGrowPages * 4096;
    long result = sys_mmap2(nullptr, kBytes, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(result)) return child_fail("mmap2(4 MiB) failed: %s", strerror(static_cast<int>(result)));
    char* region = reinterpret_cast<char*>(result);
    if (reinterpret_cast<uptr>(region) % 4096 != 0 || reinterpret_cast<uptr>(region) < 0x40000000u ||
        reinterpret_cast<uptr>(region) + kBytes > 0xC0000000u - 8 * MiB)
        return child_fail("mmap2 returned %p, not a page in the mmap area", region);
    if (-frames_since(start) > static_cast<int>(kSlackFrames))
        return child_fail("mmap2 took %d frames before any page was touched", -frames_since(start));
    for (u32 page = 0; page < kGrowPages; ++page) {
        if (region[page * 4096 + 123] != 0) return child_fail("mapped page %u is not zero", page);
        region[page * 4096] = 1;
    }
    int touched = -frames_since(start);
    if (touched < static_cast<int>(kGrowPages)) return child_fail("touching 1024 mapped pages took %d frames", touched);
    if (my_procinfo().mapped_bytes < kBytes) return child_fail("procinfo: %u mapped bytes", my_procinfo().mapped_bytes);
    // A second mapping must not overlap the first.
    long second = sys_mmap2(nullptr, 8192, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(second)) return child_fail("a second mmap2 failed");
    uptr s = static_cast<uptr>(second);
    if (s < reinterpret_cast<uptr>(region) + kBytes && s + 8192 > reinterpret_cast<uptr>(region))
        return child_fail("the second mapping %#lx overlaps the first %p", second, region);
    if (sys_munmap(reinterpret_cast<void*>(second), 8192) != 0) return child_fail("munmap of the second mapping");
    int unmapped = sys_munmap(region, kBytes);
    if (unmapped != 0) return child_fail("munmap returned %d", unmapped);
    int left = -frames_since(start);
    if (left > static_cast<int>(kSlackFrames))
        return child_fail("after munmap %d frames are still gone (%d were taken)", left, touched);
    // A bad length or address is an error, not a crash.
    if (sys_mmap2(nullptr, 0, kProtRead, kMapPrivate | kMapAnonymous, -1, 0) >= 0)
        return child_fail("mmap2 of 0 bytes succeeded");
    // The unmapped region must be gone: touching it now is a segmentation fault (in a grandchild).
    int pid = sys_fork();
    if (pid == 0) {
        volatile char* gone = region;
        gone[0] = 1;
        sys_exit(0);
    }
    int status;
    wait_for(pid, &status);
    if (!wait_signaled(status) || wait_term_signal(status) != kSignalSegv)
        return child_fail("writing an unmapped region ended with %s, not SIGSEGV", describe(status));
    // PROT_NONE reserves a range that cannot be touched: a read is SIGSEGV, a system call gets -EFAULT.
    long none = sys_mmap2(nullptr, 8192, kProtNone, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(none)) return child_fail("mmap2(PROT_NONE) failed: %s", strerror(static_cast<int>(none)));
    if (sys_write(1, reinterpret_cast<const char*>(none), 4) != -static_cast<int>(Error::BadAddress))
        return child_fail("write() from a PROT_NONE mapping did not fail with EFAULT");
    pid = sys_fork();
    if (pid == 0) {
        volatile char* untouchable = reinterpret_cast<char*>(none);
        sys_exit(untouchable[0]);
    }
    wait_for(pid, &status);
    if (!wait_signaled(status) || wait_term_signal(status) != kSignalSegv)
        return child_fail("reading a PROT_NONE mapping ended with %s, not SIGSEGV", describe(status));
    return nullptr;
}

// Recursion 1 MiB deep: the stack grows page by page on demand far beyond what exec mapped.
u32 descend(u32 depth, volatile char* caller) {
    volatile char frame[4000];
    frame[0] = static_cast<char>(depth);
    frame[3999] = caller ? caller[0] : 0;
    if (depth == 0) return frame[0];
    return descend(depth - 1, frame) + frame[1];
}

const char* stack_body() {
    u32 start = free_pages();
    descend(270, nullptr);  // 270 x 4000 bytes: a little more than 1 MiB
    int taken = -frames_since(start);
    if (taken < 256) return child_fail("a 1 MiB deep recursion took only %d frames", taken);
    MnemeProcInfo info = my_procinfo();
    if (info.pid == 0) return child_fail("my pid is not in mneme_procinfo");
    if (info.stack_bytes < 1 * MiB) return child_fail("procinfo says %u stack bytes", info.stack_bytes);
    return nullptr;
}

}  // namespace

void test_brk() { run_in_child(brk_body); }
void test_mmap() { run_in_child(mmap_body); }
void test_stack_growth() { run_in_child(stack_body); }

}  // namespace usertests
