// replay.cpp: replays recorded allocation traces under every malloc policy and compares them.
//
//   build/host/malloc/replay [--policies a,b,...] [--data DIR] [--samples N] [--retain BYTES] [--dump]
//   TRACE...
//
// Every policy by default: the default, buddy, and the fit policies both indexed and over their lists.
// The last line names the slowest replay (target: under a minute each).
//
// A trace (libc/malloc/host/TraceRecord.h) comes from running a program under
// build/host/libmneme_malloc_trace.so with MNEME_MALLOC_TRACE=prefix. Each policy gets a fresh Heap over its
// own HostMemorySource, and the calls are replayed in order (blocks are touched once per page, as a program
// would touch them). Large blocks (above the mmap threshold) have mappings of their own under every policy,
// so the heap figures below are about the blocks in the heap, where the policies differ:
//
//   ns/call      replay time per call (sampling excluded)
//   peak heap    the heap's high-water mark: the most the break ever was (exact, not sampled)
//   peak live    the most bytes the program had in heap blocks at once (the same for every policy)
//   frag         fragmentation: peak heap / peak in-use - 1, where in-use counts the live blocks with
//                their headers and rounding -- the memory lost to holes between blocks (Wilson et al., "The
//                Memory Fragmentation Problem: Solved?", ISMM 1998, measure #4, per-block overhead apart)
//   overhead     peak heap / peak live - 1: everything, headers and rounding included
//   ext frag     external fragmentation, 1 - largest free block / free bytes, averaged over the samples
//   resident     peak resident memory, heap (mincore, sampled) and mappings
//
// The segregated policy's heap grows in 4 MiB segments of address space that it touches only as it uses
// them, so for it "resident" is the figure that compares; the fit policies and buddy touch their heap.
//
// With --data DIR, DIR/<trace>.<policy>.dat holds the samples for the plot: call index, heap bytes (break
// + mappings), live bytes, external fragmentation in percent, resident bytes.
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "libc/malloc/Heap.h"
#include "libc/malloc/host/HostMemorySource.h"
#include "libc/malloc/host/TraceRecord.h"

namespace {

using Malloc::TraceOperation;
using Malloc::TraceRecord;

struct Result {
    double seconds = 0;
    size_t calls = 0;
    size_t peak_heap = 0;
    size_t peak_live = 0;    // requested bytes in heap blocks
    size_t peak_in_use = 0;  // heap blocks with headers and rounding
    size_t peak_resident = 0;
    double mean_external = 0;
    size_t unknown_frees = 0;
    size_t failures = 0;
};

bool load(const std::string& path, std::vector<TraceRecord>& records) {
    std::ifstream in(path, std::ios::binary);
    char magic[8];
    if (!in.read(magic, sizeof(magic)) || memcmp(magic, Malloc::kTraceMagic, sizeof(magic)) != 0) return false;
    in.seekg(0, std::ios::end);
    size_t bytes = static_cast<size_t>(in.tellg()) - sizeof(magic);
    records.resize(bytes / sizeof(TraceRecord));
    in.seekg(sizeof(magic));
    in.read(reinterpret_cast<char*>(records.data()),
            static_cast<std::streamsize>(records.size() * sizeof(TraceRecord)));
    return true;
}

size_t resident_bytes(const void* start, size_t length) {
    if (length == 0) return 0;
    size_t pages = (length + 4095) / 4096;
    std::vector<unsigned char> in_core(pages);
    if (mincore(const_cast<void*>(start), pages * 4096, in_core.data()) != 0) return 0;
    size_t resident = 0;
    for (unsigned char flag : in_core) resident += (flag & 1) ? 4096 : 0;
    return resident;
}

// Writes one byte per page, as the program would have used its memory.
void touch(void* block, size_t size) {
    auto* bytes = static_cast<unsigned char*>(block);
    for (size_t offset = 0; offset < size; offset += 4096) bytes[offset] = 1;
    if (size) bytes[size - 1] = 1;
}

size_t g_retain_bytes = Malloc::HeapOptions{}.retain_bytes;
bool g_dump = false;  // --dump: the heap and its statistics after the last call

Result replay(const std::vector<TraceRecord>& records, Malloc::Policy policy, size_t samples, FILE* data) {
    Malloc::HostMemorySource source;
    if (!source.initialize(size_t(1) << 36)) {
        fprintf(stderr, "replay: cannot reserve the heap range\n");
        exit(1);
    }
    Malloc::HeapOptions options;
    options.policy = policy;
    options.growth_bytes = 4096;  // measure the footprint to the page, not to the growth step
    options.retain_bytes = g_retain_bytes;
    Malloc::Heap heap(source, options);
    size_t header_bytes = policy == Malloc::Policy::Segregated ? 0 : 16;

    struct Block {
        void* pointer;
        size_t size;
        size_t in_use;  // usable size + header for a heap block, 0 for a mapped one
    };
    std::unordered_map<uint64_t, Block> blocks;
    blocks.reserve(records.size() / 2 + 16);
    Result result;
    result.calls = records.size();
    size_t live = 0, live_heap = 0, in_use = 0;
    auto admit = [&](uint64_t address, void* pointer, size_t size) {
        Block block{pointer, size, 0};
        if (heap.owned_by_policy(pointer)) {
            block.in_use = heap.usable_size(pointer) + header_bytes;
            live_heap += size;
            in_use += block.in_use;
        }
        live += size;
        auto [it, inserted] = blocks.emplace(address, block);
        if (!inserted) {  // the recording allocator reused an address we still hold: drop ours
            Block old = it->second;
            it->second = block;
            live -= old.size;
            if (old.in_use) {
                live_heap -= old.size;
                in_use -= old.in_use;
            }
            heap.free(old.pointer);
        }
    };
    auto forget = [&](const Block& block) {
        live -= block.size;
        if (block.in_use) {
            live_heap -= block.size;
            in_use -= block.in_use;
        }
    };
    size_t sample_every = std::max<size_t>(1, records.size() / std::max<size_t>(samples, 1));
    double external_sum = 0;
    size_t external_count = 0;
    auto clock = std::chrono::steady_clock::now();
    for (size_t i = 0; i < records.size(); ++i) {
        const TraceRecord& record = records[i];
        switch (record.operation) {
        case TraceOperation::Malloc:
        case TraceOperation::Calloc:
        case TraceOperation::Aligned: {
            void* pointer;
            if (record.operation == TraceOperation::Malloc)
                pointer = heap.allocate(record.size);
            else if (record.operation == TraceOperation::Calloc)
                pointer = heap.allocate_zeroed(1, record.size);
            else
                pointer = heap.allocate_aligned(record.alignment ? record.alignment : 16, record.size);
            if (!pointer) {
                ++result.failures;
                break;
            }
            touch(pointer, record.size);
            if (record.result)
                admit(record.result, pointer, record.size);
            else
                heap.free(pointer);
            break;
        }
        case TraceOperation::Free: {
            auto it = blocks.find(record.pointer);
            if (it == blocks.end()) {
                if (record.pointer) ++result.unknown_frees;
                break;
            }
            forget(it->second);
            heap.free(it->second.pointer);
            blocks.erase(it);
            break;
        }
        case TraceOperation::Realloc: {
            Block old{nullptr, 0, 0};
            auto it = record.pointer ? blocks.find(record.pointer) : blocks.end();
            if (it != blocks.end()) {
                old = it->second;
                blocks.erase(it);
                forget(old);
            }
            void* pointer = heap.reallocate(old.pointer, record.size);
            if (pointer && record.result) {
                if (record.size > old.size) touch(static_cast<char*>(pointer) + old.size, record.size - old.size);
                admit(record.result, pointer, record.size);
            } else if (pointer) {
                heap.free(pointer);
            } else if (record.size != 0) {
                ++result.failures;
            }
            break;
        }
        }
        if (live_heap > result.peak_live) result.peak_live = live_heap;
        if (in_use > result.peak_in_use) result.peak_in_use = in_use;
        if (i % sample_every == 0 || i + 1 == records.size()) {
            auto now = std::chrono::steady_clock::now();
            result.seconds += std::chrono::duration<double>(now - clock).count();
            Malloc::Statistics s = heap.statistics();
            size_t mapped = s.mapped_bytes + s.cached_mapped_bytes;
            size_t resident = resident_bytes(source.heap_start(), source.heap_bytes()) + mapped;
            result.peak_resident = std::max(result.peak_resident, resident);
            double external = s.fragmentation_permille() / 10.0;
            external_sum += external;
            ++external_count;
            if (data)
                fprintf(data, "%zu %zu %zu %.1f %zu\n", i, source.heap_bytes() + mapped, live, external, resident);
            clock = std::chrono::steady_clock::now();
        }
    }
    auto now = std::chrono::steady_clock::now();
    result.seconds += std::chrono::duration<double>(now - clock).count();
    result.peak_heap = source.peak_heap_bytes();
    result.mean_external = external_count ? external_sum / external_count : 0;
    if (g_dump) {
        heap.dump([](void*, const char* t, size_t n) { fwrite(t, 1, n, stdout); }, nullptr);
        heap.print_statistics([](void*, const char* t, size_t n) { fwrite(t, 1, n, stdout); }, nullptr);
    }
    for (auto& [address, block] : blocks) heap.free(block.pointer);
    heap.check_invariants();
    return result;
}

std::string base_name(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
    // Every policy, the fit policies' list versions too (--policies picks some).
    std::vector<Malloc::Policy> policies(std::begin(Malloc::kAllPolicies), std::end(Malloc::kAllPolicies));
    std::string data_directory;
    size_t samples = 400;
    std::vector<std::string> traces;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        if (argument == "--data" && i + 1 < argc) {
            data_directory = argv[++i];
        } else if (argument == "--dump") {
            g_dump = true;
        } else if (argument == "--retain" && i + 1 < argc) {
            g_retain_bytes = std::stoul(argv[++i]);
        } else if (argument == "--samples" && i + 1 < argc) {
            samples = std::stoul(argv[++i]);
        } else if (argument == "--policies" && i + 1 < argc) {
            policies.clear();
            std::string list = argv[++i];
            size_t start = 0;
            while (start <= list.size()) {
                size_t comma = list.find(',', start);
                std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                Malloc::Policy policy;
                if (!Malloc::parse_policy(name.c_str(), policy)) {
                    fprintf(stderr, "replay: unknown policy %s (accepted: %s)\n", name.c_str(),
                            Malloc::policy_name_list());
                    return 2;
                }
                policies.push_back(policy);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else {
            traces.push_back(argument);
        }
    }
    if (traces.empty()) {
        fprintf(stderr, "usage: %s [--policies a,b] [--data DIR] [--samples N] TRACE...\n", argv[0]);
        return 2;
    }
    double slowest_seconds = 0;
    std::string slowest;
    printf("%-10s %-10s %9s %9s %11s %11s %7s %9s %9s %11s\n", "trace", "policy", "calls", "ns/call", "peak heap",
           "peak live", "frag", "overhead", "ext frag", "resident");
    for (const std::string& path : traces) {
        std::vector<TraceRecord> records;
        if (!load(path, records)) {
            fprintf(stderr, "replay: %s is not a trace\n", path.c_str());
            return 1;
        }
        std::string name = base_name(path);
        for (Malloc::Policy policy : policies) {
            FILE* data = nullptr;
            if (!data_directory.empty()) {
                std::string file = data_directory + "/" + name + "." + Malloc::policy_name(policy) + ".dat";
                data = fopen(file.c_str(), "w");
            }
            auto started = std::chrono::steady_clock::now();
            Result r = replay(records, policy, samples, data);
            double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            if (wall > slowest_seconds) {
                slowest_seconds = wall;
                slowest = name + " under " + Malloc::policy_name(policy);
            }
            if (data) fclose(data);
            auto percent = [](size_t heap, size_t base) {
                return base ? 100.0 * (double(heap) / double(base) - 1.0) : 0.0;
            };
            char frag[16] = "n/a", overhead[16] = "n/a";
            if (policy != Malloc::Policy::Segregated) {  // its heap is address space: compare resident
                snprintf(frag, sizeof(frag), "%.1f%%", percent(r.peak_heap, r.peak_in_use));
                snprintf(overhead, sizeof(overhead), "%.1f%%", percent(r.peak_heap, r.peak_live));
            }
            printf("%-10s %-10s %9zu %9.1f %9zu K %9zu K %7s %9s %8.1f%% %9zu K", name.substr(0, 10).c_str(),
                   Malloc::policy_name(policy), r.calls, r.seconds * 1e9 / double(std::max<size_t>(r.calls, 1)),
                   r.peak_heap / 1024, r.peak_live / 1024, frag, overhead, r.mean_external, r.peak_resident / 1024);
            if (r.unknown_frees || r.failures)
                printf("  (%zu unknown frees, %zu failures)", r.unknown_frees, r.failures);
            printf("\n");
            fflush(stdout);
        }
    }
    // Every trace is replayed whole, so the slowest replay (sampling included) is what a report costs.
    printf("\nslowest replay: %s, %.1f s (target < 60 s) %s\n", slowest.c_str(), slowest_seconds,
           slowest_seconds < 60 ? "met" : "MISSED");
    return 0;
}
