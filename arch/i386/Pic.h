// Pic.h: the two cascaded 8259A programmable interrupt controllers of the PC.
//
// The BIOS leaves IRQ 0-7 on vectors 8-15, on top of the CPU's exceptions; initialize() remaps them to
// 32-47 (8259A datasheet, ICW1-ICW4) and masks every line until a driver unmasks its own.
#pragma once

#include "libc/base/Types.h"

namespace pic {

constexpr u8 kIrqTimer = 0;
constexpr u8 kIrqKeyboard = 1;
constexpr u8 kIrqCascade = 2;
constexpr u8 kIrqCom1 = 4;
constexpr u8 kIrqPrimaryAta = 14;
constexpr u8 kIrqSecondaryAta = 15;

void initialize(u8 vector_base);
void unmask(u8 irq);
void mask(u8 irq);
void end_of_interrupt(u8 irq);
// IRQ 7 and 15 fire spuriously when a line drops before the CPU acknowledges it; the in-service register
// tells (OSDev "8259 PIC", spurious IRQs). Handles the cascade EOI itself.
bool is_spurious(u8 irq);
const char* irq_name(u8 irq);
u16 masked_lines();

}  // namespace pic
