// Process.cpp: creating processes (spawn, fork), ending them (exit, kill, faults) and reaping them (wait).
#include "kernel/proc/Process.h"

#include "kernel/mm/Tlb.h"

#include "arch/i386/Context.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/mm/Paging.h"
#include "kernel/proc/Exec.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/swap/SwapArea.h"
#include "kernel/swap/Swapper.h"
#include "libc/rt/String.h"
#include "mm/heap/SlabCache.h"

#include <new>

namespace process {
namespace {

// The table holds pointers; the process control blocks themselves come from the kernel heap's "process"
// slab cache (created at boot), the classic use of a slab cache: objects of one type, often made and freed.
Process* g_table[kMaxProcesses];
kernel_heap::ObjectCache* g_cache = nullptr;
i32 g_next_pid = 1;
u32 g_count = 0;

// A fresh control block in a free slot; null when the table is full or the heap is out of memory.
Process* allocate_slot() {
    for (Process*& slot : g_table) {
        if (slot) continue;
        void* memory = kernel_heap::cache_allocate(g_cache);
        if (!memory) return nullptr;
        slot = new (memory) Process();
        return slot;
    }
    return nullptr;
}

void free_slot(Process* p) {
    for (Process*& slot : g_table) {
        if (slot != p) continue;
        p->~Process();
        kernel_heap::cache_free(g_cache, p);
        slot = nullptr;
        return;
    }
}

template <typename Visitor>
void for_each_process(Visitor visit) {
    for (Process* p : g_table)
        if (p) visit(*p);
}

void set_name(Process& p, const char* path) {
    const char* base = strrchr(path, '/');
    base = base ? base + 1 : path;
    strncpy(p.name, base, sizeof(p.name) - 1);
    p.name[sizeof(p.name) - 1] = '\0';
}

// Puts a TrapFrame for the first return to user mode at the top of the process's kernel stack, and under it
// the context switch_context pops: four zero registers and first_return_to_user as the return address.
void build_initial_context(Process& p, const TrapFrame& frame) {
    u32 top = p.kernel_stack.top();
    auto* trap = reinterpret_cast<TrapFrame*>(top - sizeof(TrapFrame));
    *trap = frame;
    auto* context = reinterpret_cast<InitialContext*>(reinterpret_cast<u32>(trap) - sizeof(InitialContext));
    *context = InitialContext{0, 0, 0, 0, reinterpret_cast<u32>(&first_return_to_user)};
    p.saved_esp = reinterpret_cast<u32>(context);
    p.trap_frame = trap;
}

// The first return to user mode: the selectors are the memory model's (the flat user segments of the GDT, or
// the process's LDT under base and bounds).
TrapFrame user_frame(u32 entry, u32 stack_pointer, const MemoryModel& memory) {
    TrapFrame f{};
    f.ds = f.es = f.fs = f.gs = memory.user_data_selector();
    f.eip = entry;
    f.cs = memory.user_code_selector();
    f.eflags = 0x202;  // IF: interrupts on in user mode; bit 1 is reserved and reads as one
    f.user_esp = stack_pointer;
    f.user_ss = memory.user_data_selector();
    return f;
}

Process* init_process() { return find(kInitPid); }

// Children of `p` become children of init; init is woken if one of them has already ended.
void reparent_children(Process& p) {
    Process* init = init_process();
    for_each_process([&](Process& child) {
        if (child.parent != p.pid) return;
        child.parent = init ? kInitPid : 0;
        if (child.state == ProcessState::Zombie && init) init->child_exit.wake_all();
    });
}

// Memory freed, children handed on, parent told: what remains is a zombie holding its exit status.
// A process running on another CPU cannot lose its memory under that CPU's feet: it is marked, and that CPU
// is interrupted, so the process ends itself there at once (at the wake-up IPI, or its next entry into the
// kernel), by this same function.
bool running_elsewhere(const Process& p) { return p.state == ProcessState::Running && &p != current(); }

void terminate(Process& p, i32 wait_status) {
    if (running_elsewhere(p)) {
        p.kill_pending = true;
        p.kill_signal = wait_status;
        scheduler::kick(p.cpu);
        return;
    }
    if (p.pid == console::foreground()) console::set_foreground(0);  // a later Ctrl-C has nobody to end
    // The CPU must not be using the memory about to be freed: run on the kernel's own directory meanwhile.
    if (&p == current()) tlb::load_directory(paging::kernel_directory());
    scheduler::remove(&p);
    if (p.memory) p.page_faults_at_exit = p.memory->page_faults();
    delete p.memory;
    p.memory = nullptr;
    reparent_children(p);
    p.state = ProcessState::Zombie;
    p.wait_status = wait_status;
    Process* parent = find(p.parent);
    if (parent) parent->child_exit.wake_all();
    if (!parent) {
        // Nobody will reap it (init itself, or a process started before init): free the slot now, unless it
        // is the one running (its kernel stack is in use until the switch; the idle loop collects it).
        if (&p != current()) {
            p.kernel_stack.release();
            --g_count;
            free_slot(&p);
        }
    }
}

// The two failures spawn and fork share, in the same words (made in place: see ExplainedError).
constexpr const char* kTableFull = "the process table is full (%u processes)";
constexpr const char* kNoKernelStack = "%s for a kernel stack";

void reap(Process& p) {
    p.kernel_stack.release();
    --g_count;
    free_slot(&p);
}

}  // namespace

Process* current() { return scheduler::current(); }

void initialize() {
    SlabCacheConfig config;
    config.name = "process";
    config.object_size = sizeof(Process);
    config.alignment = alignof(Process);
    g_cache = kernel_heap::create_cache(config);
    if (!g_cache) mneme_panic("process: cannot create the process cache");
    swapper::set_out_of_memory_handler(kill_largest_for_memory);
    swapper::set_roll_out_handler(roll_out_one);
    arena::set_roll_out_handler(roll_out_of_arena);
}

namespace {
Process* g_rolling_in = nullptr;  // never chosen to roll out while it is being rolled in

// The roll-out rule (Tanenbaum, Modern Operating Systems 3.2.2, and the course notes): a blocked process
// before a ready one (it will not need its memory soon), then the one with the most pages in memory (the
// most room for one move), then the one that ran longest ago.
bool better_victim(Process* candidate, u32 pages, Process* best, u32 best_pages) {
    if (!best) return true;
    bool blocked = candidate->state != ProcessState::Ready, best_blocked = best->state != ProcessState::Ready;
    if (blocked != best_blocked) return blocked;
    if (pages != best_pages) return pages > best_pages;
    return candidate->last_ran < best->last_ran;
}
}  // namespace

bool roll_out_one() {
    Process* victim = nullptr;
    u32 victim_pages = 0;
    for (Process* p : g_table) {
        if (!p || !p->memory || !p->memory->as_paged() || p == current() || p == g_rolling_in) continue;
        if (p->state == ProcessState::Running || p->state == ProcessState::Zombie) continue;
        u32 pages = p->memory->statistics().resident_pages;
        if (pages == 0) continue;
        if (better_victim(p, pages, victim, victim_pages)) victim = p, victim_pages = pages;
    }
    if (!victim) return false;
    swapper::RollResult moved = swapper::roll_out(*victim->memory->as_paged());
    if (moved.pages == 0) return false;
    victim->rolled_out = true;
    victim->rolled_out_at = pit::ticks();
    kprintf("[swap] rolled out pid %d (%s, %s): %u pages (%u written, %u clean) in %u.%03u ms\n", victim->pid,
            victim->name, victim->state == ProcessState::Ready ? "ready" : "blocked", moved.pages, moved.writes,
            moved.pages - moved.writes, moved.us / 1000, moved.us % 1000);
    return true;
}

void roll_in_if_out(Process* p) {
    if (!p->rolled_out || !p->memory || !p->memory->as_paged()) return;
    p->rolled_out = false;
    g_rolling_in = p;
    swapper::RollResult moved = swapper::roll_in(*p->memory->as_paged());
    g_rolling_in = nullptr;
    kprintf("[swap] rolled in pid %d (%s): %u pages in %u.%03u ms\n", p->pid, p->name, moved.pages, moved.us / 1000,
            moved.us % 1000);
}

bool roll_out_of_arena(u32 bytes, const char** why_not) {
    if (!swap_area::ready()) {
        *why_not = "there is no swap disk to roll one out to (make run attaches one)";
        return false;
    }
    Process* victim = nullptr;
    u32 victim_pages = 0;
    for (Process* p : g_table) {
        if (!p || !p->memory || !p->memory->as_segmented() || p == current() || p == g_rolling_in) continue;
        if (!p->memory->as_segmented()->can_roll_out()) continue;
        if (p->state == ProcessState::Running || p->state == ProcessState::Zombie) continue;
        u32 pages = p->memory->as_segmented()->size() / kPageSize;
        if (better_victim(p, pages, victim, victim_pages)) victim = p, victim_pages = pages;
    }
    if (!victim) {
        *why_not = "no other process of base-bounds or segments is in the arena (static ones cannot move)";
        return false;
    }
    auto rolled = victim->memory->as_segmented()->roll_out();
    if (rolled.is_error()) {
        kprintf("[arena] cannot roll out pid %d (%s): %s\n", victim->pid, victim->name, rolled.error().what());
        *why_not = "rolling one out to the swap disk failed";
        return false;
    }
    victim->rolled_out = true;
    victim->rolled_out_at = pit::ticks();
    u32 kib = rolled.value().bytes / 1024, us = rolled.value().us;
    kprintf("[arena] rolled out pid %d (%s, %s) to make room for %u KiB: %u KiB to the swap disk in %u.%03u ms\n",
            victim->pid, victim->name, victim->state == ProcessState::Ready ? "ready" : "blocked", bytes / 1024, kib,
            us / 1000, us % 1000);
    return true;
}

bool roll_into_arena(Process* p) {
    SegmentedMemory* memory = p->memory ? p->memory->as_segmented() : nullptr;
    if (!memory || !memory->rolled_out() || p->kill_pending) return true;
    g_rolling_in = p;
    auto rolled = memory->roll_in();
    g_rolling_in = nullptr;
    if (rolled.is_error() && rolled.error().code != Error::IO) {
        // No room even after compaction and rolling others out: it stays out, and waits its turn again.
        p->rolled_out_at = pit::ticks();
        kprintf("[arena] pid %d (%s) stays rolled out: %s\n", p->pid, p->name, rolled.error().what());
        return false;
    }
    p->rolled_out = false;
    if (rolled.is_error()) {
        kprintf("[arena] pid %d (%s) lost its memory rolling in (%s): killed\n", p->pid, p->name,
                rolled.error().what());
        p->kill_pending = true;
        p->kill_signal = kSignalKill;
        return true;
    }
    u32 us = rolled.value().us;
    kprintf("[arena] rolled in pid %d (%s): %u KiB at arena offset 0x%06x in %u.%03u ms\n", p->pid, p->name,
            rolled.value().bytes / 1024, memory->arena_offset(), us / 1000, us % 1000);
    return true;
}

bool kill_largest_for_memory() {
    // Not during a roll-in: it runs inside the scheduler's switch, on the kernel stack and address space of
    // the process leaving the CPU, which must not be ended there. The roll-in stops short instead, and the
    // rest of its pages come back by faults, where this can act.
    if (g_rolling_in) return false;
    Process* largest = nullptr;
    u32 largest_pages = 0;
    for (Process* p : g_table) {
        // One running on another CPU would end only later (terminate): no memory now.
        if (!p || !p->memory || p->pid == kInitPid || running_elsewhere(*p)) continue;
        MemoryStatistics s = p->memory->statistics();
        u32 pages = s.resident_pages + s.swapped_pages;
        if (pages > largest_pages) largest = p, largest_pages = pages;
    }
    if (!largest || largest == current()) return false;
    kprintf("[kernel] out of memory and swap: killed pid %d (%s), the largest process (%u pages in memory and "
            "swap)\n",
            largest->pid, largest->name, largest_pages);
    terminate(*largest, kSignalKill);
    return true;
}

Process* find(i32 pid) {
    for (Process* p : g_table)
        if (p && p->pid == pid) return p;
    return nullptr;
}

Process* slot(u32 index) { return index < kMaxProcesses ? g_table[index] : nullptr; }
u32 count() { return g_count; }

ErrorOr<Process*, ExplainedError> spawn(const char* path, const char* const* argv, const char* const* envp,
                                        i32 parent) {
    using Result = ErrorOr<Process*, ExplainedError>;
    Process* p = allocate_slot();
    if (!p) return Result(Error::TryAgain, kTableFull, kMaxProcesses);
    static exec::Arguments arguments;  // one exec at a time: the kernel is not preemptible
    arguments = exec::Arguments{};
    bool too_big = false;
    for (u32 i = 0; argv && argv[i]; ++i) too_big |= arguments.add_argument(argv[i]).is_error();
    for (u32 i = 0; envp && envp[i]; ++i) too_big |= arguments.add_environment(envp[i]).is_error();
    if (too_big) {
        free_slot(p);
        return Result(Error::TooBig, "arguments and environment exceed %u bytes or %u strings", exec::kArgumentBytes,
                      exec::kMaxArguments);
    }
    auto stack = KernelStack::allocate();
    if (stack.is_error()) {
        free_slot(p);
        return Result(stack.error(), kNoKernelStack, error_string(stack.error()));
    }
    auto image = exec::load(path, arguments);
    if (image.is_error()) {
        stack.value().release();
        free_slot(p);
        return image.error();
    }
    if (g_count == 0) g_next_pid = 1;  // none left (a kernel test's, say): init is pid 1 again
    p->pid = g_next_pid++;
    p->parent = parent;
    p->kill_pending = false;
    p->ticks_used = 0;
    set_name(*p, path);
    p->kernel_stack = stack.value();
    p->memory = image.value().memory;
    p->memory->set_owner(p->pid, p->name);
    build_initial_context(*p, user_frame(image.value().entry, image.value().stack_pointer, *p->memory));
    ++g_count;
    scheduler::make_ready(p);
    return p;
}

ErrorOr<i32, ExplainedError> fork() {
    using Result = ErrorOr<i32, ExplainedError>;
    Process* parent = current();
    Process* child = allocate_slot();
    if (!child) return Result(Error::TryAgain, kTableFull, kMaxProcesses);
    auto stack = KernelStack::allocate();
    if (stack.is_error()) {
        free_slot(child);
        return Result(stack.error(), kNoKernelStack, error_string(stack.error()));
    }
    auto memory = parent->memory->fork();
    if (memory.is_error()) {
        stack.value().release();
        free_slot(child);
        return Result(memory.error(), "%s copying the address space", error_string(memory.error()));
    }
    child->memory = memory.value();
    child->pid = g_next_pid++;
    child->parent = parent->pid;
    child->kill_pending = false;
    child->ticks_used = 0;
    memcpy(child->name, parent->name, sizeof(child->name));
    child->memory->set_owner(child->pid, child->name);
    child->kernel_stack = stack.value();
    TrapFrame frame = *parent->trap_frame;
    frame.eax = 0;  // fork returns 0 in the child
    build_initial_context(*child, frame);
    ++g_count;
    scheduler::make_ready(child);
    return child->pid;
}

void exit_current(i32 wait_status) {
    Process* p = current();
    VERIFY(p);
    if (p->pid == kInitPid) {
        if (wait_exited(wait_status))
            kprintf("[kernel] %s (pid 1) exited with status %d\n", p->name, wait_exit_status(wait_status));
        else
            kprintf("[kernel] %s (pid 1) was killed by signal %d\n", p->name, wait_term_signal(wait_status));
    }
    terminate(*p, wait_status);
    scheduler::schedule();
    VERIFY_NOT_REACHED();
}

ErrorOr<void> kill(i32 pid, int signal) {
    Process* target = find(pid);
    if (!target || target->state == ProcessState::Zombie) return Error::NoProcess;
    if (pid == kInitPid) return Error::NotPermitted;  // the system needs init
    if (signal != kSignalKill && signal != kSignalTerm && signal != 0) return Error::Invalid;
    if (signal == 0) return {};  // kill(pid, 0): does it exist?
    if (target == current()) {
        target->kill_pending = true;
        target->kill_signal = signal;
        return {};
    }
    terminate(*target, signal);
    return {};
}

ErrorOr<i32> wait(i32 pid, u32 options, i32& status) {
    Process* self = current();
    for (;;) {
        bool has_child = false;
        Process* zombie = nullptr;
        {
            // The scan and the sleep are one step (WaitQueue.h): no child can end in between unseen.
            cpu::InterruptGuard guard;
            for (Process* p : g_table) {
                if (!p || p->parent != self->pid || (pid != -1 && p->pid != pid)) continue;
                has_child = true;
                if (p->state != ProcessState::Zombie) continue;
                zombie = p;
                break;
            }
            if (!zombie && has_child && !(options & kWaitNoHang)) {
                self->child_exit.sleep();
                continue;
            }
        }
        if (!has_child) return Error::NoChild;
        if (!zombie) return 0;  // WNOHANG
        status = zombie->wait_status;
        i32 reaped = zombie->pid;
        reap(*zombie);
        return reaped;
    }
}

ErrorOr<void, ExplainedError> exec_current(const char* path, const exec::Arguments& arguments) {
    Process* p = current();
    auto image = TRY(exec::load(path, arguments));
    // Point of no return: switch to the new image, free the old one.
    image.memory->activate();
    delete p->memory;
    p->memory = image.memory;
    set_name(*p, path);
    p->memory->set_owner(p->pid, p->name);
    p->last_error = ExplainedError();  // the new program has seen no failure yet
    *p->trap_frame = user_frame(image.entry, image.stack_pointer, *p->memory);
    return {};
}

void collect_orphans() {
    for (Process* p : g_table)
        if (p && p->state == ProcessState::Zombie && p != current() && !find(p->parent)) reap(*p);
}

namespace {

// `p` is `leader` or descends from it. The walk is bounded, so a corrupt parent link cannot loop.
bool in_job(const Process* p, i32 leader) {
    for (u32 steps = 0; p && steps < kMaxProcesses; ++steps) {
        if (p->pid == leader) return true;
        if (p->parent == 0) return false;
        p = find(p->parent);
    }
    return false;
}

}  // namespace

void interrupt_job(i32 leader) {
    if (leader == kInitPid || !find(leader)) return;
    // Choose first, end afterwards: ending a process hands its children to init, which would hide them.
    Process* job[kMaxProcesses];
    u32 count = 0;
    for (Process* p : g_table)
        if (p && p->state != ProcessState::Zombie && in_job(p, leader)) job[count++] = p;
    if (count == 0) return;
    console::write("^C\n");
    bool includes_current = false;
    for (u32 i = 0; i < count; ++i) {
        if (job[i] == current())
            includes_current = true;
        else
            terminate(*job[i], kSignalInt);
    }
    if (includes_current) exit_current(kSignalInt);
}

void kill_current_for_fault(const char* what, int signal) {
    Process* p = current();
    kprintf("[kernel] killed pid %d (%s): %s\n", p->pid, p->name, what);
    exit_current(signal);
}

}  // namespace process
