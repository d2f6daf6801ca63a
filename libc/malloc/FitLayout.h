// FitLayout.h: what the fit heap's free-block indexes may know about a block (FitAllocator.h has the rest).
//
// Every block starts with a 16-byte header whose first word is the block's size in bytes, a multiple of
// 16, with flags in the low bits. A free block's payload, from byte 16 up to its footer (its last word), is
// free for an index to keep its links in: at least three words, since the smallest block holds a header,
// three words and the footer. The list version keeps two links there (FitAllocator), the indexed version
// an AddressIndex node (three words) or, under best fit in blocks larger than the smallest, a SizeIndex node
// (two words) in the same place.
#pragma once

#include "libc/base/Types.h"

namespace Malloc::FitLayout {

constexpr size_t kAlignment = 16;
constexpr size_t kHeaderBytes = 16;
// Header, three words and a footer, rounded up: 48 bytes on x86-64, 32 on i386.
constexpr size_t kMinimumBlock = align_up<size_t>(kHeaderBytes + 3 * sizeof(void*), kAlignment);

inline size_t size_of_block(const void* block) { return *static_cast<const uptr*>(block) & ~uptr(kAlignment - 1); }

}  // namespace Malloc::FitLayout
