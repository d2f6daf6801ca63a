// SizeIndex.h: the free blocks larger than the minimum, ordered by (size, address) in a balanced tree, so
// best fit -- the smallest block that fits, the lowest address among equals -- is one walk down, O(log n).
//
// The node is two words in the block, right after the header (FitLayout.h):
//
//     | header 16 | left | balance + 1 (bits 0-1) | right | ... | footer |
//
// That is where an AddressIndex node would lie: under best fit a block is in one tree only (FitIndex.h).
// Next to the header, a step down the tree usually reads one cache line, the size and the links together;
// when the node lay after the address node's three words, most steps read two. Under cachegrind, perl
// building a 100 000-key hash with best fit (tests/bench/malloc-programs.sh) missed the L1 data cache
// 4.73 million times against 5.80 million; its wall time moved less than the machine's noise.
//
// Blocks are 16-byte aligned, so the balance factor fits in the low bits of the left link. A block of the
// minimum size stays in the AddressIndex; AddressIndex::lowest_minimum finds those, and since no block is
// smaller, a request they fit is best served by the lowest-addressed of them.
#pragma once

#include "libc/base/Types.h"
#include "libc/malloc/AvlTree.h"
#include "libc/malloc/FitLayout.h"

namespace Malloc {

class SizeIndex {
public:
    // Where the node starts in the block: right after the header, where the address index's node would be.
    static constexpr size_t kNodeOffset = FitLayout::kHeaderBytes;
    static constexpr size_t kNodeBytes = 2 * sizeof(void*);

    SizeIndex() = default;
    MNEME_NONCOPYABLE(SizeIndex);
    MNEME_NONMOVABLE(SizeIndex);

    // Only blocks larger than the minimum belong here; `block`'s header is written and, for remove, not yet
    // changed (its size is the key).
    static bool holds(const void* block) { return FitLayout::size_of_block(block) > FitLayout::kMinimumBlock; }
    void insert(void* block) { m_tree.insert(node_of(block)); }
    void remove(void* block) { m_tree.remove(node_of(block)); }
    // Forgets every block (FitAllocator going back to its list).
    void clear() { m_tree.reset(); }
    // Calls `visit` on every block, smallest first; `visit` may write over the block's node (its links are
    // read before the visit), so FitIndex::drain can insert each block into the address tree as it goes.
    void for_each(void (*visit)(void* block, void* context), void* context) const {
        for_each(m_tree.root(), visit, context);
    }

    // The smallest block of at least `size` bytes, the lowest-addressed among equals; nullptr when none.
    void* smallest_fit(size_t size) const;

    // Order and balance; returns the number of blocks. For check_invariants.
    size_t check() const;

private:
    struct Node {
        uptr left_and_balance;
        Node* right;
    };
    static constexpr uptr kBalanceMask = 3;
    static_assert(FitLayout::kMinimumBlock + FitLayout::kAlignment >= kNodeOffset + sizeof(Node) + sizeof(uptr));

    struct Traits {
        using Node = SizeIndex::Node;
        static Node* left(Node* node) { return reinterpret_cast<Node*>(node->left_and_balance & ~kBalanceMask); }
        static Node* right(Node* node) { return node->right; }
        static void set_left(Node* node, Node* child) {
            node->left_and_balance = reinterpret_cast<uptr>(child) | (node->left_and_balance & kBalanceMask);
        }
        static void set_right(Node* node, Node* child) { node->right = child; }
        static int balance(Node* node) { return static_cast<int>(node->left_and_balance & kBalanceMask) - 1; }
        static void set_balance(Node* node, int balance) {
            node->left_and_balance = (node->left_and_balance & ~kBalanceMask) | static_cast<uptr>(balance + 1);
        }
        static bool less(Node* a, Node* b) {
            size_t size_a = size(a), size_b = size(b);
            return size_a != size_b ? size_a < size_b : a < b;
        }
        static bool update(Node*) { return false; }
    };

    static Node* node_of(const void* block) {
        return reinterpret_cast<Node*>(reinterpret_cast<uptr>(block) + kNodeOffset);
    }
    static void* block_of(const Node* node) { return reinterpret_cast<void*>(reinterpret_cast<uptr>(node) - kNodeOffset); }
    static size_t size(const Node* node) { return FitLayout::size_of_block(block_of(node)); }
    static size_t count(const Node* node);
    static void for_each(const Node* node, void (*visit)(void* block, void* context), void* context);

    AvlTree<Traits> m_tree;
};

}  // namespace Malloc
