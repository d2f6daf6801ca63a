// Processes.cpp: fork, exit statuses, waitpid, orphans and zombies, kill, and the process list
// (mneme_procinfo).
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

constexpr int kInitPid = 1;

// The pid of a live child of `parent` in mneme_procinfo, or 0.
int child_of(int parent) {
    for (u32 index = 0;; ++index) {
        MnemeProcInfo info;
        if (sys_mneme_procinfo(index, &info) != 0) return 0;
        if (info.parent == parent && info.state != ProcessState::Zombie) return info.pid;
    }
}

}  // namespace

void test_fork_exit_status() {
    const int codes[] = {0, 1, 42, 255, 256 + 7};  // only the low 8 bits of exit's argument survive
    for (int code : codes) {
        int pid = fork();
        if (pid == 0) sys_exit(code);
        if (pid < 0) return fail("fork: %s", strerror(pid));
        int status = 0;
        int reaped = sys_waitpid(pid, &status, 0);
        EXPECT(reaped == pid, "waitpid(%d) returned %d", pid, reaped);
        EXPECT(wait_exited(status) && wait_exit_status(status) == (code & 0xFF), "exit(%d) seen as %s (status %#x)",
               code, describe(status), status);
    }
}

void test_fork_returns_pids() {
    int parent = sys_getpid();
    int pid = fork();
    if (pid == 0) {
        // The child reports what it sees through its exit status: 1 bad parent, else the low bits of its pid.
        if (sys_getppid() != parent) sys_exit(1);
        sys_exit(2 + (sys_getpid() & 0x7F));
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    EXPECT(pid != parent && pid > 0, "fork returned %d in the parent (pid %d)", pid, parent);
    int status;
    wait_for(pid, &status);
    EXPECT(wait_exited(status), "child ended with %s", describe(status));
    EXPECT(wait_exit_status(status) != 1, "the child's getppid() was not the parent's pid %d", parent);
    EXPECT(wait_exit_status(status) == 2 + (pid & 0x7F), "the child's getpid() is not %d (exit %d)", pid,
           wait_exit_status(status));
}

void test_waitpid_semantics() {
    int status = 0;
    EXPECT(sys_waitpid(-1, &status, 0) == -static_cast<int>(Error::NoChild), "waitpid(-1) without children");
    EXPECT(sys_waitpid(12345, &status, 0) == -static_cast<int>(Error::NoChild), "waitpid of a non-child");
    int pid = fork();
    if (pid == 0) {
        // Alive until the parent blocks in waitpid(-1), so its WNOHANG call before that finds a live child.
        sys_exit(wait_until_parent_waits() ? 9 : 99);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    int early = sys_waitpid(pid, &status, kWaitNoHang);
    EXPECT(early == 0, "waitpid(WNOHANG) on a live child returned %d", early);
    int reaped = sys_waitpid(-1, &status, 0);
    EXPECT(reaped == pid && wait_exited(status) && wait_exit_status(status) == 9,
           "waitpid(-1) returned %d with %s (exit 99: the child never saw its parent waiting)", reaped,
           describe(status));
    EXPECT(sys_waitpid(pid, &status, 0) == -static_cast<int>(Error::NoChild), "a child was reaped twice");
    // A null status pointer is allowed: the caller does not want it.
    pid = fork();
    if (pid == 0) sys_exit(0);
    EXPECT(sys_waitpid(pid, nullptr, 0) == pid, "waitpid(pid, NULL, 0)");
}

// A process whose parent ends is given to init (pid 1), which reaps it when it ends. This program is not
// init, so it watches through mneme_procinfo: a grandchild outlives its parent (the middle process), its
// parent becomes 1, and once killed it leaves the process table because init reaped it.
void test_orphan_reparenting() {
    int middle = fork();
    if (middle == 0) {
        int grandchild = fork();
        if (grandchild == 0) {
            for (;;) sleep_ms(1000);  // until the test kills it
        }
        if (grandchild < 0) sys_exit(1);
        // The test looks up the grandchild while this process lives, then blocks in waitpid for it.
        sys_exit(wait_until_parent_waits() ? 0 : 2);
    }
    if (middle < 0) return fail("fork: %s", strerror(middle));
    int grandchild = 0;
    for (u32 waited = 0; waited < 5000 && grandchild == 0; waited += kPollMs) {
        grandchild = child_of(middle);
        if (grandchild == 0) sleep_ms(kPollMs);
    }
    int status;
    wait_for(middle, &status);
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
           "the middle process ended with %s (1: fork failed, 2: it never saw its parent waiting)", describe(status));
    if (grandchild == 0) return fail("the middle process's child never appeared in mneme_procinfo");

    MnemeProcInfo info{};
    bool adopted = false;
    for (u32 waited = 0; waited < 5000 && !adopted; waited += kPollMs) {
        if (!find_process(grandchild, info)) break;
        adopted = info.parent == kInitPid;
        if (!adopted) sleep_ms(kPollMs);
    }
    EXPECT(adopted, "the orphan pid %d has parent %d, not init", grandchild, info.parent);
    int killed = sys_kill(grandchild, kSignalTerm);
    EXPECT(killed == 0, "kill(%d) returned %d", grandchild, killed);
    bool reaped = false;
    for (u32 waited = 0; waited < 5000 && !reaped; waited += kPollMs) {
        reaped = !find_process(grandchild, info);
        if (!reaped) sleep_ms(kPollMs);
    }
    EXPECT(reaped, "init never reaped the orphan pid %d (state %u)", grandchild, static_cast<u32>(info.state));
}

// A process that has exited but is not yet reaped is a zombie: listed, but its memory already freed.
void test_zombie() {
    u32 before = free_pages();
    int pid = fork();
    if (pid == 0) {
        char* heap = static_cast<char*>(sbrk(256 * 4096));
        if (heap != reinterpret_cast<char*>(-1))
            for (u32 page = 0; page < 256; ++page) heap[page * 4096] = 1;
        sys_exit(3);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    // Wait (up to 3 s) until the child has exited; it stays a zombie because nobody reaps it yet.
    MnemeProcInfo child{};
    bool listed = false;
    for (int tries = 0; tries < 300; ++tries) {
        listed = find_process(pid, child);
        if (!listed || child.state == ProcessState::Zombie) break;
        sleep_ms(kPollMs);
    }
    if (listed) {
        EXPECT(child.state == ProcessState::Zombie, "the exited child is in state %u, not zombie",
               static_cast<u32>(child.state));
        EXPECT(child.resident_pages == 0, "the zombie still holds %u pages", child.resident_pages);
    }
    EXPECT(listed, "the exited, unreaped child is not listed");
    int lost = static_cast<int>(before) - static_cast<int>(free_pages());
    EXPECT(lost <= 8, "%d frames still gone while the child is a zombie", lost);
    int status;
    wait_for(pid, &status);
    EXPECT(wait_exited(status) && wait_exit_status(status) == 3, "the zombie reported %s", describe(status));
}

void test_kill() {
    const int signals[] = {kSignalKill, kSignalTerm};
    for (int signal : signals) {
        int pid = fork();
        if (pid == 0) {
            for (;;) sleep_ms(50);
        }
        if (pid < 0) return fail("fork: %s", strerror(pid));
        sleep_ms(20);
        int result = sys_kill(pid, signal);
        EXPECT(result == 0, "kill(%d, %d) returned %d", pid, signal, result);
        int status;
        if (!wait_with_timeout(pid, status, 5000)) return fail("the killed child did not end");
        EXPECT(wait_signaled(status) && wait_term_signal(status) == signal, "kill(%s) ended the child with %s",
               signal_name(signal), describe(status));
    }
    // A busy child (never in a system call) must be killable too: the kill takes effect at the next tick.
    int pid = fork();
    if (pid == 0) {
        for (;;) asm volatile("");  // spin without ever entering the kernel
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    sleep_ms(20);
    sys_kill(pid, kSignalKill);
    int status;
    if (!wait_with_timeout(pid, status, 5000)) return fail("a spinning child survived SIGKILL");
    EXPECT(wait_signaled(status) && wait_term_signal(status) == kSignalKill, "spinning child: %s", describe(status));
    EXPECT(sys_kill(23456, kSignalKill) == -static_cast<int>(Error::NoProcess), "kill of a missing pid");
}

void test_procinfo() {
    bool found_self = false;
    u32 count = 0;
    for (u32 index = 0; index < 1000; ++index) {
        MnemeProcInfo info;
        int result = sys_mneme_procinfo(index, &info);
        if (result == -static_cast<int>(Error::NoProcess)) break;
        if (result != 0) return fail("mneme_procinfo(%u) returned %d", index, result);
        ++count;
        if (info.pid == sys_getpid()) {
            found_self = true;
            EXPECT(strcmp(info.name, "usertests") == 0, "my name is \"%s\"", info.name);
            EXPECT(info.state == ProcessState::Running, "my state is %u", static_cast<u32>(info.state));
            EXPECT(info.resident_pages > 0 && info.stack_bytes > 0, "%u resident pages, %u stack bytes",
                   info.resident_pages, info.stack_bytes);
        }
    }
    EXPECT(found_self, "mneme_procinfo never listed pid %d", sys_getpid());
    EXPECT(count == meminfo().process_count, "procinfo lists %u processes, meminfo counts %u", count,
           meminfo().process_count);
}

}  // namespace usertests
