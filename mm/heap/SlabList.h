// SlabList.h: the lists a SlabCache (mm/heap/SlabCache.h) keeps its slabs on: full (no free object), partial
// (some) and empty (all free), as in Bonwick's paper ("The Slab Allocator", USENIX Summer 1994, section 3.2).
//
// Each is a circular doubly linked list through a ListNode at the start of every slab header, with a head
// node in the cache; an empty list is a head that points to itself. Every operation is O(1) and allocates
// nothing. The cache counts each list's slabs itself, so list_move() carries one count from list to list.
#pragma once

#include "libc/base/Types.h"

namespace SlabDetail {
struct ListNode {
    ListNode* prev;
    ListNode* next;
};
inline void list_init(ListNode& head) { head.prev = head.next = &head; }
inline bool list_empty(const ListNode& head) { return head.next == &head; }
inline void list_remove(ListNode& node) {
    node.prev->next = node.next;
    node.next->prev = node.prev;
}
inline void list_push_front(ListNode& head, ListNode& node) {
    node.next = head.next;
    node.prev = &head;
    head.next->prev = &node;
    head.next = &node;
}

// The list at `head` holds exactly one node, `node`.
inline bool list_is_only(const ListNode& head, const ListNode& node) {
    return head.next == &node && head.prev == &node;
}

// Take `node` off its list (counted by `from_count`) and put it at the front of the list at `to` (counted by
// `to_count`).
inline void list_move(ListNode& node, size_t& from_count, ListNode& to, size_t& to_count) {
    list_remove(node);
    list_push_front(to, node);
    --from_count;
    ++to_count;
}
}  // namespace SlabDetail
