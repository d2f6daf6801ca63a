#!/usr/bin/env bash
# monitor.sh: the kernel monitor answers, and each `fault KIND` prints the report a student should see and
# returns to the monitor.
#
# Types commands at the monitor through the serial port (tools/qemu.sh without --log) and checks the output.
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"

# run NAME "COMMANDS" [BOOT OPTIONS [tools/qemu.sh ARGUMENTS...]] -> output in $logs/monitor-NAME.log, QEMU's
# exit status in $status. Types only once the prompt is there: bytes that arrive while the UART is being set
# up are lost.
run() {
  local name=$1 input=$2 append=${3:-}
  shift 2
  [ $# -gt 0 ] && shift
  local log=$logs/monitor-$name.log fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  tools/qemu.sh --timeout 20 --append "shell=monitor $append" "$@" < "$fifo" > "$log" 2>&1 &
  local qemu=$!
  exec 3> "$fifo"
  for _ in $(seq 100); do grep -q "Type 'help'" "$log" 2>/dev/null && break; sleep 0.1; done
  printf '%b' "$input" >&3
  wait "$qemu"
  status=$?
  exec 3>&-
  rm -f "$fifo"
}

# expect NAME STATUS PATTERN...: every pattern (grep -E) must appear in the log and QEMU exit with STATUS.
expect() {
  local name=$1 want=$2
  shift 2
  local log=$logs/monitor-$name.log
  if [ "$status" != "$want" ]; then
    echo "FAIL monitor.$name: QEMU exit status $status, expected $want; log: $log"
    return
  fi
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" "$log"; then
      echo "FAIL monitor.$name: output lacks /$pattern/; log: $log"
      return
    fi
  done
  echo "PASS monitor.$name"
}

# Commands that answer; `halt` powers off (QEMU exits with status 0 through ACPI).
run commands 'help\rgdt\ridt\rcpuid\rmeminfo\rbuddy 2\rpt 0xc0100000\rvmmap\roptions\rrmap\rrmap check\rrmap 0x300\rcpus\rnonsense\rhalt\r'
expect commands 0 '^  gdt +the live GDT' '^   1  0x08  0x00000000  0xffffffff  code RX' \
  'TSS \(32-bit, busy\)' '0x80  System call +trap gate +3' 'vendor:' 'Page allocator \(pmm=buddy\)' \
  'buddy free lists' 'PTE\[ 256\].* P G' '4M-pages|kernel global' '^Frame table: frames 0x' \
  'frame table agrees with the page tables of 0 address spaces' 'frame 0x300 \(physical 0x00300000\): 0 mappings' \
  '^  0     0  online, bootstrap processor +the monitor +none +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +0[[:space:]]*$' \
  '^lock +rank +acquisitions +contended +spins[[:space:]]*$' '^console output +1000 +[1-9][0-9]* +[0-9]+ +[0-9]+[[:space:]]*$' \
  "unknown command 'nonsense'" 'Powering off'

# `cpus` with four CPUs: each AP idles (no process runs in the monitor), switched to nothing, and took the
# check-in lock once (its own count), uncontended, since they start one at a time; the lock table lists the
# kernel's locks in rank order with their counts, the big kernel lock first.
run cpus 'cpus\rhalt\r' '' -- -smp 4
expect cpus 0 '^  3     3  online +idle \(halted\) +none +[0-9]+ +0 +[0-9]+ +1 +0[[:space:]]*$' \
  '^big kernel lock +10 +[1-9][0-9]* +[0-9]+ +[0-9]+[[:space:]]*$' \
  '^smp check-in +100 +[3-9] +0 +0[[:space:]]*$' '^console output +1000 +[1-9][0-9]* +[0-9]+ +[0-9]+[[:space:]]*$' 'Powering off'
if [ "$status" = 0 ] && ! grep -A3 '^lock ' "$logs/monitor-cpus.log" | sed -n 2p | grep -q '^big kernel lock'; then
  echo "FAIL monitor.cpus-order: the lock table is not in rank order; log: $logs/monitor-cpus.log"
fi

# A bogus CR3 is refused with a sentence, not walked: the monitor only reads page directories the kernel owns
# (before, `pt 0 0x10000000` read unmapped memory and panicked, `vmmap 0xfffff000` read user memory as tables).
run bogus-cr3 'pt 0 0x10000000\rvmmap 0x10000000\rpt 0 0xf0000000\rvmmap 0xfffff000\rpt 0 0x100000\rhalt\r'
expect bogus-cr3 0 '^0x10000000 is not a page directory the kernel knows' '^0xf0000000 is not a page directory' \
  '^0xfffff000 is not a page directory' '^0x00100000 is not a page directory' 'Powering off'

# Every fault kind: the exception's name, its decoded error code, named functions, then the recovery point
# takes over and the monitor carries on (before, each demonstration stopped QEMU with status 37).
recovered='raised on purpose: its recovery point takes over and the monitor carries on'
run pf 'fault pf\rhalt\r'
expect pf 0 'CPU exception 14: Page fault \(#PF\) in kernel mode' 'not-present page, read access, supervisor mode' \
  'CR2 0x00000000' '<fault_page_fault\(\)\+0x[0-9a-f]+>' '<monitor::execute' 'PDE\[   0\].* = 0x00000000' \
  "$recovered" 'Powering off'
run ro 'fault ro\rhalt\r'
expect ro 0 'protection violation, write access, supervisor mode' '<fault_write_read_only\(\)' "$recovered"
run gp 'fault gp\rhalt\r'
expect gp 0 'CPU exception 13: General protection fault \(#GP\)' 'GDT index 582 \(selector 0x1230\)' \
  '<fault_general_protection\(\)' "$recovered"
run ud 'fault ud\rhalt\r'
expect ud 0 'CPU exception 6: Invalid opcode \(#UD\)' '<fault_invalid_opcode\(\)' "$recovered"
run de 'fault de\rhalt\r'
expect de 0 'CPU exception 0: Divide error \(#DE\)' '<fault_divide_error\(\)' "$recovered"
run df 'fault df\rhalt\r'
expect df 0 'CPU exception 8: Double fault \(#DF\)' 'guard page under the boot stack' \
  'the same frame [0-9]+ more times' '<fault_stack_overflow\(\)' "$recovered"

# Several demonstrations in one boot, then more commands: each report, each recovery, and a kernel that still
# works (cpuid answers, the page allocator's check passes, halt powers off rather than a panic's status 37).
run faults-recover 'fault pf\rfault df\rfault gp\rfault ud\rcpuid\rrmap check\rhalt\r'
expect faults-recover 0 'CPU exception 14: Page fault' 'CPU exception 8: Double fault' \
  'CPU exception 13: General protection fault' 'CPU exception 6: Invalid opcode' 'vendor:' \
  'frame table agrees with the page tables' 'Powering off'
if [ "$status" = 0 ] && [ "$(grep -c "$recovered" "$logs/monitor-faults-recover.log")" != 4 ]; then
  echo "FAIL monitor.faults-recover-count: not four recoveries; log: $logs/monitor-faults-recover.log"
elif [ "$status" = 0 ]; then
  echo "PASS monitor.faults-recover-count"
fi

# A bad boot option is reported and boot goes on to the prompt.
run bad-options 'halt\r' "hz=5 colour=red pmm=slab"
expect bad-options 0 "bad value '5' for hz \(accepted: 19..10000\)" "unknown option 'colour'" \
  'accepted keys: test hz panic pmm quantum init shell' "bad value 'slab' for pmm" 'Mneme kernel monitor'

# pmm=bitmap boots and the monitor shows the bitmap's view.
# A command line longer than the kernel reads (1023 bytes) is cut at a word, with a warning naming what is lost.
long_line="$(printf 'hz=100 %.0s' $(seq 150))quantum=7"
run long-cmdline 'halt\r' "$long_line"
expect long-cmdline 0 "cmdline: warning: the command line is [0-9]+ bytes; only the first [0-9]+ are read, so everything from 'hz=100" \
  'Powering off'

# A typed line longer than the monitor takes (127 characters) is refused whole, every character counted,
# and the monitor goes on.
run long-line "$(printf 'x%.0s' $(seq 600))\\ruptime\\rhalt\\r"
expect long-line 0 'monitor: line too long: 473 characters past the limit of 127 were not taken; nothing was run' \
  '^up [0-9.]+ s' 'Powering off'
if grep -q "unknown command 'xxx" "$logs/monitor-long-line.log"; then
  echo "FAIL monitor.long-line-not-run: the cut line was run; log: $logs/monitor-long-line.log"
fi

run bitmap 'meminfo\rbuddy\rhalt\r' pmm=bitmap
expect bitmap 0 'pmm: bitmap allocator' 'Page allocator \(pmm=bitmap\)' 'runs the bitmap allocator'

# The IDE disk: the boot line, `disk` and a sector dump; and without a disk, the boot line that says so.
disk_image=$logs/monitor-disk.img
rm -f "$disk_image"
qemu-img create -q -f raw "$disk_image" 64M
printf 'Hello, sector one' | dd of="$disk_image" bs=512 seek=1 conv=notrunc status=none
# swap=off: a disk used for swapping gets the swap area's header over its first 8 sectors at boot.
run disk 'disk\rdisk read 1\rdisk read 131072\rhalt\r' "swap=off" --disk "$disk_image"
expect disk 0 'ide0: QEMU HARDDISK, 64 MiB, LBA48' '^  model +QEMU HARDDISK' '^  size +131072 sectors of 512 bytes' \
  '^00000200  48 65 6c 6c 6f 2c 20 73  65 63 74 6f 72 20 6f 6e  \|Hello, sector on\|' \
  'read of 1 sector at LBA 131072 refused: the disk has sectors 0-131071'
run nodisk 'disk\rhalt\r'
expect nodisk 0 'ide0: no disk on the primary channel: swapping is off' 'ide0: no disk on the primary channel \('
