// Interrupts.cpp: interrupts stay on in the kernel: a long console write no longer stops the clock.
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {

// Under QEMU a console write costs tens of microseconds a byte, so a write of many KiB lasts a long time.
// While system calls ran with interrupts off, no timer tick arrived meanwhile: the uptime stood still and
// no other process ran. Times one big write() with the TSC (calibrated against the uptime over a sleep) and
// expects, across it: the uptime to advance by a quarter of its length or more (QEMU's clock lags the TSC on
// a busy host; with interrupts off it stood still), the kernel to charge the writer system time, and a
// spinning child to get CPU time (the write yields at its preempt points). The text is spaces and carriage
// returns (one line in the log), sized up until the write lasts at least 200 ms.
void test_big_write_keeps_the_clock() {
    auto tsc = [] {
        u32 low, high;
        asm volatile("rdtsc" : "=a"(low), "=d"(high));
        return (static_cast<u64>(high) << 32) | low;
    };
    auto uptime_ms = [] {
        MnemeMemInfo info{};
        sys_mneme_meminfo(&info);
        return info.uptime_ms;
    };
    auto procinfo_of = [](int pid) {
        MnemeProcInfo info{};
        for (u32 index = 0; sys_mneme_procinfo(index, &info) == 0; ++index)
            if (info.pid == pid) return info;
        return MnemeProcInfo{};
    };
    u32 u0 = uptime_ms();
    u64 c0 = tsc();
    sleep_ms(100);
    u32 u1 = uptime_ms();
    u64 c1 = tsc();
    if (u1 <= u0) return fail("the uptime did not advance over a 100 ms sleep (%u ms)", u0);
    u64 tsc_per_ms = (c1 - c0) / (u1 - u0);
    if (tsc_per_ms == 0) return fail("the TSC did not advance over a 100 ms sleep");

    int child = fork();
    if (child == 0) {
        for (;;) asm volatile("");  // runs only when the writer gives up the CPU
    }
    if (child < 0) return fail("fork: %s", strerror(child));

    constexpr u32 kMaxBytes = 128 * 1024;
    long mapped = sys_mmap2(nullptr, kMaxBytes, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(mapped)) {
        sys_kill(child, kSignalKill);
        wait_for(child, nullptr);
        return fail("mmap2: %s", strerror(static_cast<int>(mapped)));
    }
    char* text = reinterpret_cast<char*>(mapped);
    for (u32 i = 0; i < kMaxBytes; ++i) text[i] = i % 80 == 79 ? '\r' : ' ';
    u32 bytes = 8 * 1024, write_ms = 0, uptime_gain = 0, system_gain = 0, child_gain = 0;
    for (;; bytes *= 2) {
        text[bytes - 1] = '\n';  // the next line of the log starts clean
        MnemeProcInfo me = procinfo_of(sys_getpid()), spinner = procinfo_of(child);
        u32 before = uptime_ms();
        u64 start = tsc();
        int written = sys_write(1, text, bytes);
        u64 end = tsc();
        u32 after = uptime_ms();
        text[bytes - 1] = ' ';
        if (written != static_cast<int>(bytes)) {
            fail("write(%u bytes) returned %d", bytes, written);
            break;
        }
        write_ms = static_cast<u32>((end - start) / tsc_per_ms);
        uptime_gain = after - before;
        system_gain = procinfo_of(sys_getpid()).sys_ms - me.sys_ms;
        child_gain = procinfo_of(child).cpu_ms - spinner.cpu_ms;
        if (write_ms >= 200 || bytes == kMaxBytes) break;
    }
    sys_kill(child, kSignalKill);
    wait_for(child, nullptr);
    sys_munmap(text, kMaxBytes);
    printf(
        "  user.big_write_keeps_the_clock: write(%u bytes) took %u ms by the TSC; uptime +%u ms, writer's "
        "system time +%u ms, spinning child +%u ms\n",
        bytes, write_ms, uptime_gain, system_gain, child_gain);
    if (write_ms < 50) return;  // too fast to tell (not under QEMU's slow serial port): nothing to check
    EXPECT(uptime_gain + 20 >= write_ms / 4, "the uptime advanced %u ms during a %u ms write", uptime_gain, write_ms);
    EXPECT(system_gain + 20 >= write_ms / 8, "the writer was charged %u ms of system time for a %u ms write",
           system_gain, write_ms);
    EXPECT(child_gain + 20 >= write_ms / 8, "a spinning child ran %u ms during a %u ms write", child_gain, write_ms);
}

}  // namespace usertests
