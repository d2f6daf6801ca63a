#!/usr/bin/env bash
# malloc.sh: the allocator comparison `make bench` prints for the Mneme malloc.
#
# Runs build/bench/malloc once per workload and allocator (tools/bench-allocators.sh swaps glibc,
# jemalloc, mimalloc, tcmalloc and build/host/libmneme_malloc.so in with LD_PRELOAD), REPEAT times, and
# prints one table: the best time of each, the Mneme default's ratio to glibc and to mimalloc, their
# geometric means, and peak RSS (ru_maxrss of the process; the workload's own share, peak minus the RSS
# before it started, in brackets). Figures only: nothing here fails on time.
#
#   REPEAT=5 tests/bench/malloc.sh          more repetitions
#   WORKLOADS="pair64 larson" tests/bench/malloc.sh
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
binary=build/bench/malloc
repeat="${REPEAT:-3}"
workloads="${WORKLOADS:-pair64 pair4k batch64 shortlived larson sh6bench realloc}"
allocators="glibc jemalloc mimalloc tcmalloc mneme"
for needed in "$binary" build/host/libmneme_malloc.so; do
  if [ ! -e "$needed" ]; then echo "malloc bench: $needed missing (make bench-artifacts)"; exit 0; fi
done

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for workload in $workloads; do
  for ((i = 0; i < repeat; ++i)); do
    tools/bench-allocators.sh "$binary" "$workload" >> "$results" 2>/dev/null
  done
done

awk -v workloads="$workloads" -v allocators="$allocators" '
  { key = $1 " " $2
    if (!(key in best) || $3 < best[key]) best[key] = $3
    if (!(key in rss) || $5 > rss[key]) { rss[key] = $5; own[key] = $5 - $6 }
    ops[$1] = $4 }
  END {
    nw = split(workloads, w, " "); na = split(allocators, a, " ")
    printf "Mneme malloc (default policy) against system allocators: best of runs, seconds\n\n"
    printf "%-11s", "workload"; for (j = 1; j <= na; ++j) printf " %9s", a[j]
    printf " %9s %9s\n", "vs glibc", "vs mimal."
    for (i = 1; i <= nw; ++i) {
      printf "%-11s", w[i]
      for (j = 1; j <= na; ++j) { k = w[i] " " a[j]; if (k in best) printf " %9.4f", best[k]; else printf " %9s", "-" }
      m = w[i] " mneme"; g = w[i] " glibc"; mi = w[i] " mimalloc"
      if ((m in best) && (g in best)) { r = best[m] / best[g]; printf " %8.2fx", r; lg += log(r); ng++ } else printf " %9s", "-"
      if ((m in best) && (mi in best)) { r = best[m] / best[mi]; printf " %8.2fx", r; lm += log(r); nm++ } else printf " %9s", "-"
      printf "\n"
    }
    printf "%-11s", "geo. mean"; for (j = 1; j <= na; ++j) printf " %9s", ""
    printf " %8.2fx %8.2fx\n", (ng ? exp(lg / ng) : 0), (nm ? exp(lm / nm) : 0)
    p64 = "pair64 mneme"; p64g = "pair64 glibc"
    if ((p64 in best) && (p64g in best))
      printf "\n64-byte malloc+free pair: mneme %.1f ns, glibc %.1f ns\n", best[p64] * 1e9 / ops["pair64"], best[p64g] * 1e9 / ops["pair64"]

    printf "\nPeak RSS, KiB (the workload'"'"'s own share in brackets)\n\n"
    printf "%-11s", "workload"; for (j = 1; j <= na; ++j) printf " %16s", a[j]
    printf " %9s\n", "vs glibc"
    for (i = 1; i <= nw; ++i) {
      printf "%-11s", w[i]
      for (j = 1; j <= na; ++j) { k = w[i] " " a[j]; if (k in rss) printf " %7d (%6d)", rss[k], own[k]; else printf " %16s", "-" }
      m = w[i] " mneme"; g = w[i] " glibc"
      if ((m in rss) && (g in rss)) {
        r = rss[m] / rss[g]; printf " %8.2fx", r; lr += log(r); nr++
        if (r > worst_rss) { worst_rss = r; worst_name = w[i] }
      }
      printf "\n"
    }
    printf "%-11s", "geo. mean"; for (j = 1; j <= na; ++j) printf " %16s", ""
    printf " %8.2fx\n", (nr ? exp(lr / nr) : 0)

    # The user-malloc issue'"'"'s targets for the default policy, in the format of the other benchmarks.
    printf "\nmalloc targets (default policy):\n"
    if ((p64 in best) && (p64g in best)) target("64-byte malloc+free pair / glibc", best[p64] / best[p64g], 1.0)
    if (nm) target("time, geometric mean / mimalloc", exp(lm / nm), 1.2)
    if (nr) {
      target("peak RSS, geometric mean / glibc", exp(lr / nr), 1.1)
      target("peak RSS, worst workload (" worst_name ") / glibc", worst_rss, 1.1)
    }
  }
  function target(what, value, limit) {
    printf "  %-48s %7.2f x  (target <= %g x) %s\n", what, value, limit, (value <= limit ? "met" : "MISSED")
  }' "$results"
