// Initrd.h: the initial ramdisk: a ustar archive (format/Ustar.h) the loader passes as the first multiboot
// module (QEMU -initrd, GRUB `module`). Programs live in it as bin/NAME.
#pragma once

#include "format/Ustar.h"

namespace initrd {

// Validates the archive once at boot: a damaged archive is reported and treated as absent.
void initialize();
bool present();
// Finds a program: "/bin/sh", "bin/sh" and "sh" (a bare name means bin/NAME).
ErrorOr<UstarMember> find_program(const char* path);
// Prints the members (the monitor's `ls`).
void list();

}  // namespace initrd
