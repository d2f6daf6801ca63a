// Symbols.cpp: address-to-name lookup by binary search, and the frame-pointer backtrace.
//
// Every function is compiled with -fno-omit-frame-pointer, so [ebp] holds the caller's ebp and [ebp+4]
// the return address (System V i386 psABI, 3.2.2 "The Stack Frame"). The walk stops at ebp = 0 (set by
// boot.asm and by every new kernel stack), at a non-increasing or misaligned ebp, or outside the kernel.
#include "kernel/debug/Symbols.h"

#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"

struct KernelSymbol {
    u32 address;
    u32 name_offset;
};
extern "C" const u32 kernel_symbol_count;
extern "C" const KernelSymbol kernel_symbol_table[];
extern "C" const char kernel_symbol_names[];

namespace symbols {

u32 count() { return kernel_symbol_count; }

Lookup find(u32 address) {
    if (address < reinterpret_cast<u32>(__text_start) || address >= reinterpret_cast<u32>(__text_end))
        return {nullptr, 0};
    u32 low = 0, high = kernel_symbol_count;
    // Find the last symbol whose address is <= address.
    while (low < high) {
        u32 middle = low + (high - low) / 2;
        if (kernel_symbol_table[middle].address <= address)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0) return {nullptr, 0};
    const KernelSymbol& symbol = kernel_symbol_table[low - 1];
    return {kernel_symbol_names + symbol.name_offset, address - symbol.address};
}

namespace {
// Names `address` by the symbol containing `lookup_address` (they differ for return addresses).
void print_named(u32 address, u32 lookup_address) {
    Lookup lookup = find(lookup_address);
    u32 offset = lookup.offset + (address - lookup_address);
    if (!lookup.name)
        kprintf("0x%08x", address);
    else if (offset == 0)
        kprintf("0x%08x <%s>", address, lookup.name);
    else
        kprintf("0x%08x <%s+0x%x>", address, lookup.name, offset);
}
}  // namespace

void print_address(u32 address) { print_named(address, address); }

void print_backtrace(u32 eip, u32 ebp, int max_frames) {
    kprintf("Backtrace:\n");
    kprintf("  #0  ");
    print_address(eip);
    kprintf("\n");
    u32 previous = 0;
    u32 repeats = 0;
    int frame = 1;
    for (int walked = 0; walked < 1024 && frame < max_frames && ebp; ++walked) {
        if (ebp < layout::kKernelBase || (ebp & 3)) break;
        const u32* words = reinterpret_cast<const u32*>(ebp);
        u32 return_address = words[1];
        u32 next = words[0];
        if (return_address == 0) break;
        // Deep recursion repeats one frame many times: show it once and count the rest.
        if (return_address == previous) {
            ++repeats;
        } else {
            if (repeats) kprintf("      ... the same frame %u more times\n", repeats);
            repeats = 0;
            kprintf("  #%-2d ", frame++);
            // The return address points after the call, which may be the first byte of the next function
            // when the call was the last instruction (a noreturn call): look up the call itself.
            print_named(return_address, return_address - 1);
            kprintf("\n");
        }
        previous = return_address;
        if (next <= ebp) break;
        ebp = next;
    }
    if (repeats) kprintf("      ... the same frame %u more times\n", repeats);
}

}  // namespace symbols
