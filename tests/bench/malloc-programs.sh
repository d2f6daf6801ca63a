#!/usr/bin/env bash
# malloc-programs.sh: real programs under the fit policies, the figures `make bench` prints for them.
#
# Each program runs with build/host/libmneme_malloc.so preloaded and MNEME_MALLOC naming the policy (the
# default, first, next, best, worst and their list versions), and once with glibc's malloc; best of REPEAT
# runs (wall-clock seconds), peak RSS from GNU time. The programs allocate as real programs do:
#
#   perl N     a perl hash of N keys being built: my %h; $h{"keyI"} = "value" x (I % 7 + 1) for 1..N
#   gcc -O2    cc1 compiling a generated C file of 500 structs and functions (2 500 lines)
#
# The list versions run with a time limit (LIMIT seconds, "> LIMIT" when it ran out): on these heaps they
# are what the indexed versions are there to avoid. Figures only: nothing here fails on time.
#
#   REPEAT=3 LIMIT=60 tests/bench/malloc-programs.sh
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
library="$root/build/host/libmneme_malloc.so"
repeat="${REPEAT:-3}"
limit="${LIMIT:-20}"
for needed in "$library" /usr/bin/time; do
  if [ ! -e "$needed" ]; then echo "malloc-programs: $needed missing (make bench-artifacts; apt-get install time)"; exit 0; fi
done
for tool in perl gcc; do
  command -v "$tool" >/dev/null || { echo "malloc-programs: $tool missing (apt-get install $tool)"; exit 0; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The C file: 500 structs and functions, five lines each.
for ((i = 0; i < 500; ++i)); do
  n=$((i % 13 + 1))
  printf 'struct s%d { int a; double b; char c[%d]; struct s%d* next; };\n' "$i" "$n" "$i"
  printf 'int f%d(struct s%d* p, int n) {\n' "$i" "$i"
  printf '    int t = %d; for (int k = 0; k < n; ++k) { t += p->a * k + (int)p->b; if (t > %d) t -= p->c[k %% %d]; p = p->next ? p->next : p; }\n' "$i" "$((i * 7))" "$n"
  printf '    return t + (n > %d ? f%d((struct s%d*)p, n - 1) : 0);\n' "$((i % 5))" "$(( i > 0 ? i - 1 : 0 ))" "$(( i > 0 ? i - 1 : 0 ))"
  printf '}\n'
done > "$work/generated.c"

# run ALLOCATOR TIMEOUT COMMAND...: prints "SECONDS RSS_KIB", or "> TIMEOUT -" when it ran out.
run() {
  local allocator=$1 timeout=$2 best="" rss="" i start end elapsed
  shift 2
  for ((i = 0; i < repeat; ++i)); do
    start=$EPOCHREALTIME
    if [ "$allocator" = glibc ]; then
      timeout "$timeout" /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1
    else
      MNEME_MALLOC=$allocator LD_PRELOAD="$library" timeout "$timeout" /usr/bin/time -f %M -o "$work/rss" "$@" \
        >/dev/null 2>&1
    fi
    local status=$?
    end=$EPOCHREALTIME
    if [ $status -eq 124 ]; then echo ">$timeout -"; return; fi
    if [ $status -ne 0 ]; then echo "failed -"; return; fi
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    if [ -z "$best" ] || awk -v a="$elapsed" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$elapsed; fi
    rss=$(tail -1 "$work/rss")
  done
  echo "$best $rss"
}

indexed="default first next best worst"
lists="first-list next-list best-list worst-list"
declare -A seconds rss
met=0 judged=0
programs=("perl 100 000 keys" "perl 200 000 keys" "gcc -O2, 2 500 lines")
commands=("perl -e 'my %h; \$h{\"key\$_\"} = \"value\" x (\$_ % 7 + 1) for 1..100000'"
  "perl -e 'my %h; \$h{\"key\$_\"} = \"value\" x (\$_ % 7 + 1) for 1..200000'"
  "gcc -O2 -c $work/generated.c -o $work/generated.o")
with_lists=(yes no yes)
echo "Real programs with libmneme_malloc.so preloaded (MNEME_MALLOC=policy) and with glibc's malloc: best of"
echo "$repeat runs, seconds, and peak RSS in MiB; list versions limited to $limit s. The target: every indexed"
echo "policy within 2x of the default's time."
echo
printf '%-22s %-10s %8s %8s %9s %s\n' program allocator seconds "RSS MiB" "/default" ""
for p in "${!programs[@]}"; do
  names="glibc $indexed"
  [ "${with_lists[$p]}" = yes ] && names="$names $lists"
  first_row=1
  for name in $names; do
    read -r s r < <(eval run "$name" "$([[ $name == *-list ]] && echo "$limit" || echo 600)" "${commands[$p]}")
    seconds[$p,$name]=$s
    ratio="" verdict=""
    base=${seconds[$p,default]:-}
    if [ "$name" != glibc ] && [ "$name" != default ] && [[ "$s" =~ ^[0-9.]+$ ]] && [[ "$base" =~ ^[0-9.]+$ ]]; then
      ratio=$(awk -v a="$s" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
      if [[ $name != *-list ]]; then
        verdict=$(awk -v a="$s" -v b="$base" 'BEGIN { print (a <= 2 * b ? "met" : "MISSED") }')
      fi
    fi
    mib="-"
    [[ "$r" =~ ^[0-9]+$ ]] && mib=$(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }')
    printf '%-22s %-10s %8s %8s %9s %s\n' "$([ $first_row = 1 ] && echo "${programs[$p]}")" "$name" "$s" "$mib" \
      "$ratio" "$verdict"
    [ "$verdict" = met ] && met=$((met + 1))
    [ -n "$verdict" ] && judged=$((judged + 1))
    first_row=0
  done
done
echo
echo "malloc-programs targets:"
printf '  %-54s %s of %s  %s\n' "indexed policies within 2x of the default, per program" "$met" "$judged" \
  "$([ "$met" = "$judged" ] && echo met || echo MISSED)"
