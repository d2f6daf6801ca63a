// Process.cpp: fork with flushed stdio, spawn (fork + execve), waiting, and naming how a process ended.
#include "libc/user/Process.h"

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

int fork() {
    flush_all_streams();
    return sys_fork();
}

int spawn(const char* path, const char* const* argv, const char* const* envp) {
    int pid = fork();
    if (pid != 0) return pid;  // the parent, or fork failed
    int result = sys_execve(path, argv, envp);
    fprintf(stderr, "exec: %s: %s\n", path, error_reason(result));
    sys_exit(kExecFailedStatus);  // not exit(): nothing of the parent's to flush or run twice
}

const char* error_reason(int result) {
    static char reason[ExplainedError::kReasonSize];
    if (sys_mneme_last_error(reason, sizeof(reason)) != -result) return strerror(result);
    return reason;
}

int wait_for(int pid, int* status) {
    for (;;) {
        int result = sys_waitpid(pid, status, 0);
        if (result != -static_cast<int>(Error::Interrupted)) return result;
    }
}

const char* signal_name(int signal) {
    switch (signal) {
    case 2: return "SIGINT";
    case 4: return "SIGILL";
    case 6: return "SIGABRT";
    case 8: return "SIGFPE";
    case 9: return "SIGKILL";
    case 11: return "SIGSEGV";
    case 15: return "SIGTERM";
    }
    static char unknown[20];
    format_to_buffer(unknown, sizeof(unknown), "signal %d", signal);
    return unknown;
}

void describe_status(int status, char* buffer, size_t size) {
    if (wait_exited(status))
        format_to_buffer(buffer, size, "exit %d", wait_exit_status(status));
    else
        format_to_buffer(buffer, size, "killed by %s", signal_name(wait_term_signal(status)));
}

void sleep_ms(u32 milliseconds) {
    NanoTime request{static_cast<i32>(milliseconds / 1000), static_cast<i32>((milliseconds % 1000) * 1000000)};
    sys_nanosleep(&request, nullptr);
}

u32 free_frames() {
    MnemeMemInfo info{};
    if (sys_mneme_meminfo(&info) < 0) return 0;
    return info.free_frames;
}

u32 free_pages() {
    MnemeMemInfo info{};
    if (sys_mneme_meminfo(&info) < 0) return 0;
    return info.free_frames - info.swapped_pages;
}
