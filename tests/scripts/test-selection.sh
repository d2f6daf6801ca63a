#!/usr/bin/env bash
# test-selection.sh: a test= selection that names nothing, or names a test that does not exist, fails the run
# (QEMU exit status 35) with a sentence saying why; it never "passes" having run nothing.
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"

# check NAME SELECTION PATTERN: boots with test=SELECTION; expects status 35 and PATTERN (grep -E) in the log.
check() {
  local name=$1 selection=$2 pattern=$3 log=$logs/test-selection-$1.log status
  tools/qemu.sh --append "test=$selection" --log "$log" --timeout 60 > /dev/null 2>&1
  status=$?
  if [ "$status" -ne 35 ]; then
    echo "FAIL test-selection.$name: test=$selection: QEMU exit status $status, expected 35 (tests failed); see $log"
  elif ! grep -qE -- "$pattern" "$log"; then
    echo "FAIL test-selection.$name: test=$selection: no line matching '$pattern' in $log"
  else
    echo "PASS test-selection.$name"
  fi
}

check only-commas ',,,' "test: the selection ',,,' names no tests"
check unknown-suite 'nosuchsuite' "ktest: no test or suite named 'nosuchsuite'"
