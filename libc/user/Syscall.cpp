// Syscall.cpp: the system-call wrappers: inline `int 0x80` with the Linux i386 register convention.
//
// Arguments go in EBX, ECX, EDX, ESI, EDI (GCC's "b", "c", "d", "S", "D" constraints; user code is not PIC,
// so EBX is free). The sixth, EBP, cannot be a constraint because EBP is the frame pointer here
// (-fno-omit-frame-pointer), so the one six-argument call, mmap2, is a short routine in assembly that saves
// EBP itself. "memory" is clobbered: the kernel reads and writes the buffers we pass.
#include "libc/user/Syscall.h"

namespace {

inline long syscall0(u32 number) {
    long result;
    asm volatile("int $0x80" : "=a"(result) : "a"(number) : "memory");
    return result;
}

inline long syscall1(u32 number, u32 a) {
    long result;
    asm volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a) : "memory");
    return result;
}

inline long syscall2(u32 number, u32 a, u32 b) {
    long result;
    asm volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b) : "memory");
    return result;
}

inline long syscall3(u32 number, u32 a, u32 b, u32 c) {
    long result;
    asm volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c) : "memory");
    return result;
}

template <typename T>
u32 arg(T* pointer) {
    return static_cast<u32>(reinterpret_cast<uptr>(pointer));
}

}  // namespace

// mmap2(address, length, protection, flags, fd, page_offset): cdecl arguments at 4(%esp)..24(%esp) on
// entry; after saving four registers they sit 16 bytes further.
extern "C" long mneme_syscall_mmap2(u32 address, u32 length, u32 protection, u32 flags, u32 fd, u32 offset);
asm(R"(
    .text
    .globl mneme_syscall_mmap2
    .type mneme_syscall_mmap2, @function
mneme_syscall_mmap2:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 20(%esp), %ebx
    movl 24(%esp), %ecx
    movl 28(%esp), %edx
    movl 32(%esp), %esi
    movl 36(%esp), %edi
    movl 40(%esp), %ebp
    movl $192, %eax
    int $0x80
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
    .size mneme_syscall_mmap2, . - mneme_syscall_mmap2
)");

void sys_exit(int status) {
    syscall1(syscall_number::kExit, static_cast<u32>(status));
    // The kernel never returns from exit; if it ever did, do not run on into random code.
    for (;;) asm volatile("ud2");
}

int sys_fork() { return static_cast<int>(syscall0(syscall_number::kFork)); }

int sys_read(int fd, void* buffer, size_t count) {
    return static_cast<int>(syscall3(syscall_number::kRead, static_cast<u32>(fd), arg(buffer), count));
}

int sys_write(int fd, const void* buffer, size_t count) {
    return static_cast<int>(syscall3(syscall_number::kWrite, static_cast<u32>(fd), arg(buffer), count));
}

int sys_waitpid(int pid, int* status, u32 options) {
    return static_cast<int>(syscall3(syscall_number::kWaitPid, static_cast<u32>(pid), arg(status), options));
}

int sys_execve(const char* path, const char* const* argv, const char* const* envp) {
    return static_cast<int>(syscall3(syscall_number::kExecve, arg(path), arg(argv), arg(envp)));
}

int sys_getpid() { return static_cast<int>(syscall0(syscall_number::kGetPid)); }
int sys_getppid() { return static_cast<int>(syscall0(syscall_number::kGetPpid)); }

int sys_kill(int pid, int signal) {
    return static_cast<int>(syscall2(syscall_number::kKill, static_cast<u32>(pid), static_cast<u32>(signal)));
}

long sys_brk(void* address) { return syscall1(syscall_number::kBrk, arg(address)); }

long sys_mmap2(void* address, size_t length, u32 protection, u32 flags, int fd, u32 page_offset) {
    return mneme_syscall_mmap2(arg(address), length, protection, flags, static_cast<u32>(fd), page_offset);
}

int sys_munmap(void* address, size_t length) {
    return static_cast<int>(syscall2(syscall_number::kMunmap, arg(address), length));
}

int sys_mprotect(void* address, size_t length, u32 protection) {
    return static_cast<int>(syscall3(syscall_number::kMprotect, arg(address), length, protection));
}

int sys_sched_yield() { return static_cast<int>(syscall0(syscall_number::kSchedYield)); }

int sys_nanosleep(const NanoTime* request, NanoTime* remaining) {
    return static_cast<int>(syscall2(syscall_number::kNanosleep, arg(request), arg(remaining)));
}

int sys_mneme_meminfo(MnemeMemInfo* info) {
    return static_cast<int>(syscall1(syscall_number::kMnemeMemInfo, arg(info)));
}

int sys_mneme_vmstat(MnemeVmStat* stat) {
    return static_cast<int>(syscall1(syscall_number::kMnemeVmStat, arg(stat)));
}

int sys_mneme_procinfo(u32 index, MnemeProcInfo* info) {
    return static_cast<int>(syscall2(syscall_number::kMnemeProcInfo, index, arg(info)));
}

int sys_mneme_monitor() { return static_cast<int>(syscall0(syscall_number::kMnemeMonitor)); }

int sys_mneme_test_exit(u32 passed, u32 failed) {
    return static_cast<int>(syscall2(syscall_number::kMnemeTestExit, passed, failed));
}

long sys_mneme_frame_of(const void* address) { return syscall1(syscall_number::kMnemeFrameOf, arg(address)); }
int sys_mneme_set_foreground(int pid) {
    return static_cast<int>(syscall1(syscall_number::kMnemeSetForeground, static_cast<u32>(pid)));
}
int sys_mneme_last_error(char* buffer, size_t size) {
    return static_cast<int>(syscall2(syscall_number::kMnemeLastError, arg(buffer), size));
}
