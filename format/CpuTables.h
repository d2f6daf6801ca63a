// CpuTables.h: finding the processors in the firmware's tables, the ACPI MADT and the MP table.
//
// Two tables list the processors of a PC. The ACPI "Multiple APIC Description Table" (MADT, ACPI
// Specification 6.5, 5.2.12) is reached from the Root System Description Pointer (RSDP, 5.2.5), found by
// scanning the BIOS areas for "RSD PTR ", then the Root System Description Table (RSDT, 5.2.7), an array of
// table addresses. Its entries of type 0, "Processor Local APIC" (5.2.12.2), name one CPU each: its local
// APIC id and whether it is enabled. The older Intel MultiProcessor Specification 1.4 table (chapter 4) is
// the fallback: a floating pointer "_MP_" in the same areas leads to a configuration table "PCMP" whose
// processor entries say the same. Some machines have only one of them; QEMU's firmware lists every CPU in
// the MADT but only CPU 0 in its MP table (unless `-smp N,sockets=N`), so the MADT comes first.
//
// The tables are untrusted input: every length is checked against the bytes the caller handed over, every
// checksum is verified (the bytes of a table sum to 0 mod 256), and a bad table is an error with a reason,
// never a read outside the buffer. Pure: the kernel follows the physical addresses (kernel/smp/), these
// functions only read buffers, so the host tests build tables by hand.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"

struct CpuEntry {
    u8 apic_id;
    bool enabled;    // ACPI: flags bit 0; MP: CPU flags bit 0 (EN)
    bool bootstrap;  // MP only: CPU flags bit 1 (BP); ACPI does not say (the BSP reads its own APIC id)
};

struct CpuList {
    static constexpr u32 kMaxCpus = 16;
    CpuEntry cpus[kMaxCpus];
    u32 count = 0;    // entries in cpus
    u32 dropped = 0;  // processors listed beyond kMaxCpus
    u32 local_apic_address = 0;

    u32 enabled_count() const;
    void add(CpuEntry entry);
};

namespace cpu_tables {

using Result = ErrorOr<u32, ExplainedError>;
using VoidResult = ErrorOr<void, ExplainedError>;

// The sum of `size` bytes mod 256: 0 for a table whose checksum byte is right.
u8 checksum(const u8* bytes, u32 size);

// ---- ACPI ----------------------------------------------------------------------------------------------
constexpr u32 kRsdpSize = 20;    // the ACPI 1.0 part: signature, checksum, OEM id, revision, RSDT address
constexpr u32 kHeaderSize = 36;  // every system description table's header (5.2.6)

// Scans `area` on 16-byte boundaries (5.2.5.1) for "RSD PTR " with a good checksum over its first 20 bytes;
// returns the RSDT's physical address. Error::NoEntry when there is none, Error::Invalid when the only
// signature found has a bad checksum (the reason says where).
Result find_rsdp(const u8* area, u32 size);

// The length a table's header claims, or an error if fewer than 36 bytes are there or the signature is not
// `signature` (4 characters). The caller uses it to hand over the whole table.
Result table_length(const u8* table, u32 available, const char* signature);
// Checks a whole table: signature, a length within `available`, the checksum. Returns the length.
Result check_table(const u8* table, u32 available, const char* signature);

// The RSDT's entries: 32-bit physical addresses of the other tables. `rsdt` is a checked table.
u32 rsdt_entry_count(const u8* rsdt, u32 length);
u32 rsdt_entry(const u8* rsdt, u32 index);

// Reads a checked MADT ("APIC") into `out`: the local APIC address (or its override, type 5) and every
// type 0 entry. An entry shorter than 2 bytes or past the end is an error (what was read so far stays).
VoidResult parse_madt(const u8* madt, u32 length, CpuList& out);

// ---- MP table ------------------------------------------------------------------------------------------
constexpr u32 kFloatingPointerSize = 16;
constexpr u32 kMpHeaderSize = 44;

// Scans `area` on 16-byte boundaries (MP spec 4.1) for "_MP_" with a good checksum; returns the physical
// address of the configuration table (errors as find_rsdp's). A floating pointer without one (address 0: one of the
// spec's "default configurations", chapter 5) is an error, Error::NotImplemented.
Result find_mp_floating_pointer(const u8* area, u32 size);
// The base table length the "PCMP" header claims (its first 44 bytes must be there).
Result mp_table_length(const u8* table, u32 available);
// Checks the base table (signature, length within `available`, checksum) and reads its processor entries
// (type 0, 20 bytes); bus, I/O APIC and interrupt entries (types 1-4, 8 bytes) are skipped.
VoidResult parse_mp_table(const u8* table, u32 available, CpuList& out);

}  // namespace cpu_tables
