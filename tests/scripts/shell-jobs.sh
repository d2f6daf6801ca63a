#!/usr/bin/env bash
# shell-jobs.sh: the shell keeps the name of every background job, however many run at once (it used to
# track 16 and report the rest as "[done] pid N ?"). Starts 20 background `spin`s, kills each, and expects 20
# "[done] pid N spin: killed by SIGTERM" lines. Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/shell-jobs.log
readonly jobs=20

fifo=$(mktemp -u)
mkfifo "$fifo"
tools/qemu.sh --timeout 90 < "$fifo" > "$log" 2>&1 &
qemu=$!
exec 3> "$fifo"

# wait_for PATTERN [COUNT]: until the log has COUNT lines matching PATTERN (grep -E), at most 30 s.
wait_for() {
  local pattern=$1 count=${2:-1}
  for _ in $(seq 300); do
    [ "$(grep -cE -- "$pattern" "$log" 2>/dev/null)" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}

verdict="PASS shell-jobs.names-kept ($jobs background jobs)"
if ! wait_for '^Mneme shell'; then
  verdict="FAIL shell-jobs: no shell prompt; log: $log"
else
  for i in $(seq "$jobs"); do
    printf 'spin &\r' >&3
    wait_for '^\[bg\] pid [0-9]+ spin' "$i" || { verdict="FAIL shell-jobs: job $i did not start; log: $log"; break; }
  done
  for pid in $(grep -oE '^\[bg\] pid [0-9]+' "$log" | grep -oE '[0-9]+$'); do printf 'kill %s\r' "$pid" >&3; done
  printf '\r' >&3  # the shell reports ended jobs before its next prompt
  if [[ $verdict == PASS* ]] && ! wait_for '^\[done\] pid [0-9]+ spin: killed by SIGTERM' "$jobs"; then
    named=$(grep -cE '^\[done\] pid [0-9]+ spin:' "$log")
    verdict="FAIL shell-jobs: $named of $jobs ended jobs reported by name ($(grep -cE '^\[done\] pid [0-9]+ \?' "$log") as '?'); log: $log"
  fi
fi
exec 3>&-
kill "$qemu" 2>/dev/null
wait "$qemu" 2>/dev/null
rm -f "$fifo"
echo "$verdict"
