#!/usr/bin/env bash
# report.sh (make swap-report): page replacement on one seeded reference string, simulated and real.
#
#   1. The host: build/host/mneme-replay replays the string (swapload's default: the 80/20 workload, 100 pages,
#      5000 accesses, 25% writes, seed 1) through every policy, exact LRU and OPT at 1..100 frames: the
#      curves of faults against frames.
#   2. QEMU: Mneme boots with swap=page, policy=P and userframes=C for every policy the kernel runs and a few
#      caps, and runs `swapload` at the shell; the faults it took are the points beside the curves, at the
#      number of frames its array held at the end (what replacement left it).
#   3. Belady's anomaly: FIFO on 1,2,3,4,1,2,5,1,2,3,4,5 with 1..7 frames (9 faults with 3, 10 with 4).
#
# Writes build/swap-report/{faults.txt,kernel.txt,belady.txt,report.txt} and, with gnuplot,
# faults-80-20.png and belady.png. Two QEMUs at a time; a few minutes in all.
set -u
cd "$(dirname "$0")/../.."
out=build/swap-report
replay=build/host/mneme-replay
mkdir -p "$out"
string=(80-20 100 5000 25 1)
policies=(fifo clock nru aging random)
caps=(56 72 88 104)

echo "swap-report: simulating the string with every policy at 1-100 frames"
"$replay" --policy all --workload 80-20 --pages 100 --length 5000 --writes 25 --seed 1 --frames 1-100 |
  grep -E '^ *[0-9]+ ' > "$out/faults.txt"
"$replay" --policy all --frames 1-7 1,2,3,4,1,2,5,1,2,3,4,5 | grep -E '^ *[0-9]+ ' > "$out/belady.txt"

# run_one POLICY CAP: boots, types swapload at the shell, keeps its line.
run_one() {
  local policy=$1 cap=$2 log="$out/qemu-$1-$2.log" disk="$out/disk-$1-$2.img" fifo
  rm -f "$disk"
  qemu-img create -q -f raw "$disk" 64M
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  tools/qemu.sh --timeout 300 --append "swap=page policy=$policy userframes=$cap" --disk "$disk" < "$fifo" > "$log" 2>&1 &
  local qemu=$!
  exec 4> "$fifo"
  local ok=0
  for _ in $(seq 600); do grep -q '^Mneme shell' "$log" && { ok=1; break; }; sleep 0.1; done
  if [ $ok = 1 ]; then
    printf 'swapload %s\r' "${string[*]}" >&4
    for _ in $(seq 2400); do grep -q '^swapload: ' "$log" && break; sleep 0.1; done
  fi
  exec 4>&-
  kill "$qemu" 2> /dev/null
  wait "$qemu" 2> /dev/null
  rm -f "$fifo" "$disk"
  grep -m1 '^swapload: ' "$log" || echo "swapload: policy=$policy cap=$cap FAILED (log: $log)"
}

echo "swap-report: running swapload in QEMU: ${#policies[@]} policies x ${#caps[@]} caps, two at a time"
: > "$out/kernel.txt"
jobs_running=0
for policy in "${policies[@]}"; do
  for cap in "${caps[@]}"; do
    run_one "$policy" "$cap" > "$out/line-$policy-$cap.txt" &
    jobs_running=$((jobs_running + 1))
    if [ $jobs_running -ge 2 ]; then wait -n; jobs_running=$((jobs_running - 1)); fi
  done
done
wait
failed=0
for policy in "${policies[@]}"; do
  for cap in "${caps[@]}"; do
    line=$(cat "$out/line-$policy-$cap.txt")
    rm -f "$out/line-$policy-$cap.txt"
    if [[ $line == *FAILED* ]]; then
      echo "  $line"
      failed=1
      continue
    fi
    own=$(sed -E 's/.* own=([0-9]+).*/\1/' <<< "$line")
    held=$(sed -E 's/.* held=([0-9]+).*/\1/' <<< "$line")
    faults=$(sed -E 's/.* faults=([0-9]+).*/\1/' <<< "$line")
    major=$(sed -E 's/.* major=([0-9]+).*/\1/' <<< "$line")
    echo "$policy $cap $own $held $faults $major" >> "$out/kernel.txt"
  done
done

# column of a policy in faults.txt (frames fifo clock eclock aging lru random opt)
column_of() {
  case "$1" in fifo) echo 2 ;; clock) echo 3 ;; nru|eclock) echo 4 ;; aging) echo 5 ;; lru) echo 6 ;; random) echo 7 ;; opt) echo 8 ;; esac
}
{
  echo "Page replacement on one string: the 80/20 workload, 100 pages, 5000 accesses, 25% writes, seed 1"
  echo "(swapload in Mneme; mneme-replay on the host generates the same string from the same mm/swap code)"
  echo
  echo "In QEMU (faults = first touches + major faults) beside the simulation at the same number of frames:"
  printf '  %-7s %5s %5s %7s %8s %7s %10s %8s %8s\n' policy cap own held faults major simulated lru opt
  while read -r policy cap own frames faults major; do
    sim="-" lru="-" opt="-"
    if [ "$frames" -ge 1 ] && [ "$frames" -le 100 ]; then
      row=$(awk -v f="$frames" '$1 == f' "$out/faults.txt")
      sim=$(awk -v c="$(column_of "$policy")" '{print $c}' <<< "$row")
      lru=$(awk '{print $6}' <<< "$row")
      opt=$(awk '{print $8}' <<< "$row")
    fi
    printf '  %-7s %5s %5s %7s %8s %7s %10s %8s %8s\n' "$policy" "$cap" "$own" "$frames" "$faults" "$major" "$sim" "$lru" "$opt"
  done < "$out/kernel.txt"
  echo
  echo "held: the frames the array held at the end; simulated, lru, opt: the simulation at that many frames. The"
  echo "kernel's run also has the string's own pages and the program's sharing the frames (own: its pages before"
  echo "the string), the held count varies over the run, and aging ticks with the timer (every 10 ms) rather"
  echo "than every 4 accesses: the figures are close, not equal."
  echo
  echo "Belady's anomaly (FIFO on 1,2,3,4,1,2,5,1,2,3,4,5):"
  awk '{printf "  %d frames: FIFO %d faults, LRU %d, OPT %d\n", $1, $2, $6, $8}' "$out/belady.txt"
} > "$out/report.txt"
cat "$out/report.txt"

fifo3=$(awk '$1 == 3 {print $2}' "$out/belady.txt")
fifo4=$(awk '$1 == 4 {print $2}' "$out/belady.txt")
if [ "$fifo3" != 9 ] || [ "$fifo4" != 10 ]; then
  echo "swap-report: Belady's anomaly did not show (FIFO: $fifo3 faults with 3 frames, $fifo4 with 4)"
  failed=1
fi

if command -v gnuplot > /dev/null; then
  for policy in "${policies[@]}"; do
    awk -v p="$policy" '$1 == p {print $4, $5}' "$out/kernel.txt" > "$out/kernel-$policy.dat"
  done
  gnuplot << GNUPLOT
set terminal pngcairo size 1100,700 noenhanced
set output "$out/faults-80-20.png"
set title "Faults against frames: 80/20 workload, 100 pages, 5000 accesses (lines: mneme-replay; points: Mneme in QEMU)"
set xlabel "frames"
set ylabel "faults"
set key top right
set logscale y
plot "$out/faults.txt" using 1:2 with lines title "fifo", \
     "" using 1:3 with lines title "clock", \
     "" using 1:4 with lines title "eclock (nru)", \
     "" using 1:5 with lines title "aging", \
     "" using 1:6 with lines lw 2 title "lru", \
     "" using 1:7 with lines title "random", \
     "" using 1:8 with lines lw 2 dt 2 title "opt", \
     "$out/kernel-fifo.dat" using 1:2 with points pt 5 title "fifo in QEMU", \
     "$out/kernel-clock.dat" using 1:2 with points pt 7 title "clock in QEMU", \
     "$out/kernel-nru.dat" using 1:2 with points pt 9 title "nru in QEMU", \
     "$out/kernel-aging.dat" using 1:2 with points pt 11 title "aging in QEMU", \
     "$out/kernel-random.dat" using 1:2 with points pt 13 title "random in QEMU"
set output "$out/belady.png"
set title "Belady's anomaly: FIFO on 1,2,3,4,1,2,5,1,2,3,4,5"
unset logscale y
set xtics 1
plot "$out/belady.txt" using 1:2 with linespoints lw 2 title "fifo", \
     "" using 1:6 with linespoints title "lru", \
     "" using 1:8 with linespoints dt 2 title "opt"
GNUPLOT
  echo "swap-report: plots in $out/faults-80-20.png and $out/belady.png"
else
  echo "swap-report: gnuplot is not installed: tables only (make deps-swap-report installs it)"
fi
exit $failed
