#!/usr/bin/env bash
# mkinitrd.sh DIR OUT.tar: pack DIR into a ustar archive, the initrd Mneme receives as a multiboot module.
# Plain POSIX ustar (no GNU extensions), fixed owner and time so the archive is reproducible.
set -euo pipefail
dir=$1
out=$2
mkdir -p "$dir"
tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00' --sort=name \
  -C "$dir" -cf "$out" .
