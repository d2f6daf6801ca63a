// FaultDecision.cpp: see FaultDecision.h (the table there is the specification).
#include "mm/vm/FaultDecision.h"

#include "mm/vm/UserLayout.h"

const char* fault_result_name(FaultResult result) {
    switch (result) {
    case FaultResult::Resolved: return "resolved";
    case FaultResult::NotInRegion: return "no memory is mapped there";
    case FaultResult::StackOverflow: return "stack overflow (the stack is limited to 8 MiB)";
    case FaultResult::ProtectionFault: return "access not allowed by the page's protection";
    case FaultResult::OutOfMemory: return "out of memory: no free frame for the page";
    case FaultResult::SwapInFailed: return "the page was swapped out and could not be read back from the disk";
    }
    return "?";
}

namespace {
constexpr FaultDecision kill(FaultResult reason) { return {FaultAction::Kill, reason}; }
constexpr FaultDecision act(FaultAction action) { return {action, FaultResult::Resolved}; }
}  // namespace

FaultDecision decide_fault(const MemoryRegion* region, u32 address, bool write, bool fault_on_present,
                           const PageState& page) {
    using namespace user_layout;
    if (address >= kKernelBase) return kill(FaultResult::ProtectionFault);
    if (!region) {
        if (address < kStackBottom && address >= kStackBottom - kStackOverflowReach)
            return kill(FaultResult::StackOverflow);
        return kill(FaultResult::NotInRegion);
    }
    if (!region->accessible) return kill(FaultResult::ProtectionFault);  // PROT_NONE
    if (!fault_on_present) {
        if (page.present) return act(FaultAction::Retry);
        if (write && !region->writable) return kill(FaultResult::ProtectionFault);
        return act(page.swap_slot != 0 ? FaultAction::SwapIn : FaultAction::MapZeroed);
    }
    if (!write || !region->writable || !page.present || !page.copy_on_write) return kill(FaultResult::ProtectionFault);
    return act(page.shared ? FaultAction::CopyPage : FaultAction::MakeWritable);
}
