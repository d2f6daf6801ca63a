// PageFault.h: the page-fault handler; see PageFault.cpp.
#pragma once

#include "arch/i386/TrapFrame.h"

namespace page_fault {

void initialize();
// The process layer's handler for faults in ring 3: `address` is CR2.
using UserHandler = void (*)(TrapFrame& frame, u32 address);
void set_user_handler(UserHandler handler);

}  // namespace page_fault
