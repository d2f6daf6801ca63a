// Format.cpp: the printf-style formatting engine (see Format.h for the supported syntax).
//
// Integers are converted into a small stack buffer, least significant digit first, then emitted with their
// sign, prefix and padding in the order C's printf specifies (C17 7.21.6.1).
#include "libc/base/Format.h"

namespace {

struct Spec {
    bool left = false;
    bool zero = false;
    bool plus = false;
    bool space = false;
    bool alternate = false;
    int width = 0;
    int precision = -1;  // -1: none given
};

class Emitter {
public:
    Emitter(FormatSink sink, void* context) : m_sink(sink), m_context(context) {}
    void text(const char* s, size_t n) {
        if (n == 0) return;
        m_sink(m_context, s, n);
        m_count += static_cast<int>(n);
    }
    void repeat(char c, int n) {
        char chunk[16];
        for (int i = 0; i < 16; ++i) chunk[i] = c;
        while (n > 0) {
            int piece = n < 16 ? n : 16;
            text(chunk, static_cast<size_t>(piece));
            n -= piece;
        }
    }
    int count() const { return m_count; }

private:
    FormatSink m_sink;
    void* m_context;
    int m_count = 0;
};

size_t string_length(const char* s, int max) {
    size_t n = 0;
    while ((max < 0 || n < static_cast<size_t>(max)) && s[n]) ++n;
    return n;
}

void emit_integer(Emitter& out, const Spec& spec, u64 magnitude, bool negative, unsigned base, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buffer[64];
    int length = 0;
    for (u64 v = magnitude; v != 0; v /= base) buffer[length++] = digits[v % base];
    // C: "The result of converting a zero value with a precision of zero is no characters."
    if (magnitude == 0 && spec.precision != 0) buffer[length++] = '0';

    const char* prefix = "";
    if (negative)
        prefix = "-";
    else if (spec.plus)
        prefix = "+";
    else if (spec.space)
        prefix = " ";
    if (spec.alternate && magnitude != 0) {
        if (base == 16) prefix = upper ? "0X" : "0x";
        if (base == 2) prefix = "0b";
    }
    int zeros = spec.precision > length ? spec.precision - length : 0;
    if (spec.alternate && base == 8 && zeros == 0 && (length == 0 || buffer[length - 1] != '0')) zeros = 1;
    int prefix_length = static_cast<int>(string_length(prefix, -1));
    int total = prefix_length + zeros + length;
    int padding = spec.width > total ? spec.width - total : 0;
    // The '0' flag is ignored when a precision is given or with '-'.
    if (spec.zero && !spec.left && spec.precision < 0) {
        zeros += padding;
        padding = 0;
    }
    if (!spec.left) out.repeat(' ', padding);
    out.text(prefix, static_cast<size_t>(prefix_length));
    out.repeat('0', zeros);
    char forward[64];
    for (int i = 0; i < length; ++i) forward[i] = buffer[length - 1 - i];
    out.text(forward, static_cast<size_t>(length));
    if (spec.left) out.repeat(' ', padding);
}

void emit_padded(Emitter& out, const Spec& spec, const char* s, size_t n) {
    int padding = spec.width > static_cast<int>(n) ? spec.width - static_cast<int>(n) : 0;
    if (!spec.left) out.repeat(' ', padding);
    out.text(s, n);
    if (spec.left) out.repeat(' ', padding);
}

enum class Length { Int, Char, Short, Long, LongLong, Size, PtrDiff, Max };

u64 fetch_unsigned(va_list& args, Length length) {
    switch (length) {
    case Length::Char: return static_cast<unsigned char>(va_arg(args, unsigned));
    case Length::Short: return static_cast<unsigned short>(va_arg(args, unsigned));
    case Length::Long: return va_arg(args, unsigned long);
    case Length::LongLong: return va_arg(args, unsigned long long);
    case Length::Size: return va_arg(args, size_t);
    case Length::PtrDiff: return static_cast<u64>(va_arg(args, ptrdiff_t));
    case Length::Max: return va_arg(args, uintmax_t);
    case Length::Int: break;
    }
    return va_arg(args, unsigned);
}

i64 fetch_signed(va_list& args, Length length) {
    switch (length) {
    case Length::Char: return static_cast<signed char>(va_arg(args, int));
    case Length::Short: return static_cast<short>(va_arg(args, int));
    case Length::Long: return va_arg(args, long);
    case Length::LongLong: return va_arg(args, long long);
    case Length::Size: return static_cast<i64>(va_arg(args, size_t));
    case Length::PtrDiff: return va_arg(args, ptrdiff_t);
    case Length::Max: return va_arg(args, intmax_t);
    case Length::Int: break;
    }
    return va_arg(args, int);
}

}  // namespace

int vformat(FormatSink sink, void* context, const char* fmt, va_list incoming) {
    Emitter out(sink, context);
    va_list args;
    va_copy(args, incoming);
    const char* p = fmt;
    while (*p) {
        if (*p != '%') {
            const char* start = p;
            while (*p && *p != '%') ++p;
            out.text(start, static_cast<size_t>(p - start));
            continue;
        }
        const char* directive = p++;
        Spec spec;
        for (;; ++p) {
            if (*p == '-')
                spec.left = true;
            else if (*p == '0')
                spec.zero = true;
            else if (*p == '+')
                spec.plus = true;
            else if (*p == ' ')
                spec.space = true;
            else if (*p == '#')
                spec.alternate = true;
            else
                break;
        }
        if (*p == '*') {
            spec.width = va_arg(args, int);
            if (spec.width < 0) {
                spec.left = true;
                spec.width = -spec.width;
            }
            ++p;
        } else {
            while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            ++p;
            spec.precision = 0;
            if (*p == '*') {
                spec.precision = va_arg(args, int);
                if (spec.precision < 0) spec.precision = -1;
                ++p;
            } else {
                while (*p >= '0' && *p <= '9') spec.precision = spec.precision * 10 + (*p++ - '0');
            }
        }
        Length length = Length::Int;
        if (*p == 'h') {
            length = (p[1] == 'h') ? Length::Char : Length::Short;
            p += (p[1] == 'h') ? 2 : 1;
        } else if (*p == 'l') {
            length = (p[1] == 'l') ? Length::LongLong : Length::Long;
            p += (p[1] == 'l') ? 2 : 1;
        } else if (*p == 'z') {
            length = Length::Size;
            ++p;
        } else if (*p == 't') {
            length = Length::PtrDiff;
            ++p;
        } else if (*p == 'j') {
            length = Length::Max;
            ++p;
        }
        char conversion = *p;
        if (conversion) ++p;
        switch (conversion) {
        case 'd':
        case 'i': {
            i64 v = fetch_signed(args, length);
            u64 magnitude = v < 0 ? static_cast<u64>(0) - static_cast<u64>(v) : static_cast<u64>(v);
            emit_integer(out, spec, magnitude, v < 0, 10, false);
            break;
        }
        case 'u': emit_integer(out, spec, fetch_unsigned(args, length), false, 10, false); break;
        case 'x': emit_integer(out, spec, fetch_unsigned(args, length), false, 16, false); break;
        case 'X': emit_integer(out, spec, fetch_unsigned(args, length), false, 16, true); break;
        case 'o': emit_integer(out, spec, fetch_unsigned(args, length), false, 8, false); break;
        case 'b': emit_integer(out, spec, fetch_unsigned(args, length), false, 2, false); break;
        case 'p': {
            // Pointers print as 0x followed by the full width of the pointer, so columns line up.
            Spec pointer_spec = spec;
            pointer_spec.alternate = false;
            pointer_spec.precision = static_cast<int>(sizeof(void*) * 2);
            u64 v = reinterpret_cast<uptr>(va_arg(args, void*));
            int pad = spec.width - 2 - pointer_spec.precision;
            if (!spec.left && pad > 0) out.repeat(' ', pad);
            out.text("0x", 2);
            pointer_spec.width = 0;
            emit_integer(out, pointer_spec, v, false, 16, false);
            if (spec.left && pad > 0) out.repeat(' ', pad);
            break;
        }
        case 'c': {
            char c = static_cast<char>(va_arg(args, int));
            emit_padded(out, spec, &c, 1);
            break;
        }
        case 's': {
            const char* s = va_arg(args, const char*);
            if (!s) s = "(null)";
            emit_padded(out, spec, s, string_length(s, spec.precision));
            break;
        }
        case '%': out.text("%", 1); break;
        default:
            // Unknown conversion: print it verbatim so the mistake is visible.
            out.text(directive, static_cast<size_t>(p - directive));
            break;
        }
    }
    va_end(args);
    return out.count();
}

int format(FormatSink sink, void* context, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vformat(sink, context, fmt, args);
    va_end(args);
    return n;
}

namespace {
struct BufferSink {
    char* buffer;
    size_t size;
    size_t used;
};
void buffer_sink(void* context, const char* text, size_t length) {
    auto* sink = static_cast<BufferSink*>(context);
    for (size_t i = 0; i < length; ++i) {
        if (sink->size > 0 && sink->used < sink->size - 1) sink->buffer[sink->used] = text[i];
        ++sink->used;
    }
}
}  // namespace

int vformat_to_buffer(char* buffer, size_t size, const char* fmt, va_list args) {
    BufferSink sink{buffer, size, 0};
    int n = vformat(buffer_sink, &sink, fmt, args);
    if (size > 0) buffer[sink.used < size ? sink.used : size - 1] = '\0';
    return n;
}

int format_to_buffer(char* buffer, size_t size, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vformat_to_buffer(buffer, size, fmt, args);
    va_end(args);
    return n;
}
