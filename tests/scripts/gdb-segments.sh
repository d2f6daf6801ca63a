#!/usr/bin/env bash
# gdb-segments.sh: the segmentation helpers of tools/gdb/mneme_segments.py against a live machine.
#
# Boots the shell, starts `spin` under base-bounds and under segments (each its own LDT), has the kernel's
# monitor print both LDTs (`ldt PID`), then attaches gdb, stops at the IRET that returns to one of them,
# steps into user mode and runs mneme-ldt and mneme-translate. The answers are checked against what other
# parties computed: the kernel's own `ldt` view and its arena line (base, limit, linear -> physical), QEMU's
# hidden segment registers (`info registers`), and the bytes at the linear address (gdb, through QEMU's page
# walk) against those at the physical one (QEMU's `xp`). Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
serial=$logs/gdb-segments-serial.log
log=$logs/gdb-segments.log
commands=$logs/gdb-segments.gdb
port=$((20000 + RANDOM % 20000))

fifo=$(mktemp -u)
mkfifo "$fifo"
tools/qemu.sh --gdb "$port" --timeout 60 < "$fifo" > "$serial" 2> "$logs/gdb-segments-qemu.log" &
qemu=$!
exec 3> "$fifo"
cleanup() {
  exec 3>&- 2> /dev/null
  kill "$qemu" 2> /dev/null
  wait "$qemu" 2> /dev/null
  rm -f "$fifo"
}
trap cleanup EXIT

# wait_for PATTERN [COUNT]: until the serial log has COUNT lines matching PATTERN (grep -E), at most 20 s.
wait_for() {
  for _ in $(seq 200); do
    [ "$(grep -cE -- "$1" "$serial" 2> /dev/null)" -ge "${2:-1}" ] && return 0
    sleep 0.1
  done
  return 1
}
give_up() {
  echo "FAIL gdb-segments: $1; log: $serial"
  exit 0
}

wait_for '^Mneme shell' || give_up "no shell prompt"
printf 'MNEME_MEMORY=base-bounds spin &\r' >&3
wait_for '^\[bg\] pid [0-9]+ spin' || give_up "spin (base-bounds) did not start"
printf 'MNEME_MEMORY=segments spin &\r' >&3
wait_for '^\[bg\] pid [0-9]+ spin' 2 || give_up "spin (segments) did not start"
pids=$(grep -oE '^\[bg\] pid [0-9]+' "$serial" | grep -oE '[0-9]+$' | tr '\n' ' ')
printf 'monitor\r' >&3
wait_for '^Mneme kernel monitor' || give_up "no monitor"
for pid in $pids; do printf 'ldt %s\r' "$pid" >&3; done
wait_for 'offset X is linear' 2 || give_up "the monitor's ldt did not answer"
printf 'exit\r' >&3  # back to the shell: the spins run again

# The gdb session. At the IRET of trap_return with CS 0x0f on the stack the CPU is about to enter a process
# of an older model: its LDT and CR3 are loaded. One stepi later it runs that process in ring 3.
cat > "$commands" << EOF
set pagination off
set confirm off
file build/kernel.elf
source tools/gdb/mneme.py
target remote 127.0.0.1:$port
python
iret = next(a for a in range(int(gdb.parse_and_eval("(unsigned)&trap_return")), 0xFFFFFFFF)
            if bytes(gdb.selected_inferior().read_memory(a, 1)) == b"\xcf")
gdb.execute("break *0x%x if *(unsigned int *)(\$esp + 4) == 0x0f" % iret)
end
continue
delete
echo == kernel\n
mneme-translate 0x10:0xc1000000
stepi
echo == registers\n
info registers cs ds eip esp
monitor info registers
echo == ldt\n
mneme-ldt
EOF
for pid in $pids; do printf 'echo == ldt %s\\n\nmneme-ldt %s\n' "$pid" "$pid" >> "$commands"; done
cat >> "$commands" << 'EOF'
python
# Each translation, then the bytes at its linear address (gdb reads through QEMU's page walk) and at its
# physical address (QEMU's xp), for the script to compare.
for name, command in [("data", "ds:0x1234"), ("code", "cs:$eip exec"), ("stack", "ss:$esp write"),
                      ("beyond", "ds:0x7ffff000")]:
    text = gdb.execute("mneme-translate " + command, to_string=True)
    print("== translate %s\n%s" % (name, text), end="")
    linear = re.search(r"^4\. linear = .* = (0x[0-9a-f]+)", text, re.MULTILINE)
    physical = re.search(r"^-> physical (0x[0-9a-f]+)", text, re.MULTILINE)
    if linear and physical:
        words = gdb.selected_inferior().read_memory(int(linear.group(1), 16), 16)
        print("bytes at linear: " + " ".join("%02x" % b for b in bytes(words)))
        xp = gdb.execute("monitor xp /16xb %s" % physical.group(1), to_string=True)
        print("bytes at physical: " + " ".join(re.findall(r"0x([0-9a-f]{2})\b", xp)))
end
kill
EOF
timeout 45 gdb -batch -nx -x "$commands" > "$log" 2>&1

# -- Checks --------------------------------------------------------------------------------------------------
section() { sed -n "/^== $1\$/,/^== /p" "$log"; }
verdict() { if [ -z "$2" ]; then echo "PASS gdb-segments.$1"; else echo "FAIL gdb-segments.$1: $2; log: $log"; fi; }
hex() { printf '0x%08x' "$(($1))"; }

# Which process gdb stopped in: the one whose LDT address (kernel's `ldt`) LDTR holds (QEMU).
ldtr_base=$(grep -oE '^LDT=[0-9a-f]{4} [0-9a-f]{8}' "$log" | awk '{print "0x" $2}')
pid=""
for p in $pids; do
  address=$(grep -oE "^pid $p \(spin\), [a-z-]+: LDT at 0x[0-9a-f]+" "$serial" | grep -oE '0x[0-9a-f]+$')
  [ -n "$address" ] && [ -n "$ldtr_base" ] && [ "$((address))" = "$((ldtr_base))" ] && pid=$p
done
[ -n "$pid" ] || give_up "gdb did not stop with one of the spins' LDTs loaded (LDTR base '${ldtr_base}'); gdb log: $log"
model=$(grep -oE "^pid $pid \(spin\), [a-z-]+:" "$serial" | grep -oE '[a-z-]+:$' | tr -d :)
# The kernel's view of that LDT: "  1  0x0f  base 0x10000000  limit 0x00017fff  code RX ..."
kernel_ldt=$(sed -n "/^pid $pid (spin)/,/offset X is linear/p" "$serial")
field() { grep -E "^  $1  0x" <<< "$kernel_ldt" | grep -oE "$2 0x[0-9a-f]+" | awk '{print $2}'; }
code_base=$(field 1 base) code_limit=$(field 1 limit) data_base=$(field 2 base) data_limit=$(field 2 limit)
# The arena line: linear window -> physical ("arena: 2048 KiB at physical 0x004b7000, seen by its processes at 0x10000000").
arena_physical=$(grep -oE 'arena: [0-9]+ KiB at physical 0x[0-9a-f]+' "$serial" | grep -oE '0x[0-9a-f]+$')
arena_linear=$(grep -oE 'seen by its processes at 0x[0-9a-f]+' "$serial" | grep -oE '0x[0-9a-f]+$')
physical_of() { hex "$1 - arena_linear + arena_physical"; }
echo "(stopped in pid $pid, $model: code base $code_base limit $code_limit, data base $data_base limit $data_limit)"

# mneme-ldt: the loaded LDT's entries as the kernel describes them, and QEMU's hidden DS and CS agree.
problem=""
ldt=$(section ldt)
grep -qE "^LDTR: selector 0x0038 .*base $ldtr_base" <<< "$ldt" || problem="LDTR line wrong"
grep -qE '^      system: LDT; DPL 0, present' <<< "$ldt" || problem="no LDT descriptor from the GDT"
for pair in "1 $code_base $code_limit code: execute/read" "2 $data_base $data_limit data: read/write"; do
  read -r index base limit kind <<< "$pair"
  entry=$(sed -n "/^  entry $index /,/^  entry /p" <<< "$ldt")
  grep -qE "^      base $(hex "$base"), limit field 0x[0-9a-f]+ \(G=0: bytes\): offsets 0x0\.\.0x$(printf %x "$((limit))") valid" <<< "$entry" ||
    problem="entry $index: base or limit differs from the kernel's $base/$limit"
  grep -qE "^      $kind, .*DPL 3, present, [DB]=1" <<< "$entry" || problem="entry $index: type not $kind, DPL 3, present"
done
grep -qE "^DS =0017 ${data_base#0x} ${data_limit#0x} " "$log" || problem="QEMU's hidden DS is not base $data_base limit $data_limit"
grep -qE "^CS =000f ${code_base#0x} ${code_limit#0x} " "$log" || problem="QEMU's hidden CS is not base $code_base limit $code_limit"
verdict "ldt ($model)" "$problem"

# mneme-ldt PID: each spin's LDT found through the process table, loaded or not.
problem=""
for p in $pids; do
  section "ldt $p" | grep -qE "^pid $p \(spin\), (base-bounds|segments): LDT at $(grep -oE "^pid $p \(spin\), [a-z-]+: LDT at 0x[0-9a-f]+" "$serial" | grep -oE '0x[0-9a-f]+$'), 3 descriptors" ||
    problem="mneme-ldt $p did not find pid $p's LDT where the kernel has it"
done
verdict ldt-pid "$problem"

# mneme-translate: linear = base + offset, physical through the arena's mapping, the same bytes at both.
# check_translation NAME BASE OFFSET
check_translation() {
  local name=$1 base=$2 offset=$3 text linear physical
  text=$(section "translate $name")
  linear=$(hex "$base + $offset")
  physical=$(physical_of "$linear")
  if ! grep -qE "^4\. linear = base $(hex "$base") \+ offset $(hex "$offset") = $linear\$" <<< "$text"; then
    verdict "translate-$name" "linear is not $base + $offset = $linear"
  elif ! grep -qE "^-> physical $physical\$" <<< "$text"; then
    verdict "translate-$name" "physical is not $physical (the arena's mapping)"
  elif ! grep -qE '^5\. paging: CR3 .*\[SDM 4\.3\]$' <<< "$text" || ! grep -qE '^   PTE\[ *[0-9]+\] .* P( RW)? US' <<< "$text"; then
    verdict "translate-$name" "no page walk through a user page"
  elif [ "$(grep '^bytes at linear' <<< "$text" | cut -d: -f2)" != "$(grep '^bytes at physical' <<< "$text" | cut -d: -f2)" ]; then
    verdict "translate-$name" "the bytes at linear $linear and at physical $physical differ"
  else
    verdict "translate-$name" ""
  fi
}
eip=$(grep -oE '^eip +0x[0-9a-f]+' "$log" | awk '{print $2}')
esp=$(grep -oE '^esp +0x[0-9a-f]+' "$log" | awk '{print $2}')
check_translation data "$data_base" 0x1234
check_translation code "$code_base" "$eip"
check_translation stack "$data_base" "$esp"

# Beyond the limit: a CPU that checks limits raises #GP; under QEMU the page tables catch it.
beyond=$(section "translate beyond")
problem=""
grep -qE '^3\. limit check: offset 0x7ffff000 is outside 0x0\.\.0x' <<< "$beyond" || problem="limit check not reported"
grep -qE '^-> FAULT on a CPU that checks limits .*: #GP\(0\)' <<< "$beyond" || problem="no #GP"
grep -qE '^-> FAULT: #PF, error code 0x[4-7], CR2 ' <<< "$beyond" || problem="no #PF from paging"
verdict translate-beyond-limit "$problem"

# In the kernel: the flat kernel data segment, the direct map's 4 MiB page.
kernel=$(section kernel)
problem=""
grep -qE '^1\. selector 0x0010: index 2, TI=0 \(GDT\), RPL 0' <<< "$kernel" || problem="selector not decoded"
grep -qE '^4\. linear = base 0x00000000 \+ offset 0xc1000000 = 0xc1000000$' <<< "$kernel" || problem="linear wrong"
grep -qE '^   PS=1 \(CR4\.PSE=1\): a 4 MiB page' <<< "$kernel" || problem="no 4 MiB page"
grep -qE '^-> physical 0x01000000$' <<< "$kernel" || problem="physical is not 0x01000000"
verdict translate-kernel-flat "$problem"
