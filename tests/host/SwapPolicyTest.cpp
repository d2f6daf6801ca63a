// SwapPolicyTest.cpp: the replacement policies, Belady's OPT and the Simulator.
//
// Hand-worked runs on short strings: each expected trace below was worked out on paper, step by step, in the
// comment above it (notation in SwapTestSupport.h: h hit, m miss into a free frame, m4 miss evicting page 4,
// m4* the same with a write-back). Then the classic results: Belady's anomaly under FIFO; OPT no worse than
// any policy and LRU's inclusion (stack) property, both on generated strings with fixed seeds; pinned frames
// never chosen; the error codes; misuse as death tests; the parser and the generators.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "mm/swap/AgingPolicy.h"
#include "mm/swap/ClockPolicy.h"
#include "mm/swap/FifoPolicy.h"
#include "mm/swap/LruPolicy.h"
#include "tests/host/SwapTestSupport.h"

using namespace swap_test;

namespace {

// Belady's string, the one of his anomaly (Belady, Nelson and Shedler, 1969).
constexpr const char* kBelady = "1,2,3,4,1,2,5,1,2,3,4,5";

Trace run(const std::string& name, u32 frames, const char* text, u32 tick_interval = Simulator::kDefaultTickInterval) {
    std::vector<PageAccess> string = parse(text);
    auto owned = make_policy(name, frames, string);
    Trace result = trace(owned->policy(), frames, string, tick_interval);
    EXPECT_EQ(result.problem, "") << name << " on " << text;
    return result;
}

// --- Hand-worked runs --------------------------------------------------------------------------------------

TEST(FifoPolicy, BeladyStringByHand) {
    // 3 frames, queue oldest first. 1 2 3 fill [1 2 3]. 4: evict 1 [2 3 4]. 1: evict 2 [3 4 1]. 2: evict 3
    // [4 1 2]. 5: evict 4 [1 2 5]. 1, 2 hit. 3: evict 1 [2 5 3]. 4: evict 2 [5 3 4]. 5 hits. 9 faults.
    Trace three = run("fifo", 3, kBelady);
    EXPECT_EQ(three.tokens, "m m m m1 m2 m3 m4 h h m1 m2 h");
    EXPECT_EQ(three.misses, 9u);
    // 4 frames: 1 2 3 4 fill, 1 and 2 hit. 5: evict 1 [2 3 4 5]. 1: evict 2. 2: evict 3. 3: evict 4.
    // 4: evict 5. 5: evict 1. 10 faults: one more frame, one more fault.
    Trace four = run("fifo", 4, kBelady);
    EXPECT_EQ(four.tokens, "m m m m h h m1 m2 m3 m4 m5 m1");
    EXPECT_EQ(four.misses, 10u);
}

TEST(FifoPolicy, BeladysAnomaly) {
    std::vector<PageAccess> string = parse(kBelady);
    EXPECT_EQ(faults("fifo", 3, string), 9u);
    EXPECT_EQ(faults("fifo", 4, string), 10u);
    // LRU and OPT are stack algorithms: more frames never cost them a fault.
    EXPECT_GE(faults("lru", 3, string), faults("lru", 4, string));
    EXPECT_GE(faults("opt", 3, string), faults("opt", 4, string));
}

TEST(FifoPolicy, DirtyVictimIsWrittenBack) {
    // 1 is written, so when 4 pushes it out it must be written back; 2 and 3 were only read.
    Trace result = run("fifo", 3, "1w,2,3,4,5");
    EXPECT_EQ(result.tokens, "m m m m1* m2");
    EXPECT_EQ(result.write_backs, 1u);
}

TEST(LruPolicy, BeladyStringByHand) {
    // 3 frames, recency list least recent first. 1 2 3 fill. 4: evict 1 [2 3 4]. 1: evict 2 [3 4 1].
    // 2: evict 3 [4 1 2]. 5: evict 4 [1 2 5]. 1 hit [2 5 1]. 2 hit [5 1 2]. 3: evict 5 [1 2 3]. 4: evict 1
    // [2 3 4]. 5: evict 2. 10 faults: on this string LRU is worse than FIFO.
    Trace three = run("lru", 3, kBelady);
    EXPECT_EQ(three.tokens, "m m m m1 m2 m3 m4 h h m5 m1 m2");
    EXPECT_EQ(three.misses, 10u);
    // 4 frames: fill, 1 2 hit [3 4 1 2]. 5: evict 3 [4 1 2 5]. 1 2 hit [4 5 1 2]. 3: evict 4 [5 1 2 3].
    // 4: evict 5 [1 2 3 4]. 5: evict 1. 8 faults.
    Trace four = run("lru", 4, kBelady);
    EXPECT_EQ(four.tokens, "m m m m h h m3 h h m4 m5 m1");
    EXPECT_EQ(four.misses, 8u);
}

TEST(OptimalOracle, BeladyStringByHand) {
    // 3 frames. 1 2 3 fill. 4: next uses 1 at #5, 2 at #6, 3 at #10: evict 3. 1 2 hit. 5: next uses 1 at
    // #8, 2 at #9, 4 at #11: evict 4. 1 2 hit. 3: 1 and 2 are never used again, 5 at #12: evict 1 (of the
    // two, the one paged in first). 4: 2 and 3 never used again: evict 2. 5 hits. 7 faults, the least
    // any policy can have.
    Trace three = run("opt", 3, kBelady);
    EXPECT_EQ(three.tokens, "m m m m3 h h m4 h h m1 m2 h");
    EXPECT_EQ(three.misses, 7u);
    // 4 frames: fill, 1 2 hit. 5: next uses 1 #8, 2 #9, 3 #10, 4 #11: evict 4. 1 2 3 hit. 4: 1, 2 and 3
    // are never used again: evict 1. 5 hits. 6 faults.
    Trace four = run("opt", 4, kBelady);
    EXPECT_EQ(four.tokens, "m m m m h h m4 h h h m1 h");
    EXPECT_EQ(four.misses, 6u);
}

TEST(ClockPolicy, BeladyStringIsFifoWhenEveryBitIsSet) {
    // A new page has A set (the access that faulted sets it). 1 2 3 fill, hand at 1, all A set. 4: the hand
    // clears 1, 2, 3 and comes back to 1 with A clear: evict 1; 4 goes behind the hand, hand at 2. 1 and 2:
    // 2 then 3 have A clear: evicted in turn. 5: 4, 1, 2 all have A set: cleared, evict 4. 1 2 hit (A set
    // on 1 and 2). 3: 1, 2, 5 all set: cleared, evict 1. 4: 2 has A clear: evict 2. 5 hits.
    // Every victim had its bit cleared by the sweep before: clock degenerates to FIFO.
    EXPECT_EQ(run("clock", 3, kBelady).tokens, run("fifo", 3, kBelady).tokens);
}

TEST(ClockPolicy, SecondChanceSparesAPageInUse) {
    // 1 2 3 fill. 4: the sweep clears 1 2 3 and evicts 1; ring from the hand: 2 3 4(A). 2 hits: A set on 2.
    // 5: 2 has A set: cleared, spared; 3 has A clear: evicted. Ring from the hand: 4(A) 2 5(A). 2 hits.
    // 1: 4 cleared, 2 (A set by the hit) cleared, 5 cleared, 4 evicted.
    EXPECT_EQ(run("clock", 3, "1,2,3,4,2,5,2,1").tokens, "m m m m1 h m3 h m4");
    // FIFO evicts 2 although it was just used, and then faults on it.
    EXPECT_EQ(run("fifo", 3, "1,2,3,4,2,5,2,1").tokens, "m m m m1 h m2 m3 m4");
}

TEST(EnhancedClockPolicy, PrefersCleanPages) {
    // 1w 2w 3 fill: (A, D) = 1 (1,1), 2 (1,1), 3 (1,0). 4: lap 1 looks for (0,0), finds none; lap 2 looks for
    // (0,1) and clears A on the way: 1 (0,1), 2 (0,1), 3 (0,0) -- none was (0,1) when the hand got there.
    // Lap 3 finds 3 (0,0): evicted, no write. Ring from the hand: 1 (0,1), 2 (0,1), 4 (1,0). 5: lap 1 finds
    // no (0,0); lap 2 finds 1 (0,1): evicted and written back.
    Trace enhanced = run("eclock", 3, "1w,2w,3,4,5");
    EXPECT_EQ(enhanced.tokens, "m m m m3 m1*");
    EXPECT_EQ(enhanced.write_backs, 1u);
    // Plain clock takes the oldest after one sweep, dirty or not: 1, then 2, two writes.
    Trace clock = run("clock", 3, "1w,2w,3,4,5");
    EXPECT_EQ(clock.tokens, "m m m m1* m2*");
    EXPECT_EQ(clock.write_backs, 2u);
}

TEST(EnhancedClockPolicy, TakesADirtyPageBeforeARecentlyUsedOne) {
    // 1w 2 3w fill: 1 (1,1), 2 (1,0), 3 (1,1). 4: no (0,0); lap 2 clears A: 1 (0,1), 2 (0,0), 3 (0,1); lap 3
    // finds 2 (0,0). Ring from the hand: 3 (0,1), 1 (0,1), 4 (1,0). 5: no (0,0) (4 has A set); lap 2 finds
    // 3 (0,1) first: written back. Ring: 1 (0,1), 4 (1,0), 5 (1,0). 2: no (0,0); 1 is (0,1): written back,
    // although 4 and 5 are clean -- they were used since the last sweep, class 2 > class 1.
    Trace result = run("eclock", 3, "1w,2,3w,4,5,2");
    EXPECT_EQ(result.tokens, "m m m m2 m3* m1*");
    EXPECT_EQ(result.write_backs, 2u);
}

TEST(AgingPolicy, BeladyStringByHandWithATickEveryTwoAccesses) {
    // K = 2: a tick after accesses 2, 4, 6, ... shifts A into each 8-bit counter. A victim has the least
    // (A, counter), ties going to the page loaded first.
    //   1 2: tick -> 1:80 2:80.          3 fills (A set).
    //   4: 1:80 2:80 3:A -> evict 1 (tie with 2, loaded first). Tick -> 2:40 3:80 4:80.
    //   1: evict 2 (40).                 2: 3:80 4:80 1:A -> evict 3 (tie, loaded first). Tick -> 4:40 1:80 2:80.
    //   5: evict 4 (40).                 1 hits. Tick -> 1:c0 2:40 5:80.
    //   2 hits.                          3: 1:c0 2:A 5:80 -> evict 5. Tick -> 1:60 2:a0 3:80.
    //   4: evict 1 (60).                 5: 2:a0 3:80 4:A -> evict 3.
    // LRU evicts 2 at the last step (used at #9, before 3 at #10); aging cannot tell two uses within one
    // tick apart, and 2's older use (#6) does not outweigh the tick they share.
    Trace result = run("aging", 3, kBelady, 2);
    EXPECT_EQ(result.tokens, "m m m m1 m2 m3 m4 h h m5 m1 m3");
    EXPECT_EQ(run("lru", 3, kBelady).tokens, "m m m m1 m2 m3 m4 h h m5 m1 m2");
}

TEST(AgingPolicy, CountersShiftTheAccessedBitIn) {
    auto owned = OwnedPolicy::online(PolicyKind::Aging, 2);
    auto& aging = static_cast<AgingPolicy&>(owned->policy());
    FakeFrames frames(2);
    aging.page_in(0);
    aging.page_in(1);
    // Frame 0 used in ticks 1 and 3, frame 1 in tick 2: 0 -> 10100000, 1 -> 01000000.
    const bool used[3][2] = {{true, false}, {false, true}, {true, false}};
    for (const auto& tick : used) {
        frames.set(0, tick[0], false);
        frames.set(1, tick[1], false);
        aging.tick(frames);
        EXPECT_FALSE(frames.accessed(0) || frames.accessed(1)) << "a tick clears A";
    }
    EXPECT_EQ(aging.counter(0), 0xa0);
    EXPECT_EQ(aging.counter(1), 0x40);
    EXPECT_EQ(aging.choose_victim(frames).value(), 1u);
    // A use since the last tick outranks every counter.
    frames.set(1, true, false);
    EXPECT_EQ(aging.choose_victim(frames).value(), 0u);
    EXPECT_EQ(invariants(aging), "");
}

TEST(RandomPolicy, SameSeedSameVictims) {
    std::vector<PageAccess> string = generate({Workload::Uniform, 20, 0, 7, 25}, 500);
    auto first = make_policy("random", 5, string, 42);
    auto second = make_policy("random", 5, string, 42);
    auto other = make_policy("random", 5, string, 43);
    Trace a = trace(first->policy(), 5, string);
    Trace b = trace(second->policy(), 5, string);
    Trace c = trace(other->policy(), 5, string);
    EXPECT_EQ(a.problem, "");
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_NE(a.tokens, c.tokens);
}

TEST(RandomPolicy, ChoosesEveryEvictableFrameAndOnlyThose) {
    auto owned = OwnedPolicy::online(PolicyKind::Random, 4, 9);
    ReplacementPolicy& policy = owned->policy();
    FakeFrames frames(4);
    for (u32 frame = 0; frame < 4; ++frame) policy.page_in(frame);
    frames.pin(2, true);
    u32 chosen[4] = {};
    for (int i = 0; i < 3000; ++i) ++chosen[policy.choose_victim(frames).value()];
    EXPECT_EQ(chosen[2], 0u);
    for (u32 frame : {0u, 1u, 3u}) {
        EXPECT_GT(chosen[frame], 800u) << "frame " << frame;  // about 1000 each
        EXPECT_LT(chosen[frame], 1200u) << "frame " << frame;
    }
    // One evictable frame left: the draw has one outcome.
    frames.pin(0, true);
    frames.pin(3, true);
    EXPECT_EQ(policy.choose_victim(frames).value(), 1u);
}

// --- Properties on generated strings --------------------------------------------------------------------

std::vector<std::vector<PageAccess>> sample_strings() {
    std::vector<std::vector<PageAccess>> strings;
    for (u32 seed = 1; seed <= 4; ++seed) {
        strings.push_back(generate({Workload::Uniform, 12, 0, seed, 30}, 400));
        strings.push_back(generate({Workload::HotSet, 40, 0, seed, 30}, 400));
        strings.push_back(generate({Workload::Scan, 9, 0, seed, 30}, 200));
        strings.push_back(generate({Workload::Loop, 0, 4 + seed, seed, 30}, 200));
    }
    return strings;
}

TEST(OptimalOracle, NoPolicyFaultsLess) {
    for (const auto& string : sample_strings()) {
        for (u32 frames : {1u, 2u, 3u, 5u, 8u, 13u}) {
            u32 optimal = faults("opt", frames, string);
            for (const std::string& name : all_policy_names())
                EXPECT_GE(faults(name, frames, string), optimal) << name << ", " << frames << " frames";
        }
    }
}

TEST(OptimalOracle, LoopOfFramesPlusOne) {
    // The loop 0..F, repeated: FIFO, LRU and clock always evict the page needed next, OPT about once per F.
    constexpr u32 kFrames = 4;
    std::vector<PageAccess> string = generate({Workload::Loop, 0, kFrames, 1, 0}, 100);
    for (const char* name : {"fifo", "lru", "clock"}) EXPECT_EQ(faults(name, kFrames, string), 100u) << name;
    // The first F fill memory; then one fault every F accesses: (100 - 4) / 4 = 24.
    EXPECT_EQ(faults("opt", kFrames, string), kFrames + 24);
    EXPECT_LT(faults("random", kFrames, string), 100u);
}

// LRU's stack property (Mattson et al., 1970): after every access the pages LRU holds with F frames are among
// those it holds with F + 1. So it never faults more with more memory.
TEST(LruPolicy, StackPropertyOnRandomStrings) {
    for (const auto& string : sample_strings()) {
        u32 previous_faults = ~0u;
        for (u32 frames = 1; frames <= 14; ++frames) {
            auto small = OwnedPolicy::online(PolicyKind::Lru, frames);
            auto large = OwnedPolicy::online(PolicyKind::Lru, frames + 1);
            OwnedSimulator a(small->policy(), frames);
            OwnedSimulator b(large->policy(), frames + 1);
            for (size_t i = 0; i < string.size(); ++i) {
                ASSERT_FALSE(a.simulator.access(string[i]).is_error());
                ASSERT_FALSE(b.simulator.access(string[i]).is_error());
                std::set<u32> in_large;
                for (u32 frame = 0; frame <= frames; ++frame) in_large.insert(b.simulator.page_in_frame(frame));
                for (u32 frame = 0; frame < frames; ++frame) {
                    u32 page = a.simulator.page_in_frame(frame);
                    ASSERT_TRUE(page == Simulator::kNoPage || in_large.count(page))
                        << "page " << page << " with " << frames << " frames but not with one more, access " << i;
                }
            }
            EXPECT_LE(a.simulator.misses(), previous_faults) << frames << " frames";
            EXPECT_LE(b.simulator.misses(), a.simulator.misses());
            previous_faults = a.simulator.misses();
        }
    }
}

// --- Pinned frames and errors ---------------------------------------------------------------------------

TEST(ReplacementPolicy, PinnedFramesAreNeverChosen) {
    std::vector<PageAccess> string = generate({Workload::HotSet, 30, 0, 5, 40}, 600);
    for (const std::string& name : all_policy_names()) {
        auto owned = make_policy(name, 6, string, 3);
        OwnedSimulator machine(owned->policy(), 6, 3);
        std::mt19937 random(77);
        std::vector<bool> pinned(6);
        for (size_t i = 0; i < string.size(); ++i) {
            if (i % 7 == 0) {  // re-pin: up to 5 of the 6 frames, so a victim always exists
                for (u32 frame = 0; frame < 6; ++frame) pinned[frame] = random() % 3 == 0;
                pinned[random() % 6] = false;
                for (u32 frame = 0; frame < 6; ++frame) machine.simulator.pin(frame, pinned[frame]);
            }
            auto access = machine.simulator.access(string[i]);
            ASSERT_FALSE(access.is_error()) << name << " access " << i;
            if (access.value().victim_page != Simulator::kNoPage) {
                ASSERT_FALSE(pinned[access.value().frame]) << name << " evicted from pinned frame";
            }
            ASSERT_EQ(invariants(machine.simulator), "") << name << " access " << i;
        }
    }
}

TEST(ReplacementPolicy, FifoSkipsAPinnedOldestPage) {
    // 1 2 3 fill frames 0 1 2; frame 0 (page 1, the oldest) is pinned. 4: FIFO takes the next oldest, 2.
    // 5: 3. 1 stays resident throughout and hits.
    std::vector<PageAccess> string = parse("1,2,3,4,5,1");
    auto owned = make_policy("fifo", 3, string);
    OwnedSimulator machine(owned->policy(), 3);
    std::string tokens;
    for (size_t i = 0; i < string.size(); ++i) {
        if (i == 3) machine.simulator.pin(0, true);
        tokens += (i ? " " : "") + token(machine.simulator.access(string[i]).value());
    }
    EXPECT_EQ(tokens, "m m m m2 m3 h");
}

TEST(ReplacementPolicy, ErrorsWhenNothingCanBeChosen) {
    std::vector<PageAccess> string = parse("0,1,2");
    for (const std::string& name : all_policy_names()) {
        auto owned = make_policy(name, 3, string);
        ReplacementPolicy& policy = owned->policy();
        FakeFrames frames(3);
        EXPECT_EQ(policy.choose_victim(frames).error(), Error::NoEntry) << name;
        for (u32 frame = 0; frame < 3; ++frame) {
            policy.page_in(frame);
            frames.set(frame, true, true);
            frames.pin(frame, true);
        }
        EXPECT_EQ(policy.choose_victim(frames).error(), Error::Busy) << name;
        frames.pin(1, false);
        EXPECT_EQ(policy.choose_victim(frames).value(), 1u) << name;
        EXPECT_EQ(invariants(policy), "") << name;
    }
}

TEST(Simulator, AccessFailsWhenEveryFrameIsPinned) {
    auto owned = OwnedPolicy::online(PolicyKind::Clock, 2);
    OwnedSimulator machine(owned->policy(), 2);
    ASSERT_FALSE(machine.simulator.access({1, false}).is_error());
    ASSERT_FALSE(machine.simulator.access({2, false}).is_error());
    machine.simulator.pin(0, true);
    machine.simulator.pin(1, true);
    EXPECT_TRUE(machine.simulator.access({1, true}).value().hit);  // a hit needs no victim
    EXPECT_EQ(machine.simulator.access({3, false}).error(), Error::Busy);
    EXPECT_EQ(machine.simulator.misses(), 2u);
    EXPECT_EQ(invariants(machine.simulator), "");
}

// A policy that breaks the contract: it names a pinned frame.
class ChoosesFrameZero final : public ReplacementPolicy {
public:
    const char* name() const override { return "rogue"; }
    u32 frame_count() const override { return 2; }
    void page_in(u32 frame) override { m_resident[frame] = true; }
    void removed(u32 frame) override { m_resident[frame] = false; }
    ErrorOr<u32> choose_victim(FrameAccessor&) override { return 0u; }
    bool is_resident(u32 frame) const override { return m_resident[frame]; }
    u32 resident_count() const override { return m_resident[0] + m_resident[1]; }
    bool check_invariants(FormatSink, void*) const override { return true; }

private:
    bool m_resident[2] = {};
};

TEST(SimulatorDeathTest, RefusesAPinnedVictim) {
    ChoosesFrameZero rogue;
    OwnedSimulator machine(rogue, 2);
    ASSERT_FALSE(machine.simulator.access({1, false}).is_error());
    ASSERT_FALSE(machine.simulator.access({2, false}).is_error());
    machine.simulator.pin(0, true);
    EXPECT_DEATH((void)machine.simulator.access({3, false}), "rogue chose frame 0, which is pinned");
}

TEST(ReplacementPolicyDeathTest, MisuseStopsTheMachine) {
    auto fifo = OwnedPolicy::online(PolicyKind::Fifo, 2);
    fifo->policy().page_in(0);
    EXPECT_DEATH(fifo->policy().page_in(0), "VERIFY");
    EXPECT_DEATH(fifo->policy().removed(1), "VERIFY");
    EXPECT_DEATH(fifo->policy().page_in(2), "VERIFY");  // no frame 2
    std::vector<PageAccess> string = parse("1,2");
    auto opt = OwnedPolicy::optimal(2, string);
    opt->policy().page_in(0);  // page 1
    EXPECT_DEATH(opt->policy().referenced(0), "access 1 is to page 2, but frame 0 holds page 1");
    opt->policy().page_in(1);  // page 2
    EXPECT_DEATH(opt->policy().referenced(1), "but the string has only 2");
}

TEST(FrameList, CheckInvariantsCatchesABrokenLink) {
    auto owned = OwnedPolicy::online(PolicyKind::Lru, 3);
    ReplacementPolicy& lru = owned->policy();
    for (u32 frame = 0; frame < 3; ++frame) lru.page_in(frame);
    EXPECT_EQ(invariants(lru), "");
    // The links follow the policy object in its memory: {prev, next, linked} per frame. Point frame 2's prev
    // at itself.
    struct Links {
        u32 prev, next;
        bool linked;
    };
    auto* links = reinterpret_cast<Links*>(reinterpret_cast<u8*>(&lru) + array_bytes<LruPolicy>(1));
    ASSERT_EQ(links[2].prev, 1u);
    links[2].prev = 2;
    EXPECT_EQ(invariants(lru), "invariant violated: lru: frame 2 has prev 2, expected 1\n");
}

// --- Reference strings ----------------------------------------------------------------------------------

TEST(ReferenceString, ParsesPagesWritesAndSeparators) {
    std::vector<PageAccess> string = parse(" 7, 0w 1,,2W\t1048575 ");
    ASSERT_EQ(string.size(), 5u);
    const PageAccess expected[] = {{7, false}, {0, true}, {1, false}, {2, true}, {1048575, false}};
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(string[i].page, expected[i].page) << i;
        EXPECT_EQ(string[i].write, expected[i].write) << i;
    }
    EXPECT_EQ(count_accesses("1,2 3,,4w"), 4u);
    EXPECT_EQ(page_limit(Span<const PageAccess>(string.data(), string.size())), 1048576u);
}

TEST(ReferenceString, RejectsBadInputWithAReason) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "the reference string is empty: give pages like 1,2,3w,1"},
        {" , ", "the reference string is empty: give pages like 1,2,3w,1"},
        {"1,x,3", "unexpected 'x' at character 3: expected a page number"},
        {"1,2r", "unexpected 'r' at character 4: a page number may be followed only by 'w' (a write)"},
        {"1,2ww", "unexpected 'w' at character 5: a page number may be followed only by 'w' (a write)"},
        {"-1", "unexpected '-' at character 1: expected a page number"},
        {"3,1048576", "the page at character 3 is too large: pages go from 0 to 1048575"},
        {"99999999999999999999", "the page at character 1 is too large: pages go from 0 to 1048575"},
    };
    for (const auto& [text, reason] : cases) {
        std::string error;
        EXPECT_TRUE(parse(text, &error).empty()) << text;
        EXPECT_EQ(error, reason) << text;
    }
    PageAccess two[2];
    char message[64];
    auto parsed = parse_reference_string("1,2,3", Span<PageAccess>(two), message, sizeof(message));
    EXPECT_EQ(parsed.error(), Error::Invalid);
    EXPECT_STREQ(message, "more than 2 accesses");
}

TEST(ReferenceString, WorkloadsHaveTheirShape) {
    // scan: 0..N-1 in order, again and again.
    std::vector<PageAccess> scan = generate({Workload::Scan, 5, 0, 1, 0}, 12);
    for (u32 i = 0; i < 12; ++i) EXPECT_EQ(scan[i].page, i % 5);
    EXPECT_FALSE(std::any_of(scan.begin(), scan.end(), [](const PageAccess& a) { return a.write; }));
    // loop: frames + 1 pages.
    std::vector<PageAccess> loop = generate({Workload::Loop, 99, 3, 1, 0}, 8);
    for (u32 i = 0; i < 8; ++i) EXPECT_EQ(loop[i].page, i % 4);
    // 80-20: about 80% of 10000 accesses to the first 20 of 100 pages; every page in range.
    std::vector<PageAccess> hot = generate({Workload::HotSet, 100, 0, 3, 50}, 10000);
    size_t in_hot = std::count_if(hot.begin(), hot.end(), [](const PageAccess& a) { return a.page < 20; });
    EXPECT_GT(in_hot, 7700u);
    EXPECT_LT(in_hot, 8300u);
    EXPECT_TRUE(std::all_of(hot.begin(), hot.end(), [](const PageAccess& a) { return a.page < 100; }));
    size_t writes = std::count_if(hot.begin(), hot.end(), [](const PageAccess& a) { return a.write; });
    EXPECT_GT(writes, 4700u);
    EXPECT_LT(writes, 5300u);
    // uniform: every page drawn, none outside.
    std::vector<PageAccess> uniform = generate({Workload::Uniform, 10, 0, 3, 0}, 1000);
    std::set<u32> seen;
    for (const PageAccess& access : uniform) seen.insert(access.page);
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(*seen.rbegin(), 9u);
    // The seed decides everything.
    auto same = generate({Workload::Uniform, 10, 0, 3, 0}, 1000);
    auto other = generate({Workload::Uniform, 10, 0, 4, 0}, 1000);
    auto pages = [](const std::vector<PageAccess>& s) {
        std::vector<u32> p;
        for (const PageAccess& a : s) p.push_back(a.page);
        return p;
    };
    EXPECT_EQ(pages(uniform), pages(same));
    EXPECT_NE(pages(uniform), pages(other));
}

TEST(ReferenceString, NamesRoundTrip) {
    for (Workload workload : kWorkloads) EXPECT_EQ(parse_workload(workload_name(workload)).value(), workload);
    EXPECT_TRUE(parse_workload("80/20").is_error());
    for (PolicyKind kind : kPolicyKinds) {
        EXPECT_EQ(parse_policy_kind(policy_name(kind)).value(), kind);
        auto owned = OwnedPolicy::online(kind, 4);
        EXPECT_STREQ(owned->policy().name(), policy_name(kind));
        EXPECT_EQ(owned->policy().frame_count(), 4u);
    }
    EXPECT_TRUE(parse_policy_kind("opt").is_error());  // built from a string, not by kind
}

}  // namespace
