#!/usr/bin/env bash
# qemu-swap.sh: how long swapping takes under TCG, in wall time (no -icount: the disk's time is real here):
# whole processes of 16 to 1024 pages rolled out and in (bench=swap, kernel/debug/Bench.cpp), a line per
# size, and the pages per second that makes. The notes' point: a roll-out costs in proportion to the size.
# Figures, not a timed test.
set -u
cd "$(dirname "$0")/../.."
log=build/bench-swap.log
disk=build/bench-swap-disk.img
rm -f "$disk"
qemu-img create -q -f raw "$disk" 64M
tools/qemu.sh --append bench=swap --disk "$disk" --timeout 300 --log "$log"
status=$?
if [ "$status" != 33 ]; then
  echo "qemu-swap: the run ended with QEMU status $status; log: $log"
  exit 1
fi
grep '^bench: swap timing' "$log"
printf '\n%8s %14s %14s %14s %14s\n' "pages" "roll-out ms" "out pages/s" "roll-in ms" "in pages/s"
grep '^bench: roll-out of' "$log" | sed -E 's/^bench: roll-out of ([0-9]+) pages: ([0-9]+) us \([0-9]+ written, ([0-9]+) pages\/s\); roll-in: [0-9]+ pages, ([0-9]+) us \(([0-9]+) pages\/s\)/\1 \2 \3 \4 \5/' |
  while read -r pages out_us out_rate in_us in_rate; do
    printf '%8s %10s.%03d %14s %10s.%03d %14s\n' "$pages" $((out_us / 1000)) $((out_us % 1000)) "$out_rate" \
      $((in_us / 1000)) $((in_us % 1000)) "$in_rate"
  done
