// SlabLayoutTest.cpp: mm/heap/SlabLayout.h on its own: where the link and trailer go in each object shape,
// strides and alignment, slab orders under the 1/16 waste rule and its fallback, the kmalloc size-class
// figures of docs/slab.md for both the host's and the i386 slab header, colour offsets, object-start checks,
// a sweep of sizes, alignments and modes against the layout's own invariants, and one cache built on it.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "mm/heap/SlabCache.h"
#include "mm/heap/SlabLayout.h"
#include "tests/host/SlabTestSupport.h"

void PrintTo(const SlabLayout& l, std::ostream* out) {
    *out << "{object " << l.object_size << ", link " << l.link_offset << ", trailer " << l.trailer_offset << ", stride "
         << l.stride << ", header " << l.header_size << ", order " << l.order << ", capacity " << l.capacity
         << ", colour step " << l.colour_step << " max " << l.colour_max << "}";
}

namespace {

// SlabCache's Slab header: two list links, magic, in_use, free-list head, owner, first object. 48 bytes on
// the 64-bit host; 28 on i386, where the figures of docs/slab.md name it by its aligned size, 32.
constexpr size_t kHostHeader = 5 * sizeof(void*) + 2 * sizeof(u32);
constexpr size_t kI386Header = 28;
static_assert(kHostHeader == 48, "the host tests run on a 64-bit machine");

SlabLayout plain(size_t size, size_t alignment = 8, size_t header = kHostHeader) {
    return SlabLayout::compute(size, alignment, header, false, false);
}
SlabLayout constructed(size_t size, size_t alignment = 8) {
    return SlabLayout::compute(size, alignment, kHostHeader, false, true);
}
SlabLayout debug(size_t size, size_t alignment = 8, bool with_constructor = false) {
    return SlabLayout::compute(size, alignment, kHostHeader, true, with_constructor);
}

// The layout is a constant expression: a cache's figures can be checked at compile time.
static_assert(SlabLayout::compute(64, 8, 48, false, false).capacity == 63);
static_assert(SlabLayout::compute(2048, 16, 48, false, false).order == 3);
static_assert(SlabDetail::next_colour(40, 8, 48) == 48 && SlabDetail::next_colour(48, 8, 48) == 0);

TEST(SlabLayout, SixtyFourByteObjectsFillOnePageBarOneSlot) {
    SlabLayout l = plain(64);
    EXPECT_EQ(l.object_size, 64u);
    EXPECT_EQ(l.link_offset, 0u) << "no constructor: the link is the free object's first word";
    EXPECT_EQ(l.trailer_offset, 0u);
    EXPECT_EQ(l.stride, 64u);
    EXPECT_EQ(l.header_size, 48u);
    EXPECT_EQ(l.order, 0u);
    EXPECT_EQ(l.slab_bytes, 4096u);
    EXPECT_EQ(l.capacity, 63u);
    EXPECT_EQ(l.colour_step, 8u);
    EXPECT_EQ(l.colour_max, 16u);  // 4096 - 48 - 63 * 64
    SlabLayout i386 = plain(64, 8, kI386Header);
    EXPECT_EQ(i386.header_size, 32u);
    EXPECT_EQ(i386.capacity, 63u);
    EXPECT_EQ(i386.colour_max, 32u);
}

TEST(SlabLayout, SmallObjectsTakeAtLeastAPointer) {
    for (size_t size : {1, 2, 4, 7, 8}) {
        SlabLayout l = plain(size, 1);
        EXPECT_EQ(l.stride, sizeof(void*)) << size;
        EXPECT_EQ(l.colour_step, 8u) << "alignment below a pointer's is raised";
    }
    EXPECT_EQ(plain(9).stride, 16u);
}

TEST(SlabLayout, StrideAndHeaderFollowTheAlignment) {
    SlabLayout a64 = plain(40, 64);
    EXPECT_EQ(a64.stride, 64u);
    EXPECT_EQ(a64.header_size, 64u);
    EXPECT_EQ(a64.capacity, 63u);
    EXPECT_EQ(a64.colour_step, 64u);
    EXPECT_EQ(a64.colour_max, 0u);
    SlabLayout a256 = plain(40, 256);
    EXPECT_EQ(a256.stride, 256u);
    EXPECT_EQ(a256.header_size, 256u);
    EXPECT_EQ(a256.capacity, 15u);
    EXPECT_EQ(a256.order, 0u);
    SlabLayout page = plain(100, SlabDetail::kMaxAlignment);
    EXPECT_EQ(page.stride, 4096u);
    EXPECT_EQ(page.header_size, 4096u);
    EXPECT_EQ(page.order, 3u) << "a page-aligned object cannot share a page with the header";
    EXPECT_EQ(page.capacity, 7u);
}

TEST(SlabLayout, ConstructorMovesTheLinkAfterTheObject) {
    SlabLayout l = constructed(40);
    EXPECT_EQ(l.link_offset, 40u);
    EXPECT_EQ(l.stride, 48u);
    SlabLayout odd = constructed(41);
    EXPECT_EQ(odd.link_offset, 48u) << "the link is pointer-aligned";
    EXPECT_EQ(odd.stride, 56u);
    SlabLayout wide = constructed(40, 64);
    EXPECT_EQ(wide.link_offset, 40u);
    EXPECT_EQ(wide.stride, 64u) << "the link fits in the alignment padding";
}

TEST(SlabLayout, DebugObjectsCarryARedZoneAndATrailer) {
    static_assert(sizeof(SlabDetail::Trailer) == 24);
    SlabLayout l = debug(64);
    EXPECT_EQ(l.trailer_offset, 72u);  // 64 + an 8-byte red zone
    EXPECT_EQ(l.link_offset, 72u + offsetof(SlabDetail::Trailer, link));
    EXPECT_EQ(l.stride, 96u);
    SlabLayout odd = debug(50);
    EXPECT_EQ(odd.trailer_offset, 64u) << "red zone of 14 bytes up to the trailer's alignment";
    EXPECT_EQ(odd.stride, 88u);
    EXPECT_EQ(debug(50, 8, true), odd) << "in debug mode the link lives in the trailer, constructor or not";
    EXPECT_EQ(debug(50, 64).stride, 128u);
}

TEST(SlabLayout, SlabOrderIsTheSmallestWastingAtMostOneSixteenth) {
    EXPECT_EQ(plain(256, 16).order, 0u);  // 15 objects, 256 bytes wasted: exactly 1/16
    SlabLayout c512 = plain(512, 16);
    EXPECT_EQ(c512.order, 1u);  // order 0 wastes 512 of 4096
    EXPECT_EQ(c512.capacity, 15u);
    SlabLayout c2048 = plain(2048, 16);
    EXPECT_EQ(c2048.order, 3u);
    EXPECT_EQ(c2048.slab_bytes, 32768u);
    EXPECT_EQ(c2048.capacity, 15u);
}

TEST(SlabLayout, WithoutAGoodOrderTheLeastWastefulWins) {
    // 3000 bytes waste 27% at orders 0 and 1 and 8.4% at orders 2 and 3: the first of the best.
    SlabLayout l = plain(3000);
    EXPECT_EQ(l.order, 2u);
    EXPECT_EQ(l.capacity, 5u);
    // The largest object skips the orders it does not fit and takes 3 per order-3 slab, in debug mode too.
    SlabLayout largest = plain(SlabDetail::kMaxObjectSize);
    EXPECT_EQ(largest.order, 3u);
    EXPECT_EQ(largest.capacity, 3u);
    EXPECT_EQ(debug(SlabDetail::kMaxObjectSize).capacity, 3u);
    EXPECT_GE(debug(SlabDetail::kMaxObjectSize, SlabDetail::kMaxAlignment).capacity, 1u);
}

TEST(SlabLayout, KmallocClassesMatchTheDocumentedTable) {
    struct Class {
        size_t size;
        size_t host_count;
        size_t i386_count;
        unsigned order;
    };
    // docs/slab.md, "kmalloc size classes": only the smallest classes gain from the smaller i386 header.
    const Class classes[] = {{8, 506, 508, 0}, {16, 253, 254, 0}, {32, 126, 127, 0}, {64, 63, 63, 0},
                             {96, 42, 42, 0},  {128, 31, 31, 0},  {192, 21, 21, 0},  {256, 15, 15, 0},
                             {512, 15, 15, 1}, {1024, 15, 15, 2}, {2048, 15, 15, 3}};
    for (const Class& c : classes) {
        size_t alignment = c.size < 16 ? c.size : 16;  // as KernelHeap creates them
        SlabLayout host = plain(c.size, alignment, kHostHeader);
        SlabLayout i386 = plain(c.size, alignment, kI386Header);
        EXPECT_EQ(host.capacity, c.host_count) << c.size;
        EXPECT_EQ(i386.capacity, c.i386_count) << c.size;
        EXPECT_EQ(host.order, c.order) << c.size;
        EXPECT_EQ(i386.order, c.order) << c.size;
        EXPECT_EQ(i386.header_size, 32u) << c.size;
    }
}

TEST(SlabLayout, ColoursStepThroughTheLeftoverAndWrap) {
    // 200-byte objects: 4096 - 48 = 4048 = 20 * 200 + 48, so colours 0, 8, ..., 48, then 0 again.
    SlabLayout l = plain(200);
    EXPECT_EQ(l.capacity, 20u);
    EXPECT_EQ(l.colour_max, 48u);
    std::vector<size_t> colours;
    size_t colour = 0;
    for (int slab = 0; slab < 9; ++slab) {
        colours.push_back(colour);
        colour = SlabDetail::next_colour(colour, l.colour_step, l.colour_max);
    }
    EXPECT_EQ(colours, (std::vector<size_t>{0, 8, 16, 24, 32, 40, 48, 0, 8}));
    // No leftover: every slab has colour 0.
    EXPECT_EQ(SlabDetail::next_colour(0, 64, plain(40, 64).colour_max), 0u);
}

TEST(SlabLayout, ObjectStartsAreMultiplesOfTheStride) {
    alignas(64) u8 slab[256] = {};
    const u8* objects = slab + 16;
    EXPECT_TRUE(SlabDetail::is_object_start(objects, 48, 4, objects));
    EXPECT_TRUE(SlabDetail::is_object_start(objects, 48, 4, objects + 3 * 48));
    EXPECT_FALSE(SlabDetail::is_object_start(objects, 48, 4, objects + 4 * 48)) << "past the last object";
    EXPECT_FALSE(SlabDetail::is_object_start(objects, 48, 4, objects + 50)) << "inside an object";
    EXPECT_FALSE(SlabDetail::is_object_start(objects, 48, 4, slab)) << "in the header";
}

TEST(SlabLayout, LinkAndTrailerSitAtTheirOffsets) {
    alignas(8) u8 object[96] = {};
    SlabLayout l = debug(64);
    EXPECT_EQ(reinterpret_cast<u8*>(&SlabDetail::link_at(object, l.link_offset)), object + l.link_offset);
    SlabDetail::Trailer& trailer = SlabDetail::trailer_at(object, l.trailer_offset);
    EXPECT_EQ(reinterpret_cast<u8*>(&trailer), object + 72);
    EXPECT_EQ(&trailer.link, &SlabDetail::link_at(object, l.link_offset)) << "debug mode links through the trailer";
}

// Every layout, whatever the size, alignment and mode: objects fit, are aligned, keep their link and
// trailer inside the slot, and the slab adds up; the order is the one the 1/16 rule (or its fallback) picks.
TEST(SlabLayout, EveryLayoutAddsUp) {
    for (size_t header : {kHostHeader, kI386Header})
        for (size_t alignment = 1; alignment <= SlabDetail::kMaxAlignment; alignment *= 4)
            for (size_t size = 1; size <= SlabDetail::kMaxObjectSize; size += size < 64 ? 1 : size / 7)
                for (int mode = 0; mode < 3; ++mode) {
                    bool is_debug = mode == 2, is_constructed = mode == 1;
                    SlabLayout l = SlabLayout::compute(size, alignment, header, is_debug, is_constructed);
                    SCOPED_TRACE(testing::PrintToString(l) + " header " + std::to_string(header) + " alignment " +
                                 std::to_string(alignment) + " mode " + std::to_string(mode));
                    size_t align = alignment < sizeof(void*) ? sizeof(void*) : alignment;
                    ASSERT_GE(l.capacity, 1u);
                    ASSERT_LE(l.order, SlabDetail::kMaxOrder);
                    EXPECT_EQ(l.slab_bytes, size_t(kPageSize) << l.order);
                    EXPECT_EQ(l.stride % align, 0u);
                    EXPECT_EQ(l.header_size % align, 0u);
                    EXPECT_GE(l.header_size, header);
                    EXPECT_EQ(l.header_size + l.capacity * l.stride + l.colour_max, l.slab_bytes);
                    EXPECT_LT(l.colour_max, l.stride) << "another object would fit";
                    EXPECT_EQ(l.colour_step, align < 8 ? 8 : align);
                    EXPECT_EQ(l.link_offset % alignof(void*), 0u);
                    EXPECT_LE(l.link_offset + sizeof(void*), l.stride);
                    if (is_debug) {
                        EXPECT_GE(l.trailer_offset, size + SlabDetail::kMinRedZone);
                        EXPECT_LE(l.trailer_offset + sizeof(SlabDetail::Trailer), l.stride);
                    } else {
                        EXPECT_EQ(l.trailer_offset, 0u);
                        EXPECT_GE(l.stride, size);
                        if (is_constructed) {
                            EXPECT_GE(l.link_offset, size) << "the link must not overlap the object";
                        } else {
                            EXPECT_EQ(l.link_offset, 0u);
                        }
                    }
                    // The order: the first within 1/16 of waste; if none is, the first with the least waste.
                    auto waste = [&](unsigned order) {
                        size_t bytes = size_t(kPageSize) << order;
                        return bytes - (bytes - l.header_size) / l.stride * l.stride;
                    };
                    auto fits = [&](unsigned order) {
                        return (size_t(kPageSize) << order) >= l.header_size + l.stride;
                    };
                    unsigned expected = SlabDetail::kMaxOrder + 1;
                    for (unsigned order = 0; order <= SlabDetail::kMaxOrder && expected > SlabDetail::kMaxOrder;
                         ++order)
                        if (fits(order) && waste(order) * 16 <= (size_t(kPageSize) << order)) expected = order;
                    if (expected > SlabDetail::kMaxOrder) {
                        double best = 2;
                        for (unsigned order = 0; order <= SlabDetail::kMaxOrder; ++order) {
                            double fraction = double(waste(order)) / double(size_t(kPageSize) << order);
                            if (fits(order) && fraction < best) {
                                best = fraction;
                                expected = order;
                            }
                        }
                    }
                    EXPECT_EQ(l.order, expected);
                    if (HasFailure()) return;
                }
}

// The cache lays its slabs out exactly as computed (tests/host/SlabCacheTest.cpp tests the slabs themselves).
TEST(SlabLayout, CachesUseTheComputedLayout) {
    using Cache = SlabCache<HostPageSource, NoLock>;
    HostPageSource source;
    Cache plain_cache(source, {.name = "plain", .object_size = 200});
    EXPECT_EQ(plain_cache.layout(), plain(200));
    Cache aligned_cache(source, {.name = "aligned", .object_size = 40, .alignment = 64});
    EXPECT_EQ(aligned_cache.layout(), plain(40, 64));
    Cache debug_cache(source, {.name = "debug", .object_size = 50, .debug = true});
    EXPECT_EQ(debug_cache.layout(), debug(50));
    Cache constructed_cache(source, {.name = "ctor", .object_size = 41, .constructor = [](void*) {}});
    EXPECT_EQ(constructed_cache.layout(), constructed(41));
    EXPECT_EQ(constructed_cache.stride(), constructed(41).stride);
    EXPECT_EQ(constructed_cache.objects_per_slab(), constructed(41).capacity);
    EXPECT_EQ(constructed_cache.slab_order(), constructed(41).order);
}

}  // namespace
