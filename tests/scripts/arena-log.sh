#!/usr/bin/env bash
# arena-log.sh: the arenalog=1 lines make arena-report reads (kernel/memmodel/Arena.h). Boots once with
# `fit=best arenalog=1 init=arenaload` and checks that
#   - arenaload runs its workload to the end, and the kernel prints arenalog lines for it;
#   - every line parses: seq counts up from 0, a known op, the fields that op has, decimal numbers;
#   - the totals are the arena's: free + used = its size, largest hole <= free, frag = 1000 * (1 - largest/free);
#   - the events account: every place is freed by the end, and every free, move and resize names a segment
#     that is there (by offset), with the size it has; compactions happen, and their moves are logged.
# About ten seconds. Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/arena-log.qemu.log
tools/arena/run-arenaload.sh best "$log" 60

if grep -q '^arenaload: done' "$log"; then
  echo "PASS arena-log: arenaload ran its workload ($(grep '^arenaload: done' "$log" | tr -d '\r'))"
else
  echo "FAIL arena-log: arenaload did not finish (log: $log)"
  exit 0
fi
arena=$(sed -nE 's/.*arena: ([0-9]+) KiB at physical.*/\1/p' "$log" | head -1)
tr -d '\r' < "$log" | awk -v arena_bytes=$((arena * 1024)) '
  function bad(what) { if (errors++ < 5) printf "FAIL arena-log: %s: %s\n", $2, what }
  $1 != "arenalog:" { next }
  {
    delete f
    for (i = 2; i <= NF; ++i) {
      if (split($i, kv, "=") != 2) { bad("not key=value: " $i); continue }
      f[kv[1]] = kv[2]
      if (kv[1] != "op" && kv[2] != "none" && kv[2] !~ /^-?[0-9]+$/) bad("not a decimal number: " $i)
    }
    lines++
    if (f["seq"] != expected) bad("seq " f["seq"] ", expected " expected)
    expected = f["seq"] + 1
    need = "free largest holes used frag"
    op = f["op"]
    if (op == "place" || op == "free" || op == "fail") need = need " off size pid"
    else if (op == "resize") need = need " off size pid old"
    else if (op == "move") need = need " off size pid from"
    else if (op == "compact") need = need " moved moves"
    else if (op == "rotate") need = need " moved"
    else bad("unknown op " op)
    n = split(need, keys, " ")
    for (k = 1; k <= n; ++k) if (!(keys[k] in f)) bad(op " without " keys[k])
    if (f["free"] + f["used"] != arena_bytes) bad("free + used = " f["free"] + f["used"] ", not " arena_bytes)
    if (f["largest"] > f["free"]) bad("largest hole above the free total")
    want = f["free"] ? int((f["free"] - f["largest"]) * 1000 / f["free"]) : 0
    if (f["frag"] != want) bad("frag " f["frag"] ", expected " want)
    off = f["off"]; size = f["size"]
    if (op == "place") { if (off in live) bad("place at a live offset " off); live[off] = size; ++places }
    if (op == "free") {
      if (live[off] != size) bad("free of " off " (" size " bytes), where is " (off in live ? live[off] : "nothing"))
      delete live[off]; ++frees
    }
    if (op == "resize") { if (live[off] != f["old"]) bad("resize of " off " from " f["old"]); live[off] = size }
    # The moves of a compaction or rotation land in their new places together (a rotation logs a block
    # moving onto the old place of one whose move comes later).
    if (op == "move") {
      if (live[f["from"]] != size) bad("move from " f["from"])
      delete live[f["from"]]; arriving[off] = size
    }
    if (op != "move") for (o in arriving) {
      if (o in live) bad("moved onto a live segment at " o)
      live[o] = arriving[o]; delete arriving[o]
    }
    if (op == "compact") { ++compactions; if (f["moves"] > 0) ++moving }
  }
  END {
    left = 0; for (o in live) ++left
    if (left) bad(left " segments never freed")
    if (!lines) print "FAIL arena-log: no arenalog lines"
    else if (!errors) printf "PASS arena-log: %d lines parse, the totals add up to the arena, %d places and %d frees account\n", lines, places, frees
    if (compactions && moving) printf "PASS arena-log: %d compactions logged, with their moves\n", compactions
    else print "FAIL arena-log: no compaction with moves (the workload should need some)"
  }'
