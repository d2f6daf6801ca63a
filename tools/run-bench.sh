#!/usr/bin/env bash
# run-bench.sh: every benchmark, host and in-QEMU. Prints figures; never fails on a time.
#
# Host: each build/bench/NAME runs, or tests/bench/NAME.sh when it exists (to compare allocators under
# LD_PRELOAD, see tools/bench-allocators.sh). In QEMU: tests/bench/qemu-*.sh scripts count instructions
# under -icount shift=0.
set -u
cd "$(dirname "$0")/.."
status=0
# Every part's output is also kept in build/bench.log, and the run ends with every target marked MISSED, in
# one place: a regression shows there instead of in the middle of pages of figures.
mkdir -p build
: > build/bench.log
part() {  # part COMMAND...: runs it, its output to the terminal and the log; its exit status
  "$@" 2>&1 | tee -a build/bench.log
  return "${PIPESTATUS[0]}"
}
for binary in build/bench/*; do
  [ -x "$binary" ] || continue
  name=$(basename "$binary")
  echo
  echo "== $name"
  if [ -x "tests/bench/$name.sh" ]; then
    part "tests/bench/$name.sh" || status=1
  else
    part "$binary" || status=1
  fi
done
# Scripts with no benchmark binary of their name and not in QEMU: figures from host tools (swap-policies.sh).
for script in tests/bench/*.sh; do
  name=$(basename "$script" .sh)
  [ -x "$script" ] && [ ! -e "build/bench/$name" ] && [[ "$name" != qemu-* ]] || continue
  echo
  echo "== $name"
  part "$script" || status=1
done
for script in tests/bench/qemu-*.sh; do
  [ -x "$script" ] || continue
  echo
  echo "== $(basename "$script" .sh)"
  part "$script" || status=1
done
echo
echo "== targets missed in this run (see each part above for the figures and why)"
missed=$(grep -E 'MISSED' build/bench.log | grep -vE '^(workload|small|shortlived|hash|compiler|perl|gcc) |^ {8,}(first|next|best|worst) ' || true)
if [ -z "$missed" ]; then echo "  none"; else printf '%s\n' "$missed" | sed 's/^ */  /'; fi
echo "  (a figure can miss on a loaded machine: run its part again alone before calling it a regression)"
exit $status
