#!/usr/bin/env bash
# run-tests.sh: every test tier, one verdict line per test, then "N passed, N failed".
#
# Tiers: host GoogleTest (each test counts), libFuzzer replays (each target counts), in-kernel tests under
# QEMU (each KTEST counts, plus the run's exit status), boot scenarios (each counts), a few runs in Bochs
# (each counts), the gdb scenario, and every executable tests/scripts/*.sh (each prints PASS/FAIL lines).
# QEMU and Bochs runs have timeouts; the log of a failed run stays in build/test-logs/ and its path is
# printed.
#
# Assumes `make test-artifacts` ran (make test does both).
set -u
cd "$(dirname "$0")/.."
logs=build/test-logs
rm -rf "$logs"
mkdir -p "$logs"

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
tier() { printf '\n== %s\n' "$*"; }
seconds() { date +%s%N; }
elapsed() { local tenths=$(( ($(date +%s%N) - $1) / 100000000 )); printf '%d.%d s' $((tenths / 10)) $((tenths % 10)); }

# QEMU's exit status when the in-kernel runner reports success (arch/i386/Power.h: (0x10 << 1) | 1).
readonly QEMU_TESTS_PASSED=33
explain_status() {
  case "$1" in
    33) echo "tests passed" ;;
    35) echo "tests failed" ;;
    37) echo "kernel panic" ;;
    0) echo "QEMU exited with 0: a triple fault (reset under -no-reboot)" ;;
    124|137) echo "timed out" ;;
    *) echo "QEMU exit status $1" ;;
  esac
}

# count_results LOG OK BAD SHOW: adds the log's lines matching OK and BAD (extended regexes) to the totals,
# leaves their counts in $ok and $bad, and shows the lines matching SHOW, indented.
count_results() {
  local log=$1
  ok=$(grep -cE -- "$2" "$log" || true)
  bad=$(grep -cE -- "$3" "$log" || true)
  passed=$((passed + ok))
  failed=$((failed + bad))
  grep -E -- "$4" "$log" | sed 's/^/  /'
}

# -- Host unit tests ---------------------------------------------------------------------------------------
tier "host unit tests (GoogleTest, ASan+UBSan): build/host/mneme-tests"
start=$(seconds)
host_log=$logs/host-tests.log
build/host/mneme-tests --gtest_color=no > "$host_log" 2>&1
status=$?
gtest_failed='^\[  FAILED  \] .*\([0-9]+ ms\)$'  # one line per failed test (the summary repeats them)
count_results "$host_log" '^\[       OK \]' "$gtest_failed" "$gtest_failed"
if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then fail "host tests: exit status $status without a failed test (crash?): see $host_log"; fi
echo "  $ok passed, $bad failed ($(elapsed "$start")); log: $host_log"

# -- Fuzz corpus replay ------------------------------------------------------------------------------------
tier "fuzz targets (libFuzzer): a few seconds each from the seed corpus"
for f in build/fuzz/*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=$logs/fuzz-corpus-$name
  mkdir -p "$corpus"
  seeds=""
  [ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
  if "$f" -max_total_time="${FUZZ_TEST_SECONDS:-5}" -timeout=10 -print_final_stats=1 "$corpus" $seeds > "$logs/fuzz-$name.log" 2>&1; then
    pass
    echo "  ok   $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/fuzz-$name.log" | awk '{print $2}' || true) runs)"
  else
    fail "fuzz $name: see $logs/fuzz-$name.log"
  fi
done

# -- QEMU: in-kernel tests and boot scenarios --------------------------------------------------------------
# Each scenario: name, then tools/qemu.sh arguments. They run two at a time.
# The main run has every in-kernel test and the whole user-level suite, each test counted. The boot
# scenarios repeat the in-kernel suites on other machines, with a few user-level tests as a smoke check
# (the full suite needs more than 8 MiB: eight 1 MiB compute processes, allocation bombs). boot-m16 runs
# malloctest under every policy on a 16 MiB machine, where the commit limit leaves about 12 MiB a process;
# user-m8 runs everything on an 8 MiB machine with a swap disk (the commit limit counts the swap slots).
# malloc-m8-nodisk runs malloctest under every policy on an 8 MiB machine with no swap, where a process may
# commit about 5 MiB (docs/malloc.md, "Reserving is not committing"; no arena is reserved there by default).
# The main run has an IDE disk (its own fresh image: two QEMUs cannot open one); the boot scenarios have
# none, so "no disk" stays covered. disk-fault fails one read of sector 100 through QEMU's blkdebug
# (tests/kernel/blkdebug-read-error.conf; diskfault=100 tells the test which sector).
# The smp scenarios run on several CPUs (docs/multicore.md): everything at -smp 2 (with a disk), the
# user-level suite at -smp 4, the stress test under the bitmap allocator, the GRUB ISO at -smp 4, and the
# swap tests at -smp 2, where pages of processes running on the other CPU are evicted.
# The swap scenarios boot with a cap of 64 user frames, so the swap tests' arrays (two to four times the
# cap) go to the disk and back: the integrity tests under every policy, the slots running out on a 1 MiB
# disk, and a write and a read error injected with blkdebug. A third field is a pattern the log must show
# (the injected error was met and reported).
for image in kernel smp2 disk-fault user-m8 swap-clock-smp2 swap-fifo swap-clock swap-nru swap-aging swap-random swap-process swap-write-error swap-read-error; do
  qemu-img create -q -f raw "$logs/$image-disk.img" 64M
done
qemu-img create -q -f raw "$logs/swap-exhausted-disk.img" 1M
swap="--timeout 420 --append swap=page+userframes=64"
swap_tests=user.swap.integrity,user.swap.fork
smoke=user.exec_hello,user.fork_exit_status,user.cow,user.argv_env,user.hostile.badread,user.hostile.stackbomb
scenarios=(
  "kernel|--timeout 300 --append test=all --disk $logs/kernel-disk.img"
  "disk-fault|--append test=disk_fault+diskfault=100 --disk $logs/disk-fault-disk.img --blkdebug tests/kernel/blkdebug-read-error.conf"
  "boot-m8|--mem 8 --append test=kernel,$smoke"
  "boot-m16|--mem 16 --append test=user.malloctest"
  "user-m8|--mem 8 --timeout 300 --append test=all --disk $logs/user-m8-disk.img"
  "malloc-m8-nodisk|--mem 8 --append test=user.malloctest,$smoke"
  "boot-m3500|--mem 3500 --append test=kernel,$smoke"
  "boot-cpu486|--cpu 486 --append test=kernel,$smoke"
  "boot-cpu486-smp2|--cpu 486 --smp 2 --append test=kernel,$smoke"
  "boot-pentium|--cpu pentium --append test=kernel,$smoke"
  "boot-pmm-bitmap|--append pmm=bitmap+test=kernel,$smoke"
  "boot-grub-iso|--iso build/mneme-test.iso"
  "smp2|--smp 2 --timeout 300 --append test=all --disk $logs/smp2-disk.img"
  "smp4|--smp 4 --timeout 300 --append test=user"
  "kernel-on-cpu1|--smp 2 --append test=kernel+testcpu=1"
  "smp4-pmm-bitmap|--smp 4 --append pmm=bitmap+test=kernel,$smoke,user.smp_stress"
  "boot-grub-iso-smp4|--smp 4 --iso build/mneme-test.iso"
  "swap-clock|$swap+policy=clock+test=$swap_tests,user.swap.four_at_once,user.brk,user.mmap,user.stack_growth,user.cow --disk $logs/swap-clock-disk.img"
  "swap-clock-smp2|--smp 2 $swap+policy=clock+test=$swap_tests,user.swap.four_at_once --disk $logs/swap-clock-smp2-disk.img"
  "swap-fifo|$swap+policy=fifo+test=$swap_tests --disk $logs/swap-fifo-disk.img"
  "swap-nru|$swap+policy=nru+test=$swap_tests --disk $logs/swap-nru-disk.img"
  "swap-aging|$swap+policy=aging+test=$swap_tests --disk $logs/swap-aging-disk.img"
  "swap-random|$swap+policy=random+test=$swap_tests --disk $logs/swap-random-disk.img"
  "swap-process|$swap+swap=process+test=$swap_tests,user.swap.four_at_once --disk $logs/swap-process-disk.img|rolled out pid"
  "swap-exhausted|$swap+test=user.swap.exhausted --disk $logs/swap-exhausted-disk.img|swap space exhausted"
  "swap-write-error|$swap+test=user.swap.integrity --disk $logs/swap-write-error-disk.img --blkdebug tests/kernel/blkdebug-swap-write-error.conf|slot is retired, trying another"
  "swap-read-error|$swap+test=user.swap.read_error --disk $logs/swap-read-error-disk.img --blkdebug tests/kernel/blkdebug-swap-read-error.conf|the page is lost"
)
tier "QEMU: in-kernel tests (test=all) and boot scenarios"
start=$(seconds)
pids=()
for s in "${scenarios[@]}"; do
  name=${s%%|*}
  args=${s#*|}
  args=${args%%|*}
  # Scenario arguments are split on spaces; a '+' inside --append's value stands for a space there.
  read -r -a argv <<< "$args"
  for i in "${!argv[@]}"; do [ "${argv[$i]}" = "--append" ] && argv[$((i + 1))]=${argv[$((i + 1))]//+/ }; done
  # A scenario's own --timeout (the swap runs: PIO under TCG) comes after the default and wins.
  ( scenario_start=$(seconds)
    tools/qemu.sh --timeout "${QEMU_TIMEOUT:-120}" "${argv[@]}" --log "$logs/$name.log"; echo $? > "$logs/$name.status"
    elapsed "$scenario_start" > "$logs/$name.elapsed" ) &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
for s in "${scenarios[@]}"; do
  name=${s%%|*}
  status=$(cat "$logs/$name.status")
  log=$logs/$name.log
  if [ "$name" = kernel ]; then
    # The main run: every in-kernel test is its own verdict.
    count_results "$log" '^ok ' '^FAIL ' '^FAIL '
    echo "  kernel tests: $ok ok, $bad failed; $(explain_status "$status")"
  fi
  must_show=""
  [ "${s#*|*|}" != "$s" ] && must_show=${s#*|*|}
  if [ -n "$must_show" ] && ! grep -q -- "$must_show" "$log"; then
    fail "$name: the log never shows \"$must_show\" (the injected condition was not met); log: $log"
  elif [ "$status" = "$QEMU_TESTS_PASSED" ] && ! grep -q '^FAIL ' "$log"; then
    pass
    echo "  ok   $name ($(grep -m1 '^ktest: [0-9]* passed' "$log" || echo "booted"); $(cat "$logs/$name.elapsed"))"
  else
    fail "$name: $(explain_status "$status"); log: $log"
    grep -E '^(FAIL|\*\*\*)' "$log" | head -5 | sed 's/^/    /'
  fi
done
echo "  ($(elapsed "$start"))"

# -- Bochs -------------------------------------------------------------------------------------------------
# Bochs checks segment limits and types on every memory access, which QEMU's TCG does not, so the
# segmentation demos fault only there. Each entry: name, tools/bochs.sh arguments (a '+' inside --append's
# value stands for a space), and a pattern the serial log must show besides the PASSED verdict (tools/bochs.sh
# decides the verdict from the log; the kernel ends the simulation through port 0x8900). They run one at a
# time: Bochs is slow, and the whole tier must stay within about three minutes. The swap entry is the IDE
# disk under Bochs (its disk is the primary master; the CD-ROM the secondary one).
truncate -s 64M "$logs/bochs-swap-disk.img"
bochs_entries=(
  "bochs-kernel|--append test=kernel|^ktest: [0-9]+ passed, 0 failed"
  "bochs-user-exec-hello|--append test=user.exec_hello|^ok   user.exec_hello"
  "bochs-swap|--append swap=page+userframes=64+test=user.swap.integrity --disk $logs/bochs-swap-disk.img|pages written out"
  "bochs-segments|--append test=user.segments|#(GP|SS).*checked by the CPU"
  "bochs-smp2|--cpus 2 --append test=smp,user.exec_hello,user.smp_stress|^ok   smp.a_write_protect_reaches_the_cpu_running_the_process"
)
tier "Bochs: in-kernel tests and user programs under an emulator that checks segment limits"
start=$(seconds)
bochs_missing=""
if ! command -v bochs > /dev/null; then
  # make test installs Bochs (tools/install-deps.sh test); a run without it fails rather than skips.
  why=$(tools/install-deps.sh bochs 2>&1 | tail -n 1)
  command -v bochs > /dev/null || bochs_missing=${why:-"tools/install-deps.sh bochs left no bochs on the PATH"}
fi
for e in "${bochs_entries[@]}"; do
  name=${e%%|*}
  args=${e#*|}
  args=${args%%|*}
  must_show=${e##*|}
  if [ -n "$bochs_missing" ]; then
    fail "$name: Bochs is not installed and could not be: $bochs_missing"
    continue
  fi
  read -r -a argv <<< "$args"
  for i in "${!argv[@]}"; do [ "${argv[$i]}" = "--append" ] && argv[$((i + 1))]=${argv[$((i + 1))]//+/ }; done
  log=$logs/$name.log
  entry_start=$(seconds)
  tools/bochs.sh --timeout "${BOCHS_TIMEOUT:-150}" "${argv[@]}" --log "$log" > "$logs/$name.out" 2>&1
  status=$?
  if [ "$status" -ne 0 ]; then
    fail "$name: $(head -n 1 "$logs/$name.out" | sed 's/^bochs.sh: //'); see $logs/$name.out"
    grep -E '^(FAIL|\*\*\*)' "$log" 2> /dev/null | head -5 | sed 's/^/    /'
  elif ! grep -qE -- "$must_show" "$log"; then
    fail "$name: the log never shows \"$must_show\"; log: $log"
  else
    pass
    echo "  ok   $name ($(elapsed "$entry_start"))"
  fi
done
echo "  ($(elapsed "$start"))"

# -- gdb ---------------------------------------------------------------------------------------------------
tier "gdb: attach to QEMU, break at kmain, backtrace, mneme-gdt helper"
port=$((20000 + RANDOM % 20000))
gdb_log=$logs/gdb.log
tools/qemu.sh --gdb "$port" --wait --timeout 60 --log "$logs/gdb-serial.log" 2>"$logs/gdb-qemu.log" &
qemu_pid=$!
# gdb gives up at once on a port nobody listens on yet: wait until QEMU's stub accepts.
if ! tools/wait-listen.sh --timeout 30 --pid "$qemu_pid" "$port" 2> "$gdb_log"; then
  echo "  (QEMU's gdb stub never listened; see $logs/gdb-qemu.log)" >> "$gdb_log"
else
  timeout 60 gdb -batch -nx \
    -ex 'set pagination off' \
    -ex 'file build/kernel.elf' \
    -ex "source tools/gdb/mneme.py" \
    -ex "target remote 127.0.0.1:$port" \
    -ex 'break kmain' -ex 'continue' -ex 'bt' \
    -ex 'break pmm::begin' -ex 'continue' \
    -ex 'mneme-gdt' \
    -ex 'break process::spawn' -ex 'continue' -ex 'finish' \
    -ex 'mneme-pt 0xc0100000' \
    -ex 'kill' > "$gdb_log" 2>&1
fi
kill "$qemu_pid" 2>/dev/null
wait "$qemu_pid" 2>/dev/null
if grep -q '^#0 .*kmain' "$gdb_log" && grep -q 'code RX' "$gdb_log" && grep -q 'PTE\[ 256\] = 0x00100[0-9a-f]*  P' "$gdb_log"; then
  pass
  echo "  ok   gdb breaks at kmain, backtrace, mneme-gdt and mneme-pt work"
else
  fail "gdb scenario: see $gdb_log"
fi

# -- Scripts -----------------------------------------------------------------------------------------------
for script in tests/scripts/*.sh; do
  [ -x "$script" ] || continue
  tier "script: $script"
  # Not NAME.log: several scripts keep their own logs under that name, which this redirection (from offset 0)
  # would overwrite while the script still reads them (gdb-segments lost its first section that way).
  out=$logs/script-$(basename "$script" .sh).out
  script_start=$(seconds)
  "$script" > "$out" 2>&1
  status=$?
  count_results "$out" '^PASS ' '^FAIL ' '^(PASS|FAIL) '
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then fail "$script exited with status $status; log: $out"; fi
  echo "  ($(elapsed "$script_start"))"
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
