// CxxRuntime.cpp: the few C++ runtime hooks a freestanding kernel must provide (Itanium C++ ABI 3.2.6 for
// __cxa_pure_virtual). operator new/delete arrive with the kernel heap.
#include "libc/base/Assert.h"

extern "C" void __cxa_pure_virtual() { mneme_panic("pure virtual function called"); }

// Destructors of function-local statics are registered with atexit (with -fno-use-cxa-atexit). The kernel
// never exits, so there is nothing to register them for.
extern "C" int atexit(void (*)()) { return 0; }
