# Mneme: the build.
#
#   make            build/kernel.elf (multiboot v1, higher half) and build/initrd.tar
#   make run        install what is missing, boot in QEMU to the shell on this terminal (Ctrl-A X quits);
#                   the IDE disk is DISK (build/disk.img, a 64 MiB raw image made when missing; DISK= for none);
#                   EMU=bochs (or make run-bochs) boots the GRUB ISO in Bochs instead (Ctrl-] quits)
#   make test       install what is missing, run every test tier, end with "N passed, N failed"
#   make iso        build/mneme.iso (GRUB rescue image)
#   make bench      host and in-QEMU benchmarks; prints figures, never fails on time
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make docs       boot Mneme and rewrite the marked transcripts in README.md and docs/*.md with its output
#   make debug      QEMU waiting for gdb, gdb attached with symbols and tools/gdb helpers loaded
#   make qemu-gdb   QEMU waiting for gdb; prints the command to attach
#   make compdb     compile_commands.json for editors
#   make format     clang-format the tree
#
# Sources are found by wildcard: a new .cpp in one of the directories below is built without touching this
# file. Topic-specific targets live in mk/*.mk, included at the end.

.DEFAULT_GOAL := all
SHELL := /bin/bash
BUILD := build

# ---------------------------------------------------------------------------------------------------------
# Kernel (freestanding, i386)
# ---------------------------------------------------------------------------------------------------------
CROSS ?= i686-linux-gnu-
KCXX := $(CROSS)g++
KNM := $(CROSS)nm
KOBJCOPY := $(CROSS)objcopy
NASM := nasm

# -march=i486: no CMOV or other post-486 instructions, so `-cpu 486` and `-cpu pentium` boot.
# -mgeneral-regs-only: no SSE/x87 in the kernel, so interrupts need not save FPU state.
FREESTANDING_FLAGS := -std=c++20 -ffreestanding -fno-exceptions -fno-rtti -fno-pie -fno-stack-protector \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fcf-protection=none -mgeneral-regs-only -march=i486 \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-strict-aliasing -fno-tree-loop-distribute-patterns -Wall -Wextra -Werror -I. -MMD -MP
KCXXFLAGS := $(FREESTANDING_FLAGS) -O2 -g -DMNEME_KERNEL $(KERNEL_EXTRA_FLAGS)
KLDFLAGS := -nostdlib -no-pie -static -Wl,--build-id=none -z noexecstack -T linker.ld

KERNEL_CPP := $(wildcard arch/i386/*.cpp kernel/*/*.cpp mm/*/*.cpp format/*.cpp libc/base/*.cpp libc/rt/*.cpp \
	tests/kernel/*.cpp)
KERNEL_ASM := $(wildcard boot/*.asm arch/i386/*.asm)
KERNEL_OBJS := $(KERNEL_CPP:%.cpp=$(BUILD)/kernel/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/kernel/%.asm.o)

$(BUILD)/kernel/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  KCXX    $<"
	@$(KCXX) $(KCXXFLAGS) -c $< -o $@

$(BUILD)/kernel/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf32 -MD $(@:.o=.d) -MP -o $@ $<

# The kernel carries its own symbol table for backtraces. Pass 1 links with an empty table; its text
# symbols become build/ksyms.S; pass 2 links that table in. The table sits after every other section
# (linker.ld), so no address moves between the passes; tools/gen-ksyms.sh checks that they agree.
$(BUILD)/kernel/ksyms-empty.o: tools/ksyms-empty.S
	@mkdir -p $(dir $@)
	@$(KCXX) -c $< -o $@

$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(BUILD)/kernel/ksyms-empty.o linker.ld
	@echo "  LD      $@"
	@$(KCXX) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms-empty.o

$(BUILD)/kernel/ksyms.o: $(BUILD)/kernel.pass1.elf tools/gen-ksyms.sh
	@tools/gen-ksyms.sh $< $(BUILD)/kernel/ksyms.S
	@$(KCXX) -c $(BUILD)/kernel/ksyms.S -o $@

$(BUILD)/kernel.elf: $(BUILD)/kernel/ksyms.o $(BUILD)/kernel.pass1.elf
	@echo "  LD      $@"
	@$(KCXX) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o
	@tools/gen-ksyms.sh --check $(BUILD)/kernel.pass1.elf $@

kernel: $(BUILD)/kernel.elf

# ---------------------------------------------------------------------------------------------------------
# User programs and the initrd (ustar archive passed as a multiboot module)
# ---------------------------------------------------------------------------------------------------------
UCXXFLAGS := $(FREESTANDING_FLAGS) -O2 -g -DMNEME_USER -fno-builtin-malloc -I$(BUILD)/gen $(USER_EXTRA_FLAGS)
ULDFLAGS_COMMON := -nostdlib -no-pie -static -Wl,--build-id=none -z noexecstack
# -q (--emit-relocs) keeps every relocation the linker resolved, so the one link of a program runs under every
# memory model: paging loads it where it was linked, the models before paging re-link it for their segments
# (docs/relocation-images.md).
ULDFLAGS := $(ULDFLAGS_COMMON) -Wl,-q -T user/user.ld
# mm/swap/ReferenceString: the seeded workload generator, so user/swapload runs the very string the host's
# mneme-replay generates.
ULIB_CPP := $(wildcard libc/base/*.cpp libc/rt/*.cpp libc/user/*.cpp libc/malloc/*.cpp) mm/swap/ReferenceString.cpp
ULIB_ASM := $(wildcard libc/user/*.asm)
ULIB_OBJS := $(ULIB_CPP:%.cpp=$(BUILD)/user/%.o) $(ULIB_ASM:%.asm=$(BUILD)/user/%.asm.o)
# A program is one source file, user/NAME.cpp or tests/user/NAME.cpp, or a folder of them, user/NAME/*.cpp or
# tests/user/NAME/*.cpp (tests/user/usertests/); either way it becomes /bin/NAME.
USER_DIRS := user tests/user
USER_FILE_SRCS := $(wildcard $(USER_DIRS:%=%/*.cpp))
USER_FOLDERS := $(patsubst %/,%,$(sort $(dir $(wildcard $(USER_DIRS:%=%/*/*.cpp)))))
USER_PROGRAMS := $(notdir $(USER_FILE_SRCS:.cpp=) $(USER_FOLDERS))
USER_BINS := $(USER_PROGRAMS:%=$(BUILD)/initrd/bin/%)
USER_CLASHES := $(shell printf '%s\n' $(USER_PROGRAMS) | sort | uniq -d)
$(if $(USER_CLASHES),$(error two user programs would both be /bin/$(firstword $(USER_CLASHES))))

$(BUILD)/user/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  UCXX    $<"
	@$(KCXX) $(UCXXFLAGS) -c $< -o $@

$(BUILD)/user/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf32 -MD $(@:.o=.d) -MP -o $@ $<

$(BUILD)/user/libmneme.a: $(ULIB_OBJS)
	@rm -f $@
	@$(CROSS)ar rcs $@ $^

# Programs are linked with their symbols into build/user/bin/ (for gdb: `file build/user/bin/sh`) and
# stripped into the initrd, which keeps the archive (and the boot) small. user_program NAME SOURCES: the link
# rule for one program, build/user/bin/NAME (user/user.ld).
define user_program
$(BUILD)/user/bin/$(1): $(2:%.cpp=$(BUILD)/user/%.o) $(BUILD)/user/libmneme.a user/user.ld
	@mkdir -p $$(dir $$@)
	@echo "  ULD     $$@"
	@$(KCXX) $(ULDFLAGS) -o $$@ $(2:%.cpp=$(BUILD)/user/%.o) $(BUILD)/user/libmneme.a
endef
$(foreach src,$(USER_FILE_SRCS),$(eval $(call user_program,$(notdir $(src:.cpp=)),$(src))))
$(foreach dir,$(USER_FOLDERS),$(eval $(call user_program,$(notdir $(dir)),$(wildcard $(dir)/*.cpp))))

# --strip-debug drops the debug sections and their relocations (.rel.debug_*) but keeps .rel.text,
# .rel.rodata, .rel.data: what the loader of the older memory models patches (a plain strip would drop those
# too); --strip-unneeded then drops every symbol no kept relocation refers to.
$(BUILD)/initrd/bin/%: $(BUILD)/user/bin/%
	@mkdir -p $(dir $@)
	@$(CROSS)strip --strip-debug --strip-unneeded -o $@ $<

# A text file among the programs: exec refuses it and says why (the user-level test exec_reason runs it).
INITRD_FILES := $(BUILD)/initrd/bin/notelf
$(BUILD)/initrd/bin/notelf: user/notelf.txt
	@mkdir -p $(dir $@)
	@cp $< $@

# What the initrd holds, one path a line, rewritten only when that changes: deleting a program changes it, so
# the archive is rebuilt without the program (mkinitrd.sh removes the stale binary from build/initrd/).
INITRD_LIST := $(BUILD)/initrd.list
$(INITRD_LIST): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' $(sort $(USER_PROGRAMS:%=bin/%) \
	  $(INITRD_FILES:$(BUILD)/initrd/%=%)) > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/initrd.tar: $(USER_BINS) $(INITRD_FILES) $(INITRD_LIST)
	@echo "  TAR     $@"
	@tools/mkinitrd.sh $(BUILD)/initrd $@ $(INITRD_LIST)

# The shell's `help` lists every program in the initrd from the `// help(KIND): USAGE | TEXT` line of its
# source (tools/gen-program-help.sh; a program without one fails the build).
NOTELF_HELP := test | notelf | a text file, not a program: running it shows why exec refuses it
$(BUILD)/gen/ProgramHelp.h: $(USER_FILE_SRCS) $(wildcard $(USER_FOLDERS:%=%/*.cpp)) $(INITRD_LIST) \
		tools/gen-program-help.sh
	@tools/gen-program-help.sh $@ $(foreach src,$(USER_FILE_SRCS),$(notdir $(src:.cpp=))=$(src)) \
	  $(foreach dir,$(USER_FOLDERS),$(notdir $(dir))=$(dir)) --file "$(NOTELF_HELP)"
$(BUILD)/user/user/sh.o: $(BUILD)/gen/ProgramHelp.h

initrd: $(BUILD)/initrd.tar

# ---------------------------------------------------------------------------------------------------------
# GRUB ISO
# ---------------------------------------------------------------------------------------------------------
# build/mneme.iso boots to the monitor (ISO_ARGS adds boot options); build/mneme-test.iso runs the tests.
ISO_ARGS ?=
$(BUILD)/mneme.iso: GRUB_ARGS = $(ISO_ARGS)
$(BUILD)/mneme-test.iso: GRUB_ARGS = test=kernel,user.exec_hello,user.fork_exit_status,user.cow
$(BUILD)/mneme%iso: $(BUILD)/kernel.elf $(BUILD)/initrd.tar boot/grub.cfg
	@rm -rf $@.d && mkdir -p $@.d/boot/grub
	@cp $(BUILD)/kernel.elf $(BUILD)/initrd.tar $@.d/boot/
	@sed 's|@ARGS@|$(GRUB_ARGS)|' boot/grub.cfg > $@.d/boot/grub/grub.cfg
	@echo "  ISO     $@"
	@grub-mkrescue -o $@ $@.d >/dev/null 2>&1 || grub-mkrescue -o $@ $@.d

iso: deps-iso
	@$(MAKE) --no-print-directory $(BUILD)/mneme.iso

# ---------------------------------------------------------------------------------------------------------
# Host build: the same mm/ and libc/ sources, natively, for GoogleTest (ASan+UBSan), fuzzers and benchmarks
# ---------------------------------------------------------------------------------------------------------
HOST_CXX ?= g++
FUZZ_CXX ?= clang++
HOST_COMMON := -std=c++20 -g -Wall -Wextra -Werror -I. -DMNEME_HOST -fno-omit-frame-pointer -MMD -MP
HOST_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
HOST_TEST_FLAGS := $(HOST_COMMON) -O1 $(HOST_SAN)
BENCH_FLAGS := $(HOST_COMMON) -O2 -DNDEBUG
FUZZ_FLAGS := $(HOST_COMMON) -O1 -fsanitize=fuzzer-no-link,address,undefined

# Code shared with the kernel and user space (mm/ policy, format/ parsers, libc). libc/rt (mem*, C++ runtime) is freestanding-only: the host
# has its own. libc/malloc's core is shared; its malloc/free symbol shim is not (see mk/malloc.mk).
SHARED_SRCS := $(wildcard mm/*/*.cpp format/*.cpp libc/base/*.cpp libc/malloc/*.cpp) tests/support/HostPanic.cpp
HOST_TEST_SRCS := $(wildcard tests/host/*.cpp)

$(BUILD)/host/test/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $<"
	@$(HOST_CXX) $(HOST_TEST_FLAGS) -c $< -o $@

$(BUILD)/host/bench/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (bench)"
	@$(HOST_CXX) $(BENCH_FLAGS) -c $< -o $@

$(BUILD)/host/fuzz/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CLANG   $< (fuzz)"
	@$(FUZZ_CXX) $(FUZZ_FLAGS) -c $< -o $@

HOST_TEST_OBJS := $(patsubst %.cpp,$(BUILD)/host/test/%.o,$(SHARED_SRCS) $(HOST_TEST_SRCS))
$(BUILD)/host/mneme-tests: $(HOST_TEST_OBJS)
	@echo "  LINK    $@"
	@$(HOST_CXX) $(HOST_TEST_FLAGS) -o $@ $^ -lgtest -lgtest_main -pthread -ldl

FUZZ_TARGETS := $(patsubst tests/fuzz/%.cpp,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/*.cpp))
FUZZ_SHARED_OBJS := $(patsubst %.cpp,$(BUILD)/host/fuzz/%.o,$(SHARED_SRCS))
$(BUILD)/fuzz/%: $(BUILD)/host/fuzz/tests/fuzz/%.o $(FUZZ_SHARED_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(FUZZ_CXX) -fsanitize=fuzzer,address,undefined -o $@ $^

BENCH_TARGETS := $(patsubst tests/bench/%.cpp,$(BUILD)/bench/%,$(wildcard tests/bench/*.cpp))
BENCH_SHARED_OBJS := $(patsubst %.cpp,$(BUILD)/host/bench/%.o,$(SHARED_SRCS))
$(BUILD)/bench/%: $(BUILD)/host/bench/tests/bench/%.o $(BENCH_SHARED_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(HOST_CXX) -o $@ $^ -lbenchmark -pthread -ldl

# The fit policies' floor (tests/bench/malloc_fit_floor.cpp): FitAllocator.cpp built once more with its probe
# (libc/malloc/FitFloor.h), linked into this benchmark only.
FIT_FLOOR_OBJS := $(BUILD)/host/bench-floor/libc/malloc/FitAllocator.o \
	$(filter-out $(BUILD)/host/bench/libc/malloc/FitAllocator.o,$(BENCH_SHARED_OBJS))
$(BUILD)/host/bench-floor/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (bench, with the fit floor probe)"
	@$(HOST_CXX) $(BENCH_FLAGS) -DMNEME_FIT_FLOOR -c $< -o $@
$(BUILD)/bench/malloc_fit_floor: $(BUILD)/host/bench-floor/tests/bench/malloc_fit_floor.o $(FIT_FLOOR_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(HOST_CXX) -o $@ $^ -pthread -ldl

# tests/host/Elf32RelocationsTest.cpp reads real program images.
HOST_TEST_DATA := $(BUILD)/user/bin/hello $(BUILD)/initrd/bin/hello
host-tests: $(BUILD)/host/mneme-tests $(HOST_TEST_DATA)
fuzzers: $(FUZZ_TARGETS)
benches: $(BENCH_TARGETS)

# ---------------------------------------------------------------------------------------------------------
# Top-level commands
# ---------------------------------------------------------------------------------------------------------
QEMU_ARGS ?=
APPEND ?=
MEM ?= 128
DISK ?= $(BUILD)/disk.img
# The top-level commands build in parallel on every core unless the caller passed -j.
JOBS := $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))

all: $(BUILD)/kernel.elf $(BUILD)/initrd.tar

# deps-TARGET: the Debian packages TARGET uses, and only those (tools/install-deps.sh: as root it installs
# what is missing; otherwise it names the missing ones and fails, and succeeds silently when none are).
deps: deps-all
deps-%:
	@tools/install-deps.sh $*

# Extra artifacts that topic fragments (mk/*.mk) want built before the test run.
TEST_ARTIFACTS := $(BUILD)/kernel.elf $(BUILD)/initrd.tar $(BUILD)/mneme-test.iso $(BUILD)/host/mneme-tests \
	$(HOST_TEST_DATA) $(FUZZ_TARGETS)
BENCH_ARTIFACTS := $(BENCH_TARGETS) $(BUILD)/kernel.elf $(BUILD)/initrd.tar

# EMU=qemu (the default) or bochs: tools/bochs.sh builds a GRUB ISO with APPEND as the command line and
# needs no QEMU, so its disk image is made with truncate (a sparse raw file, as qemu-img makes).
EMU ?= qemu
run: deps-$(if $(filter bochs,$(EMU)),run-bochs,run)
	@case "$(EMU)" in qemu|bochs) ;; *) echo "EMU=$(EMU): the emulators are qemu and bochs" >&2; exit 2 ;; esac
	@$(MAKE) --no-print-directory $(JOBS) all
	@if [ -n "$(DISK)" ] && [ ! -e "$(DISK)" ]; then mkdir -p "$$(dirname "$(DISK)")"; \
	  echo "  DISK    $(DISK) (64 MiB, raw)"; \
	  $(if $(filter bochs,$(EMU)),truncate -s 64M "$(DISK)",qemu-img create -q -f raw "$(DISK)" 64M); fi
ifeq ($(EMU),bochs)
	@tools/bochs.sh --interactive --mem $(MEM) --append "$(APPEND)" $(if $(DISK),--disk $(DISK))
else
	@tools/qemu.sh --interactive --mem $(MEM) --append "$(APPEND)" $(if $(DISK),--disk $(DISK)) $(QEMU_ARGS)
endif

run-bochs:
	@$(MAKE) --no-print-directory run EMU=bochs

test: deps-test
	@$(MAKE) --no-print-directory $(JOBS) test-artifacts
	@tools/run-tests.sh

bench: deps-bench
	@$(MAKE) --no-print-directory $(JOBS) bench-artifacts
	@tools/run-bench.sh

FUZZ_SECONDS ?= 60
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(JOBS) fuzzers
	@for f in $(FUZZ_TARGETS); do name=$$(basename $$f); mkdir -p $(BUILD)/fuzz-corpus/$$name; \
	  echo "== $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus/$$name \
	    $$( [ -d tests/fuzz/corpus/$$name ] && echo tests/fuzz/corpus/$$name ) || exit 1; done

# The transcripts in the documentation are Mneme's own output: tools/docs/transcripts.py boots it (two QEMU
# runs), types the commands each marked block names and rewrites the block (docs/testing.md, "Transcripts").
docs: deps-docs
	@$(MAKE) --no-print-directory $(JOBS) all
	@tools/docs/transcripts.py --jobs 2

debug: deps-debug
	@$(MAKE) --no-print-directory all
	@tools/debug.sh --attach --append "$(APPEND)"

qemu-gdb: deps-debug
	@$(MAKE) --no-print-directory all
	@tools/debug.sh --wait --append "$(APPEND)"

compdb:
	@tools/compdb.sh > compile_commands.json
	@echo "wrote compile_commands.json"

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)

FORCE:
.PHONY: FORCE all kernel initrd iso run run-bochs test bench fuzz docs debug qemu-gdb compdb format clean deps host-tests fuzzers \
	benches test-artifacts bench-artifacts
.SECONDARY:

-include $(wildcard mk/*.mk)

test-artifacts: $(TEST_ARTIFACTS)
bench-artifacts: $(BENCH_ARTIFACTS)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
