#!/usr/bin/env bash
# smp.sh: the application processors come up (docs/multicore.md). Short boots running the in-kernel smp,
# per_cpu and sync suites:
#   - -smp 2, -smp 4 and -smp 8: a "cpuN: APIC id N, started in X ms" line for every AP, "N of N CPUs
#     online", and the tests pass (each AP read its own per-CPU area through GS, and took a ticket lock);
#   - -smp 4 with cpus=1: the four CPUs are found, none is started, the tests pass on the one;
#   - the MP table fallback: SeaBIOS without ACPI, -smp 4,sockets=4 (its MP table lists every CPU only with
#     one socket per CPU), all four started;
#   - -smp 4 with apdf=1: each AP overflows its kernel stack into a real double fault before it comes online;
#     each report names its own CPU and its own double-fault TSS, and the AP recovers (the smp suite checks
#     the details).
# About ten seconds. Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"

# boot NAME CPUS "BOOT OPTIONS" [QEMU ARGUMENTS...]: runs the smp tests under -smp CPUS; the serial log is $logs/smp-NAME.log.
boot() {
  local name=$1 cpus=$2 append=$3 log=$logs/smp-$1.log qemu status
  rm -f "$log"
  shift 3
  tools/qemu.sh --timeout 30 --append "test=smp,pit,per_cpu,sync $append" --log "$log" -- -smp "$cpus" "$@" > /dev/null 2>&1 &
  qemu=$!
  wait "$qemu"
  status=$?
  tr -d '\r' < "$log" > "$log.txt" 2> /dev/null
  if [ "$status" = 33 ]; then
    echo "PASS smp.$name.tests: the smp suite passed under -smp $cpus${append:+ $append}"
  else
    echo "FAIL smp.$name.tests: QEMU exit status $status under -smp $cpus${append:+ $append} (log: $log)"
  fi
}

# expect_started NAME CPUS [SOURCE]: the CPUs were found in SOURCE (default ACPI MADT), every AP reported a start, and the summary counts them all.
expect_started() {
  local name=$1 cpus=$2 source=${3:-ACPI MADT} log=$logs/smp-$1.log.txt missing=""
  for ((i = 1; i < cpus; ++i)); do
    grep -qE "cpu$i: APIC id [0-9]+, started in [0-9]+\.[0-9] ms" "$log" || missing+=" cpu$i"
  done
  if [ -z "$missing" ] && grep -q "smp: $cpus of $cpus CPUs online" "$log"; then
    echo "PASS smp.$name.online: all $cpus CPUs online"
  else
    echo "FAIL smp.$name.online: missing:${missing:- the summary line} (log: $log)"
  fi
}

boot two 2 ""
expect_started two 2
boot four 4 ""
expect_started four 4
boot eight 8 ""
expect_started eight 8
boot cpus1 4 "cpus=1"
log=$logs/smp-cpus1.log.txt
if grep -q "smp: 4 CPUs in the ACPI MADT (APIC ids 0 1 2 3); cpus=1: using this one only" "$log" &&
  ! grep -qE "cpu[1-9]: |trampoline at" "$log"; then
  echo "PASS smp.cpus1: four CPUs found, none started"
else
  echo "FAIL smp.cpus1: expected the four CPUs found and none started (log: $log)"
fi
boot mp-table 4,sockets=4 "" -machine pc,acpi=off -bios bios.bin
expect_started mp-table 4 "MP table"
boot double-fault 4 "apdf=1"
expect_started double-fault 4
log=$logs/smp-double-fault.log.txt
missing=""
for i in 1 2 3; do
  grep -q "Double fault (#DF) in kernel mode on cpu$i\$" "$log" || missing+=" cpu$i"
  grep -qE "cpu$i's double-fault task \(TSS 0x[0-9a-f]+\) runs on its own stack" "$log" || missing+=" cpu$i-task"
done
tasks=$(grep -oE "double-fault task \(TSS 0x[0-9a-f]+\)" "$log" | sort -u | wc -l)
if [ -z "$missing" ] && [ "$tasks" = 3 ] && [ "$(grep -c 'its recovery point takes over' "$log")" = 3 ]; then
  echo "PASS smp.double-fault: a double fault on each AP ran on that AP's own task and recovered"
else
  echo "FAIL smp.double-fault: missing:${missing:-} distinct tasks $tasks of 3 (log: $log)"
fi
