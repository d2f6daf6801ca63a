// elf32_relocations.cpp: libFuzzer target for the relocation reader (format/Elf32Relocations.h): whatever it
// accepts must be safe to patch: every reported site's four bytes inside the input, sites reported in the
// number the summary counts, and the counting walk agreeing with the reporting one. ASan catches any read
// outside the input. Seeds (tests/fuzz/corpus/elf32_relocations/): a tiny program and hello linked at offset 0
// (an earlier layout), and hello as every program is linked today (user/user.ld with --emit-relocs, stripped
// as in the initrd).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "format/Elf32Relocations.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Span<const u8> image(data, size);
    u32 reported = 0;
    auto summary = for_each_absolute_relocation(image, [&](RelocationSite site) {
        if (site.file_offset > size || size - site.file_offset < 4) abort();
        volatile uint8_t last = data[site.file_offset + 3];
        (void)last;
        ++reported;
    });
    auto counted = summarize_relocations(image);
    if (summary.is_error() != counted.is_error()) abort();
    if (summary.is_error()) {
        if (reported != 0) abort();  // refused: nothing may have been reported
        return 0;
    }
    if (reported != summary.value().absolute || counted.value().absolute != reported) abort();
    if (reported != 0 && !summary.value().carries_relocations()) abort();
    return 0;
}
