// ExecArena.cpp: loading a program under an older memory model: its relocatable image into a hole of the arena.
//
// Every program is also linked at offset 0 with its relocations kept (user/reloc.ld, `ld -q`), and the
// initrd holds that image as reloc/NAME. The loader:
//   1. finds a hole for stack (64 KiB) + image + heap room (kernel/memmodel/Arena.h places it by the fit
//      policy, compacting first if the free total would hold it but no hole does);
//   2. copies each PT_LOAD segment's file bytes to its offset (the rest, bss and heap, is zero);
//   3. static relocation only: adds the hole's linear address to every 32-bit absolute address the image
//      holds (each R_386_32 site, format/Elf32Relocations.h), and prints how many it patched. PC-relative
//      references (R_386_PC32) need nothing: code and target move together. Under base and bounds nothing is
//      patched: the segment base does the relocating, on every access, in hardware;
//   4. puts the arguments at the top of the stack (offset 0x10000, growing down).
// (Tanenbaum, "Modern Operating Systems", 3.1.2 on static relocation; OSTEP ch. 15 "Address Translation".)
#include "format/Elf32.h"
#include "format/Elf32Relocations.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/proc/Exec.h"
#include "kernel/proc/Initrd.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"

namespace exec {
namespace {

// Heap room a process starts with: static relocation can never have more (it cannot grow past its hole);
// base and bounds grows beyond it by moving.
constexpr u32 kStaticHeapRoom = 128 * 1024;
constexpr u32 kBaseBoundsHeapRoom = 16 * 1024;  // also the segments model's data segment

// The program's name without directories: "/bin/hello" -> "hello".
const char* base_name(const char* path) {
    const char* slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// `given` plus MNEME_MEMORY=NAME in the environment when it is not there (the C library's malloc reads it to
// choose a heap that grows by brk, as there is no mmap area under these models). Static: one exec at a time
// (the kernel is not preemptible), and too big for a kernel stack.
ErrorOr<const Arguments*> with_model_in_environment(const Arguments& given, MemoryModelKind model) {
    static Arguments arguments;
    arguments = Arguments{};
    bool present = false;
    for (u32 i = 0; i < given.argc; ++i) TRY(arguments.add_argument(given.argv[i]));
    for (u32 i = 0; i < given.envc; ++i) {
        present |= strncmp(given.envp[i], "MNEME_MEMORY=", 13) == 0;
        TRY(arguments.add_environment(given.envp[i]));
    }
    if (!present) {
        char entry[40];
        format_to_buffer(entry, sizeof(entry), "MNEME_MEMORY=%s", memory_model_name(model));
        TRY(arguments.add_environment(entry));
    }
    return &arguments;
}

}  // namespace

ErrorOr<Image, ExplainedError> load_into_arena(const char* path, const Arguments& given, MemoryModelKind model) {
    using Result = ErrorOr<Image, ExplainedError>;
    const char* name = base_name(path);
    bool split = model == MemoryModelKind::Segments;
    if (!initrd::find_program(path).is_error() && !arena::is_ready())
        return Result(Error::NoMemory, "there is no arena for the %s model (boot option arena=)",
                      memory_model_name(model));
    // Segments runs the split link (code and data in separate spaces), the others the relocatable one.
    const char* folder = split ? "split" : "reloc";
    char image_path[96];
    format_to_buffer(image_path, sizeof(image_path), "%s/%s", folder, name);
    auto file = initrd::find_program(image_path);
    if (file.is_error()) {
        if (initrd::find_program(path).is_error()) return Result(Error::NoEntry, "no such program in the initrd");
        return Result(Error::BadExecutable, "%s has no %s image (%s/%s in the initrd), so it cannot run under %s",
                      name, split ? "split" : "relocatable", folder, name, memory_model_name(model));
    }
    const u8* data = file.value().data;
    ElfLimits limits;
    if (split) limits.lowest = 0, limits.separate_spaces = true;
    auto parsed = parse_elf32(data, file.value().size, limits);
    if (parsed.is_error()) return Result(parsed.error().code, "not a program Mneme can run: %s", parsed.error().reason);
    const ElfImage& image = parsed.value();

    // What the block holds: the stack reserve, the image (up to the end of its last segment, bss included).
    // Under segments the code goes into its own (shared) block: it is not part of this one.
    u32 image_end = 0;
    const ElfSegment* code = nullptr;
    for (u32 i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        if (split && s.executable) {
            if (code || s.vaddr != 0 || s.writable)
                return Result(Error::BadExecutable, "the split image of %s has more than one code segment, or one "
                                                    "that does not start at offset 0", name);
            code = &s;
            continue;
        }
        if (s.vaddr < SegmentedMemory::kStackReserve)
            return Result(Error::BadExecutable, "segment %u at offset 0x%x overlaps the stack reserve (linked for "
                                                "another layout than user/reloc.ld)", i, s.vaddr);
        if (s.vaddr + s.memory_size > image_end) image_end = s.vaddr + s.memory_size;
    }
    image_end = align_up<u32>(image_end, 16);
    u32 heap_room = model == MemoryModelKind::Static ? kStaticHeapRoom : kBaseBoundsHeapRoom;

    auto created = SegmentedMemory::create(model, image_end + heap_room);
    if (created.is_error())
        return Result(created.error().code, "cannot place %s under %s: %s", name, memory_model_name(model),
                      created.error().what());
    SegmentedMemory& memory = *created.value();
    auto fail = [&](Error code, const char* what) {
        delete &memory;
        return Result(code, "%s: %s", what, error_string(code));
    };
    if (split) {
        if (!code) return fail(Error::BadExecutable, "the split image has no code segment");
        if (code->file_size != code->memory_size) return fail(Error::BadExecutable, "the code segment has bss");
        auto attached = memory.attach_code(name, data + code->file_offset, code->file_size);
        if (attached.is_error()) {
            delete &memory;
            return Result(attached.error().code, "cannot place the code of %s: %s", name, attached.error().what());
        }
    }

    for (u32 i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        if (s.file_size == 0 || (split && s.executable)) continue;
        if (memory.write(memory.image_address(s.vaddr), data + s.file_offset, s.file_size).is_error())
            return fail(Error::BadExecutable, "a segment does not fit its block");
    }

    if (model == MemoryModelKind::Static) {
        // Each site holds an address linked for offset 0; the image now starts at the block's linear base.
        u32 load_address = memory.image_address(0);
        u32 patched = 0;
        bool outside = false;
        Span<const u8> bytes(data, file.value().size);
        auto relocations = for_each_absolute_relocation(bytes, [&](RelocationSite relocation) {
            u32 site = relocation.offset;
            u32 word;
            if (site + 4 > image_end || memory.validate_user_range(memory.image_address(site), 4, true).is_error()) {
                outside = true;
                return;
            }
            memcpy(&word, memory.user_pointer(memory.image_address(site)), 4);
            word += load_address;
            memcpy(memory.user_pointer(memory.image_address(site)), &word, 4);
            ++patched;
        });
        if (relocations.is_error()) {
            delete &memory;
            return Result(Error::BadExecutable, "cannot relocate %s: %s", name, relocations.error().what());
        }
        if (outside) return fail(Error::BadExecutable, "a relocation site lies outside the image");
        if (!relocations.value().carries_relocations()) {
            delete &memory;
            return Result(Error::BadExecutable, "%s carries no relocations, so it can run only where it was linked",
                          name);
        }
        kprintf("[exec] static relocation: %s placed at 0x%08x (arena offset 0x%06x); patched %u absolute "
                "addresses, %u PC-relative ones need nothing\n",
                name, load_address, memory.arena_offset(), patched, relocations.value().pc_relative);
    }

    // The heap starts after the image; the arguments go at the top of the stack reserve.
    if (auto ready = memory.set_heap_start(memory.image_address(image_end)); ready.is_error())
        return fail(ready.error(), "setting the heap's start");
    auto arguments = with_model_in_environment(given, model);
    if (arguments.is_error()) return fail(arguments.error(), "preparing the arguments");
    auto stack = build_stack(memory, *arguments.value(), memory.image_address(SegmentedMemory::kStackReserve),
                             memory.image_address(0));
    if (stack.is_error()) return fail(stack.error(), "building the stack");
    // The entry point is a code offset: under segments, of the code segment; otherwise of the one image.
    return Image{memory.image_address(image.entry), stack.value(), &memory};
}

}  // namespace exec
