#!/usr/bin/env bash
# deps.sh: each make target checks only its own Debian packages (tools/install-deps.sh). `make run` boots for
# a user who is not root once the boot packages are there, whatever benchmark packages are missing (before,
# every target needed every package, jemalloc and gnuplot included).
#
# Runs `make deps-TARGET` with a fake dpkg-query (reports the packages in $FAKE_MISSING as not installed),
# a fake id (the user id in $FAKE_UID) and a fake apt-get (records its arguments instead of installing).
# Prints PASS/FAIL lines for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT

cat > "$fake/dpkg-query" << 'FAKE'
#!/usr/bin/env bash
package=${!#}
for m in $FAKE_MISSING; do [ "$m" = "$package" ] && exit 1; done
printf 'install ok installed'
FAKE
cat > "$fake/id" << 'FAKE'
#!/usr/bin/env bash
echo "$FAKE_UID"
FAKE
cat > "$fake/apt-get" << 'FAKE'
#!/usr/bin/env bash
echo "apt-get $*" >> "$FAKE_APT_LOG"
FAKE
chmod +x "$fake"/*

bench_packages="libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev gnuplot-nox libbenchmark-dev"

# check NAME TARGET UID MISSING STATUS [PATTERN]...: runs `make deps-TARGET`; checks make's exit status (2 when
# the check fails) and that each grep -E PATTERN appears in its output (!PATTERN: must not appear; a pattern
# starting with "apt:" looks at apt-get's log instead).
check() {
  local name=$1 target=$2 uid=$3 missing=$4 want=$5
  shift 5
  local log=$logs/deps-$name.log apt_log=$logs/deps-$name.apt.log
  rm -f "$apt_log"
  touch "$apt_log"
  PATH="$fake:$PATH" FAKE_MISSING="$missing" FAKE_UID=$uid FAKE_APT_LOG=$apt_log \
    make --no-print-directory "deps-$target" > "$log" 2>&1
  local status=$?
  if [ "$status" -ne "$want" ]; then
    echo "FAIL deps.$name: make deps-$target exited $status, expected $want; log: $log"
    return
  fi
  for pattern in "$@"; do
    local file=$log negate=0
    [ "${pattern:0:1}" = "!" ] && negate=1 && pattern=${pattern:1}
    [ "${pattern:0:4}" = "apt:" ] && file=$apt_log && pattern=${pattern:4}
    if grep -qE -- "$pattern" "$file"; then found=1; else found=0; fi
    if [ "$found" -eq "$negate" ]; then
      echo "FAIL deps.$name: $( [ $negate = 1 ] && echo 'unexpected' || echo 'missing') /$pattern/ in $file"
      return
    fi
  done
  echo "PASS deps.$name"
}

# Not root, the boot packages there, every benchmark package missing: make run's check passes, silently.
check run-without-bench-packages run 1000 "$bench_packages" 0 '!install-deps'
check debug-without-bench-packages debug 1000 "$bench_packages" 0 '!install-deps'
# Not root, QEMU missing too: the check fails, names QEMU and the command, and no benchmark package.
check run-names-only-its-packages run 1000 "qemu-system-x86 $bench_packages" 2 \
  'missing Debian packages for run: qemu-system-x86$' 'apt-get update && apt-get install -y --no-install-recommends qemu-system-x86$' \
  '!jemalloc|gnuplot'
# Not root, bench's own packages missing: make bench names them.
check bench-names-its-packages bench 1000 "$bench_packages" 2 'libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev' \
  '!gnuplot'
# Root: make run installs nothing it does not need; make bench installs its allocators.
check root-run-installs-nothing-extra run 0 "$bench_packages" 0 '!apt:.'
check root-run-installs-qemu run 0 "qemu-utils $bench_packages" 0 'apt:install .*qemu-utils$'
check root-bench-installs-allocators bench 0 "$bench_packages" 0 'apt:install .*libjemalloc-dev' '!apt:gnuplot'
# Bochs: make run (QEMU) never needs it; make run EMU=bochs needs Bochs and socat, not QEMU; make test
# installs Bochs for its Bochs tier.
bochs_packages="bochs bochsbios vgabios bochs-term socat"
check run-without-bochs run 1000 "$bochs_packages" 0 '!install-deps'
check run-bochs-names-bochs run-bochs 1000 "qemu-system-x86 $bochs_packages" 2 \
  'missing Debian packages for run-bochs: bochs bochsbios vgabios bochs-term socat$' '!qemu'
check root-test-installs-bochs test 0 "bochs bochsbios vgabios bochs-term" 0 \
  'apt:install .*bochs bochsbios vgabios bochs-term$'
# An unknown target is refused with the list of known ones.
check unknown-target nonsense 1000 "" 2 "unknown target 'nonsense'"
