# mneme.py: gdb helpers for Mneme, loaded by `make debug` (and by hand: `source tools/gdb/mneme.py`).
#
# Modelled on Linux's scripts/gdb: each helper is a gdb.Command subclass that reads the machine's state
# through gdb (registers, memory, QEMU's `monitor` commands) and decodes it the way the kernel's own monitor
# does, so a student can compare the two.
#
#   mneme-gdt        the live GDT: base, limit, type, DPL per entry (GDTR from QEMU's `info registers`)
#   mneme-pt ADDR    the page-table walk for a virtual address under the current CR3
#   mneme-trap       the trap frame of the selected `trap_common` frame (or the innermost one), decoded
#   mneme-ldt [PID]  an LDT decoded: the loaded one, or process PID's      (mneme_segments.py)
#   mneme-translate SELECTOR:OFFSET   logical -> linear -> physical, step by step (mneme_segments.py)
#   mneme-help       this list
#
# It also teaches gdb to unwind through the interrupt stubs (TrapFrameUnwinder below), so `bt` in a handler
# runs on past trap_common into the code the interrupt or exception stopped, kernel or user.
import os
import re

import gdb
import gdb.unwinder
from gdb.FrameDecorator import FrameDecorator


def read_u32(address):
    data = gdb.selected_inferior().read_memory(address, 4)
    return int.from_bytes(bytes(data), "little")


def qemu_register_line(name):
    """Returns the fields of QEMU's `info registers` line for a descriptor-table register (GDT, IDT)."""
    text = gdb.execute("monitor info registers", to_string=True)
    match = re.search(r"^%s=\s*([0-9a-f]+)\s+([0-9a-f]+)" % name, text, re.MULTILINE)
    if not match:
        raise gdb.GdbError("QEMU did not report %s (is this gdb attached to QEMU?)" % name)
    return int(match.group(1), 16), int(match.group(2), 16)


CODE_DATA_TYPES = ["data R", "data RW", "data R expand-down", "data RW expand-down",
                   "code X", "code RX", "code X conforming", "code RX conforming"]
SYSTEM_TYPES = {0x1: "TSS (16-bit, available)", 0x2: "LDT", 0x3: "TSS (16-bit, busy)", 0x5: "task gate",
                0x9: "TSS (32-bit, available)", 0xB: "TSS (32-bit, busy)", 0xC: "call gate (32-bit)",
                0xE: "interrupt gate (32-bit)", 0xF: "trap gate (32-bit)"}


def decode_descriptor(low, high):
    """Decodes a segment descriptor (Intel SDM Vol. 3A 3.4.5) like SegmentDescriptor::type_name()."""
    if low == 0 and high == 0:
        return None
    base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000)
    limit = (low & 0xFFFF) | (high & 0x000F0000)
    granular = bool(high & (1 << 23))
    if granular:
        limit = (limit << 12) | 0xFFF
    type_bits = (high >> 8) & 0xF
    code_or_data = bool(high & (1 << 12))
    name = CODE_DATA_TYPES[(type_bits >> 1) & 7] if code_or_data else SYSTEM_TYPES.get(type_bits, "reserved")
    dpl = (high >> 13) & 3
    present = bool(high & (1 << 15))
    return base, limit, name, dpl, present


class MnemeGdt(gdb.Command):
    """Print the live GDT decoded: base, limit, type and DPL of each entry."""

    def __init__(self):
        super().__init__("mneme-gdt", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        base, limit = qemu_register_line("GDT")
        entries = (limit + 1) // 8
        print("GDTR: base 0x%08x, limit 0x%04x (%d entries)" % (base, limit, entries))
        print("   #  sel   base        limit       type                      DPL")
        for index in range(entries):
            low = read_u32(base + index * 8)
            high = read_u32(base + index * 8 + 4)
            decoded = decode_descriptor(low, high)
            if decoded is None:
                if index == 0:
                    print("  %2d  0x%02x  null" % (index, index * 8))
                continue
            d_base, d_limit, name, dpl, present = decoded
            print("  %2d  0x%02x  0x%08x  0x%08x  %-24s  %d%s" % (
                index, index * 8, d_base, d_limit, name, dpl, "" if present else "  (not present)"))


KERNEL_BASE = 0xC0000000
DIRECT_MAP_LIMIT = 0xFC000000 - KERNEL_BASE


def read_physical_u32(physical):
    """Reads physical memory through the kernel's direct map (physical p is at 0xC0000000 + p)."""
    if physical >= DIRECT_MAP_LIMIT:
        raise gdb.GdbError("physical 0x%x lies beyond the direct map" % physical)
    return read_u32(KERNEL_BASE + physical)


def describe_entry(raw, bit7):
    """Spells the set bits like PageTableEntry::describe() (Intel SDM Vol. 3A Tables 4-4 to 4-6)."""
    if not raw & 1:
        return "-" if raw == 0 else "not present, payload 0x%x" % (raw >> 1)
    names = [(0, "P"), (1, "RW"), (2, "US"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D"), (7, bit7), (8, "G")]
    text = " ".join(name for bit, name in names if raw & (1 << bit))
    if raw & 0xE00:
        text += " AVL=%d" % ((raw >> 9) & 7)
    return text


class MnemePt(gdb.Command):
    """Walk the page tables for a virtual address: CR3 -> PDE -> PTE -> frame, bits decoded."""

    def __init__(self):
        super().__init__("mneme-pt", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        if not argument:
            raise gdb.GdbError("usage: mneme-pt VIRTUAL-ADDRESS")
        address = int(gdb.parse_and_eval(argument)) & 0xFFFFFFFF
        cr3 = int(gdb.parse_and_eval("$cr3")) & 0xFFFFF000
        directory_index, table_index, offset = address >> 22, (address >> 12) & 0x3FF, address & 0xFFF
        print("virtual 0x%08x: directory index %d, table index %d, offset 0x%03x" %
              (address, directory_index, table_index, offset))
        pde = read_physical_u32(cr3 + directory_index * 4)
        print("CR3 0x%08x  PDE[%4d] = 0x%08x  %s" % (cr3, directory_index, pde, describe_entry(pde, "PS")))
        if not pde & 1:
            print("-> not present: an access page-faults")
            return
        if pde & 0x80:
            print("-> 4 MiB page: physical 0x%08x" % ((pde & 0xFFC00000) + (address & 0x3FFFFF)))
            return
        pte = read_physical_u32((pde & 0xFFFFF000) + table_index * 4)
        print("table 0x%08x  PTE[%4d] = 0x%08x  %s" % (pde & 0xFFFFF000, table_index, pte, describe_entry(pte, "PAT")))
        if not pte & 1:
            print("-> not present: an access page-faults")
            return
        print("-> physical 0x%08x" % ((pte & 0xFFFFF000) + offset))


# -- Unwinding through an interrupt ---------------------------------------------------------------------
# arch/i386/Isr.asm: a stub pushes an error code (or 0) and the vector, trap_common pushes the segment and
# general registers (PUSHAD), then `push esp; call trap_dispatch`. Below trap_dispatch's frame there is
# no ordinary call frame: the interrupted code's registers are in the TrapFrame (arch/i386/TrapFrame.h).
# gdb has no CFI for the assembly, guesses, and stops with "previous frame inner to this frame (corrupt
# stack?)". This unwinder recognises trap_common's frame by its pc (the return address of that call, the
# `add esp, 4` just before trap_return) and gives gdb the interrupted registers from the TrapFrame.

TRAP_FRAME_FIELDS = ["gs", "fs", "es", "ds", "edi", "esi", "ebp", "esp_at_pushad", "ebx", "edx", "ecx", "eax",
                     "vector", "error_code", "eip", "cs", "eflags", "user_esp", "user_ss"]
VECTOR_NAMES = {0: "#DE divide error", 1: "#DB debug", 3: "#BP breakpoint", 6: "#UD invalid opcode",
                7: "#NM no FPU", 8: "#DF double fault", 10: "#TS invalid TSS", 11: "#NP segment not present",
                12: "#SS stack fault", 13: "#GP general protection", 14: "#PF page fault", 0x20: "IRQ 0 timer",
                0x21: "IRQ 1 keyboard", 0x24: "IRQ 4 COM1", 0x2E: "IRQ 14 IDE", 0x80: "system call"}


def code_address(name):
    """The address of a text symbol, with or without debug information; None when gdb has no such symbol."""
    try:
        return int(gdb.parse_and_eval("(unsigned int)&%s" % name))
    except gdb.error:
        return None


def trap_dispatch_return():
    """The return address of trap_common's `call trap_dispatch`: trap_return - 3 (`add esp, 4`)."""
    trap_return = code_address("trap_return")
    if trap_return is None:
        return None
    try:
        if bytes(gdb.selected_inferior().read_memory(trap_return - 3, 3)) != b"\x83\xc4\x04":
            return None  # Isr.asm changed: no `add esp, 4` right before trap_return
    except gdb.MemoryError:
        return None  # not mapped yet (the CPU is still in the BIOS, paging off): ask again later
    return trap_return - 3


def read_trap_frame(address):
    frame = {name: read_u32(address + 4 * i) for i, name in enumerate(TRAP_FRAME_FIELDS)}
    frame["address"] = address
    frame["from_user"] = (frame["cs"] & 3) == 3
    # A ring-0 trap pushes no ESP/SS: the interrupted stack pointer is where user_esp would be.
    frame["interrupted_esp"] = frame["user_esp"] if frame["from_user"] else address + 4 * 17
    return frame


def describe_trap_frame(frame):
    vector = frame["vector"]
    name = VECTOR_NAMES.get(vector, "IRQ %d" % (vector - 0x20) if 0x20 <= vector < 0x30 else "exception")
    return "vector %d (%s), error code 0x%x, interrupted %s code at 0x%08x" % (
        vector, name, frame["error_code"], "user" if frame["from_user"] else "kernel", frame["eip"])


class TrapFrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class TrapFrameUnwinder(gdb.unwinder.Unwinder):
    """trap_common's frame: the caller's registers come from the TrapFrame it built."""

    def __init__(self):
        super().__init__("mneme-trap-frame")
        self.return_address = None

    def __call__(self, pending_frame):
        pc_value = pending_frame.read_register("eip")
        pc = int(pc_value) & 0xFFFFFFFF
        if self.return_address is None:
            self.return_address = trap_dispatch_return()
            if self.return_address is None:
                return None
        if pc not in (self.return_address, self.return_address + 3):
            return None
        sp_value = pending_frame.read_register("esp")
        sp = int(sp_value) & 0xFFFFFFFF
        # Before `add esp, 4` the stack holds trap_dispatch's argument, the TrapFrame's address; after it
        # (at trap_return) ESP is the TrapFrame itself.
        address = read_u32(sp) if pc == self.return_address else sp
        frame = read_trap_frame(address)
        trap_common = gdb.Value(code_address("trap_common")).cast(pc_value.type)
        info = pending_frame.create_unwind_info(TrapFrameId(sp_value, trap_common))
        int_type = pending_frame.read_register("eax").type
        for register in ["eax", "ecx", "edx", "ebx", "esi", "edi", "ebp", "eflags"]:
            info.add_saved_register(register, gdb.Value(frame[register]).cast(int_type))
        info.add_saved_register("eip", gdb.Value(frame["eip"]).cast(pc_value.type))
        info.add_saved_register("esp", gdb.Value(frame["interrupted_esp"]).cast(sp_value.type))
        for register in ["cs", "ds", "es", "fs", "gs"]:
            info.add_saved_register(register, gdb.Value(frame[register] & 0xFFFF).cast(int_type))
        info.add_saved_register("ss", gdb.Value((frame["user_ss"] if frame["from_user"] else 0x10) & 0xFFFF)
                                .cast(int_type))
        return info


class TrapFrameDecorator(FrameDecorator):
    """Names trap_common's frame after the trap: `trap_common [trap frame 0x...: vector 14 (#PF ...)...]`."""

    def __init__(self, base, trap_frame):
        super().__init__(base)
        self.trap_frame = trap_frame

    def function(self):
        return "trap_common [trap frame at 0x%08x: %s]" % (self.trap_frame["address"],
                                                          describe_trap_frame(self.trap_frame))


def trap_frame_of(frame):
    """The TrapFrame a trap_common frame unwinds through, or None for any other frame."""
    return_address = trap_dispatch_return()
    if return_address is None or frame.pc() not in (return_address, return_address + 3):
        return None
    sp = int(frame.read_register("esp")) & 0xFFFFFFFF
    return read_trap_frame(read_u32(sp) if frame.pc() == return_address else sp)


class NamedFrameDecorator(FrameDecorator):
    """Any other frame, as gdb prints it without a filter: a frame gdb cannot name reads `??`, not blank."""

    def function(self):
        name = super().function()
        if isinstance(name, int):
            return self.inferior_frame().name() or "??"
        return name


class TrapFrameFilter:
    def __init__(self):
        self.name = "mneme-trap-frame"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        for decorator in frames:
            trap_frame = trap_frame_of(decorator.inferior_frame())
            yield TrapFrameDecorator(decorator, trap_frame) if trap_frame else NamedFrameDecorator(decorator)


class MnemeTrap(gdb.Command):
    """Print the trap frame of the selected trap_common frame (or of the innermost one in the backtrace)."""

    def __init__(self):
        super().__init__("mneme-trap", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        frame = gdb.selected_frame()
        while frame is not None and trap_frame_of(frame) is None:
            frame = frame.older()
        if frame is None:
            raise gdb.GdbError("no trap_common frame in this backtrace: not inside an interrupt or exception")
        trap_frame = trap_frame_of(frame)
        print("trap frame at 0x%08x: %s" % (trap_frame["address"], describe_trap_frame(trap_frame)))
        for row in (["eax", "ebx", "ecx", "edx"], ["esi", "edi", "ebp"], ["eip", "cs", "eflags"], ["ds", "es", "fs", "gs"]):
            print("  " + "  ".join("%-6s 0x%08x" % (name, trap_frame[name]) for name in row))
        print("  esp    0x%08x%s" % (trap_frame["interrupted_esp"], "  ss 0x%04x" % trap_frame["user_ss"]
                                      if trap_frame["from_user"] else "  (ring 0: the stack just above the frame)"))


gdb.unwinder.register_unwinder(None, TrapFrameUnwinder(), replace=True)
TrapFrameFilter()


class MnemeHelp(gdb.Command):
    """List Mneme's gdb helpers."""

    def __init__(self):
        super().__init__("mneme-help", gdb.COMMAND_SUPPORT)

    def invoke(self, argument, from_tty):
        print("Mneme gdb helpers:")
        for name, command in sorted(HELPERS.items()):
            print("  %-16s %s" % (name, (command.__doc__ or "").strip().splitlines()[0]))


HELPERS = {"mneme-gdt": MnemeGdt(), "mneme-pt": MnemePt(), "mneme-trap": MnemeTrap(), "mneme-help": MnemeHelp()}
# The segmentation helpers live in their own file but share this one's functions: run it in this namespace.
# `source tools/gdb/mneme.py` sets __file__; tools/debug.sh's auto-load script sets it before exec.
_segments = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mneme_segments.py")
exec(compile(open(_segments).read(), _segments, "exec"))
print("mneme: gdb helpers loaded (%s) and the trap-frame unwinder; type mneme-help" % ", ".join(sorted(HELPERS)))
