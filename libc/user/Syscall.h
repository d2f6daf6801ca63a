// Syscall.h: one C++ function per Mneme system call, for user programs.
//
// Each wrapper does exactly one `int 0x80` (libc/abi/Syscalls.h: number in EAX, arguments in EBX, ECX,
// EDX, ESI, EDI, EBP) and returns what the kernel put in EAX: a value >= 0 on success, -errno on failure
// (the numbers of libc/base/Error.h, e.g. -14 for EFAULT). Nothing is hidden: no errno variable, no retry,
// no buffering, so a student sees exactly what the kernel answered. `is_error_result` tells an address or
// a count from an error for the calls that return addresses (brk, mmap2).
//
// The higher layers (Process.h, Stdio.h, Malloc.h) are built on these.
#pragma once

#include "libc/abi/Syscalls.h"
#include "libc/base/Types.h"

// Linux's rule: results in [-4095, -1] are errors; anything else (even a "negative" address above
// 0x80000000) is a value.
constexpr bool is_error_result(long result) { return result < 0 && result >= -4095; }

[[noreturn]] void sys_exit(int status);
int sys_fork();
int sys_read(int fd, void* buffer, size_t count);
int sys_write(int fd, const void* buffer, size_t count);
// status may be null. options: 0 or kWaitNoHang. Returns the pid reaped, 0 (WNOHANG, nothing yet), -errno.
int sys_waitpid(int pid, int* status, u32 options);
// Returns only on failure (-ENOENT, -ENOEXEC, -EFAULT, -E2BIG, -ENOMEM).
int sys_execve(const char* path, const char* const* argv, const char* const* envp);
int sys_getpid();
int sys_getppid();
int sys_kill(int pid, int signal);
// brk(0) returns the current break; brk(address) moves it and returns the new break, or the unchanged
// break (Linux) or -ENOMEM when it cannot.
long sys_brk(void* address);
long sys_mmap2(void* address, size_t length, u32 protection, u32 flags, int fd, u32 page_offset);
int sys_munmap(void* address, size_t length);
// New rights for mapped pages (kProtNone, or kProtRead/kProtWrite/kProtExec). Pages made PROT_NONE lose their
// contents in Mneme. 0; -EINVAL (unaligned, bad protection, not an mmap region), -ENOMEM (not mapped, or
// beyond the commit limit).
int sys_mprotect(void* address, size_t length, u32 protection);
int sys_sched_yield();
int sys_nanosleep(const NanoTime* request, NanoTime* remaining);

int sys_mneme_meminfo(MnemeMemInfo* info);
int sys_mneme_procinfo(u32 index, MnemeProcInfo* info);
int sys_mneme_vmstat(MnemeVmStat* stat);
int sys_mneme_monitor();
int sys_mneme_test_exit(u32 passed, u32 failed);
// The physical frame number mapped at a user address, or -EFAULT when no frame is mapped there (yet).
long sys_mneme_frame_of(const void* address);
// Ctrl-C on the console ends process `pid` (and its descendants) from now on; 0: nobody.
int sys_mneme_set_foreground(int pid);
// Why the caller's last failed system call failed, in words, into `buffer` (cut to `size`); returns that
// call's error code (positive, e.g. 8 for ENOEXEC), 0 when none has failed, or -EFAULT.
int sys_mneme_last_error(char* buffer, size_t size);
