// Syscalls.cpp: the system-call gate (int 0x80) and every call behind it (libc/abi/Syscalls.h; the list with
// arguments and errors is docs/syscalls.md).
//
// Every pointer a process passes is checked before the kernel touches it: below 0xC0000000, no wrap-around,
// inside one of the process's regions, writable when the kernel writes (MemoryModel::validate_user_range,
// for the whole range first), and each page is made resident just before it is copied (fault_in). A bad one
// makes the call return -EFAULT; the kernel never faults on it.
//
// The gate is a trap gate (arch/i386/Idt.cpp): a call runs with interrupts enabled, so the clock and the
// console go on during a long call. It is not preempted for that: it runs until it sleeps on a WaitQueue
// (read, waitpid, nanosleep) or reaches a preempt point (between the chunks of a write), and a quantum that
// ran out meanwhile is acted on as the call returns (scheduler::return_to_user). What may and may not happen
// with interrupts on: docs/processes.md, "Interrupts in the kernel".
#include "kernel/proc/Syscalls.h"

#include "kernel/mm/Tlb.h"
#include "kernel/smp/PerCpu.h"

#include "arch/i386/Idt.h"
#include "arch/i386/Pit.h"
#include "kernel/debug/Monitor.h"
#include "kernel/debug/TestMode.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/Arena.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/WaitQueue.h"
#include "kernel/swap/SwapArea.h"
#include "kernel/swap/Swapper.h"
#include "libc/abi/Syscalls.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"

namespace syscalls {
namespace {

using namespace syscall_number;

i32 error(Error e) { return -static_cast<i32>(e); }

// A failure with a reason: the process keeps the reason for mneme_last_error, the call returns -code.
i32 error(const ExplainedError& e) {
    Process* p = process::current();
    p->last_error = e;
    p->last_error_explained = true;
    return error(e.code);
}

// The same, the reason formatted in place.
i32 explain(Error code, const char* format, ...) __attribute__((format(printf, 2, 3)));
i32 explain(Error code, const char* format, ...) {
    Process* p = process::current();
    p->last_error.code = code;
    va_list args;
    va_start(args, format);
    p->last_error.set_reason(format, args);
    va_end(args);
    p->last_error_explained = true;
    return error(code);
}

template <typename T, typename E>
i32 result(const ErrorOr<T, E>& r) {
    if (r.is_error()) return error(r.error());
    if constexpr (std::is_void_v<T>)
        return 0;
    else
        return static_cast<i32>(r.value());
}

MemoryModel& memory() { return *process::current()->memory; }

// Processes reading the console sleep here; the COM1 receive interrupt wakes them (initialize()).
WaitQueue g_console_readers("console input");

// A console write goes out in chunks of this many bytes with a preempt point after each: about 10 ms of
// serial output under QEMU, so a 2 MiB write lets the other processes run instead of holding the CPU.
constexpr u32 kWriteChunk = 512;

i32 sys_write(u32 fd, u32 buffer, u32 count) {
    if (fd != 1 && fd != 2) return error(Error::BadFile);
    if (auto ok = memory().validate_user_range(buffer, count, false); ok.is_error()) return error(ok.error());
    char chunk[kWriteChunk];
    for (u32 done = 0; done < count;) {
        u32 length = count - done < kWriteChunk ? count - done : kWriteChunk;
        // Copied out one page at a time (MemoryModel.h): pages may have been swapped out, or unmapped by
        // another process's doing, while this one waited at the preempt point. A short count says how far
        // it got.
        if (auto copied = memory().copy_from_user(chunk, buffer + done, length); copied.is_error())
            return done ? static_cast<i32>(done) : error(copied.error());
        console::write(chunk, length);
        done += length;
        if (done < count) scheduler::preempt_point();
    }
    return static_cast<i32>(count);
}

i32 sys_read(u32 fd, u32 buffer, u32 count) {
    if (fd != 0) return error(Error::BadFile);
    if (count == 0) return 0;
    if (auto ok = memory().validate_user_range(buffer, count, true); ok.is_error()) return error(ok.error());
    int c;
    // Sleep until at least one byte is there, then take whatever else is waiting, into a kernel buffer: the
    // user's pages are only made resident (and checked again) when the bytes are copied out after the sleep.
    g_console_readers.wait_until([&] { return (c = console::try_read_char()) >= 0; });
    char line[256];
    u32 n = 0;
    line[n++] = static_cast<char>(c);
    while (n < count && n < sizeof(line) && (c = console::try_read_char()) >= 0) line[n++] = static_cast<char>(c);
    if (auto copied = memory().copy_to_user(buffer, line, n); copied.is_error()) return error(copied.error());
    return static_cast<i32>(n);
}

i32 sys_execve(u32 user_path, u32 user_argv, u32 user_envp) {
    static char path[128];
    static exec::Arguments arguments;  // one exec at a time: the kernel is not preemptible
    arguments = exec::Arguments{};
    if (auto copied = memory().copy_string_from_user(path, user_path, sizeof(path)); copied.is_error()) {
        if (copied.error() != Error::TooBig) return error(Error::BadAddress);
        return explain(Error::TooBig, "the path is longer than %zu bytes", sizeof(path) - 1);
    }
    char text[exec::kArgumentBytes];
    for (int list = 0; list < 2; ++list) {
        u32 vector = list == 0 ? user_argv : user_envp;
        if (!vector) continue;
        for (u32 i = 0;; ++i) {
            if (i == exec::kMaxArguments)
                return explain(Error::TooBig, "more than %u %s", exec::kMaxArguments,
                               list == 0 ? "arguments" : "environment strings");
            u32 pointer;
            if (memory().copy_from_user(&pointer, vector + i * 4, 4).is_error()) return error(Error::BadAddress);
            if (!pointer) break;
            auto length = memory().copy_string_from_user(text, pointer, sizeof(text));
            if (length.is_error()) return error(length.error() == Error::TooBig ? Error::TooBig : Error::BadAddress);
            auto added = list == 0 ? arguments.add_argument(text) : arguments.add_environment(text);
            if (added.is_error())
                return explain(added.error(), "arguments and environment exceed %u bytes", exec::kArgumentBytes);
        }
    }
    return result(process::exec_current(path, arguments));
}

i32 sys_waitpid(i32 pid, u32 status_pointer, u32 options) {
    if (pid == 0 || pid < -1) return error(Error::Invalid);  // process groups: not in Mneme
    if (options & ~kWaitNoHang) return error(Error::Invalid);
    if (status_pointer) {
        if (auto ok = memory().validate_user_range(status_pointer, 4, true); ok.is_error()) return error(ok.error());
    }
    i32 status = 0;
    auto reaped = process::wait(pid, options, status);
    if (reaped.is_error()) return error(reaped.error());
    if (status_pointer && reaped.value() > 0) {
        // Another process may have run while we waited; check again before writing.
        if (auto ok = memory().copy_to_user(status_pointer, &status, 4); ok.is_error()) return error(ok.error());
    }
    return reaped.value();
}

i32 sys_nanosleep(u32 request, u32 remaining) {
    NanoTime t;
    if (auto ok = memory().copy_from_user(&t, request, sizeof(t)); ok.is_error()) return error(ok.error());
    if (t.seconds < 0 || t.nanoseconds < 0 || t.nanoseconds > 999999999) return error(Error::Invalid);
    u64 hz = pit::frequency();
    u64 ticks = static_cast<u64>(t.seconds) * hz + (static_cast<u64>(t.nanoseconds) * hz + 999999999) / 1000000000;
    if (ticks) scheduler::sleep_until(pit::ticks() + ticks);
    if (remaining) {
        NanoTime zero{0, 0};
        if (auto ok = memory().copy_to_user(remaining, &zero, sizeof(zero)); ok.is_error()) return error(ok.error());
    }
    return 0;
}

i32 sys_mmap2(u32 address, u32 length, u32 protection, u32 flags, i32 fd) {
    (void)address;  // a hint only: Mneme places mappings itself (MAP_FIXED is refused)
    if (!(flags & kMapAnonymous) || !(flags & kMapPrivate) || (flags & kMapFixed) || fd != -1)
        return error(Error::Invalid);
    bool accessible = (protection & (kProtRead | kProtWrite | kProtExec)) != 0;  // PROT_NONE: reserve only
    auto mapped = memory().map_anonymous(length, (protection & kProtWrite) != 0, accessible);
    if (mapped.is_error()) return error(mapped.error());
    return static_cast<i32>(mapped.value());
}

i32 sys_meminfo(u32 pointer) {
    MnemeMemInfo info{};
    // Objects parked in the CPUs' slab magazines, and the empty slabs they kept alive, go back first: the
    // figures below then count what is in use, whichever CPU last freed what (docs/slab.md).
    kernel_heap::shrink();
    FrameAllocator& allocator = pmm::allocator();
    info.total_frames = allocator.total_frames();
    info.free_frames = allocator.free_frames();
    info.page_size = kPageSize;
    strncpy(info.allocator, allocator.name(), sizeof(info.allocator) - 1);
    ArenaStatistics arena_now = arena::statistics();
    info.arena_bytes = arena::size();
    info.arena_free_bytes = arena_now.free_bytes;
    info.arena_holes = arena_now.holes;
    info.kernel_heap_bytes = kernel_heap::bytes_in_use();
    info.process_count = process::count();
    info.uptime_ms = static_cast<u32>(pit::uptime_ms());
    info.swapped_pages = swapper::swapped_pages();
    return result(memory().copy_to_user(pointer, &info, sizeof(info)));
}

i32 sys_vmstat(u32 pointer) {
    MnemeVmStat stat{};
    strncpy(stat.mode, swapper::mode_name(swapper::mode()), sizeof(stat.mode) - 1);
    strncpy(stat.policy, swapper::active() ? swapper::policy().name() : "-", sizeof(stat.policy) - 1);
    stat.page_faults = PagedMemory::total_page_faults();
    stat.major_faults = PagedMemory::total_major_faults();
    const swapper::Statistics& s = swapper::statistics();
    stat.pages_out = s.pages_out;
    stat.evictions = s.evictions;
    stat.clean_evictions = s.clean_evictions;
    stat.shared_evictions = s.shared_evictions;
    stat.user_frames = swapper::resident_frames();
    stat.frame_cap = swapper::frame_cap();
    stat.swapped_pages = swapper::swapped_pages();
    if (swapper::active()) {
        const SwapSlotMap& slots = swap_area::slots();
        stat.slots_total = slots.slot_count() - 1;  // slot 0 is the header
        stat.slots_used = slots.used_slots();
        stat.slots_bad = slots.bad_slots();
    }
    stat.read_errors = s.read_errors;
    stat.write_errors = s.write_errors;
    stat.out_of_swap = s.out_of_swap;
    stat.roll_outs = s.roll_outs;
    stat.roll_ins = s.roll_ins;
    for (u32 mask = per_cpu::online_mask(); mask; mask &= mask - 1) ++stat.cpus;  // no popcount before the Pentium
    stat.tlb_shootdowns = tlb::shootdowns();
    stat.tlb_ipis = tlb::shootdown_ipis();
    stat.tlb_flushes = tlb::invalidations();
    return result(memory().copy_to_user(pointer, &stat, sizeof(stat)));
}

i32 sys_procinfo(u32 index, u32 pointer) {
    u32 seen = 0;
    for (u32 i = 0; i < process::kMaxProcesses; ++i) {
        Process* p = process::slot(i);
        if (!p) continue;
        if (seen++ != index) continue;
        MnemeProcInfo info{};
        info.pid = p->pid;
        info.parent = p->parent;
        info.state = p->state;
        strncpy(info.name, p->name, sizeof(info.name) - 1);
        // A zombie's memory is gone: it shows no pages, and the faults it took while it ran.
        MemoryStatistics s = p->memory ? p->memory->statistics() : MemoryStatistics{};
        info.resident_pages = s.resident_pages;
        info.shared_pages = s.shared_pages;
        info.heap_bytes = s.heap_bytes;
        info.mapped_bytes = s.mapped_bytes;
        info.stack_bytes = s.stack_bytes;
        info.swapped_pages = s.swapped_pages;
        info.major_faults = s.major_faults;
        info.page_faults = p->memory ? p->memory->page_faults() : p->page_faults_at_exit;
        info.cpu_ms = static_cast<u32>(u64(p->ticks_used) * 1000 / pit::frequency());
        info.sys_ms = static_cast<u32>(u64(p->system_ticks) * 1000 / pit::frequency());
        info.cpu = p->cpu;
        if (p->memory) {
            strncpy(info.memory_model, p->memory->name(), sizeof(info.memory_model) - 1);
            p->memory->describe_segments(info.segments, sizeof(info.segments));
        }
        return result(memory().copy_to_user(pointer, &info, sizeof(info)));
    }
    return error(Error::NoProcess);
}

i32 sys_frame_of(u32 address) {
    auto physical = memory().translate(address);
    // -EFAULT for any page with no frame behind it: one never touched yet (inside a region, demand-zero) and
    // one outside every region answer alike.
    if (physical.is_error()) return error(Error::BadAddress);
    return static_cast<i32>(physical.value() >> 12);
}

// The reason of the caller's last failed call, cut to `size` bytes with the NUL; returns its code. Not
// inlined, like sys_fork: their large frames would otherwise burden every call's path through dispatch.
[[gnu::noinline]] i32 sys_last_error(u32 buffer, u32 size) {
    const ExplainedError& last = process::current()->last_error;
    if (size == 0) return static_cast<i32>(last.code);
    char text[ExplainedError::kReasonSize];
    format_to_buffer(text, size < sizeof(text) ? size : sizeof(text), "%s",
                     last.code == Error::None ? "" : last.what());
    if (auto ok = memory().copy_to_user(buffer, text, static_cast<u32>(strlen(text)) + 1); ok.is_error())
        return error(ok.error());
    return static_cast<i32>(last.code);
}

// The shell names the program it waits for, so that Ctrl-C ends it (kernel/dev/Console.h).
i32 sys_set_foreground(i32 pid) {
    Process* self = process::current();
    if (pid != 0) {
        Process* target = process::find(pid);
        if (!target || target->state == ProcessState::Zombie || (target != self && target->parent != self->pid))
            return error(Error::NoProcess);
    }
    console::set_foreground(pid);
    return 0;
}

[[gnu::noinline]] i32 sys_fork() { return result(process::fork()); }

i32 dispatch(TrapFrame& f) {
    switch (f.eax) {
    case kExit: process::exit_current(static_cast<i32>((f.ebx & 0xFF) << 8));
    case kFork: return sys_fork();
    case kRead: return sys_read(f.ebx, f.ecx, f.edx);
    case kWrite: return sys_write(f.ebx, f.ecx, f.edx);
    case kWaitPid: return sys_waitpid(static_cast<i32>(f.ebx), f.ecx, f.edx);
    case kExecve: return sys_execve(f.ebx, f.ecx, f.edx);
    case kGetPid: return process::current()->pid;
    case kGetPpid: return process::current()->parent;
    case kKill: return result(process::kill(static_cast<i32>(f.ebx), static_cast<int>(f.ecx)));
    case kBrk: return static_cast<i32>(memory().brk(f.ebx));
    case kMunmap: return result(memory().unmap(f.ebx, f.ecx));
    case kMprotect: return result(memory().protect(f.ebx, f.ecx, f.edx));
    case kSchedYield: scheduler::yield(); return 0;
    case kNanosleep: return sys_nanosleep(f.ebx, f.ecx);
    case kMmap2: return sys_mmap2(f.ebx, f.ecx, f.edx, f.esi, static_cast<i32>(f.edi));
    case kMnemeMemInfo: return sys_meminfo(f.ebx);
    case kMnemeProcInfo: return sys_procinfo(f.ebx, f.ecx);
    case kMnemeMonitor: monitor::run_until_exit(); return 0;
    case kMnemeTestExit:
        if (process::current()->pid != process::kInitPid) return error(Error::NotPermitted);
        test_mode::finish_user_tests(f.ebx, f.ecx);  // does not return
    case kMnemeFrameOf: return sys_frame_of(f.ebx);
    case kMnemeSetForeground: return sys_set_foreground(static_cast<i32>(f.ebx));
    case kMnemeLastError: return sys_last_error(f.ebx, f.ecx);
    case kMnemeVmStat: return sys_vmstat(f.ebx);
    }
    return error(Error::NotImplemented);
}

void on_syscall(TrapFrame& frame) {
    Process* p = process::current();
    p->trap_frame = &frame;
    i32 value = dispatch(frame);
    // A failure ([-4095, -1], Linux's rule: brk and mmap2 return addresses) is the one mneme_last_error tells
    // of; a call that explained it has stored its reason already.
    if (static_cast<u32>(value) >= static_cast<u32>(-4095)) [[unlikely]] {
        if (!p->last_error_explained) p->last_error = ExplainedError(static_cast<Error>(-value));
        p->last_error_explained = false;
    }
    // execve rewrote the frame for the new program; its eax starts at 0 like every other register.
    frame.eax = static_cast<u32>(value);
    // A page the call needed was swapped out and the disk could not read it back: the process would have
    // been killed had it touched the page itself, and it is now.
    if (p->memory && p->memory->page_lost())
        process::kill_current_for_fault("a page of its memory was lost: the swap disk could not read it back "
                                        "(the read error is reported above)",
                                        kSignalSegv);
    if (p->kill_pending) process::exit_current(p->kill_signal);
    scheduler::return_to_user();
}

}  // namespace

void initialize() {
    idt::set_handler(idt::kSyscallVector, on_syscall);
    console::set_input_listener([] { g_console_readers.wake_all(); });
}

}  // namespace syscalls
