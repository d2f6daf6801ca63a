#!/usr/bin/env bash
# swap-policies.sh: page faults of every replacement policy on the same workloads, with exact LRU and OPT
# beside them, through build/host/mneme-replay (the very mm/swap classes the kernel runs). Figures, not a
# timed test. Workloads: 100 pages (the loop: frames + 1), 20,000 accesses, 25% writes, seed 1, at half the
# working set (50 frames). OPT is the floor; on random traces no online policy comes near it, so the
# targets are set against exact LRU, which the approximations imitate, on the 80/20 workload: clock and aging
# within 1.15x LRU's faults, NRU (eclock) within 1.25x; and no policy below OPT anywhere.
set -u
cd "$(dirname "$0")/../.."
replay=build/host/mneme-replay
[ -x "$replay" ] || { echo "swap-policies: $replay is missing (make replay)"; exit 1; }
policies="fifo clock eclock aging random lru opt"
status=0
printf '%-10s' "faults"
for p in $policies; do printf '%9s' "$p"; done
echo
for workload in scan uniform 80-20 loop; do
  args=(--workload "$workload" --frames 50 --length 20000 --summary)
  [ "$workload" = loop ] || args+=(--pages 100)
  line=$("$replay" --policy all "${args[@]}" | grep '^misses') || { echo "swap-policies: mneme-replay failed on $workload"; exit 1; }
  read -r _ fifo clock eclock aging lru random opt <<< "$line"
  declare -A misses=([fifo]=$fifo [clock]=$clock [eclock]=$eclock [aging]=$aging [lru]=$lru [random]=$random [opt]=$opt)
  printf '%-10s' "$workload"
  for p in $policies; do printf '%9s' "${misses[$p]}"; done
  echo
  for p in $policies; do
    if [ "${misses[$p]}" -lt "$opt" ]; then
      echo "  $p faults less than OPT on $workload: impossible, a bug"
      status=1
    fi
  done
  if [ "$workload" = 80-20 ]; then
    eighty=("${misses[clock]}" "${misses[aging]}" "${misses[eclock]}" "$lru")
  fi
done
echo
echo "targets (80/20 workload, 50 frames for 100 pages, against exact LRU's ${eighty[3]} faults):"
check() {  # check NAME FAULTS LIMIT-PERCENT
  local ratio=$(( $2 * 1000 / eighty[3] ))
  local verdict="met"
  [ $(( $2 * 100 )) -le $(( eighty[3] * $3 )) ] || verdict="MISSED"
  printf '  %-7s %6s faults = %d.%03dx LRU   target <= %d.%02dx  %s\n' "$1" "$2" $((ratio / 1000)) $((ratio % 1000)) \
    $(($3 / 100)) $(($3 % 100)) "$verdict"
}
check clock "${eighty[0]}" 115
check aging "${eighty[1]}" 115
# Aging's 8-bit registers remember 8 ticks: when a tick comes every 4 accesses, a hot page of the 80/20 set
# (reused about every 25 accesses) looks as cold as any other, and aging degrades towards FIFO. The
# kernel's tick (10 ms) spans far more accesses than a page's reuse distance; a tick every 16 accesses is
# the closest the simulator gets to that here.
aging16=$("$replay" --policy aging --tick 16 --workload 80-20 --pages 100 --frames 50 --length 20000 --summary | grep misses |
  sed -E 's/.* ([0-9]+) misses.*/\1/')
check "aging/16" "$aging16" 115
check nru "${eighty[2]}" 125
echo "  every policy at or above OPT on every workload: $([ $status = 0 ] && echo met || echo MISSED)"
echo "(aging: the table samples the A bits every 4 accesses (--tick 4), aging/16 every 16; the kernel on each timer tick)"
exit $status
