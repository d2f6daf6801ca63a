// TestMode.cpp: splitting the selection between the kernel and init, and the final verdict.
#include "kernel/debug/TestMode.h"

#include "arch/i386/Power.h"
#include "kernel/debug/KTest.h"
#include "kernel/dev/Console.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/smp/Smp.h"
#include "kernel/swap/SwapArea.h"
#include "kernel/swap/Swapper.h"
#include "libc/rt/String.h"

namespace test_mode {
namespace {

char g_kernel_selection[256];
char g_init_argument[264];
bool g_kernel_passed = true;
u32 g_kernel_ran = 0;

// Leaves the verdict with QEMU's isa-debug-exit device. Without one (Bochs, GRUB on a real PC) the verdict
// goes to the console, where tools/bochs.sh reads it, and then Bochs is told to end the simulation.
[[noreturn]] void finish(bool passed) {
    power::qemu_exit(passed ? power::ExitCode::TestsPassed : power::ExitCode::TestsFailed);
    kprintf("test: verdict: %s (no isa-debug-exit device to report through); halting.\n",
            passed ? "PASSED" : "FAILED");
    power::bochs_shutdown();
    power::halt_forever();
}

}  // namespace

// The in-kernel suites, on CPU 0 or, with testcpu=N, on that application processor (smp::run_on): the
// same tests on another CPU's GS, TSS, IDT, per-CPU caches and local APIC timer.
void run_kernel_suites() {
    u32 cpu = boot_options::get().test_cpu;
    auto run = [](void*) { g_kernel_passed = ktest::run(g_kernel_selection); };
    if (cpu == 0) {
        run(nullptr);
        return;
    }
    kprintf("test: running the in-kernel tests on cpu%u (testcpu=%u)\n", cpu, cpu);
    if (!smp::run_on(cpu, run, nullptr)) {
        kprintf("FAIL test: testcpu=%u: there is no CPU %u online (boot with -smp %u or more)\n", cpu, cpu, cpu + 1);
        g_kernel_passed = false;
    }
}

bool run_kernel_part(const char* selection) {
    g_kernel_selection[0] = '\0';
    char user_items[256] = "";
    bool user = false;
    bool whole_user_suite = false;
    const char* p = selection;
    while (*p) {
        const char* start = p;
        while (*p && *p != ',') ++p;
        u32 length = static_cast<u32>(p - start);
        char item[64];
        if (length >= sizeof(item)) length = sizeof(item) - 1;
        memcpy(item, start, length);
        item[length] = '\0';
        if (*p == ',') ++p;
        if (length == 0) continue;  // "a,,b": an empty item names nothing; an all-empty selection fails below
        bool all = strcmp(item, "all") == 0;
        // "kernel": every in-kernel suite, no user-level tests.
        if (strcmp(item, "kernel") == 0) strcpy(item, "all");
        bool is_user = strcmp(item, "user") == 0 || strncmp(item, "user.", 5) == 0;
        if (all || is_user) user = true;
        if (all || strcmp(item, "user") == 0) whole_user_suite = true;
        if (is_user && strcmp(item, "user") != 0) {
            if (user_items[0]) strcat(user_items, ",");
            strcat(user_items, item);
        }
        if (!is_user) {
            if (g_kernel_selection[0]) strcat(g_kernel_selection, ",");
            strcat(g_kernel_selection, item);
        }
    }
    // init runs a subset only when every user item named a test: `all` or a bare `user` means the whole suite.
    if (user_items[0] && !whole_user_suite)
        format_to_buffer(g_init_argument, sizeof(g_init_argument), "--test=%s", user_items);
    else
        format_to_buffer(g_init_argument, sizeof(g_init_argument), "--test");

    if (!user && !g_kernel_selection[0]) {
        // test= with nothing in it (or only commas) would otherwise run nothing and report success.
        kprintf("test: the selection '%s' names no tests; use test=all, test=kernel, test=user or suite and "
                "test names separated by commas (docs/testing.md)\n",
                selection);
        finish(false);
    }
    if (g_kernel_selection[0]) {
        run_kernel_suites();
        g_kernel_ran = 1;
    }
    if (user) return true;
    finish(g_kernel_passed);
}

const char* init_argument() { return g_init_argument; }

void finish_user_tests(u32 passed, u32 failed) {
    kprintf("test: user-level suite %u passed, %u failed%s\n", passed, failed,
            g_kernel_ran ? (g_kernel_passed ? "; kernel suites passed" : "; kernel suites FAILED") : "");
    // After every fork, exit and copy-on-write of the suite, the frame table must still be exact.
    u32 spaces = 0;
    PagedMemory::for_each([&](PagedMemory&) { ++spaces; });
    bool frame_table_exact = PagedMemory::check_frame_table(console::sink, nullptr);
    kprintf("%s frame table against the page tables of the %u live address spaces\n",
            frame_table_exact ? "ok  " : "FAIL", spaces);
    // Every swap slot in use is named by an entry of a live space or a frame's clean copy, with the right
    // reference count: none leaked by exits, forks, evictions or disk errors.
    bool swap_exact = true;
    if (swapper::active()) {
        swap_exact = swapper::check(console::sink, nullptr);
        const SwapSlotMap& slots = swap_area::slots();
        kprintf("%s swap slots: %u in use (%u pages only on the disk), %u bad, each named by its entries and frames\n",
                swap_exact ? "ok  " : "FAIL", slots.used_slots(), swapper::swapped_pages(), slots.bad_slots());
    }
    finish(g_kernel_passed && failed == 0 && passed > 0 && frame_table_exact && swap_exact);
}

void user_tests_vanished() {
    kprintf("FAIL user: init ended (or could not start) before reporting the user-level results\n");
    finish(false);
}

}  // namespace test_mode
