// Process.h: process control for user programs, one level above the raw system calls of Syscall.h.
//
// fork() flushes stdio first (otherwise text buffered in the parent would be printed by both). spawn() is
// fork + execve in one call, the way init and the shell start programs. describe_status() turns a waitpid
// status into the words the shell prints ("exit 3", "killed by SIGSEGV").
#pragma once

#include "libc/base/Types.h"
#include "libc/user/Syscall.h"

// The status a child reports when execve failed after fork (the shell convention for "command not found").
constexpr int kExecFailedStatus = 127;

// fork(2) with stdio flushed first. Returns the child's pid in the parent, 0 in the child, -errno.
int fork();

// Starts `path` (e.g. "/bin/hello" or "hello") with `argv` and `envp` in a new child. Returns the child's
// pid, or -errno when fork failed. If execve fails, the child prints why ("exec: notelf: not a program Mneme
// can run: not an ELF file (no \x7fELF magic)") and exits with kExecFailedStatus.
int spawn(const char* path, const char* const* argv, const char* const* envp);

// Why the last failed system call failed, in the kernel's words (mneme_last_error), given the -errno it
// returned; strerror(result) when the kernel's last failure is another one. In a static buffer.
const char* error_reason(int result);

// Waits for `pid` (or any child, -1) and returns its waitpid status in *status. Returns the pid or -errno.
int wait_for(int pid, int* status);

// "SIGSEGV", "SIGKILL", ... or "signal N" (in a static buffer).
const char* signal_name(int signal);

// "exit 3" or "killed by SIGSEGV" into `buffer`.
void describe_status(int status, char* buffer, size_t size);

// Sleeps for about `milliseconds` (nanosleep).
void sleep_ms(u32 milliseconds);

// Free physical frames right now (mneme_meminfo), or 0 if the call fails.
u32 free_frames();
// Free frames less the pages that live only in a swap slot: what touching a new page costs, with or without
// swapping (a page is held in a frame or in a slot). The measure for "this took N pages" in tests.
u32 free_pages();
