// ArenaCommands.cpp: the monitor's views of the older memory models: `arena` (the arena's map, holes and
// owners, fragmentation), `compact` (slide the segments together now) and `ldt PID` (a process's LDT decoded).
#include "arch/i386/SegmentDescriptor.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/Arena.h"
#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/proc/Process.h"

namespace {

void print_ldt_entry(u32 index, const SegmentDescriptor& d) {
    u16 selector = make_selector(static_cast<u16>(index), true, 3);
    if (d.is_null()) {
        kprintf("  %u  0x%02x  null (the CPU never uses LDT entry 0's selector as a segment)\n", index, selector & ~3u);
        return;
    }
    kprintf("  %u  0x%02x  base 0x%08x  limit 0x%08x  %-20s DPL %u  %s%s%s\n", index, selector, d.base(), d.limit(),
            d.type_name(), d.dpl(), d.is_present() ? "present" : "NOT present",
            d.is_data() && (d.type() & SegmentDescriptor::kTypeExpandDown) ? ", expand-down" : "",
            d.granularity_4k() ? ", 4 KiB granular (G=1)" : ", byte granular (G=0)");
}

}  // namespace

MONITOR_COMMAND(arena, "arena", "", "the arena of the older memory models: a map of segments and holes, fragmentation") {
    arena::print();
}

MONITOR_COMMAND(compact, "compact", "", "compact the arena now: slide every movable segment down, report the moves") {
    if (!arena::is_ready()) {
        kprintf("no arena (boot option arena=0, or no memory for it)\n");
        return;
    }
    arena::compact();
}

MONITOR_COMMAND(ldt, "ldt", "PID", "a process's local descriptor table decoded (older memory models)") {
    u32 pid = 0;
    if (argc != 2 || !monitor::parse_number(argv[1], pid)) {
        kprintf("usage: ldt PID\n");
        return;
    }
    Process* p = process::find(static_cast<i32>(pid));
    if (!p || !p->memory) {
        kprintf("no live process %u\n", pid);
        return;
    }
    if (p->memory->model() != MemoryModelKind::BaseBounds && p->memory->model() != MemoryModelKind::Segments) {
        kprintf("pid %u (%s) runs under %s: it has no LDT (its selectors are the GDT's flat user segments, CS 0x%02x, "
                "DS 0x%02x)\n",
                pid, p->name, p->memory->name(), p->memory->user_code_selector(), p->memory->user_data_selector());
        return;
    }
    auto* memory = static_cast<SegmentedMemory*>(p->memory);
    kprintf("pid %u (%s), %s: LDT at 0x%08x, %u entries; it runs with CS 0x%02x, DS = ES = SS 0x%02x (TI=1: the LDT, "
            "RPL 3)\n",
            pid, p->name, memory->name(), reinterpret_cast<u32>(memory->ldt()), memory->ldt_entries(),
            memory->user_code_selector(), memory->user_data_selector());
    for (u32 i = 0; i < memory->ldt_entries(); ++i) print_ldt_entry(i, memory->ldt()[i]);
    if (memory->code())
        kprintf("  code: %s, arena offset 0x%06x, %u KiB, shared by %u process%s\n", memory->code()->name(),
                memory->code()->offset(), memory->code()->size() / 1024, memory->code()->sharers(),
                memory->code()->sharers() == 1 ? "" : "es");
    kprintf("  %s arena offset 0x%06x, %u KiB; offset X is linear 0x%08x + X, physical 0x%08x + X; moved %u time%s\n",
            memory->code() ? "data:" : "",
            memory->arena_offset(), memory->size() / 1024, memory->base(), arena::physical_base() + memory->arena_offset(),
            memory->moves(), memory->moves() == 1 ? "" : "s");
}
