// CpuTables.cpp: the MADT and MP table parsers (see CpuTables.h). Offsets: ACPI 6.5 Tables 5.3 (RSDP), 5.4
// (header), 5.19 (MADT), 5.22 (Processor Local APIC), 5.27 (Local APIC Address Override); MP spec 1.4
// Tables 4-1 (floating pointer), 4-2 (configuration table header), 4-4 (processor entry).
#include "format/CpuTables.h"

u32 CpuList::enabled_count() const {
    u32 n = 0;
    for (u32 i = 0; i < count; ++i) n += cpus[i].enabled ? 1 : 0;
    return n;
}

void CpuList::add(CpuEntry entry) {
    if (count < kMaxCpus)
        cpus[count++] = entry;
    else
        ++dropped;
}

namespace cpu_tables {
namespace {

// Little-endian reads that need no alignment (a table may start anywhere).
u16 read16(const u8* p) { return static_cast<u16>(p[0] | (p[1] << 8)); }
u32 read32(const u8* p) { return u32{p[0]} | (u32{p[1]} << 8) | (u32{p[2]} << 16) | (u32{p[3]} << 24); }

bool has_signature(const u8* p, const char* signature, u32 length) {
    for (u32 i = 0; i < length; ++i)
        if (p[i] != static_cast<u8>(signature[i])) return false;
    return true;
}

// A signature for a message: printable characters only (a damaged table's may be anything).
struct Printable {
    char text[9];
    Printable(const u8* p, u32 length) {
        for (u32 i = 0; i < length && i < 8; ++i) text[i] = p[i] >= 0x20 && p[i] < 0x7F ? static_cast<char>(p[i]) : '?';
        text[length < 8 ? length : 8] = '\0';
    }
};

// Scans for `signature` on 16-byte boundaries, `length` bytes covered by the checksum; returns the offset.
ErrorOr<u32, ExplainedError> scan(const u8* area, u32 size, const char* signature, u32 signature_length,
                                  u32 checked_length, const char* what) {
    u32 bad_at = ~0u;
    for (u32 offset = 0; offset + checked_length <= size; offset += 16) {
        if (!has_signature(area + offset, signature, signature_length)) continue;
        if (checksum(area + offset, checked_length) == 0) return offset;
        if (bad_at == ~0u) bad_at = offset;
    }
    if (bad_at != ~0u)
        return ErrorOr<u32, ExplainedError>(Error::Invalid, "%s at offset 0x%x has a bad checksum", what, bad_at);
    return ErrorOr<u32, ExplainedError>(Error::NoEntry, "no %s", what);
}

}  // namespace

u8 checksum(const u8* bytes, u32 size) {
    u8 sum = 0;
    for (u32 i = 0; i < size; ++i) sum = static_cast<u8>(sum + bytes[i]);
    return sum;
}

Result find_rsdp(const u8* area, u32 size) {
    auto offset = scan(area, size, "RSD PTR ", 8, kRsdpSize, "ACPI RSDP");
    if (offset.is_error()) return offset;
    u32 rsdt = read32(area + offset.value() + 16);
    if (rsdt == 0) return Result(Error::Invalid, "the ACPI RSDP names no RSDT (address 0)");
    return rsdt;
}

Result table_length(const u8* table, u32 available, const char* signature) {
    if (available < kHeaderSize)
        return Result(Error::Invalid, "%s table: only %u bytes readable, its header needs %u", signature, available,
                      kHeaderSize);
    if (!has_signature(table, signature, 4))
        return Result(Error::Invalid, "expected a %s table, found signature '%s'", signature, Printable(table, 4).text);
    u32 length = read32(table + 4);
    if (length < kHeaderSize)
        return Result(Error::Invalid, "%s table: length %u is shorter than its header", signature, length);
    return length;
}

Result check_table(const u8* table, u32 available, const char* signature) {
    auto length = table_length(table, available, signature);
    if (length.is_error()) return length;
    if (length.value() > available)
        return Result(Error::Invalid, "%s table: length %u runs past the %u readable bytes", signature, length.value(),
                      available);
    u8 sum = checksum(table, length.value());
    if (sum != 0) return Result(Error::Invalid, "%s table: bad checksum (bytes sum to 0x%02x, not 0)", signature, sum);
    return length;
}

u32 rsdt_entry_count(const u8* /*rsdt*/, u32 length) { return (length - kHeaderSize) / 4; }
u32 rsdt_entry(const u8* rsdt, u32 index) { return read32(rsdt + kHeaderSize + index * 4); }

VoidResult parse_madt(const u8* madt, u32 length, CpuList& out) {
    constexpr u32 kEntriesStart = kHeaderSize + 8;  // local APIC address, flags
    if (length < kEntriesStart)
        return VoidResult(Error::Invalid, "MADT: length %u leaves no room for its fields", length);
    out.local_apic_address = read32(madt + kHeaderSize);
    for (u32 offset = kEntriesStart; offset < length;) {
        if (length - offset < 2) return VoidResult(Error::Invalid, "MADT: a truncated entry at offset %u", offset);
        u8 type = madt[offset], entry_length = madt[offset + 1];
        if (entry_length < 2 || entry_length > length - offset)
            return VoidResult(Error::Invalid, "MADT: entry at offset %u (type %u) has length %u, %u bytes left", offset,
                              type, entry_length, length - offset);
        const u8* entry = madt + offset;
        if (type == 0) {  // Processor Local APIC: UID, APIC id, flags
            if (entry_length < 8)
                return VoidResult(Error::Invalid, "MADT: processor entry at offset %u is %u bytes, not 8", offset,
                                  entry_length);
            out.add(CpuEntry{entry[3], (read32(entry + 4) & 1) != 0, false});
        } else if (type == 5 && entry_length >= 12) {  // Local APIC Address Override (64-bit)
            u32 high = read32(entry + 8);
            if (high == 0) out.local_apic_address = read32(entry + 4);
        }
        offset += entry_length;
    }
    return {};
}

Result find_mp_floating_pointer(const u8* area, u32 size) {
    auto offset = scan(area, size, "_MP_", 4, kFloatingPointerSize, "MP floating pointer");
    if (offset.is_error()) return offset;
    const u8* pointer = area + offset.value();
    u32 table = read32(pointer + 4);
    if (table == 0)
        return Result(Error::NotImplemented, "the MP floating pointer names default configuration %u, not a table",
                      pointer[11]);
    return table;
}

Result mp_table_length(const u8* table, u32 available) {
    if (available < kMpHeaderSize)
        return Result(Error::Invalid, "MP table: only %u bytes readable, its header needs %u", available,
                      kMpHeaderSize);
    if (!has_signature(table, "PCMP", 4))
        return Result(Error::Invalid, "expected an MP configuration table (PCMP), found '%s'",
                      Printable(table, 4).text);
    u32 length = read16(table + 4);
    if (length < kMpHeaderSize) return Result(Error::Invalid, "MP table: length %u is shorter than its header", length);
    return length;
}

VoidResult parse_mp_table(const u8* table, u32 available, CpuList& out) {
    auto checked = mp_table_length(table, available);
    if (checked.is_error()) return VoidResult(checked.error());
    u32 length = checked.value();
    if (length > available)
        return VoidResult(Error::Invalid, "MP table: length %u runs past the %u readable bytes", length, available);
    u8 sum = checksum(table, length);
    if (sum != 0) return VoidResult(Error::Invalid, "MP table: bad checksum (bytes sum to 0x%02x, not 0)", sum);
    out.local_apic_address = read32(table + 36);
    u32 entries = read16(table + 34), offset = kMpHeaderSize;
    for (u32 i = 0; i < entries; ++i) {
        if (offset >= length)
            return VoidResult(Error::Invalid, "MP table: entry %u of %u lies past its end", i, entries);
        u8 type = table[offset];
        u32 entry_length = type == 0 ? 20 : 8;
        if (type > 4) return VoidResult(Error::Invalid, "MP table: entry %u has unknown type %u", i, type);
        if (entry_length > length - offset)
            return VoidResult(Error::Invalid, "MP table: entry %u (type %u) is cut off by the table's end", i, type);
        if (type == 0) {  // local APIC id, version, CPU flags (EN, BP)
            u8 flags = table[offset + 3];
            out.add(CpuEntry{table[offset + 1], (flags & 1) != 0, (flags & 2) != 0});
        }
        offset += entry_length;
    }
    return {};
}

}  // namespace cpu_tables
