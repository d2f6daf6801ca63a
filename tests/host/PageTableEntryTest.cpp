// PageTableEntryTest.cpp: the i386 entry types put every bit where the Intel SDM (Vol. 3A Tables 4-4 to
// 4-6) says, and describe() spells them for the monitor's `pt` command.
#include <gtest/gtest.h>

#include <string>

#include "arch/i386/PageTableEntry.h"

namespace {

template <typename Entry>
std::string describe(const Entry& entry) {
    char buffer[96];
    entry.describe(buffer, sizeof(buffer));
    return buffer;
}

TEST(PageTableEntry, EachAccessorOwnsItsSdmBit) {
    struct Case {
        const char* name;
        u32 bit;
        void (PageTableEntry::*set)(bool);
        bool (PageTableEntry::*get)() const;
    };
    const Case cases[] = {
        {"P", 1u << 0, &PageTableEntry::set_present, &PageTableEntry::is_present},
        {"RW", 1u << 1, &PageTableEntry::set_writable, &PageTableEntry::is_writable},
        {"US", 1u << 2, &PageTableEntry::set_user, &PageTableEntry::is_user},
        {"PWT", 1u << 3, &PageTableEntry::set_write_through, &PageTableEntry::is_write_through},
        {"PCD", 1u << 4, &PageTableEntry::set_cache_disabled, &PageTableEntry::is_cache_disabled},
        {"A", 1u << 5, &PageTableEntry::set_accessed, &PageTableEntry::is_accessed},
        {"D", 1u << 6, &PageTableEntry::set_dirty, &PageTableEntry::is_dirty},
        {"PAT", 1u << 7, &PageTableEntry::set_pat, &PageTableEntry::is_pat},
        {"G", 1u << 8, &PageTableEntry::set_global, &PageTableEntry::is_global},
    };
    for (const Case& c : cases) {
        PageTableEntry entry;
        (entry.*c.set)(true);
        EXPECT_EQ(entry.raw(), c.bit) << c.name;
        EXPECT_TRUE((entry.*c.get)()) << c.name;
        PageTableEntry all(0xFFFFFFFF);
        (all.*c.set)(false);
        EXPECT_EQ(all.raw(), ~c.bit) << c.name;
        EXPECT_FALSE((all.*c.get)()) << c.name;
    }
}

TEST(PageTableEntry, FrameAndAvailableBitsDoNotDisturbFlags) {
    PageTableEntry entry;
    entry.set_present(true);
    entry.set_writable(true);
    entry.set_physical_address(0x12345FFF);  // low bits are not part of the frame
    EXPECT_EQ(entry.physical_address(), 0x12345000u);
    EXPECT_EQ(entry.raw(), 0x12345003u);
    entry.set_available(7);
    EXPECT_EQ(entry.raw(), 0x12345E03u) << "AVL is bits 11:9";
    EXPECT_EQ(entry.available(), 7u);
    entry.set_available(9);  // only three bits
    EXPECT_EQ(entry.available(), 1u);
    entry.set_physical_address(0xABCDE000);
    EXPECT_EQ(entry.raw(), 0xABCDE203u);
}

TEST(PageTableEntry, NotPresentEntriesCarryA31BitPayload) {
    auto entry = PageTableEntry::make_not_present(0x7FFFFFFF);
    EXPECT_FALSE(entry.is_present());
    EXPECT_EQ(entry.not_present_payload(), 0x7FFFFFFFu);
    EXPECT_EQ(PageTableEntry::make_not_present(5).raw(), 10u);
    EXPECT_TRUE(PageTableEntry().is_null());
    EXPECT_FALSE(PageTableEntry::make_not_present(1).is_null());
}

TEST(PageDirectoryEntry, LargePageBits) {
    PageDirectoryEntry pde;
    pde.set_large(true);
    EXPECT_EQ(pde.raw(), 1u << 7) << "PS is bit 7 (SDM Table 4-4)";
    pde.set_large_pat(true);
    EXPECT_EQ(pde.raw(), (1u << 7) | (1u << 12)) << "a 4 MiB page's PAT is bit 12";
    PageDirectoryEntry mapped(0x12C00000 | PagingBits::kPresent | PagingBits::kLargePage | PagingBits::kGlobal |
                              PagingBits::kDirty);
    EXPECT_EQ(mapped.large_physical_address(), 0x12C00000u);
    EXPECT_TRUE(mapped.is_global() && mapped.is_dirty() && mapped.is_large());
    PageDirectoryEntry table(0x00345000 | PagingBits::kPresent | PagingBits::kWritable | PagingBits::kUser);
    EXPECT_EQ(table.physical_address(), 0x00345000u);
    EXPECT_FALSE(table.is_large());
}

TEST(PageTableEntry, DescribeSpellsTheSetBits) {
    PageTableEntry entry(0x00200000 | PagingBits::kPresent | PagingBits::kWritable | PagingBits::kUser |
                         PagingBits::kAccessed | PagingBits::kDirty | PagingBits::kGlobal);
    EXPECT_EQ(describe(entry), "P RW US A D G");
    entry.set_available(5);
    entry.set_cache_disabled(true);
    entry.set_write_through(true);
    entry.set_pat(true);
    EXPECT_EQ(describe(entry), "P RW US PWT PCD A D PAT G AVL=5");
    EXPECT_EQ(describe(PageTableEntry()), "-");
    EXPECT_EQ(describe(PageTableEntry::make_not_present(0x42)), "not present, payload 0x42");
    EXPECT_EQ(describe(PageDirectoryEntry(PagingBits::kPresent | PagingBits::kLargePage)), "P PS");
    // snprintf semantics: truncated, NUL-terminated, full length returned.
    char small[6];
    EXPECT_EQ(entry.describe(small, sizeof(small)), 31);
    EXPECT_STREQ(small, "P RW ");
}

TEST(LinearAddress, SplitsAsInSdmFigure4_2) {
    EXPECT_EQ(page_directory_index(0xC0000000), 768u);
    EXPECT_EQ(page_directory_index(0xFFFFFFFF), 1023u);
    EXPECT_EQ(page_table_index(0x00401000), 1u);
    EXPECT_EQ(page_table_index(0xFFFFFFFF), 1023u);
    EXPECT_EQ(page_offset(0x12345678), 0x678u);
    for (u32 address : {0u, 0x12345678u, 0xC0101FFFu, 0xFFFFFFFFu})
        EXPECT_EQ(linear_address(page_directory_index(address), page_table_index(address), page_offset(address)),
                  address);
}

}  // namespace
