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
# The gdb port: GDB_PORT if set, else one derived from the user id (as xv6 does), so students sharing a lab
# machine do not attach to each other's QEMU. A port something already listens on is refused, not shared.
port=${GDB_PORT:-$((26000 + $(id -u) % 5000))}
root=$(pwd)
if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
  echo "debug: port $port already has a listener (another QEMU, perhaps yours in another terminal)." >&2
  echo "       End it, or pick another port: make debug GDB_PORT=N (or make qemu-gdb GDB_PORT=N)." >&2
  exit 1
fi

# gdb auto-loads build/kernel.elf-gdb.py when the directory is marked safe (docs/qemu.md).
# __file__ tells mneme.py where its sibling mneme_segments.py is.
printf '__file__ = "%s/tools/gdb/mneme.py"\nexec(open(__file__).read())\n' "$root" > build/kernel.elf-gdb.py
gdb_command="gdb -iex 'add-auto-load-safe-path $root/build' -ex 'file $root/build/kernel.elf' -ex 'target remote 127.0.0.1:$port'"
# A .gdbinit in the tree, so a plain `gdb` started here attaches too (gdb reads it only from a directory it
# trusts: `echo "add-auto-load-safe-path $root/.gdbinit" >> ~/.gdbinit` once; gdb says so when it refuses).
cat > .gdbinit << GDBINIT
# Written by tools/debug.sh for port $port (make debug / make qemu-gdb); not tracked by git.
add-auto-load-safe-path $root/build
file $root/build/kernel.elf
target remote 127.0.0.1:$port
GDBINIT

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
