// KTest.h: in-kernel tests that run on the real (emulated) hardware.
//
//   KTEST(paging, write_to_read_only_page_faults) {
//       EXPECT_EQ(value, 42u);
//   }
//
// Each KTEST puts a pointer to its descriptor in the .ktests section; the linker script brackets the
// section with __ktests_start/__ktests_end, so the runner finds every test without a registry to keep up
// to date. `test=all` or `test=SUITE[,SUITE|,SUITE.NAME]` on the kernel command line runs them: one line
// per test ("ok   suite.name" or "FAIL suite.name: ..."), a summary, then QEMU exits through
// isa-debug-exit with the pass or fail status (arch/i386/Power.h).
//
// EXPECT_* records a failure and goes on; ASSERT_* also returns from the test.
#pragma once

#include <type_traits>

#include "libc/base/Types.h"

struct KTestCase {
    const char* suite;
    const char* name;
    void (*function)();
    const char* file;
    int line;
};

namespace ktest {

// Runs the tests selected by `selection` ("all" or a comma-separated list of suites or suite.name).
// Returns true when at least one test ran and none failed.
bool run(const char* selection);
// For the monitor: prints suites and test counts.
void list();

// Failure reporting used by the macros.
void report_failure(const char* expression, const char* file, int line);
void report_compare_failure(const char* macro, const char* left_text, const char* right_text, u64 left, u64 right,
                            const char* file, int line);
bool current_test_failed();

template <typename T>
u64 as_u64(T value) {
    if constexpr (std::is_pointer_v<T>)
        return reinterpret_cast<uptr>(value);
    else
        return static_cast<u64>(value);
}

}  // namespace ktest

#define KTEST_CONCAT_(a, b) a##b
#define KTEST(suite, name)                                                                                           \
    static void KTEST_CONCAT_(ktest_fn_##suite##_, name)();                                                          \
    static const KTestCase KTEST_CONCAT_(ktest_case_##suite##_, name) = {                                            \
        #suite, #name, KTEST_CONCAT_(ktest_fn_##suite##_, name), __FILE__, __LINE__};                                \
    [[gnu::used, gnu::section(".ktests")]] static const KTestCase* const KTEST_CONCAT_(ktest_ptr_##suite##_, name) = \
        &KTEST_CONCAT_(ktest_case_##suite##_, name);                                                                 \
    static void KTEST_CONCAT_(ktest_fn_##suite##_, name)()

#define EXPECT(expression)                                                         \
    do {                                                                           \
        if (!(expression)) ktest::report_failure(#expression, __FILE__, __LINE__); \
    } while (0)

#define ASSERT(expression)                                          \
    do {                                                            \
        if (!(expression)) {                                        \
            ktest::report_failure(#expression, __FILE__, __LINE__); \
            return;                                                 \
        }                                                           \
    } while (0)

#define KTEST_COMPARE_(macro, op, a, b, on_fail)                                                                \
    do {                                                                                                        \
        const auto _left = (a);                                                                                 \
        const auto _right = (b);                                                                                \
        if (!(_left op _right)) {                                                                               \
            ktest::report_compare_failure(macro, #a, #b, ktest::as_u64(_left), ktest::as_u64(_right), __FILE__, \
                                          __LINE__);                                                            \
            on_fail;                                                                                            \
        }                                                                                                       \
    } while (0)

#define EXPECT_EQ(a, b) KTEST_COMPARE_("EXPECT_EQ", ==, a, b, (void)0)
#define EXPECT_NE(a, b) KTEST_COMPARE_("EXPECT_NE", !=, a, b, (void)0)
#define EXPECT_LT(a, b) KTEST_COMPARE_("EXPECT_LT", <, a, b, (void)0)
#define EXPECT_LE(a, b) KTEST_COMPARE_("EXPECT_LE", <=, a, b, (void)0)
#define EXPECT_GT(a, b) KTEST_COMPARE_("EXPECT_GT", >, a, b, (void)0)
#define EXPECT_GE(a, b) KTEST_COMPARE_("EXPECT_GE", >=, a, b, (void)0)
#define ASSERT_EQ(a, b) KTEST_COMPARE_("ASSERT_EQ", ==, a, b, return )
#define ASSERT_NE(a, b) KTEST_COMPARE_("ASSERT_NE", !=, a, b, return )
#define ASSERT_LT(a, b) KTEST_COMPARE_("ASSERT_LT", <, a, b, return )
#define ASSERT_LE(a, b) KTEST_COMPARE_("ASSERT_LE", <=, a, b, return )
#define ASSERT_GT(a, b) KTEST_COMPARE_("ASSERT_GT", >, a, b, return )
#define ASSERT_GE(a, b) KTEST_COMPARE_("ASSERT_GE", >=, a, b, return )
