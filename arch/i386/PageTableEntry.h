// PageTableEntry.h: typed i386 page-directory and page-table entries (32-bit paging, no PAE).
//
// 32-bit paging (Intel SDM Vol. 3A, section 4.3) translates a linear address in two steps: bits 31:22 pick
// one of 1024 page-directory entries (PDEs) in the 4 KiB page directory that CR3 points to, bits 21:12 pick
// one of 1024 page-table entries (PTEs) in the page table that PDE points to, and bits 11:0 are the offset
// in the 4 KiB page (SDM Figure 4-2). A PDE with PS=1 maps a 4 MiB page directly (Figure 4-3, needs
// CR4.PSE). The entry formats are SDM Figure 4-4 and Tables 4-4 (PDE mapping a 4 MiB page), 4-5 (PDE
// referencing a page table) and 4-6 (PTE mapping a 4 KiB page).
//
// Both types are one u32 with named accessors, so code reads `entry.is_dirty()` rather than `raw & 0x40`.
// When P=0 the processor ignores bits 31:1 (SDM 4.3, "If a paging-structure entry's P flag is 0 ... the
// entry is used neither to reference another paging-structure entry nor to map a page"), so the OS may keep
// its own 31-bit payload there: Mneme stores a swap slot (`not_present_payload`).
//
// Header-only and free of asm: the CPU-touching parts (CR3, INVLPG) live elsewhere in arch/i386, and the
// host tests include this header to back mm/vm/PageTables with plain memory.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"

constexpr u32 kLargePageSize = 4 * 1024 * 1024;  // a PDE with PS=1 (SDM Table 4-4)
constexpr u32 kEntriesPerTable = 1024;           // 1024 4-byte entries fill one 4 KiB page (SDM 4.3)

// The linear-address split of SDM Figure 4-2: directory (31:22), table (21:12), offset (11:0).
constexpr u32 page_directory_index(u32 linear) { return linear >> 22; }
constexpr u32 page_table_index(u32 linear) { return (linear >> 12) & 0x3FF; }
constexpr u32 page_offset(u32 linear) { return linear & 0xFFF; }
constexpr u32 linear_address(u32 directory_index, u32 table_index, u32 offset) {
    return (directory_index << 22) | (table_index << 12) | offset;
}

namespace PagingBits {
// Bits shared by PDEs and PTEs (SDM Tables 4-4, 4-5, 4-6).
constexpr u32 kPresent = 1u << 0;       // P: must be 1 to map a page or reference a table
constexpr u32 kWritable = 1u << 1;      // R/W: 0 = writes may not be allowed (SDM 4.6; CR0.WP for CPL 0)
constexpr u32 kUser = 1u << 2;          // U/S: 0 = accesses with CPL=3 are not allowed (SDM 4.6)
constexpr u32 kWriteThrough = 1u << 3;  // PWT: page-level write-through, selects the memory type (SDM 4.9)
constexpr u32 kCacheDisable = 1u << 4;  // PCD: page-level cache disable, selects the memory type (SDM 4.9)
constexpr u32 kAccessed = 1u << 5;      // A: set by the CPU when the entry is used for a translation (SDM 4.8)
constexpr u32 kDirty = 1u << 6;         // D: set by the CPU on a write to the page (SDM 4.8); PDE: 4 MiB only
constexpr u32 kLargePage = 1u << 7;     // PS in a PDE: 1 = maps a 4 MiB page (SDM Table 4-4, CR4.PSE=1)
constexpr u32 kPat = 1u << 7;           // PAT in a PTE: third memory-type selector bit (SDM Table 4-6, 4.9.2)
constexpr u32 kGlobal = 1u << 8;        // G: survives a MOV to CR3 if CR4.PGE=1 (SDM 4.10.2.4); PDE: 4 MiB only
constexpr u32 kAvailableShift = 9;      // bits 11:9 are ignored by the CPU: free for the OS (SDM Table 4-6)
constexpr u32 kAvailableMask = 7u << kAvailableShift;
constexpr u32 kLargePat = 1u << 12;          // PAT of a PDE mapping a 4 MiB page (SDM Table 4-4)
constexpr u32 kFrameMask = 0xFFFFF000;       // bits 31:12: 4 KiB-aligned physical address (SDM Tables 4-5, 4-6)
constexpr u32 kLargeFrameMask = 0xFFC00000;  // bits 31:22 of a 4 MiB page's physical address (SDM Table 4-4)
}  // namespace PagingBits

// Spells the set bits of `raw` ("P RW US A D G AVL=5") into `buffer`; returns the length the full text has
// (snprintf semantics). `bit7` names bit 7 ("PS" in a PDE, "PAT" in a PTE); entries with P=0 and a payload
// print as "not present, payload 0x...".
inline int describe_paging_entry(u32 raw, const char* bit7, char* buffer, size_t size) {
    using namespace PagingBits;
    if (!(raw & kPresent)) {
        if (raw == 0) return format_to_buffer(buffer, size, "-");
        return format_to_buffer(buffer, size, "not present, payload %#x", raw >> 1);
    }
    struct Name {
        u32 bit;
        const char* text;
    };
    const Name names[] = {{kPresent, "P"},        {kWritable, "RW"},      {kUser, "US"},
                          {kWriteThrough, "PWT"}, {kCacheDisable, "PCD"}, {kAccessed, "A"},
                          {kDirty, "D"},          {1u << 7, bit7},        {kGlobal, "G"}};
    size_t length = 0;
    auto append = [&](const char* text, u32 value, bool with_value) {
        char* out = length < size ? buffer + length : nullptr;
        size_t room = length < size ? size - length : 0;
        const char* separator = length == 0 ? "" : " ";
        int n = with_value ? format_to_buffer(out, room, "%s%s=%u", separator, text, value)
                           : format_to_buffer(out, room, "%s%s", separator, text);
        length += static_cast<size_t>(n);
    };
    for (const Name& name : names)
        if (raw & name.bit) append(name.text, 0, false);
    if (raw & kAvailableMask) append("AVL", (raw & kAvailableMask) >> kAvailableShift, true);
    if (size > 0 && length >= size) buffer[size - 1] = '\0';
    return static_cast<int>(length);
}

// The common accessors of both entry kinds: the bits that mean the same in a PDE and a PTE.
template <typename Derived>
class PagingEntryBase {
public:
    constexpr PagingEntryBase() = default;
    constexpr explicit PagingEntryBase(u32 raw) : m_raw(raw) {}

    constexpr u32 raw() const { return m_raw; }
    constexpr bool is_null() const { return m_raw == 0; }
    constexpr void clear() { m_raw = 0; }

    constexpr bool is_present() const { return bit(PagingBits::kPresent); }
    constexpr void set_present(bool on) { set_bit(PagingBits::kPresent, on); }
    constexpr bool is_writable() const { return bit(PagingBits::kWritable); }
    constexpr void set_writable(bool on) { set_bit(PagingBits::kWritable, on); }
    constexpr bool is_user() const { return bit(PagingBits::kUser); }
    constexpr void set_user(bool on) { set_bit(PagingBits::kUser, on); }
    constexpr bool is_write_through() const { return bit(PagingBits::kWriteThrough); }
    constexpr void set_write_through(bool on) { set_bit(PagingBits::kWriteThrough, on); }
    constexpr bool is_cache_disabled() const { return bit(PagingBits::kCacheDisable); }
    constexpr void set_cache_disabled(bool on) { set_bit(PagingBits::kCacheDisable, on); }
    // The CPU sets A (and D) but never clears them (SDM 4.8): software clears them and then must INVLPG
    // the page, or a cached translation keeps the CPU from setting them again.
    constexpr bool is_accessed() const { return bit(PagingBits::kAccessed); }
    constexpr void set_accessed(bool on) { set_bit(PagingBits::kAccessed, on); }
    // Clears `mask`'s bits with one locked AND and returns the entry as it was. Another CPU's page walker sets
    // A and D in an entry it uses with locked operations of its own (SDM Vol. 3A 8.1.2.1): a plain
    // read-modify-write of an entry live on another CPU could undo a D it set in between, and lose a write.
    u32 clear_bits_atomically(u32 mask) { return __atomic_fetch_and(&m_raw, ~mask, __ATOMIC_SEQ_CST); }
    // Clears A atomically; returns whether it was set.
    bool take_accessed() { return clear_bits_atomically(PagingBits::kAccessed) & PagingBits::kAccessed; }

    // Bits 11:9, ignored by the CPU (SDM Tables 4-5, 4-6): three bits of OS state (e.g. copy-on-write).
    constexpr u32 available() const { return (m_raw & PagingBits::kAvailableMask) >> PagingBits::kAvailableShift; }
    constexpr void set_available(u32 value) {
        m_raw = (m_raw & ~PagingBits::kAvailableMask) |
                ((value << PagingBits::kAvailableShift) & PagingBits::kAvailableMask);
    }

    // With P=0 the CPU ignores bits 31:1 (SDM 4.3), so the OS may store 31 bits there (a swap slot).
    constexpr u32 not_present_payload() const { return m_raw >> 1; }
    static constexpr Derived make_not_present(u32 payload) { return Derived(payload << 1); }

protected:
    constexpr bool bit(u32 mask) const { return (m_raw & mask) != 0; }
    constexpr void set_bit(u32 mask, bool on) { m_raw = on ? (m_raw | mask) : (m_raw & ~mask); }

    u32 m_raw = 0;
};

// A page-table entry mapping one 4 KiB page (SDM Table 4-6).
class PageTableEntry : public PagingEntryBase<PageTableEntry> {
public:
    using PagingEntryBase::PagingEntryBase;

    // D: set by the CPU on the first write through this entry (SDM 4.8); the swapper writes back only
    // dirty pages.
    constexpr bool is_dirty() const { return bit(PagingBits::kDirty); }
    constexpr void set_dirty(bool on) { set_bit(PagingBits::kDirty, on); }
    // Clears D atomically; returns whether it was set.
    bool take_dirty() { return clear_bits_atomically(PagingBits::kDirty) & PagingBits::kDirty; }
    // PAT (bit 7): with PCD and PWT, indexes the PAT MSR (SDM 4.9.2); must be 0 without PAT support.
    constexpr bool is_pat() const { return bit(PagingBits::kPat); }
    constexpr void set_pat(bool on) { set_bit(PagingBits::kPat, on); }
    // G: with CR4.PGE=1 the TLB keeps this translation across CR3 loads (SDM 4.10.2.4): kernel pages only.
    constexpr bool is_global() const { return bit(PagingBits::kGlobal); }
    constexpr void set_global(bool on) { set_bit(PagingBits::kGlobal, on); }

    // Bits 31:12: the physical address of the 4 KiB page (SDM Table 4-6).
    constexpr u32 physical_address() const { return m_raw & PagingBits::kFrameMask; }
    constexpr void set_physical_address(u32 address) {
        m_raw = (m_raw & ~PagingBits::kFrameMask) | (address & PagingBits::kFrameMask);
    }

    int describe(char* buffer, size_t size) const { return describe_paging_entry(m_raw, "PAT", buffer, size); }
};

// A page-directory entry: references a page table (PS=0, SDM Table 4-5) or maps a 4 MiB page (PS=1,
// SDM Table 4-4). D, G and PAT mean something only for a 4 MiB page; for a table they are ignored.
class PageDirectoryEntry : public PagingEntryBase<PageDirectoryEntry> {
public:
    using PagingEntryBase::PagingEntryBase;

    // PS (bit 7): with CR4.PSE=1, 1 = this entry maps a 4 MiB page instead of referencing a table.
    constexpr bool is_large() const { return bit(PagingBits::kLargePage); }
    constexpr void set_large(bool on) { set_bit(PagingBits::kLargePage, on); }
    constexpr bool is_dirty() const { return bit(PagingBits::kDirty); }
    constexpr void set_dirty(bool on) { set_bit(PagingBits::kDirty, on); }
    constexpr bool is_global() const { return bit(PagingBits::kGlobal); }
    constexpr void set_global(bool on) { set_bit(PagingBits::kGlobal, on); }
    // PAT of a 4 MiB page is bit 12 (SDM Table 4-4), since bit 7 is PS.
    constexpr bool is_large_pat() const { return bit(PagingBits::kLargePat); }
    constexpr void set_large_pat(bool on) { set_bit(PagingBits::kLargePat, on); }

    // PS=0: bits 31:12 are the physical address of the page table (SDM Table 4-5).
    constexpr u32 physical_address() const { return m_raw & PagingBits::kFrameMask; }
    constexpr void set_physical_address(u32 address) {
        m_raw = (m_raw & ~PagingBits::kFrameMask) | (address & PagingBits::kFrameMask);
    }
    // PS=1: bits 31:22 are the physical address of the 4 MiB page (bits 20:13 would be address bits
    // 39:32 with PSE-36, which Mneme leaves 0).
    constexpr u32 large_physical_address() const { return m_raw & PagingBits::kLargeFrameMask; }

    int describe(char* buffer, size_t size) const { return describe_paging_entry(m_raw, "PS", buffer, size); }
};

static_assert(sizeof(PageTableEntry) == 4, "a 32-bit paging PTE is 4 bytes (SDM Figure 4-4)");
static_assert(sizeof(PageDirectoryEntry) == 4, "a 32-bit paging PDE is 4 bytes (SDM Figure 4-4)");
static_assert(page_directory_index(0xC0000000) == 768 && page_table_index(0xC0403000) == 3);
