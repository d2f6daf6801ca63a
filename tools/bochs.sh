#!/usr/bin/env bash
# bochs.sh: start Mneme in Bochs, the one place that knows Bochs' configuration (docs/qemu.md, "Bochs").
#
#   tools/bochs.sh [options]
#     --interactive        serial console on this terminal (Ctrl-] quits); needs socat
#     --append "ARGS"      kernel command line (may be empty): boots a GRUB ISO built with it in the run
#                          directory
#     --iso IMAGE          boot this GRUB ISO (default build/mneme.iso, or the one --append builds)
#     --mem MIB            memory size (default 128)
#     --cpus N             processors (default 1; Bochs must be built with SMP support, as Debian's is)
#     --disk IMAGE         attach IMAGE (raw) as the primary IDE master, where Mneme looks for its disk
#     --log FILE           batch: serial output to FILE (default build/bochs/serial.log); Bochs' own log
#                          goes next to it as FILE's name with .bochs.log
#     --timeout SECONDS    batch: stop Bochs after this long (default 150; exit status 124)
#
# Why Bochs: it checks segment limits and types on every memory access, QEMU's TCG only when a selector
# is loaded. Mneme boots from a GRUB ISO (Bochs has no -kernel); the CD-ROM is the secondary channel's
# master, so the primary master is free for the disk, the only IDE device Mneme probes (arch/i386/Ata.cpp).
#
# Batch mode (the default) runs a test selection (--append test=...) and decides from the serial log, since
# Bochs has no isa-debug-exit device: without one the kernel prints "test: verdict: PASSED" or "FAILED" and
# writes "Shutdown" to port 0x8900, which ends the simulation (arch/i386/Power.cpp). Exit status: 0 when
# the verdict is PASSED, 1 FAILED, 2 a kernel panic, 3 Bochs ended without a verdict (its own panic, a
# triple fault), 124 the timeout; on anything but 0 the tails of both logs are printed.
#
# Bochs 2.7 as Debian builds it has the internal debugger and only the `term` and `rfb` displays: `term`
# draws the VGA screen with curses and wants a terminal, so Bochs runs under `script` on a pseudo-terminal
# of its own whose output is thrown away; the debugger reads `c` (continue) from an rc file. Interactive
# mode bridges COM1 to this terminal: socat makes a pseudo-terminal (PTY,link=...) and copies between it
# and this terminal in raw mode, and Bochs' `com1: mode=term` opens the other side. (Bochs cannot take COM1
# from its own terminal, which the VGA display occupies; a socket-server COM1 would take the first
# connection, such as a readiness probe, as its only client.)
set -euo pipefail
cd "$(dirname "$0")/.."

interactive=0 append="" append_set=0 iso="" mem=128 cpus=1 disk="" log="" timeout_s=150
while [ $# -gt 0 ]; do
  case "$1" in
    --interactive) interactive=1 ;;
    --append) append="$2"; append_set=1; shift ;;
    --iso) iso="$2"; shift ;;
    --mem) mem="$2"; shift ;;
    --cpus) cpus="$2"; shift ;;
    --disk) disk="$2"; shift ;;
    --log) log="$2"; shift ;;
    --timeout) timeout_s="$2"; shift ;;
    *) echo "bochs.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bios=/usr/share/bochs/BIOS-bochs-latest
vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
for need in bochs script "$bios" "$vgabios"; do
  if ! command -v "$need" > /dev/null && [ ! -e "$need" ]; then
    echo "bochs.sh: $need is missing: tools/install-deps.sh run-bochs installs Bochs" >&2
    exit 3
  fi
done
if [ "$interactive" = 1 ] && ! command -v socat > /dev/null; then
  echo "bochs.sh: socat is missing (interactive mode bridges COM1 with it): tools/install-deps.sh run-bochs" >&2
  exit 3
fi

# The run directory holds the configuration, the ISO built for --append, and in batch mode the logs.
[ -n "$log" ] || log=build/bochs/serial.log
mkdir -p "$(dirname "$log")"
log=$(realpath "$log")
bochs_log=${log%.log}.bochs.log
run=$(mktemp -d "${TMPDIR:-/tmp}/mneme-bochs.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  stop_bochs
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  unlock_disk
  rm -rf "$run"
}
# stop_bochs: Bochs runs under script (and timeout), which a timeout or Ctrl-] ends, and it shrugs off
# SIGTERM, so a Bochs still running then is killed outright; its configuration's path, unique to this run,
# names it.
stop_bochs() { pkill -KILL -f "$run/bochsrc" 2> /dev/null || true; }
# Bochs locks a disk image with IMAGE.lock and removes the lock when it exits, but not when it is killed
# (a timeout, Ctrl-]), which would refuse the image to every later run. Called once our Bochs is gone; a
# lock our Bochs did not take (it could not open the image) is left alone.
unlock_disk() {
  [ -n "$disk" ] && [ -e "$disk.lock" ] || return 0
  grep -qs 'could not open hard drive image' "$bochs_log" "$run/terminal.out" || rm -f "$disk.lock"
}
trap cleanup EXIT

[ -z "$disk" ] || disk=$(realpath "$disk")

if [ "$append_set" = 1 ]; then
  [ -z "$iso" ] || { echo "bochs.sh: --append and --iso exclude each other" >&2; exit 2; }
  # The Makefile's ISO recipe, with this command line (build/mneme%iso in the Makefile).
  mkdir -p "$run/iso/boot/grub"
  cp build/kernel.elf build/initrd.tar "$run/iso/boot/"
  sed "s|@ARGS@|$append|" boot/grub.cfg > "$run/iso/boot/grub/grub.cfg"
  grub-mkrescue -o "$run/mneme.iso" "$run/iso" > "$run/grub-mkrescue.log" 2>&1 ||
    { cat "$run/grub-mkrescue.log" >&2; exit 3; }
  iso=$run/mneme.iso
fi
[ -n "$iso" ] || iso=build/mneme.iso
[ -f "$iso" ] || { echo "bochs.sh: no ISO $iso (make iso builds build/mneme.iso)" >&2; exit 2; }
iso=$(realpath "$iso")

if [ "$interactive" = 1 ]; then
  com1="com1: enabled=1, mode=term, dev=$run/com1"
  bochs_log=$run/bochs.log
else
  com1="com1: enabled=1, mode=file, dev=$log"
fi
{
  echo "megs: $mem"
  echo "romimage: file=$bios"
  echo "vgaromimage: file=$vgabios"
  # The CD-ROM on the secondary channel leaves the primary master to the disk.
  echo "ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15"
  echo "ata1-master: type=cdrom, path=$iso, status=inserted"
  [ -n "$disk" ] && echo "ata0-master: type=disk, path=$disk, mode=flat"
  echo "boot: cdrom"
  echo "display_library: term"
  echo "$com1"
  echo "log: $bochs_log"
  # Guest time runs as fast as Bochs can go (no waiting for the host's clock), counted as 50 million
  # instructions a second of guest time: the PIT ticks at the guest's pace, as under QEMU's TCG.
  echo "clock: sync=none"
  echo "cpu: count=$cpus, ips=50000000, reset_on_triple_fault=0"
  # Any Bochs panic (a triple fault included, with the reset above off) ends the run instead of asking.
  echo "panic: action=fatal"
  echo "port_e9_hack: enabled=1"
} > "$run/bochsrc"
printf 'c\nquit\n' > "$run/debugger.rc"
# drain_screen: with its debugger built in, Bochs' term display draws not on Bochs' terminal (the debugger's)
# but on a new pseudo-terminal it names there ('Bochs connected to screen "/dev/pts/N"'); once its buffer is
# full, nobody reading it, Bochs blocks in the middle of a run (a long test run's scrolling fills it). This
# reads that terminal, in raw mode without echo (an echo would reach Bochs as keystrokes), and throws the
# picture away; it ends when Bochs closes the terminal. Waits at most 30 s for the name.
drain_screen() {
  local screen=""
  for _ in $(seq 600); do
    screen=$(grep -a -m1 -o 'connected to screen "[^"]*"' "$run/terminal.out" 2> /dev/null | cut -d'"' -f2 || true)
    [ -n "$screen" ] && break
    sleep 0.05
  done
  [ -n "$screen" ] || return 0
  stty -F "$screen" raw -echo 2> /dev/null || true
  exec cat "$screen" > /dev/null 2>&1
}
bochs_command="bochs -q -f $run/bochsrc -rc $run/debugger.rc"
# bochs_panic: Bochs' first panic message, from its log or, for one before the log was open (a
# configuration it refused), from what it printed on its terminal.
bochs_panic() {
  cat "$bochs_log" "$run/terminal.out" 2> /dev/null | grep -a -m1 -o '>>PANIC<< [^[:cntrl:]]*' || true
  [ -s "$bochs_log" ] || [ -s "$run/terminal.out" ] || echo "no message from Bochs"
  if grep -qs 'image locked' "$bochs_log"; then
    echo "(the image is locked: another Bochs uses it, or one was killed before removing $disk.lock)"
  fi
}

if [ "$interactive" = 1 ]; then
  echo "Starting Mneme in Bochs (Ctrl-] quits)."
  # socat puts this terminal in raw mode and waits for Bochs to open its pseudo-terminal; it ends on Ctrl-]
  # or when Bochs closes that side. Whichever of the two ends first ends the other, and the terminal's
  # settings come back even if socat was killed before it could restore them.
  saved_tty=$(stty -g 2> /dev/null || true)
  socat -,raw,echo=0,escape=0x1d "PTY,link=$run/com1,raw,echo=0,wait-slave" <&0 &
  socat_pid=$!
  pids+=("$socat_pid")
  for _ in $(seq 200); do
    [ -e "$run/com1" ] || ! kill -0 "$socat_pid" 2> /dev/null && break
    sleep 0.05
  done
  drain_screen &
  pids+=($!)
  TERM=xterm script -q -c "$bochs_command" /dev/null < /dev/null > "$run/terminal.out" 2>&1 &
  bochs_pid=$!
  pids+=("$bochs_pid")
  wait -n "$socat_pid" "$bochs_pid" || true
  # Bochs ended first: socat notices its pseudo-terminal closing within moments, unless Bochs never
  # opened it (a configuration Bochs refused).
  for _ in $(seq 40); do kill -0 "$socat_pid" 2> /dev/null || break; sleep 0.05; done
  if kill -0 "$socat_pid" 2> /dev/null; then
    kill "$socat_pid" 2> /dev/null || true
    wait "$socat_pid" 2> /dev/null || true
    [ -n "$saved_tty" ] && stty "$saved_tty" 2> /dev/null
    echo "bochs.sh: Bochs ended without opening COM1: $(bochs_panic | paste -sd " ")" >&2
    exit 3
  fi
  exit 0
fi

rm -f "$log" "$bochs_log"
drain_screen &
pids+=($!)
start=$(date +%s%N)
status=0
TERM=xterm timeout -k 5 "$timeout_s" script -q -c "$bochs_command" /dev/null < /dev/null \
  > "$run/terminal.out" 2>&1 || status=$?
stop_bochs
unlock_disk
tenths=$(( ($(date +%s%N) - start) / 100000000 ))
took="$((tenths / 10)).$((tenths % 10)) s"

if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  verdict=124 reason="timed out after $timeout_s s"
elif grep -q '^test: verdict: PASSED' "$log" 2> /dev/null; then
  verdict=0 reason="tests passed"
elif grep -q '^test: verdict: FAILED' "$log" 2> /dev/null; then
  verdict=1 reason="tests failed"
elif grep -q '^\*\*\* The machine is stopped' "$log" 2> /dev/null; then
  verdict=2 reason="kernel panic"
else
  verdict=3 reason="Bochs ended without a verdict: $(bochs_panic | paste -sd " ")"
fi
echo "bochs.sh: $reason ($took); serial log $log, Bochs' log $bochs_log"
if [ "$verdict" != 0 ]; then
  echo "--- the end of the serial log:"
  tail -n 15 "$log" 2> /dev/null || true
  echo "--- the end of Bochs' log:"
  grep -v '^\S*i\[' "$bochs_log" 2> /dev/null | tail -n 10 || true
fi >&2
exit "$verdict"
