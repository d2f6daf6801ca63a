// KTest.cpp: the in-kernel test runner (see KTest.h for the protocol).
#include "kernel/debug/KTest.h"

#include "kernel/debug/Panic.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

extern "C" const KTestCase* const __ktests_start[];
extern "C" const KTestCase* const __ktests_end[];

namespace ktest {
namespace {

const KTestCase* g_current = nullptr;
bool g_current_failed = false;

size_t test_count() { return static_cast<size_t>(__ktests_end - __ktests_start); }

// The compiler emits a file's tests in no promised order: run them sorted by file and line, the order a
// reader sees them in.
constexpr size_t kMaxTests = 1024;
const KTestCase* g_ordered[kMaxTests];
size_t g_ordered_count = 0;

bool comes_before(const KTestCase& a, const KTestCase& b) {
    int by_file = strcmp(a.file, b.file);
    return by_file != 0 ? by_file < 0 : a.line < b.line;
}

void sort_tests() {
    if (g_ordered_count) return;
    for (size_t i = 0; i < test_count() && i < kMaxTests; ++i) {
        const KTestCase* test = __ktests_start[i];
        size_t j = g_ordered_count++;
        for (; j > 0 && comes_before(*test, *g_ordered[j - 1]); --j) g_ordered[j] = g_ordered[j - 1];
        g_ordered[j] = test;
    }
}

// Does `item` (one comma-separated word of the selection) name this test's suite or the test itself?
bool item_matches(const char* item, size_t length, const KTestCase& test) {
    if (length == 3 && strncmp(item, "all", 3) == 0) return true;
    size_t suite_length = strlen(test.suite);
    if (length == suite_length && strncmp(item, test.suite, length) == 0) return true;
    size_t name_length = strlen(test.name);
    return length == suite_length + 1 + name_length && strncmp(item, test.suite, suite_length) == 0 &&
           item[suite_length] == '.' && strncmp(item + suite_length + 1, test.name, name_length) == 0;
}

template <typename Visitor>
void for_each_item(const char* selection, Visitor visit) {
    const char* p = selection;
    while (*p) {
        const char* start = p;
        while (*p && *p != ',') ++p;
        if (p > start) visit(start, static_cast<size_t>(p - start));
        if (*p == ',') ++p;
    }
}

bool is_selected(const char* selection, const KTestCase& test) {
    bool selected = false;
    for_each_item(selection, [&](const char* item, size_t length) {
        if (item_matches(item, length, test)) selected = true;
    });
    return selected;
}

void begin_failure_line() {
    if (!g_current_failed)
        kprintf("FAIL %s.%s: ", g_current->suite, g_current->name);
    else
        kprintf("     %s.%s: ", g_current->suite, g_current->name);
    g_current_failed = true;
}

}  // namespace

void report_failure(const char* expression, const char* file, int line) {
    begin_failure_line();
    kprintf("EXPECT(%s) is false at %s:%d\n", expression, file, line);
}

void report_compare_failure(const char* macro, const char* left_text, const char* right_text, u64 left, u64 right,
                            const char* file, int line) {
    begin_failure_line();
    kprintf("%s(%s, %s) failed: %llu (0x%llx) vs %llu (0x%llx) at %s:%d\n", macro, left_text, right_text,
            static_cast<unsigned long long>(left), static_cast<unsigned long long>(left),
            static_cast<unsigned long long>(right), static_cast<unsigned long long>(right), file, line);
}

bool current_test_failed() { return g_current_failed; }

bool run(const char* selection) {
    sort_tests();
    // Every word of the selection must match something: a misspelt suite is an error, not zero tests.
    bool all_known = true;
    for_each_item(selection, [&](const char* item, size_t length) {
        bool known = false;
        for (size_t i = 0; i < test_count(); ++i)
            if (item_matches(item, length, *__ktests_start[i])) known = true;
        if (!known) {
            kprintf("ktest: no test or suite named '%.*s'\n", static_cast<int>(length), item);
            all_known = false;
        }
    });
    if (!all_known) {
        list();
        return false;
    }

    size_t selected = 0;
    for (size_t i = 0; i < test_count(); ++i)
        if (is_selected(selection, *__ktests_start[i])) ++selected;
    kprintf("ktest: running %u of %u in-kernel tests (test=%s)\n", static_cast<unsigned>(selected),
            static_cast<unsigned>(test_count()), selection);

    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < g_ordered_count; ++i) {
        const KTestCase& test = *g_ordered[i];
        if (!is_selected(selection, test)) continue;
        g_current = &test;
        g_current_failed = false;
        panic::set_current_test(test.suite, test.name);
        test.function();
        panic::set_current_test(nullptr, nullptr);
        if (g_current_failed) {
            ++failed;
        } else {
            ++passed;
            kprintf("ok   %s.%s\n", test.suite, test.name);
        }
    }
    g_current = nullptr;
    kprintf("ktest: %u passed, %u failed\n", passed, failed);
    return failed == 0 && passed > 0;
}

void list() {
    sort_tests();
    kprintf("In-kernel test suites (boot with test=all or test=SUITE[,SUITE]):\n");
    for (size_t i = 0; i < g_ordered_count; ++i) {
        const KTestCase& test = *g_ordered[i];
        bool first_of_suite = true;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(g_ordered[j]->suite, test.suite) == 0) first_of_suite = false;
        if (!first_of_suite) continue;
        unsigned count = 0;
        for (size_t j = 0; j < test_count(); ++j)
            if (strcmp(__ktests_start[j]->suite, test.suite) == 0) ++count;
        kprintf("  %-16s %u tests\n", test.suite, count);
    }
}

}  // namespace ktest
