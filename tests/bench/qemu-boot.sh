#!/usr/bin/env bash
# qemu-boot.sh: wall time from starting QEMU (TCG) to the user shell's prompt, over several boots.
# Wall time depends on the host; the figure is printed, never judged.
set -u
cd "$(dirname "$0")/../.."
exec python3 - "${BOOT_RUNS:-7}" <<'PY'
import os, statistics, subprocess, sys, time

runs = int(sys.argv[1])
times = []
for _ in range(runs):
    start = time.monotonic()
    qemu = subprocess.Popen(["tools/qemu.sh", "--timeout", "30"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    while True:
        byte = qemu.stdout.read(1)
        if not byte:
            break
        seen = (seen + byte)[-16:]
        if seen.endswith(b"mneme$ "):
            times.append((time.monotonic() - start) * 1000)
            break
    qemu.kill()
    qemu.wait()
if not times:
    print("qemu-boot: the shell prompt never appeared")
    sys.exit(1)
median = statistics.median(times)
print("boot to the shell prompt (QEMU TCG, qboot, -kernel): median %.0f ms over %d boots (%s) (target <= 150 ms %s)"
      % (median, len(times), " ".join("%.0f" % t for t in sorted(times)), "met" if median <= 150 else "MISSED"))
PY
