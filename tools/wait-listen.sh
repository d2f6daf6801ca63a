#!/usr/bin/env bash
# wait-listen.sh: wait until a TCP port accepts connections, e.g. QEMU's gdb stub before gdb attaches.
#
#   tools/wait-listen.sh [--timeout SECONDS] [--pid PID] PORT [HOST]
#     --timeout SECONDS  give up after this long (default 30)
#     --pid PID          give up as soon as process PID has ended (the server that was to listen died)
#     HOST               default 127.0.0.1
#
# Polls by connecting (bash's /dev/tcp) and closing at once, every 0.05 s. QEMU's gdb stub takes the next
# connection after such a probe, and a probe only pauses a machine that `-S` holds paused anyway.
# Exit status 0 when the port accepted a connection; 1, with the reason on stderr, otherwise.
set -u

timeout_s=30 pid="" port="" host=127.0.0.1
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s="$2"; shift ;;
    --pid) pid="$2"; shift ;;
    -*) echo "wait-listen: unknown option $1" >&2; exit 2 ;;
    *) if [ -z "$port" ]; then port=$1; else host=$1; fi ;;
  esac
  shift
done
if ! [[ "$port" =~ ^[0-9]+$ ]]; then
  echo "usage: tools/wait-listen.sh [--timeout SECONDS] [--pid PID] PORT [HOST]" >&2
  exit 2
fi

deadline=$(( $(date +%s%N) + timeout_s * 1000000000 ))
while :; do
  # A subshell, so the probe's descriptor closes with it; `timeout` bounds a connect that hangs.
  if timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
    exit 0
  fi
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    echo "wait-listen: process $pid ended before anything accepted connections on $host:$port" >&2
    exit 1
  fi
  if [ "$(date +%s%N)" -ge "$deadline" ]; then
    echo "wait-listen: nothing accepted connections on $host:$port within $timeout_s s" >&2
    exit 1
  fi
  sleep 0.05
done
