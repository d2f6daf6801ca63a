// SizeIndex.cpp: the size-ordered tree of free blocks (see SizeIndex.h).
#include "libc/malloc/SizeIndex.h"

namespace Malloc {

void* SizeIndex::smallest_fit(size_t size) const {
    // The lower bound of (size, lowest address): the leftmost node whose size is at least `size`.
    Node* found = nullptr;
    for (Node* node = m_tree.root(); node;) {
        if (SizeIndex::size(node) >= size) {
            found = node;
            node = Traits::left(node);
        } else {
            node = node->right;
        }
    }
    return found ? block_of(found) : nullptr;
}

void SizeIndex::for_each(const Node* node, void (*visit)(void* block, void* context), void* context) {
    while (node) {
        Node* right = node->right;  // read before the visit, which may write over the node
        for_each(Traits::left(const_cast<Node*>(node)), visit, context);
        visit(block_of(node), context);
        node = right;
    }
}

size_t SizeIndex::count(const Node* node) {
    if (!node) return 0;
    return count(Traits::left(const_cast<Node*>(node))) + count(node->right) + 1;
}

size_t SizeIndex::check() const {
    AvlTree<Traits>::check(m_tree.root());
    return count(m_tree.root());
}

}  // namespace Malloc
