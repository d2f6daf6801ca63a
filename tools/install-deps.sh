#!/usr/bin/env bash
# install-deps.sh: make sure every Debian package Mneme's build, tests and benchmarks use is installed.
#
# Checks with dpkg-query (fast, no network). Installs what is missing with apt-get, running
# `apt-get update` first only when something must be installed. Not root: prints the exact command to run
# and fails.
set -euo pipefail

packages=(
  make g++ git tar python3
  g++-i686-linux-gnu binutils-i686-linux-gnu nasm            # the kernel and user programs
  qemu-system-x86 qemu-utils                                   # running it
  grub-pc-bin grub-common xorriso mtools                       # the GRUB ISO
  gdb                                                          # make debug, the gdb test
  libgtest-dev libbenchmark-dev                                # host tests and benchmarks
  clang libclang-rt-14-dev                                     # libFuzzer
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev      # allocators to compare against
  gnuplot-nox                                                  # make malloc-report plots
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root:  apt-get update && $command" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
