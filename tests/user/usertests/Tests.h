// Tests.h: every user-level test, by the file that holds it. Main.cpp runs them in the order it lists.
#pragma once

namespace usertests {

// Exec.cpp: starting programs, argv and the environment, the shell.
void test_exec_hello();
void test_exec_bare_name();
void test_exec_failures();
void test_exec_reason();
void test_argv_env();
void test_shell_command();

// Processes.cpp: fork, waitpid, orphans, zombies, kill, mneme_procinfo.
void test_fork_exit_status();
void test_fork_returns_pids();
void test_waitpid_semantics();
void test_orphan_reparenting();
void test_zombie();
void test_kill();
void test_procinfo();

// Cow.cpp: copy-on-write after fork.
void test_cow();

// Memory.cpp: brk, mmap, mprotect, stack growth.
void test_brk();
void test_mmap();
void test_mprotect();
void test_stack_growth();

// Segments.cpp: the older memory models (user.segments.*).
bool segments_have_an_arena();
void test_segments_no_arena();
void test_segments_hello();
void test_segments_static_scribbles();
void test_segments_bounds_protect();
void test_segments_limits();
void test_segments_move();
void test_segments_compaction();
void test_segments_arena_free();
void test_segments_shared_code();
void test_segments_roll_out();
void test_segments_code_write();

// Hostile.cpp: programs that misbehave on purpose (user.hostile.*).
void run_hostile_tests();

// Compute.cpp: many processes at once.
void test_compute_parallel();
void test_smp_stress();

// Interrupts.cpp: a long system call keeps the clock and the other processes running.
void test_big_write_keeps_the_clock();

// Swap.cpp: pages to the disk and back (user.swap.*).
void test_swap_integrity();
void test_swap_four_at_once();
void test_swap_fork();
void test_swap_exhausted();
void test_swap_read_error();

// Malloc.cpp: malloctest under every policy (user.malloctest.*), heap misuse.
void run_malloctest_tests();
void test_malloc_misuse();

}  // namespace usertests
