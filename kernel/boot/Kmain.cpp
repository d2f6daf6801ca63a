// Kmain.cpp: the kernel's first C++ code and the boot sequence.
//
// boot.asm calls kmain(magic, multiboot_info) on the boot stack with paging on (the early tables)
// and interrupts off. Each step below prints one line, so a student reading the serial log sees the
// machine come up in order: console, loader information, GDT/TSS, IDT, PIC, timer.
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pic.h"
#include "arch/i386/Pit.h"
#include "arch/i386/Power.h"
#include "kernel/debug/Bench.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/memmodel/Arena.h"
#include "kernel/dev/AtaDisk.h"
#include "kernel/dev/Console.h"
#include "kernel/proc/Initrd.h"
#include "kernel/debug/KTest.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/boot/Layout.h"
#include "kernel/debug/Monitor.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/mm/PageFault.h"
#include "kernel/mm/KernelPageTables.h"
#include "kernel/mm/Paging.h"
#include "kernel/debug/Panic.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/debug/Symbols.h"
#include "kernel/proc/Syscalls.h"
#include "kernel/debug/TestMode.h"
#include "kernel/debug/Traps.h"
#include "kernel/proc/UserFaults.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"
#include "kernel/swap/Swapper.h"
#include "libc/rt/String.h"

extern "C" void double_fault_task_entry();

namespace {

using Constructor = void (*)();
extern "C" Constructor __init_array_start[], __init_array_end[];

alignas(16) u8 g_double_fault_stack[8192];

void run_global_constructors() {
    for (Constructor* c = __init_array_start; c < __init_array_end; ++c) (*c)();
}


bool start_init(const char* const* argv) {
    const char* envp[] = {"PATH=/bin", nullptr};
    auto init = process::spawn("/bin/init", argv, envp, 0);
    if (init.is_error()) {
        kwarn("init", "cannot start /bin/init: %s", init.error().what());
        return false;
    }
    klog("init", "started /bin/init as pid %d", init.value()->pid);
    return true;
}

void print_loader_information() {
    const char* loader = multiboot::loader_name();
    klog("boot", "loaded by %s", loader ? loader : "a multiboot loader (no name given)");
    klog("boot", "command line: %s", boot_options::raw()[0] ? boot_options::raw() : "(empty)");
    u32 modules = multiboot::module_count();
    klog("boot", "%u module%s", modules, modules == 1 ? "" : "s");
    for (u32 i = 0; i < modules; ++i) {
        const multiboot::Module& m = multiboot::module(i);
        kprintf("    module %u: 0x%08x-0x%08x (%u KiB) %s\n", i, m.start, m.end - 1, (m.end - m.start) / 1024,
                multiboot::module_name(i));
    }
    klog("boot", "memory map:");
    multiboot::print_memory_map();
}

}  // namespace

extern "C" [[noreturn]] void kmain(u32 magic, u32 multiboot_info) {
    run_global_constructors();
    // The GDT first: GS must hold CPU 0's per-CPU segment before the first lock (the console's) is taken.
    gdt::initialize(reinterpret_cast<u32>(g_double_fault_stack + sizeof(g_double_fault_stack)),
                    double_fault_task_entry);
    per_cpu::initialize_bootstrap();
    console::initialize();
    kprintf("\nMneme: a teaching kernel for memory management (i386, built %s %s)\n", __DATE__, __TIME__);
    klog("boot", "kernel image 0x%08x-0x%08x (%u KiB), %u symbols for backtraces",
         reinterpret_cast<u32>(__kernel_start), reinterpret_cast<u32>(__kernel_end) - 1,
         static_cast<unsigned>((__kernel_end - __kernel_start) / 1024), symbols::count());

    bool have_info = multiboot::initialize(magic, multiboot_info);
    boot_options::parse(have_info ? multiboot::command_line() : nullptr);
    const BootOptions& options = boot_options::get();
    panic::set_action(options.panic_halt ? panic::Action::Halt : panic::Action::Exit);
    if (have_info) print_loader_information();

    klog("gdt", "loaded: kernel code 0x%02x, kernel data 0x%02x, user code 0x%02x, user data 0x%02x, TSS 0x%02x",
         gdt::kKernelCode, gdt::kKernelData, gdt::kUserCode, gdt::kUserData, gdt::kTss);
    idt::initialize();
    traps::initialize();
    page_fault::initialize();
    klog("idt", "loaded: 32 exception gates, 16 IRQ gates, system call gate 0x80, double fault on its own TSS");
    pic::initialize(idt::kIrqBase);
    // No handler until the scheduler's: trap_dispatch counts every PIT tick itself (kernel/proc/TrapEntry.cpp).
    pit::initialize(options.hz);
    pic::unmask(pic::kIrqTimer);
    klog("pic", "IRQ 0-15 remapped to vectors %u-%u; timer at %u Hz", idt::kIrqBase, idt::kIrqBase + 15, options.hz);
    console::enable_input();
    cpu::enable_interrupts();

    // Memory: usable ranges from the map, the kernel's page directory (its tables carved from those ranges),
    // then the page allocator over what is left.
    pmm::begin();
    paging::initialize();
    smp::discover(options);  // the firmware's processor tables; a page below 1 MiB for the trampoline if needed
    arena::reserve(options.arena_bytes, static_cast<FitPolicy>(options.fit_policy));
    arena::set_logging(options.arena_log);
    pmm::finish(options.pmm_bitmap ? pmm::Kind::Bitmap : pmm::Kind::Buddy);
    page_tables::initialize();
    kernel_heap::initialize();
    // From here kmain holds the big kernel lock (BigKernelLock.h), as all kernel code does when another CPU
    // may run; each AP halts in its idle loop until a process is ready.
    smp::start_application_processors();
    ata_disk::initialize();  // the swap disk, if one is attached
    swapper::initialize(options);

    // Processes: programs from the initrd, the scheduler on the timer, system calls, faults in ring 3.
    initrd::initialize();
    process::initialize();
    exec::set_default_model(static_cast<MemoryModelKind>(options.memory_model));
    scheduler::initialize(options.quantum);
    syscalls::initialize();
    user_faults::initialize();
    klog("sched", "round-robin, quantum %u ticks (%u ms); up to %u processes", options.quantum,
         options.quantum * 1000 / options.hz, process::kMaxProcesses);

    if (options.bench[0]) {
        if (bench::run_kernel(options.bench)) {
            // ubench (or spin -t) runs alone (no init, no shell): when it ends, nothing is left and run_idle
            // returns.
            const char* const* argv = bench::user_program(options.bench);
            char path[32];
            format_to_buffer(path, sizeof(path), "/bin/%s", argv[0]);
            auto started = process::spawn(path, argv, nullptr, 0);
            if (started.is_error())
                kwarn("bench", "cannot start %s: %s", path, started.error().what());
            else
                scheduler::run_idle();
        }
        power::qemu_exit(power::ExitCode::TestsPassed);
        power::bochs_shutdown();
        power::halt_forever();
    }
    if (options.test[0]) {
        if (test_mode::run_kernel_part(options.test)) {
            const char* argv[] = {"init", test_mode::init_argument(), nullptr};
            if (start_init(argv)) scheduler::run_idle();
            test_mode::user_tests_vanished();
        }
        power::halt_forever();
    }
    if (!options.shell_monitor && initrd::present()) {
        const char* argv[4] = {"init", nullptr, nullptr, nullptr};
        if (options.init[0]) {
            argv[1] = "--run";
            argv[2] = options.init;
        }
        if (start_init(argv)) {
            scheduler::run_idle();
            klog("sched", "no process left to run: starting the kernel monitor");
        }
    }
    monitor::run();
}
