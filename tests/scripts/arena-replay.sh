#!/usr/bin/env bash
# arena-replay.sh: the arena placement tool, build/host/mneme-arena, on the trace docs/arena.md shows
# (tools/arena/policies.trace).
#
# The placements worked out by hand in tests/host/ArenaMapTest.cpp under each policy, the holes after a
# step, the per-policy summary (failed allocations, fragmentation), compaction on a failed allocation, and
# clear errors naming the line (exit status 2) on bad traces. One line per check: "PASS <name>" or
# "FAIL <name> <reason>". Needs `make test-artifacts`.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
arena="$root/build/host/mneme-arena"
trace="$root/tools/arena/policies.trace"

if [ ! -x "$arena" ]; then
  echo "FAIL arena-replay.tool $arena missing (make test-artifacts)"
  exit 0
fi

# expect NAME PATTERN COMMAND...: COMMAND's output (stdout and stderr) must have a line matching PATTERN
# (grep -E).
expect() {
  local name="$1" pattern="$2" output; shift 2
  output="$("$@" 2>&1)"
  if grep -qE -- "$pattern" <<< "$output"; then
    echo "PASS arena-replay.$name"
  else
    echo "FAIL arena-replay.$name: no line matching '$pattern' in:"
    sed 's/^/    /' <<< "$output" | head -20
  fi
}

# status NAME EXPECTED COMMAND...: COMMAND must exit with EXPECTED.
status() {
  local name="$1" expected="$2" actual; shift 2
  "$@" > /dev/null 2>&1
  actual=$?
  if [ "$actual" -eq "$expected" ]; then
    echo "PASS arena-replay.$name"
  else
    echo "FAIL arena-replay.$name: exit status $actual, expected $expected"
  fi
}

# placements NAME POLICY EXPECTED: the addresses of allocations 5, 6 and 7 under POLICY, space-separated.
placements() {
  local name="$1" policy="$2" expected="$3" actual
  actual=$("$arena" --size 100 --policy "$policy" "$trace" 2>&1 | awk '$2 ~ /^#[567]$/ && $3 == "->" { print $4 }' |
    paste -sd ' ')
  if [ "$actual" = "$expected" ]; then
    echo "PASS arena-replay.$name"
  else
    echo "FAIL arena-replay.$name: allocations 5-7 at '$actual', expected '$expected'"
  fi
}

placements first first "0xa 0x28 -1"
placements next next "0x50 0xa 0x28"
placements best best "0xa 0x50 0x28"
placements worst worst "0x28 0xa -1"
expect holes '^-3 +#3 +<- 0x28 +free 70, largest 30, 3 holes: \[0xa,0x1e\) \[0x28,0x46\) \[0x50,0x64\)$' \
  "$arena" --size 100 "$trace"
expect summary-first '^first: 1 of 8 allocations failed; free 35 in 3 holes, largest 20; fragmentation 42\.8%$' \
  "$arena" --size 100 --policy all "$trace"
expect summary-best '^best: 0 of 8 allocations failed; free 10 in 2 holes, largest 5; fragmentation 50\.0%$' \
  "$arena" --size 100 --policy all "$trace"
expect compact-moves '^    move #6 \[0x28,0x3c\) -> \[0x23,0x37\)$' "$arena" --size 100 --compact "$trace"
expect compact-retry '^\+25 +#7 +-> 0x41 ' "$arena" --size 100 --compact "$trace"
expect granule '^\+1 +#1 +-> 0x101000 ' "$arena" --base 0x100000 --size 64K --granule 4K - <<< $'+1\n+1'
expect map '^    \|0000011111\.{10}\|$' "$arena" --size 100 --map 20 - <<< $'+25\n+25'
expect bad-op "^mneme-arena: stdin:2: unknown operation '\\*5'" "$arena" - <<< $'+5\n*5'
expect bad-number "^mneme-arena: stdin:1: bad number 'x' in '\\+x'" "$arena" - <<< '+x'
expect size-zero '^mneme-arena: stdin:3: allocation 1 has size 0$' "$arena" - <<< $'# a comment\n+4\n+0'
expect double-free '^mneme-arena: stdin:3: free of allocation 0, which is already freed$' "$arena" - <<< $'+4\n-0\n-0'
expect unknown-free '^mneme-arena: stdin:2: free of allocation 1, which is not made yet \(1 so far\)$' \
  "$arena" - <<< $'+4\n-1'
status bad-trace-status 2 "$arena" - <<< '-0'
status bad-policy-status 2 "$arena" --policy buddy "$trace"
status bad-granule-status 2 "$arena" --granule 3 "$trace"
status help-status 0 "$arena" --help
