// String.cpp: C string and memory functions for freestanding code.
//
// memcpy and memset use REP MOVSD/STOSD for the bulk (fast on every x86 since the Pentium Pro and under
// QEMU's TCG, which executes a REP string instruction as one helper call) and bytes for the tail.
#include "libc/rt/String.h"

extern "C" {

void* memcpy(void* destination, const void* source, size_t count) {
    void* d = destination;
    const void* s = source;
    size_t words = count / 4;
    size_t bytes = count % 4;
    asm volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
    return destination;
}

void* memmove(void* destination, const void* source, size_t count) {
    auto* d = static_cast<u8*>(destination);
    const auto* s = static_cast<const u8*>(source);
    if (d == s || count == 0) return destination;
    if (d < s || d >= s + count) return memcpy(destination, source, count);
    // Overlapping with the destination above the source: copy backwards.
    for (size_t i = count; i > 0; --i) d[i - 1] = s[i - 1];
    return destination;
}

void* memset(void* destination, int value, size_t count) {
    void* d = destination;
    u32 byte = static_cast<u8>(value);
    u32 word = byte * 0x01010101u;
    size_t words = count / 4;
    size_t bytes = count % 4;
    asm volatile("rep stosl" : "+D"(d), "+c"(words) : "a"(word) : "memory");
    asm volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(byte) : "memory");
    return destination;
}

int memcmp(const void* a, const void* b, size_t count) {
    const auto* x = static_cast<const u8*>(a);
    const auto* y = static_cast<const u8*>(b);
    for (size_t i = 0; i < count; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

size_t strnlen(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) ++n;
    return n;
}

int strcmp(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return static_cast<u8>(*a) - static_cast<u8>(*b);
}

int strncmp(const char* a, const char* b, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        if (a[i] != b[i] || !a[i]) return static_cast<u8>(a[i]) - static_cast<u8>(b[i]);
    }
    return 0;
}

char* strchr(const char* s, int c) {
    for (;; ++s) {
        if (*s == static_cast<char>(c)) return const_cast<char*>(s);
        if (!*s) return nullptr;
    }
}

char* strrchr(const char* s, int c) {
    const char* last = nullptr;
    for (;; ++s) {
        if (*s == static_cast<char>(c)) last = s;
        if (!*s) return const_cast<char*>(last);
    }
}

char* strcpy(char* destination, const char* source) {
    char* d = destination;
    while ((*d++ = *source++)) {
    }
    return destination;
}

char* strncpy(char* destination, const char* source, size_t count) {
    size_t i = 0;
    for (; i < count && source[i]; ++i) destination[i] = source[i];
    for (; i < count; ++i) destination[i] = '\0';
    return destination;
}

char* strcat(char* destination, const char* source) {
    strcpy(destination + strlen(destination), source);
    return destination;
}

char* strstr(const char* haystack, const char* needle) {
    size_t n = strlen(needle);
    for (; *haystack; ++haystack)
        if (strncmp(haystack, needle, n) == 0) return const_cast<char*>(haystack);
    return n == 0 ? const_cast<char*>(haystack) : nullptr;
}

}  // extern "C"
