#!/usr/bin/env bash
# qemu.sh: start Mneme in QEMU, the one place that knows the flags (docs/qemu.md says why each is there).
#
#   tools/qemu.sh [options] [-- extra QEMU arguments]
#     --interactive        serial console on this terminal (Ctrl-A X quits, Ctrl-A C the QEMU monitor)
#     --append "ARGS"      kernel command line
#     --mem MIB            memory size (default 128)
#     --cpu MODEL          CPU model (default qemu32)
#     --iso IMAGE          boot a GRUB ISO (build/mneme.iso) instead of -kernel
#     --log FILE           serial output to FILE (non-interactive)
#     --timeout SECONDS    kill QEMU after this long (non-interactive; exit status 124)
#     --gdb PORT           gdb stub on localhost:PORT
#     --wait               start halted, waiting for gdb (-S)
#     --disk IMAGE         attach IMAGE as the primary IDE master (raw)
#     --blkdebug CONF      put QEMU's blkdebug driver with the rules in CONF between the disk and its image
#                          (error injection; read and write errors reach the guest instead of pausing it)
#     --icount             deterministic instruction counting (-icount shift=0), for benchmarks
#     --smp N              N CPUs (-smp N; docs/multicore.md)
#     --mttcg              one host thread per CPU (-accel tcg,thread=multi) instead of TCG's round robin
#
# Always TCG (the KVM on these machines is paravirtual and triple-faults on 32-bit paging), always
# -no-reboot (a triple fault exits instead of looping), always the isa-debug-exit device the test runner
# reads the verdict from. Exit status: QEMU's, e.g. 33 when the tests passed (arch/i386/Power.h).
set -euo pipefail
cd "$(dirname "$0")/.."

interactive=0 append="" mem=128 cpu=qemu32 iso="" log="" timeout_s="" gdb_port="" wait=0 disk="" blkdebug="" icount=0
smp=1 accel=tcg
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --interactive) interactive=1 ;;
    --append) append="$2"; shift ;;
    --mem) mem="$2"; shift ;;
    --cpu) cpu="$2"; shift ;;
    --iso) iso="$2"; shift ;;
    --log) log="$2"; shift ;;
    --timeout) timeout_s="$2"; shift ;;
    --gdb) gdb_port="$2"; shift ;;
    --wait) wait=1 ;;
    --disk) disk="$2"; shift ;;
    --blkdebug) blkdebug="$2"; shift ;;
    --icount) icount=1 ;;
    --smp) smp="$2"; shift ;;
    --mttcg) accel=tcg,thread=multi ;;
    --) shift; extra+=("$@"); break ;;
    *) extra+=("$1") ;;
  esac
  shift
done

args=(-accel "$accel" -smp "$smp" -m "$mem" -cpu "$cpu" -no-reboot -display none -nic none
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
if [ -n "$iso" ]; then
  args+=(-cdrom "$iso" -boot d)
else
  # qboot, QEMU's minimal firmware, boots a -kernel image about twice as fast as SeaBIOS (docs/qemu.md).
  [ -f /usr/share/qemu/qboot.rom ] && args+=(-bios /usr/share/qemu/qboot.rom)
  args+=(-kernel build/kernel.elf)
  [ -n "$append" ] && args+=(-append "$append")
  [ -s build/initrd.tar ] && args+=(-initrd build/initrd.tar)
fi
if [ -n "$blkdebug" ]; then
  [ -n "$disk" ] || { echo "qemu.sh: --blkdebug needs --disk" >&2; exit 2; }
  args+=(-drive "file=blkdebug:$blkdebug:$disk,format=raw,if=ide,index=0,werror=report,rerror=report")
elif [ -n "$disk" ]; then
  args+=(-drive "file=$disk,format=raw,if=ide,index=0")
fi
[ -n "$gdb_port" ] && args+=(-gdb "tcp:127.0.0.1:$gdb_port")
[ "$wait" = 1 ] && args+=(-S)
[ "$icount" = 1 ] && args+=(-icount shift=0)

if [ "$interactive" = 1 ]; then
  # One stdio character device shared by the serial port and the QEMU monitor (Ctrl-A C switches);
  # signal=off hands Ctrl-C to Mneme instead of killing QEMU.
  args+=(-chardev stdio,id=console,mux=on,signal=off -serial chardev:console -mon chardev=console)
  echo "Starting Mneme in QEMU (Ctrl-A X quits, Ctrl-A C toggles the QEMU monitor)."
  exec qemu-system-i386 "${args[@]}" "${extra[@]}"
fi

# Non-interactive: with --log the serial output goes to a file and nothing is read; without it the serial
# port is this process's stdin/stdout, so a script can type at the monitor through a pipe.
args+=(-monitor none)
if [ -n "$log" ]; then
  args+=(-serial "file:$log")
  exec </dev/null
else
  args+=(-serial stdio)
fi
if [ -n "$timeout_s" ]; then
  exec timeout -k 5 "$timeout_s" qemu-system-i386 "${args[@]}" "${extra[@]}"
fi
exec qemu-system-i386 "${args[@]}" "${extra[@]}"
