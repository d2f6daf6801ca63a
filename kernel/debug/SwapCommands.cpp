// SwapCommands.cpp: the monitor's `swap` view of page swapping (kernel/swap/Swapper.h).
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/swap/Swapper.h"
#include "libc/rt/String.h"

MONITOR_COMMAND(swap, "swap", "[check | evict PFN]",
                "page swapping: mode, policy, counters, the slot map and the resident frames' A/D bits") {
    if (argc == 1) {
        swapper::print_state();
        return;
    }
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        if (swapper::check(console::sink, nullptr))
            kprintf("swap: every slot reference is an entry or a frame's clean copy; the policy tracks exactly "
                    "the mapped frames\n");
        return;
    }
    u32 pfn = 0;
    if (argc == 3 && strcmp(argv[1], "evict") == 0 && monitor::parse_number(argv[2], pfn)) {
        if (!swapper::active()) {
            kprintf("swapping is off\n");
            return;
        }
        auto evicted = swapper::evict(pfn);
        if (evicted.is_error())
            kprintf("frame 0x%x not evicted: %s (it must be a frame mapped into user space: see `rmap`)\n", pfn,
                    error_string(evicted.error()));
        else
            kprintf("frame 0x%x evicted: its entries now hold a swap slot\n", pfn);
        return;
    }
    kprintf("usage: swap [check | evict PFN]\n");
}
