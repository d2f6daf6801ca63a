# mk/malloc.mk: the user malloc's host artifacts (see docs/malloc.md).
#
#   build/host/libmneme_malloc.so         the LD_PRELOAD drop-in malloc (core + libc/malloc/host shim)
#   build/host/libmneme_malloc_trace.so   the same, recording an allocation trace (MNEME_MALLOC_TRACE=prefix)
#   build/host/malloc/replay              replays a trace under every policy (tools/malloc/replay.cpp)
#   build/host/malloc/malloc-tests        only the malloc host tests (quick iteration; make test runs them
#                                         inside build/host/mneme-tests)
#   make malloc-report                    record real programs, replay, table + docs/images/malloc-report.png
#
# The core (libc/malloc/*.cpp) defines no malloc symbols; the shim that does lives in libc/malloc/host/ and
# is built only here, so it never hijacks the test binary.

MALLOC_CORE_SRCS := $(wildcard libc/malloc/*.cpp) $(wildcard libc/base/*.cpp) tests/support/HostPanic.cpp
# The preloaded library: no sanitizers, no exceptions, no libstdc++, and no builtin knowledge of malloc
# (GCC would otherwise turn the calloc shim's malloc + memset back into a call to calloc). No frame
# pointer: the fast paths are a handful of instructions and the prologue would be a fair share of them.
MALLOC_SO_FLAGS := -std=c++20 -O2 -g -fPIC -Wall -Wextra -Werror -I. -DMNEME_HOST -DNDEBUG -MMD -MP \
	-fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-builtin-malloc -fno-builtin-calloc \
	-fno-builtin-realloc -fno-builtin-free -fvisibility=hidden -fomit-frame-pointer -ftls-model=initial-exec
MALLOC_SO_OBJS := $(patsubst %.cpp,$(BUILD)/host/malloc/so/%.o,$(MALLOC_CORE_SRCS) libc/malloc/host/HostMemorySource.cpp)

$(BUILD)/host/malloc/so/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (preload)"
	@$(HOST_CXX) $(MALLOC_SO_FLAGS) -c $< -o $@

$(BUILD)/host/malloc/so/libc/malloc/host/PreloadShimTrace.o: libc/malloc/host/PreloadShim.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (preload, tracing)"
	@$(HOST_CXX) $(MALLOC_SO_FLAGS) -DMNEME_MALLOC_TRACE -c $< -o $@

# Linked by the C driver: the library needs libc only, not libstdc++.
MALLOC_LD ?= gcc
MALLOC_SO_LDFLAGS := -shared -Wl,-z,now -Wl,--no-undefined -Wl,-soname,libmneme_malloc.so

$(BUILD)/host/libmneme_malloc.so: $(MALLOC_SO_OBJS) $(BUILD)/host/malloc/so/libc/malloc/host/PreloadShim.o
	@echo "  LINK    $@"
	@$(MALLOC_LD) $(MALLOC_SO_LDFLAGS) -o $@ $^ -lc

$(BUILD)/host/libmneme_malloc_trace.so: $(MALLOC_SO_OBJS) $(BUILD)/host/malloc/so/libc/malloc/host/PreloadShimTrace.o
	@echo "  LINK    $@"
	@$(MALLOC_LD) $(MALLOC_SO_LDFLAGS) -o $@ $^ -lc

# Trace replayer: the core, optimised, plus the host memory source.
$(BUILD)/host/malloc/replay: tools/malloc/replay.cpp $(MALLOC_SO_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(HOST_CXX) -std=c++20 -O2 -g -I. -DMNEME_HOST -Wall -Wextra -Werror -o $@ $^

# Only the malloc tests, for quick iteration (objects shared with build/host/mneme-tests).
MALLOC_TEST_OBJS := $(patsubst %.cpp,$(BUILD)/host/test/%.o,$(MALLOC_CORE_SRCS) $(wildcard tests/host/Malloc*.cpp))
$(BUILD)/host/malloc/malloc-tests: $(MALLOC_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(HOST_CXX) $(HOST_TEST_FLAGS) -o $@ $^ -lgtest -lgtest_main -pthread -ldl

malloc-tests: $(BUILD)/host/malloc/malloc-tests
	@$(BUILD)/host/malloc/malloc-tests

malloc-report: deps-malloc-report $(BUILD)/host/libmneme_malloc_trace.so $(BUILD)/host/malloc/replay
	@tools/malloc/report.sh

TEST_ARTIFACTS += $(BUILD)/host/libmneme_malloc.so
BENCH_ARTIFACTS += $(BUILD)/host/libmneme_malloc.so

.PHONY: malloc-tests malloc-report
