#!/usr/bin/env bash
# docs-transcripts.sh: the transcripts in README.md and docs/*.md are still what Mneme prints. Boots it the way
# `make docs` does (tools/docs/transcripts.py: one QEMU run per set of boot options, two today), types each
# marked block's commands, and compares the normalised output with the page, without touching the page.
#
# One PASS line per page with transcripts; a FAIL line names the page, the block (its line and commands) and
# why: a command that no longer works ("unknown command", "no such program", a panic, no prompt within the
# time limit) or a diff of the page against the output. The regenerated pages are left in
# build/test-logs/docs-regenerated/ and each boot's serial log in build/test-logs/docs-boots/; `make docs`
# writes the new text into the pages. Nothing waits on time: each command is typed once the previous prompt is
# back, and timings in the output are masked (docs/testing.md, "Transcripts").
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
out=$logs/docs-regenerated
mkdir -p "$logs"
rm -rf "$out"
tools/docs/transcripts.py --check --keep "$out" --logs "$logs/docs-boots"
status=$?
# Every QEMU it started has ended (each boot has its own mneme-docs-* scratch folder for the disk image). A
# QEMU killed a moment ago may take a few seconds to go on a busy machine.
left=""
for _ in $(seq 20); do
  left=$(pgrep -f 'qemu-system-i386.*mneme-docs-' || true)
  [ -z "$left" ] && break
  sleep 0.5
done
if [ -n "$left" ]; then
  echo "FAIL docs-transcripts.qemu-ended: QEMU still running after the transcripts (pids $(echo $left))"
  kill $left 2> /dev/null
else
  echo "PASS docs-transcripts.qemu-ended"
fi
exit $status
