#!/usr/bin/env bash
# run-bench.sh: every benchmark, host and in-QEMU. Prints figures; never fails on a time.
#
# Host: each build/bench/NAME runs, or tests/bench/NAME.sh when it exists (to compare allocators under
# LD_PRELOAD, see tools/bench-allocators.sh). In QEMU: tests/bench/qemu-*.sh scripts count instructions
# under -icount shift=0.
set -u
cd "$(dirname "$0")/.."
status=0
for binary in build/bench/*; do
  [ -x "$binary" ] || continue
  name=$(basename "$binary")
  echo
  echo "== $name"
  if [ -x "tests/bench/$name.sh" ]; then
    "tests/bench/$name.sh" || status=1
  else
    "$binary" || status=1
  fi
done
# Scripts with no benchmark binary of their name and not in QEMU: figures from host tools (swap-policies.sh).
for script in tests/bench/*.sh; do
  name=$(basename "$script" .sh)
  [ -x "$script" ] && [ ! -e "build/bench/$name" ] && [[ "$name" != qemu-* ]] || continue
  echo
  echo "== $name"
  "$script" || status=1
done
for script in tests/bench/qemu-*.sh; do
  [ -x "$script" ] || continue
  echo
  echo "== $(basename "$script" .sh)"
  "$script" || status=1
done
exit $status
