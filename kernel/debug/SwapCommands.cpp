// SwapCommands.cpp: the monitor's `swap` view of page swapping (kernel/swap/Swapper.h).
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/swap/FaultTrace.h"
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

namespace {

struct Printing {
    u32 on_line = 0;
    u32 majors = 0;
};

void print_fault(const fault_trace::Fault& fault, void* context) {
    auto& printing = *static_cast<Printing*>(context);
    kprintf("%s%u%s", printing.on_line ? "," : "  ", fault.page, fault.write ? "w" : "");
    printing.majors += fault.major;
    if (++printing.on_line == 16) {
        kprintf("\n");
        printing.on_line = 0;
    }
}

}  // namespace

MONITOR_COMMAND(faults, "faults", "[PID]",
                "the last page faults (of one process) as a reference string for mneme-replay") {
    u32 pid = 0;
    if (argc > 2 || (argc == 2 && !monitor::parse_number(argv[1], pid))) {
        kprintf("usage: faults [PID]\n");
        return;
    }
    kprintf("page numbers faulted on, oldest first (w: a write); %u faults since boot, the last %u kept:\n",
            fault_trace::recorded(), fault_trace::kCapacity);
    Printing printing;
    u32 shown = fault_trace::for_each(static_cast<i32>(pid), print_fault, &printing);
    if (printing.on_line) kprintf("\n");
    kprintf("%u faults%s, %u of them major (read back from swap). Paste the string into mneme-replay, e.g.\n"
            "  build/host/mneme-replay --policy all --frames 1-64 --summary 'STRING'\n",
            shown, pid ? " of that process" : "", printing.majors);
}
