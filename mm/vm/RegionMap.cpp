// RegionMap.cpp: see RegionMap.h.
#include "mm/vm/RegionMap.h"

#include "libc/base/Invariant.h"

const char* region_kind_name(RegionKind kind) {
    switch (kind) {
    case RegionKind::Program: return "program";
    case RegionKind::Heap: return "heap";
    case RegionKind::Mapping: return "mmap";
    case RegionKind::Stack: return "stack";
    }
    return "?";
}

ErrorOr<RegionAccess> region_access(u32 prot) {
    constexpr u32 kRead = 1, kWrite = 2, kExecute = 4;
    if (prot & ~(kRead | kWrite | kExecute)) return Error::Invalid;
    return RegionAccess{.writable = (prot & kWrite) != 0, .accessible = prot != 0};
}

ErrorOr<void> RegionMap::add(u32 start, u32 end, RegionKind kind, bool writable, bool accessible) {
    if (start % kPageSize || end % kPageSize || end < start || end > kKernelBase) return Error::Invalid;
    if (overlaps(start, end)) return Error::Exists;
    if (m_count == kMaxRegions) return Error::NoMemory;
    m_regions[m_count++] = MemoryRegion{start, end, kind, writable && accessible, accessible};
    return {};
}

const MemoryRegion* RegionMap::find(u32 address) const {
    for (u32 i = 0; i < m_count; ++i)
        if (m_regions[i].contains(address)) return &m_regions[i];
    return nullptr;
}

MemoryRegion* RegionMap::heap() {
    for (u32 i = 0; i < m_count; ++i)
        if (m_regions[i].kind == RegionKind::Heap) return &m_regions[i];
    return nullptr;
}

bool RegionMap::overlaps(u32 start, u32 end, const MemoryRegion* except) const {
    for (u32 i = 0; i < m_count; ++i)
        if (&m_regions[i] != except && start < m_regions[i].end && end > m_regions[i].start) return true;
    return false;
}

ErrorOr<u32> RegionMap::find_hole(u32 from, u32 limit, u32 size) const {
    // Move the candidate past every region it collides with until none does: O(n^2) on 64 regions.
    u32 candidate = from;
    for (bool moved = true; moved;) {
        moved = false;
        if (u64(candidate) + size > limit) return Error::NoMemory;
        for (u32 i = 0; i < m_count; ++i) {
            const MemoryRegion& r = m_regions[i];
            if (candidate < r.end && candidate + size > r.start) {
                candidate = r.end;
                moved = true;
            }
        }
    }
    return candidate;
}

MemoryRegion* RegionMap::mapping_ending_at(u32 address, bool writable, bool accessible) {
    for (u32 i = 0; i < m_count; ++i) {
        MemoryRegion& r = m_regions[i];
        if (r.kind == RegionKind::Mapping && r.writable == (writable && accessible) && r.accessible == accessible &&
            r.end == address)
            return &r;
    }
    return nullptr;
}

ErrorOr<void> RegionMap::remove_mappings(u32 start, u32 end) {
    if (m_count == kMaxRegions) {
        // A split needs a free slot; refuse rather than lose track of pages.
        for (u32 i = 0; i < m_count; ++i)
            if (m_regions[i].kind == RegionKind::Mapping && start > m_regions[i].start && end < m_regions[i].end)
                return Error::NoMemory;
    }
    for (u32 i = 0; i < m_count;) {
        MemoryRegion& r = m_regions[i];
        if (r.kind != RegionKind::Mapping || end <= r.start || start >= r.end) {
            ++i;
            continue;
        }
        if (start <= r.start && end >= r.end) {
            m_regions[i] = m_regions[--m_count];  // wholly inside: remove
            continue;
        }
        if (start > r.start && end < r.end) {
            // A hole in the middle: split in two (the second half goes at the end of the table).
            m_regions[m_count++] = MemoryRegion{end, r.end, r.kind, r.writable, r.accessible};
            r.end = start;
        } else if (start <= r.start) {
            r.start = end;
        } else {
            r.end = start;
        }
        ++i;
    }
    return {};
}

ErrorOr<void> RegionMap::check_protect(u32 start, u32 end, bool writable, bool accessible) const {
    if (start % kPageSize || end % kPageSize || end < start || end > kKernelBase) return Error::Invalid;
    writable = writable && accessible;
    u32 covered = 0, splits = 0;
    bool other_kind = false;
    for (u32 i = 0; i < m_count; ++i) {
        const MemoryRegion& r = m_regions[i];
        if (end <= r.start || start >= r.end || r.start == r.end) continue;
        covered += (r.end < end ? r.end : end) - (r.start > start ? r.start : start);
        if (r.kind != RegionKind::Mapping) other_kind = true;
        if (r.writable == writable && r.accessible == accessible) continue;  // unchanged: no split
        splits += (r.start < start) + (r.end > end);
    }
    if (covered != end - start) return Error::NoMemory;  // Linux's answer for a range with holes
    if (other_kind) return Error::Invalid;
    if (splits > kMaxRegions - m_count) return Error::NoMemory;
    return {};
}

ErrorOr<void> RegionMap::protect_mappings(u32 start, u32 end, bool writable, bool accessible) {
    TRY(check_protect(start, end, writable, accessible));
    writable = writable && accessible;
    u32 original = m_count;  // the pieces split off below are outside the range: no need to visit them
    for (u32 i = 0; i < original; ++i) {
        MemoryRegion& r = m_regions[i];
        if (end <= r.start || start >= r.end || (r.writable == writable && r.accessible == accessible)) continue;
        if (r.start < start) {
            m_regions[m_count++] = MemoryRegion{r.start, start, r.kind, r.writable, r.accessible};
            r.start = start;
        }
        if (r.end > end) {
            m_regions[m_count++] = MemoryRegion{end, r.end, r.kind, r.writable, r.accessible};
            r.end = end;
        }
        r.writable = writable;
        r.accessible = accessible;
    }
    // Merge Mapping neighbours with equal rights that meet inside the range or at its ends (as mmap extends a
    // mapping, see mapping_ending_at), so a reservation committed piece by piece stays a few regions.
    auto merge_one = [&] {
        for (u32 i = 0; i < m_count; ++i) {
            MemoryRegion& r = m_regions[i];
            if (r.kind != RegionKind::Mapping || r.end < start || r.end > end) continue;
            for (u32 j = 0; j < m_count; ++j) {
                const MemoryRegion& next = m_regions[j];
                if (next.kind != RegionKind::Mapping || next.start != r.end || j == i || next.writable != r.writable ||
                    next.accessible != r.accessible)
                    continue;
                r.end = next.end;
                m_regions[j] = m_regions[--m_count];  // may move r itself: it is complete, so that is fine
                return true;
            }
        }
        return false;
    };
    while (merge_one()) {
    }
    return {};
}

u32 RegionMap::reserved_pages() const {
    u32 pages = 0;
    for (u32 i = 0; i < m_count; ++i)
        if ((m_regions[i].kind == RegionKind::Heap || m_regions[i].kind == RegionKind::Mapping) &&
            m_regions[i].accessible)
            pages += m_regions[i].pages();
    return pages;
}

bool RegionMap::check_invariants(FormatSink sink, void* context) const {
    u32 heaps = 0;
    for (u32 i = 0; i < m_count; ++i) {
        const MemoryRegion& r = m_regions[i];
        if (r.start % kPageSize || r.end % kPageSize || r.start > r.end || r.end > kKernelBase)
            return invariant_violation(sink, context, "RegionMap: region %u [%#x, %#x) is malformed", i, r.start,
                                       r.end);
        if (r.kind == RegionKind::Heap) ++heaps;
        for (u32 j = i + 1; j < m_count; ++j)
            if (r.start < m_regions[j].end && r.end > m_regions[j].start && r.start != r.end &&
                m_regions[j].start != m_regions[j].end)
                return invariant_violation(sink, context, "RegionMap: regions %u and %u overlap", i, j);
    }
    if (heaps > 1) return invariant_violation(sink, context, "RegionMap: %u heap regions", heaps);
    return true;
}
