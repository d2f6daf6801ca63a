#!/usr/bin/env bash
# install-deps.sh TARGET...: make sure the Debian packages a make target uses are installed, and no others.
#
#   tools/install-deps.sh run         what `make run` needs: the cross toolchain and QEMU
#   tools/install-deps.sh bench fuzz  the union of those two targets' packages
#   tools/install-deps.sh all         every package any target uses
#
# Targets: build (plain `make`), run, run-bochs (make run EMU=bochs), bochs (what tools/bochs.sh's batch
# runs use), debug (make debug / make qemu-gdb), docs (make docs), iso, host-tests, fuzz, test, bench,
# malloc-report, swap-report, arena-report, all. Each names only what its own commands run, so `make run`
# never waits on, or fails for, a benchmark's allocator or a plotting program.
#
# Checks with dpkg-query (fast, no network). As root, installs what is missing with apt-get (running
# `apt-get update` first only when something must be installed). Not root: when everything is there, says
# nothing and succeeds, so a student boots without root once the packages are installed; otherwise prints the
# exact command for root to run, naming only the missing packages of the targets asked for, and fails.
set -euo pipefail

# packages_for TARGET: the packages TARGET needs, one word each (targets build on one another).
packages_for() {
  case "$1" in
    build) echo make tar g++-i686-linux-gnu binutils-i686-linux-gnu nasm ;;
    run) packages_for build; echo qemu-system-x86 qemu-utils ;;
    debug) packages_for run; echo gdb ;;
    # make docs and the staleness test: boot Mneme and drive its serial console (tools/docs/transcripts.py).
    docs) packages_for run; echo python3 ;;
    iso) packages_for build; echo grub-pc-bin grub-common xorriso mtools ;;
    # Bochs boots the GRUB ISO; its term display runs under script (bsdutils, essential, so not listed).
    bochs) packages_for iso; echo bochs bochsbios vgabios bochs-term ;;
    # make run EMU=bochs: socat bridges COM1 to the terminal (tools/bochs.sh).
    run-bochs) packages_for bochs; echo socat ;;
    host-tests) echo make g++ libgtest-dev ;;
    fuzz) echo make clang libclang-rt-14-dev ;;
    # The test runner: the in-kernel and user suites, the GRUB ISO scenario, the gdb scenario, host tests,
    # fuzz replays, the Bochs tier, and the scripts (malloc-preload.sh runs python3, gcc, git under the
    # preloaded malloc).
    test)
      packages_for debug; packages_for iso; packages_for host-tests; packages_for fuzz; packages_for bochs
      echo python3 git
      ;;
    # Host benchmarks against other allocators (tools/bench-allocators.sh), real programs under the fit policies
    # (tests/bench/malloc-programs.sh: perl, gcc, GNU time) and the in-QEMU instruction counts.
    bench) packages_for run; echo g++ libbenchmark-dev libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev time perl ;;
    malloc-report) echo make g++ gcc python3 git gnuplot-nox ;;
    # QEMU runs of swapload under each policy, the host's replay of the same strings, the plots.
    swap-report) packages_for run; echo g++ gnuplot-nox ;;
    # QEMU runs of arenaload under each fit policy, the log read with awk, the plots.
    arena-report) packages_for run; echo gnuplot-nox ;;
    all) for t in test run-bochs bench malloc-report swap-report arena-report; do packages_for "$t"; done ;;
    *) return 1 ;;
  esac
}

if [ $# -eq 0 ]; then
  echo "usage: tools/install-deps.sh TARGET... (build run run-bochs bochs debug docs iso host-tests fuzz test bench malloc-report swap-report arena-report all)" >&2
  exit 2
fi
wanted=()
for target in "$@"; do
  if ! list=$(packages_for "$target"); then
    echo "install-deps: unknown target '$target' (known: build run run-bochs bochs debug docs iso host-tests fuzz test bench malloc-report swap-report arena-report all)" >&2
    exit 2
  fi
  read -r -d '' -a words <<< "$list" || true
  wanted+=("${words[@]}")
done

if ! command -v dpkg-query > /dev/null; then
  echo "install-deps: no dpkg-query (not a Debian system?): cannot check; make sure these are installed:" >&2
  echo "install-deps:   $(printf '%s\n' "${wanted[@]}" | sort -u | tr '\n' ' ')" >&2
  exit 0
fi

missing=()
for p in $(printf '%s\n' "${wanted[@]}" | awk '!seen[$0]++'); do
  status=$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages for $*: ${missing[*]}" >&2
  echo "install-deps: as root run:  apt-get update && $command" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]} (for $*)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "install-deps: done"
