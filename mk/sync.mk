# mk/sync.mk: the lock tests under ThreadSanitizer (see docs/multicore.md, "Locks").
#
#   build/host/tsan/lock-tests   tests/host/LockCoreTest.cpp alone, built with -fsanitize=thread: the lock
#                                cores run with real threads, and TSan checks that the counter they guard is
#                                never touched by two threads without a happens-before edge. The same tests
#                                run in build/host/mneme-tests under ASan; TSan cannot be combined with ASan,
#                                hence a binary of its own. `make tsan-tests` builds and runs it.
#                                It also runs the per-CPU allocator caches on threads (one cache per thread in
#                                front of a shared allocator under a mutex; docs/multicore.md, "Per-CPU
#                                allocator caches"): FrameCacheThreadTest.cpp with the buddy it sits on, and
#                                SlabMagazineThreadTest.cpp (the slab caches' per-CPU magazines, one CPU index
#                                per thread, in front of caches under a std::mutex).
TSAN_FLAGS := $(HOST_COMMON) -O1 -fsanitize=thread
TSAN_SRCS := tests/host/LockCoreTest.cpp libc/base/LockOrder.cpp libc/base/Format.cpp tests/support/HostPanic.cpp \
	tests/host/FrameCacheThreadTest.cpp mm/frame/BuddyAllocator.cpp libc/base/Error.cpp \
	tests/host/SlabMagazineThreadTest.cpp
TSAN_OBJS := $(patsubst %.cpp,$(BUILD)/host/tsan/%.o,$(TSAN_SRCS))

$(BUILD)/host/tsan/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $< (tsan)"
	@$(HOST_CXX) $(TSAN_FLAGS) -c $< -o $@

$(BUILD)/host/tsan/lock-tests: $(TSAN_OBJS)
	@echo "  LINK    $@"
	@$(HOST_CXX) $(TSAN_FLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

tsan-tests: $(BUILD)/host/tsan/lock-tests
	$(BUILD)/host/tsan/lock-tests --gtest_filter=-*DeathTest*

.PHONY: tsan-tests
