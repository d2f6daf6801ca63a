// SlabPageTags.h: one tag word per page (kPageSize, 4 KiB) of a memory range, over storage the caller provides.
//
// KernelHeap must learn, from any pointer it is given, whether it is a slab object (and of which cache) or
// a large block (and of which order). It asks its page source for the tag of the pointer's page (Linux
// keeps the same fact in struct page). A page source that has no per-frame field to spare can implement
// set_page_tags()/page_tag() with this class: the kernel over a static array indexed by frame number in
// the direct map, the host arena over a vector. Cost: a subtraction, a shift, a compare and a load.
//
// The object is a view (storage pointer, page count, base): copies share the tags. A page source that
// exposes its table (page_tags(), see PageTagTableSource in mm/heap/KernelHeap.h) lets KernelHeap keep such a
// copy, so kfree reads the three words from the heap itself rather than through the page source.
//
// Invariant: pages outside [base, base + pages * kPageSize) have tag 0 and cannot be tagged.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

class SlabPageTags {
public:
    SlabPageTags() = default;
    // `storage` holds one tag per page from `base` on; it must be zeroed.
    SlabPageTags(Span<uptr> storage, uptr base) : m_tags(storage.data()), m_pages(storage.size()), m_base(base) {
        VERIFY(base % kPageSize == 0);
    }

    void set(const void* first_page, size_t count, uptr tag) {
        uptr index = (reinterpret_cast<uptr>(first_page) - m_base) / kPageSize;
        VERIFY(reinterpret_cast<uptr>(first_page) >= m_base && index <= m_pages && count <= m_pages - index);
        for (size_t i = 0; i < count; ++i) m_tags[index + i] = tag;
    }

    // The tag of the page holding `address`; 0 if it was never tagged or lies outside the range.
    uptr get(const void* address) const {
        uptr index = (reinterpret_cast<uptr>(address) - m_base) / kPageSize;  // wraps to huge if below base
        return index < m_pages ? m_tags[index] : 0;
    }

private:
    uptr* m_tags = nullptr;
    size_t m_pages = 0;
    uptr m_base = 0;
};
