# mneme_segments.py: gdb helpers for segmentation, run by mneme.py in its own namespace (so read_u32,
# qemu_register_line, read_physical_u32 and describe_entry are mneme.py's), never on its own.
#
#   mneme-ldt [PID]                      an LDT decoded: the loaded one (LDTR), or process PID's
#   mneme-translate SEL:OFFSET [ACCESS]  selector:offset -> linear -> physical, step by step, and where it faults
#
# The processes of the older memory models (base-bounds, segments: kernel/memmodel/SegmentedMemory.h) run on
# their own LDT, CS 0x0f and DS = ES = SS 0x17; paged processes run on the GDT's flat segments (base 0). These
# helpers read what the CPU reads: the descriptor tables in memory, the hidden parts of the segment registers
# and of LDTR (QEMU's `info registers`), and the page tables of the live CR3.

SEGMENT_REGISTERS = ["es", "cs", "ss", "ds", "fs", "gs"]
# MemoryModelKind's enumerators as the kernel names the models (memory_model_name).
MODEL_NAMES = {"Paging": "paging", "Static": "static", "BaseBounds": "base-bounds", "Segments": "segments"}
ACCESS_NAMES = {"read": "a read", "write": "a write", "exec": "an instruction fetch"}


def qemu_hidden_registers():
    """The visible selector and the hidden base, limit and flags of every segment register, LDTR and TR, as
    QEMU's `info registers` prints them ("DS =0017 10000000 00017fff 0041f300 ..."). The CPU translates with
    these cached copies, loaded from the table when the selector was loaded (SDM Vol. 3A 3.4.3)."""
    text = gdb.execute("monitor info registers", to_string=True)
    hidden = {}
    for match in re.finditer(r"^(ES|CS|SS|DS|FS|GS|LDT|TR)\s*=([0-9a-f]{4}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})",
                             text, re.MULTILINE):
        selector, base, limit, flags = (int(match.group(i), 16) for i in range(2, 6))
        hidden[match.group(1).lower()] = {"selector": selector, "base": base, "limit": limit, "flags": flags}
    if "ldt" not in hidden:
        raise gdb.GdbError("QEMU did not report LDTR (is this gdb attached to QEMU?)")
    return hidden


def describe_selector(selector):
    """A segment selector's three fields (SDM Vol. 3A 3.4.2, Figure 3-6): index (bits 15:3), TI (bit 2: 0 the
    GDT, 1 the LDT), RPL (bits 1:0)."""
    return "index %d, TI=%d (%s), RPL %d" % (selector >> 3, (selector >> 2) & 1,
                                            "LDT" if selector & 4 else "GDT", selector & 3)


class Descriptor:
    """One 8-byte segment descriptor, every field decoded (SDM Vol. 3A 3.4.5, Figure 3-8; types Table 3-1)."""

    def __init__(self, low, high):
        self.low, self.high = low, high
        self.base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000)
        self.raw_limit = (low & 0xFFFF) | (high & 0x000F0000)
        self.granular = bool(high & (1 << 23))
        # G=1: the 20-bit field counts 4 KiB units, and the low 12 bits of the byte limit read as ones, so the
        # limit is still the last valid offset (SDM 3.4.5 "Segment limit field", "G flag").
        self.limit = (self.raw_limit << 12) | 0xFFF if self.granular else self.raw_limit
        self.type = (high >> 8) & 0xF
        self.code_or_data = bool(high & (1 << 12))  # S
        self.dpl = (high >> 13) & 3
        self.present = bool(high & (1 << 15))
        self.big = bool(high & (1 << 22))  # D/B
        self.is_null = low == 0 and high == 0
        self.code = self.code_or_data and bool(self.type & 8)
        self.data = self.code_or_data and not self.code
        self.expand_down = self.data and bool(self.type & 4)
        self.conforming = self.code and bool(self.type & 4)
        self.readable = self.data or (self.code and bool(self.type & 2))
        self.writable = self.data and bool(self.type & 2)
        self.accessed = self.code_or_data and bool(self.type & 1)

    def valid_range(self):
        """The offsets inside the segment (SDM Vol. 3A 5.3): 0..limit, or for an expand-down data segment
        limit+1..top, where top is 0xFFFFFFFF with B=1 and 0xFFFF with B=0 (the segment grows down from top)."""
        if self.expand_down:
            return self.limit + 1, 0xFFFFFFFF if self.big else 0xFFFF
        return 0, self.limit

    def type_text(self):
        if not self.code_or_data:
            return "system: %s" % SYSTEM_TYPES.get(self.type, "reserved")
        if self.code:
            rights = "execute/read" if self.readable else "execute-only"
            kind = "conforming" if self.conforming else "non-conforming"
        else:
            rights = "read/write" if self.writable else "read-only"
            kind = "expand-down" if self.expand_down else "expand-up"
        return "%s: %s, %s, %s" % ("code" if self.code else "data", rights, kind,
                                   "accessed" if self.accessed else "not accessed")

    def limit_text(self):
        first, last = self.valid_range()
        unit = "G=1: 4 KiB units, low 12 bits ones" if self.granular else "G=0: bytes"
        return "limit field 0x%05x (%s): offsets 0x%x..0x%x valid (%s)" % (
            self.raw_limit, unit, first, last, size_text(last - first + 1))

    def flags_text(self):
        if self.code_or_data:
            db = ("D=%d (%s-bit code)" % (self.big, 32 if self.big else 16) if self.code else
                  "B=%d (%s-bit stack, top 0x%x)" % (self.big, 32 if self.big else 16, 0xFFFFFFFF if self.big else 0xFFFF))
        else:
            db = "D/B=%d" % self.big
        return "DPL %d, %s, %s" % (self.dpl, "present" if self.present else "NOT present (P=0)", db)

    def print_lines(self, indent):
        print("%sdescriptor 0x%08x 0x%08x (low, high dword)" % (indent, self.low, self.high))
        print("%sbase 0x%08x, %s" % (indent, self.base, self.limit_text()))
        print("%s%s; %s" % (indent, self.type_text(), self.flags_text()))


def size_text(count):
    if count >= 1 << 20 and count % (1 << 20) == 0:
        return "%d MiB" % (count >> 20)
    if count >= 1024 and count % 1024 == 0:
        return "%d KiB" % (count >> 10)
    return "%d bytes" % count


def read_descriptor(address):
    return Descriptor(read_u32(address), read_u32(address + 4))


def print_table(base, entries, ti):
    """Every descriptor of a table at linear `base`, each with the selector that names it (RPL 3, as a
    process loads it, for an LDT; RPL 0 for the GDT)."""
    for index in range(entries):
        descriptor = read_descriptor(base + 8 * index)
        selector = (index << 3) | (4 | 3 if ti else 0)
        print("  entry %d  selector 0x%02x (%s)" % (index, selector, describe_selector(selector)))
        if descriptor.is_null:
            print("      null%s" % (": an LDT's entry 0 is an ordinary slot, but Mneme leaves it empty" if ti else ""))
            continue
        descriptor.print_lines("      ")


def print_ldtr(hidden):
    """LDTR: its selector names an LDT descriptor in the GDT (SDM Vol. 3A 3.5.1); LLDT copied that descriptor's
    base and limit into LDTR's hidden part, which is what the CPU uses."""
    ldtr = hidden["ldt"]
    if ldtr["selector"] & 0xFFFC == 0:
        print("LDTR: null (selector 0x%04x): no LDT is loaded; a selector with TI=1 raises #GP" % ldtr["selector"])
        return False
    gdt_base, gdt_limit = qemu_register_line("GDT")
    index = ldtr["selector"] >> 3
    print("LDTR: selector 0x%04x (%s); hidden part: base 0x%08x, limit 0x%04x (%d descriptors)" % (
        ldtr["selector"], describe_selector(ldtr["selector"]), ldtr["base"], ldtr["limit"], (ldtr["limit"] + 1) // 8))
    if index * 8 + 7 > gdt_limit:
        print("  its GDT slot %d lies beyond the GDT's limit 0x%x" % (index, gdt_limit))
        return True
    print("  GDT entry %d at 0x%08x, the LDT's own descriptor:" % (index, gdt_base + 8 * index))
    descriptor = read_descriptor(gdt_base + 8 * index)
    descriptor.print_lines("      ")
    if descriptor.base != ldtr["base"] or descriptor.limit != ldtr["limit"]:
        print("      (differs from LDTR's hidden part: the slot was rewritten after LLDT; the CPU uses the hidden part)")
    return True


def process_table():
    """The live processes: (pid, name, memory value with its dynamic type) from kernel/proc/Process.cpp's table."""
    try:
        table = gdb.parse_and_eval("'process::(anonymous namespace)::g_table'")
    except gdb.error:
        raise gdb.GdbError("no symbol for the process table (process::g_table): load build/kernel.elf first")
    low, high = table.type.range()
    for i in range(low, high + 1):
        process = table[i]
        if int(process) == 0:
            continue
        memory = process["memory"]
        if int(memory) != 0:
            memory = memory.cast(memory.dynamic_type)  # MemoryModel* -> SegmentedMemory* or PagedMemory*
        yield int(process["pid"]), process["name"].string(), memory


class MnemeLdt(gdb.Command):
    """Decode an LDT: the loaded one (LDTR), or process PID's: base, limit, type, DPL, present, D/B per entry."""

    def __init__(self):
        super().__init__("mneme-ldt", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        hidden = qemu_hidden_registers()
        if not argument.strip():
            if print_ldtr(hidden):
                ldtr = hidden["ldt"]
                print_table(ldtr["base"], (ldtr["limit"] + 1) // 8, True)
            return
        pid = int(gdb.parse_and_eval(argument))
        for process_pid, name, memory in process_table():
            if process_pid != pid:
                continue
            if int(memory) == 0:
                raise gdb.GdbError("pid %d (%s) has ended: its memory (and LDT) is gone" % (pid, name))
            model = "Paging"
            if "SegmentedMemory" in str(memory.type):
                model = str(memory.dereference()["m_model"]).split("::")[-1]
            model = MODEL_NAMES.get(model, model)
            if model not in ("base-bounds", "segments"):
                print("pid %d (%s) runs under %s: no LDT; its selectors are the GDT's flat user segments "
                      "(CS 0x1b, DS 0x23: base 0, limit 4 GiB)" % (pid, name, model))
                return
            ldt = memory.dereference()["m_ldt"]
            address = int(ldt.address)
            entries = ldt.type.range()[1] + 1
            loaded = hidden["ldt"]["base"] == address and hidden["ldt"]["selector"] & 0xFFFC
            print("pid %d (%s), %s: LDT at 0x%08x, %d descriptors, page directory at physical 0x%08x; %s" % (
                pid, name, model, address, entries,
                int(memory.dereference()["m_tables"]["m_directory"]),
                "loaded now (LDTR)" if loaded else "not loaded now (the scheduler's activate() loads it, LLDT)"))
            if loaded:
                print_ldtr(hidden)
            print_table(address, entries, True)
            return
        raise gdb.GdbError("no process %d in the process table" % pid)


# -- Translation ------------------------------------------------------------------------------------------
# Logical address (selector:offset) -> linear address (segmentation, SDM Vol. 3A 3.4) -> physical address
# (32-bit paging, SDM Vol. 3A 4.3). Each step prints what it read and the check it made; the first failed
# check ends the walk with the exception the CPU would raise.

class Fault(Exception):
    pass


def fault(exception, why):
    print("-> FAULT: %s: %s" % (exception, why))
    raise Fault()


def parse_logical(text):
    """'ds:0x1234', '0x0f:$eip', '$ss:$esp' -> (selector, offset, register name or None)."""
    if ":" not in text:
        raise gdb.GdbError("usage: mneme-translate SELECTOR:OFFSET [read|write|exec]   e.g. ds:0x1234, 0x0f:$eip")
    selector_text, offset_text = text.split(":", 1)
    register = selector_text.strip().lower().lstrip("$")
    if register in SEGMENT_REGISTERS:
        selector = int(gdb.parse_and_eval("$" + register)) & 0xFFFF
    else:
        register = None
        selector = int(gdb.parse_and_eval(selector_text)) & 0xFFFF
    return selector, int(gdb.parse_and_eval(offset_text)) & 0xFFFFFFFF, register


def find_descriptor(selector, hidden, stack):
    """Step 1 and 2: the selector's fields, then its descriptor in the GDT or the LDT (SDM Vol. 3A 3.4.2)."""
    print("1. selector 0x%04x: %s  [SDM 3.4.2]" % (selector, describe_selector(selector)))
    index, ldt = selector >> 3, bool(selector & 4)
    if not ldt and index == 0:
        # Loading the null selector into DS, ES, FS or GS is allowed; using it is not (SDM 3.4.2).
        fault("#SS(0)" if stack else "#GP(0)", "the null selector names no segment (loading it into SS, or CS, "
              "is itself #GP)")
    if ldt:
        ldtr = hidden["ldt"]
        if ldtr["selector"] & 0xFFFC == 0:
            fault("#GP(0x%x)" % (selector & 0xFFFC), "TI=1 but LDTR is null: no LDT is loaded")
        table, limit = ldtr["base"], ldtr["limit"]
        print("2. the LDT: LDTR 0x%04x, base 0x%08x, limit 0x%04x (hidden part of LDTR)" % (
            ldtr["selector"], table, limit))
    else:
        table, limit = qemu_register_line("GDT")
        print("2. the GDT: GDTR base 0x%08x, limit 0x%04x" % (table, limit))
    if index * 8 + 7 > limit:
        # The descriptor must lie wholly inside the table (SDM 3.4.2); the error code is the selector.
        fault("#GP(0x%x)" % (selector & 0xFFFC), "entry %d (bytes 0x%x..0x%x) lies beyond the table's limit 0x%x" % (
            index, index * 8, index * 8 + 7, limit))
    descriptor = read_descriptor(table + 8 * index)
    print("   entry %d at 0x%08x  [SDM 3.4.5]" % (index, table + 8 * index))
    descriptor.print_lines("   ")
    return descriptor


def check_rights(descriptor, selector, cpl, access, stack):
    """What loading the selector and the access itself check, apart from the limit (SDM Vol. 3A 5.5-5.7)."""
    error = "#GP(0x%x)" % (selector & 0xFFFC)
    if not descriptor.code_or_data:
        fault(error, "a system descriptor (%s) is not a segment a logical address can use" %
              SYSTEM_TYPES.get(descriptor.type, "reserved"))
    if not descriptor.present:
        fault("#SS(0x%x)" % (selector & 0xFFFC) if stack else "#NP(0x%x)" % (selector & 0xFFFC),
              "the segment is not present (P=0)")
    rpl = selector & 3
    if not (descriptor.code and access == "exec") and not descriptor.conforming and descriptor.dpl < max(cpl, rpl):
        fault(error, "DPL %d < max(CPL %d, RPL %d): too privileged a segment for this access [SDM 5.6]" % (
            descriptor.dpl, cpl, rpl))
    if access == "exec" and not descriptor.code:
        fault(error, "instructions are fetched only through a code segment (CS)")
    if access == "write" and not descriptor.writable:
        fault("#SS(0)" if stack else "#GP(0)", "a write to a %s segment" % ("code" if descriptor.code else "read-only data"))
    if access == "read" and not descriptor.readable:
        fault(error, "an execute-only code segment cannot be read (nor loaded into DS, ES, FS, GS or SS)")
    print("   rights: %s at CPL %d through RPL %d is allowed (type, DPL %d)  [SDM 5.5-5.7]" % (
        ACCESS_NAMES[access], cpl, rpl, descriptor.dpl))


def check_limit(descriptor, offset, stack):
    """Step 3: the limit check (SDM Vol. 3A 5.3): #SS for an access through SS, #GP otherwise, error code 0.
    Returns False when the offset is outside: a CPU that checks limits faults there, but QEMU's TCG only adds
    the base (docs/relocation-and-segments.md), so the walk goes on to show what happens under QEMU."""
    first, last = descriptor.valid_range()
    if first <= offset <= last:
        print("3. limit check: 0x%x <= offset 0x%x <= 0x%x: inside%s  [SDM 5.3]" % (
            first, offset, last, " (expand-down: valid above the limit)" if descriptor.expand_down else ""))
        return True
    why = "offset 0x%x is outside 0x%x..0x%x" % (offset, first, last)
    if descriptor.expand_down:
        why += " (expand-down: valid above the limit 0x%x)" % descriptor.limit
    print("3. limit check: %s  [SDM 5.3]" % why)
    print("-> FAULT on a CPU that checks limits (hardware, Bochs): %s: %s" % ("#SS(0)" if stack else "#GP(0)", why))
    print("   QEMU's TCG does not check limits on an access: there it goes on with the base added")
    return False


def walk_pages(linear, user, write):
    """Step 5: 32-bit paging (SDM Vol. 3A 4.3): CR3 -> PDE -> (4 MiB page, or PTE) -> physical, with the
    access-rights checks of 4.6. A failed step raises #PF with CR2 = linear and the error code of 4.7."""
    cr0 = int(gdb.parse_and_eval("$cr0")) & 0xFFFFFFFF
    if not cr0 & (1 << 31):
        print("5. paging is off (CR0.PG=0): physical = linear")
        return linear
    cr3 = int(gdb.parse_and_eval("$cr3")) & 0xFFFFF000
    cr4 = int(gdb.parse_and_eval("$cr4")) & 0xFFFFFFFF
    directory_index, table_index = linear >> 22, (linear >> 12) & 0x3FF
    print("5. paging: CR3 0x%08x; linear 0x%08x = directory index %d, table index %d, offset 0x%03x  [SDM 4.3]" % (
        cr3, linear, directory_index, table_index, linear & 0xFFF))
    # #PF error code (SDM 4.7): bit 0 P (1: a protection violation, 0: not present), bit 1 W/R, bit 2 U/S.
    code = (2 if write else 0) | (4 if user else 0)
    pde_address = cr3 + 4 * directory_index
    pde = read_physical_u32(pde_address)
    print("   PDE[%4d] at physical 0x%08x = 0x%08x  %s" % (directory_index, pde_address, pde, describe_entry(pde, "PS")))
    if not pde & 1:
        fault("#PF, error code 0x%x, CR2 0x%08x" % (code, linear), "the page directory entry is not present")
    entries = [pde]
    if pde & 0x80 and cr4 & 0x10:  # PS=1 with CR4.PSE: the PDE maps a 4 MiB page itself (SDM 4.3, Table 4-4)
        physical = (pde & 0xFFC00000) | (linear & 0x3FFFFF)
        print("   PS=1 (CR4.PSE=1): a 4 MiB page at physical 0x%08x, offset 0x%06x" % (pde & 0xFFC00000, linear & 0x3FFFFF))
    else:
        pte_address = (pde & 0xFFFFF000) + 4 * table_index
        pte = read_physical_u32(pte_address)
        print("   PTE[%4d] at physical 0x%08x = 0x%08x  %s" % (table_index, pte_address, pte, describe_entry(pte, "PAT")))
        if not pte & 1:
            fault("#PF, error code 0x%x, CR2 0x%08x" % (code, linear), "the page table entry is not present")
        entries.append(pte)
        physical = (pte & 0xFFFFF000) | (linear & 0xFFF)
    # Access rights (SDM 4.6): both levels must allow it. A user-mode access needs U/S=1 everywhere, a user
    # write R/W=1 everywhere; a supervisor write needs R/W=1 only with CR0.WP=1 (Mneme sets WP).
    if user and not all(e & 4 for e in entries):
        fault("#PF, error code 0x%x, CR2 0x%08x" % (code | 1, linear), "a user-mode access to a supervisor page (U/S=0)")
    if write and (user or cr0 & (1 << 16)) and not all(e & 2 for e in entries):
        fault("#PF, error code 0x%x, CR2 0x%08x" % (code | 1, linear), "a write to a read-only page (R/W=0)")
    # Without PAE there is no execute-disable bit: an instruction fetch is checked as a read.
    print("   rights: a %s-mode %s is allowed (U/S, R/W of every level)  [SDM 4.6]" % (
        "user" if user else "supervisor", "write" if write else "read"))
    return physical


class MnemeTranslate(gdb.Command):
    """Translate SELECTOR:OFFSET to linear and physical, step by step: descriptor, limit, page walk, faults."""

    def __init__(self):
        super().__init__("mneme-translate", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        # The access kind is an optional last word, so the offset may be an expression with spaces ($esp - 4).
        words = argument.split()
        access = "read"
        if len(words) > 1 and words[-1].lower() in ACCESS_NAMES:
            access = words.pop().lower()
        if not words:
            raise gdb.GdbError("usage: mneme-translate SELECTOR:OFFSET [read|write|exec]   e.g. ds:0x1234, 0x0f:$eip")
        selector, offset, register = parse_logical(" ".join(words))
        hidden = qemu_hidden_registers()
        cpl = int(gdb.parse_and_eval("$cs")) & 3
        # Stopped in the kernel with a user selector (RPL 3) in hand, the question is what the process would
        # see: check the page rights as a user-mode access. Segment checks use the real CPL.
        user = cpl == 3 or (selector & 3) == 3
        stack = register == "ss"
        print("logical 0x%04x:0x%08x%s: %s, CPL %d%s" % (
            selector, offset, " (%s)" % register.upper() if register else "", ACCESS_NAMES[access], cpl,
            "" if cpl == 3 or not user else "; paging checked as a user-mode access (the selector's RPL is 3)"))
        try:
            descriptor = find_descriptor(selector, hidden, stack)
            check_rights(descriptor, selector, cpl, access, stack)
            inside = check_limit(descriptor, offset, stack)
            linear = (descriptor.base + offset) & 0xFFFFFFFF  # modulo 2^32: the CPU's adder wraps
            print("4. linear = base 0x%08x + offset 0x%08x = 0x%08x%s" % (
                descriptor.base, offset, linear, " (wrapped modulo 2^32)" if descriptor.base + offset > 0xFFFFFFFF else ""))
            if register:
                cached = hidden[register]
                agrees = cached["base"] == descriptor.base and cached["limit"] == descriptor.limit
                print("   %s's hidden copy: base 0x%08x, limit 0x%08x: %s" % (
                    register.upper(), cached["base"], cached["limit"], "the same" if agrees else
                    "DIFFERENT: the table changed since %s was loaded; the CPU uses its copy [SDM 3.4.3]" %
                    register.upper()))
            physical = walk_pages(linear, user, access == "write")
            print("-> physical 0x%08x%s" % (physical, "" if inside else
                                            " (under QEMU only: a CPU that checks limits faulted at step 3)"))
        except Fault:
            pass


HELPERS["mneme-ldt"] = MnemeLdt()
HELPERS["mneme-translate"] = MnemeTranslate()
