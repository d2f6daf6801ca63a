#!/usr/bin/env bash
# relocation-images.sh: the reloc and split links of every user program have the shape the memory models
# before paging rely on (docs/relocation-images.md, user/reloc.ld, user/split.ld):
#   reloc  one PT_LOAD at 0x10000 (after the 64 KiB stack reserve), the entry at its start, relocations kept
#   split  code PT_LOAD (R X) at 0, data PT_LOAD (R W) at 0x10000, the entry at 0; every absolute address of
#          a .text symbol stored in the data space (switch tables, the init_array, function pointers) is a code
#          offset, below the end of .text; at least one such address exists among the programs
# and the initrd's copies (/reloc/NAME, /split/NAME, for the programs it holds them for) still carry their
# .rel.text. Reads the ELF files with
# Python's struct module (System V gABI layouts). Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
if ! grep -q '^reloc/' build/initrd.list 2> /dev/null || ! ls build/user/reloc/* build/user/split/* > /dev/null 2>&1; then
  echo "FAIL relocation-images: no reloc and split programs in build/ (make initrd builds them)"
  exit 0
fi
python3 - build/user/reloc build/user/split build/initrd/reloc build/initrd/split << 'EOF'
import os, struct, sys

reloc_dir, split_dir, initrd_reloc, initrd_split = sys.argv[1:5]
PT_LOAD, SHT_REL, SHF_ALLOC, R_386_32 = 1, 9, 2, 1

def elf(path):
    data = open(path, 'rb').read()
    (entry, phoff, shoff) = struct.unpack_from('<III', data, 24)
    (phnum,) = struct.unpack_from('<H', data, 44)
    (shnum, shstrndx) = struct.unpack_from('<HH', data, 48)
    loads = []
    for i in range(phnum):
        p = struct.unpack_from('<8I', data, phoff + 32 * i)
        if p[0] == PT_LOAD:
            loads.append({'offset': p[1], 'vaddr': p[2], 'filesz': p[4], 'flags': p[6]})
    sections = [struct.unpack_from('<10I', data, shoff + 40 * i) for i in range(shnum)]
    names = sections[shstrndx]
    def name(s):
        start = names[4] + s[0]
        return data[start:data.index(b'\0', start)].decode()
    return data, entry, loads, sections, name

def check(name, failures):
    print(('PASS ' if not failures else 'FAIL ') + name + ('' if not failures else ': ' + '; '.join(failures[:3])))

# Every program (the initrd's bin/ entries: build/user/ may keep a deleted program's old link), and those whose
# reloc and split links the initrd holds too (the Makefile's INITRD_LINK_SKIP leaves some out).
listed = [line.strip() for line in open('build/initrd.list')]
programs = sorted(line[len('bin/'):] for line in listed if line.startswith('bin/') and line != 'bin/notelf')
in_initrd = sorted(line[len('reloc/'):] for line in listed if line.startswith('reloc/'))
failures = []
for program in programs:
    data, entry, loads, sections, name = elf(os.path.join(reloc_dir, program))
    if len(loads) != 1 or loads[0]['vaddr'] != 0x10000 or entry != 0x10000:
        failures.append('%s: %d PT_LOADs, first at 0x%x, entry 0x%x' % (program, len(loads), loads[0]['vaddr'], entry))
check('relocation-images.reloc-one-block-at-0x10000 (%d programs)' % len(programs), failures)

failures, code_pointers = [], 0
for program in programs:
    data, entry, loads, sections, name = elf(os.path.join(split_dir, program))
    shape = [(l['vaddr'], l['flags']) for l in loads]
    if shape != [(0, 5), (0x10000, 6)] or entry != 0:
        failures.append('%s: PT_LOADs %s, entry 0x%x' % (program, shape, entry))
        continue
    text = next(s for s in sections if name(s) == '.text')
    text_end = text[3] + text[5]
    symtab = next(s for s in sections if s[1] == 2)  # SHT_SYMTAB
    text_index = sections.index(text)
    for rel in sections:
        target = sections[rel[7]] if rel[1] == SHT_REL else None
        if target is None or not target[2] & SHF_ALLOC or target[3] < 0x10000:
            continue  # only relocations whose site is in the data space
        for at in range(rel[4], rel[4] + rel[5], 8):
            offset, info = struct.unpack_from('<II', data, at)
            if info & 0xFF != R_386_32:
                continue
            (shndx,) = struct.unpack_from('<H', data, symtab[4] + 16 * (info >> 8) + 14)
            if shndx != text_index:
                continue
            (word,) = struct.unpack_from('<I', data, target[4] + offset - target[3])
            code_pointers += 1
            if word >= text_end:
                failures.append('%s: word at data offset 0x%x holds 0x%x, past .text (0x%x)' % (program, offset, word, text_end))
if code_pointers == 0:
    failures.append('no code address stored in any data space: nothing was checked')
check('relocation-images.split-code-pointers-are-code-offsets (%d checked)' % code_pointers, failures)

failures = []
if not in_initrd:
    failures.append('the initrd holds no reloc/ programs')
for directory in (initrd_reloc, initrd_split):
    for program in in_initrd:
        path = os.path.join(directory, program)
        if not os.path.exists(path):
            failures.append(path + ' is missing')
            continue
        data, entry, loads, sections, name = elf(path)
        if not any(name(s) == '.rel.text' for s in sections):
            failures.append(path + ' has no .rel.text')
check('relocation-images.initrd-copies-keep-relocations (%d programs)' % len(in_initrd), failures)
EOF
