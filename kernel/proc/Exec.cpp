// Exec.cpp: ELF segments into regions and frames; the initial stack.
#include "kernel/proc/Exec.h"

#include "format/Elf32.h"
#include "kernel/proc/Initrd.h"
#include "libc/rt/String.h"

namespace exec {
namespace {

constexpr u32 kPage = kPageSize;
constexpr u32 kHeapAlignment = 4 * 1024 * 1024;

ErrorOr<void> add_string(Arguments& a, const char* text, const char** slot) {
    u32 length = static_cast<u32>(strlen(text)) + 1;
    if (a.used + length > kArgumentBytes) return Error::TooBig;
    memcpy(a.strings + a.used, text, length);
    *slot = a.strings + a.used;
    a.used += length;
    return {};
}

ErrorOr<void> load_segments(MemoryModel& memory, const UstarMember& file, const ElfImage& image) {
    for (u32 i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        u32 start = s.vaddr & ~(kPage - 1);
        u32 end = (s.vaddr + s.memory_size + kPage - 1) & ~(kPage - 1);
        TRY(memory.add_region(start, end, RegionKind::Program, s.writable));
        // Pages holding file bytes are mapped and filled now; pages past them are demand-zero.
        u32 file_end = s.vaddr + s.file_size;
        u32 filled_end = (file_end + kPage - 1) & ~(kPage - 1);
        if (s.file_size == 0) continue;
        TRY(memory.populate(start, (filled_end - start) / kPage));
        TRY(memory.write(s.vaddr, file.data + s.file_offset, s.file_size));
    }
    return {};
}

}  // namespace

// Lays out argc, argv, envp and the strings below `top`; returns the initial ESP.
ErrorOr<u32> build_stack(MemoryModel& memory, const Arguments& a, u32 top, u32 bottom) {
    TRY(memory.add_region(bottom, top, RegionKind::Stack, true));
    u32 pointer_bytes = (1 + a.argc + 1 + a.envc + 1) * 4;
    u32 total = ((a.used + 3) & ~3u) + pointer_bytes;
    if (total > kArgumentBytes + 1024) return Error::TooBig;
    u32 pages = (total + kPage - 1) / kPage;
    TRY(memory.populate(top - pages * kPage, pages));

    u32 strings_at = top - ((a.used + 3) & ~3u);
    TRY(memory.write(strings_at, a.strings, a.used));
    u32 words[1 + 2 * kMaxArguments + 2];
    u32 n = 0;
    words[n++] = a.argc;
    for (u32 i = 0; i < a.argc; ++i) words[n++] = strings_at + static_cast<u32>(a.argv[i] - a.strings);
    words[n++] = 0;
    for (u32 i = 0; i < a.envc; ++i) words[n++] = strings_at + static_cast<u32>(a.envp[i] - a.strings);
    words[n++] = 0;
    u32 esp = strings_at - n * 4;
    TRY(memory.write(esp, words, n * 4));
    return esp;
}

ErrorOr<void> Arguments::add_argument(const char* text) {
    if (argc == kMaxArguments) return Error::TooBig;
    TRY(add_string(*this, text, &argv[argc]));
    ++argc;
    return {};
}

ErrorOr<void> Arguments::add_environment(const char* text) {
    if (envc == kMaxArguments) return Error::TooBig;
    TRY(add_string(*this, text, &envp[envc]));
    ++envc;
    return {};
}

MemoryModelKind model_for(const Arguments& arguments, ExplainedError& error) {
    MemoryModelKind model = default_model();
    for (u32 i = 0; i < arguments.envc; ++i) {
        const char* entry = arguments.envp[i];
        if (strncmp(entry, "MNEME_MEMORY=", 13) != 0) continue;
        if (!parse_memory_model(entry + 13, model))
            error = ExplainedError(Error::Invalid,
                                   "unknown memory model MNEME_MEMORY=%s (accepted: paging, static, base-bounds, segments)",
                                   entry + 13);
    }
    return model;
}

namespace {
MemoryModelKind g_default_model = MemoryModelKind::Paging;
}  // namespace

MemoryModelKind default_model() { return g_default_model; }
void set_default_model(MemoryModelKind model) { g_default_model = model; }

ErrorOr<Image, ExplainedError> load(const char* path, const Arguments& arguments) {
    using Result = ErrorOr<Image, ExplainedError>;
    ExplainedError bad_model;
    MemoryModelKind model = model_for(arguments, bad_model);
    if (bad_model.code != Error::None) return bad_model;
    if (model != MemoryModelKind::Paging) return load_into_arena(path, arguments, model);
    auto file = initrd::find_program(path);
    if (file.is_error()) {
        if (file.error() == Error::NoEntry) return Result(Error::NoEntry, "no such program in the initrd");
        return file.error();
    }
    auto image = parse_elf32(file.value().data, file.value().size, ElfLimits{});
    if (image.is_error()) return Result(image.error().code, "not a program Mneme can run: %s", image.error().reason);
    auto created = PagedMemory::create();
    if (created.is_error()) return Result(created.error(), "%s for a page directory", error_string(created.error()));
    MemoryModel& memory = *created.value();
    auto loaded = load_segments(memory, file.value(), image.value());
    // The heap starts at the next 4 MiB boundary above the program: the default malloc carves its heap into
    // 4 MiB-aligned segments (docs/malloc.md), and an unaligned break would make it reserve up to 4 MiB of
    // padding, which the commit limit counts (mm/vm/AddressSpace.h, can_commit) and a small machine cannot
    // spare.
    if (!loaded.is_error()) loaded = memory.set_heap_start(align_up<u32>(image.value().end, kHeapAlignment));
    ErrorOr<u32> stack = loaded.is_error() ? ErrorOr<u32>(loaded.error())
                                           : build_stack(memory, arguments, user_layout::kStackTop,
                                                         user_layout::kStackBottom);
    if (stack.is_error()) {
        delete &memory;
        return Result(stack.error(), "%s while loading", error_string(stack.error()));
    }
    return Image{image.value().entry, stack.value(), &memory};
}

}  // namespace exec
