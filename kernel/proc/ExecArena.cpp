// ExecArena.cpp: loading a program under an older memory model: the same /bin/NAME a paged process runs,
// moved into a hole of the arena and re-linked for it.
//
// Every program is linked once, at 0x00400000 for paging (user/user.ld), with its relocations kept (`ld -q`:
// every 32-bit absolute address the linker resolved stays listed in a .rel.* section). That list is what
// lets one image run under every model (Tanenbaum, "Modern Operating Systems", 3.1.2 on static relocation;
// OSTEP ch. 15 "Address Translation"). The loader:
//   1. finds a hole for stack (64 KiB) + image + heap room (kernel/memmodel/Arena.h places it by the fit
//      policy, compacting first if the free total would hold it but no hole does);
//   2. copies each PT_LOAD segment's file bytes to its place (the rest, bss and heap, is zero):
//        static, base-bounds  one block: the stack reserve, then the image as linked (the gaps between its
//                             page-aligned segments stay), so link address V lands at offset V - 0x003f0000
//        segments             the code (the executable PT_LOAD) in a block of its own, shared by every process
//                             running the program (kernel/memmodel/CodeSegment.h), at code offset V - start of
//                             the code; the rest after the stack reserve in the data segment
//   3. rewrites every absolute address the image holds (each R_386_32 site, format/Elf32Relocations.h) by the
//      same rule: static relocation also adds the block's linear address (the program then runs with flat
//      segments, and cannot move: its addresses name where it is); base and bounds rebases it once to offsets
//      from 0 and from then on the segment base relocates every access, in hardware, so moving the process
//      changes only the base; under segments an address of code becomes a code offset and an address of
//      data a data offset. PC-relative references (R_386_PC32: calls, jumps) need nothing, since a call's
//      target moves with it;
//   4. puts the arguments at the top of the stack reserve (offset 0x10000, growing down).
#include "format/Elf32.h"
#include "format/Elf32Relocations.h"
#include "format/Relink.h"
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
    auto file = initrd::find_program(path);
    if (file.is_error()) return Result(Error::NoEntry, "no such program in the initrd");
    if (!arena::is_ready())
        return Result(Error::NoMemory, "there is no arena for the %s model (boot option arena=SIZE reserves one)",
                      memory_model_name(model));
    const u8* data = file.value().data;
    Span<const u8> bytes(data, file.value().size);
    auto parsed = parse_elf32(data, file.value().size, ElfLimits{});
    if (parsed.is_error()) return Result(parsed.error().code, "not a program Mneme can run: %s", parsed.error().reason);
    const ElfImage& image = parsed.value();
    auto summary = summarize_relocations(bytes);
    if (summary.is_error())
        return Result(Error::BadExecutable, "cannot relocate %s: %s", name, summary.error().what());
    if (!summary.value().carries_relocations())
        return Result(Error::BadExecutable,
                      "%s carries no relocations (linked without ld -q), so it can run only where it was linked, "
                      "under paging", name);
    auto planned = plan_relink(image, split);
    if (planned.is_error()) return Result(Error::BadExecutable, "%s cannot run under %s: %s", name,
                                          memory_model_name(model), planned.error().what());
    const RelinkLayout& layout = planned.value();
    u32 image_end = layout.image_end();
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
    // Under segments, the code block: loaded and re-linked by the first process running the program (then
    // `code_block` points at it), shared as it is by the others (then it is null and code sites are skipped).
    u8* code_block = nullptr;
    if (split) {
        auto attached = memory.attach_code(name, data + layout.code.file_offset, layout.code.file_size);
        if (attached.is_error()) {
            delete &memory;
            return Result(attached.error().code, "cannot place the code of %s: %s", name, attached.error().what());
        }
        code_block = attached.value();
    }
    for (u32 i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        if (s.file_size == 0 || (split && s.executable)) continue;
        if (memory.write(memory.image_address(layout.block_offset(s.vaddr)), data + s.file_offset, s.file_size)
                .is_error())
            return fail(Error::BadExecutable, "a segment does not fit its block");
    }

    // Re-link every absolute address (step 3 above). Static relocation adds where the block landed too.
    u32 load_address = model == MemoryModelKind::Static ? memory.image_address(0) : 0;
    u32 patched = 0;
    const char* problem = nullptr;
    u32 problem_site = 0, problem_value = 0;
    auto relocations = for_each_absolute_relocation(bytes, [&](RelocationSite relocation) {
        if (problem) return;
        u32 site = relocation.offset;
        u8* word_at = nullptr;
        if (layout.in_code(site, 4)) {
            if (!code_block) return;  // shared: re-linked by the process that loaded it
            word_at = code_block + (site - layout.code.vaddr);
        } else if (layout.in_block(site, 4)) {
            u32 address = memory.image_address(layout.block_offset(site));
            if (memory.validate_user_range(address, 4, true).is_error()) return void(problem = "site outside the block");
            word_at = static_cast<u8*>(memory.user_pointer(address));
        } else {
            problem = "a relocation site outside every segment", problem_site = site;
            return;
        }
        u32 word;
        memcpy(&word, word_at, 4);
        auto value = layout.relink(word, load_address);
        if (value.is_error()) {
            problem = "an absolute address that is neither code nor data", problem_site = site, problem_value = word;
            return;
        }
        memcpy(word_at, &value.value(), 4);
        ++patched;
    });
    if (relocations.is_error()) {
        delete &memory;
        return Result(Error::BadExecutable, "cannot relocate %s: %s", name, relocations.error().what());
    }
    if (problem) {
        delete &memory;
        return Result(Error::BadExecutable, "cannot re-link %s for %s: %s (site 0x%08x, value 0x%08x)", name,
                      memory_model_name(model), problem, problem_site, problem_value);
    }
    u32 pc_relative = relocations.value().pc_relative;
    if (model == MemoryModelKind::Static)
        kprintf("[exec] static relocation: %s placed at 0x%08x (arena offset 0x%06x); patched %u absolute "
                "addresses, %u PC-relative ones need nothing\n",
                name, load_address, memory.arena_offset(), patched, pc_relative);
    else if (model == MemoryModelKind::BaseBounds)
        kprintf("[exec] base and bounds: %s rebased from 0x%08x to offset 0x%05x of its segment (%u absolute "
                "addresses, once); the base 0x%08x does the rest\n",
                name, layout.first, SegmentedMemory::kStackReserve, patched, arena::linear(memory.arena_offset()));
    else
        kprintf("[exec] segments: %s code at offsets 0-0x%x of %s code segment, data from offset 0x%05x (%u "
                "absolute addresses %s)\n",
                name, layout.code.memory_size - 1, code_block ? "a new" : "the shared",
                SegmentedMemory::kStackReserve, patched, code_block ? "re-linked" : "in the data re-linked");

    // The heap starts after the image; the arguments go at the top of the stack reserve.
    if (auto ready = memory.set_heap_start(memory.image_address(image_end)); ready.is_error())
        return fail(ready.error(), "setting the heap's start");
    auto arguments = with_model_in_environment(given, model);
    if (arguments.is_error()) return fail(arguments.error(), "preparing the arguments");
    auto stack = build_stack(memory, *arguments.value(), memory.image_address(SegmentedMemory::kStackReserve),
                             memory.image_address(0));
    if (stack.is_error()) return fail(stack.error(), "building the stack");
    // The entry point: a code offset under segments; otherwise an offset (or, static, an address) in the block.
    u32 entry = split ? image.entry - layout.code.vaddr : memory.image_address(layout.block_offset(image.entry));
    return Image{entry, stack.value(), &memory};
}

}  // namespace exec
