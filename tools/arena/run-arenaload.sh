#!/usr/bin/env bash
# run-arenaload.sh POLICY LOG TIMEOUT: boots Mneme with `fit=POLICY arenalog=1 init=arenaload`, waits for
# arenaload's summary line (or init's report that it failed), then stops QEMU. The serial log is LOG; exit
# status 0 when arenaload finished its workload. Used by tools/arena/report.sh (make arena-report) and
# tests/scripts/arena-log.sh.
set -u
cd "$(dirname "$0")/../.."
policy=$1 log=$2 timeout=$3
rm -f "$log"
tools/qemu.sh --timeout "$timeout" --append "fit=$policy arenalog=1 init=arenaload" --log "$log" > /dev/null 2>&1 &
qemu=$!
for _ in $(seq $((timeout * 10))); do
  grep -q '^arenaload: done\|^\[init\] arenaload: ' "$log" 2> /dev/null && break
  kill -0 "$qemu" 2> /dev/null || break
  sleep 0.1
done
kill "$qemu" 2> /dev/null
wait "$qemu" 2> /dev/null
grep -q '^arenaload: done' "$log"
