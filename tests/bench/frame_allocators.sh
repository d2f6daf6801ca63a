#!/usr/bin/env bash
# frame_allocators.sh: `make bench` runs this instead of build/bench/frame_allocators (tools/run-bench.sh).
#
# Each benchmark is repeated; the median and the minimum CPU time are shown and the target summary at the
# end uses the minimum, since other jobs may share the machine (tests/bench/MedianReporter.h). Extra
# arguments go to the binary.
set -u
cd "$(dirname "$0")/../.."
binary=build/bench/frame_allocators
if [ ! -x "$binary" ]; then
  echo "frame_allocators.sh: $binary is missing (make build/bench/frame_allocators)" >&2
  exit 1
fi
exec "$binary" --benchmark_repetitions=5 --benchmark_min_time=0.2 "$@"
