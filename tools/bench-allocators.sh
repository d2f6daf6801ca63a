#!/usr/bin/env bash
# bench-allocators.sh: run one host benchmark binary once per system allocator, for side-by-side figures.
#
# Usage: tools/bench-allocators.sh [--only NAMES] BINARY [ARGS...]
#
# Each allocator is swapped in with LD_PRELOAD, the way mimalloc-bench compares allocators, so the very
# same machine code calls malloc/free and only the allocator differs. Every run sees
# MNEME_BENCH_ALLOCATOR=<name> (glibc, jemalloc, mimalloc, tcmalloc, mneme) so the binary can label or
# select what it measures. A library that is missing is reported and skipped, never fatal.
set -u
only=""
if [ "${1:-}" = "--only" ]; then only="$2"; shift 2; fi
binary="$1"; shift
libdir=/usr/lib/x86_64-linux-gnu
declare -A preload=(
  [glibc]=""
  [jemalloc]="$libdir/libjemalloc.so.2"
  [mimalloc]="$libdir/libmimalloc.so.2"
  [tcmalloc]="$libdir/libtcmalloc_minimal.so.4"
  [mneme]="$(pwd)/build/host/libmneme_malloc.so"
)
for name in glibc jemalloc mimalloc tcmalloc mneme; do
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  lib="${preload[$name]}"
  if [ -n "$lib" ] && [ ! -e "$lib" ]; then
    echo "bench-allocators: $name skipped ($lib not found)" >&2
    continue
  fi
  MNEME_BENCH_ALLOCATOR=$name LD_PRELOAD="$lib" "$binary" "$@"
done
