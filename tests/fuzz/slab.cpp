// slab.cpp: libFuzzer target for mm/heap/KernelHeap (kmalloc/kfree) and a named mm/heap/SlabCache.
//
// The byte stream becomes allocate/free/shrink operations and page-source failures. Every live object is
// filled with a pattern derived from its seed and checked before it is freed; after every operation the
// heap's invariants must hold and the objects-in-use counters must match the shadow model. At the end
// every object is checked and freed, and destroying the heap must hand every page back. Any violation
// aborts with a message.
//
// Layout: byte 0 = flags (bit 0 debug mode, bit 1 give the named cache a constructor), bytes 1-2 = the
// named cache's object size (1..4096), byte 3 = its alignment (8 << (byte % 6)); then 3 bytes per
// operation: an opcode and a 16-bit argument.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <vector>

#include "mm/heap/KernelHeap.h"
#include "tests/fuzz/FuzzInput.h"
#include "tests/host/SlabTestSupport.h"

namespace {

constexpr size_t kMaxOperations = 2000;
using Heap = KernelHeap<HostPageSource, NoLock>;

[[noreturn]] void fail(const char* what, size_t operation) {
    fprintf(stderr, "slab fuzz: %s (operation %zu)\n", what, operation);
    abort();
}

void fill(void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i) static_cast<u8*>(object)[i] = u8(seed + i * 31);
}
bool holds(const void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i)
        if (static_cast<const u8*>(object)[i] != u8(seed + i * 31)) return false;
    return true;
}

struct Live {
    size_t size;  // bytes the test may use and fills
    u8 seed;
    bool named;  // from the named cache (freed through it) rather than kmalloc
};

// Sizes cover every class edge (7/8/9, 64/65, 96/97 ...), the large path and the occasional zero.
size_t size_from(u16 argument) {
    switch (argument % 4) {
    case 0: return (argument >> 2) % 65;
    case 1: return (argument >> 2) % 257;
    case 2: return (argument >> 2) % 2049;
    default: return (argument >> 2) % 20000;
    }
}

void construct(void* object) { memset(object, 0x5a, 16); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size) {
    FuzzInput input(data, size);
    u8 flags = input.byte();
    bool debug = flags & 1;
    size_t named_size = 1 + input.half() % 4096;
    size_t named_alignment = size_t(8) << (input.byte() % 6);
    bool with_constructor = (flags & 2) && named_size >= 16;

    HostPageSource source;
    {
        Heap heap(source, debug);
        auto created = heap.create_cache({.name = "fuzz",
                                          .object_size = named_size,
                                          .alignment = named_alignment,
                                          .constructor = with_constructor ? construct : nullptr});
        if (created.is_error()) fail("create_cache failed", 0);
        Heap::Cache& named = *created.value();

        std::map<void*, Live> live;
        std::vector<void*> order;
        size_t named_in_use = 0;
        for (size_t operation = 0; operation < kMaxOperations && !input.empty(); ++operation) {
            u8 opcode = input.byte();
            u16 argument = input.half();
            switch (opcode % 8) {
            case 0:
            case 1:
            case 2: {  // kmalloc
                size_t bytes = size_from(argument);
                void* object = heap.allocate(bytes);
                if (!object) {
                    if (source.failures() == 0) fail("kmalloc failed without a page-source failure", operation);
                    break;
                }
                if (live.count(object)) fail("kmalloc returned a live object", operation);
                if (heap.usable_size(object) < bytes) fail("usable size below the request", operation);
                if (reinterpret_cast<uptr>(object) % (bytes <= 8 ? 8 : 16) != 0) fail("misaligned kmalloc", operation);
                fill(object, bytes, u8(argument));
                live[object] = {bytes, u8(argument), false};
                order.push_back(object);
                break;
            }
            case 3: {  // named cache allocate
                void* object = named.allocate();
                if (!object) {
                    if (source.failures() == 0) fail("cache allocate failed without a failure", operation);
                    break;
                }
                if (live.count(object)) fail("cache returned a live object", operation);
                if (reinterpret_cast<uptr>(object) % named_alignment != 0) fail("misaligned cache object", operation);
                // Objects are freed in their constructed state (see below), so every object handed out by a
                // constructed cache shows the constructor's bytes, in both modes.
                if (with_constructor)
                    for (size_t i = 0; i < 16; ++i)
                        if (static_cast<u8*>(object)[i] != 0x5a) fail("constructed state lost", operation);
                fill(object, named_size, u8(argument));
                live[object] = {named_size, u8(argument), true};
                order.push_back(object);
                ++named_in_use;
                break;
            }
            case 4:
            case 5: {  // free a live object
                if (order.empty()) break;
                size_t index = argument % order.size();
                void* object = order[index];
                order[index] = order.back();
                order.pop_back();
                Live entry = live[object];
                live.erase(object);
                if (!holds(object, entry.size, entry.seed)) fail("object contents changed", operation);
                if (entry.named) {
                    // Constructed caches get their objects back in the constructed state.
                    if (with_constructor) construct(object);
                    if (argument & 1)
                        named.deallocate(object);
                    else
                        heap.deallocate(object);  // kfree works on any slab object
                    --named_in_use;
                } else {
                    heap.deallocate(object);
                }
                break;
            }
            case 6:  // the page source fails after `argument % 4` more allocations, or recovers
                source.fail_after(argument % 5 == 4 ? -1 : long(argument % 4));
                break;
            case 7: heap.shrink(); break;
            }
            if (!heap.check_invariants()) {
                heap.check_invariants([](void*, const char* text, size_t length) { fwrite(text, 1, length, stderr); },
                                      nullptr);
                fail("heap invariant broken", operation);
            }
            if (named.statistics().objects_in_use != named_in_use) fail("named cache in-use count", operation);
        }
        source.fail_after(-1);
        for (auto& [object, entry] : live) {
            if (!holds(object, entry.size, entry.seed)) fail("object contents changed (final)", kMaxOperations);
            if (entry.named && with_constructor) construct(object);
            heap.deallocate(object);
        }
        if (!heap.check_invariants()) fail("heap invariant broken at the end", kMaxOperations);
        heap.destroy_cache(&named);
    }
    if (source.pages_in_use() != 0) fail("pages not returned after the heap was destroyed", kMaxOperations);
    return 0;
}
