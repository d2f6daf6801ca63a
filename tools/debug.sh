#!/usr/bin/env bash
# debug.sh: QEMU waiting for a debugger, and (with --attach) gdb attached to it.
#
#   tools/debug.sh --attach [--append ARGS]   make debug: gdb in this terminal, QEMU's serial in build/debug-serial.log
#   tools/debug.sh --wait   [--append ARGS]   make qemu-gdb: QEMU in this terminal; prints the gdb command
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1; shift
append=""
[ "${1:-}" = "--append" ] && append="$2"
port=${GDB_PORT:-1234}
root=$(pwd)

# gdb auto-loads build/kernel.elf-gdb.py when the directory is marked safe (docs/qemu.md).
printf 'exec(open("%s/tools/gdb/mneme.py").read())\n' "$root" > build/kernel.elf-gdb.py
gdb_command="gdb -iex 'add-auto-load-safe-path $root/build' -ex 'file $root/build/kernel.elf' -ex 'target remote 127.0.0.1:$port'"

if [ "$mode" = "--wait" ]; then
  echo "QEMU is waiting for a debugger on port $port. In another terminal run:"
  echo "  $gdb_command"
  exec tools/qemu.sh --interactive --gdb "$port" --wait --append "$append"
fi

tools/qemu.sh --gdb "$port" --wait --append "$append" --log build/debug-serial.log &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
tools/wait-listen.sh --timeout 30 --pid "$qemu" "$port"
echo "QEMU's serial output goes to build/debug-serial.log (tail -f it in another terminal)."
echo "Try: break kmain, continue, bt, info registers, p/x \$cr3, mneme-gdt, mneme-help."
eval "$gdb_command"
