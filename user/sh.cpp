// sh.cpp: Mneme's shell, on the serial console.
//
//   mneme$ hello a "b c"                 run /bin/hello with two arguments, wait, report "[exit 0]"
//   mneme$ MNEME_MALLOC=best malloctest  NAME=value words before the program go into its environment
//   mneme$ compute 7 &                   run in the background; "[done] pid 5 compute: exit 0" later
//   mneme$ ps | mem | kill PID [-9] | monitor | help | exit
//
// The console gives the shell raw bytes (no line discipline in the kernel), so the shell does its own line
// editing: echo, Backspace (0x7f or 0x08), Ctrl-U (erase the line), Ctrl-C (cancel the line), up/down arrows
// (ESC [ A / ESC [ B) walk a small history. While a program runs in the foreground the shell is in waitpid
// and reads nothing: keys typed meanwhile wait in the kernel's console buffer until the next prompt, except
// Ctrl-C, which the kernel turns into the end of that program and of every process it started (the shell
// names the program with mneme_set_foreground). A background program (&) ends with `kill`.
//
// `sh -c "LINE"` runs one line and exits with its status (for scripts and tests).
// help(program): sh | a shell inside this one (its `exit` comes back here)
#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

#include "ProgramHelp.h"  // generated in build/gen/ (the Makefile; tools/gen-program-help.sh)

namespace {

constexpr size_t kLineMax = 256;
constexpr int kMaxWords = 32;
constexpr int kHistory = 16;
constexpr int kMaxJobs = 64;  // the kernel's process table: the shell can never have more children

// ------------------------------------------------------------------------------------------------------
// Line editing and history
// ------------------------------------------------------------------------------------------------------

char g_history[kHistory][kLineMax];
int g_history_count = 0;  // lines ever added; the newest is g_history[(count - 1) % kHistory]

void remember(const char* line) {
    if (!*line) return;
    if (g_history_count > 0 && strcmp(g_history[(g_history_count - 1) % kHistory], line) == 0) return;
    strcpy(g_history[g_history_count % kHistory], line);
    ++g_history_count;
}

void erase_on_screen(size_t count) {
    for (; count > 0; --count) fputs("\b \b", stdout);
}

enum class LineResult { Line, Cancelled, EndOfInput };

bool g_last_was_cr = false;

// Reads one edited line into `line`. Escape sequences: ESC [ A (up), ESC [ B (down); others are ignored.
LineResult edit_line(char* line) {
    // At its prompt a shell takes Ctrl-C as a key (cancel the line), so no process is the kernel's foreground
    // one: this matters for a shell started from another, which made it the foreground program.
    sys_mneme_set_foreground(0);
    size_t length = 0;
    line[0] = '\0';
    int browsing = g_history_count;  // history position: g_history_count means "the line being typed"
    char draft[kLineMax] = "";       // what was typed before walking into the history
    int escape = 0;                  // 0 none, 1 after ESC, 2 after ESC [
    size_t dropped = 0;              // characters typed past the end of a full line (the line is refused)
    for (;;) {
        fflush(stdout);
        int c = getchar();
        if (c == EOF) return LineResult::EndOfInput;
        // A terminal that sends CR LF for Enter must not produce an empty second line.
        bool after_cr = g_last_was_cr;
        g_last_was_cr = c == '\r';
        if (c == '\n' && after_cr) continue;
        if (escape == 1) {
            escape = c == '[' ? 2 : 0;
            continue;
        }
        if (escape == 2) {
            escape = 0;
            int target = browsing;
            if (c == 'A' && browsing > 0 && browsing > g_history_count - kHistory) target = browsing - 1;
            if (c == 'B' && browsing < g_history_count) target = browsing + 1;
            if (target == browsing) continue;
            if (browsing == g_history_count) strcpy(draft, line);
            browsing = target;
            const char* shown = browsing == g_history_count ? draft : g_history[browsing % kHistory];
            erase_on_screen(length);
            strcpy(line, shown);
            length = strlen(line);
            fputs(line, stdout);
            continue;
        }
        switch (c) {
        case 0x1b: escape = 1; break;
        case '\r':
        case '\n':
            fputs("\n", stdout);
            line[length] = '\0';
            if (dropped > 0) {
                // Running the first 255 characters of a longer command could run something else than meant.
                printf("sh: line too long: %zu characters past the limit of %zu were not taken; nothing was run\n",
                       dropped, kLineMax - 1);
                return LineResult::Cancelled;
            }
            return LineResult::Line;
        case 0x03:  // Ctrl-C
            fputs("^C\n", stdout);
            return LineResult::Cancelled;
        case 0x15:  // Ctrl-U
            erase_on_screen(length);
            length = 0;
            line[0] = '\0';
            dropped = 0;
            break;
        case 0x7f:
        case '\b':
            if (length > 0) {
                line[--length] = '\0';
                erase_on_screen(1);
            }
            break;
        default:
            if (c >= ' ' && c < 0x7f && length + 1 < kLineMax) {
                line[length++] = static_cast<char>(c);
                line[length] = '\0';
                fputc(c, stdout);
            } else if (c >= ' ' && c < 0x7f) {
                if (dropped++ == 0) fputc('\a', stdout);  // the line is full: ring once, refuse it at Enter
            }
            break;
        }
    }
}

// ------------------------------------------------------------------------------------------------------
// Parsing: words separated by spaces, "double quotes" group, a trailing & means background
// ------------------------------------------------------------------------------------------------------

struct Command {
    char storage[kLineMax];
    const char* words[kMaxWords + 1];
    int count = 0;
    bool background = false;
};

// Splits `line` into words (in cmd.storage). false, with a message, on a syntax error.
bool parse(const char* line, Command& cmd) {
    char* out = cmd.storage;
    const char* in = line;
    cmd.count = 0;
    cmd.background = false;
    for (;;) {
        while (*in == ' ' || *in == '\t') ++in;
        if (!*in) break;
        if (cmd.count == kMaxWords) {
            fprintf(stderr, "sh: too many words (at most %d)\n", kMaxWords);
            return false;
        }
        cmd.words[cmd.count++] = out;
        bool quoted = false;
        while (*in && (quoted || (*in != ' ' && *in != '\t'))) {
            if (*in == '"')
                quoted = !quoted;
            else
                *out++ = *in;
            ++in;
        }
        *out++ = '\0';
        if (quoted) {
            fprintf(stderr, "sh: missing closing quote\n");
            return false;
        }
    }
    // "prog &" or "prog&": background.
    if (cmd.count > 0) {
        char* last = const_cast<char*>(cmd.words[cmd.count - 1]);
        size_t length = strlen(last);
        if (length > 0 && last[length - 1] == '&') {
            cmd.background = true;
            last[length - 1] = '\0';
            if (length == 1) --cmd.count;
        }
    }
    cmd.words[cmd.count] = nullptr;
    return true;
}

bool is_assignment(const char* word) {
    const char* equals = strchr(word, '=');
    return equals && equals != word;
}

// ------------------------------------------------------------------------------------------------------
// Jobs: background children, reported when they end
// ------------------------------------------------------------------------------------------------------

struct Job {
    int pid = 0;
    char name[32] = "";
};

Job g_jobs[kMaxJobs];

bool have_job_slot() {
    for (const Job& job : g_jobs)
        if (job.pid == 0) return true;
    return false;
}

void add_job(int pid, const char* name) {
    for (Job& job : g_jobs) {
        if (job.pid == 0) {
            job.pid = pid;
            strncpy(job.name, name, sizeof(job.name) - 1);
            return;
        }
    }
}

const char* job_name(int pid) {
    for (Job& job : g_jobs)
        if (job.pid == pid) return job.name;
    return "?";
}

void forget_job(int pid) {
    for (Job& job : g_jobs)
        if (job.pid == pid) job = Job{};
}

void report_finished_jobs() {
    for (;;) {
        int status;
        int pid = sys_waitpid(-1, &status, kWaitNoHang);
        if (pid <= 0) return;
        char how[40];
        describe_status(status, how, sizeof(how));
        printf("[done] pid %d %s: %s\n", pid, job_name(pid), how);
        forget_job(pid);
    }
}

// ------------------------------------------------------------------------------------------------------
// Builtins
// ------------------------------------------------------------------------------------------------------

const char* state_name(ProcessState state) {
    switch (state) {
    case ProcessState::Running: return "running";
    case ProcessState::Ready: return "ready";
    case ProcessState::Sleeping: return "sleeping";
    case ProcessState::Waiting: return "waiting";
    case ProcessState::Zombie: return "zombie";
    }
    return "?";
}

int builtin_ps() {
    printf("  PID  PPID STATE     NAME             RES  SHARED  SWAP     HEAP     MMAP    STACK  FAULTS    CPU    SYS  ON  "
           "MEMORY\n");
    char segments[8][112];
    u32 segment_lines = 0;
    for (u32 index = 0;; ++index) {
        MnemeProcInfo info;
        int result = sys_mneme_procinfo(index, &info);
        if (result == -static_cast<int>(Error::NoProcess)) break;
        if (result != 0) {
            fprintf(stderr, "ps: mneme_procinfo: %s\n", strerror(result));
            return 1;
        }
        info.name[sizeof(info.name) - 1] = '\0';
        info.memory_model[sizeof(info.memory_model) - 1] = '\0';
        info.segments[sizeof(info.segments) - 1] = '\0';
        printf("%5d %5d %-9s %-15s %5u %7u %5u %7uK %7uK %7uK %7u %4u.%02u %3u.%02u %3u  %s\n", info.pid, info.parent,
               state_name(info.state), info.name, info.resident_pages, info.shared_pages, info.swapped_pages,
               info.heap_bytes / 1024,
               info.mapped_bytes / 1024, info.stack_bytes / 1024, info.page_faults, info.cpu_ms / 1000,
               info.cpu_ms % 1000 / 10, info.sys_ms / 1000, info.sys_ms % 1000 / 10, info.cpu, info.memory_model);
        if (info.segments[0] && segment_lines < 8)
            snprintf(segments[segment_lines++], sizeof(segments[0]), "%5d %s: %s", info.pid, info.name, info.segments);
    }
    for (u32 i = 0; i < segment_lines; ++i) printf("%s\n", segments[i]);
    printf(
        "(RES, SHARED and SWAP in pages; a copy-on-write page shared by two processes counts in both; SWAP: out on\n"
        " the swap disk; CPU and SYS:\n"
        " seconds in user mode and in the kernel on its behalf, sampled by the timer tick; ON: the CPU it runs on,\n"
        " or last ran on)\n");
    return 0;
}

int builtin_mem() {
    MnemeMemInfo info{};
    int result = sys_mneme_meminfo(&info);
    if (result != 0) {
        fprintf(stderr, "mem: mneme_meminfo: %s\n", strerror(result));
        return 1;
    }
    info.allocator[sizeof(info.allocator) - 1] = '\0';
    u32 page_kib = info.page_size / 1024;
    u32 used = info.total_frames - info.free_frames;
    printf("physical memory: %u frames of %u KiB = %u KiB\n", info.total_frames, page_kib,
           info.total_frames * page_kib);
    printf("  free  %7u frames = %7u KiB (%u%%)\n", info.free_frames, info.free_frames * page_kib,
           info.total_frames ? info.free_frames * 100 / info.total_frames : 0);
    printf("  used  %7u frames = %7u KiB\n", used, used * page_kib);
    printf("page allocator: %s; kernel heap (slab caches and large kmalloc blocks): %u KiB\n", info.allocator,
           info.kernel_heap_bytes / 1024);
    printf("processes: %u\n", info.process_count);
    // The older memory models' arena (the monitor's `arena` draws its map).
    if (info.arena_bytes)
        printf("arena (static, base-bounds, segments): %u KiB, %u KiB free in %u hole%s; `monitor` then `arena` "
               "maps it\n",
               info.arena_bytes / 1024, info.arena_free_bytes / 1024, info.arena_holes,
               info.arena_holes == 1 ? "" : "s");
    else
        printf("arena (static, base-bounds, segments): none on this boot (boot option arena=SIZE)\n");
    return 0;
}

int builtin_kill(const Command& cmd) {
    if (cmd.count < 2) {
        fprintf(stderr, "usage: kill PID [-9|-15]\n");
        return 64;
    }
    u32 signal = kSignalTerm;
    u32 pid = 0;
    for (int i = 1; i < cmd.count; ++i) {
        const char* word = cmd.words[i];
        if (word[0] == '-') {
            if (!parse_decimal(word + 1, 1, 31, &signal)) {
                fprintf(stderr, "kill: %s: not a signal number (-9 is SIGKILL, -15 SIGTERM)\n", word);
                return 64;
            }
        } else if (!parse_decimal(word, 1, 0x7FFFFFFF, &pid)) {
            fprintf(stderr, "kill: %s: not a process id (`ps` lists them)\n", word);
            return 64;
        }
    }
    if (pid == 0) {
        fprintf(stderr, "usage: kill PID [-9|-15]\n");
        return 64;
    }
    int result = sys_kill(static_cast<int>(pid), static_cast<int>(signal));
    if (result != 0) {
        fprintf(stderr, "kill: %u: %s\n", pid, strerror(result));
        return 1;
    }
    return 0;
}

// Prints the programs of one kind from the generated table (build/gen/ProgramHelp.h: one entry for each
// program in the initrd, from its source's `// help(KIND):` line).
void print_programs(ProgramKind kind) {
    for (const ProgramHelp& program : kProgramHelp) {
        if (program.kind != kind) continue;
        if (strlen(program.usage) <= 32)
            printf("  %-32s %s\n", program.usage, program.text);
        else
            printf("  %s\n  %-32s %s\n", program.usage, "", program.text);
    }
}

int builtin_help() {
    printf(
        "Mneme shell. Builtins:\n"
        "  ps                               processes: pid, parent, state, name, memory, faults, CPU time\n"
        "  mem                              free physical memory and the kernel's allocators\n"
        "  kill PID [-9]                    end a process (SIGTERM, or -9 for SIGKILL)\n"
        "  monitor                          the kernel monitor on this console (its `exit` comes back here)\n"
        "  history                          the last commands (up/down arrows recall them)\n"
        "  help, exit\n"
        "Programs in /bin:\n");
    print_programs(ProgramKind::program);
    printf("Hostile programs, which the kernel must survive (docs/user-space.md):\n");
    print_programs(ProgramKind::hostile);
    printf("Used by the tests:\n");
    print_programs(ProgramKind::test);
    printf(
        "Syntax: [NAME=value ...] program [args ...] [&]     e.g.  MNEME_MALLOC=best malloctest\n"
        "Line editing: Backspace, Ctrl-U erases the line, Ctrl-C cancels it, up/down for history.\n"
        "Ctrl-C while a program runs ends it and every process it started.\n");
    return 0;
}

int builtin_history() {
    int first = g_history_count > kHistory ? g_history_count - kHistory : 0;
    for (int i = first; i < g_history_count; ++i) printf("%4d  %s\n", i + 1, g_history[i % kHistory]);
    return 0;
}

// ------------------------------------------------------------------------------------------------------
// Running programs
// ------------------------------------------------------------------------------------------------------

constexpr int kMaxEnvironment = 64;

// The child's environment: ours, with NAME=value words from the command line added or replacing ours.
int build_environment(const char** out, const char* const* assignments, int assignment_count) {
    int count = 0;
    for (char** entry = environ; entry && *entry && count < kMaxEnvironment - assignment_count; ++entry) {
        bool replaced = false;
        for (int i = 0; i < assignment_count; ++i) {
            size_t name_length = static_cast<size_t>(strchr(assignments[i], '=') - assignments[i]);
            if (strncmp(*entry, assignments[i], name_length + 1) == 0) replaced = true;
        }
        if (!replaced) out[count++] = *entry;
    }
    for (int i = 0; i < assignment_count; ++i) out[count++] = assignments[i];
    out[count] = nullptr;
    return count;
}

int run_program(const Command& cmd, int first_word) {
    const char* const* argv = cmd.words + first_word;
    const char* environment[kMaxEnvironment + 1];
    build_environment(environment, cmd.words, first_word);
    if (cmd.background && !have_job_slot()) {
        // Started untracked, it would end as "[done] pid N ?": refuse it instead.
        fprintf(stderr, "sh: %d background jobs are running, as many as the shell tracks; wait for one to end\n",
                kMaxJobs);
        return 1;
    }
    int pid = spawn(argv[0], argv, environment);
    if (pid < 0) {
        fprintf(stderr, "sh: cannot start %s: %s\n", argv[0], error_reason(pid));
        return 126;
    }
    if (cmd.background) {
        add_job(pid, argv[0]);
        printf("[bg] pid %d %s\n", pid, argv[0]);
        return 0;
    }
    // While it runs, Ctrl-C on the console ends it and whatever it started (the kernel does it: the shell
    // reads nothing meanwhile).
    sys_mneme_set_foreground(pid);
    int status = 0;
    int waited = wait_for(pid, &status);
    sys_mneme_set_foreground(0);
    if (waited != pid) return 1;
    char how[40];
    describe_status(status, how, sizeof(how));
    printf("[%s]\n", how);
    return wait_exited(status) ? wait_exit_status(status) : 128 + wait_term_signal(status);
}

bool g_exit_requested = false;

// Runs one command line; returns its status (the last program's, as in sh's $?).
int execute(const char* line) {
    Command cmd;
    if (!parse(line, cmd)) return 2;
    if (cmd.count == 0) return 0;
    int first = 0;
    while (first < cmd.count && is_assignment(cmd.words[first])) ++first;
    if (first == cmd.count) {
        fprintf(stderr, "sh: NAME=value needs a program after it (the shell keeps no variables)\n");
        return 2;
    }
    const char* name = cmd.words[first];
    if (first == 0) {
        if (strcmp(name, "ps") == 0) return builtin_ps();
        if (strcmp(name, "mem") == 0) return builtin_mem();
        if (strcmp(name, "kill") == 0) return builtin_kill(cmd);
        if (strcmp(name, "help") == 0) return builtin_help();
        if (strcmp(name, "history") == 0) return builtin_history();
        if (strcmp(name, "monitor") == 0) {
            int result = sys_mneme_monitor();
            if (result != 0) fprintf(stderr, "monitor: %s\n", strerror(result));
            return result == 0 ? 0 : 1;
        }
        if (strcmp(name, "exit") == 0) {
            g_exit_requested = true;
            return cmd.count > 1 ? atoi(cmd.words[1]) : 0;
        }
    }
    return run_program(cmd, first);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
        int status = execute(argv[2]);
        report_finished_jobs();
        return status;
    }
    printf("Mneme shell: type `help` for commands.\n");
    char line[kLineMax];
    int status = 0;
    while (!g_exit_requested) {
        report_finished_jobs();
        printf("mneme$ ");
        LineResult result = edit_line(line);
        if (result == LineResult::EndOfInput) break;
        if (result == LineResult::Cancelled) continue;
        remember(line);
        status = execute(line);
    }
    return status;
}
