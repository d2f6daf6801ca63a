// SwapSlotMap.cpp: next-fit allocation and reference counts over one 16-bit entry per slot (see
// SwapSlotMap.h for the encoding and the invariants).
#include "mm/swap/SwapSlotMap.h"

#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"

SwapSlotMap::SwapSlotMap(Span<u8> memory, u32 slot_count)
    : m_entries(take_array<u16>(memory, slot_count)), m_slot_count(slot_count), m_free(slot_count - 1) {
    VERIFY(slot_count >= 1 && slot_count <= kMaxSlots);
    m_entries[kHeaderSlot] = kBad;
}

u16& SwapSlotMap::entry(u32 slot) {
    if (slot == kHeaderSlot || slot >= m_slot_count) [[unlikely]]
        mneme_panic("swap: slot %u is not a usable slot (1..%u)", slot, m_slot_count - 1);
    return m_entries[slot];
}

const u16& SwapSlotMap::entry(u32 slot) const { return const_cast<SwapSlotMap*>(this)->entry(slot); }

u16& SwapSlotMap::used_entry(u32 slot, const char* operation) {
    u16& value = entry(slot);
    if ((value & kCountMask) == 0) [[unlikely]]
        mneme_panic("swap: %s of slot %u, which is %s", operation, slot, value == kFree ? "free" : "bad");
    return value;
}

ErrorOr<u32> SwapSlotMap::allocate() {
    if (m_free == 0) return Error::NoSpace;
    // m_free > 0, so one lap from the cursor finds a free slot.
    for (u32 scanned = 0, slot = m_cursor; scanned < m_slot_count - 1; ++scanned) {
        if (m_entries[slot] == kFree) {
            m_entries[slot] = 1;
            --m_free;
            ++m_used;
            m_cursor = slot + 1 < m_slot_count ? slot + 1 : 1;
            return slot;
        }
        slot = slot + 1 < m_slot_count ? slot + 1 : 1;
    }
    VERIFY_NOT_REACHED();
}

void SwapSlotMap::free(u32 slot) {
    u16 value = used_entry(slot, "free");
    if (value != 1)
        mneme_panic("swap: free of slot %u, which %s", slot,
                    (value & kBad) != 0 ? "is marked bad (release it)" : "is shared (release it)");
    VERIFY(release(slot) == 0);
}

ErrorOr<void> SwapSlotMap::add_reference(u32 slot) {
    u16& value = used_entry(slot, "add_reference");
    if ((value & kCountMask) == kMaxReferences) return Error::OutOfRange;
    ++value;
    return {};
}

u32 SwapSlotMap::release(u32 slot) {
    u16& value = used_entry(slot, "release");
    --value;
    u32 left = value & kCountMask;
    if (left == 0) {
        --m_used;
        if (value == kBad)
            ++m_bad;
        else
            ++m_free;
    }
    return left;
}

void SwapSlotMap::mark_bad(u32 slot) {
    u16& value = entry(slot);
    if ((value & kBad) != 0) return;
    if (value == kFree) {
        --m_free;
        ++m_bad;
    }
    value |= kBad;
}

u32 SwapSlotMap::references(u32 slot) const { return entry(slot) & kCountMask; }
bool SwapSlotMap::is_free(u32 slot) const { return entry(slot) == kFree; }
bool SwapSlotMap::is_bad(u32 slot) const { return (entry(slot) & kBad) != 0; }

bool SwapSlotMap::check_invariants(FormatSink sink, void* context) const {
    if (m_entries.size() != m_slot_count)
        return invariant_violation(sink, context, "swap: %zu entries for %u slots", m_entries.size(), m_slot_count);
    if (m_entries[kHeaderSlot] != kBad)
        return invariant_violation(sink, context, "swap: header slot 0 has entry 0x%x, not retired",
                                   m_entries[kHeaderSlot]);
    if (m_slot_count > 1 && (m_cursor == kHeaderSlot || m_cursor >= m_slot_count))
        return invariant_violation(sink, context, "swap: next-fit cursor %u outside slots 1..%u", m_cursor,
                                   m_slot_count - 1);
    u32 free = 0, used = 0, bad = 0;
    for (u32 slot = 1; slot < m_slot_count; ++slot) {
        u16 value = m_entries[slot];
        if (value == kFree)
            ++free;
        else if (value == kBad)
            ++bad;
        else
            ++used;
    }
    if (free != m_free || used != m_used || bad != m_bad)
        return invariant_violation(sink, context, "swap: entries say %u free, %u used, %u bad; counters say %u, %u, %u",
                                   free, used, bad, m_free, m_used, m_bad);
    if (m_free + m_used + m_bad != m_slot_count - 1)
        return invariant_violation(sink, context, "swap: %u free + %u used + %u bad is not %u usable slots", m_free,
                                   m_used, m_bad, m_slot_count - 1);
    return true;
}

void SwapSlotMap::dump(FormatSink sink, void* context) const {
    format(sink, context, "swap: %u slots (slot 0 is the header): %u free, %u used, %u bad\n", m_slot_count, m_free,
           m_used, m_bad);
    constexpr u32 kShown = 8;
    u32 marked = 0;  // retired, or in use and to be retired
    for (u32 slot = 1; slot < m_slot_count; ++slot) {
        if ((m_entries[slot] & kBad) == 0) continue;
        if (marked < kShown) format(sink, context, "%s%u", marked == 0 ? "bad slots: " : ", ", slot);
        ++marked;
    }
    if (marked > kShown) format(sink, context, ", ... (%u in all)", marked);
    if (marked != 0) format(sink, context, "\n");
}
