// SwapSlotMap.h: which page-sized slots of a swap device are free, in use (and by how many page-table
// entries), or bad.
//
// A swapped-out page lives in a slot; its not-present PTE holds the slot number (docs/paging.md,
// PageTableEntry::make_not_present). After fork, parent and child may both hold the same swapped-out page,
// so each slot has a reference count, as each frame has one for copy-on-write: the slot is free again when
// the last PTE naming it lets go (OSTEP ch. 21-22 on the swap space; Linux keeps the same count in its
// swap_map, one per slot). A slot whose I/O failed is marked bad and is never handed out again.
//
// One 16-bit entry per slot, in memory the caller provides (bytes_needed(slot_count)):
//   0                         free
//   1 .. kMaxReferences       in use, by that many references
//   kBad | n, n > 0           in use but marked bad: retired when the last of its n references is released
//   kBad                      bad (retired): never allocated again
//
// Slot 0 is never handed out: the device's first page is its header (as on Linux, where it holds the swap
// signature), and a not-present PTE whose payload is 0 means "no swap entry" (PageTables::set_not_present
// refuses 0). So every number allocate() returns can be stored in a PTE as it is. Slot 0 is counted in none
// of free, used and bad.
//
// Allocation is next fit: the scan starts after the slot handed out last, so pages evicted one after another
// get neighbouring slots, which a disk writes and reads back faster than scattered ones. A scan is O(slots)
// at worst; allocate() fails at once (O(1)) when no slot is free.
//
// Invariants (check_invariants): free_slots() + used_slots() + bad_slots() == slot_count() - 1, each count
// equal to the number of entries in that state; slot 0 stays retired; the next-fit cursor is a usable slot.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"
#include "mm/swap/CallerMemory.h"

class SwapSlotMap {
    MNEME_NONCOPYABLE(SwapSlotMap);
    MNEME_NONMOVABLE(SwapSlotMap);

public:
    // A slot number must fit in the 31 payload bits of a not-present PTE.
    static constexpr u32 kMaxSlots = 1u << 31;
    static constexpr u32 kMaxReferences = 0x7fff;
    static constexpr u32 kHeaderSlot = 0;

    static constexpr size_t bytes_needed(u32 slot_count) { return array_bytes<u16>(slot_count); }

    // A map of `slot_count` slots (1 .. kMaxSlots), all free but slot 0. `memory` holds bytes_needed() bytes,
    // 8-byte aligned.
    SwapSlotMap(Span<u8> memory, u32 slot_count);

    // A free slot with one reference, or Error::NoSpace when none is left.
    ErrorOr<u32> allocate();
    // Gives back a slot whose only reference is the caller's. Panics if the slot is free, bad, or shared
    // (a shared slot is let go with release(), one reference at a time).
    void free(u32 slot);
    // One more PTE names the slot (fork copied a swapped-out page). Error::OutOfRange when the slot already
    // has kMaxReferences; panics if the slot is not in use.
    ErrorOr<void> add_reference(u32 slot);
    // One PTE lets go of the slot; returns the references left. At 0 the slot is free again, or retired if
    // it was marked bad. Panics if the slot is not in use.
    u32 release(u32 slot);
    // The slot's I/O failed: a free slot is retired now, a slot in use when its last reference goes.
    // Marking a bad slot again does nothing.
    void mark_bad(u32 slot);

    u32 references(u32 slot) const;
    bool is_free(u32 slot) const;
    bool is_bad(u32 slot) const;  // retired, or in use and to be retired

    u32 slot_count() const { return m_slot_count; }
    u32 free_slots() const { return m_free; }
    u32 used_slots() const { return m_used; }
    u32 bad_slots() const { return m_bad; }  // retired slots only

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const;
    // The counts and the first few bad slots, for a monitor command.
    void dump(FormatSink sink, void* context) const;

private:
    static constexpr u16 kFree = 0;
    static constexpr u16 kBad = 0x8000;
    static constexpr u16 kCountMask = 0x7fff;
    static_assert(kMaxReferences == kCountMask);

    // The entry of a usable slot (1 .. slot_count - 1); panics on any other number.
    u16& entry(u32 slot);
    const u16& entry(u32 slot) const;
    // The entry of a slot in use; panics if it is free or retired, naming `operation`.
    u16& used_entry(u32 slot, const char* operation);

    Span<u16> m_entries;
    u32 m_slot_count;
    u32 m_free;
    u32 m_used = 0;
    u32 m_bad = 0;
    u32 m_cursor = 1;  // where the next allocate() starts looking
};
