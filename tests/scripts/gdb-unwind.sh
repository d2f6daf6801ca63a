#!/usr/bin/env bash
# gdb-unwind.sh: gdb's backtrace runs through the interrupt stubs (tools/gdb/mneme.py's trap-frame unwinder),
# from a trap handler past trap_common into the code the trap interrupted: kernel code (an in-kernel test's
# deliberate page fault, caught by its handler record_and_recover) and user code (a demand-paging fault,
# caught by `break on_page_fault`, the page-fault handler's name). Before the unwinder, gdb stopped at
# trap_common ("previous frame inner to this frame (corrupt stack?)" or garbage frames).
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/gdb-unwind.log
port=$((20000 + RANDOM % 20000))

tools/qemu.sh --gdb "$port" --wait --timeout 90 --append "test=traps,user.exec_hello" \
  --log "$logs/gdb-unwind-serial.log" 2> "$logs/gdb-unwind-qemu.log" &
qemu=$!
if ! tools/wait-listen.sh --timeout 30 --pid "$qemu" "$port" > "$log" 2>&1; then
  echo "FAIL gdb-unwind.kernel-trap: QEMU's gdb stub never listened; see $logs/gdb-unwind-qemu.log"
  kill "$qemu" 2> /dev/null
  exit 0
fi
timeout 80 gdb -batch -nx \
  -ex 'set pagination off' \
  -ex 'file build/kernel.elf' \
  -ex 'source tools/gdb/mneme.py' \
  -ex "target remote 127.0.0.1:$port" \
  -ex 'break record_and_recover' -ex 'continue' -ex 'echo == kernel trap\n' -ex 'bt' -ex 'mneme-trap' \
  -ex 'delete' \
  -ex 'break on_page_fault' -ex 'continue' -ex 'echo == user trap\n' -ex 'bt' -ex 'up 4' -ex 'info registers eip esp' \
  -ex 'kill' >> "$log" 2>&1
kill "$qemu" 2> /dev/null
wait "$qemu" 2> /dev/null

kernel=$(sed -n '/^== kernel trap/,/^== user trap/p' "$log")
user=$(sed -n '/^Breakpoint 2/,$p' "$log")
# check NAME TEXT PATTERN...: every pattern (grep -E) must match a line of TEXT.
check() {
  local name=$1 text=$2
  shift 2
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" <<< "$text"; then
      echo "FAIL gdb-unwind.$name: backtrace lacks /$pattern/; log: $log"
      return
    fi
  done
  echo "PASS gdb-unwind.$name"
}
# idt::dispatch is inlined into trap_dispatch (always_inline): gdb shows it as a frame of its own, #1.
check kernel-trap "$kernel" '^#0 .*record_and_recover' '^#1 .* in idt::dispatch' '^#2 +trap_dispatch' \
  '^#3 .* in trap_common \[trap frame at 0x[0-9a-f]+: vector 14 \(#PF page fault\), error code 0x2, interrupted kernel code' \
  '^#4 .* in ktest_fn_traps_page_fault_delivers_error_code_and_cr2' '^#[0-9]+ .* in ktest::run' '^#[0-9]+ .* in kmain' \
  '^trap frame at 0x[0-9a-f]+: vector 14' '^  eip +0x[0-9a-f]+ +cs +0x00000008'
check user-trap "$user" '^Breakpoint [0-9.]+, page_fault::.*on_page_fault' '^#1 .* in idt::dispatch' \
  '^#2 +trap_dispatch' '^#3 .* in trap_common \[trap frame at 0x[0-9a-f]+: vector 14 \(#PF page fault\), error code 0x[0-9a-f]+, interrupted user code at 0x(00[0-9a-f]{6})\]' \
  '^#4 +0x00[0-9a-f]{6} in \?\? \(\)' '^eip +0x[0-9a-f]{1,7} ' '^esp +0xb[0-9a-f]{7} '
