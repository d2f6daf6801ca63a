#!/usr/bin/env bash
# ctrl-c.sh: Ctrl-C at the user shell ends the foreground program and every process it started, and only
# those: a background program runs on, the shell prompts again, and every frame comes back. A line longer
# than the shell takes is refused with a sentence, and none of its characters is lost on the way.
#
# Types at the shell through the serial port (tools/qemu.sh without --log), waiting for each answer before
# the next key, and checks the output. Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/ctrl-c.log

fifo=$(mktemp -u)
mkfifo "$fifo"
tools/qemu.sh --timeout 40 < "$fifo" > "$log" 2>&1 &
qemu=$!
exec 3> "$fifo"

# wait_for PATTERN [COUNT]: until the log has COUNT lines matching PATTERN (grep -E), at most 15 s.
wait_for() {
  local pattern=$1 count=${2:-1}
  for _ in $(seq 150); do
    [ "$(grep -cE -- "$pattern" "$log" 2>/dev/null)" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}
type() { printf '%b' "$1" >&3; }

ok=true
step() {  # step DESCRIPTION PATTERN [COUNT]
  if $ok && ! wait_for "$2" "${3:-1}"; then
    echo "FAIL ctrl-c: $1 (no /$2/ in $log)"
    ok=false
  fi
}

step "the shell prompt" '^Mneme shell'
type 'mem\r'
step "mem answers" '^  free +[0-9]+ frames'
type 'spin &\r'
step "a background spin starts" 'spin: pid [0-9]+ and 0 children spinning'
type 'spin 3\r'
step "a foreground spin with 3 children starts" 'spin: pid [0-9]+ and 3 children spinning'
sleep 0.5  # let the four spinners share the CPU for a few quanta
type '\x03'
step "Ctrl-C ends the foreground spin" '^\[killed by SIGINT\]'
step "its 3 children end too" 'reaped orphan pid [0-9]+ \(killed by SIGINT\)' 3
type '\r'
type 'ps\r'
step "ps answers" '^  PID  PPID STATE' 
background=$(grep -oE 'spin: pid [0-9]+ and 0 children' "$log" | grep -oE '[0-9]+' | head -1)
type "kill ${background:-0}\r"
step "the background spin survived until kill" 'killed by SIGTERM|\[done\].*spin'
type '\x03'  # at the prompt, with no foreground program: cancels the line, ends nothing
type 'mem\r'
step "mem answers again" '^  free +[0-9]+ frames' 2
# A line longer than the shell takes is refused as a whole, with a sentence, not run cut short. It is
# typed in one go, far faster than the shell reads, and every character must arrive: 3005 typed, 255
# taken, so 2750 counted past the limit (the console pauses the UART when its buffer is full rather than
# drop keystrokes; a dropped Enter would leave no answer at all).
type "echo $(printf 'x%.0s' $(seq 3000))\r"
step "an over-long line is refused, every character counted" \
  'sh: line too long: 2750 characters past the limit of 255 were not taken; nothing was run'
exec 3>&-
# The shell cannot power off: end QEMU once the last answer is in.
kill "$qemu" 2>/dev/null
wait "$qemu" 2>/dev/null
rm -f "$fifo"

if $ok; then
  # The ps after Ctrl-C lists the background spin (still alive) and none of the foreground job.
  ps_output=$(awk '/^  PID  PPID STATE/{grab=1; n++} grab && n==1' "$log" | head -8)
  spins=$(grep -c ' spin ' <<< "$ps_output")
  frees=$(grep -oE '^  free +[0-9]+' "$log" | grep -oE '[0-9]+')
  first=$(head -1 <<< "$frees")
  last=$(tail -1 <<< "$frees")
  if [ "$spins" != 1 ]; then
    echo "FAIL ctrl-c: after Ctrl-C ps should list exactly the background spin, found $spins; log: $log"
  elif [ "$first" != "$last" ]; then
    echo "FAIL ctrl-c: free frames $first before, $last after every spin ended (a leak); log: $log"
  else
    echo "PASS ctrl-c.job-ends"
    echo "PASS ctrl-c.background-survives"
    echo "PASS ctrl-c.no-frame-leaked ($first frames free before and after)"
    echo "PASS ctrl-c.long-line-refused"
  fi
fi
