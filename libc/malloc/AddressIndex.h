// AddressIndex.h: the free blocks of a fit heap in address order, as a balanced tree in which every node
// also knows the largest block in its subtree -- so "the lowest-addressed block of at least n bytes" is one
// walk down the tree, O(log n), where the free list walks every block below it.
//
// Each free block holds its own node, three words at its payload (FitLayout.h):
//
//     | header 16 | left | right | summary |   ...   | footer |
//     summary = largest block size in the subtree | has-minimum (bit 2) | balance + 1 (bits 0-1)
//
// Sizes are multiples of 16, so the low bits of the summary are free for the AVL balance factor and for a
// flag saying whether the subtree holds a block of the minimum size (best fit finds those here, since a
// minimum-size block has no room for a SizeIndex node). An interval tree by another name: Cormen, Leiserson,
// Rivest and Stein, "Introduction to Algorithms", 14.2-14.3, augment a red-black tree the same way.
//
// Queries (all O(log n); "fits" means size >= n):
//   first_fit(n)          the lowest-addressed block that fits                        (first fit)
//   first_fit_from(a, n)  the lowest-addressed block at or above a that fits          (next fit)
//   largest()             the lowest-addressed block among the largest                (worst fit)
//   lowest_minimum()      the lowest-addressed block of the minimum size              (best fit, with SizeIndex)
//   successor(b)          the next free block above b                                 (next fit's rover)
#pragma once

#include "libc/base/Types.h"
#include "libc/malloc/AvlTree.h"
#include "libc/malloc/FitLayout.h"

namespace Malloc {

class AddressIndex {
public:
    // The node: three words right after the header.
    static constexpr size_t kNodeBytes = 3 * sizeof(void*);
    AddressIndex() = default;
    MNEME_NONCOPYABLE(AddressIndex);
    MNEME_NONMOVABLE(AddressIndex);

    // Blocks are given and returned by their header address; their size is read from the header.
    void insert(void* block) { m_tree.insert(node_of(block)); }
    void remove(void* block) { m_tree.remove(node_of(block)); }
    // `replacement` takes `block`'s place: no other free block lies between them. Its header is written.
    void replace(void* block, void* replacement) { m_tree.replace(node_of(block), node_of(replacement)); }
    // The block's size changed in its header.
    void resized(void* block) { m_tree.refresh(node_of(block)); }

    void* first_fit(size_t size) const;
    void* first_fit_from(const void* from, size_t size) const;
    void* largest() const;
    void* lowest_minimum() const;
    void* successor(const void* block) const;
    bool empty() const { return !m_tree.root(); }

    // Calls `visit` on every block, in address order.
    void for_each(void (*visit)(void* block, void* context), void* context) const {
        for_each(m_tree.root(), visit, context);
    }
    // Empties the index, calling `visit` on every block in address order -- each after the index has read
    // its node for the last time, so `visit` may write over it (FitAllocator threads its list there).
    void drain(void (*visit)(void* block, void* context), void* context);
    // Order, balance and every summary; returns the number of blocks. For check_invariants.
    size_t check() const;

private:
    struct Node {
        Node* left;
        Node* right;
        uptr summary;
    };
    static_assert(sizeof(Node) == kNodeBytes);
    static constexpr uptr kHasMinimum = 4;
    static constexpr uptr kBalanceMask = 3;
    static_assert(FitLayout::kMinimumBlock >= FitLayout::kHeaderBytes + sizeof(Node) + sizeof(uptr));

    struct Traits {
        using Node = AddressIndex::Node;
        static Node* left(Node* node) { return node->left; }
        static Node* right(Node* node) { return node->right; }
        static void set_left(Node* node, Node* child) { node->left = child; }
        static void set_right(Node* node, Node* child) { node->right = child; }
        static int balance(Node* node) { return static_cast<int>(node->summary & kBalanceMask) - 1; }
        static void set_balance(Node* node, int balance) {
            node->summary = (node->summary & ~kBalanceMask) | static_cast<uptr>(balance + 1);
        }
        static bool less(Node* a, Node* b) { return a < b; }
        static bool update(Node* node) {
            uptr summary = summary_of(node);
            if (summary == node->summary) return false;
            node->summary = summary;
            return true;
        }
    };

    static Node* node_of(const void* block) {
        return reinterpret_cast<Node*>(reinterpret_cast<uptr>(block) + FitLayout::kHeaderBytes);
    }
    static void* block_of(const Node* node) {
        return reinterpret_cast<void*>(reinterpret_cast<uptr>(node) - FitLayout::kHeaderBytes);
    }
    static size_t size(const Node* node) { return FitLayout::size_of_block(block_of(node)); }
    static size_t largest_in(const Node* node) { return node ? node->summary & ~(kHasMinimum | kBalanceMask) : 0; }
    static bool has_minimum(const Node* node) { return node && (node->summary & kHasMinimum); }
    // The summary `node` should have, from its own size and its children's summaries.
    static uptr summary_of(const Node* node) {
        size_t own = size(node);
        size_t largest = own;
        if (largest_in(node->left) > largest) largest = largest_in(node->left);
        if (largest_in(node->right) > largest) largest = largest_in(node->right);
        bool minimum = own == FitLayout::kMinimumBlock || has_minimum(node->left) || has_minimum(node->right);
        return largest | (minimum ? kHasMinimum : 0) | (node->summary & kBalanceMask);
    }
    static Node* leftmost_fit(Node* node, size_t size);
    static size_t check(const Node* node);
    static void for_each(const Node* node, void (*visit)(void* block, void* context), void* context);

    AvlTree<Traits> m_tree;
};

}  // namespace Malloc
