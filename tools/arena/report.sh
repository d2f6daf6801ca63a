#!/usr/bin/env bash
# report.sh (make arena-report): the four fit policies on one seeded spawn/exit workload, in the kernel.
#
#   1. QEMU: Mneme boots once per policy with `fit=P arenalog=1 init=arenaload`: init runs arenaload (its
#      default workload, seed 1), which starts and kills base-and-bounds processes of random sizes, and the
#      kernel prints one `arenalog:` line per arena event (kernel/memmodel/Arena.h). Two QEMUs at a time.
#   2. awk turns each log into the segments' lifetimes (a box per segment and place: from the event that put
#      it there to the one that freed, moved or resized it), the fragmentation after every event, and the
#      figures of the summary; it checks that the log accounts: every segment placed is freed by the end, and
#      every free, move and resize names a segment that is there.
#   3. gnuplot draws build/arena-report/arena-report.png: per policy, the arena map over time (x: event, y:
#      offset in KiB; failed requests as red marks at the top, compactions as black ones) above the
#      fragmentation (1 - largest hole / free) and the free total.
#
# Writes build/arena-report/{summary.txt,P.log,P.segments.dat,P.events.dat,...} and arena-report.png.
# The workload is arenaload's default (200 steps, seed 1, at most 6 live): init= passes no arguments.
set -u
cd "$(dirname "$0")/../.."
out=build/arena-report
policies=(first next best worst)
rm -rf "$out"
mkdir -p "$out"

# run_one POLICY: boots, waits for arenaload's summary line, stops QEMU (tools/arena/run-arenaload.sh).
run_one() {
  tools/arena/run-arenaload.sh "$1" "$out/$1.log" 300 ||
    echo "arena-report: fit=$1: arenaload did not finish (log: $out/$1.log)"
}

echo "arena-report: booting arenaload under ${policies[*]} fit, two at a time"
running=0
for policy in "${policies[@]}"; do
  run_one "$policy" &
  running=$((running + 1))
  if [ $running -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait

failed=0
arena_kib=2048
for policy in "${policies[@]}"; do
  log="$out/$policy.log"
  grep -q '^arenaload: done' "$log" || { failed=1; continue; }
  arena_kib=$(sed -nE 's/.*arena: ([0-9]+) KiB at physical.*/\1/p' "$log" | head -1)
  # One awk pass. Segments are known by their offset: place opens one, free closes it, move and resize close
  # the box and open another. Output: P.segments.dat (x0 x1 y0 y1 colour, KiB), P.events.dat (event,
  # fragmentation %, free KiB, largest hole KiB, used KiB), P.marks.dat (event, kind: 1 failed, 2 compaction)
  # and one summary row on stdout.
  tr -d '\r' < "$log" | awk -v policy="$policy" -v dir="$out" -v arena="$arena_kib" '
    function field(name,   i, kv) {
      for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
      return ""
    }
    function close_box(off, seq) {
      printf "%d %d %g %g %d\n", start[off], seq, off / 1024, (off + size[off]) / 1024, colour[off] \
        >> (dir "/" policy ".segments.dat")
      delete start[off]
    }
    function open_box(off, bytes, seq, c) { start[off] = seq; size[off] = bytes; colour[off] = c }
    function bad(what) { printf "arena-report: %s: event %d: %s\n", policy, seq, what > "/dev/stderr"; errors++ }
    /^arenaload: step=.* spawn / { requests++; if ($NF == "failed") failures++ }
    $1 == "arenalog:" {
      seq = field("seq") + 0; op = field("op"); off = field("off"); bytes = field("size") + 0
      if (op == "place") {
        # A place for a process that has a pid already is its growth moving it to a bigger hole (the
        # loader places a new process before it has one).
        if (field("pid") > 0) growmoves++
        if (off in start) bad("place over a live segment at " off)
        open_box(off, bytes, seq, placed++ % 8)
      } else if (op == "free") {
        if (!(off in start)) bad("free of " off ", where no segment is"); else close_box(off, seq)
        freed++
      } else if (op == "resize") {
        if (!(off in start)) bad("resize of " off ", where no segment is")
        else { c = colour[off]; close_box(off, seq); open_box(off, bytes, seq, c) }
      } else if (op == "move") {
        from = field("from")
        if (!(from in start)) bad("move from " from ", where no segment is")
        else {
          c = colour[from]; close_box(from, seq)
          moving[off] = bytes; moving_colour[off] = c; moving_seq[off] = seq
        }
        # Opened (from this event on) once every move of the batch has closed its box: after a rotation a
        # block moves onto the old place of one whose move is logged later.
      } else if (op == "fail") {
        refused++
        printf "%d 1\n", seq >> (dir "/" policy ".marks.dat")
      }
      if (op != "move") for (o in moving) { open_box(o, moving[o], moving_seq[o], moving_colour[o]); delete moving[o] }
      if (op == "compact" || op == "rotate") {
        compactions++
        moved += field("moved")
        printf "%d 2\n", seq >> (dir "/" policy ".marks.dat")
      }
      frag = field("frag") / 10
      fragsum += frag; events++
      printf "%d %.1f %g %g %g\n", seq, frag, field("free") / 1024, field("largest") / 1024, field("used") / 1024 \
        >> (dir "/" policy ".events.dat")
    }
    END {
      for (off in start) { bad("segment at " off " never freed"); close_box(off, seq) }
      printf "%-6s %8d %8d %8d %10d %11d %9d %10.1f %8d %s\n", policy, requests, failures, refused, growmoves,
        compactions, moved / 1024, events ? fragsum / events : 0, events, errors ? "LOG DOES NOT ACCOUNT" : "ok"
      exit errors ? 1 : 0
    }' >> "$out/rows.txt" || failed=1
  touch "$out/$policy.marks.dat"
done

{
  echo "The arena under each fit policy: arenaload's default workload (200 steps, seed 1, at most 6 live),"
  echo "base-and-bounds processes of 96-480 KiB in a ${arena_kib} KiB arena (from arenalog=1; make arena-report)"
  echo
  printf '%-6s %8s %8s %8s %10s %11s %9s %10s %8s %s\n' policy requests failed refused grow-moves compactions \
    "KiB moved" \
    "mean frag%" events log
  cat "$out/rows.txt" 2> /dev/null
  echo
  echo "requests: workers started; failed: those that got no room (to load, or to grow) even after compaction;"
  echo "refused: arena requests that found no room (a failed worker asks twice or three times: the loader,"
  echo "then growth with and without slack); grow-moves: processes moved to a bigger hole to grow (one copy"
  echo "of the process each); compactions: slides plus rotations of a growing segment to the top; KiB moved:"
  echo "what compactions copied; mean frag%: 1 - largest hole / free, averaged over the events."
} > "$out/summary.txt"
cat "$out/summary.txt"

if ! command -v gnuplot > /dev/null; then
  echo "arena-report: gnuplot is not installed: table only (make deps-arena-report installs it)"
  exit $failed
fi
{
  echo "set terminal pngcairo size 1800,1000 noenhanced font ',10'"
  echo "set output '$out/arena-report.png'"
  echo "set multiplot layout 2,4 title \"arenaload (200 steps, seed 1, at most 6 live) under each fit policy\\nTop: a box per segment, from the event that placed it to the one that freed, moved or resized it; above: x a refused request, triangle a compaction. Bottom: after every event\""
  echo "set style fill solid 0.6 border lc rgb 'black'"
  echo "set palette defined (0 '#4e79a7', 1 '#f28e2b', 2 '#59a14f', 3 '#e15759', 4 '#76b7b2', 5 '#edc948', 6 '#b07aa1', 7 '#9c755f')"
  echo "unset colorbox"
  echo "set cbrange [0:7]"
  for policy in "${policies[@]}"; do
    echo "set title '$policy fit: segments by offset, event by event'"
    echo "unset key"
    echo "set xlabel 'event'; set ylabel 'arena offset (KiB)'"
    echo "set yrange [0:$((arena_kib + arena_kib / 16))]; set xrange [0:*]"
    echo "plot '$out/$policy.segments.dat' using ((\$1+\$2)/2):((\$3+\$4)/2):1:2:3:4:5 with boxxyerror lc palette notitle, \\"
    echo "     '$out/$policy.marks.dat' using 1:(\$2 == 1 ? $((arena_kib + arena_kib / 32)) : 1/0) with points pt 2 ps 0.8 lc rgb 'red' title 'refused', \\"
    echo "     '$out/$policy.marks.dat' using 1:(\$2 == 2 ? $((arena_kib + arena_kib / 32)) : 1/0) with points pt 9 ps 1 lc rgb 'black' title 'compaction'"
  done
  for policy in "${policies[@]}"; do
    echo "set title '$policy fit: fragmentation and free space'"
    echo "set key top left opaque"
    echo "set xlabel 'event'; set ylabel 'percent'"
    echo "set yrange [0:100]; set xrange [0:*]"
    echo "plot '$out/$policy.events.dat' using 1:2 with steps lw 1.5 lc rgb '#e15759' title 'fragmentation (1 - largest/free)', \\"
    echo "     '' using 1:(100*\$3/$arena_kib) with steps lc rgb '#4e79a7' title 'free (% of arena)'"
  done
  echo "unset multiplot"
} > "$out/plot.gp"
gnuplot "$out/plot.gp" && echo "arena-report: plot in $out/arena-report.png"
exit $failed
