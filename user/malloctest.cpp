// malloctest.cpp: the user malloc checked inside Mneme, through the real C functions, the real brk and mmap2
// system calls and demand paging: the same checks as the host tests (tests/host/MallocTest.cpp), for the
// policy chosen by MNEME_MALLOC (usertests runs it once per policy):
//
//     mneme$ MNEME_MALLOC=buddy malloctest
//
//   small requests aligned, writable, distinct; a randomized run against a model with a fixed seed
//   (contents preserved, no overlap, alignment, the heap's own invariants and statistics); zero-size and huge
//   requests; calloc overflow and zeroing; realloc semantics; aligned_alloc/posix_memalign/memalign;
//   malloc_usable_size; statistics and malloc_stats; large blocks mapped and their frames given back.
//
// Prints one line per failed check and a summary; exit status 0 when everything held, 1 otherwise.
// help(program): malloctest | checks the user malloc; MNEME_MALLOC=first|next|best|... picks the policy
#include "libc/base/Error.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Random.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

int g_checks = 0;
int g_failures = 0;
const char* g_section = "";

// A check that can fail: prints the section, line and message when it does.
#define CHECK(condition, ...)                                                               \
    do {                                                                                    \
        ++g_checks;                                                                         \
        if (!(condition)) {                                                                 \
            ++g_failures;                                                                   \
            printf("malloctest: FAIL %s (line %d): %s: ", g_section, __LINE__, #condition); \
            printf(__VA_ARGS__);                                                            \
            printf("\n");                                                                   \
        }                                                                                   \
    } while (0)

bool aligned(const void* pointer, size_t alignment) { return (reinterpret_cast<uptr>(pointer) & (alignment - 1)) == 0; }

// The byte a block filled with `seed` holds at `index`.
u8 pattern(u32 seed, size_t index) { return static_cast<u8>(seed + index * 131 + (index >> 8)); }

void fill(void* block, size_t size, u32 seed) {
    u8* bytes = static_cast<u8*>(block);
    for (size_t i = 0; i < size; ++i) bytes[i] = pattern(seed, i);
}

// Whole blocks up to 8 KiB; larger ones at both ends and every 509th byte (a prime, so the samples do not
// fall on the same offset of each page), which keeps the run short under emulation.
bool intact(const void* block, size_t size, u32 seed) {
    const u8* bytes = static_cast<const u8*>(block);
    if (size <= 8192) {
        for (size_t i = 0; i < size; ++i)
            if (bytes[i] != pattern(seed, i)) return false;
        return true;
    }
    for (size_t i = 0; i < 512; ++i)
        if (bytes[i] != pattern(seed, i) || bytes[size - 1 - i] != pattern(seed, size - 1 - i)) return false;
    for (size_t i = 512; i < size; i += 509)
        if (bytes[i] != pattern(seed, i)) return false;
    return true;
}

size_t live_blocks() { return mneme_malloc_statistics().live_blocks; }

void small_requests() {
    g_section = "small requests";
    size_t before = live_blocks();
    constexpr int kCount = 200;
    void* blocks[kCount];
    for (int i = 0; i < kCount; ++i) {
        size_t size = static_cast<size_t>(i) * 7 % 600;
        blocks[i] = malloc(size);
        CHECK(blocks[i] != nullptr, "malloc(%zu)", size);
        if (!blocks[i]) return;
        CHECK(aligned(blocks[i], 16), "malloc(%zu) = %p", size, blocks[i]);
        CHECK(malloc_usable_size(blocks[i]) >= size, "usable %zu < %zu", malloc_usable_size(blocks[i]), size);
        fill(blocks[i], size, static_cast<u32>(i));
    }
    // Distinct and disjoint: had two blocks overlapped, the later fill would have broken the earlier one.
    for (int i = 0; i < kCount; ++i) {
        size_t size = static_cast<size_t>(i) * 7 % 600;
        CHECK(intact(blocks[i], size, static_cast<u32>(i)), "block %d (%zu bytes at %p) was overwritten", i, size,
              blocks[i]);
    }
    CHECK(live_blocks() == before + kCount, "live blocks %zu, expected %zu", live_blocks(), before + kCount);
    for (int i = 0; i < kCount; ++i) free(blocks[i]);
    CHECK(live_blocks() == before, "live blocks %zu after freeing all, expected %zu", live_blocks(), before);
}

// The model: every live block's address, requested size, alignment and fill seed.
struct Slot {
    u8* block;
    size_t size;
    u32 seed;
};

constexpr int kSlots = 256;
Slot g_slots[kSlots];

size_t random_size(Random& random) {
    u32 roll = random.below(100);
    if (roll < 60) return random.below(129);
    if (roll < 85) return random.below(2048);
    if (roll < 98) return random.below(32 * 1024);
    return random.below(400 * 1024);  // above the 128 KiB threshold: a mapping of its own
}

// No two live blocks share a byte (usable ranges, so the check also covers what malloc_usable_size promises).
bool no_overlap() {
    for (int i = 0; i < kSlots; ++i) {
        if (!g_slots[i].block) continue;
        uptr a_start = reinterpret_cast<uptr>(g_slots[i].block);
        uptr a_end = a_start + malloc_usable_size(g_slots[i].block);
        for (int j = i + 1; j < kSlots; ++j) {
            if (!g_slots[j].block) continue;
            uptr b_start = reinterpret_cast<uptr>(g_slots[j].block);
            uptr b_end = b_start + malloc_usable_size(g_slots[j].block);
            if (a_start < b_end && b_start < a_end) {
                printf("malloctest: blocks %p+%zu and %p+%zu overlap\n", g_slots[i].block, g_slots[i].size,
                       g_slots[j].block, g_slots[j].size);
                return false;
            }
        }
    }
    return true;
}

void randomized() {
    g_section = "randomized";
    Random random(20260101);
    size_t before = live_blocks();
    u32 next_seed = 1;
    constexpr int kSteps = 6000;
    for (int step = 0; step < kSteps && g_failures == 0; ++step) {
        Slot& slot = g_slots[random.below(kSlots)];
        u32 roll = random.below(100);
        if (!slot.block) {
            size_t size = random_size(random);
            size_t alignment = 16;
            if (roll < 10) {
                alignment = size_t(32) << random.below(8);  // 32 .. 4096
                slot.block = static_cast<u8*>(aligned_alloc(alignment, size));
            } else if (roll < 20) {
                size_t count = 1 + random.below(8);
                size /= count;
                slot.block = static_cast<u8*>(calloc(count, size));
                size *= count;
                if (slot.block) {
                    bool zero = true;
                    for (size_t i = 0; i < size; ++i) zero = zero && slot.block[i] == 0;
                    CHECK(zero, "calloc(%zu, %zu) memory not zero", count, size / count);
                }
            } else {
                slot.block = static_cast<u8*>(malloc(size));
            }
            CHECK(slot.block != nullptr, "allocation of %zu bytes failed at step %d", size, step);
            if (!slot.block) continue;
            CHECK(aligned(slot.block, alignment), "%p not aligned to %zu", slot.block, alignment);
            CHECK(malloc_usable_size(slot.block) >= size, "usable %zu < %zu", malloc_usable_size(slot.block), size);
            slot.size = size;
            slot.seed = next_seed++;
            fill(slot.block, size, slot.seed);
        } else {
            CHECK(intact(slot.block, slot.size, slot.seed), "block %p (%zu bytes) changed while live", slot.block,
                  slot.size);
            if (roll < 60) {
                free(slot.block);
                slot.block = nullptr;
            } else {
                size_t size = random_size(random);
                u8* moved = static_cast<u8*>(realloc(slot.block, size));
                if (size == 0) {
                    // realloc(p, 0) frees p and returns NULL (as glibc); the slot is empty either way.
                    CHECK(moved == nullptr, "realloc(p, 0) = %p", moved);
                    if (moved) free(moved);
                    slot.block = nullptr;
                    continue;
                }
                CHECK(moved != nullptr, "realloc to %zu failed", size);
                if (!moved) continue;
                size_t common = size < slot.size ? size : slot.size;
                CHECK(intact(moved, common, slot.seed), "realloc %zu -> %zu lost the contents", slot.size, size);
                CHECK(aligned(moved, 16), "realloc gave %p", moved);
                slot.block = moved;
                slot.size = size;
                slot.seed = next_seed++;
                fill(moved, size, slot.seed);
            }
        }
        if (step % 500 == 499) {
            mneme_malloc_check();  // panics (exit 134) on a broken invariant
            CHECK(no_overlap(), "overlap at step %d", step);
            size_t live = 0;
            for (const Slot& s : g_slots) live += s.block ? 1 : 0;
            CHECK(live_blocks() == before + live, "statistics say %zu live blocks, the model %zu", live_blocks(),
                  before + live);
        }
    }
    for (Slot& slot : g_slots) {
        if (!slot.block) continue;
        CHECK(intact(slot.block, slot.size, slot.seed), "block %p (%zu bytes) changed", slot.block, slot.size);
        free(slot.block);
        slot.block = nullptr;
    }
    mneme_malloc_check();
    CHECK(live_blocks() == before, "%zu blocks live after freeing everything, expected %zu", live_blocks(), before);
}

void zero_and_huge() {
    g_section = "zero and huge requests";
    void* a = malloc(0);
    void* b = malloc(0);
    CHECK(a && b && a != b, "malloc(0) gave %p and %p", a, b);
    free(a);
    free(b);
    CHECK(malloc(SIZE_MAX) == nullptr, "malloc(SIZE_MAX)");
    CHECK(malloc(SIZE_MAX / 2 + 1) == nullptr, "malloc(SIZE_MAX / 2 + 1)");
    CHECK(malloc(0xF0000000u) == nullptr, "malloc(3.75 GiB)");
    CHECK(aligned_alloc(64, SIZE_MAX - 10) == nullptr, "aligned_alloc(64, SIZE_MAX - 10)");
    CHECK(aligned_alloc(SIZE_MAX / 2 + 1, 16) == nullptr, "aligned_alloc(SIZE_MAX / 2 + 1, 16)");
    char* small = static_cast<char*>(malloc(32));
    CHECK(small != nullptr, "malloc(32)");
    if (!small) return;
    fill(small, 32, 77);
    CHECK(realloc(small, SIZE_MAX / 2) == nullptr, "realloc to SIZE_MAX / 2 succeeded");
    CHECK(intact(small, 32, 77), "a failed realloc changed the block");
    CHECK(malloc_usable_size(small) >= 32, "usable size %zu after a failed realloc", malloc_usable_size(small));
    free(small);
    CHECK(malloc_usable_size(nullptr) == 0, "malloc_usable_size(NULL)");
    free(nullptr);  // must be harmless
}

void calloc_checks() {
    g_section = "calloc";
    CHECK(calloc(SIZE_MAX / 2 + 1, 2) == nullptr, "calloc(SIZE_MAX / 2 + 1, 2) overflowed silently");
    CHECK(calloc(2, SIZE_MAX / 2 + 1) == nullptr, "calloc(2, SIZE_MAX / 2 + 1)");
    CHECK(calloc(SIZE_MAX, SIZE_MAX) == nullptr, "calloc(SIZE_MAX, SIZE_MAX)");
    CHECK(calloc(0x10000, 0x10001) == nullptr, "calloc(0x10000, 0x10001): the product wraps to 0x10000");
    void* empty = calloc(0, 16);
    CHECK(empty != nullptr, "calloc(0, 16)");
    free(empty);
    const size_t sizes[] = {1, 15, 16, 17, 100, 1000, 4096, 5000, 60000, 200000};
    for (size_t size : sizes) {
        // Dirty memory first, so a calloc that reuses it has something to clear.
        char* dirty = static_cast<char*>(malloc(size));
        CHECK(dirty != nullptr, "malloc(%zu)", size);
        if (!dirty) return;
        memset(dirty, 0xA5, size);
        free(dirty);
        unsigned char* clean = static_cast<unsigned char*>(calloc(1, size));
        CHECK(clean != nullptr, "calloc(1, %zu)", size);
        if (!clean) return;
        size_t nonzero = size;
        for (size_t i = 0; i < size; ++i) {
            if (clean[i] != 0) {
                nonzero = i;
                break;
            }
        }
        CHECK(nonzero == size, "calloc(1, %zu): byte %zu is %#x", size, nonzero, clean[nonzero]);
        free(clean);
    }
}

void realloc_semantics() {
    g_section = "realloc";
    size_t before = live_blocks();
    char* block = static_cast<char*>(realloc(nullptr, 10));  // realloc(NULL, n) is malloc(n)
    CHECK(block != nullptr, "realloc(NULL, 10)");
    if (!block) return;
    CHECK(live_blocks() == before + 1, "realloc(NULL, 10) did not allocate");
    size_t size = 10;
    fill(block, size, 5);
    // Grow step by step past the mmap threshold, then shrink: the prefix must survive every move.
    for (size_t next = 17; next < 300000; next = next * 3 / 2 + 1) {
        char* moved = static_cast<char*>(realloc(block, next));
        CHECK(moved != nullptr, "realloc to %zu", next);
        if (!moved) {
            free(block);
            return;
        }
        CHECK(intact(moved, size, 5), "growing %zu -> %zu lost the contents", size, next);
        fill(moved, next, 5);
        block = moved;
        size = next;
    }
    for (size_t next = size / 2; next > 8; next /= 3) {
        char* moved = static_cast<char*>(realloc(block, next));
        CHECK(moved != nullptr, "realloc down to %zu", next);
        if (!moved) break;
        CHECK(intact(moved, next, 5), "shrinking to %zu lost the contents", next);
        block = moved;
        size = next;
    }
    char* same = static_cast<char*>(realloc(block, size));
    CHECK(same == block, "realloc to the same size moved the block (%p -> %p)", block, same);
    if (same) block = same;
    CHECK(realloc(block, 0) == nullptr, "realloc(p, 0) returned a block");
    CHECK(live_blocks() == before, "realloc(p, 0) did not free p (%zu live, expected %zu)", live_blocks(), before);
}

void aligned_checks() {
    g_section = "aligned";
    for (size_t alignment = 32; alignment <= 65536; alignment *= 2) {
        const size_t sizes[] = {1, 100, 5000};
        for (size_t size : sizes) {
            void* block = aligned_alloc(alignment, size);
            CHECK(block != nullptr && aligned(block, alignment), "aligned_alloc(%zu, %zu) = %p", alignment, size,
                  block);
            if (block) memset(block, 0x5A, size);
            free(block);
        }
    }
    CHECK(aligned_alloc(48, 16) == nullptr, "aligned_alloc(48, 16): 48 is not a power of two");
    CHECK(aligned_alloc(0, 16) == nullptr, "aligned_alloc(0, 16)");
    void* result = reinterpret_cast<void*>(0x1234);
    CHECK(posix_memalign(&result, 3, 16) == static_cast<int>(Error::Invalid), "posix_memalign alignment 3");
    CHECK(posix_memalign(&result, 2, 16) == static_cast<int>(Error::Invalid), "posix_memalign alignment 2");
    CHECK(result == reinterpret_cast<void*>(0x1234), "posix_memalign changed *result on failure");
    CHECK(posix_memalign(&result, 256, 40) == 0 && aligned(result, 256), "posix_memalign(256, 40) = %p", result);
    free(result);
    void* old_style = memalign(128, 300);
    CHECK(old_style != nullptr && aligned(old_style, 128), "memalign(128, 300) = %p", old_style);
    free(old_style);
}

void statistics() {
    g_section = "statistics";
    Malloc::Statistics empty = mneme_malloc_statistics();
    const char* wanted = getenv("MNEME_MALLOC");
    Malloc::Policy policy;
    if (wanted && Malloc::parse_policy(wanted, policy))
        CHECK(empty.policy == policy, "MNEME_MALLOC=%s but the heap runs %s", wanted,
              Malloc::policy_name(empty.policy));
    void* blocks[100];
    for (void*& block : blocks) block = malloc(200);
    Malloc::Statistics s = mneme_malloc_statistics();
    CHECK(s.live_blocks == empty.live_blocks + 100, "%zu live blocks", s.live_blocks);
    CHECK(s.live_bytes >= empty.live_bytes + 20000, "%zu live bytes", s.live_bytes);
    CHECK(s.heap_bytes > 20000, "heap %zu bytes", s.heap_bytes);
    for (int i = 0; i < 100; i += 2) free(blocks[i]);
    s = mneme_malloc_statistics();
    CHECK(s.live_blocks == empty.live_blocks + 50, "%zu live blocks after freeing half", s.live_blocks);
    CHECK(s.largest_free_block <= s.free_bytes, "largest free %zu > free %zu", s.largest_free_block, s.free_bytes);
    CHECK(s.fragmentation_permille() <= 1000, "fragmentation %u", s.fragmentation_permille());
    size_t accounted = s.live_bytes + s.header_bytes + s.alignment_bytes + s.free_bytes + s.metadata_bytes;
    CHECK(accounted == s.heap_bytes, "heap %zu != live + headers + alignment + free + metadata = %zu", s.heap_bytes,
          accounted);
    printf("malloctest: malloc_stats() with 50 blocks of 200 bytes live:\n");
    malloc_stats();
    for (int i = 1; i < 100; i += 2) free(blocks[i]);
}

// A large block is a mapping of its own, demand-paged: the frames appear when it is written and go back to
// the kernel when it is freed and the mapping cache is trimmed.
void large_blocks_and_frames() {
    g_section = "large blocks";
    constexpr size_t kSize = 2 * MiB;
    // Mappings that earlier sections freed stay cached for reuse, their pages resident: a 2 MiB block could be
    // one of them and take no new frame. Trimmed first, the block is a fresh mapping.
    malloc_trim(0);
    u32 frames_before = free_pages();  // 0 when not running on Mneme (the host): frame checks are skipped
    char* block = static_cast<char*>(malloc(kSize));
    CHECK(block != nullptr, "malloc(2 MiB)");
    if (!block) return;
    CHECK(mneme_malloc_statistics().mapped_bytes >= kSize, "mapped %zu bytes", mneme_malloc_statistics().mapped_bytes);
    for (size_t offset = 0; offset < kSize; offset += 4096) block[offset] = static_cast<char>(offset >> 12);
    u32 frames_touched = free_pages();
    free(block);
    malloc_trim(0);
    u32 frames_after = free_pages();
    if (frames_before != 0) {
        CHECK(frames_before - frames_touched >= kSize / 4096, "writing 2 MiB took only %u pages",
              frames_before - frames_touched);
        // free_pages() is free frames less swapped pages, which on a small machine that is swapping can go below
        // zero and wrap around: compare the difference, as a signed count (as the user tests' frames_since does).
        int returned = static_cast<int>(frames_after - frames_touched);
        int change = static_cast<int>(frames_after - frames_before);
        CHECK(change >= -8, "%d pages fewer after free + malloc_trim than before (%d given back of %u taken)", -change,
              returned, frames_before - frames_touched);
    }
}

}  // namespace

// `malloctest --misuse KIND`: commits one heap error on purpose. The allocator must notice and end the
// program through mneme_panic ("panic: malloc: free(0x...): double free ...", exit status 134) instead of
// corrupting the heap; usertests' user.malloc_misuse checks that status for each policy.
int misuse(const char* kind) {
    char* block = static_cast<char*>(malloc(100));
    char* other = static_cast<char*>(malloc(100));
    printf("malloctest: %s with policy %s; expect \"panic: malloc: ...\" and exit status %d\n", kind,
           mneme_malloc_policy_name(), kAbortStatus);
    if (strcmp(kind, "double-free") == 0) {
        free(block);
        free(block);
    } else if (strcmp(kind, "bad-pointer") == 0) {
        free(block + 48);  // inside a block: never returned by malloc
    } else if (strcmp(kind, "overrun") == 0) {
        memset(block, 0x41, 100 + 64);  // past the end, over the next block's header (if it has one)
        free(other);
        free(block);
    } else {
        fprintf(stderr, "usage: malloctest [--misuse double-free|bad-pointer|overrun]\n");
        return 64;
    }
    printf("malloctest: ERROR: the %s went unnoticed\n", kind);
    return 1;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "--misuse") == 0) return misuse(argv[2]);
    const char* policy = mneme_malloc_policy_name();  // the first malloc call: reads MNEME_MALLOC
    printf("malloctest: policy %s\n", policy);
    small_requests();
    randomized();
    zero_and_huge();
    calloc_checks();
    realloc_semantics();
    aligned_checks();
    statistics();
    large_blocks_and_frames();
    mneme_malloc_check();
    printf("malloctest: policy %s: %d checks, %d failed\n", policy, g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
