// forkdemo.cpp: copy-on-write, made visible. After fork() parent and child have the same physical frames
// behind their pages (mapped read-only in both); the first write to a shared page faults, and the kernel
// gives the writer a copy. mneme_frame_of(address) shows which frame backs an address, so the sharing and
// the split can be printed:
//
//   parent: pages at 0x00405000: frames 0x1f3a 0x1f3b 0x1f3c
//   child:  before writing:      frames 0x1f3a 0x1f3b 0x1f3c  (the parent's frames: shared)
//   child:  after writing page 1: frames 0x1f3a 0x2210 0x1f3c  (page 1 copied; pages 0 and 2 still shared)
//
// Each side also checks that it sees its own writes and not the other's. Exit status 0 when everything
// behaved as copy-on-write should, 1 otherwise.
// help(program): forkdemo | copy-on-write made visible: the frames parent and child share, then copy
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

constexpr int kPages = 3;
// Page-aligned and initialized, so the pages live in .data (loaded from the program file).
alignas(4096) char g_pages[kPages][4096] = {{"parent page 0"}, {"parent page 1"}, {"parent page 2"}};

long g_frames_before[kPages];

void frames(long out[kPages]) {
    for (int i = 0; i < kPages; ++i) out[i] = sys_mneme_frame_of(g_pages[i]);
}

void print_frames(const char* who, const char* when, const long numbers[kPages], const char* note) {
    printf("%-7s %-22s frames", who, when);
    for (int i = 0; i < kPages; ++i) printf(" %#lx", numbers[i]);
    printf("  %s\n", note);
}

void print_shared(const char* who) {
    for (u32 index = 0;; ++index) {
        MnemeProcInfo info;
        if (sys_mneme_procinfo(index, &info) != 0) break;
        if (info.pid == sys_getpid())
            printf("%-7s mneme_procinfo: %u resident pages, %u of them shared copy-on-write, %u page faults\n", who,
                   info.resident_pages, info.shared_pages, info.page_faults);
    }
}

int child() {
    bool ok = true;
    long now[kPages];
    frames(now);
    bool shared = memcmp(now, g_frames_before, sizeof(now)) == 0;
    print_frames("child:", "before writing:", now, shared ? "(the parent's frames: shared)" : "ERROR: not shared");
    ok = ok && shared;
    print_shared("child:");

    strcpy(g_pages[1], "child was here");  // the write fault: page 1 gets a frame of its own
    frames(now);
    bool split = now[1] != g_frames_before[1] && now[0] == g_frames_before[0] && now[2] == g_frames_before[2];
    print_frames("child:", "after writing page 1:", now,
                 split ? "(page 1 copied; pages 0 and 2 still shared)" : "ERROR: expected only page 1 to change");
    ok = ok && split;
    printf("child:  page 0 says \"%s\", page 1 says \"%s\"\n", g_pages[0], g_pages[1]);
    ok = ok && strcmp(g_pages[0], "parent page 0") == 0 && strcmp(g_pages[1], "child was here") == 0;
    print_shared("child:");
    return ok ? 0 : 1;
}

}  // namespace

int main() {
    // Touch the pages so they are present (the kernel maps .data lazily from the file).
    for (int i = 0; i < kPages; ++i) g_pages[i][4095] = 0;
    frames(g_frames_before);
    if (is_error_result(g_frames_before[0])) {
        printf("forkdemo: mneme_frame_of failed: %s\n", strerror(static_cast<int>(g_frames_before[0])));
        return 1;
    }
    printf("forkdemo: pid %d, three pages at %p\n", sys_getpid(), static_cast<void*>(g_pages));
    print_frames("parent:", "before fork:", g_frames_before, "");

    int pid = fork();
    if (pid < 0) {
        printf("forkdemo: fork failed: %d\n", pid);
        return 1;
    }
    if (pid == 0) sys_exit(child());  // sys_exit: the parent's stdio was flushed by fork

    int status = 0;
    wait_for(pid, &status);
    char how[40];
    describe_status(status, how, sizeof(how));
    printf("parent: child %d ended (%s)\n", pid, how);

    long now[kPages];
    frames(now);
    bool unchanged = memcmp(now, g_frames_before, sizeof(now)) == 0;
    print_frames("parent:", "after the child wrote:", now,
                 unchanged ? "(the parent kept its frames)" : "ERROR: changed");
    printf("parent: page 1 still says \"%s\"\n", g_pages[1]);
    bool ok =
        unchanged && strcmp(g_pages[1], "parent page 1") == 0 && wait_exited(status) && wait_exit_status(status) == 0;
    printf("forkdemo: %s\n",
           ok ? "copy-on-write worked: shared until written, then each its own copy" : "ERROR: see above");
    return ok ? 0 : 1;
}
