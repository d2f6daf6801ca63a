#!/usr/bin/env bash
# models-suite.sh: the same programs under every memory model print the same thing. Boots Mneme once, types
# `MNEME_MEMORY=MODEL PROGRAM ARGS` at the shell for each program and each of paging, static, base-bounds
# and segments, and compares each program's output under the older models with its output under paging
# (docs/relocation-and-segments.md).
#
# What is compared: the program's own lines and the shell's status line ("[exit 0]", "[killed by SIGFPE]").
# What is not: the kernel's lines ([exec], [kernel], [arena]: they say how each model loaded or killed the
# program, which is the point of the models), and, within lines, pids, hex numbers (addresses differ by
# design) and the model's own name. Programs left out, and why:
#   nullderef, badsyscall  offset 0 is memory under the older models (the bottom of the stack reserve), so a
#                          null pointer is not an error there
#   stackbomb, forkdemo, allocbomb, memhog, swapdemo, swapload
#                          they measure paging itself (an 8 MiB stack, copy-on-write frames, mmap, swapping)
#   malloctest             the older models give malloc a brk heap, so its default policy is first fit there,
#                          and a static hole holds only 128 KiB of heap
#   forkbomb               fork is refused at once under static (a copy would hold the original's addresses)
#   scribble, boundsdemo, holder
#                          written to differ between models (user.segments.* tests them)
#   sh, init, spin, ubench, vmstat, arenaload, argcheck
#                          interactive, endless, measuring, or test helpers
# and compute under static only: its 1 MiB does not fit the 128 KiB of heap a static hole leaves, and a
# static process cannot grow (it says "out of memory", as it should).
# One PASS or FAIL line per program, for tools/run-tests.sh.
set -u
cd "$(dirname "$0")/../.."
logs=build/test-logs
mkdir -p "$logs"
python3 - "$logs/models-suite.log" << 'PY'
import importlib.util, re, sys

spec = importlib.util.spec_from_file_location("transcripts", "tools/docs/transcripts.py")
transcripts = importlib.util.module_from_spec(spec)
spec.loader.exec_module(transcripts)

MODELS = ["paging", "static", "base-bounds", "segments"]
PROGRAMS = ["hello one two", "compute 3", "divzero", "badopcode", "badcli", "badhlt", "badout", "badcr3",
            "badread", "badwrite", "badjump", "victim 1"]
SKIP = {("compute 3", "static")}
KERNEL_LINE = re.compile(r"^\[(exec|kernel|arena|swap)\]")

def normalise(text, model, command):
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        if not line or KERNEL_LINE.match(line) or line.endswith(command):
            continue
        line = re.sub(r"0x[0-9a-fA-F]+", "0x#", line)
        line = re.sub(r"\b(pid|parent) [0-9]+", r"\1 #", line)
        line = line.replace(model, "MODEL")
        lines.append(line)
    return lines

session = transcripts.Session("", "", "none", sys.argv[1])
failures = 0
try:
    session.read_until(lambda buf: transcripts.PROMPT_AT_END.search(buf), 120, "the shell's first prompt")
    for program in PROGRAMS:
        outputs = {}
        for model in MODELS:
            if (program, model) in SKIP:
                continue
            command = f"MNEME_MEMORY={model} {program}"
            since = len(session.buf)
            session.type(command)
            session.read_until(lambda buf: transcripts.PROMPT_AT_END.search(buf[since + len(command):]), 120,
                               f"the prompt after '{command}'")
            text = session.buf[since:]
            text = text[:transcripts.PROMPT_AT_END.search(text).start()]
            outputs[model] = normalise(text, model, command)
        name = program.split()[0]
        differ = [m for m in outputs if outputs[m] != outputs["paging"]]
        if not outputs["paging"] or not outputs["paging"][-1].startswith("["):
            print(f"FAIL models-suite.{name}: no status line under paging: {outputs['paging']}")
            failures += 1
        elif differ:
            model = differ[0]
            print(f"FAIL models-suite.{name}: under {model} it printed {outputs[model]}, under paging "
                  f"{outputs['paging']}")
            failures += 1
        else:
            print(f"PASS models-suite.{name} ({outputs['paging'][-1]} under {', '.join(outputs)})")
except transcripts.BlockError as e:
    print(f"FAIL models-suite: {e}")
    failures += 1
finally:
    session.close()
sys.exit(1 if failures else 0)
PY
