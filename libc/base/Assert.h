// Assert.h: broken invariants end the program with a message.
//
// `mneme_panic` is a link-time hook: the kernel (kernel/debug/Panic.cpp), user programs (libc/user) and host
// binaries (tests/support/HostPanic.cpp) each provide one. Code in mm/ and libc/ calls it and so never
// needs to know where it runs; a host death test (EXPECT_DEATH) sees the message on stderr.
#pragma once

[[noreturn]] void mneme_panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

// VERIFY(expr): an invariant that must hold in every build. On failure: "VERIFY(expr) failed at file:line".
#define VERIFY(expr)                                                              \
    do {                                                                          \
        if (!(expr)) [[unlikely]]                                                 \
            mneme_panic("VERIFY(%s) failed at %s:%d", #expr, __FILE__, __LINE__); \
    } while (0)

#define VERIFY_NOT_REACHED() mneme_panic("VERIFY_NOT_REACHED at %s:%d", __FILE__, __LINE__)
