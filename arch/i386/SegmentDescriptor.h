// SegmentDescriptor.h: the 8-byte segment descriptor of the GDT and LDT (Intel SDM Vol. 3A 3.4.5,
// Figure 3-8 "Segment Descriptor"), as a typed value.
//
//   31          24 23 22 21 20 19    16 15 14 13 12 11    8 7           0
//  +--------------+--+--+--+--+--------+--+-----+--+-------+-------------+
//  | base 31:24   |G |DB|L |AV|lim19:16|P | DPL |S | type  | base 23:16  |  high dword
//  +--------------+--+--+--+--+--------+--+-----+--+-------+-------------+
//  | base 15:0                         | limit 15:0                      |  low dword
//  +-----------------------------------+---------------------------------+
//
// S=1 marks a code or data segment, whose type bits are (SDM 3.4.5.1, Table 3-1):
//   bit 3 executable; for code: bit 2 conforming, bit 1 readable; for data: bit 2 expand-down,
//   bit 1 writable; bit 0 accessed (set by the CPU on first load).
// S=0 marks a system descriptor (SDM 3.5, Table 3-2): 0x2 LDT, 0x9/0xB 32-bit TSS available/busy,
// 0xC call gate, 0xE interrupt gate, 0xF trap gate, 0x5 task gate.
#pragma once

#include "libc/base/Types.h"

class SegmentDescriptor {
public:
    enum class Privilege : u8 { Kernel = 0, User = 3 };

    // Type nibbles (SDM Vol. 3A Table 3-1 and 3-2).
    static constexpr u8 kTypeAccessed = 1 << 0;
    static constexpr u8 kTypeWritable = 1 << 1;    // data
    static constexpr u8 kTypeReadable = 1 << 1;    // code
    static constexpr u8 kTypeExpandDown = 1 << 2;  // data
    static constexpr u8 kTypeConforming = 1 << 2;  // code
    static constexpr u8 kTypeExecutable = 1 << 3;
    static constexpr u8 kSystemLdt = 0x2;
    static constexpr u8 kSystemTssAvailable = 0x9;
    static constexpr u8 kSystemTssBusy = 0xB;

    constexpr SegmentDescriptor() = default;

    // A 32-bit code segment covering [base, base + limit] bytes, readable, not conforming.
    static constexpr SegmentDescriptor code(u32 base, u32 limit, Privilege dpl) {
        return make(base, limit, kTypeExecutable | kTypeReadable, true, dpl, true);
    }
    // A 32-bit data segment. `writable` false makes it read-only; `expand_down` flips the valid range to
    // (limit, top] for stacks that grow down (SDM 3.4.5.1).
    static constexpr SegmentDescriptor data(u32 base, u32 limit, Privilege dpl, bool writable = true,
                                            bool expand_down = false) {
        u8 type = (writable ? kTypeWritable : 0) | (expand_down ? kTypeExpandDown : 0);
        return make(base, limit, type, true, dpl, true);
    }
    // A 32-bit TSS (SDM 7.2.2). The limit is the TSS size minus one; the descriptor is always DPL 0.
    static constexpr SegmentDescriptor tss(u32 base, u32 limit) {
        return make(base, limit, kSystemTssAvailable, false, Privilege::Kernel, false);
    }
    // An LDT descriptor (SDM 3.5.1): it lives in the GDT and LLDT loads it.
    static constexpr SegmentDescriptor ldt(u32 base, u32 limit) {
        return make(base, limit, kSystemLdt, false, Privilege::Kernel, false);
    }

    constexpr u32 base() const {
        return static_cast<u32>(m_low >> 16) | ((m_high & 0xFF) << 16) | (m_high & 0xFF000000);
    }
    // The 20-bit limit field as stored.
    constexpr u32 raw_limit() const { return (m_low & 0xFFFF) | (m_high & 0x000F0000); }
    // The limit in bytes: with G=1 the field counts 4 KiB units and the low 12 bits read as ones.
    constexpr u32 limit() const { return granularity_4k() ? (raw_limit() << 12) | 0xFFF : raw_limit(); }
    constexpr u8 type() const { return (m_high >> 8) & 0xF; }
    constexpr bool is_code_or_data() const { return m_high & (1u << 12); }  // the S bit
    constexpr bool is_code() const { return is_code_or_data() && (type() & kTypeExecutable); }
    constexpr bool is_data() const { return is_code_or_data() && !(type() & kTypeExecutable); }
    constexpr u8 dpl() const { return (m_high >> 13) & 3; }
    constexpr bool is_present() const { return m_high & (1u << 15); }
    constexpr bool is_32bit() const { return m_high & (1u << 22); }  // D/B
    constexpr bool granularity_4k() const { return m_high & (1u << 23); }
    constexpr bool is_null() const { return m_low == 0 && m_high == 0; }
    constexpr u32 low_dword() const { return m_low; }
    constexpr u32 high_dword() const { return m_high; }

    // Changing the base is all relocation takes under segmentation (the base-and-bounds demos use this).
    constexpr void set_base(u32 base) {
        m_low = (m_low & 0x0000FFFF) | ((base & 0xFFFF) << 16);
        m_high = (m_high & 0x00FFFF00) | ((base >> 16) & 0xFF) | (base & 0xFF000000);
    }
    // Clears the TSS busy bit so LTR accepts the descriptor again.
    constexpr void mark_tss_available() {
        m_high = (m_high & ~(0xFu << 8)) | (static_cast<u32>(kSystemTssAvailable) << 8);
    }

    // "code RX", "data RW", "data R expand-down", "TSS (32-bit, busy)", ...: for the monitor's `gdt`.
    const char* type_name() const;

private:
    static constexpr SegmentDescriptor make(u32 base, u32 limit, u8 type, bool code_or_data, Privilege dpl, bool big) {
        bool page_granular = limit > 0xFFFFF;
        u32 field = page_granular ? (limit >> 12) : limit;
        SegmentDescriptor d;
        d.m_low = (field & 0xFFFF) | ((base & 0xFFFF) << 16);
        d.m_high = ((base >> 16) & 0xFF) | (static_cast<u32>(type) << 8) | (code_or_data ? 1u << 12 : 0) |
                   (static_cast<u32>(dpl) << 13) | (1u << 15) | (field & 0x000F0000) | (big ? 1u << 22 : 0) |
                   (page_granular ? 1u << 23 : 0) | (base & 0xFF000000);
        return d;
    }

    u32 m_low = 0;
    u32 m_high = 0;
};
static_assert(sizeof(SegmentDescriptor) == 8);

// A segment selector (SDM Vol. 3A 3.4.2): index into the GDT or LDT, table indicator, requested privilege.
constexpr u16 make_selector(u16 index, bool ldt, u8 rpl) {
    return static_cast<u16>((index << 3) | (ldt ? 4 : 0) | (rpl & 3));
}
