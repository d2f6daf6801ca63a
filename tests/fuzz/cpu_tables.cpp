// cpu_tables.cpp: libFuzzer target for the firmware-table parsers (format/CpuTables.h): any byte string is
// scanned for an RSDP and an MP floating pointer and read as an RSDT, an MADT and an MP configuration table,
// with and without its checksum checked; ASan catches any read outside the input, and a list never holds
// more CPUs than it has room for.
#include <stddef.h>
#include <stdint.h>

#include "format/CpuTables.h"
#include "libc/base/Assert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    u32 n = size > 0x20000 ? 0x20000 : static_cast<u32>(size);
    (void)cpu_tables::find_rsdp(data, n);
    (void)cpu_tables::find_mp_floating_pointer(data, n);
    auto rsdt = cpu_tables::check_table(data, n, "RSDT");
    if (!rsdt.is_error())
        for (u32 i = 0; i < cpu_tables::rsdt_entry_count(data, rsdt.value()); ++i) (void)cpu_tables::rsdt_entry(data, i);
    // The MADT parser trusts only a length the caller checked against the buffer, checksum or not.
    auto madt = cpu_tables::table_length(data, n, "APIC");
    if (!madt.is_error() && madt.value() <= n) {
        CpuList list;
        (void)cpu_tables::parse_madt(data, madt.value(), list);
        VERIFY(list.count <= CpuList::kMaxCpus);
    }
    CpuList list;
    (void)cpu_tables::parse_mp_table(data, n, list);
    VERIFY(list.count <= CpuList::kMaxCpus);
    return 0;
}
