// RangeSet.h: a set of physical address ranges in fixed, caller-provided storage, for turning the boot memory
// map into the ranges the page allocator may use.
//
// The kernel adds every "available" multiboot entry, subtracts what is in use (the low 1 MiB, the kernel
// image, modules, the multiboot data, the allocator's own metadata), then hands each remaining range to
// FrameAllocator::add_free_range(). Entries in firmware maps overlap and arrive unsorted, so add() merges.
//
// Ranges are half-open byte ranges [start, end). Invariants: the ranges are sorted by start, non-empty, and
// neither overlap nor touch (touching ranges are merged), so iteration yields the set in its canonical form.
// An operation that needs more entries than the storage has returns Error::NoSpace and leaves the set as it
// was. No allocation: the storage is a Span the caller owns (a static array in the kernel).
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

struct PhysicalRange {
    u64 start;
    u64 end;  // exclusive
    constexpr u64 size() const { return end - start; }
    constexpr bool operator==(const PhysicalRange&) const = default;
};

class RangeSet {
    MNEME_NONCOPYABLE(RangeSet);
    MNEME_NONMOVABLE(RangeSet);

public:
    explicit RangeSet(Span<PhysicalRange> storage) : m_storage(storage) {}

    // Union with [start, end). An empty range (start == end) is a no-op; start > end is Error::Invalid.
    ErrorOr<void> add(u64 start, u64 end);
    // Difference with [start, end); may split one range in two. Same errors as add().
    ErrorOr<void> subtract(u64 start, u64 end);
    void clear() { m_count = 0; }

    size_t count() const { return m_count; }
    size_t capacity() const { return m_storage.size(); }
    bool is_empty() const { return m_count == 0; }
    const PhysicalRange& operator[](size_t index) const;
    const PhysicalRange* begin() const { return m_storage.data(); }
    const PhysicalRange* end() const { return m_storage.data() + m_count; }

    u64 total_size() const;
    bool contains(u64 address) const;

    // One line per range: "  0x00100000-0x07fdffff (130944 KiB)".
    void dump(FormatSink sink, void* context) const;

private:
    // The index of the first range whose end is >= address (so it overlaps or touches an insertion there).
    size_t first_ending_at_or_after(u64 address) const;
    // Replaces the `removed` ranges at `index` by `inserted` entries from `with`; the caller has checked room.
    void splice(size_t index, size_t removed, const PhysicalRange* with, size_t inserted);

    Span<PhysicalRange> m_storage;
    size_t m_count = 0;
};
