// FitIndex.cpp: the indexed searches of the fit policies (see FitIndex.h).
#include "libc/malloc/FitIndex.h"

#include "libc/base/Assert.h"

namespace Malloc {

void FitIndex::insert(void* block) {
    m_by_address.insert(block);
    if (m_by_size && SizeIndex::holds(block)) m_by_size_index.insert(block);
}

void FitIndex::remove(void* block) {
    if (m_by_size && SizeIndex::holds(block)) m_by_size_index.remove(block);
    m_by_address.remove(block);
}

void FitIndex::replace(void* block, void* replacement) {
    if (m_by_size && SizeIndex::holds(replacement)) m_by_size_index.insert(replacement);
    m_by_address.replace(block, replacement);
}

void FitIndex::resizing(void* block) {
    if (m_by_size && SizeIndex::holds(block)) m_by_size_index.remove(block);
}

void FitIndex::resized(void* block) {
    if (m_by_size && SizeIndex::holds(block)) m_by_size_index.insert(block);
    m_by_address.resized(block);
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
    VERIFY(m_by_address.check() == free_blocks);
    if (m_by_size) VERIFY(m_by_size_index.check() == larger_free_blocks);
}

}  // namespace Malloc
