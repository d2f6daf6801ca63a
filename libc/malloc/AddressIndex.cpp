// AddressIndex.cpp: the address-ordered tree of free blocks and its searches (see AddressIndex.h).
#include "libc/malloc/AddressIndex.h"

#include "libc/base/Assert.h"

namespace Malloc {

// The in-order first node of `node`'s subtree that fits; the subtree must hold one.
AddressIndex::Node* AddressIndex::leftmost_fit(Node* node, size_t size) {
    for (;;) {
        if (largest_in(node->left) >= size) node = node->left;
        else if (AddressIndex::size(node) >= size) return node;
        else node = node->right;
    }
}

void* AddressIndex::first_fit(size_t size) const {
    Node* root = m_tree.root();
    return largest_in(root) >= size ? block_of(leftmost_fit(root, size)) : nullptr;
}

void* AddressIndex::first_fit_from(const void* from, size_t size) const {
    // Walk down towards `from`, stacking the nodes at or above it: each is, with its right subtree, the
    // next stretch of the address space above the ones stacked after it. Then try them lowest first.
    Node* stack[AvlTree<Traits>::kMaxHeight];
    int count = 0;
    Node* target = node_of(from);
    for (Node* node = m_tree.root(); node;) {
        if (node < target) {
            node = node->right;
            continue;
        }
        stack[count++] = node;
        if (node == target) break;
        node = node->left;
    }
    while (count > 0) {
        Node* node = stack[--count];
        if (AddressIndex::size(node) >= size) return block_of(node);
        if (largest_in(node->right) >= size) return block_of(leftmost_fit(node->right, size));
    }
    return nullptr;
}

void* AddressIndex::largest() const {
    Node* root = m_tree.root();
    return root ? block_of(leftmost_fit(root, largest_in(root))) : nullptr;
}

void* AddressIndex::lowest_minimum() const {
    Node* node = m_tree.root();
    if (!has_minimum(node)) return nullptr;
    for (;;) {
        if (has_minimum(node->left)) node = node->left;
        else if (size(node) == FitLayout::kMinimumBlock) return block_of(node);
        else node = node->right;
    }
}

void* AddressIndex::successor(const void* block) const {
    Node* target = node_of(block);
    Node* found = nullptr;
    for (Node* node = m_tree.root(); node;) {
        if (node > target) {
            found = node;
            node = node->left;
        } else {
            node = node->right;
        }
    }
    return found ? block_of(found) : nullptr;
}

void AddressIndex::for_each(const Node* node, void (*visit)(void* block, void* context), void* context) {
    for (; node; node = node->right) {
        for_each(node->left, visit, context);
        visit(block_of(node), context);
    }
}

void AddressIndex::drain(void (*visit)(void* block, void* context), void* context) {
    // In order with an explicit stack: a node's left link is read on the way down and its right link just
    // before it is visited, so nothing is read from a node after `visit` has had it.
    Node* stack[AvlTree<Traits>::kMaxHeight];
    int count = 0;
    Node* node = m_tree.root();
    m_tree.reset();
    while (node || count > 0) {
        for (; node; node = node->left) stack[count++] = node;
        node = stack[--count];
        Node* right = node->right;
        visit(block_of(node), context);
        node = right;
    }
}

size_t AddressIndex::check(const Node* node) {
    if (!node) return 0;
    size_t count = check(node->left) + check(node->right) + 1;
    VERIFY(summary_of(node) == node->summary);  // the children's are right already
    return count;
}

size_t AddressIndex::check() const {
    AvlTree<Traits>::check(m_tree.root());
    return check(m_tree.root());
}

}  // namespace Malloc
