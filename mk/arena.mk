# mk/arena.mk: the arena placement tool and the arena report (see docs/arena.md).
#
#   build/host/mneme-arena   runs the mm/arena placement policies on an allocation trace (tools/arena/replay.cpp);
#                            built by `make host-tests`, `make arena-replay` and for `make test`, where
#                            tests/scripts/arena-replay.sh checks its output
# The object rule ($(BUILD)/host/tool/%.o) is mk/swap.mk's.

ARENA_TOOL_SRCS := $(wildcard mm/arena/*.cpp libc/base/*.cpp) tests/support/HostPanic.cpp
ARENA_TOOL_OBJS := $(patsubst %.cpp,$(BUILD)/host/tool/%.o,$(ARENA_TOOL_SRCS) tools/arena/replay.cpp)

$(BUILD)/host/mneme-arena: $(ARENA_TOOL_OBJS)
	@echo "  LINK    $@"
	@$(HOST_CXX) -o $@ $^

arena-replay: $(BUILD)/host/mneme-arena
host-tests: $(BUILD)/host/mneme-arena

TEST_ARTIFACTS += $(BUILD)/host/mneme-arena

.PHONY: arena-replay

# make arena-report: the four fit policies on arenaload's seeded workload in QEMU (arenalog=1), the summary
# table and build/arena-report/arena-report.png (tools/arena/report.sh; docs/arena.md, "The arena report").
arena-report: deps-arena-report $(BUILD)/kernel.elf $(BUILD)/initrd.tar
	@tools/arena/report.sh

.PHONY: arena-report
