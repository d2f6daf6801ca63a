#!/usr/bin/env bash
# malloc-preload.sh: real programs under the Mneme malloc (LD_PRELOAD), compared with a run without it.
#
# python3 running a script, gcc compiling a file, git, make and a threaded sort each run once plainly and
# then under build/host/libmneme_malloc.so with the default policy, best fit and the buddy system; stdout,
# the exit status and any files they write must be identical. One line per check: "PASS <name>" or
# "FAIL <name> <reason>". Needs `make test-artifacts` (the .so); takes a few seconds. KEEP=1 keeps the
# work directory (/tmp/malloc-preload.*) for a look at the outputs.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
lib="$root/build/host/libmneme_malloc.so"
policies="default best buddy"

if [ ! -e "$lib" ]; then
  echo "FAIL malloc-preload-library $lib missing (make test-artifacts)"
  exit 0
fi

work="$(mktemp -d /tmp/malloc-preload.XXXXXX)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# run NAME POLICY COMMAND...: runs COMMAND in $work/NAME.POLICY (a copy of $work/NAME.src) and stores its
# stdout and exit status there. POLICY "plain" means without the preloaded library.
run() {
  local name="$1" policy="$2"; shift 2
  local dir="$work/$name.$policy" out="$work/$name.$policy.out" err="$work/$name.$policy.err"
  rm -rf "$dir"; cp -a "$work/$name.src" "$dir"
  local -a environment=()
  case "$policy" in
    plain) ;;
    default) environment=(env -u MNEME_MALLOC LD_PRELOAD="$lib") ;;
    *) environment=(env MNEME_MALLOC="$policy" LD_PRELOAD="$lib") ;;
  esac
  (cd "$dir" && "${environment[@]}" "$@" > "$out" 2> "$err"; echo "exit $?" >> "$out")
}

# compare NAME FILES...: each policy's stdout and the listed output files against the plain run's.
compare() {
  local name="$1"; shift
  for policy in $policies; do
    local reason="" plain="$work/$name.plain" mine="$work/$name.$policy"
    if ! cmp -s "$plain.out" "$mine.out"; then
      reason="stdout or exit status differs: $(diff "$plain.out" "$mine.out" | head -3 | tr '\n' ' ')"
    elif grep -q "mneme: panic" "$mine.err"; then
      reason="$(grep -m1 "mneme: panic" "$mine.err")"
    else
      for file in "$@"; do
        if ! cmp -s "$plain/$file" "$mine/$file"; then reason="$file differs"; break; fi
      done
    fi
    if [ -z "$reason" ]; then echo "PASS malloc-preload-$name-$policy"
    else echo "FAIL malloc-preload-$name-$policy $reason"; fi
  done
}

# --- the library is really in use, with the policy asked for ----------------------------------------------
stats="$(MNEME_MALLOC=best MNEME_MALLOC_STATS=1 LD_PRELOAD="$lib" /bin/true 2>&1)"
if [[ "$stats" == *"mneme malloc: policy best"* ]]; then echo "PASS malloc-preload-active"
else echo "FAIL malloc-preload-active no statistics from the preloaded library: ${stats:0:100}"; fi
warning="$(MNEME_MALLOC=bestest LD_PRELOAD="$lib" /bin/true 2>&1)"
if [[ "$warning" == *"unknown MNEME_MALLOC=bestest"*"segregated, first, next, best, worst, buddy"* ]]; then
  echo "PASS malloc-preload-unknown-policy-warning"
else echo "FAIL malloc-preload-unknown-policy-warning got: ${warning:0:100}"; fi

# --- python3 running a script -------------------------------------------------------------------------------
mkdir -p "$work/python.src"
cat > "$work/python.src/script.py" <<'EOF'
import collections, hashlib, json, random, re
random.seed(7)
words = ["".join(random.choice("abcdefghij") for _ in range(random.randint(1, 12))) for _ in range(40000)]
counts = collections.Counter(words)
tree = {w: {"n": c, "rev": w[::-1], "list": list(range(c % 17))} for w, c in counts.items()}
text = json.dumps(tree, sort_keys=True)
again = json.loads(text)
joined = " ".join(sorted(again)[:5000])
print(len(text), len(again), len(re.findall(r"\bab\w*", joined)))
print(hashlib.sha256(text.encode()).hexdigest())
big = [bytearray(random.randint(1, 300000)) for _ in range(50)]
print(sum(len(b) for b in big))
EOF
run python plain python3 script.py
for p in $policies; do run python "$p" python3 script.py; done
compare python

# --- gcc compiling a file -----------------------------------------------------------------------------------
mkdir -p "$work/gcc.src"
cat > "$work/gcc.src/program.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *left, *right; int key; char name[24]; };
static struct node *insert(struct node *root, int key) {
    if (!root) { struct node *n = calloc(1, sizeof *n); n->key = key; snprintf(n->name, sizeof n->name, "k%d", key); return n; }
    if (key < root->key) root->left = insert(root->left, key); else root->right = insert(root->right, key);
    return root;
}
static int depth(const struct node *n) { if (!n) return 0; int l = depth(n->left), r = depth(n->right); return 1 + (l > r ? l : r); }
int main(void) {
    struct node *root = NULL;
    for (int i = 0; i < 10000; ++i) root = insert(root, (i * 2654435761u) % 100003);
    printf("depth %d root %s\n", depth(root), root->name);
    return 0;
}
EOF
run gcc plain gcc -O2 -Wall -c program.c -o program.o
for p in $policies; do run gcc "$p" gcc -O2 -Wall -c program.c -o program.o; done
compare gcc program.o

# --- git ----------------------------------------------------------------------------------------------------
mkdir -p "$work/git.src"
git_script='set -e
export GIT_AUTHOR_NAME=Mneme GIT_AUTHOR_EMAIL=m@example.org
export GIT_COMMITTER_NAME=Mneme GIT_COMMITTER_EMAIL=m@example.org
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 HOME=$PWD
git init -q -b main repo && cd repo
for i in $(seq 1 12); do
  seq 1 $((i * 300)) | sed "s/^/line $i /" > file$((i % 4)).txt
  git add -A && git commit -q -m "commit $i"
done
git log --stat --format="%H %s"
git diff HEAD~5 --stat
git blame file1.txt | tail -3
git gc -q
git fsck 2>&1
git rev-list --all | wc -l'
run git plain bash -c "$git_script"
for p in $policies; do run git "$p" bash -c "$git_script"; done
compare git

# --- make ---------------------------------------------------------------------------------------------------
mkdir -p "$work/make.src/src"
for i in $(seq 1 40); do echo "part $i" > "$work/make.src/src/part$i.in"; done
cat > "$work/make.src/Makefile" <<'EOF'
INPUTS := $(sort $(wildcard src/*.in))
OUTPUTS := $(INPUTS:src/%.in=out/%.txt)
NUMBERS := $(shell seq 1 200)
all: out/total.txt
	@echo "$(words $(NUMBERS)) numbers, $(words $(OUTPUTS)) outputs"
	@cat out/total.txt | wc -l
out/%.txt: src/%.in
	@mkdir -p out
	@sed 's/part/PART/' $< > $@
out/total.txt: $(OUTPUTS)
	@cat $^ > $@
	@echo "$(foreach n,$(wordlist 1,20,$(NUMBERS)),[$(n)])"
EOF
run make plain make --no-print-directory
for p in $policies; do run make "$p" make --no-print-directory; done
compare make out/total.txt
# --- a threaded program: GNU sort with two threads --------------------------------------------------------
mkdir -p "$work/sort.src"
awk 'BEGIN { x = 1; for (i = 0; i < 300000; ++i) { x = (x * 1103515245 + 12345) % 2147483648; print x } }' \
  > "$work/sort.src/input.txt"
run sort plain sort --parallel=2 -S 16M input.txt
for p in $policies; do run sort "$p" sort --parallel=2 -S 16M input.txt; done
compare sort
exit 0
