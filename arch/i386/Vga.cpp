// Vga.cpp: text-mode output with scrolling and the hardware cursor (CRTC registers 0x0E/0x0F at
// 0x3D4/0x3D5; OSDev "Text Mode Cursor"). ANSI escape sequences meant for the serial terminal are skipped.
#include "arch/i386/Vga.h"

#include "arch/i386/Io.h"

namespace vga {
namespace {

constexpr int kColumns = 80;
constexpr int kRows = 25;
constexpr u16 kAttribute = 0x07 << 8;  // light grey on black

volatile u16* g_buffer = nullptr;
int g_row = 0;
int g_column = 0;
bool g_in_escape = false;

void move_cursor() {
    u16 position = static_cast<u16>(g_row * kColumns + g_column);
    outb(0x3D4, 0x0F);
    outb(0x3D5, static_cast<u8>(position & 0xFF));
    outb(0x3D4, 0x0E);
    outb(0x3D5, static_cast<u8>(position >> 8));
}

void scroll() {
    for (int i = 0; i < (kRows - 1) * kColumns; ++i) g_buffer[i] = g_buffer[i + kColumns];
    for (int i = (kRows - 1) * kColumns; i < kRows * kColumns; ++i) g_buffer[i] = kAttribute | ' ';
    g_row = kRows - 1;
}

void put(char c) {
    if (g_in_escape) {
        // CSI sequences end with a letter.
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) g_in_escape = false;
        return;
    }
    switch (c) {
    case '\x1b': g_in_escape = true; return;
    case '\n':
        g_column = 0;
        ++g_row;
        break;
    case '\r': g_column = 0; break;
    case '\b':
        if (g_column > 0) --g_column;
        break;
    case '\t': g_column = (g_column + 8) & ~7; break;
    default: g_buffer[g_row * kColumns + g_column] = kAttribute | static_cast<u8>(c); ++g_column;
    }
    if (g_column >= kColumns) {
        g_column = 0;
        ++g_row;
    }
    if (g_row >= kRows) scroll();
}

}  // namespace

void initialize(uptr buffer) {
    g_buffer = reinterpret_cast<volatile u16*>(buffer);
    clear();
}

void clear() {
    if (!g_buffer) return;
    for (int i = 0; i < kRows * kColumns; ++i) g_buffer[i] = kAttribute | ' ';
    g_row = g_column = 0;
    move_cursor();
}

void write(const char* text, size_t length) {
    if (!g_buffer) return;
    for (size_t i = 0; i < length; ++i) put(text[i]);
    move_cursor();
}

}  // namespace vga
