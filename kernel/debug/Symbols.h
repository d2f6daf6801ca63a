// Symbols.h: the kernel's own symbol table, for backtraces with function names.
//
// The build links the kernel twice: tools/gen-ksyms.sh turns the first image's text symbols (demangled,
// sorted by address) into the .ksyms section of the second (see the Makefile and linker.ld).
#pragma once

#include "libc/base/Types.h"

namespace symbols {

struct Lookup {
    const char* name;  // nullptr when the address is outside the kernel's text
    u32 offset;        // address - symbol start
};

Lookup find(u32 address);
u32 count();
// Prints "0xc0101234 <kmain+0x12>" (or just the address).
void print_address(u32 address);
// Walks the EBP chain from `ebp`, printing up to `max_frames` return addresses, starting with `eip`.
void print_backtrace(u32 eip, u32 ebp, int max_frames = 16);

}  // namespace symbols
