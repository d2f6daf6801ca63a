// RangeSet.cpp: sorted, merged ranges in a fixed array (see RangeSet.h). Every operation finds the run of
// ranges it touches, builds the at most two ranges that replace that run, and splices them in: O(count).
#include "mm/frame/RangeSet.h"

#include "libc/base/Assert.h"

const PhysicalRange& RangeSet::operator[](size_t index) const {
    VERIFY(index < m_count);
    return m_storage[index];
}

size_t RangeSet::first_ending_at_or_after(u64 address) const {
    // Binary search: the ranges are disjoint and sorted, so their ends are sorted too.
    size_t low = 0;
    size_t high = m_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (m_storage[middle].end < address)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

void RangeSet::splice(size_t index, size_t removed, const PhysicalRange* with, size_t inserted) {
    size_t tail = m_count - index - removed;
    PhysicalRange* ranges = m_storage.data();
    if (inserted > removed) {
        for (size_t i = tail; i-- > 0;) ranges[index + inserted + i] = ranges[index + removed + i];
    } else if (inserted < removed) {
        for (size_t i = 0; i < tail; ++i) ranges[index + inserted + i] = ranges[index + removed + i];
    }
    for (size_t i = 0; i < inserted; ++i) ranges[index + i] = with[i];
    m_count = m_count - removed + inserted;
}

ErrorOr<void> RangeSet::add(u64 start, u64 end) {
    if (start > end) return Error::Invalid;
    if (start == end) return {};
    // Ranges [first, last) overlap or touch [start, end): they all merge with it into one.
    size_t first = first_ending_at_or_after(start);
    size_t last = first;
    while (last < m_count && m_storage[last].start <= end) ++last;
    PhysicalRange merged{start, end};
    if (first < last) {
        if (m_storage[first].start < merged.start) merged.start = m_storage[first].start;
        if (m_storage[last - 1].end > merged.end) merged.end = m_storage[last - 1].end;
    } else if (m_count == m_storage.size()) {
        return Error::NoSpace;
    }
    splice(first, last - first, &merged, 1);
    return {};
}

ErrorOr<void> RangeSet::subtract(u64 start, u64 end) {
    if (start > end) return Error::Invalid;
    if (start == end) return {};
    // Ranges [first, last) overlap [start, end) (merely touching does not count); what survives of them is a
    // piece left of start and a piece right of end.
    size_t first = first_ending_at_or_after(start + 1);
    size_t last = first;
    while (last < m_count && m_storage[last].start < end) ++last;
    if (first == last) return {};
    PhysicalRange pieces[2];
    size_t piece_count = 0;
    if (m_storage[first].start < start) pieces[piece_count++] = {m_storage[first].start, start};
    if (m_storage[last - 1].end > end) pieces[piece_count++] = {end, m_storage[last - 1].end};
    if (m_count - (last - first) + piece_count > m_storage.size()) return Error::NoSpace;
    splice(first, last - first, pieces, piece_count);
    return {};
}

u64 RangeSet::total_size() const {
    u64 total = 0;
    for (const PhysicalRange& range : *this) total += range.size();
    return total;
}

bool RangeSet::contains(u64 address) const {
    size_t index = first_ending_at_or_after(address);
    if (index < m_count && m_storage[index].end == address) ++index;  // ends are exclusive
    return index < m_count && m_storage[index].start <= address;
}

void RangeSet::dump(FormatSink sink, void* context) const {
    for (const PhysicalRange& range : *this)
        format(sink, context, "  0x%08llx-0x%08llx (%llu KiB)\n", static_cast<unsigned long long>(range.start),
               static_cast<unsigned long long>(range.end - 1), static_cast<unsigned long long>(range.size() / KiB));
}
