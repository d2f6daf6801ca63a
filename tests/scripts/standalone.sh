#!/usr/bin/env bash
# standalone.sh: the repository stands alone. A user who clones it has only what is in it, so no tracked
# file may point at a path outside the tree (a sibling directory, one machine's absolute path) or at notes
# that are not in it. Books and manuals are cited by name; the lecture material is "the course notes".
#
# Prints PASS/FAIL lines for tools/run-tests.sh; a FAIL names each offending file and line.
set -u
cd "$(dirname "$0")/../.."

# check NAME REGEX: no tracked text file (this script excepted) has a line matching REGEX (grep -E).
check() {
  local name=$1 regex=$2 hits
  hits=$(git ls-files -z | grep -zv '^tests/scripts/standalone.sh$' | grep -zv '^tests/fuzz/corpus/' |
    xargs -0 grep -nIE -- "$regex" 2>/dev/null | head -5)
  if [ -z "$hits" ]; then
    echo "PASS standalone.$name"
  else
    echo "FAIL standalone.$name: points outside the repository:"
    printf '%s\n' "$hits" | sed 's/^/    /'
  fi
}

check parent-paths '\.\./shared|\.\./\.\./[a-z]+/(seeds|research|hooks)'
check machine-paths '(^|[^A-Za-z0-9_.])/(work|home|root)/[A-Za-z]'
check outside-notes 'QEMU-NOTES|DESIGN\.md|[^/]STYLE\.md|seeds/|seed notes|research/probes|the issue|issue.s targets|the lead.s'
