// BootOptions.cpp: the option table and the key=value parser.
#include "kernel/boot/BootOptions.h"

#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"
#include "kernel/memmodel/MemoryModel.h"
#include "mm/arena/FitPolicy.h"
#include "mm/swap/Policies.h"

namespace boot_options {
namespace {

BootOptions g_options;
// The command line as given (the monitor's `options` shows it). Longer lines are read up to this size, and the
// rest is named in a warning (parse_into), never dropped silently.
char g_raw[1024];

struct Option {
    const char* key;
    const char* accepted;  // shown in warnings and help
    const char* default_value;
    const char* help;
    bool (*apply)(const char* value, BootOptions& options);  // false: the value is not accepted
};

bool parse_u32(const char* text, u32& out) {
    if (!*text) return false;
    u32 value = 0;
    for (; *text; ++text) {
        if (*text < '0' || *text > '9') return false;
        u32 digit = static_cast<u32>(*text - '0');
        if (value > (0xFFFFFFFFu - digit) / 10) return false;
        value = value * 10 + digit;
    }
    out = value;
    return true;
}

bool apply_test(const char* value, BootOptions& options) {
    if (!*value || strlen(value) >= sizeof(options.test)) return false;
    strcpy(options.test, value);
    return true;
}

bool apply_hz(const char* value, BootOptions& options) {
    u32 hz;
    if (!parse_u32(value, hz) || hz < pit::kMinHz || hz > pit::kMaxHz) return false;
    options.hz = hz;
    return true;
}

bool apply_panic(const char* value, BootOptions& options) {
    if (strcmp(value, "exit") == 0)
        options.panic_halt = false;
    else if (strcmp(value, "halt") == 0)
        options.panic_halt = true;
    else
        return false;
    return true;
}

bool apply_pmm(const char* value, BootOptions& options) {
    if (strcmp(value, "buddy") == 0)
        options.pmm_bitmap = false;
    else if (strcmp(value, "bitmap") == 0)
        options.pmm_bitmap = true;
    else
        return false;
    return true;
}

bool apply_quantum(const char* value, BootOptions& options) {
    u32 ticks;
    if (!parse_u32(value, ticks) || ticks < 1 || ticks > 1000) return false;
    options.quantum = ticks;
    return true;
}

bool apply_init(const char* value, BootOptions& options) {
    if (!*value || strlen(value) >= sizeof(options.init)) return false;
    strcpy(options.init, value);
    return true;
}

bool apply_shell(const char* value, BootOptions& options) {
    if (strcmp(value, "user") == 0)
        options.shell_monitor = false;
    else if (strcmp(value, "monitor") == 0)
        options.shell_monitor = true;
    else
        return false;
    return true;
}

bool apply_bench(const char* value, BootOptions& options) {
    if (strcmp(value, "kernel") != 0 && strcmp(value, "all") != 0 && strcmp(value, "swap") != 0 &&
        strcmp(value, "smp") != 0)
        return false;
    strcpy(options.bench, value);
    return true;
}

bool apply_disk_fault(const char* value, BootOptions& options) {
    u32 lba;
    if (!parse_u32(value, lba) || lba == BootOptions::kNoDiskFault) return false;
    options.disk_fault_lba = lba;
    return true;
}

bool apply_swap(const char* value, BootOptions& options) {
    const char* names[] = {"off", "page", "process"};
    for (u8 mode = 0; mode < 3; ++mode)
        if (strcmp(value, names[mode]) == 0) {
            options.swap_mode = mode;
            return true;
        }
    return false;
}

bool apply_policy(const char* value, BootOptions& options) {
    // Exact LRU needs every memory reference, which the hardware does not report: it runs on recorded
    // reference strings only (mneme-replay), so the kernel does not take it.
    if (strcmp(value, "lru") == 0) return false;
    auto kind = parse_policy_kind(strcmp(value, "nru") == 0 ? "eclock" : value);
    if (kind.is_error()) return false;
    options.swap_policy = static_cast<u8>(kind.value());
    return true;
}

bool apply_user_frames(const char* value, BootOptions& options) {
    u32 frames;
    if (!parse_u32(value, frames)) return false;
    options.user_frames = frames;
    return true;
}

bool apply_memory(const char* value, BootOptions& options) {
    MemoryModelKind model;
    if (!parse_memory_model(value, model)) return false;
    options.memory_model = static_cast<u8>(model);
    return true;
}

// A size in bytes, or with a K or M suffix; a whole number of pages, at most 64 MiB.
bool apply_arena(const char* value, BootOptions& options) {
    char digits[16];
    u32 length = static_cast<u32>(strlen(value));
    if (length == 0 || length >= sizeof(digits)) return false;
    strcpy(digits, value);
    u32 unit = 1;
    char last = digits[length - 1];
    if (last == 'K' || last == 'k') unit = 1024;
    if (last == 'M' || last == 'm') unit = 1024 * 1024;
    if (unit != 1) digits[length - 1] = '\0';
    u32 amount;
    if (!parse_u32(digits, amount) || amount > 64 * 1024 * 1024 / unit) return false;
    u32 bytes = amount * unit;
    if (bytes % 4096 != 0) return false;
    options.arena_bytes = bytes;
    return true;
}

bool apply_fit(const char* value, BootOptions& options) {
    FitPolicy policy;
    if (!parse_fit_policy(value, policy)) return false;
    options.fit_policy = static_cast<u8>(policy);
    return true;
}

bool apply_arena_log(const char* value, BootOptions& options) {
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return false;
    options.arena_log = value[0] == '1';
    return true;
}

bool apply_cpus(const char* value, BootOptions& options) {
    u32 cpus;
    if (!parse_u32(value, cpus) || cpus < 1 || cpus > BootOptions::kMaxCpus) return false;
    options.cpus = cpus;
    return true;
}

bool apply_ap_double_fault(const char* value, BootOptions& options) {
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return false;
    options.ap_double_fault = value[0] == '1';
    return true;
}

bool apply_test_cpu(const char* value, BootOptions& options) {
    u32 cpu;
    if (!parse_u32(value, cpu) || cpu >= BootOptions::kMaxCpus) return false;
    options.test_cpu = cpu;
    return true;
}

const Option kOptions[] = {
    {"test", "all, kernel, user, or suites/tests separated by commas", "(off)",
     "run the tests, print a summary, exit QEMU", apply_test},
    {"hz", "19..10000", "100", "timer interrupts per second", apply_hz},
    {"panic", "exit or halt", "exit", "after a panic: leave QEMU (exit) or stay halted on screen (halt)", apply_panic},
    {"pmm", "buddy or bitmap", "buddy", "the physical page allocator", apply_pmm},
    {"quantum", "1..1000 (timer ticks)", "5", "how long a process runs before the next one", apply_quantum},
    {"init", "program names separated by commas", "(none)", "programs init runs before the shell", apply_init},
    {"shell", "user or monitor", "user", "end boot at the user shell or at the kernel monitor", apply_shell},
    {"bench", "kernel, all, swap or smp", "(off)",
     "count instructions of kernel (and user) operations, time swapping (swap) or `spin -t 4 150` (smp), exit QEMU",
     apply_bench},
    {"diskfault", "a sector number", "(off)", "the sector QEMU's blkdebug fails once: runs the disk_fault test",
     apply_disk_fault},
    {"swap", "off, page or process", "page (off when ide0 has no disk)",
     "when memory runs short: kill (off), evict pages (page) or roll out whole processes (process)", apply_swap},
    {"policy", "fifo, clock, nru (or eclock), aging, random; lru only in mneme-replay (it needs every reference)",
     "clock", "the page replacement policy", apply_policy},
    {"userframes", "a number of frames (at least 16; 0: all)", "0", "cap on the frames user pages may hold",
     apply_user_frames},
    {"memory", "paging, static, base-bounds or segments", "paging",
     "the memory model processes run under (MNEME_MEMORY=NAME overrides it per program)", apply_memory},
    {"arena", "a size in bytes or with K or M (whole pages, at most 64M; 0: none)", "2M (none under 12 MiB of RAM)",
     "the physical memory the older memory models (static, base-bounds, segments) place processes in", apply_arena},
    {"fit", "first, next, best or worst", "first", "which hole of the arena a process is placed in", apply_fit},
    {"arenalog", "0 or 1", "0", "print one machine-readable line per arena event (make arena-report reads them)",
     apply_arena_log},
    {"cpus", "1..16", "all the firmware lists", "how many CPUs to use; 1 never starts the others", apply_cpus},
    {"apdf", "0 or 1", "0",
     "each application processor overflows its stack into a double fault at start-up and recovers (smp tests)",
     apply_ap_double_fault},
    {"testcpu", "0..15", "0", "the CPU the in-kernel tests run on (an application processor: -smp 2 or more)",
     apply_test_cpu},
};

void print_accepted_keys() {
    kprintf("           accepted keys:");
    for (const Option& option : kOptions) kprintf(" %s", option.key);
    kprintf("\n");
}

// Returns false when the word was rejected (and a warning printed).
bool apply_word(char* word, BootOptions& options) {
    char* equals = strchr(word, '=');
    if (!equals) {
        kwarn("cmdline", "'%s' is not key=value; ignored", word);
        print_accepted_keys();
        return false;
    }
    *equals = '\0';
    const char* key = word;
    const char* value = equals + 1;
    for (const Option& option : kOptions) {
        if (strcmp(option.key, key) != 0) continue;
        if (option.apply(value, options)) return true;
        kwarn("cmdline", "bad value '%s' for %s (accepted: %s); using the default, %s", value, key, option.accepted,
              option.default_value);
        return false;
    }
    kwarn("cmdline", "unknown option '%s'; ignored", key);
    print_accepted_keys();
    return false;
}

}  // namespace

u32 parse_into(const char* command_line, BootOptions& options) {
    options = BootOptions{};
    if (!command_line) return 0;
    char scratch[sizeof(g_raw)];
    strncpy(scratch, command_line, sizeof(scratch) - 1);
    scratch[sizeof(scratch) - 1] = '\0';
    u32 length = static_cast<u32>(strlen(command_line));
    if (length >= sizeof(scratch)) {
        // Cut at the last whole word, and say what is left out, so no option is lost without a word.
        char* cut = strrchr(scratch, ' ');
        if (cut) *cut = '\0';
        u32 kept = static_cast<u32>(strlen(scratch));
        kwarn("cmdline", "the command line is %u bytes; only the first %u are read, so everything from '%.40s' on is "
              "ignored", length, kept, command_line + kept + (cut ? 1 : 0));
    }
    u32 rejected = 0;
    bool first = true;
    for (char* p = scratch; *p;) {
        while (*p == ' ') ++p;
        if (!*p) break;
        char* word = p;
        while (*p && *p != ' ') ++p;
        if (*p) *p++ = '\0';
        // GRUB and QEMU pass the kernel's path as the first word.
        if (first && !strchr(word, '=')) {
            first = false;
            continue;
        }
        first = false;
        if (!apply_word(word, options)) ++rejected;
    }
    return rejected;
}

void parse(const char* command_line) {
    g_raw[0] = '\0';
    if (command_line) {
        strncpy(g_raw, command_line, sizeof(g_raw) - 1);
        g_raw[sizeof(g_raw) - 1] = '\0';
    }
    parse_into(command_line, g_options);
}

const BootOptions& get() { return g_options; }
const char* raw() { return g_raw; }

void print_help() {
    kprintf("Boot options (kernel command line, key=value):\n");
    for (const Option& option : kOptions)
        kprintf("  %-8s %-44s default %-6s %s\n", option.key, option.accepted, option.default_value, option.help);
}

}  // namespace boot_options
