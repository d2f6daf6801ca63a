#!/usr/bin/env bash
# relocation-images.sh: every user program carries what the memory models before paging need to re-link it
# (docs/relocation-images.md, format/Relink.h): the one link of each program (user/user.ld, ld -q)
#   keeps-relocations  the initrd's stripped copy (/bin/NAME) still lists every R_386_32 site the full link in
#                      build/user/bin/NAME lists, with the same linked values
#   code-or-data       every absolute address the program holds lies in its code (the executable PT_LOAD) or
#                      in its data (the other PT_LOADs), so the segments model can turn each into a code or
#                      a data offset; and some program stores code addresses in its data (switch tables,
#                      function pointers), so the distinction is exercised
# Reads the ELF files with Python's struct module (System V gABI layouts). Prints PASS/FAIL lines for
# tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
if ! grep -q '^bin/' build/initrd.list 2> /dev/null || ! ls build/initrd/bin/hello > /dev/null 2>&1; then
  echo "FAIL relocation-images: no programs in build/ (make initrd builds them)"
  exit 0
fi
python3 - << 'PY'
import os, struct

PT_LOAD, SHT_REL, SHF_ALLOC, R_386_32, PF_X = 1, 9, 2, 1, 1

def elf(path):
    data = open(path, 'rb').read()
    (entry, phoff, shoff) = struct.unpack_from('<III', data, 24)
    (phnum,) = struct.unpack_from('<H', data, 44)
    (shnum,) = struct.unpack_from('<H', data, 48)
    loads = []
    for i in range(phnum):
        p = struct.unpack_from('<8I', data, phoff + 32 * i)
        if p[0] == PT_LOAD:
            loads.append({'offset': p[1], 'vaddr': p[2], 'filesz': p[4], 'memsz': p[5], 'flags': p[6]})
    sections = [struct.unpack_from('<10I', data, shoff + 40 * i) for i in range(shnum)]
    return data, loads, sections

def sites(path):
    """(site address, linked value) of every R_386_32 relocation of a loaded section."""
    data, loads, sections = elf(path)
    out = []
    for rel in sections:
        if rel[1] != SHT_REL or not sections[rel[7]][2] & SHF_ALLOC:
            continue
        target = sections[rel[7]]
        for at in range(rel[4], rel[4] + rel[5], 8):
            offset, info = struct.unpack_from('<II', data, at)
            if info & 0xFF == R_386_32:
                (word,) = struct.unpack_from('<I', data, target[4] + offset - target[3])
                out.append((offset, word))
    return loads, out

def check(name, failures):
    print(('PASS ' if not failures else 'FAIL ') + name + ('' if not failures else ': ' + '; '.join(failures[:3])))

listed = [line.strip() for line in open('build/initrd.list')]
programs = sorted(line[len('bin/'):] for line in listed if line.startswith('bin/') and line != 'bin/notelf')

failures = []
for program in programs:
    _, full = sites(os.path.join('build/user/bin', program))
    _, stripped = sites(os.path.join('build/initrd/bin', program))
    if not stripped:
        failures.append('%s: the initrd copy lists no R_386_32 site' % program)
    elif sorted(full) != sorted(stripped):
        failures.append('%s: %d sites in the link, %d in the initrd copy' % (program, len(full), len(stripped)))
check('relocation-images.keeps-relocations (%d programs)' % len(programs), failures)

failures, code_in_data, total = [], 0, 0
for program in programs:
    loads, found = sites(os.path.join('build/initrd/bin', program))
    code = [l for l in loads if l['flags'] & PF_X]
    data = [l for l in loads if not l['flags'] & PF_X]
    if len(code) != 1 or not data:
        failures.append('%s: %d executable and %d other PT_LOADs' % (program, len(code), len(data)))
        continue
    code_lo, code_hi = code[0]['vaddr'], code[0]['vaddr'] + code[0]['memsz']
    data_lo = min(l['vaddr'] for l in data)
    # The data reaches to the end of its last page: user/user.ld's `_end` (and a pointer or two near it).
    data_hi = (max(l['vaddr'] + l['memsz'] for l in data) + 4095) & ~4095
    for site, word in found:
        total += 1
        in_data, in_code = data_lo <= word <= data_hi, code_lo <= word <= code_hi
        if not in_data and not in_code:
            failures.append('%s: the word at 0x%x holds 0x%x, neither code (0x%x-0x%x) nor data (0x%x-0x%x)'
                            % (program, site, word, code_lo, code_hi, data_lo, data_hi))
        if in_code and not in_data and data_lo <= site < data_hi:
            code_in_data += 1
if code_in_data == 0:
    failures.append('no program stores a code address in its data: the split is not exercised')
check('relocation-images.code-or-data (%d addresses, %d of them code addresses in data)' % (total, code_in_data),
      failures)
PY
