#!/usr/bin/env bash
# qemu-smp.sh: the multi-core benchmarks (docs/multicore.md, "Measurements").
#
# 1. Speed-up: `spin -t 4 150` (4 processes computing, no system calls) alone at 1, 2 and 4 CPUs under QEMU's
#    multi-threaded TCG (one host thread per virtual CPU, --mttcg), timed by the kernel's clock; the ratios
#    against one CPU, in one run. Target: 2 CPUs at least 1.7 times one CPU, on a host with 2 free cores
#    (the host's load is printed: a busy host cannot show it). 4 CPUs on a 2-core host can do no better than 2.
# 2. Instructions under -icount shift=0 (the CPUs take turns, deterministically) at -smp 2: a TLB shootdown
#    round trip and a cross-CPU wake-up, from bench=kernel; and the per-CPU caches' pairs beside the one-CPU
#    figures.
set -u
cd "$(dirname "$0")/../.."
declare -A ms
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for cpus in 1 2 4; do
  log=build/bench-smp-$cpus.log
  tools/qemu.sh --mttcg --smp "$cpus" --append bench=smp --timeout 300 --log "$log" > /dev/null 2>&1
  status=$?
  line=$(grep -m1 '^spin: [0-9]* workers' "$log" | tr -d '\r')
  if [ "$status" != 33 ] || [ -z "$line" ]; then
    echo "qemu-smp: the run at $cpus CPUs ended with QEMU status $status; log: $log"
    exit 1
  fi
  echo "$line"
  ms[$cpus]=$(echo "$line" | sed -E 's/.*: ([0-9]+)\.([0-9]+) s$/\1\2/' | sed 's/^0*//')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
two=$(ratio "${ms[1]}" "${ms[2]}")
four=$(ratio "${ms[1]}" "${ms[4]}")
verdict=$(awk -v r="$two" 'BEGIN { print (r >= 1.7) ? "met" : "MISSED" }')
echo "speed-up at 2 CPUs: ${two}x  (target >= 1.7x: $verdict)"
echo "speed-up at 4 CPUs: ${four}x  (on $(nproc) host cores)"

log=build/bench-smp-icount.log
tools/qemu.sh --smp 2 --append bench=kernel --timeout 300 --log "$log" -- -icount shift=0 > /dev/null 2>&1
status=$?
if [ "$status" != 33 ]; then
  echo "qemu-smp: the -icount run at 2 CPUs ended with QEMU status $status; log: $log"
  exit 1
fi
echo
echo "at -smp 2 under -icount shift=0 (both CPUs' instructions count):"
grep -E '^bench: (TLB shootdown|cross-CPU|pmm order-0 allocate\+free pair \(the kernel|kmalloc\(64\)|slab cache allocate)' "$log" |
  sed 's/^bench: /  /'
