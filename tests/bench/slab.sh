#!/usr/bin/env bash
# slab.sh: `make bench` runs this instead of build/bench/slab (see tools/run-bench.sh).
#
# build/bench/slab runs once per system allocator through tools/bench-allocators.sh (LD_PRELOAD, with
# MNEME_BENCH_ALLOCATOR set): the glibc run measures the slab cache, kmalloc and glibc malloc on the same
# patterns and prints the ratios against the slab targets (docs/slab.md); the jemalloc, mimalloc, tcmalloc (and mneme
# malloc, when built) runs measure only malloc/free on those patterns. Each benchmark is repeated; the
# median and the minimum CPU time are shown and the targets use the minimum, since other jobs may share the
# machine (tests/bench/MedianReporter.h). Extra arguments go to the binary.
set -u
cd "$(dirname "$0")/../.."
binary=build/bench/slab
if [ ! -x "$binary" ]; then
  echo "slab.sh: $binary is missing (make build/bench/slab)" >&2
  exit 1
fi
exec tools/bench-allocators.sh "$binary" --benchmark_repetitions=5 \
  --benchmark_min_time=0.2 "$@"
