#!/usr/bin/env bash
# ubench-units.sh: /bin/ubench labels what it measured. Run from the shell without -icount, an RDTSC
# difference is TSC ticks, and ubench says so (it used to print them as "instructions"); under QEMU's
# -icount shift=0 (as `make bench` runs it) its calibration passes and the figures are instructions.
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"

# run NAME [QEMU ARGUMENTS...]: boots to the shell, types `ubench`, waits for its last figure; the serial
# output is in $logs/ubench-NAME.log. Returns 1 when the figure never came.
run() {
  local name=$1 log=$logs/ubench-$1.log fifo qemu done=1
  shift
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  tools/qemu.sh --timeout 120 "$@" < "$fifo" > "$log" 2>&1 &
  qemu=$!
  exec 3> "$fifo"
  for _ in $(seq 300); do grep -q '^Mneme shell' "$log" && break; sleep 0.1; done
  printf 'ubench\r' >&3
  for _ in $(seq 1000); do
    grep -q '^bench: copy-on-write fault' "$log" && { done=0; break; }
    kill -0 "$qemu" 2> /dev/null || break
    sleep 0.1
  done
  exec 3>&-
  kill "$qemu" 2> /dev/null
  wait "$qemu" 2> /dev/null
  rm -f "$fifo"
  return $done
}

# expect NAME PATTERN...: each grep -E pattern must match a line of the log; a pattern starting with ! must not.
expect() {
  local name=$1 log=$logs/ubench-$1.log
  shift
  for pattern in "$@"; do
    local negate=0
    [ "${pattern:0:1}" = "!" ] && negate=1 && pattern=${pattern:1}
    if grep -qE -- "$pattern" "$log"; then found=1; else found=0; fi
    if [ "$found" -eq "$negate" ]; then
      echo "FAIL ubench-units.$name: $([ $negate = 1 ] && echo has || echo lacks) /$pattern/; log: $log"
      return
    fi
  done
  echo "PASS ubench-units.$name"
}

if run plain; then
  expect plain '^bench: calibration: a 100-instruction loop body measures [0-9]+ TSC units' \
    "not under QEMU's -icount shift=0" '^bench: getpid round trip: [0-9]+ TSC ticks' \
    '^bench: demand-zero fault .*: [0-9]+ TSC ticks' '!^bench: .*: [0-9]+ instructions'
else
  echo "FAIL ubench-units.plain: ubench never printed its last figure; log: $logs/ubench-plain.log"
fi
if run icount -- -icount shift=0; then
  expect icount '^bench: calibration: a 100-instruction loop body measures (98|99|100|101|102) TSC units' \
    '^bench: getpid round trip: [0-9]+ instructions' '^bench: demand-zero fault .*: [0-9]+ instructions' \
    '!TSC ticks' '!not under'
else
  echo "FAIL ubench-units.icount: ubench never printed its last figure; log: $logs/ubench-icount.log"
fi
