#!/usr/bin/env bash
# report.sh: `make malloc-report` -- record real programs' allocation traces, replay them under every
# policy, print the comparison table and plot heap size and fragmentation over time.
#
#   1. run each program under build/host/libmneme_malloc_trace.so (MNEME_MALLOC_TRACE=...); a program that
#      starts others (gcc) leaves one trace per process, and the largest is kept
#   2. build/host/malloc/replay replays every trace, whole, under every policy (the fit policies indexed
#      and over their lists) (table: time, peak heap, peak live, Wilson's fragmentation, mean external
#      fragmentation, peak resident; the last line names the slowest replay, target under a minute)
#   3. gnuplot draws build/malloc-report/malloc-report.png: per trace, resident memory and external
#      fragmentation against the call number, one line per policy
#
# Output in build/malloc-report/ (table.txt, traces/, data/, malloc-report.png). Copy the PNG to
# docs/images/ by hand when the docs should show a new one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$root/build/malloc-report"
trace_lib="$root/build/host/libmneme_malloc_trace.so"
replay="$root/build/host/malloc/replay"
rm -rf "$out"
mkdir -p "$out/traces" "$out/data" "$out/work"

# record NAME COMMAND...: runs COMMAND with tracing on, keeps its largest trace as traces/NAME.
record() {
  local name="$1"; shift
  mkdir -p "$out/work/$name.raw"
  (cd "$out/work" && MNEME_MALLOC_TRACE="$out/work/$name.raw/$name" LD_PRELOAD="$trace_lib" "$@" \
     > /dev/null 2>&1) || true
  local largest
  largest="$(ls -S "$out/work/$name.raw"/* 2> /dev/null | head -1 || true)"
  if [ -z "$largest" ]; then echo "malloc-report: no trace from $name" >&2; return; fi
  mv "$largest" "$out/traces/$name"
}

cat > "$out/work/script.py" <<'EOF'
import collections, json, random, re
random.seed(7)
words = ["".join(random.choice("abcdefghij") for _ in range(random.randint(1, 12))) for _ in range(40000)]
tree = {w: {"n": c, "rev": w[::-1], "list": list(range(c % 17))} for w, c in collections.Counter(words).items()}
text = json.dumps(tree, sort_keys=True)
print(len(json.loads(text)), len(re.findall(r"\bab\w*", " ".join(sorted(tree)))))
big = [bytearray(random.randint(1, 300000)) for _ in range(50)]
EOF
# A C file with a good share of the system headers and some code: cc1 allocates a few hundred thousand
# times compiling it, enough to show the policies apart and quick to replay even under worst fit.
{
  for header in stdio stdlib string math pthread sys/socket netinet/in arpa/inet time signal unistd fcntl \
                sys/stat sys/mman dirent errno locale wchar regex; do echo "#include <$header.h>"; done
  for i in $(seq 1 40); do
    echo "static double f$i(const double* v, int n) { double s = 0; for (int k = 0; k < n; ++k) s += sin(v[k] * $i) / (1 + k % $((i + 2))); return s; }"
    echo "struct s$i { int a[$i]; char name[32]; struct s$i* next; };"
    echo "static struct s$i* make$i(int n) { struct s$i* head = NULL; for (int k = 0; k < n; ++k) { struct s$i* e = calloc(1, sizeof *e); e->a[0] = k + (int)f$i(0, 0); snprintf(e->name, sizeof e->name, \"n%d\", k); e->next = head; head = e; } return head; }"
  done
  echo "int main(void) { return make1(3) != 0; }"
} > "$out/work/program.c"

echo "malloc-report: recording traces"
record gcc gcc -O2 -c "$out/work/program.c" -o "$out/work/program.o"
record python python3 "$out/work/script.py"
record git git -C "$root" log -p -n 300
record make make -C "$root" -n -p all

traces=()
for name in gcc python git make; do [ -e "$out/traces/$name" ] && traces+=("$out/traces/$name"); done
echo "malloc-report: replaying ${#traces[@]} traces under every policy"
# Every policy, the fit policies' list versions beside their indexed ones (the same placements, so the
# same figures; only the time differs); REPORT_POLICIES=first,best,... replays chosen policies instead.
"$replay" ${REPORT_POLICIES:+--policies "$REPORT_POLICIES"} --samples 200 --data "$out/data" "${traces[@]}" |
  tee "$out/table.txt"

# One row per trace: resident memory (heap pages in memory plus mappings; the thick black line is what
# the program had live) and external fragmentation (smoothed), against the call number. Resident, not the
# heap's size: the segregated policy reserves its heap in 4 MiB segments and touches only what it uses.
plot="$out/plot.gp"
# curves NAME USING [SMOOTH]: one gnuplot curve per policy for trace NAME, columns USING.
curves() {
  local name="$1" using="$2" smooth="${3:-}" separator=""
  for policy in segregated first next best worst buddy; do
    printf "%s'%s' using %s %s with lines title '%s'" "$separator" "$out/data/$name.$policy.dat" "$using" \
      "$smooth" "$policy"
    separator=", "
  done
}
{
  echo "set terminal png size 1100,$((260 * ${#traces[@]})) font 'DejaVuSans,8'  # palette PNG: small"
  echo "set output '$out/malloc-report.png'"
  echo "set multiplot layout ${#traces[@]},2"
  echo "set key top left"
  echo "set grid"
  echo "set xlabel 'call'"
  for trace in "${traces[@]}"; do
    name="$(basename "$trace")"
    echo "set title '$name: resident memory and live bytes, KiB'"
    echo "plot $(curves "$name" '1:($5/1024)'), '$out/data/$name.first.dat' using 1:(\$3/1024) with lines lw 2 lc rgb 'black' title 'live'"
    echo "set title '$name: external fragmentation (1 - largest free / free), %, smoothed'"
    echo "plot [][0:100] $(curves "$name" 1:4 'smooth bezier')"
  done
  echo "unset multiplot"
} > "$plot"
gnuplot "$plot"
echo "malloc-report: table in $out/table.txt, plot in $out/malloc-report.png"
