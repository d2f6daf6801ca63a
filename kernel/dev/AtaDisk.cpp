// AtaDisk.cpp: requests split into ATA commands, errors turned into sentences, and ide0's boot probe.
//
// Called from the boot context and the monitor only (see BlockDevice.h): no lock yet. The ATA calls poll
// with interrupts on, so the timer keeps ticking while a request runs.
#include "kernel/dev/AtaDisk.h"

#include "kernel/dev/Console.h"
#include "libc/base/Format.h"

namespace {

// A FormatSink into a fixed buffer, always NUL-terminated, cut short when full.
struct TextBuffer {
    char* text;
    size_t capacity;
    size_t length = 0;
};

void append_to(void* context, const char* text, size_t length) {
    auto& buffer = *static_cast<TextBuffer*>(context);
    for (size_t i = 0; i < length && buffer.length + 1 < buffer.capacity; ++i) buffer.text[buffer.length++] = text[i];
    buffer.text[buffer.length] = '\0';
}

}  // namespace

ata::Probe AtaDisk::probe() {
    ata::Probe probe = ata::identify(m_channel, m_identity, m_probe_result);
    // A disk that reports no sectors cannot be used; treat it as a failed probe.
    m_present = probe == ata::Probe::Present && m_identity.sectors() > 0;
    if (probe == ata::Probe::Present && !m_present) return ata::Probe::Failed;
    return probe;
}

bool AtaDisk::force_lba48(bool on) {
    bool old = m_force_lba48;
    m_force_lba48 = on;
    return old;
}

bool AtaDisk::uses_lba48(u64 lba, u32 count) const {
    return m_identity.lba48 && (m_force_lba48 || lba + count > ata::kLba28Limit);
}

Error AtaDisk::fail_with(const char* operation, u64 lba, u32 count, const ata::Result& result) {
    char detail[160];
    TextBuffer buffer{detail, sizeof(detail)};
    detail[0] = '\0';
    ata::describe(result, append_to, &buffer);
    return fail(Error::IO, "%s of %u sector%s at LBA %llu failed: %s", operation, count, count == 1 ? "" : "s",
                static_cast<unsigned long long>(lba), detail);
}

ErrorOr<void> AtaDisk::read_sectors(u64 lba, u32 count, void* buffer) {
    auto* bytes = static_cast<u8*>(buffer);
    for (u32 done = 0; done < count;) {
        u32 run = count - done < ata::kMaxSectorsPerCommand ? count - done : ata::kMaxSectorsPerCommand;
        ata::Result result =
            ata::read_sectors(m_channel, lba + done, run, bytes + done * ata::kSectorSize, uses_lba48(lba + done, run));
        if (!result.ok()) return fail_with("read", lba, count, result);
        done += run;
    }
    return {};
}

ErrorOr<void> AtaDisk::write_sectors(u64 lba, u32 count, const void* buffer) {
    const auto* bytes = static_cast<const u8*>(buffer);
    for (u32 done = 0; done < count;) {
        u32 run = count - done < ata::kMaxSectorsPerCommand ? count - done : ata::kMaxSectorsPerCommand;
        ata::Result result = ata::write_sectors(m_channel, lba + done, run, bytes + done * ata::kSectorSize,
                                                uses_lba48(lba + done, run));
        if (!result.ok()) return fail_with("write", lba, count, result);
        done += run;
    }
    return {};
}

ErrorOr<void> AtaDisk::flush() {
    ata::Result flushed = ata::flush_cache(m_channel);
    if (!flushed.ok()) return fail_with("flush", 0, 0, flushed);
    return {};
}

namespace ata_disk {
namespace {

AtaDisk g_primary(ata::kPrimary, "ide0");

}  // namespace

void initialize() {
    switch (g_primary.probe()) {
    case ata::Probe::Present: {
        const ata::Identity& id = g_primary.identity();
        u64 mib = id.sectors() * ata::kSectorSize / MiB;
        klog("ide0", "%s, %llu MiB, %s", id.model[0] ? id.model : "(no model name)",
             static_cast<unsigned long long>(mib), id.lba48 ? "LBA48" : "LBA28");
        break;
    }
    case ata::Probe::Absent: klog("ide0", "no disk on the primary channel: swapping is off"); break;
    case ata::Probe::Failed: {
        char detail[160];
        TextBuffer buffer{detail, sizeof(detail)};
        detail[0] = '\0';
        ata::describe(g_primary.probe_result(), append_to, &buffer);
        kwarn("ide0", "the disk did not identify itself (%s): swapping is off", detail);
        break;
    }
    }
}

AtaDisk& primary() { return g_primary; }

}  // namespace ata_disk
