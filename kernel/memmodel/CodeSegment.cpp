// CodeSegment.cpp: shared code blocks of the segmentation model (the header says how sharing works).
#include "kernel/memmodel/CodeSegment.h"

#include <new>

#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"

namespace {

// The programs whose code is loaded now (at most one block per program name).
constexpr u32 kMaxLoaded = 64;
CodeSegment* g_loaded[kMaxLoaded];

}  // namespace

ErrorOr<CodeSegment*, ExplainedError> CodeSegment::acquire(const char* name, const u8* text, u32 bytes,
                                                           SegmentedMemory* sharer) {
    using Result = ErrorOr<CodeSegment*, ExplainedError>;
    for (CodeSegment* code : g_loaded)
        if (code && strcmp(code->m_name, name) == 0) {
            code->share(sharer);
            return code;
        }
    u32 slot = kMaxLoaded;
    for (u32 i = 0; i < kMaxLoaded; ++i)
        if (!g_loaded[i]) {
            slot = i;
            break;
        }
    if (slot == kMaxLoaded) return Result(Error::NoSpace, "%u programs' code is loaded already", kMaxLoaded);
    void* storage = kmalloc(sizeof(CodeSegment));
    if (!storage) return Result(Error::NoMemory, "out of kernel memory for a code segment");
    auto* code = new (storage) CodeSegment();
    strncpy(code->m_name, name, sizeof(code->m_name) - 1);
    auto offset = arena::allocate(bytes, code);
    if (offset.is_error()) {
        code->~CodeSegment();
        kfree(code);
        return Result(offset.error().code, "no room for the code of %s: %s", name, offset.error().what());
    }
    code->m_offset = offset.value();
    code->m_size = align_up<u32>(bytes, kPageSize);
    memcpy(arena::kernel_pointer(code->m_offset), text, bytes);
    g_loaded[slot] = code;
    code->share(sharer);
    return code;
}

void CodeSegment::share(SegmentedMemory* sharer) {
    VERIFY(m_count < kMaxSharers);
    m_sharers[m_count++] = sharer;
}

void CodeSegment::release(SegmentedMemory* sharer) {
    for (u32 i = 0; i < m_count; ++i)
        if (m_sharers[i] == sharer) {
            m_sharers[i] = m_sharers[--m_count];
            break;
        }
    if (m_count > 0) return;
    arena::release(m_offset);
    for (CodeSegment*& code : g_loaded)
        if (code == this) code = nullptr;
    this->~CodeSegment();
    kfree(this);
}

void CodeSegment::arena_moved(u32 old_offset, u32 new_offset) {
    VERIFY(old_offset == m_offset);
    m_offset = new_offset;
    for (u32 i = 0; i < m_count; ++i) m_sharers[i]->code_moved(old_offset);
}

void CodeSegment::arena_describe(char* buffer, u32 size) const {
    format_to_buffer(buffer, size, "code of %s (segments), shared by %u process%s", m_name, m_count,
                     m_count == 1 ? "" : "es");
}

i32 CodeSegment::arena_pid() const { return m_count ? m_sharers[0]->owner_pid() : 0; }
