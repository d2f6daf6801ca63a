// PageTablesTest.cpp: mm/vm/PageTables over arch/i386/PageTableEntry.h, with page tables in plain host
// memory. The ops record every table allocation, TLB invalidation, released frame and what the frame-table
// hooks were told, so the tests can assert what the kernel would have done to the hardware and to its frame
// table; a fixed-seed random walk checks the page tables against a shadow map after every step.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "arch/i386/PageTableEntry.h"
#include "mm/vm/PageTables.h"

namespace {

// Physical memory for page tables: every "physical address" is handed out once and never reused, so a
// table used after free_table() is an unknown address (tables.at() throws) instead of a silent reuse.
struct HostPageTableOps {
    using DirectoryEntry = PageDirectoryEntry;
    using TableEntry = PageTableEntry;

    struct Page {
        u32 words[1024];
    };
    std::map<u32, std::unique_ptr<Page>> tables;
    u32 next_address = 0x00100000;
    long failures_after = -1;  // allocations that still succeed; -1 = never fail
    size_t allocations = 0;
    std::vector<u32> invalidations;
    std::multiset<u32> released;
    // What the frame-table hooks were told: (directory, vaddr, frame) for every page mapped now.
    std::set<std::tuple<u32, u32, u32>> mapped;
    long frame_mapped_failures_after = -1;  // frame_mapped() calls that still succeed; -1 = never fail

    ErrorOr<u32> allocate_table() {
        if (failures_after == 0) return Error::NoMemory;
        if (failures_after > 0) --failures_after;
        u32 address = next_address;
        next_address += 4096;
        tables[address] = std::make_unique<Page>();  // value-initialised: zeroed, as the contract requires
        ++allocations;
        return address;
    }
    void free_table(u32 address) {
        EXPECT_EQ(tables.count(address), 1u) << "free_table of unknown table " << address;
        tables.erase(address);
    }
    PageDirectoryEntry* directory(u32 address) {
        return reinterpret_cast<PageDirectoryEntry*>(tables.at(address)->words);
    }
    PageTableEntry* table(u32 address) { return reinterpret_cast<PageTableEntry*>(tables.at(address)->words); }
    void invalidate(u32, u32 vaddr) { invalidations.push_back(vaddr); }
    ErrorOr<void> frame_mapped(u32 directory, u32 vaddr, u32 frame) {
        if (frame_mapped_failures_after == 0) return Error::NoMemory;
        if (frame_mapped_failures_after > 0) --frame_mapped_failures_after;
        EXPECT_TRUE(mapped.insert({directory, vaddr, frame}).second) << "mapped twice: " << std::hex << vaddr;
        return {};
    }
    void frame_mapping_undone(u32 directory, u32 vaddr, u32 frame) {
        EXPECT_EQ(mapped.erase({directory, vaddr, frame}), 1u) << "undone but never mapped: " << std::hex << vaddr;
    }
    void release_frame(u32 directory, u32 vaddr, u32 frame) {
        EXPECT_EQ(mapped.erase({directory, vaddr, frame}), 1u) << "released but never mapped: " << std::hex << vaddr;
        released.insert(frame);
    }
};

// The same, plus the optional hook for not-present entries that hold a payload (swap slots).
struct SwapAwareOps : HostPageTableOps {
    std::vector<std::pair<u32, u32>> released_slots;  // (vaddr, payload)
    void release_not_present(u32 vaddr, PageTableEntry entry) {
        released_slots.push_back({vaddr, entry.not_present_payload()});
    }
};

using Space = PageTables<HostPageTableOps>;

template <typename SpaceType>
std::string invariant_message(const SpaceType& space, const SpaceType* kernel = nullptr) {
    std::string text;
    space.check_invariants(
        kernel, [](void* c, const char* p, size_t n) { static_cast<std::string*>(c)->append(p, n); }, &text);
    return text;
}
#define EXPECT_INVARIANTS(...) EXPECT_TRUE((invariant_message(__VA_ARGS__).empty())) << invariant_message(__VA_ARGS__)
constexpr Protection kUserRw{.writable = true, .user = true};
constexpr Protection kUserRo{.user = true};
constexpr Protection kKernelRw{.writable = true};

class PageTablesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto kernel = Space::create_kernel(ops);
        ASSERT_FALSE(kernel.is_error());
        m_kernel = std::make_unique<Space>(kernel.release_value());
    }
    Space& kernel() { return *m_kernel; }
    Space make_user() {
        auto space = Space::create(ops, kernel());
        VERIFY(!space.is_error());
        return space.release_value();
    }

    HostPageTableOps ops;
    std::unique_ptr<Space> m_kernel;
};

TEST_F(PageTablesTest, KernelSpaceOwnsAllKernelTables) {
    EXPECT_EQ(ops.tables.size(), 1u + 256u);
    EXPECT_TRUE(kernel().is_kernel());
    EXPECT_EQ(kernel().count_tables(), 256u);
    for (u32 index = 768; index < 1024; ++index) {
        const PageDirectoryEntry& pde = kernel().directory_entry(index);
        EXPECT_TRUE(pde.is_present() && pde.is_writable() && !pde.is_user() && !pde.is_large()) << index;
    }
    EXPECT_INVARIANTS(kernel());
}

TEST_F(PageTablesTest, UserSpaceSharesTheKernelHalf) {
    Space user = make_user();
    EXPECT_EQ(ops.tables.size(), 258u) << "a user space costs one directory and nothing else";
    EXPECT_INVARIANTS(user, &kernel());
    // A kernel mapping made after the user space exists is visible through it: the table is shared.
    ASSERT_FALSE(kernel().map(0xC0123000, 0x00777000, kKernelRw).is_error());
    auto seen = user.translate(0xC0123456);
    ASSERT_FALSE(seen.is_error());
    EXPECT_EQ(seen.value(), 0x00777456u);
    // ...but a user space cannot change the kernel half.
    EXPECT_EQ(user.map(0xC0200000, 0x1000, kKernelRw).error(), Error::Invalid);
    EXPECT_EQ(user.unmap(0xC0123000).error(), Error::Invalid);
    EXPECT_EQ(user.protect(0xC0123000, kKernelRw).error(), Error::Invalid);
    // Destroying the user space frees its directory only, never the shared kernel table.
    user.destroy();
    EXPECT_EQ(ops.tables.size(), 257u);
    EXPECT_TRUE(ops.released.empty());
    EXPECT_EQ(kernel().translate(0xC0123000).value(), 0x00777000u);
    EXPECT_INVARIANTS(kernel());
}

TEST_F(PageTablesTest, MapTranslateUnmap) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    EXPECT_TRUE(ops.invalidations.empty()) << "mapping a not-present entry needs no INVLPG (SDM 4.10.2.3)";
    EXPECT_EQ(user.count_tables(), 1u);
    EXPECT_EQ(user.translate(0x00400abc).value(), 0x00200abcu);
    EXPECT_EQ(user.translate(0x00401000).error(), Error::NoEntry);
    EXPECT_EQ(user.translate(0x00000000).error(), Error::NoEntry);

    const PageTableEntry* entry = user.lookup(0x00400000);
    ASSERT_NE(entry, nullptr);
    EXPECT_TRUE(entry->is_present() && entry->is_writable() && entry->is_user());
    EXPECT_FALSE(entry->is_global() || entry->is_cache_disabled() || entry->is_write_through());
    EXPECT_EQ(Space::protection_of(*entry), kUserRw);
    const PageDirectoryEntry& pde = user.directory_entry(1);
    EXPECT_TRUE(pde.is_present() && pde.is_writable() && pde.is_user()) << "user PDEs let the PTE decide";

    ASSERT_FALSE(user.unmap(0x00400000).is_error());
    EXPECT_EQ(ops.invalidations, std::vector<u32>{0x00400000});
    EXPECT_EQ(ops.released, std::multiset<u32>{0x00200000});
    EXPECT_EQ(user.count_tables(), 0u) << "the emptied page table is freed";
    EXPECT_EQ(user.lookup(0x00400000), nullptr);
    EXPECT_EQ(user.unmap(0x00400000).error(), Error::NoEntry);
    EXPECT_EQ(ops.tables.size(), 258u);
}

TEST_F(PageTablesTest, SwapOutLeavesTheSlotInTheEntryInvalidatesThenReleasesTheFrame) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00800000, kUserRw).is_error());
    user.lookup(0x00400000)->set_dirty(true);
    size_t tables_before = ops.tables.size();
    ops.invalidations.clear();
    auto old = user.swap_out(0x00400000, 77);
    ASSERT_FALSE(old.is_error());
    EXPECT_TRUE(old.value().is_dirty()) << "the caller learns the page was written";
    const PageTableEntry* entry = user.lookup(0x00400000);
    ASSERT_NE(entry, nullptr) << "the table stays: the entry holds the slot";
    EXPECT_FALSE(entry->is_present());
    EXPECT_EQ(entry->not_present_payload(), 77u);
    EXPECT_EQ(ops.invalidations, std::vector<u32>{0x00400000});
    EXPECT_EQ(ops.released.count(0x00800000), 1u);
    EXPECT_TRUE(ops.mapped.empty());
    EXPECT_EQ(ops.tables.size(), tables_before);
    EXPECT_EQ(user.swap_out(0x00400000, 78).error(), Error::NoEntry) << "nothing present there any more";
    EXPECT_EQ(user.swap_out(0x00401000, 0).error(), Error::Invalid);
    EXPECT_INVARIANTS(user, &kernel());
}

TEST_F(PageTablesTest, UnmapKeepsATableThatStillHasMappings) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    ASSERT_FALSE(user.map(0x007FF000, 0x00201000, kUserRo).is_error());
    ASSERT_FALSE(user.unmap(0x00400000).is_error());
    EXPECT_EQ(user.count_tables(), 1u);
    EXPECT_EQ(user.translate(0x007FF000).value(), 0x00201000u);
}

TEST_F(PageTablesTest, TheLastEntryKeepsItsTableWhereverItIs) {
    Space user = make_user();
    for (u32 last : {0u, 1u, 5u, 511u, 1022u, 1023u}) {
        u32 other = last == 0 ? 1 : 0;
        ASSERT_FALSE(user.map(0x00400000 + last * 4096, 0x00200000, kUserRw).is_error());
        ASSERT_FALSE(user.map(0x00400000 + other * 4096, 0x00300000, kUserRw).is_error());
        ASSERT_FALSE(user.unmap(0x00400000 + other * 4096).is_error());
        EXPECT_EQ(user.count_tables(), 1u) << "slot " << last;
        EXPECT_EQ(user.translate(0x00400000 + last * 4096).value(), 0x00200000u) << "slot " << last;
        ASSERT_FALSE(user.unmap(0x00400000 + last * 4096).is_error());
        EXPECT_EQ(user.count_tables(), 0u) << "slot " << last;
    }
}

TEST_F(PageTablesTest, InvalidArgumentsChangeNothing) {
    Space user = make_user();
    EXPECT_EQ(user.map(0x00400001, 0x1000, kUserRw).error(), Error::Invalid);
    EXPECT_EQ(user.map(0x00400000, 0x1001, kUserRw).error(), Error::Invalid);
    EXPECT_EQ(user.map_range(0x00400000, 0x1000, 0, kUserRw).error(), Error::Invalid);
    EXPECT_EQ(user.map_range(0xBFFFF000, 0x1000, 2, kUserRw).error(), Error::Invalid) << "crosses into the kernel";
    EXPECT_EQ(user.map(0x00400000, 0x1000, {.writable = true, .global = true}).error(), Error::Invalid)
        << "a global user page would survive CR3 switches";
    EXPECT_EQ(kernel().map(0xC0400000, 0x1000, kUserRw).error(), Error::Invalid) << "user page in kernel half";
    EXPECT_EQ(kernel().map_range(0xFFFFF000, 0x1000, 2, kKernelRw).error(), Error::Invalid) << "wraps";
    EXPECT_EQ(kernel().map(0xFFFFF000, 0xFFFFF000, kKernelRw).is_error(), false) << "the last page is fine";
    EXPECT_EQ(kernel().map_range(0xC0000000, 0xFFFFF000, 2, kKernelRw).error(), Error::Invalid)
        << "physical range wraps";
    EXPECT_EQ(user.unmap(0x00400000).error(), Error::NoEntry);
    EXPECT_EQ(user.unmap(0x00400800).error(), Error::Invalid);
    EXPECT_EQ(user.protect(0x00400000, kUserRo).error(), Error::NoEntry);
    EXPECT_EQ(user.count_tables(), 0u);
    EXPECT_EQ(ops.tables.size(), 258u);
    EXPECT_TRUE(ops.invalidations.size() == 0 && ops.released.empty());
}

TEST_F(PageTablesTest, MappingOverAMappingIsExistsAndChangesNothing) {
    Space user = make_user();
    ASSERT_FALSE(user.map_range(0x00400000, 0x00200000, 4, kUserRw).is_error());
    // The range 0x3FE000..0x401FFF needs a new table for its first half and overlaps the second.
    EXPECT_EQ(user.map_range(0x003FE000, 0x00300000, 4, kUserRo).error(), Error::Exists);
    EXPECT_EQ(user.count_tables(), 1u) << "no table was allocated for the refused range";
    EXPECT_EQ(user.translate(0x003FE000).error(), Error::NoEntry);
    EXPECT_EQ(user.translate(0x00400000).value(), 0x00200000u);
    EXPECT_TRUE(Space::protection_of(*user.lookup(0x00400000)).writable);
    // A not-present entry holding a payload (a swap slot) counts as existing too.
    *user.lookup(0x00404000) = PageTableEntry::make_not_present(1234);
    EXPECT_EQ(user.map(0x00404000, 0x00300000, kUserRw).error(), Error::Exists);
    EXPECT_EQ(user.lookup(0x00404000)->not_present_payload(), 1234u);
}

TEST_F(PageTablesTest, OutOfMemoryLeavesNothingBehind) {
    Space user = make_user();
    size_t tables_before = ops.tables.size();
    // A 12 MiB range needs three new tables; the third allocation fails.
    ops.failures_after = 2;
    EXPECT_EQ(user.map_range(0x00400000, 0x01000000, 3 * 1024, kUserRw).error(), Error::NoMemory);
    EXPECT_EQ(ops.tables.size(), tables_before) << "the two tables allocated before the failure were freed";
    EXPECT_EQ(user.count_tables(), 0u);
    EXPECT_EQ(user.count_mappings(), 0u);
    ops.failures_after = 0;
    EXPECT_EQ(user.map(0x00400000, 0x1000, kUserRw).error(), Error::NoMemory);
    EXPECT_EQ(user.ensure_entry(0x00400000).error(), Error::NoMemory);
    EXPECT_EQ(Space::create(ops, kernel()).error(), Error::NoMemory);
    EXPECT_EQ(ops.tables.size(), tables_before);
    // With a table already present, mapping needs no allocation and succeeds even now.
    ops.failures_after = -1;
    ASSERT_FALSE(user.map(0x00400000, 0x1000, kUserRw).is_error());
    ops.failures_after = 0;
    EXPECT_FALSE(user.map(0x00401000, 0x2000, kUserRw).is_error());
    EXPECT_INVARIANTS(user, &kernel());
}

TEST_F(PageTablesTest, CreateKernelFailingAtEveryStepLeaksNothing) {
    for (long budget = 0; budget < 257; budget += 1 + budget / 8) {
        HostPageTableOps local;
        local.failures_after = budget;
        auto space = PageTables<HostPageTableOps>::create_kernel(local);
        EXPECT_TRUE(space.is_error()) << budget;
        EXPECT_EQ(space.error(), Error::NoMemory);
        EXPECT_TRUE(local.tables.empty()) << "budget " << budget << " leaked " << local.tables.size();
    }
}

TEST_F(PageTablesTest, ProtectKeepsFrameAccessedDirtyAndAvailableBits) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    PageTableEntry* entry = user.lookup(0x00400000);
    entry->set_accessed(true);  // as the CPU would (SDM 4.8)
    entry->set_dirty(true);
    entry->set_available(6);  // bits 11:10; bit 9 belongs to Protection::copy_on_write
    ASSERT_FALSE(user.protect(0x00400000, {.user = true, .cache_disabled = true}).is_error());
    EXPECT_EQ(ops.invalidations, std::vector<u32>{0x00400000});
    EXPECT_TRUE(entry->is_present() && entry->is_user() && entry->is_cache_disabled());
    EXPECT_FALSE(entry->is_writable());
    EXPECT_TRUE(entry->is_accessed() && entry->is_dirty());
    EXPECT_EQ(entry->available(), 6u);
    EXPECT_EQ(entry->physical_address(), 0x00200000u);
    // Same protection again: nothing to flush.
    ASSERT_FALSE(user.protect(0x00400000, {.user = true, .cache_disabled = true}).is_error());
    EXPECT_EQ(ops.invalidations.size(), 1u);
    // A range with a hole is refused as a whole.
    ASSERT_FALSE(user.map(0x00402000, 0x00202000, kUserRw).is_error());
    EXPECT_EQ(user.protect_range(0x00400000, 3, kUserRo).error(), Error::NoEntry);
    EXPECT_TRUE(user.lookup(0x00402000)->is_writable());
    EXPECT_EQ(user.protect(0x00400000, {.writable = true, .global = true}).error(), Error::Invalid);
}

TEST_F(PageTablesTest, AccessedAndDirtyAreReadAndCleared) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    EXPECT_EQ(user.test_and_clear_accessed(0x00400000).value(), false);
    EXPECT_TRUE(ops.invalidations.empty()) << "nothing cleared, nothing to flush";
    user.lookup(0x00400000)->set_accessed(true);
    user.lookup(0x00400000)->set_dirty(true);
    EXPECT_EQ(user.test_and_clear_accessed(0x00400123).value(), true);
    EXPECT_EQ(user.test_and_clear_accessed(0x00400000).value(), false);
    EXPECT_TRUE(user.lookup(0x00400000)->is_dirty()) << "clearing A leaves D";
    EXPECT_EQ(user.test_and_clear_dirty(0x00400000).value(), true);
    EXPECT_EQ(user.test_and_clear_dirty(0x00400000).value(), false);
    EXPECT_EQ(ops.invalidations, (std::vector<u32>{0x00400000, 0x00400000}));
    EXPECT_EQ(user.test_and_clear_dirty(0x00500000).error(), Error::NoEntry);
}

TEST_F(PageTablesTest, IterationVisitsMappingsAndSwapEntriesInOrder) {
    Space user = make_user();
    ASSERT_FALSE(user.map_range(0x00400000, 0x00200000, 3, kUserRw).is_error());
    ASSERT_FALSE(user.map(0x08000000, 0x00300000, kUserRo).is_error());
    auto slot = user.ensure_entry(0x08001000);
    ASSERT_FALSE(slot.is_error());
    *slot.value() = PageTableEntry::make_not_present(77);
    std::vector<u32> present, all;
    user.for_each_mapping(0, 0xC0000, [&](u32 vaddr, PageTableEntry&) { present.push_back(vaddr); });
    user.for_each_entry(0, 0xC0000, [&](u32 vaddr, PageTableEntry&) { all.push_back(vaddr); });
    EXPECT_EQ(present, (std::vector<u32>{0x00400000, 0x00401000, 0x00402000, 0x08000000}));
    EXPECT_EQ(all, (std::vector<u32>{0x00400000, 0x00401000, 0x00402000, 0x08000000, 0x08001000}));
    present.clear();
    user.for_each_mapping(0x00401000, 1, [&](u32 vaddr, PageTableEntry&) { present.push_back(vaddr); });
    EXPECT_EQ(present, std::vector<u32>{0x00401000});
    EXPECT_EQ(user.count_mappings(), 4u);
}

TEST_F(PageTablesTest, UnmapRangeSkipsHolesAndFreesEmptiedTables) {
    Space user = make_user();
    ASSERT_FALSE(user.map_range(0x003FF000, 0x00200000, 2, kUserRw).is_error());  // straddles two tables
    ASSERT_FALSE(user.map(0x00800000, 0x00300000, kUserRw).is_error());           // a third table
    EXPECT_EQ(user.count_tables(), 3u);
    auto removed = user.unmap_range(0x003FE000, 0x402);  // up to and including 0x007FF000
    ASSERT_FALSE(removed.is_error());
    EXPECT_EQ(removed.value(), 2u);
    EXPECT_EQ(user.count_tables(), 1u);
    EXPECT_EQ(ops.released, (std::multiset<u32>{0x00200000, 0x00201000}));
    std::set<u32> flushed(ops.invalidations.begin(), ops.invalidations.end());
    EXPECT_EQ(flushed, (std::set<u32>{0x003FF000, 0x00400000}));
    EXPECT_EQ(user.translate(0x00800000).value(), 0x00300000u);
    EXPECT_EQ(user.unmap_range(0x00000000, 16).value(), 0u);
}

TEST_F(PageTablesTest, DestroyReturnsEveryFrameTableAndSwapSlot) {
    SwapAwareOps swap_ops;
    auto kernel_space = PageTables<SwapAwareOps>::create_kernel(swap_ops);
    ASSERT_FALSE(kernel_space.is_error());
    {
        auto made = PageTables<SwapAwareOps>::create(swap_ops, kernel_space.value());
        ASSERT_FALSE(made.is_error());
        PageTables<SwapAwareOps> user = made.release_value();
        ASSERT_FALSE(user.map_range(0x00400000, 0x00200000, 5, kUserRw).is_error());
        ASSERT_FALSE(user.map(0xBFFFF000, 0x00900000, kUserRw).is_error());
        *user.ensure_entry(0x20000000).value() = PageTableEntry::make_not_present(42);
        *user.ensure_entry(0x20001000).value() = PageTableEntry::make_not_present(43);
        ASSERT_FALSE(user.unmap(0x20001000).is_error());
        EXPECT_EQ(swap_ops.released_slots, (std::vector<std::pair<u32, u32>>{{0x20001000, 43}}));
        EXPECT_EQ(swap_ops.tables.size(), 257u + 1u + 3u);
        // Going out of scope destroys it.
    }
    EXPECT_EQ(swap_ops.tables.size(), 257u) << "directory and the three user tables are back";
    EXPECT_EQ(swap_ops.released,
              (std::multiset<u32>{0x00200000, 0x00201000, 0x00202000, 0x00203000, 0x00204000, 0x00900000}));
    EXPECT_EQ(swap_ops.released_slots.size(), 2u);
    EXPECT_EQ(swap_ops.released_slots[1], (std::pair<u32, u32>{0x20000000, 42}));
    kernel_space.value().destroy();
    EXPECT_TRUE(swap_ops.tables.empty());
}

TEST_F(PageTablesTest, MovedFromSpaceOwnsNothing) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    Space moved(std::move(user));
    EXPECT_EQ(user.directory_physical_address(), 0u);
    user.destroy();  // no effect
    EXPECT_EQ(moved.translate(0x00400000).value(), 0x00200000u);
    EXPECT_TRUE(ops.released.empty());
}

TEST_F(PageTablesTest, TranslatesThroughA4MiBPage) {
    // The kernel may keep a 4 MiB page (PS=1, SDM Table 4-4) in its half; translate() follows it and map()
    // refuses to map inside it.
    PageDirectoryEntry& pde = kernel().directory_entry(1023);
    ops.free_table(pde.physical_address());
    pde = PageDirectoryEntry(0x12C00000 | PagingBits::kPresent | PagingBits::kWritable | PagingBits::kLargePage);
    EXPECT_EQ(kernel().translate(0xFFC01234).value(), 0x12C01234u);
    EXPECT_EQ(kernel().lookup(0xFFC01000), nullptr);
    EXPECT_EQ(kernel().map(0xFFC01000, 0x1000, kKernelRw).error(), Error::Exists);
    EXPECT_INVARIANTS(kernel());
    pde.clear();
    pde = PageDirectoryEntry(ops.allocate_table().value() | PagingBits::kPresent | PagingBits::kWritable);
}

TEST_F(PageTablesTest, WalkReportsEachLevel) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00403000, 0x00900000, kUserRo).is_error());
    auto w = user.walk(0x00403abc);
    EXPECT_EQ(w.directory_index, 1u);
    EXPECT_EQ(w.table_index, 3u);
    EXPECT_TRUE(w.pde.is_present() && w.pte.is_present() && w.mapped && !w.large);
    EXPECT_EQ(w.physical, 0x00900abcu);
    auto hole = user.walk(0x00404000);
    EXPECT_TRUE(hole.pde.is_present() && !hole.mapped);
    auto none = user.walk(0x08000000);
    EXPECT_FALSE(none.pde.is_present() || none.mapped);
    // The static form walks any directory, as the monitor does with a CR3 value.
    EXPECT_EQ(Space::walk(ops, user.directory_physical_address(), 0x00403abc).physical, 0x00900abcu);
}

TEST_F(PageTablesTest, CopyOnWriteIsAProtectionBitTheCpuIgnores) {
    Space user = make_user();
    Protection cow{.user = true, .copy_on_write = true};
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, cow).is_error());
    const PageTableEntry* entry = user.lookup(0x00400000);
    EXPECT_EQ(entry->available() & Space::kAvailableCopyOnWrite, Space::kAvailableCopyOnWrite);
    EXPECT_FALSE(entry->is_writable());
    EXPECT_EQ(Space::protection_of(*entry), cow);
    ASSERT_FALSE(user.protect(0x00400000, kUserRw).is_error());
    EXPECT_EQ(Space::protection_of(*user.lookup(0x00400000)), kUserRw) << "protect() clears the mark";
}

TEST_F(PageTablesTest, ReplaceSwapsTheFrameInvalidatesThenReleasesTheOldOne) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRo).is_error());
    ops.invalidations.clear();
    ASSERT_FALSE(user.replace(0x00400000, 0x00300000, kUserRw).is_error());
    EXPECT_EQ(user.translate(0x00400010).value(), 0x00300010u);
    EXPECT_EQ(ops.invalidations, std::vector<u32>{0x00400000u});
    EXPECT_EQ(ops.released.count(0x00200000u), 1u);
    EXPECT_EQ(user.replace(0x00401000, 0x00300000, kUserRw).error(), Error::NoEntry);
    EXPECT_EQ(user.replace(0xC0000000, 0x00300000, kKernelRw).error(), Error::Invalid);
}

TEST_F(PageTablesTest, FrameTableHooksFollowMapReplaceUnmapAndDestroy) {
    u32 directory;
    {
        Space user = make_user();
        directory = user.directory_physical_address();
        ASSERT_FALSE(user.map_range(0x00400000, 0x00200000, 3, kUserRw).is_error());
        ASSERT_FALSE(user.map(0x08000000, 0x00300000, kUserRo).is_error());
        using M = std::set<std::tuple<u32, u32, u32>>;
        EXPECT_EQ(ops.mapped, (M{{directory, 0x00400000, 0x00200000},
                                 {directory, 0x00401000, 0x00201000},
                                 {directory, 0x00402000, 0x00202000},
                                 {directory, 0x08000000, 0x00300000}}));
        ASSERT_FALSE(user.replace(0x00401000, 0x00500000, kUserRw).is_error());
        ASSERT_FALSE(user.protect(0x00400000, kUserRo).is_error());  // no frame changes: no hook
        ASSERT_FALSE(user.set_not_present(0x00403000, 9).is_error());
        ASSERT_FALSE(user.unmap(0x00402000).is_error());
        EXPECT_EQ(ops.mapped, (M{{directory, 0x00400000, 0x00200000},
                                 {directory, 0x00401000, 0x00500000},
                                 {directory, 0x08000000, 0x00300000}}));
        EXPECT_EQ(ops.released, (std::multiset<u32>{0x00201000, 0x00202000}));
    }
    EXPECT_TRUE(ops.mapped.empty()) << "destroy() released every frame through the hook";
    EXPECT_EQ(ops.released, (std::multiset<u32>{0x00200000, 0x00201000, 0x00202000, 0x00300000, 0x00500000}));
}

TEST_F(PageTablesTest, MapRangeTheFrameTableRefusesUndoesItsRecordsAndTables) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00403000, 0x00100000, kUserRw).is_error());
    size_t tables_before = ops.tables.size();
    auto mapped_before = ops.mapped;
    // Four pages from 0x003FE000: two in a new table, two in the table of 0x00403000; the third record fails.
    ops.frame_mapped_failures_after = 2;
    EXPECT_EQ(user.map_range(0x003FE000, 0x00200000, 4, kUserRw).error(), Error::NoMemory);
    ops.frame_mapped_failures_after = -1;
    EXPECT_EQ(ops.mapped, mapped_before) << "the two pages recorded were undone";
    EXPECT_EQ(ops.tables.size(), tables_before) << "the table made for the range was freed";
    EXPECT_EQ(user.count_mappings(), 1u);
    EXPECT_TRUE(ops.released.empty()) << "undoing a record releases no frame: the caller still owns them";
    EXPECT_INVARIANTS(user, &kernel());
    // A replace the frame table refuses changes nothing either.
    ops.frame_mapped_failures_after = 0;
    EXPECT_EQ(user.replace(0x00403000, 0x00900000, kUserRo).error(), Error::NoMemory);
    ops.frame_mapped_failures_after = -1;
    EXPECT_EQ(user.translate(0x00403000).value(), 0x00100000u);
    EXPECT_TRUE(Space::protection_of(*user.lookup(0x00403000)).writable);
    EXPECT_EQ(ops.mapped, mapped_before);
    EXPECT_TRUE(ops.released.empty());
}

TEST_F(PageTablesTest, SetNotPresentStoresAPayloadWhereNoPageIsMapped) {
    Space user = make_user();
    ASSERT_FALSE(user.set_not_present(0x00800000, 77).is_error());
    EXPECT_EQ(user.lookup(0x00800000)->not_present_payload(), 77u);
    EXPECT_FALSE(user.walk(0x00800000).mapped);
    ASSERT_FALSE(user.map(0x00801000, 0x00200000, kUserRw).is_error());
    EXPECT_EQ(user.set_not_present(0x00801000, 5).error(), Error::Exists);
    EXPECT_EQ(user.set_not_present(0x00802000, 0).error(), Error::Invalid);
    EXPECT_INVARIANTS(user, &kernel());
}

TEST_F(PageTablesTest, InvariantCheckCatchesAGlobalUserPage) {
    Space user = make_user();
    ASSERT_FALSE(user.map(0x00400000, 0x00200000, kUserRw).is_error());
    user.lookup(0x00400000)->set_global(true);
    EXPECT_FALSE(user.check_invariants());
    EXPECT_EQ(invariant_message(user), "invariant violated: PageTables: global page in the user half at 0x400000\n");
}

TEST_F(PageTablesTest, InvariantCheckCatchesADivergedKernelHalf) {
    Space user = make_user();
    user.directory_entry(800).set_available(1);
    EXPECT_TRUE(user.check_invariants()) << "without the kernel space there is nothing to compare";
    EXPECT_FALSE(user.check_invariants(&kernel()));
    EXPECT_NE(invariant_message(user, &kernel()).find("PDE 800 differs from the kernel's"), std::string::npos);
}

// Model-based: random map/map_range/unmap/unmap_range/protect with allocation and frame-table failures,
// checked against a shadow map of page -> (frame, protection) after every step, which the frame-table hooks
// must also agree with.
TEST_F(PageTablesTest, RandomOperationsMatchAShadowModel) {
    struct Mapping {
        u32 frame;
        Protection protection;
    };
    std::mt19937 random(20260401);
    Space user = make_user();
    std::map<u32, Mapping> model;
    std::multiset<u32> expected_released;
    u32 next_frame = 0x01000000;
    // Pages from three small windows (one straddling two tables, one in the last user table), so tables
    // fill, empty down to their last entry, and get freed often.
    auto random_page = [&] {
        static const u32 bases[] = {0x00400000, 0x007FC000, 0xBFBF8000};
        return bases[random() % 3] + (random() % 8) * 4096;
    };
    auto random_protection = [&] {
        return Protection{.writable = bool(random() % 2), .user = true, .cache_disabled = random() % 8 == 0};
    };
    for (int step = 0; step < 4000; ++step) {
        ops.failures_after = random() % 10 == 0 ? long(random() % 2) : -1;
        ops.frame_mapped_failures_after = random() % 10 == 0 ? long(random() % 3) : -1;
        size_t tables_before = ops.tables.size();
        u32 page = random_page();
        u32 pages = 1 + random() % 3;
        ops.invalidations.clear();
        switch (random() % 5) {
        case 0:
        case 1: {
            Protection protection = random_protection();
            bool overlaps = false;
            for (u32 i = 0; i < pages; ++i) overlaps |= model.count(page + i * 4096) > 0;
            if (page + pages * 4096 > 0xC0000000) break;
            auto result = user.map_range(page, next_frame, pages, protection);
            if (overlaps) {
                ASSERT_TRUE(result.is_error());
                EXPECT_EQ(result.error(), Error::Exists);
            } else if (result.is_error()) {
                EXPECT_EQ(result.error(), Error::NoMemory);
            }
            if (result.is_error()) {
                EXPECT_EQ(ops.tables.size(), tables_before) << "failed map left a table behind";
                break;
            }
            for (u32 i = 0; i < pages; ++i) model[page + i * 4096] = {next_frame + i * 4096, protection};
            next_frame += pages * 4096;
            break;
        }
        case 2: {
            auto result = user.unmap(page);
            auto it = model.find(page);
            if (it == model.end()) {
                EXPECT_EQ(result.error(), Error::NoEntry);
                break;
            }
            ASSERT_FALSE(result.is_error());
            expected_released.insert(it->second.frame);
            model.erase(it);
            EXPECT_FALSE(ops.invalidations.empty());
            for (u32 flushed : ops.invalidations) EXPECT_EQ(flushed, page);
            break;
        }
        case 3: {
            auto result = user.unmap_range(page, pages);
            ASSERT_FALSE(result.is_error());
            u32 expected = 0;
            for (u32 i = 0; i < pages; ++i) {
                auto it = model.find(page + i * 4096);
                if (it == model.end()) continue;
                ++expected;
                expected_released.insert(it->second.frame);
                EXPECT_NE(std::find(ops.invalidations.begin(), ops.invalidations.end(), it->first),
                          ops.invalidations.end());
                model.erase(it);
            }
            EXPECT_EQ(result.value(), expected);
            for (u32 flushed : ops.invalidations) EXPECT_TRUE(flushed >= page && flushed < page + pages * 4096);
            break;
        }
        case 4: {
            Protection protection = random_protection();
            bool all_mapped = true;
            for (u32 i = 0; i < pages; ++i) all_mapped &= model.count(page + i * 4096) > 0;
            auto result = user.protect_range(page, pages, protection);
            EXPECT_EQ(result.is_error(), !all_mapped);
            if (all_mapped)
                for (u32 i = 0; i < pages; ++i) model[page + i * 4096].protection = protection;
            break;
        }
        }
        ops.failures_after = -1;
        ops.frame_mapped_failures_after = -1;
        std::set<std::tuple<u32, u32, u32>> expected_mapped;
        for (const auto& [vaddr, mapping] : model)
            expected_mapped.insert({user.directory_physical_address(), vaddr, mapping.frame});
        ASSERT_EQ(ops.mapped, expected_mapped) << "the frame-table hooks disagree with the tables, step " << step;
        ASSERT_TRUE(user.check_invariants(&kernel())) << invariant_message(user, &kernel()) << " step " << step;
        ASSERT_EQ(user.count_mappings(), model.size()) << "step " << step;
        ASSERT_EQ(ops.released, expected_released) << "step " << step;
        for (const auto& [vaddr, mapping] : model) {
            auto translated = user.translate(vaddr + 0x123);
            ASSERT_FALSE(translated.is_error()) << std::hex << vaddr;
            ASSERT_EQ(translated.value(), mapping.frame + 0x123);
            ASSERT_EQ(Space::protection_of(*user.lookup(vaddr)), mapping.protection);
        }
        // Every table is either the kernel's, this directory, or a user table with a mapping in it.
        std::set<u32> regions;
        for (const auto& [vaddr, mapping] : model) regions.insert(vaddr >> 22);
        ASSERT_EQ(user.count_tables(), regions.size()) << "an empty table was kept, step " << step;
        ASSERT_EQ(ops.tables.size(), 257u + 1u + regions.size());
    }
    // Destroy returns every frame still mapped.
    for (const auto& [vaddr, mapping] : model) expected_released.insert(mapping.frame);
    user.destroy();
    EXPECT_EQ(ops.released, expected_released);
    EXPECT_EQ(ops.tables.size(), 257u);
}

}  // namespace
