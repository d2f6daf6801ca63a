// Vga.h: the VGA text-mode console (80x25 at physical 0xB8000), a mirror of the serial console for a QEMU
// window or a real screen.
#pragma once

#include "libc/base/Types.h"

namespace vga {

// `buffer` is the virtual address of the text buffer (the kernel maps physical 0xB8000).
void initialize(uptr buffer);
void write(const char* text, size_t length);
void clear();

}  // namespace vga
