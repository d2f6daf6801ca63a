#!/usr/bin/env bash
# layers.sh: the layering rules of docs/architecture.md, checked on every tracked source file.
#   - mm/, format/ and libc/base/ are pure C++: no inline assembly, no arch/ or kernel/ include, so the
#     host tests compile the very files the kernel runs;
#   - the TLB has one home: invlpg and CR3 writes are spelled only in arch/i386/Cpu.h (the instructions),
#     kernel/mm/Tlb.cpp (the one caller), boot/boot.asm and arch/i386/Trampoline.asm (turning paging on, on
#     the bootstrap processor and on each application processor, before any C++ runs there).
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."

# check NAME PATHSPEC REGEX ALLOWED: no line matching REGEX in PATHSPEC outside files matching ALLOWED.
check() {
  local name=$1 pathspec=$2 regex=$3 allowed=$4 hits
  hits=$(git grep -nIE -- "$regex" -- $pathspec | grep -vE "^($allowed):" | grep -vE '^[^:]+:[0-9]+:\s*(//|#|;)' |
    head -5)
  if [ -z "$hits" ]; then
    echo "PASS layers.$name"
  else
    echo "FAIL layers.$name:"
    printf '%s\n' "$hits" | sed 's/^/    /'
  fi
}

check pure-mm-no-asm "mm format libc/base" '\basm\b|__asm__' '^$'
check pure-mm-no-hardware-include "mm format libc/base" '#include "(arch|kernel)/' '^$'
check one-tlb-home-invlpg "*.cpp *.h *.asm *.S" 'invlpg *\(' 'arch/i386/Cpu.h|kernel/mm/Tlb.cpp'
check one-tlb-home-cr3 "*.cpp *.h *.asm *.S" 'write_cr3|mov +cr3,|mov +%?[a-z0-9%]+, *%cr3' 'arch/i386/Cpu.h|kernel/mm/Tlb.cpp|boot/boot.asm|arch/i386/Trampoline.asm'
