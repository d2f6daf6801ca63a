# mneme.py: gdb helpers for Mneme, loaded by `make debug` (and by hand: `source tools/gdb/mneme.py`).
#
# Modelled on Linux's scripts/gdb: each helper is a gdb.Command subclass that reads the machine's state
# through gdb (registers, memory, QEMU's `monitor` commands) and decodes it the way the kernel's own monitor
# does, so a student can compare the two.
#
#   mneme-gdt        the live GDT: base, limit, type, DPL per entry (GDTR from QEMU's `info registers`)
#   mneme-help       this list
import re

import gdb


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


class MnemeHelp(gdb.Command):
    """List Mneme's gdb helpers."""

    def __init__(self):
        super().__init__("mneme-help", gdb.COMMAND_SUPPORT)

    def invoke(self, argument, from_tty):
        print("Mneme gdb helpers:")
        for name, command in sorted(HELPERS.items()):
            print("  %-14s %s" % (name, (command.__doc__ or "").strip().splitlines()[0]))


HELPERS = {"mneme-gdt": MnemeGdt(), "mneme-help": MnemeHelp()}
print("mneme: gdb helpers loaded (%s); type mneme-help" % ", ".join(sorted(HELPERS)))
