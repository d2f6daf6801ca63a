# mneme.py: gdb helpers for Mneme, loaded by `make debug` (and by hand: `source tools/gdb/mneme.py`).
#
# Modelled on Linux's scripts/gdb: each helper is a gdb.Command subclass that reads the machine's state
# through gdb (registers, memory, QEMU's `monitor` commands) and decodes it the way the kernel's own monitor
# does, so a student can compare the two.
#
#   mneme-gdt        the live GDT: base, limit, type, DPL per entry (GDTR from QEMU's `info registers`)
#   mneme-pt ADDR    the page-table walk for a virtual address under the current CR3
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


class MnemeHelp(gdb.Command):
    """List Mneme's gdb helpers."""

    def __init__(self):
        super().__init__("mneme-help", gdb.COMMAND_SUPPORT)

    def invoke(self, argument, from_tty):
        print("Mneme gdb helpers:")
        for name, command in sorted(HELPERS.items()):
            print("  %-14s %s" % (name, (command.__doc__ or "").strip().splitlines()[0]))


HELPERS = {"mneme-gdt": MnemeGdt(), "mneme-pt": MnemePt(), "mneme-help": MnemeHelp()}
print("mneme: gdb helpers loaded (%s); type mneme-help" % ", ".join(sorted(HELPERS)))
