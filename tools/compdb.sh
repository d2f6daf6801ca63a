#!/usr/bin/env bash
# compdb.sh: compile_commands.json for editors (clangd), from `make -n` of a clean tree.
# Kernel and user files get the cross compiler's flags; host test files the host flags.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
make -n -B all build/host/mneme-tests 2>/dev/null | python3 -c '
import json, re, shlex, sys
root = sys.argv[1]
entries, seen = [], set()
for line in sys.stdin:
    line = line.strip().lstrip("@")
    if not re.search(r"(g\+\+|clang\+\+) .* -c ", line):
        continue
    words = shlex.split(line)
    source = words[words.index("-c") + 1]
    if source in seen or not source.endswith(".cpp"):
        continue
    seen.add(source)
    entries.append({"directory": root, "file": source, "arguments": words})
json.dump(entries, sys.stdout, indent=1)
' "$root"
