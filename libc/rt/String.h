// String.h: the C string and memory functions for freestanding code (kernel and user programs).
//
// Only freestanding builds include this (the host has its own C library). Code shared with the host (mm/)
// uses __builtin_memcpy/__builtin_memset instead, which resolve to these in the kernel and to glibc's on
// the host.
#pragma once

#include "libc/base/Types.h"

extern "C" {
void* memcpy(void* destination, const void* source, size_t count);
void* memmove(void* destination, const void* source, size_t count);
void* memset(void* destination, int value, size_t count);
int memcmp(const void* a, const void* b, size_t count);
size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t count);
char* strchr(const char* s, int c);
char* strrchr(const char* s, int c);
char* strcpy(char* destination, const char* source);
char* strncpy(char* destination, const char* source, size_t count);
char* strcat(char* destination, const char* source);
char* strstr(const char* haystack, const char* needle);
}
