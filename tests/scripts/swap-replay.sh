#!/usr/bin/env bash
# swap-replay.sh: the page replacement tool, build/host/mneme-replay, on the strings docs/swapping.md shows.
#
# Belady's anomaly under FIFO (9 faults with 3 frames, 10 with 4) in the per-access view and in the table,
# OPT's 7 faults beside every policy, write-backs under clock and enhanced clock, the accessed and dirty
# bits (--bits), a generated workload, and a clear usage error (exit status 2) on bad input. One line per check: "PASS <name>" or "FAIL <name> <reason>". Needs `make test-artifacts`.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
replay="$root/build/host/mneme-replay"
belady=1,2,3,4,1,2,5,1,2,3,4,5

if [ ! -x "$replay" ]; then
  echo "FAIL swap-replay.tool $replay missing (make test-artifacts)"
  exit 0
fi

# expect NAME PATTERN COMMAND...: COMMAND's output (stdout and stderr) must have a line matching PATTERN
# (grep -E).
expect() {
  local name="$1" pattern="$2" output; shift 2
  output="$("$@" 2>&1)"
  if grep -qE -- "$pattern" <<< "$output"; then
    echo "PASS swap-replay.$name"
  else
    echo "FAIL swap-replay.$name: no line matching '$pattern' in:"
    sed 's/^/    /' <<< "$output" | head -20
  fi
}

# status NAME EXPECTED COMMAND...: COMMAND must exit with EXPECTED.
status() {
  local name="$1" expected="$2" actual; shift 2
  "$@" > /dev/null 2>&1
  actual=$?
  if [ "$actual" -eq "$expected" ]; then
    echo "PASS swap-replay.$name"
  else
    echo "FAIL swap-replay.$name: exit status $actual, expected $expected"
  fi
}

expect fifo-3-frames '^fifo: 3 hits, 9 misses, 0 write-backs$' "$replay" --policy fifo --frames 3 "$belady"
expect fifo-4-frames '^fifo: 2 hits, 10 misses, 0 write-backs$' "$replay" --policy fifo --frames 4 "$belady"
expect fifo-victim '^ +4  4 +miss +1 +4 2 3$' "$replay" --policy fifo --frames 3 "$belady"
expect anomaly-table-3 '^ +3 +9$' "$replay" --policy fifo --frames 1-5 "$belady"
expect anomaly-table-4 '^ +4 +10$' "$replay" --policy fifo --frames 1-5 "$belady"
expect opt-side-by-side '^misses +9 +9 +9 +10 +10 +9 +7$' "$replay" --policy all --frames 3 "$belady"
expect clock-write-backs '^clock: 0 hits, 5 misses, 2 write-backs$' "$replay" --policy clock --frames 3 1w,2w,3,4,5
expect eclock-write-backs '^eclock: 0 hits, 5 misses, 1 write-back$' "$replay" --policy eclock --frames 3 1w,2w,3,4,5
expect workload '^80-20 workload: 50 pages, 500 accesses, seed 3, 25% writes$' \
  "$replay" --workload 80-20 --pages 50 --length 500 --seed 3 --frames 2-8
expect bad-string "^mneme-replay: bad reference string: unexpected 'x' at character 3" "$replay" 1,x,3
expect bad-option "^mneme-replay: unknown policy 'lfu'" "$replay" --policy lfu 1,2
status usage-status 2 "$replay" --frames 0 1,2
status help-status 0 "$replay" --help
expect bits '^ +5  4 +miss +1 +4/10 2/11 3/10$' "$replay" --policy fifo --frames 3 --bits 1,2w,3,1,4
expect bits-one-run '^mneme-replay: --bits shows the frames of one run' "$replay" --policy all --bits 1,2
