#!/usr/bin/env bash
# shell-help.sh: the shell's `help` lists every program in the initrd (it is generated from their sources:
# tools/gen-program-help.sh), `spin` and `ubench` included, with the test helpers under their own heading;
# `init` typed at the shell says what it is and returns instead of starting a shell that respawns forever;
# and a program deleted from the tree leaves the initrd and the help at the next build, not at `make clean`.
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
log=$logs/shell-help.log

# --- help and init, typed at the shell ---------------------------------------------------------------------
fifo=$(mktemp -u)
mkfifo "$fifo"
tools/qemu.sh --timeout 60 < "$fifo" > "$log" 2>&1 &
qemu=$!
exec 3> "$fifo"
# wait_for PATTERN [COUNT]: until the log has COUNT lines matching PATTERN (grep -E), at most 30 s.
wait_for() {
  local pattern=$1 count=${2:-1}
  for _ in $(seq 300); do
    [ "$(grep -cE -- "$pattern" "$log" 2> /dev/null)" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}
prompts=1
wait_for '^mneme\$ ' 1
for line in help init ps; do
  printf '%s\r' "$line" >&3
  prompts=$((prompts + 1))
  wait_for 'mneme\$ ' "$prompts" || break
done
exec 3>&-
kill "$qemu" 2> /dev/null
wait "$qemu" 2> /dev/null
rm -f "$fifo"

help_text=$(sed -n '/^mneme\$ help/,/^mneme\$ init/p' "$log")
missing=""
for program in $(sed -n 's|^bin/||p' build/initrd.list); do
  grep -qE "^  $program( |\$)" <<< "$help_text" || missing="$missing $program"
done
if [ -z "$help_text" ]; then
  echo "FAIL shell-help.lists-every-program: no help output; log: $log"
elif [ -n "$missing" ]; then
  echo "FAIL shell-help.lists-every-program: help lacks$missing; log: $log"
else
  echo "PASS shell-help.lists-every-program ($(wc -l < build/initrd.list) in the initrd)"
fi
# A usage that lists choices (a|b|c) keeps them: the help line splits at " | ", not at the first bar.
if grep -qE '^  boundsdemo \[read\|write\|jump\|stack\|code\]([[:space:]]|$)' <<< "$help_text"; then
  echo "PASS shell-help.usage-with-choices"
else
  echo "FAIL shell-help.usage-with-choices: boundsdemo's usage should read '[read|write|jump|stack|code]'; log: $log"
fi
tests_part=$(sed -n '/^Used by the tests:/,/^Syntax:/p' <<< "$help_text")
if grep -qE '^  spin \[CHILDREN\].* +computes' <<< "$help_text" && grep -qE '^  ubench +' <<< "$help_text" &&
  grep -qE '^  argcheck ' <<< "$tests_part" && ! grep -qE '^  (spin|hello) ' <<< "$tests_part"; then
  echo "PASS shell-help.helpers-apart"
else
  echo "FAIL shell-help.helpers-apart: spin/ubench with a description, argcheck only under 'Used by the tests:'; log: $log"
fi
after_init=$(sed -n '/^mneme\$ init/,$p' "$log")
if grep -q '^init: init is process 1' <<< "$after_init" && grep -q '^\[exit 1\]' <<< "$after_init" &&
  [ "$(grep -cE '^ +[0-9]+ +[0-9]+ +[a-z]+ +sh ' <<< "$after_init")" = 1 ] && ! grep -q 'Mneme shell' <<< "$after_init"; then
  echo "PASS shell-help.init-returns"
else
  echo "FAIL shell-help.init-returns: init from the shell should refuse, exit 1, and leave one sh; log: $log"
fi

# --- a deleted program leaves the initrd ---------------------------------------------------------------------
# Build once with an extra program directory (as if the program existed), then without it (as if deleted).
extra=$logs/shell-help-extra
rm -rf "$extra"
mkdir -p "$extra"
printf '// help(program): zzgone | a program this test adds, then deletes\nint main() { return 0; }\n' > "$extra/zzgone.cpp"
build_log=$logs/shell-help-build.log
make --no-print-directory USER_DIRS="user tests/user $extra" build/initrd.tar > "$build_log" 2>&1
with=$(tar -tf build/initrd.tar 2> /dev/null | grep -c 'bin/zzgone$')
with_help=$(grep -c '"zzgone' build/gen/ProgramHelp.h 2> /dev/null)
rm -rf "$extra"
make --no-print-directory build/initrd.tar >> "$build_log" 2>&1
without=$(tar -tf build/initrd.tar 2> /dev/null | grep -c 'bin/zzgone$')
without_help=$(grep -c '"zzgone' build/gen/ProgramHelp.h 2> /dev/null)
if [ "$with" = 1 ] && [ "$with_help" = 1 ] && [ "$without" = 0 ] && [ "$without_help" = 0 ] &&
  [ ! -e build/initrd/bin/zzgone ]; then
  echo "PASS shell-help.deleted-program-leaves-initrd"
else
  echo "FAIL shell-help.deleted-program-leaves-initrd: in the archive $with then $without, in help $with_help then $without_help; log: $build_log"
fi
