// FitIndex.cpp: the indexed searches of the fit policies (see FitIndex.h).
#include "libc/malloc/FitIndex.h"

#include "libc/base/Assert.h"

namespace Malloc {

// Under best fit a block lives in one tree, chosen by its size: the size tree if it has room for a size
// node, the address tree if it is of the minimum size.
void FitIndex::insert(void* block) {
    if (m_by_size && SizeIndex::holds(block)) return m_by_size_index.insert(block);
    m_by_address.insert(block);
}

void FitIndex::remove(void* block) {
    if (m_by_size && SizeIndex::holds(block)) return m_by_size_index.remove(block);
    m_by_address.remove(block);
}

void FitIndex::replace(void* block, void* replacement) {
    if (m_by_size) return insert(replacement);  // resizing(block) took the block out already
    m_by_address.replace(block, replacement);
}

// Best fit re-sorts a block whose size changes (it may even change trees); the address tree keeps the block
// in its place and refreshes the largest sizes above it.
void FitIndex::resizing(void* block) {
    if (m_by_size) remove(block);
}

void FitIndex::resized(void* block) {
    if (m_by_size) return insert(block);
    m_by_address.resized(block);
}

void FitIndex::drain(void (*visit)(void* block, void* context), void* context) {
    if (m_by_size) {
        m_by_size_index.for_each([](void* block, void* self) { static_cast<AddressIndex*>(self)->insert(block); },
                                 &m_by_address);
        m_by_size_index.clear();
    }
    m_by_address.drain(visit, context);
}

void* FitIndex::find(FitStrategy strategy, size_t size, const void* rover) const {
    switch (strategy) {
    case FitStrategy::First: return m_by_address.first_fit(size);
    case FitStrategy::Next: {
        if (rover)
            if (void* block = m_by_address.first_fit_from(rover, size)) return block;
        return m_by_address.first_fit(size);  // wrapped round: below the rover (or none)
    }
    case FitStrategy::Best: {
        if (size <= FitLayout::kMinimumBlock)
            if (void* block = m_by_address.lowest_minimum()) return block;
        return m_by_size_index.smallest_fit(size);
    }
    case FitStrategy::Worst: {
        void* block = m_by_address.largest();
        return block && FitLayout::size_of_block(block) >= size ? block : nullptr;
    }
    }
    return nullptr;
}

void FitIndex::check(size_t free_blocks, size_t larger_free_blocks) const {
    if (!m_by_size) {
        VERIFY(m_by_address.check() == free_blocks);
        return;
    }
    // Best fit: the two trees split the free blocks by size, each block in the one its size names.
    VERIFY(m_by_address.check() == free_blocks - larger_free_blocks);
    VERIFY(m_by_size_index.check() == larger_free_blocks);
    m_by_address.for_each([](void* block, void*) { VERIFY(!SizeIndex::holds(block)); }, nullptr);
    m_by_size_index.for_each([](void* block, void*) { VERIFY(SizeIndex::holds(block)); }, nullptr);
}

}  // namespace Malloc
