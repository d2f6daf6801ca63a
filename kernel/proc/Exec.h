// Exec.h: loading an ELF program from the initrd into a fresh user address space (execve's core).
//
// The program file is validated first (format/Elf32.h), then every PT_LOAD segment becomes a region: its
// file bytes copied into new frames, the pages entirely past the file bytes (bss) left to demand-zero
// faults. The heap starts after the last segment. The stack region takes the top 8 MiB below 0xC0000000;
// its top page receives the arguments in the Linux i386 layout the C library's crt0 expects:
//
//   esp -> argc, argv[0] .. argv[argc-1], NULL, envp[0] .. NULL, then the strings themselves
#pragma once

#include "kernel/memmodel/PagedMemory.h"
#include "mm/vm/UserLayout.h"

namespace exec {

constexpr u32 kMaxArguments = 64;
constexpr u32 kArgumentBytes = 4096;

// Arguments and environment copied into the kernel (the old image may be gone when they are needed).
struct Arguments {
    char strings[kArgumentBytes];
    u32 used = 0;
    u32 argc = 0, envc = 0;
    const char* argv[kMaxArguments];
    const char* envp[kMaxArguments];

    ErrorOr<void> add_argument(const char* text);
    ErrorOr<void> add_environment(const char* text);
};

struct Image {
    u32 entry;
    u32 stack_pointer;
    MemoryModel* memory;  // the new process memory, owned by the caller from here on
};

// The model a program runs under: MNEME_MEMORY=NAME in its environment, else the boot option memory=.
// An unknown name sets `error`.
MemoryModelKind model_for(const Arguments& arguments, ExplainedError& error);
MemoryModelKind default_model();
void set_default_model(MemoryModelKind model);

// Lays out argc, argv, envp and their strings below `top` (the region [bottom, top) is added first); returns
// the initial ESP.
ErrorOr<u32> build_stack(MemoryModel& memory, const Arguments& arguments, u32 top, u32 bottom);

// The older memory models (kernel/proc/ExecArena.cpp): the program (/bin/NAME, linked with its relocations)
// placed in the arena and re-linked for it.
ErrorOr<Image, ExplainedError> load_into_arena(const char* path, const Arguments& arguments, MemoryModelKind model);

// Builds a new process memory from the program at `path`, under the model model_for() chooses. On error nothing is left behind and the error's
// reason says why in words ("not a program Mneme can run: not an ELF file (no \x7fELF magic)"); the path is
// the caller's to add.
ErrorOr<Image, ExplainedError> load(const char* path, const Arguments& arguments);

}  // namespace exec
