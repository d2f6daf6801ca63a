// SlabInvariants.h: SlabCache::check_invariants (mm/heap/SlabCache.h), which re-derives a cache's invariants
// from its lists and slabs and reports the first broken one (libc/base/Invariant.h):
//
//   - every slab is aligned to the slab size, carries the slab magic and this cache as its owner, and has a
//     colour offset that is a multiple of the colour step and at most the largest colour;
//   - every slab on the full / partial / empty list has in_use == capacity / 0 < in_use < capacity (0 allowed
//     for the only partial slab, the current slab) / in_use == 0;
//   - its free list has exactly capacity - in_use entries, each an object start in that slab;
//   - the lists are well linked, their lengths match the counters, the in_use sum is objects_in_use, and at
//     most empty_slab_limit empty slabs are kept;
//   - the objects in the per-CPU magazines are at most the objects the slabs count in use (they are off
//     the free lists);
//   - in debug mode every free object is marked free and poisoned, and every red zone is intact.
//
// The checker reads a cache's slabs through its Slab header type (the template parameter: node, magic,
// in_use, free, cache, objects) and its layout; it changes nothing and allocates nothing.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Invariant.h"
#include "libc/base/Types.h"
#include "mm/heap/SlabConfig.h"
#include "mm/heap/SlabDebug.h"
#include "mm/heap/SlabLayout.h"
#include "mm/heap/SlabList.h"

enum class SlabListKind { Full, Partial, Empty };

template <typename Slab>
class SlabInvariantChecker {
public:
    // `owner`: the cache, which every slab header must name. Reports go to `sink` (none when null).
    SlabInvariantChecker(const char* cache, const SlabLayout& layout, bool debug, const void* owner, FormatSink sink,
                         void* context)
        : m_cache(cache), m_layout(layout), m_debug(debug), m_owner(owner), m_sink(sink), m_context(context) {}

    // Every slab of the list at `head`, which the cache counts as `count` slabs of `kind`; adds their objects
    // in use to `in_use`.
    bool check_list(const SlabDetail::ListNode& head, size_t count, SlabListKind kind, size_t& in_use) const {
        const char* what = kind == SlabListKind::Full ? "full" : kind == SlabListKind::Partial ? "partial" : "empty";
        size_t length = 0;
        for (const SlabDetail::ListNode* node = head.next; node != &head; node = node->next) {
            if (node->next->prev != node)
                return invariant_violation(m_sink, m_context, "slab %s: %s list links broken at %p", m_cache, what,
                                           node);
            const Slab* slab = reinterpret_cast<const Slab*>(node);
            if (++length > count)
                return invariant_violation(m_sink, m_context, "slab %s: %s list longer than its count %zu", m_cache,
                                           what, count);
            if (!check_slab(slab, kind, SlabDetail::list_is_only(head, *node))) return false;
            in_use += slab->in_use;
        }
        if (length != count)
            return invariant_violation(m_sink, m_context, "slab %s: %s list has %zu slabs, count says %zu", m_cache,
                                       what, length, count);
        return true;
    }

    // The cache's counters against the sums over its lists.
    bool check_totals(size_t in_use, size_t objects_in_use, size_t empty_count, unsigned empty_limit) const {
        if (in_use != objects_in_use)
            return invariant_violation(m_sink, m_context, "slab %s: slabs hold %zu objects, counter says %zu", m_cache,
                                       in_use, objects_in_use);
        if (empty_count > empty_limit)
            return invariant_violation(m_sink, m_context, "slab %s: %zu empty slabs kept, limit %u", m_cache,
                                       empty_count, empty_limit);
        return true;
    }

    bool check_magazines(size_t cached, size_t objects_in_use) const {
        if (cached > objects_in_use)
            return invariant_violation(m_sink, m_context, "slab %s: magazines hold %zu objects, slabs count %zu in use",
                                       m_cache, cached, objects_in_use);
        return true;
    }

private:
    // `only_partial`: the slab is alone on its list, which lets a partial slab be empty.
    bool check_slab(const Slab* slab, SlabListKind kind, bool only_partial) const {
        const SlabLayout& l = m_layout;
        if (reinterpret_cast<uptr>(slab) & (l.slab_bytes - 1))
            return invariant_violation(m_sink, m_context, "slab %s: slab %p is not aligned to %zu", m_cache, slab,
                                       l.slab_bytes);
        if (slab->magic != SlabDetail::kSlabMagic || slab->cache != m_owner)
            return invariant_violation(m_sink, m_context, "slab %s: slab %p has magic %#x, owner %p", m_cache, slab,
                                       slab->magic, static_cast<const void*>(slab->cache));
        size_t colour = size_t(slab->objects - reinterpret_cast<const u8*>(slab)) - l.header_size;
        if (colour > l.colour_max || colour % l.colour_step != 0)
            return invariant_violation(m_sink, m_context, "slab %s: slab %p has colour %zu (max %zu)", m_cache, slab,
                                       colour, l.colour_max);
        bool in_use_ok = kind == SlabListKind::Full ? slab->in_use == l.capacity
                         : kind == SlabListKind::Partial
                             ? (slab->in_use > 0 || only_partial) && slab->in_use < l.capacity
                             : slab->in_use == 0;
        if (!in_use_ok)
            return invariant_violation(m_sink, m_context, "slab %s: slab %p with %u/%zu in use is on the wrong list",
                                       m_cache, slab, slab->in_use, l.capacity);
        size_t expected_free = l.capacity - slab->in_use, free_count = 0;
        for (void* object = slab->free; object; object = SlabDetail::link_at(object, l.link_offset)) {
            if (!SlabDetail::is_object_start(slab->objects, l.stride, l.capacity, object))
                return invariant_violation(m_sink, m_context, "slab %s: free list of slab %p holds %p, not an object",
                                           m_cache, slab, object);
            if (++free_count > expected_free)
                return invariant_violation(m_sink, m_context,
                                           "slab %s: free list of slab %p is longer than %zu (a cycle?)", m_cache, slab,
                                           expected_free);
            if (m_debug) {
                if (SlabDetail::trailer_at(object, l.trailer_offset).state != SlabDetail::kStateFree)
                    return invariant_violation(m_sink, m_context, "slab %s: free object %p is not marked free", m_cache,
                                               object);
                size_t i = SlabDetail::first_mismatch(static_cast<const u8*>(object), 0, l.object_size,
                                                      SlabDetail::kPoisonFree);
                if (i != l.object_size)
                    return invariant_violation(
                        m_sink, m_context, "slab %s: free object %p written after free (byte %zu)", m_cache, object, i);
            }
        }
        if (free_count != expected_free)
            return invariant_violation(m_sink, m_context, "slab %s: slab %p has %zu free objects, expected %zu",
                                       m_cache, slab, free_count, expected_free);
        if (m_debug) {
            for (size_t i = 0; i < l.capacity; ++i) {
                const u8* bytes = slab->objects + i * l.stride;
                const SlabDetail::Trailer& trailer = SlabDetail::trailer_at(bytes, l.trailer_offset);
                size_t from = trailer.state == SlabDetail::kStateAllocated && trailer.requested ? trailer.requested
                                                                                                : l.object_size;
                size_t j = SlabDetail::first_mismatch(bytes, from, l.trailer_offset, SlabDetail::kRedZone);
                if (j != l.trailer_offset)
                    return invariant_violation(m_sink, m_context, "slab %s: red zone of %p broken at byte %zu", m_cache,
                                               bytes, j);
            }
        }
        return true;
    }

    const char* m_cache;
    SlabLayout m_layout;
    bool m_debug;
    const void* m_owner;
    FormatSink m_sink;
    void* m_context;
};
