// ReferenceString.cpp: parsing and generating reference strings (see ReferenceString.h).
#include "mm/swap/ReferenceString.h"

#include "libc/base/Assert.h"
#include "libc/base/Format.h"
#include "mm/swap/XorShift.h"

namespace {

bool is_separator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Error::Invalid with the message; `at` is the offending character's index (shown counting from 1).
Error invalid(char* message, size_t message_size, size_t at, const char* what, char c) {
    if (c == '\0')
        format_to_buffer(message, message_size, "%s at the end (character %zu)", what, at + 1);
    else
        format_to_buffer(message, message_size, "unexpected '%c' at character %zu: %s", c, at + 1, what);
    return Error::Invalid;
}

}  // namespace

u32 count_accesses(const char* text) {
    u32 count = 0;
    bool in_token = false;
    for (const char* c = text; *c != '\0'; ++c) {
        if (is_separator(*c)) {
            in_token = false;
        } else if (!in_token) {
            in_token = true;
            ++count;
        }
    }
    return count;
}

ErrorOr<u32> parse_reference_string(const char* text, Span<PageAccess> out, char* message, size_t message_size) {
    u32 count = 0;
    size_t i = 0;
    while (true) {
        while (is_separator(text[i])) ++i;
        if (text[i] == '\0') break;
        size_t start = i;
        if (!is_digit(text[i])) return invalid(message, message_size, i, "expected a page number", text[i]);
        u32 page = 0;
        for (; is_digit(text[i]); ++i) {
            page = page * 10 + static_cast<u32>(text[i] - '0');
            if (page >= kMaxReferencePage) {
                format_to_buffer(message, message_size, "the page at character %zu is too large: pages go from 0 to %u",
                                 start + 1, kMaxReferencePage - 1);
                return Error::Invalid;
            }
        }
        bool write = text[i] == 'w' || text[i] == 'W';
        if (write) ++i;
        if (text[i] != '\0' && !is_separator(text[i]))
            return invalid(message, message_size, i, "a page number may be followed only by 'w' (a write)", text[i]);
        if (count == out.size()) {
            format_to_buffer(message, message_size, "more than %zu accesses", out.size());
            return Error::Invalid;
        }
        out[count++] = PageAccess{page, write};
    }
    if (count == 0) {
        format_to_buffer(message, message_size, "the reference string is empty: give pages like 1,2,3w,1");
        return Error::Invalid;
    }
    return count;
}

const char* workload_name(Workload workload) {
    switch (workload) {
    case Workload::Scan: return "scan";
    case Workload::Uniform: return "uniform";
    case Workload::HotSet: return "80-20";
    case Workload::Loop: return "loop";
    }
    return "?";
}

ErrorOr<Workload> parse_workload(const char* name) {
    for (Workload workload : kWorkloads)
        if (__builtin_strcmp(name, workload_name(workload)) == 0) return workload;
    return Error::Invalid;
}

u32 workload_pages(const WorkloadSpec& spec) { return spec.kind == Workload::Loop ? spec.frames + 1 : spec.pages; }

void generate_reference_string(const WorkloadSpec& spec, Span<PageAccess> out) {
    u32 pages = workload_pages(spec);
    VERIFY(pages >= 1 && pages < kMaxReferencePage);
    XorShift32 random(spec.seed);
    // The hot set: the first fifth of the pages, at least one.
    u32 hot = pages / 5 != 0 ? pages / 5 : 1;
    for (u32 i = 0; i < out.size(); ++i) {
        u32 page = 0;
        switch (spec.kind) {
        case Workload::Scan:
        case Workload::Loop: page = i % pages; break;
        case Workload::Uniform: page = random.below(pages); break;
        case Workload::HotSet:
            if (hot == pages || random.chance(80))
                page = random.below(hot);
            else
                page = hot + random.below(pages - hot);
            break;
        }
        out[i] = PageAccess{page, random.chance(spec.write_percent)};
    }
}

u32 page_limit(Span<const PageAccess> string) {
    u32 limit = 0;
    for (const PageAccess& access : string)
        if (access.page >= limit) limit = access.page + 1;
    return limit;
}
