// MemoryModel.cpp: the user copies every model shares: validate the whole range, then fault in and copy one
// page at a time (MemoryModel.h says why one page at a time).
#include "kernel/memmodel/MemoryModel.h"

#include "arch/i386/Gdt.h"
#include "libc/rt/String.h"

namespace {

// Bytes from `address` to the end of its page, at most `length`.
u32 chunk_in_page(u32 address, u32 length) {
    u32 room = kPageSize - (address % kPageSize);
    return room < length ? room : length;
}

}  // namespace

ErrorOr<void> MemoryModel::copy_from_user(void* destination, u32 source, u32 length) {
    TRY(validate_user_range(source, length, false));
    u8* out = static_cast<u8*>(destination);
    while (length > 0) {
        u32 chunk = chunk_in_page(source, length);
        TRY(fault_in(source, false));
        memcpy(out, user_pointer(source), chunk);
        out += chunk, source += chunk, length -= chunk;
    }
    return {};
}

ErrorOr<void> MemoryModel::copy_to_user(u32 destination, const void* source, u32 length) {
    TRY(validate_user_range(destination, length, true));
    const u8* in = static_cast<const u8*>(source);
    while (length > 0) {
        u32 chunk = chunk_in_page(destination, length);
        TRY(fault_in(destination, true));
        memcpy(user_pointer(destination), in, chunk);
        in += chunk, destination += chunk, length -= chunk;
    }
    return {};
}

ErrorOr<u32> MemoryModel::copy_string_from_user(char* destination, u32 source, u32 capacity) {
    for (u32 i = 0; i < capacity; ++i) {
        if ((source + i) % kPageSize == 0 || i == 0) {
            TRY(validate_user_range(source + i, 1, false));
            TRY(fault_in(source + i, false));
        }
        char c = *static_cast<const char*>(user_pointer(source + i));
        destination[i] = c;
        if (c == '\0') return i;
    }
    return Error::TooBig;
}

u16 MemoryModel::user_code_selector() const { return gdt::kUserCode; }
u16 MemoryModel::user_data_selector() const { return gdt::kUserData; }

namespace {
constexpr const char* kModelNames[] = {"paging", "static", "base-bounds", "segments"};
}  // namespace

const char* memory_model_name(MemoryModelKind model) { return kModelNames[static_cast<u8>(model)]; }

bool parse_memory_model(const char* name, MemoryModelKind& out) {
    if (!name) return false;
    for (u8 i = 0; i < 4; ++i)
        if (strcmp(name, kModelNames[i]) == 0) {
            out = static_cast<MemoryModelKind>(i);
            return true;
        }
    return false;
}
