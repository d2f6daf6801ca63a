// FitIndex.h: the indexed fit policies' free-block set -- the same placement decisions as the free list,
// found in O(log n).
//
// FitAllocator keeps its free blocks either in one address-ordered list (the list versions: first-list,
// next-list, best-list, worst-list, the ones a lab writes) or here (the indexed policies, once the heap has
// more free blocks than FitAllocator::Options::list_limit; below it they use the list). The heap layout, splitting and
// coalescing are the same code either way; only the search differs, and it must pick the very block the
// list would:
//
//   first  the lowest-addressed block that fits          AddressIndex::first_fit
//   next   the first that fits at or after the rover,    AddressIndex::first_fit_from(rover), else first_fit
//          wrapping round to the lowest address
//   best   the smallest that fits, lowest address among  SizeIndex::smallest_fit, or the lowest block of the
//          equals                                        minimum size (AddressIndex::lowest_minimum)
//   worst  the largest, lowest address among equals      AddressIndex::largest
//
//   AddressIndex: every free block, by address; [address size | largest size in the subtree]
//
//                                  [0x5000  96 | 4000]
//                                 /                   \    (sizes in bytes)
//                  [0x1200 4000 | 4000]         [0x9000 48 | 1024]
//                  /                                  \    (48: the minimum)
//        [0x0100 160 | 160]                    [0xA000 1024 | 1024]
//
//   first fit of 1000 bytes: the root's left subtree holds 4000 >= 1000, go left; 0x1200's left holds only
//   160, and 0x1200 itself fits: done, in one walk down. The list would have compared 0x0100 first.
//
// Each policy keeps one tree per block. First, next and worst fit keep every free block in the AddressIndex
// and no SizeIndex. Best fit keeps the blocks above the minimum size in the SizeIndex and only the
// minimum-size ones (which have no room for a size node) in the AddressIndex: it never asks the address
// order of the others, and a block in two trees paid for two walks on every update (when it stopped, best
// fit's `compiler` workload in build/bench/malloc_fit went from 0.107-0.115 s to 0.079-0.093 s), and so
// both nodes can start right after the header, next to the size they are sorted by. Every
// operation is O(log n): AVL trees (AvlTree.h) stay within 1.44 log2 n of perfect.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Types.h"
#include "libc/malloc/AddressIndex.h"
#include "libc/malloc/SizeIndex.h"

namespace Malloc {

enum class FitStrategy : u8 { First, Next, Best, Worst };

class FitIndex {
public:
    // The bytes of a free block's payload the index uses: what malloc_trim must not discard.
    // Both nodes start right after the header; the address node is the longer.
    static constexpr size_t kNodeBytes = AddressIndex::kNodeBytes;
    static_assert(SizeIndex::kNodeOffset == FitLayout::kHeaderBytes && SizeIndex::kNodeBytes <= kNodeBytes);

    explicit FitIndex(FitStrategy strategy) : m_by_size(strategy == FitStrategy::Best) {}
    MNEME_NONCOPYABLE(FitIndex);
    MNEME_NONMOVABLE(FitIndex);

    // Blocks by header address, with their header (size) written, as for FitAllocator's list.
    void insert(void* block);
    void remove(void* block);
    // A block in the set changes size: resizing() before its header (or anything past its address node)
    // changes -- the size order reads its key and links there -- and resized() after.
    void resizing(void* block);
    void resized(void* block);
    // `replacement` (header written) takes `block`'s place; no free block lies between them. resizing(block)
    // came first: the replacement's header may lie over the block's size-order links (a split at the
    // minimum size puts it 48 bytes up, inside them).
    void replace(void* block, void* replacement);

    // The block the policy picks for `size` bytes, nullptr when none fits. `rover`: next fit's starting
    // block (a free block), or nullptr to start at the lowest address.
    void* find(FitStrategy strategy, size_t size, const void* rover) const;
    // The next free block above `block`, nullptr at the top: where next fit's rover goes when its block
    // leaves the set, as in the list. Not under best fit, whose address tree holds only the smallest blocks.
    void* successor(const void* block) const {
        VERIFY(!m_by_size);
        return m_by_address.successor(block);
    }

    // Calls `visit` on every free block: in address order, except under best fit (the minimum-size blocks
    // in address order, then the others by size).
    void for_each(void (*visit)(void* block, void* context), void* context) const {
        m_by_address.for_each(visit, context);
        if (m_by_size) m_by_size_index.for_each(visit, context);
    }
    bool in_address_order() const { return !m_by_size; }
    // Empties the index, calling `visit` on every block in address order; `visit` may write over the
    // block's payload (the index has read its node for the last time). Best fit's larger blocks join the
    // address tree first (the size tree's walk reads each node's links before the address node is written
    // over them): O(n log n).
    void drain(void (*visit)(void* block, void* context), void* context);
    // Both trees are consistent and hold as many blocks as the heap has free blocks (of more than the
    // minimum size, for the size index). For check_invariants.
    void check(size_t free_blocks, size_t larger_free_blocks) const;

private:
    bool m_by_size;
    AddressIndex m_by_address;
    SizeIndex m_by_size_index;
};

}  // namespace Malloc
