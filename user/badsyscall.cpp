// badsyscall.cpp: hostile program that must NOT be killed: it hands the kernel pointers it may not use
// (kernel addresses, null, unmapped holes, ranges that run off the end of user space or wrap around,
// read-only pages the kernel is asked to write) and expects every call to fail with -EFAULT (14).
//
// A kernel that trusted these pointers would read or write its own memory on the program's behalf (the
// "confused deputy"); one that touched them without checking would take a page fault in kernel mode.
// Exit status 0 when every call answered -EFAULT, 1 otherwise.
//
// Not tried: read(0, bad, n), because read blocks until console input arrives before a kernel need look
// at the buffer, and nothing types during the test run.
// help(hostile): badsyscall | passes bad pointers to system calls: each answered -EFAULT, not killed
#include "libc/base/Error.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

extern "C" char _end[];  // user/user.ld: the page-aligned end of .bss, where the (still empty) heap starts

namespace {

int g_failures = 0;
int g_checks = 0;

void expect_fault(const char* call, long result) {
    ++g_checks;
    bool ok = result == -static_cast<long>(Error::BadAddress);
    if (!ok) ++g_failures;
    printf("badsyscall: %-52s = %ld %s\n", call, result, ok ? "(EFAULT) ok" : "ERROR: expected -14 (EFAULT)");
}

template <typename T>
T* at(uptr address) {
    return reinterpret_cast<T*>(address);
}

constexpr uptr kKernel = 0xC0100000;    // the kernel image
constexpr uptr kUnmapped = 0x10000000;  // between the program and the mmap area: nothing there
constexpr uptr kLowPage = 0x00001000;   // below the program: never mapped

const MnemeMemInfo kReadOnlyInfo{};  // in .rodata: the kernel must refuse to write it

}  // namespace

int main() {
    printf(
        "badsyscall: passing kernel, unmapped and read-only pointers to system calls; each must return "
        "-EFAULT and I must not be killed\n");

    char buffer[16] = "0123456789abcde";
    expect_fault("write(1, kernel 0xc0100000, 16)", sys_write(1, at<char>(kKernel), 16));
    expect_fault("write(1, null, 16)", sys_write(1, nullptr, 16));
    expect_fault("write(1, unmapped 0x00001000, 16)", sys_write(1, at<char>(kLowPage), 16));
    expect_fault("write(1, unmapped 0x10000000, 16)", sys_write(1, at<char>(kUnmapped), 16));
    expect_fault("write(1, 0xbffffff0, 64) (runs into the kernel)", sys_write(1, at<char>(0xBFFFFFF0), 64));
    expect_fault("write(1, stack buffer, 0xffffffff) (wraps around)", sys_write(1, buffer, 0xFFFFFFFF));

    const char* good_argv[] = {"hello", nullptr};
    const char* bad_element_argv[] = {"hello", at<const char>(kKernel), nullptr};
    const char* bad_env[] = {"A=1", at<const char>(kUnmapped), nullptr};
    expect_fault("execve(kernel path, argv, envp)", sys_execve(at<const char>(kKernel), good_argv, nullptr));
    expect_fault("execve(unmapped path, argv, envp)", sys_execve(at<const char>(kUnmapped), good_argv, nullptr));
    expect_fault("execve(\"/bin/hello\", kernel argv, envp)",
                 sys_execve("/bin/hello", at<const char* const>(kKernel), nullptr));
    expect_fault("execve(\"/bin/hello\", argv with a kernel string, envp)",
                 sys_execve("/bin/hello", bad_element_argv, nullptr));
    expect_fault("execve(\"/bin/hello\", argv, envp with an unmapped string)",
                 sys_execve("/bin/hello", good_argv, bad_env));
    expect_fault("execve(\"/bin/hello\", argv, unmapped envp)",
                 sys_execve("/bin/hello", good_argv, at<const char* const>(kUnmapped)));

    expect_fault("nanosleep(kernel, null)", sys_nanosleep(at<NanoTime>(kKernel), nullptr));
    expect_fault("nanosleep(unmapped, null)", sys_nanosleep(at<NanoTime>(kUnmapped), nullptr));

    expect_fault("mneme_meminfo(kernel)", sys_mneme_meminfo(at<MnemeMemInfo>(kKernel)));
    expect_fault("mneme_meminfo(null)", sys_mneme_meminfo(nullptr));
    expect_fault("mneme_meminfo(read-only .rodata)", sys_mneme_meminfo(const_cast<MnemeMemInfo*>(&kReadOnlyInfo)));
    // 8 bytes before the end of .bss: the rest of the structure would land past the last mapped page.
    expect_fault("mneme_meminfo(end of .bss - 8) (runs off the data)",
                 sys_mneme_meminfo(at<MnemeMemInfo>(reinterpret_cast<uptr>(_end) - 8)));
    expect_fault("mneme_procinfo(0, kernel)", sys_mneme_procinfo(0, at<MnemeProcInfo>(kKernel)));
    expect_fault("mneme_frame_of(kernel 0xc0100000)", sys_mneme_frame_of(at<void>(kKernel)));
    expect_fault("mneme_frame_of(unmapped 0x10000000)", sys_mneme_frame_of(at<void>(kUnmapped)));

    // waitpid must check where it writes the status. A child that exits at once gives it something to report.
    int child = fork();
    if (child == 0) sys_exit(0);
    if (child < 0) {
        printf("badsyscall: ERROR: fork failed: %s\n", strerror(child));
        ++g_failures;
    } else {
        sleep_ms(20);
        expect_fault("waitpid(child, kernel status, 0)", sys_waitpid(child, at<int>(kKernel), 0));
        int status;
        sys_waitpid(child, &status, 0);  // reap it if the failed call did not
    }

    printf("badsyscall: %d of %d calls returned -EFAULT%s\n", g_checks - g_failures, g_checks,
           g_failures == 0 ? "; still alive" : "");
    return g_failures == 0 ? 0 : 1;
}
