// ustar.cpp: libFuzzer target for the initrd's archive reader: any byte string is read member by member;
// every member's data must lie inside the input (ASan catches any read outside it).
#include <stddef.h>
#include <stdint.h>

#include "format/Ustar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    UstarReader reader(data, size);
    UstarMember member;
    unsigned count = 0;
    while (reader.next(member) && count < 10000) {
        if (member.size) {
            volatile uint8_t first = member.data[0];
            volatile uint8_t last = member.data[member.size - 1];
            (void)first;
            (void)last;
        }
        ++count;
    }
    (void)UstarReader::find(data, size, "bin/init");
    return 0;
}
