#!/usr/bin/env bash
# qemu-instructions.sh: the in-QEMU benchmarks. Boots with bench=all under -icount shift=0, where an RDTSC
# difference is an instruction count (kernel/debug/Bench.h), and prints each figure next to its target.
set -u
cd "$(dirname "$0")/../.."
log=build/bench-qemu.log
# A fresh disk, so the swap benchmarks (a page's PIO transfer, a major fault, each policy's decision) run.
disk=build/bench-disk.img
rm -f "$disk"
qemu-img create -q -f raw "$disk" 64M
tools/qemu.sh --append bench=all --disk "$disk" --timeout 300 --log "$log" -- -icount shift=0
status=$?
if [ "$status" != 33 ]; then
  echo "qemu-instructions: the benchmark run ended with QEMU status $status; log: $log"
  exit 1
fi
grep '^bench: calibration' "$log"
printf '\n%-80s %10s  %s\n' "operation (instructions per operation, -icount shift=0)" "measured" "target"
# Targets for the process operations: a limit, or nothing. The demand-zero fault's limit excludes the page clear,
# so it is judged after the table, once the clear is known.
limit() {
  case "$1" in
    "getpid round trip"*) echo 150 ;;
    "context switch"*) echo 500 ;;
    *) echo "" ;;
  esac
}
verdict() {  # verdict VALUE LIMIT
  if [ "$1" -le "$2" ]; then echo "<= $2 met"; else echo "<= $2 MISSED"; fi
}
grep '^bench: ' "$log" | grep -v 'calibration\|instruction counts under' | while IFS= read -r line; do
  name=${line#bench: }
  name=${name%%: *}
  value=$(echo "$line" | sed -E 's/.*: ([0-9]+) instructions.*/\1/')
  want=$(limit "$name")
  note=""
  [ -n "$want" ] && note=$(verdict "$value" "$want")
  [[ "$name" == "demand-zero fault"* ]] && note="<= 1500 + the page clear (below)"
  printf '%-80s %10s  %s\n' "$name" "$value" "$note"
done
clear=$(grep 'clearing one 4 KiB page' "$log" | sed -E 's/.*: ([0-9]+) instructions.*/\1/')
fault=$(grep 'demand-zero fault' "$log" | sed -E 's/.*: ([0-9]+) instructions.*/\1/')
if [ -n "$clear" ] && [ -n "$fault" ]; then
  echo
  echo "demand-zero fault without the page clear: $((fault - clear)) instructions (target $(verdict $((fault - clear)) 1500))"
fi
# Compaction against the bare copy: what the rest of each KiB moved costs (the map, the owners' page tables
# and LDTs rewritten).
copy=$(grep 'memmove of one 64 KiB segment' "$log" | sed -E 's/.*: ([0-9]+) instructions.*/\1/')
per_kib=$(grep 'arena compaction per KiB moved' "$log" | sed -E 's/.*: ([0-9]+) instructions.*/\1/')
if [ -n "$copy" ] && [ -n "$per_kib" ]; then
  echo "arena compaction: $per_kib instructions per KiB moved, of which the bare copy is $((copy / 64))"
fi
# The older models' swapping: a whole segment out to the disk and back, per KiB, beside compaction's copy.
roll_out=$(grep 'roll-out of a .* per KiB' "$log" | sed -E 's/.*: ([0-9]+) instructions per KiB.*/\1/')
roll_in=$(grep 'roll-in of a .* per KiB' "$log" | sed -E 's/.*: ([0-9]+) instructions per KiB.*/\1/')
if [ -n "$roll_out" ] && [ -n "$roll_in" ] && [ -n "$per_kib" ]; then
  echo "roll-out and roll-in of a base-and-bounds segment: $roll_out and $roll_in instructions per KiB" \
    "($(( (roll_out + per_kib / 2) / per_kib ))x and $(( (roll_in + per_kib / 2) / per_kib ))x compaction's)"
fi
