// AvlTree.h: a height-balanced binary search tree over intrusive nodes, with no parent links and no memory
// of its own -- the skeleton of the fit allocators' indexes (AddressIndex, SizeIndex).
//
// Adelson-Velsky and Landis (1962); the rotations and the insertion and deletion cases follow Knuth, TAOCP
// vol. 3, 6.2.3 (Algorithm A) and Wirth's "Algorithms + Data Structures = Programs". Every node keeps its
// balance factor, height(right) - height(left), in {-1, 0, +1}; then a tree of n nodes is at most
// 1.44 log2(n + 2) high, so each operation touches O(log n) nodes.
//
// The nodes live inside free memory blocks, where there is room for two links and one word more, not for a
// parent link. So each operation first records its path from the root (at most kMaxHeight steps, on the
// stack) and then walks it back up, rebalancing and recomputing each node's augmentation -- a value the
// Traits derive from a node and its children (the address index keeps the largest block size in each
// subtree). The Traits, a class with only static functions, say everything about a node:
//
//   Node* left(Node*), right(Node*)          set_left(Node*, Node*), set_right(Node*, Node*)
//   int balance(Node*)  (-1, 0, +1)          set_balance(Node*, int)
//   bool less(Node* a, Node* b)              the order; two nodes are never equal
//   bool update(Node*)                       recompute the node's augmentation from itself and its children;
//                                            false: it did not change (so no ancestor's will either)
//
// Invariants (Traits' check functions test them): in-order is increasing; every balance factor is the
// difference of the subtree heights and lies in {-1, 0, +1}; every augmentation is up to date.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Types.h"

namespace Malloc {

template <typename Traits>
class AvlTree {
public:
    using Node = typename Traits::Node;
    // 1.44 log2(n + 2) for n < 2^59 (a 32-byte block at least, in a 64-bit address space) is below 88.
    static constexpr int kMaxHeight = 96;

    Node* root() const { return m_root; }
    // Forgets every node at once (their links are left as they were): the caller has taken them out.
    void reset() { m_root = nullptr; }

    // `node` is in no tree; its links are overwritten.
    void insert(Node* node) {
        Step path[kMaxHeight];
        int depth = 0;
        for (Node* at = m_root; at;) {
            VERIFY(depth < kMaxHeight);
            bool right = Traits::less(at, node);
            path[depth++] = {at, right};
            at = right ? Traits::right(at) : Traits::left(at);
        }
        Traits::set_left(node, nullptr);
        Traits::set_right(node, nullptr);
        Traits::set_balance(node, 0);
        Traits::update(node);
        link(path, depth, node);
        bool grew = true;
        for (int i = depth - 1; i >= 0; --i) {
            Node* parent = path[i].node;
            if (!grew) {
                if (!Traits::update(parent)) break;
                continue;
            }
            int balance = Traits::balance(parent) + (path[i].right ? 1 : -1);
            if (balance == 0 || balance == 1 || balance == -1) {
                Traits::set_balance(parent, balance);
                Traits::update(parent);
                grew = balance != 0;
            } else {
                link(path, i, rebalance(parent, balance));  // after an insertion the height is as before
                grew = false;
            }
        }
    }

    // `node` is in this tree.
    void remove(Node* node) {
        Step path[kMaxHeight];
        int depth = path_to(node, path);
        int top = depth;
        Node* replacement;
        if (Traits::left(node) && Traits::right(node)) {
            // Two children: the successor (the leftmost node of the right subtree) takes the node's place.
            path[top++] = {node, true};
            Node* successor = Traits::right(node);
            while (Traits::left(successor)) {
                VERIFY(top < kMaxHeight);
                path[top++] = {successor, false};
                successor = Traits::left(successor);
            }
            if (path[top - 1].node != node) Traits::set_left(path[top - 1].node, Traits::right(successor));
            else Traits::set_right(node, Traits::right(successor));
            Traits::set_left(successor, Traits::left(node));
            Traits::set_right(successor, Traits::right(node));
            Traits::set_balance(successor, Traits::balance(node));
            path[depth].node = successor;
            replacement = successor;
        } else {
            replacement = Traits::left(node) ? Traits::left(node) : Traits::right(node);
        }
        link(path, depth, replacement);
        bool shrank = true;
        for (int i = top - 1; i >= 0; --i) {
            Node* parent = path[i].node;
            if (!shrank) {
                // Above the removed node's place, an unchanged augmentation stops the walk; below it (the
                // successor's old path) the successor's own, moved up, is still to be computed.
                if (!Traits::update(parent) && i < depth) break;
                continue;
            }
            int balance = Traits::balance(parent) + (path[i].right ? -1 : 1);
            if (balance == 0 || balance == 1 || balance == -1) {
                Traits::set_balance(parent, balance);
                Traits::update(parent);
                shrank = balance == 0;
            } else {
                Node* subtree = rebalance(parent, balance);
                link(path, i, subtree);
                shrank = Traits::balance(subtree) == 0;
            }
        }
    }

    // `replacement` (in no tree) takes `node`'s place; the caller guarantees it sorts in the same position.
    void replace(Node* node, Node* replacement) {
        Step path[kMaxHeight];
        int depth = path_to(node, path);
        Traits::set_left(replacement, Traits::left(node));
        Traits::set_right(replacement, Traits::right(node));
        Traits::set_balance(replacement, Traits::balance(node));
        link(path, depth, replacement);
        Traits::update(replacement);
        for (int i = depth - 1; i >= 0 && Traits::update(path[i].node); --i) {
        }
    }

    // What `update` derives from `node` changed (not its place in the order): recompute up to the root.
    void refresh(Node* node) {
        Step path[kMaxHeight];
        int depth = path_to(node, path);
        if (!Traits::update(node)) return;
        for (int i = depth - 1; i >= 0 && Traits::update(path[i].node); --i) {
        }
    }

    // Checks order and balance below `node`; returns the subtree's height. For check_invariants.
    static int check(const Node* node, const Node* low = nullptr, const Node* high = nullptr) {
        if (!node) return 0;
        Node* at = const_cast<Node*>(node);
        if (low) VERIFY(Traits::less(const_cast<Node*>(low), at));
        if (high) VERIFY(Traits::less(at, const_cast<Node*>(high)));
        int left = check(Traits::left(at), low, node);
        int right = check(Traits::right(at), node, high);
        VERIFY(Traits::balance(at) == right - left);
        return (left > right ? left : right) + 1;
    }

private:
    struct Step {
        Node* node;
        bool right;  // the path went on to this node's right child
    };

    // Records the path from the root down to `node`'s parent; returns its length.
    int path_to(Node* node, Step* path) const {
        int depth = 0;
        for (Node* at = m_root; at != node;) {
            VERIFY(at && depth < kMaxHeight);  // a node that is not in the tree: an allocator bug
            bool right = Traits::less(at, node);
            path[depth++] = {at, right};
            at = right ? Traits::right(at) : Traits::left(at);
        }
        return depth;
    }

    // Makes `child` the child that path[depth - 1] leads to (the root when depth is 0).
    void link(Step* path, int depth, Node* child) {
        if (depth == 0) m_root = child;
        else if (path[depth - 1].right) Traits::set_right(path[depth - 1].node, child);
        else Traits::set_left(path[depth - 1].node, child);
    }

    static Node* rotate_left(Node* node) {
        Node* pivot = Traits::right(node);
        Traits::set_right(node, Traits::left(pivot));
        Traits::set_left(pivot, node);
        Traits::update(node);
        Traits::update(pivot);
        return pivot;
    }
    static Node* rotate_right(Node* node) {
        Node* pivot = Traits::left(node);
        Traits::set_left(node, Traits::right(pivot));
        Traits::set_right(pivot, node);
        Traits::update(node);
        Traits::update(pivot);
        return pivot;
    }

    // `node`'s balance would be `balance` (+2 or -2): rotates, fixes the balance factors and returns the new
    // root of the subtree. Knuth's cases A8/A9 (single rotation) and A10 (double rotation).
    static Node* rebalance(Node* node, int balance) {
        int side = balance > 0 ? 1 : -1;
        Node* child = side > 0 ? Traits::right(node) : Traits::left(node);
        int child_balance = Traits::balance(child);
        if (child_balance == -side) {
            Node* grandchild = side > 0 ? Traits::left(child) : Traits::right(child);
            int grandchild_balance = Traits::balance(grandchild);
            Traits::set_balance(node, grandchild_balance == side ? -side : 0);
            Traits::set_balance(child, grandchild_balance == -side ? side : 0);
            Traits::set_balance(grandchild, 0);
            if (side > 0) {
                Traits::set_right(node, rotate_right(child));
                return rotate_left(node);
            }
            Traits::set_left(node, rotate_left(child));
            return rotate_right(node);
        }
        // A single rotation; a child in balance happens only after a deletion, and keeps the height.
        Traits::set_balance(node, child_balance == 0 ? side : 0);
        Traits::set_balance(child, child_balance == 0 ? -side : 0);
        return side > 0 ? rotate_left(node) : rotate_right(node);
    }

    Node* m_root = nullptr;
};

}  // namespace Malloc
