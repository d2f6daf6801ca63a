// SwapArea.h: the swap space: page-sized slots on a block device, and which of them are in use.
//
// The disk is cut into 4 KiB slots of 8 sectors each (slot N is sectors 8N .. 8N+7); slot 0 holds a header
// naming the area ("MNEMESWAP", the slot count), as the first page of a Linux swap partition holds its
// signature, so a slot number 0 can mean "no slot" in a page-table entry. mm/swap/SwapSlotMap counts the
// references to each slot (a swapped-out page shared by a parent and its forked child is in one slot, named
// by two entries) and retires the slots whose I/O failed.
//
// Reads and writes go through kernel/dev/BlockDevice, never ports. A failed write marks the slot bad (it is
// retired when its last reference goes) and says so in words: the caller (kernel/swap/Swapper.cpp) tries
// another slot. A failed read is a lost page: the slot is marked bad and the caller kills the process whose
// page it was. The sentence of the last failure (which slot, which sectors, what the drive said) is kept for
// the message.
//
// Synchronous: a request returns when the disk is done (the ATA driver polls, kernel/dev/AtaDisk.h). The
// kernel is not preemptible and has one CPU, so nothing else runs while a page is in transfer, and no frame
// is ever chosen as a victim while the disk is reading or writing it.
#pragma once

#include "kernel/dev/BlockDevice.h"
#include "libc/base/Error.h"
#include "libc/base/Types.h"
#include "mm/swap/SwapSlotMap.h"

namespace swap_area {

constexpr u32 kSectorsPerSlot = 8;  // 4 KiB pages on 512-byte sectors

// Takes `disk` as swap space (every slot it holds but the header); writes the header. Error::Invalid when the
// disk is too small to hold one slot, NoMemory when the slot map does not fit, IO when the header cannot be
// written. A sentence for the boot line on failure: last_error().
ErrorOr<void> initialize(BlockDevice& disk);
bool ready();

// A free slot with one reference. Error::NoSpace when every slot is in use or bad.
ErrorOr<u32> allocate();
// One more page-table entry names `slot` (fork). Error::OutOfRange at SwapSlotMap::kMaxReferences.
ErrorOr<void> add_reference(u32 slot);
// One reference goes; the slot is free (or retired, if bad) after the last. Returns the references left.
u32 release(u32 slot);
u32 references(u32 slot);

// The page in `page` (4 KiB) to the slot, or the slot into `page`. Error::IO when the disk failed: the slot is
// marked bad, and last_error() says what happened.
ErrorOr<void> write(u32 slot, const void* page);
ErrorOr<void> read(u32 slot, void* page);

const SwapSlotMap& slots();
BlockDevice& device();
const char* last_error();
// "ide0: 16383 slots (63 MiB), 12 in use, 0 bad" and the slot map's own dump, for the monitor.
void print_summary();

}  // namespace swap_area
