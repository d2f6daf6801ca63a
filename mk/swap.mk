# mk/swap.mk: the page replacement tool (see docs/swapping.md).
#
#   build/host/mneme-replay   runs the mm/swap policies and Belady's OPT on a reference string
#                             (tools/swap/replay.cpp); built by `make host-tests`, `make replay` and for
#                             `make test`, where tests/scripts/swap-replay.sh checks its output

REPLAY_SRCS := $(wildcard mm/swap/*.cpp libc/base/*.cpp) tests/support/HostPanic.cpp
REPLAY_OBJS := $(patsubst %.cpp,$(BUILD)/host/tool/%.o,$(REPLAY_SRCS) tools/swap/replay.cpp)

$(BUILD)/host/tool/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (tool)"
	@$(HOST_CXX) $(HOST_COMMON) -O2 -c $< -o $@

$(BUILD)/host/mneme-replay: $(REPLAY_OBJS)
	@echo "  LINK    $@"
	@$(HOST_CXX) -o $@ $^

replay: $(BUILD)/host/mneme-replay

# make swap-report: faults against frames for every policy and OPT on the host, beside what the kernel did
# with the same strings in QEMU (tools/swap/report.sh; build/swap-report/).
swap-report: deps-swap-report $(BUILD)/kernel.elf $(BUILD)/initrd.tar $(BUILD)/host/mneme-replay
	@tools/swap/report.sh
host-tests: $(BUILD)/host/mneme-replay

TEST_ARTIFACTS += $(BUILD)/host/mneme-replay
BENCH_ARTIFACTS += $(BUILD)/host/mneme-replay

.PHONY: replay swap-report
