// MemoryModel.cpp: the user copies every model shares (check the range, then copy through user_pointer).
#include "kernel/memmodel/MemoryModel.h"

#include "libc/rt/String.h"

ErrorOr<void> MemoryModel::copy_from_user(void* destination, u32 source, u32 length) {
    TRY(check_user_range(source, length, false));
    memcpy(destination, user_pointer(source), length);
    return {};
}

ErrorOr<void> MemoryModel::copy_to_user(u32 destination, const void* source, u32 length) {
    TRY(check_user_range(destination, length, true));
    memcpy(user_pointer(destination), source, length);
    return {};
}

ErrorOr<u32> MemoryModel::copy_string_from_user(char* destination, u32 source, u32 capacity) {
    for (u32 i = 0; i < capacity; ++i) {
        if ((source + i) % kPageSize == 0 || i == 0) TRY(check_user_range(source + i, 1, false));
        char c = *static_cast<const char*>(user_pointer(source + i));
        destination[i] = c;
        if (c == '\0') return i;
    }
    return Error::TooBig;
}
