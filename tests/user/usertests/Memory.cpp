// Memory.cpp: the program break (brk), anonymous mappings (mmap2, munmap, mprotect) and stack growth: demand paging,
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

// Ends with the signal `status` reports, or -1 for a normal exit: `body` run in a grandchild.
int signal_of(void (*body)(volatile char*), volatile char* address) {
    int pid = sys_fork();
    if (pid == 0) {
        body(address);
        sys_exit(0);
    }
    int status;
    wait_for(pid, &status);
    return wait_signaled(status) ? wait_term_signal(status) : -1;
}
void write_to(volatile char* address) { address[0] = 'w'; }
void read_from(volatile char* address) { sys_exit(address[0] == 0x7F ? 1 : 0); }

// mprotect: a PROT_NONE reservation made accessible piece by piece (the way malloc commits its segments), a
// read-only page that faults on a write and keeps its contents, PROT_NONE giving the frames back, and the
// errors.
const char* mprotect_body() {
    constexpr u32 kPages = 64;
    u32 start = free_pages();
    long reserved = sys_mmap2(nullptr, kPages * 4096, kProtNone, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(reserved))
        return child_fail("mmap2(PROT_NONE) failed: %s", strerror(static_cast<int>(reserved)));
    char* base = reinterpret_cast<char*>(reserved);
    if (int r = sys_mprotect(base, 4 * 4096, kProtRead | kProtWrite); r != 0)
        return child_fail("mprotect(4 pages, PROT_READ|PROT_WRITE) returned %d", r);
    for (u32 page = 0; page < 4; ++page) {
        if (base[page * 4096 + 7] != 0) return child_fail("a committed page %u is not zero", page);
        base[page * 4096] = static_cast<char>('a' + page);
    }
    if (int taken = -frames_since(start); taken < 4) return child_fail("touching 4 pages took %d frames", taken);
    if (signal_of(write_to, base + 4 * 4096) != kSignalSegv)
        return child_fail("the page after the committed ones is not PROT_NONE any more");

    // Read-only: reading works, a write is SIGSEGV and a system call writing there gets -EFAULT.
    if (int r = sys_mprotect(base, 4096, kProtRead); r != 0) return child_fail("mprotect(PROT_READ) returned %d", r);
    if (base[0] != 'a') return child_fail("a page made read-only lost its contents");
    if (signal_of(write_to, base) != kSignalSegv) return child_fail("a write to a PROT_READ page was not SIGSEGV");
    if (signal_of(read_from, base) != -1) return child_fail("a read of a PROT_READ page faulted");
    if (sys_mneme_meminfo(reinterpret_cast<MnemeMemInfo*>(base)) != -static_cast<int>(Error::BadAddress))
        return child_fail("a system call wrote into a PROT_READ page");
    base[4096] = 'B';  // the next page kept its rights
    if (int r = sys_mprotect(base, 4096, kProtRead | kProtWrite); r != 0)
        return child_fail("mprotect back to PROT_READ|PROT_WRITE returned %d", r);
    base[1] = 'x';
    if (base[0] != 'a' || base[1] != 'x') return child_fail("a page made writable again lost its contents");

    // PROT_NONE again: the frames come back, and a read is SIGSEGV.
    u32 before_none = free_pages();
    if (int r = sys_mprotect(base, 4 * 4096, kProtNone); r != 0)
        return child_fail("mprotect(PROT_NONE) returned %d", r);
    if (frames_since(before_none) < 4)
        return child_fail("PROT_NONE gave back %d frames, not 4", frames_since(before_none));
    if (signal_of(read_from, base + 4096) != kSignalSegv)
        return child_fail("a read of a PROT_NONE page was not SIGSEGV");

    // Errors.
    if (sys_mprotect(base + 1, 4096, kProtRead) != -static_cast<int>(Error::Invalid))
        return child_fail("mprotect of an unaligned address did not fail with EINVAL");
    if (sys_mprotect(base, 4096, 8) != -static_cast<int>(Error::Invalid))
        return child_fail("mprotect with an unknown protection bit did not fail with EINVAL");
    if (sys_mprotect(base + (kPages - 1) * 4096, 2 * 4096, kProtRead) != -static_cast<int>(Error::NoMemory))
        return child_fail("mprotect past the end of the mapping did not fail with ENOMEM");
    // More than the machine has (its frames and, with swapping, its swap slots) cannot be committed, though it
    // can be reserved (where the mmap area holds it).
    MnemeVmStat swap{};
    sys_mneme_vmstat(&swap);
    size_t huge = (meminfo().total_frames + swap.slots_total + 1) * size_t(4096);
    if (huge <= 1024 * MiB) {
        long big = sys_mmap2(nullptr, huge, kProtNone, kMapPrivate | kMapAnonymous, -1, 0);
        if (is_error_result(big)) return child_fail("reserving %zu bytes PROT_NONE failed", huge);
        if (sys_mprotect(reinterpret_cast<void*>(big), huge, kProtRead) != -static_cast<int>(Error::NoMemory))
            return child_fail("committing more than the machine has did not fail with ENOMEM");
        if (sys_munmap(reinterpret_cast<void*>(big), huge) != 0) return child_fail("munmap of the reservation failed");
    }
    if (sys_munmap(base, kPages * 4096) != 0) return child_fail("munmap failed");
    if (int left = -frames_since(start); left > static_cast<int>(kSlackFrames))
        return child_fail("after munmap %d frames are still gone", left);
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
void test_mprotect() { run_in_child(mprotect_body); }
void test_stack_growth() { run_in_child(stack_body); }

}  // namespace usertests
