// arenaload.cpp: a seeded spawn/exit workload for the arena (docs/arena.md, "The arena report"). It runs under
// paging and starts its workers under base and bounds, so only the workers take arena space:
//
//   arenaload [STEPS [SEED [MAXLIVE]]]   (default 200 1 6)  the driver
//   arenaload hold KIB                                      a worker: grows its segment to KIB, then sleeps
//                                                           until the driver kills it
//
// Each step either starts a worker of a random size (96..480 KiB) or kills a random live one, from a seeded
// generator whose choices never depend on what the kernel did: under every fit policy the arena sees the
// same requests in the same order, so the runs compare (`make arena-report` boots once per policy with
// arenalog=1 and init=arenaload). A worker starts with the loader's size (stack, image and a little heap room)
// and then grows its heap with brk, as a real process does: the growth goes in place when the hole after it
// allows, else the kernel moves the whole segment, compacting when no hole fits. A request fails when even
// compaction cannot make room; the worker then exits (127: no room to load it, 4: no room to grow).
//
// The driver prints one line per step ("arenaload: step=3 spawn kib=224 pid=9 ok") and a summary.
// help(program): arenaload [STEPS [SEED [MAXLIVE]]] | start and kill base-bounds processes (boot with arenalog=1)
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"

namespace {

constexpr u32 kMaxLive = 16;
constexpr int kNoRoomToGrow = 4;

// The worker: one brk call to make its segment KIB long (under base and bounds a break is an offset in the
// segment), then sleep until killed.
int hold(u32 kib) {
    long result = sys_brk(reinterpret_cast<void*>(static_cast<uptr>(kib) * 1024));
    if (static_cast<u32>(result) < kib * 1024) return kNoRoomToGrow;
    for (;;) sleep_ms(60000);
}

// xorshift32: small, seeded, the same sequence on every run.
u32 g_state = 1;
u32 next_random() {
    g_state ^= g_state << 13;
    g_state ^= g_state >> 17;
    g_state ^= g_state << 5;
    return g_state;
}

bool info_of(int pid, MnemeProcInfo& info) {
    for (u32 index = 0; sys_mneme_procinfo(index, &info) == 0; ++index)
        if (info.pid == pid) return true;
    return false;
}

// Starts a worker of `kib` under base and bounds and waits until it has grown (it sleeps) or ended (no room).
// Returns its pid, or 0 when it could not get its memory.
int start_worker(u32 kib) {
    char size[16];
    snprintf(size, sizeof(size), "%u", kib);
    const char* argv[] = {"arenaload", "hold", size, nullptr};
    const char* envp[] = {"MNEME_MEMORY=base-bounds", nullptr};
    int pid = fork();
    if (pid == 0) {
        sys_execve("/bin/arenaload", argv, envp);
        sys_exit(kExecFailedStatus);  // no room to load it (the kernel said why)
    }
    if (pid < 0) return 0;
    for (;;) {
        MnemeProcInfo info;
        if (!info_of(pid, info) || info.state == ProcessState::Zombie) break;
        // Asleep under base and bounds: it has been loaded and has grown.
        if (info.state == ProcessState::Sleeping && strcmp(info.memory_model, "base-bounds") == 0) return pid;
        sys_sched_yield();
    }
    int status;
    sys_waitpid(pid, &status, 0);
    return 0;
}

void stop_worker(int pid) {
    sys_kill(pid, kSignalKill);
    int status;
    sys_waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
    u32 number = 0;
    if (argc == 3 && strcmp(argv[1], "hold") == 0 && parse_decimal(argv[2], 0, 0xFFFFFFFF, &number))
        return hold(number);
    u32 steps = 200, seed = 1, max_live = 6;
    if (argc > 4 || (argc > 1 && !parse_decimal(argv[1], 1, 0xFFFFFFFF, &steps)) ||
        (argc > 2 && !parse_decimal(argv[2], 1, 0xFFFFFFFF, &seed)) ||
        (argc > 3 && !parse_decimal(argv[3], 1, kMaxLive, &max_live))) {
        fprintf(stderr, "usage: arenaload [STEPS [SEED [MAXLIVE]]]  (STEPS, SEED >= 1, MAXLIVE 1..%u)\n", kMaxLive);
        return 64;
    }
    g_state = seed;
    // The workload's own idea of who is live: a slot whose worker got no memory stays taken (pid 0) until
    // its kill comes, so the sequence of requests is the same whatever the policy did.
    int pids[kMaxLive];
    u32 live = 0, spawns = 0, failures = 0;
    printf("arenaload: start steps=%u seed=%u maxlive=%u\n", steps, seed, max_live);
    for (u32 step = 0; step < steps; ++step) {
        bool spawn = live == 0 || (live < max_live && next_random() % 100 < 55);
        if (spawn) {
            u32 kib = 96 + 32 * (next_random() % 13);  // 96..480 KiB
            int pid = start_worker(kib);
            pids[live++] = pid;
            ++spawns;
            failures += pid == 0;
            printf("arenaload: step=%u spawn kib=%u pid=%d %s\n", step, kib, pid, pid ? "ok" : "failed");
        } else {
            u32 victim = next_random() % live;
            int pid = pids[victim];
            if (pid) stop_worker(pid);
            pids[victim] = pids[--live];
            printf("arenaload: step=%u kill pid=%d\n", step, pid);
        }
    }
    for (u32 i = 0; i < live; ++i)
        if (pids[i]) stop_worker(pids[i]);
    printf("arenaload: done steps=%u spawns=%u failures=%u\n", steps, spawns, failures);
    return 0;
}
