#!/usr/bin/env bash
# gdb-port.sh: `make debug` / `make qemu-gdb` refuse a gdb port something already listens on (on a shared lab
# machine, another student's QEMU) instead of attaching gdb to it, and say how to pick another.
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/gdb-port.log
port=$((30000 + RANDOM % 20000))

# A stand-in for the other QEMU: a listener on the port for a few seconds.
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(1); time.sleep(15)" &
listener=$!
tools/wait-listen.sh --timeout 10 --pid "$listener" "$port" > /dev/null 2>&1
GDB_PORT=$port timeout 20 tools/debug.sh --wait < /dev/null > "$log" 2>&1
status=$?
kill "$listener" 2> /dev/null
wait "$listener" 2> /dev/null
if [ "$status" -eq 1 ] && grep -q "port $port already has a listener" "$log" && grep -q "GDB_PORT=N" "$log"; then
  echo "PASS gdb-port.taken-port-refused"
else
  echo "FAIL gdb-port.taken-port-refused: tools/debug.sh exited $status; see $log"
fi
