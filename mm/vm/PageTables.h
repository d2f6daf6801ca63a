// PageTables.h: the page tables of one address space (2-level i386 radix), as policy over a small
// page-table interface, so the same code runs in the kernel and in host tests backed by plain memory.
//
// Algorithm: a page directory of 1024 entries, each referencing a page table of 1024 entries, each
// mapping one 4 KiB page (Intel SDM Vol. 3A 4.3, Figure 4-2). A linear address splits into directory
// index (bits 31:22), table index (21:12) and offset (11:0). Page tables are allocated on the first
// mapping in their 4 MiB region and freed when an unmap leaves them empty; destroy() returns every frame
// and table to the caller.
//
// The kernel half (PDE 768..1023, addresses >= 0xC0000000) is shared: create_kernel() allocates every
// kernel page table up front, and create() copies those 256 PDEs into each new directory, so a later
// kernel mapping (written into a shared table) is seen by every address space without touching them.
// A user address space therefore refuses to map, unmap or protect kernel-half addresses (they belong to
// the kernel space), and destroy() never frees the shared tables.
//
// Invariants (check_invariants, which describes the first broken one and returns false):
//   - user half PDEs are either null or reference a table with P, RW and US set, so the PTE alone
//     decides the access rights (SDM 4.6: the effective rights are the most restrictive of both levels);
//   - no user-half PTE is global and no kernel-half PTE is user-accessible;
//   - a user space's PDEs 768..1023 equal the kernel space's;
//   - every kernel-half PDE of the kernel space references a table (allocated by create_kernel).
//
// TLB: a new mapping needs no INVLPG, since the CPU does not cache not-present entries (SDM 4.10.2.3,
// "the processor does not cache a translation for a page for which the P flag is 0"); every change to a
// present entry (unmap, protect, clearing A or D) calls Ops::invalidate before a frame or table is given
// back. INVLPG also flushes the paging-structure caches (SDM 4.10.4.1), which covers a freed table.
// destroy() invalidates nothing: call it with another CR3 loaded.
//
// Frame table: every frame a space starts or stops mapping passes through the Ops hooks (frame_mapped,
// frame_mapping_undone, release_frame), called from map, map_range, replace, unmap, unmap_range and destroy,
// the only code that makes an entry name a frame or stop naming it; the kernel keeps its reverse map of user
// frames with them (kernel/mm/FrameTable.h). protect() and set_not_present() change no frame and call none.
//
// Locking: none inside. The caller serialises operations on one address space (in the kernel there is no
// per-process lock: only the owning process changes its tables, in its own system calls and faults, and
// the kernel is not preemptible; docs/processes.md, "Interrupts in the kernel"); the Ops' allocator has
// its own.
#pragma once

#include <stdarg.h>

#include <type_traits>
#include <utility>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Invariant.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"

// The access rights and memory type of a mapping (SDM 4.6 and 4.9).
struct Protection {
    bool writable = false;        // R/W
    bool user = false;            // U/S: reachable from ring 3
    bool write_through = false;   // PWT
    bool cache_disabled = false;  // PCD (device memory)
    bool global = false;          // G: kept across CR3 loads (kernel pages only)
    // Not a hardware bit: the page is shared after fork and mapped read-only; the first write faults and the
    // fault handler copies it (mm/vm/FaultDecision.h). Kept in bit 9 of the PTE, which the processor ignores
    // (SDM Table 4-6, bits 11:9 "Ignored").
    bool copy_on_write = false;
    constexpr bool operator==(const Protection&) const = default;
};

// The result of walking the tables for one linear address, the way the MMU does (SDM 4.3, Figure 4-2):
// which directory and table entry were read, what they held, and where the address ends up.
template <typename DirectoryEntry, typename TableEntry>
struct PageWalk {
    u32 directory_index = 0;  // bits 31:22
    u32 table_index = 0;      // bits 21:12
    DirectoryEntry pde;
    TableEntry pte;       // meaningful only when the PDE references a table (present, not large)
    bool large = false;   // a 4 MiB page (PDE with PS=1)
    bool mapped = false;  // the address translates
    u32 physical = 0;     // when mapped
};

// What PageTables needs from its caller. The entry types are arch/i386/PageTableEntry.h's in the
// kernel and in the host tests; the memory operations differ:
//   allocate_table()  -> ErrorOr<u32>: physical address of a zeroed 4 KiB page (Error::NoMemory if none)
//   free_table(phys)     gives that page back
//   directory(phys)   -> DirectoryEntry*, table(phys) -> TableEntry*: where the CPU's page at `phys` can be
//                        read and written (the direct map in the kernel, plain memory on the host)
//   invalidate(directory, vaddr)  drop every CPU's TLB entry for vaddr in the space whose directory is at
//                        `directory` (INVLPG, and a shootdown of the other CPUs using it, in the kernel;
//                        recorded on the host)
// and three hooks that follow every frame a space maps, so the kernel's frame table (its reverse map,
// mm/vm/ReverseMap.h) stays exact without any caller having to remember it. `directory` is the space's
// directory_physical_address(), `vaddr` the page, `phys` the frame:
//   frame_mapped(directory, vaddr, phys) -> ErrorOr<void>: map(), map_range() and replace() are about to
//                        make the entry name the frame; an error (a full reverse map) makes them fail with it,
//                        nothing changed
//   frame_mapping_undone(directory, vaddr, phys)  a frame_mapped() whose map_range() failed after all
//   release_frame(directory, vaddr, phys)  unmap(), replace() and destroy() no longer map the frame there
//                        (after the TLB entry is gone; the kernel forgets the mapping and drops a reference)
// Optional: release_not_present(vaddr, entry) is called by unmap()/destroy() for a not-present entry
// holding a payload (a swap slot), so the kernel can free the slot.
template <typename Ops>
concept PageTableOps = requires(Ops& ops, u32 address) {
    typename Ops::DirectoryEntry;
    typename Ops::TableEntry;
    requires std::is_same_v<decltype(ops.allocate_table()), ErrorOr<u32>>;
    ops.free_table(address);
    requires std::is_same_v<decltype(ops.directory(address)), typename Ops::DirectoryEntry*>;
    requires std::is_same_v<decltype(ops.table(address)), typename Ops::TableEntry*>;
    ops.invalidate(address, address);
    requires std::is_same_v<decltype(ops.frame_mapped(address, address, address)), ErrorOr<void>>;
    ops.frame_mapping_undone(address, address, address);
    ops.release_frame(address, address, address);
};

template <PageTableOps Ops>
class PageTables {
public:
    MNEME_NONCOPYABLE(PageTables);

    using DirectoryEntry = typename Ops::DirectoryEntry;
    using TableEntry = typename Ops::TableEntry;

    static constexpr u32 kEntries = 1024;
    static constexpr u32 kFirstKernelIndex = kKernelBase >> 22;  // 768

    // The kernel's own space: a directory plus all 256 kernel page tables (1 MiB), so that every later
    // kernel mapping lands in a table that user spaces share. Nothing is leaked on failure.
    static ErrorOr<PageTables> create_kernel(Ops& ops) {
        u32 directory = TRY(ops.allocate_table());
        PageTables space(ops, directory, true);
        for (u32 index = kFirstKernelIndex; index < kEntries; ++index) {
            auto table = ops.allocate_table();
            if (table.is_error()) return table.error();  // ~PageTables frees what was allocated
            space.directory()[index] = make_directory_entry(table.value(), index);
        }
        return space;
    }

    // The kernel's space from a directory the caller built itself (the kernel does, at boot, with 4 MiB pages
    // for its direct map where the CPU has PSE, which create_kernel() does not make). The caller guarantees
    // the kernel-half PDEs never change afterwards: later kernel mappings go into tables that already exist.
    // Only used to create() user spaces from; never destroyed.
    static PageTables adopt_kernel(Ops& ops, u32 directory) { return PageTables(ops, directory, true); }

    // A user space: a fresh directory whose kernel half is a copy of `kernel`'s PDEs.
    static ErrorOr<PageTables> create(Ops& ops, const PageTables& kernel) {
        VERIFY(kernel.is_kernel() && kernel.m_directory != 0);
        u32 directory = TRY(ops.allocate_table());
        PageTables space(ops, directory, false);
        const DirectoryEntry* source = kernel.directory();
        for (u32 index = kFirstKernelIndex; index < kEntries; ++index) space.directory()[index] = source[index];
        return space;
    }

    PageTables(PageTables&& other)
        : m_ops(other.m_ops), m_directory(std::exchange(other.m_directory, 0)), m_is_kernel(other.m_is_kernel) {}
    PageTables& operator=(PageTables&&) = delete;
    ~PageTables() { destroy(); }

    // What CR3 gets (SDM Table 4-3: bits 31:12 locate the page directory).
    u32 directory_physical_address() const { return m_directory; }
    bool is_kernel() const { return m_is_kernel; }

    // Map `pages` pages at `vaddr` to the frames from `paddr` on, all or nothing. Errors: Invalid (unaligned,
    // empty, wrapping, kernel half of a user space, user page in the kernel half, global page in the user
    // half), Exists (some page already has a non-null entry, or lies in a 4 MiB page), NoMemory (a page
    // table could not be allocated), or what Ops::frame_mapped reported. On error nothing changed and nothing
    // leaked.
    ErrorOr<void> map(u32 vaddr, u32 paddr, Protection protection) { return map_range(vaddr, paddr, 1, protection); }

    ErrorOr<void> map_range(u32 vaddr, u32 paddr, u32 pages, Protection protection) {
        TRY(check_range(vaddr, pages));
        if (paddr % kPageSize != 0 || u64(paddr) + u64(pages) * kPageSize > (u64(1) << 32)) return Error::Invalid;
        u64 end = u64(vaddr) + u64(pages) * kPageSize;
        if (protection.user && end > kKernelBase) return Error::Invalid;
        if (protection.global && vaddr < kKernelBase) return Error::Invalid;

        // Pass 1: refuse before changing anything.
        bool occupied = false;
        walk(vaddr, pages, [&](u32, DirectoryEntry& pde, TableEntry* entry) {
            if (pde.is_present() && pde.is_large()) occupied = true;
            if (entry && !entry->is_null()) occupied = true;
        });
        if (occupied) return Error::Exists;

        // Pass 2: allocate the missing tables, remembering which so a failure can give them back.
        u32 created[kEntries / 32] = {};
        u32 first_index = vaddr >> 22;
        u32 last_index = u32((end - 1) >> 22);
        auto free_created = [&](u32 below) {
            for (u32 undo = first_index; undo < below; ++undo) {
                if (!(created[undo / 32] & (1u << (undo % 32)))) continue;
                m_ops->free_table(directory()[undo].physical_address());
                directory()[undo].clear();
            }
        };
        for (u32 index = first_index; index <= last_index; ++index) {
            DirectoryEntry& pde = directory()[index];
            if (pde.is_present()) continue;
            VERIFY(index < kFirstKernelIndex);  // create_kernel() allocated every kernel table
            auto table = m_ops->allocate_table();
            if (table.is_error()) {
                free_created(index);
                return table.error();
            }
            pde = make_directory_entry(table.value(), index);
            created[index / 32] |= 1u << (index % 32);
        }

        // Pass 3: tell the frame table, undoing what was told if it refuses a page.
        for (u32 page = 0; page < pages; ++page) {
            auto recorded = m_ops->frame_mapped(m_directory, vaddr + page * kPageSize, paddr + page * kPageSize);
            if (recorded.is_error()) {
                while (page-- > 0)
                    m_ops->frame_mapping_undone(m_directory, vaddr + page * kPageSize, paddr + page * kPageSize);
                free_created(last_index + 1);
                return recorded.error();
            }
        }

        // Pass 4: fill in the entries. Not-present entries are never cached, so no invalidation.
        u32 frame = paddr;
        walk(vaddr, pages, [&](u32, DirectoryEntry&, TableEntry* entry) {
            *entry = make_entry(frame, protection);
            frame += kPageSize;
        });
        return {};
    }

    // Remove the mapping at `vaddr`: the entry is cleared, the TLB entry invalidated, then the frame
    // released (in that order, so the frame is never reused while a stale translation exists). A
    // not-present entry with a payload is cleared too (and passed to Ops::release_not_present). Frees the
    // page table if it became empty (user half only). Errors: Invalid, NoEntry (nothing there).
    ErrorOr<void> unmap(u32 vaddr) {
        TRY(check_range(vaddr, 1));
        TableEntry* entry = lookup(vaddr);
        if (!entry || entry->is_null()) return Error::NoEntry;
        TableEntry old = *entry;
        entry->clear();
        bool table_freed = false;
        u32 table_address = 0;
        if (vaddr < kKernelBase && table_is_empty(vaddr >> 22)) {
            table_address = directory()[vaddr >> 22].physical_address();
            directory()[vaddr >> 22].clear();
            table_freed = true;
        }
        if (old.is_present() || table_freed) m_ops->invalidate(m_directory, vaddr);
        release(vaddr, old);
        if (table_freed) m_ops->free_table(table_address);
        return {};
    }

    // Unmap every non-null entry in the range (holes are skipped, like munmap); returns how many were
    // removed. Tables of the user half left empty are freed.
    ErrorOr<u32> unmap_range(u32 vaddr, u32 pages) {
        TRY(check_range(vaddr, pages));
        u32 removed = 0;
        u32 last_touched_index = kEntries;
        auto free_if_empty = [&](u32 index, u32 some_address) {
            if (index >= kFirstKernelIndex || !directory()[index].is_present() || !table_is_empty(index)) return;
            u32 table_address = directory()[index].physical_address();
            directory()[index].clear();
            m_ops->invalidate(m_directory, some_address);  // the paging-structure caches may hold the PDE (SDM 4.10.3)
            m_ops->free_table(table_address);
        };
        u32 previous_address = 0;
        walk(vaddr, pages, [&](u32 address, DirectoryEntry&, TableEntry* entry) {
            u32 index = address >> 22;
            if (last_touched_index != kEntries && index != last_touched_index) {
                free_if_empty(last_touched_index, previous_address);
                last_touched_index = kEntries;
            }
            if (!entry || entry->is_null()) return;
            TableEntry old = *entry;
            entry->clear();
            if (old.is_present()) m_ops->invalidate(m_directory, address);
            release(address, old);
            ++removed;
            last_touched_index = index;
            previous_address = address;
        });
        if (last_touched_index != kEntries) free_if_empty(last_touched_index, previous_address);
        return removed;
    }

    // Change the rights of a present mapping, keeping its frame, A, D and available bits.
    ErrorOr<void> protect(u32 vaddr, Protection protection) { return protect_range(vaddr, 1, protection); }

    // All pages of the range must be mapped (Error::NoEntry otherwise, nothing changed).
    ErrorOr<void> protect_range(u32 vaddr, u32 pages, Protection protection) {
        TRY(check_range(vaddr, pages));
        u64 end = u64(vaddr) + u64(pages) * kPageSize;
        if (protection.user && end > kKernelBase) return Error::Invalid;
        if (protection.global && vaddr < kKernelBase) return Error::Invalid;
        bool hole = false;
        walk(vaddr, pages, [&](u32, DirectoryEntry&, TableEntry* entry) {
            if (!entry || !entry->is_present()) hole = true;
        });
        if (hole) return Error::NoEntry;
        walk(vaddr, pages, [&](u32 address, DirectoryEntry&, TableEntry* entry) {
            TableEntry updated = *entry;
            apply(updated, protection);
            if (updated.raw() == entry->raw()) return;
            *entry = updated;
            m_ops->invalidate(m_directory, address);
        });
        return {};
    }

    // Directory entry `index` (0..1023), for the monitor's `pt` command and for tests.
    DirectoryEntry& directory_entry(u32 index) {
        VERIFY(index < kEntries);
        return directory()[index];
    }
    const DirectoryEntry& directory_entry(u32 index) const {
        VERIFY(index < kEntries);
        return directory()[index];
    }

    using Walk = PageWalk<DirectoryEntry, TableEntry>;

    // The MMU's walk in software, for the directory at physical `directory` (any address, any half; 4 MiB
    // pages included). The one walk: translate(), the monitor's `pt`, fault reports and the host tests all
    // read the tables through it. Static, so the monitor can walk a directory it does not own.
    static Walk walk(Ops& ops, u32 directory, u32 vaddr) {
        Walk w;
        w.directory_index = vaddr >> 22;
        w.table_index = (vaddr >> 12) & (kEntries - 1);
        w.pde = ops.directory(directory)[w.directory_index];
        if (!w.pde.is_present()) return w;
        if (w.pde.is_large()) {
            w.large = w.mapped = true;
            w.physical = w.pde.large_physical_address() | (vaddr & (kEntries * kPageSize - 1));
            return w;
        }
        w.pte = ops.table(w.pde.physical_address())[w.table_index];
        if (w.pte.is_present()) {
            w.mapped = true;
            w.physical = w.pte.physical_address() | (vaddr & (kPageSize - 1));
        }
        return w;
    }
    Walk walk(u32 vaddr) const { return walk(*m_ops, m_directory, vaddr); }

    // The physical address `vaddr` maps to (any address, any half; 4 MiB pages included).
    ErrorOr<u32> translate(u32 vaddr) const {
        Walk w = walk(vaddr);
        if (!w.mapped) return Error::NoEntry;
        return w.physical;
    }

    // Point a present mapping at another frame with new rights, in one step (copy-on-write's copy): the entry
    // is rewritten, the TLB entry invalidated, then the old frame released (in that order, as unmap()).
    // Error::NoEntry when `vaddr` is not mapped; or what Ops::frame_mapped reported (nothing changed).
    ErrorOr<void> replace(u32 vaddr, u32 paddr, Protection protection) {
        TRY(check_range(vaddr, 1));
        if (paddr % kPageSize != 0) return Error::Invalid;
        if (protection.user && vaddr >= kKernelBase) return Error::Invalid;
        if (protection.global && vaddr < kKernelBase) return Error::Invalid;
        TableEntry* entry = lookup(vaddr);
        if (!entry || !entry->is_present()) return Error::NoEntry;
        TRY(m_ops->frame_mapped(m_directory, vaddr, paddr));
        TableEntry old = *entry;
        *entry = make_entry(paddr, protection);
        m_ops->invalidate(m_directory, vaddr);
        release(vaddr, old);
        return {};
    }

    // Page replacement's edit: the present mapping at `vaddr` becomes a not-present entry holding `payload`
    // (31 bits, not 0: the swap slot the page was written to), its TLB entry is invalidated, then the frame is
    // released (in that order, as unmap()). The page table stays, since the entry is still in use. Returns
    // the old entry, so the caller sees its accessed and dirty bits. Error::NoEntry when `vaddr` is not mapped.
    ErrorOr<TableEntry> swap_out(u32 vaddr, u32 payload) {
        TRY(check_range(vaddr, 1));
        if (payload == 0 || payload >= (1u << 31)) return Error::Invalid;
        TableEntry* entry = lookup(vaddr);
        if (!entry || !entry->is_present()) return Error::NoEntry;
        TableEntry old = *entry;
        *entry = TableEntry::make_not_present(payload);
        m_ops->invalidate(m_directory, vaddr);
        release(vaddr, old);
        return old;
    }

    // Store `payload` (31 bits: a swap slot) in the not-present entry for `vaddr`, allocating its page table
    // if needed (fork copies such entries). The entry must be empty or already not present (Error::Exists if
    // a page is mapped there). Nothing to invalidate: not-present entries are never cached (SDM 4.10.2.3).
    ErrorOr<void> set_not_present(u32 vaddr, u32 payload) {
        if (payload == 0 || payload >= (1u << 31)) return Error::Invalid;
        TableEntry* entry = TRY(ensure_entry(vaddr));
        if (entry->is_present()) return Error::Exists;
        *entry = TableEntry::make_not_present(payload);
        return {};
    }

    // The entry for `vaddr`, or null when no page table covers it (or a 4 MiB page does). For callers
    // that read entries, or change their bits (accessed, dirty, a swap slot's payload) themselves; a caller
    // writing a present entry must call Ops::invalidate itself. Never make an entry name another frame, or
    // become present or not present, through it: map(), unmap() and replace() are the edit path that keeps
    // the frame table's reverse map exact (the Ops hooks above).
    TableEntry* lookup(u32 vaddr) {
        DirectoryEntry& pde = directory()[vaddr >> 22];
        if (!pde.is_present() || pde.is_large()) return nullptr;
        return &m_ops->table(pde.physical_address())[(vaddr >> 12) & (kEntries - 1)];
    }
    const TableEntry* lookup(u32 vaddr) const { return const_cast<PageTables*>(this)->lookup(vaddr); }

    // Like lookup(), but allocates the page table if it is missing (for installing a not-present entry with
    // a swap slot, or a demand-paged mapping). Same address checks as map().
    ErrorOr<TableEntry*> ensure_entry(u32 vaddr) {
        vaddr &= ~(kPageSize - 1);
        TRY(check_range(vaddr, 1));
        DirectoryEntry& pde = directory()[vaddr >> 22];
        if (pde.is_present() && pde.is_large()) return Error::Exists;
        if (!pde.is_present()) {
            VERIFY((vaddr >> 22) < kFirstKernelIndex);
            u32 table = TRY(m_ops->allocate_table());
            pde = make_directory_entry(table, vaddr >> 22);
        }
        return lookup(vaddr);
    }

    // Read and clear the accessed (dirty) bit of a present mapping; invalidates when the bit was set, so
    // the CPU sets it again on the next access (SDM 4.8). For the clock and NRU replacement policies.
    ErrorOr<bool> test_and_clear_accessed(u32 vaddr) {
        return test_and_clear(vaddr, &TableEntry::take_accessed);
    }
    ErrorOr<bool> test_and_clear_dirty(u32 vaddr) {
        return test_and_clear(vaddr, &TableEntry::take_dirty);
    }

    // Call `callback(u32 vaddr, TableEntry& entry)` for each present mapping in the range, in address
    // order; ranges without page tables are skipped 4 MiB at a time. for_each_entry also visits
    // not-present entries that hold a payload (swap slots), which fork must copy too.
    template <typename Callback>
    void for_each_mapping(u32 vaddr, u32 pages, Callback callback) {
        walk(vaddr, pages, [&](u32 address, DirectoryEntry&, TableEntry* entry) {
            if (entry && entry->is_present()) callback(address, *entry);
        });
    }
    template <typename Callback>
    void for_each_entry(u32 vaddr, u32 pages, Callback callback) {
        walk(vaddr, pages, [&](u32 address, DirectoryEntry&, TableEntry* entry) {
            if (entry && !entry->is_null()) callback(address, *entry);
        });
    }

    // Give every frame mapped in this space's own half and every page table it owns back to Ops, then the
    // directory. A user space never frees the shared kernel tables; destroying the kernel space (tests
    // only) frees all of its tables and releases all of its frames. Idempotent.
    void destroy() {
        if (m_directory == 0) return;
        u32 last = m_is_kernel ? kEntries : kFirstKernelIndex;
        for (u32 index = 0; index < last; ++index) {
            DirectoryEntry pde = directory()[index];
            if (!pde.is_present() || pde.is_large()) continue;
            TableEntry* table = m_ops->table(pde.physical_address());
            for (u32 slot = 0; slot < kEntries; ++slot)
                if (!table[slot].is_null()) release((index << 22) | (slot << 12), table[slot]);
            m_ops->free_table(pde.physical_address());
        }
        m_ops->free_table(std::exchange(m_directory, 0));
    }

    // How many present mappings (4 KiB) and page tables this space has in its own half. Walks the tables.
    u32 count_mappings() const {
        u32 count = 0;
        const_cast<PageTables*>(this)->for_each_mapping(0, own_pages(), [&](u32, TableEntry&) { ++count; });
        return count;
    }
    u32 count_tables() const {
        u32 count = 0;
        for (u32 index = 0; index < own_directory_entries(); ++index)
            if (directory()[index].is_present() && !directory()[index].is_large()) ++count;
        return count;
    }

    static Protection protection_of(const TableEntry& entry) {
        return {.writable = entry.is_writable(),
                .user = entry.is_user(),
                .write_through = entry.is_write_through(),
                .cache_disabled = entry.is_cache_disabled(),
                .global = entry.is_global(),
                .copy_on_write = (entry.available() & kAvailableCopyOnWrite) != 0};
    }

    // The PTE's available bit (bits 11:9, value 1 = bit 9) that carries Protection::copy_on_write.
    static constexpr u32 kAvailableCopyOnWrite = 1;

    // True if every invariant at the top of this file holds; otherwise describes the first broken one to
    // `sink` (when given) and returns false. Pass the kernel space to also check that a user space still
    // shares its kernel half.
    bool check_invariants(const PageTables* kernel = nullptr, FormatSink sink = nullptr,
                          void* context = nullptr) const {
        if (m_directory == 0) return invariant_violation(sink, context, "PageTables: destroyed");
        for (u32 index = 0; index < kEntries; ++index) {
            const DirectoryEntry& pde = directory()[index];
            bool kernel_half = index >= kFirstKernelIndex;
            if (kernel_half && m_is_kernel && !pde.is_present())
                return invariant_violation(sink, context, "PageTables: kernel PDE %u has no page table", index);
            if (kernel_half && !m_is_kernel && kernel && pde.raw() != kernel->directory()[index].raw())
                return invariant_violation(sink, context,
                                           "PageTables: PDE %u differs from the kernel's (%#x, kernel %#x)", index,
                                           pde.raw(), kernel->directory()[index].raw());
            if (!pde.is_present()) {
                if (!pde.is_null())
                    return invariant_violation(sink, context, "PageTables: not-present PDE %u holds %#x", index,
                                               pde.raw());
                continue;
            }
            if (pde.is_large()) {
                if (!kernel_half)
                    return invariant_violation(sink, context, "PageTables: 4 MiB page in the user half at PDE %u",
                                               index);
                continue;
            }
            if (!kernel_half && !(pde.is_writable() && pde.is_user()))
                return invariant_violation(sink, context, "PageTables: user-half PDE %u is not P RW US (%#x)", index,
                                           pde.raw());
            const TableEntry* table = m_ops->table(pde.physical_address());
            for (u32 slot = 0; slot < kEntries; ++slot) {
                if (!table[slot].is_present()) continue;
                u32 address = (index << 22) | (slot << 12);
                if (!kernel_half && table[slot].is_global())
                    return invariant_violation(sink, context, "PageTables: global page in the user half at %#x",
                                               address);
                if (kernel_half && table[slot].is_user())
                    return invariant_violation(sink, context, "PageTables: user page in the kernel half at %#x",
                                               address);
            }
        }
        return true;
    }

private:
    PageTables(Ops& ops, u32 directory, bool is_kernel) : m_ops(&ops), m_directory(directory), m_is_kernel(is_kernel) {}

    DirectoryEntry* directory() const { return m_ops->directory(m_directory); }
    u32 own_directory_entries() const { return m_is_kernel ? kEntries : kFirstKernelIndex; }
    u32 own_pages() const { return m_is_kernel ? kEntries * kEntries : kFirstKernelIndex * kEntries; }

    static DirectoryEntry make_directory_entry(u32 table, u32 index) {
        DirectoryEntry pde;
        pde.set_physical_address(table);
        pde.set_present(true);
        pde.set_writable(true);
        pde.set_user(index < kFirstKernelIndex);
        return pde;
    }
    static void apply(TableEntry& entry, Protection protection) {
        entry.set_writable(protection.writable);
        entry.set_user(protection.user);
        entry.set_write_through(protection.write_through);
        entry.set_cache_disabled(protection.cache_disabled);
        entry.set_global(protection.global);
        u32 available = entry.available() & ~kAvailableCopyOnWrite;
        entry.set_available(available | (protection.copy_on_write ? kAvailableCopyOnWrite : 0));
    }
    static TableEntry make_entry(u32 frame, Protection protection) {
        TableEntry entry;
        entry.set_physical_address(frame);
        entry.set_present(true);
        apply(entry, protection);
        return entry;
    }

    // Atomically (the entry may be live on another CPU, whose MMU sets A and D: PageTableEntry.h).
    ErrorOr<bool> test_and_clear(u32 vaddr, bool (TableEntry::*take)()) {
        TableEntry* entry = lookup(vaddr);
        if (!entry || !entry->is_present()) return Error::NoEntry;
        if (!(entry->*take)()) return false;
        m_ops->invalidate(m_directory, vaddr & ~(kPageSize - 1));
        return true;
    }

    // Page-aligned, non-empty, not wrapping, and inside this space's own half.
    ErrorOr<void> check_range(u32 vaddr, u32 pages) const {
        if (vaddr % kPageSize != 0 || pages == 0) return Error::Invalid;
        u64 end = u64(vaddr) + u64(pages) * kPageSize;
        if (end > (u64(1) << 32)) return Error::Invalid;
        if (!m_is_kernel && end > kKernelBase) return Error::Invalid;
        return {};
    }

    bool table_is_empty(u32 index) const {
        const TableEntry* table = m_ops->table(directory()[index].physical_address());
        for (u32 slot = 0; slot < kEntries; ++slot)
            if (!table[slot].is_null()) return false;
        return true;
    }

    // Not inlined: destroy() and unmap_range() scan up to 1024 entries per table and call this for the few in
    // use; inlined, the frame-table hook's registers would spill the scanning loop's.
    [[gnu::noinline]] void release(u32 vaddr, TableEntry old) {
        if (old.is_present()) {
            m_ops->release_frame(m_directory, vaddr, old.physical_address());
        } else if constexpr (requires { m_ops->release_not_present(vaddr, old); }) {
            m_ops->release_not_present(vaddr, old);
        }
    }

    // Visit each page of the range: `visit(address, pde, entry)`. Where no page table covers a 4 MiB
    // region (or a 4 MiB page does), `visit` is called once with a null entry for the part of the range in
    // that region, so a hole costs one directory read, not 1024 calls.
    template <typename Visit>
    void walk(u32 vaddr, u32 pages, Visit visit) {
        u64 address = vaddr;
        u64 end = u64(vaddr) + u64(pages) * kPageSize;
        if (end > (u64(1) << 32)) end = u64(1) << 32;
        while (address < end) {
            u32 index = u32(address >> 22);
            DirectoryEntry& pde = directory()[index];
            u64 table_end = (u64(index) + 1) << 22;
            u64 stop = table_end < end ? table_end : end;
            if (!pde.is_present() || pde.is_large()) {
                visit(u32(address), pde, nullptr);
                address = stop;
                continue;
            }
            TableEntry* table = m_ops->table(pde.physical_address());
            for (; address < stop; address += kPageSize)
                visit(u32(address), pde, &table[(address >> 12) & (kEntries - 1)]);
        }
    }

    Ops* m_ops;
    u32 m_directory = 0;  // physical address of the page directory; 0 once destroyed or moved from
    bool m_is_kernel = false;
};
