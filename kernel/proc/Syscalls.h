// Syscalls.h: installs the system-call gate's handler (see Syscalls.cpp).
#pragma once

namespace syscalls {
void initialize();
}
