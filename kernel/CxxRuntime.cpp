// CxxRuntime.cpp: the few C++ runtime hooks a freestanding kernel must provide (Itanium C++ ABI 3.2.6 for
// __cxa_pure_virtual). operator new/delete arrive with the kernel heap.
#include "libc/base/Assert.h"

extern "C" void __cxa_pure_virtual() { mneme_panic("pure virtual function called"); }
