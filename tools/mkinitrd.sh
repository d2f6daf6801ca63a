#!/usr/bin/env bash
# mkinitrd.sh DIR OUT.tar [LIST]: pack DIR into a ustar archive, the initrd Mneme receives as a multiboot
# module. Plain POSIX ustar (no GNU extensions), fixed owner and time so the archive is reproducible.
# With LIST (paths relative to DIR, one a line), a file in DIR that LIST does not name is deleted first: a
# program removed from the tree leaves its old binary in DIR, and it must not reach the archive.
set -euo pipefail
dir=$1
out=$2
list=${3:-}
mkdir -p "$dir"
if [ -n "$list" ]; then
  (cd "$dir" && find . -type f | sed 's|^\./||' | sort) | comm -23 - <(sort "$list") | while IFS= read -r stale; do
    echo "  RM      $dir/$stale (no longer in the initrd)"
    rm -f "$dir/$stale"
  done
fi
tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00' --sort=name \
  -C "$dir" -cf "$out" .
