// ReverseMap.cpp: see ReverseMap.h.
#include "mm/vm/ReverseMap.h"

ReverseMap::ReverseMap(Span<Slot> slots, Span<Slot> nodes, u32 first_pfn)
    : m_slots(slots.data()),
      m_nodes(nodes.data()),
      m_first_pfn(first_pfn),
      m_frame_count(static_cast<u32>(slots.size())),
      m_node_capacity(nodes.size() < kMaxNodes ? static_cast<u32>(nodes.size()) : kMaxNodes) {
    VERIFY(u64(first_pfn) + slots.size() <= (u64(1) << (32 - kPageShift)));
    for (Slot& slot : slots) slot = Slot{};
}

bool ReverseMap::check_invariants(FormatSink sink, void* context) const {
    if (m_watermark > m_node_capacity)
        return invariant_violation(sink, context, "ReverseMap: %u nodes handed out, the pool has %u", m_watermark,
                                   m_node_capacity);
    u32 mappings = 0, frames = 0, chained = 0;
    for (u32 index = 0; index < m_frame_count; ++index) {
        const Slot& head = m_slots[index];
        u32 frame = (m_first_pfn + index) << kPageShift;
        if (is_empty(head)) {
            if (head.directory_word != 0 || head.vaddr_word != 0)
                return invariant_violation(sink, context, "ReverseMap: frame %#x has no mapping but a link to %u",
                                           frame, link(head));
            continue;
        }
        ++frames;
        ++mappings;
        u32 length = 0;
        for (u32 node = link(head); node != 0; node = link(m_nodes[node - 1])) {
            if (node > m_watermark)
                return invariant_violation(sink, context, "ReverseMap: frame %#x links to node %u, never handed out",
                                           frame, node);
            if (is_empty(m_nodes[node - 1]))
                return invariant_violation(sink, context, "ReverseMap: frame %#x chains free node %u", frame, node);
            if (++length > m_watermark)
                return invariant_violation(sink, context, "ReverseMap: the chain of frame %#x loops", frame);
            ++mappings;
        }
        chained += length;
    }
    u32 free_nodes = 0;
    for (u32 node = m_free; node != 0; node = link(m_nodes[node - 1])) {
        if (node > m_watermark)
            return invariant_violation(sink, context, "ReverseMap: free node %u was never handed out", node);
        if (!is_empty(m_nodes[node - 1]))
            return invariant_violation(sink, context, "ReverseMap: free node %u holds a mapping", node);
        if (++free_nodes > m_watermark) return invariant_violation(sink, context, "ReverseMap: the free list loops");
    }
    if (chained != m_nodes_in_use || chained + free_nodes != m_watermark)
        return invariant_violation(sink, context,
                                   "ReverseMap: %u nodes chained and %u free, but %u in use of %u handed out", chained,
                                   free_nodes, m_nodes_in_use, m_watermark);
    if (mappings != m_mappings || frames != m_mapped_frames)
        return invariant_violation(sink, context, "ReverseMap: counted %u mappings of %u frames, recorded %u of %u",
                                   mappings, frames, m_mappings, m_mapped_frames);
    return true;
}
