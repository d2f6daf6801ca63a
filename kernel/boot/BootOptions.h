// BootOptions.h: the kernel command line, parsed into typed options.
//
// The command line is a list of key=value words (GRUB's `multiboot` line, QEMU's -append). The first word
// is the kernel's own path when it has no '=' (GRUB and QEMU both pass it). Each key has a parser and a
// default; an unknown key or a bad value prints a warning that lists what is accepted, and boot goes on
// with the default. `help` on the monitor's `options` command prints the same table.
#pragma once

#include "libc/base/Types.h"

struct BootOptions {
    // test=all | SUITE[,SUITE...]: run the in-kernel tests (and later the user-level suite), then exit QEMU.
    char test[200] = "";
    // hz=N: the PIT tick rate.
    u32 hz = 100;
    // panic=exit | halt: what a panic does after its report.
    bool panic_halt = false;
    // pmm=buddy | bitmap: the physical page allocator.
    bool pmm_bitmap = false;
    // quantum=N: timer ticks a process runs before the next one gets the CPU.
    u32 quantum = 5;
    // init=prog[,prog...]: programs init runs (in order) before the shell.
    char init[96] = "";
    // shell=user | monitor: end boot at the user shell (init) or at the kernel monitor.
    bool shell_monitor = false;
    // bench=kernel | all: run the instruction-count benchmarks and exit QEMU.
    char bench[16] = "";
    // diskfault=LBA: the sector the test scenario's QEMU (blkdebug) fails once; enables disk_fault tests.
    u32 disk_fault_lba = kNoDiskFault;
    static constexpr u32 kNoDiskFault = 0xFFFFFFFF;
    // swap=off | page | process: how the kernel swaps when memory runs short (kernel/swap/Swapper.h's Mode).
    u8 swap_mode = 1;  // page: on whenever a disk is on ide0
    // policy=fifo | clock | nru | aging | random: the page replacement policy (mm/swap/Policies.h's PolicyKind).
    u8 swap_policy = 1;
    // userframes=N: frames user pages may hold before the swapper evicts (0: all but a reserve).
    u32 user_frames = 0;
    // memory=paging | static | base-bounds: the memory model processes run under unless their environment
    // says MNEME_MEMORY=NAME (kernel/memmodel/MemoryModel.h's MemoryModelKind).
    u8 memory_model = 0;
    // arena=SIZE (K or M suffix; 0: none): the physical memory the older models place processes in. Unset
    // (kArenaDefault): 2 MiB on a machine with 12 MiB or more, none below (kernel/memmodel/Arena.cpp).
    static constexpr u32 kArenaDefault = ~0u;
    u32 arena_bytes = kArenaDefault;
    // fit=first | next | best | worst: which hole of the arena a process goes into (mm/arena/FitPolicy.h).
    u8 fit_policy = 0;
    // arenalog=0 | 1: one machine-readable line per arena event (kernel/memmodel/Arena.h; make arena-report).
    bool arena_log = false;
    // cpus=N: use at most N CPUs (1: never start the others); 0, the default: every CPU the firmware lists.
    u32 cpus = 0;
    static constexpr u32 kMaxCpus = 16;  // CpuList::kMaxCpus (format/CpuTables.h)
    // apdf=0 | 1: each application processor, before it says it is online, overflows its kernel stack into a
    // double fault under a recovery point and carries on (kernel/smp/ApStartup.cpp; the smp tests check it).
    bool ap_double_fault = false;
    // testcpu=N: the in-kernel tests run on CPU N (an application processor, smp::run_on) instead of CPU 0.
    u32 test_cpu = 0;
};

namespace boot_options {

// Parses `command_line` (may be null) into the kernel's options; prints warnings for bad words.
void parse(const char* command_line);
// The parser itself, into `options` (reset to the defaults first). Returns the number of rejected words.
u32 parse_into(const char* command_line, BootOptions& options);
const BootOptions& get();
// The command line as given, for the boot log.
const char* raw();
// Prints every accepted key with its accepted values and default.
void print_help();

}  // namespace boot_options
