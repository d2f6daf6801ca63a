// FaultDecision.h: what a page fault in user space means, decided from the region and the page's state.
//
// The decision is pure: it reads the region that covers the address (or its absence), the kind of access and
// what the page-table entry holds, and says what to do. mm/vm/AddressSpace.h carries the decision out, and
// the host tests call decide_fault() directly for every case of the table below.
//
//   the kernel half                             -> Kill: ProtectionFault
//   no region covers it                         -> Kill: NotInRegion (or StackOverflow just below the stack)
//   the CPU found the page not present, and
//     it is present now                         -> Retry (another path mapped it meanwhile)
//     a write to a read-only region             -> Kill: ProtectionFault
//     its entry holds a swap slot               -> SwapIn (a major fault: read the page back from the disk)
//     otherwise                                 -> MapZeroed (demand-zero paging)
//   the CPU found the page present (a protection violation), and
//     a write, writable region, the page is marked copy-on-write:
//       its frame still shared                  -> CopyPage (copy it, map the copy writable)
//       its frame no longer shared              -> MakeWritable (the last user keeps it, no copy)
//     anything else                             -> Kill: ProtectionFault
//
// `fault_on_present` is the P bit of the page-fault error code (SDM Vol. 3A 4.7, Figure 4-12): the CPU's
// view when it faulted, which `page` (read from the entry afterwards) may no longer match.
#pragma once

#include "libc/base/Types.h"
#include "mm/vm/RegionMap.h"

// Why a fault could not be resolved, or Resolved.
enum class FaultResult {
    Resolved,         // a page was mapped (demand-zero) or copied (copy-on-write): retry the instruction
    NotInRegion,      // no region covers the address: a wild pointer
    StackOverflow,    // just below the stack's 8 MiB limit
    ProtectionFault,  // the region or page forbids the access (write to code, user access to the kernel)
    OutOfMemory,      // no frame for the page (and none could be freed by swapping one out)
    SwapInFailed,     // the page was swapped out and the disk could not read it back: its data is lost
};
const char* fault_result_name(FaultResult result);

enum class FaultAction { MapZeroed, SwapIn, CopyPage, MakeWritable, Retry, Kill };

// What the page-table entry for the faulting page holds.
struct PageState {
    bool present = false;
    bool copy_on_write = false;
    bool shared = false;  // the frame has more than one user (its reference count is above 1)
    u32 frame = 0;        // the physical address of the mapped frame (when present)
    u32 swap_slot = 0;    // not present: the swap slot its entry holds (0: none, the page was never touched)
};

struct FaultDecision {
    FaultAction action;
    FaultResult reason;  // for Kill; Resolved otherwise
};

FaultDecision decide_fault(const MemoryRegion* region, u32 address, bool write, bool fault_on_present,
                           const PageState& page);
