// FormatTestSupport.h: builders for the archive and executable formats the loader reads, so tests (and
// the fuzzers' seed corpora) can make well-formed inputs and then break them one field at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace format_test {

// A ustar archive: add() members, finish() the two zero blocks.
class TarBuilder {
public:
    void add(const std::string& name, const std::string& data, char type = '0') {
        std::vector<uint8_t> header(512, 0);
        std::memcpy(header.data(), name.data(), std::min<size_t>(name.size(), 100));
        std::snprintf(reinterpret_cast<char*>(&header[100]), 8, "%07o", 0644);
        std::snprintf(reinterpret_cast<char*>(&header[108]), 8, "%07o", 0);
        std::snprintf(reinterpret_cast<char*>(&header[116]), 8, "%07o", 0);
        std::snprintf(reinterpret_cast<char*>(&header[124]), 12, "%011zo", data.size());
        std::snprintf(reinterpret_cast<char*>(&header[136]), 12, "%011o", 0);
        header[156] = static_cast<uint8_t>(type);
        std::memcpy(&header[257], "ustar", 6);
        std::memcpy(&header[263], "00", 2);
        std::memset(&header[148], ' ', 8);
        unsigned sum = 0;
        for (uint8_t b : header) sum += b;
        std::snprintf(reinterpret_cast<char*>(&header[148]), 8, "%06o", sum);
        header[155] = ' ';
        bytes.insert(bytes.end(), header.begin(), header.end());
        bytes.insert(bytes.end(), data.begin(), data.end());
        bytes.resize((bytes.size() + 511) / 512 * 512, 0);
    }
    std::vector<uint8_t> finish() {
        std::vector<uint8_t> out = bytes;
        out.resize(out.size() + 1024, 0);
        return out;
    }
    std::vector<uint8_t> bytes;
};

// A static ELF32 i386 executable with the given PT_LOAD segments.
struct Segment {
    uint32_t type = 1;
    uint32_t vaddr;
    uint32_t memsz;
    uint32_t filesz;
    uint32_t flags;  // PF_X 1, PF_W 2, PF_R 4
};

inline std::vector<uint8_t> make_elf(const std::vector<Segment>& segments, uint32_t entry) {
    const uint32_t phoff = 52;
    std::vector<uint8_t> file(phoff + 32 * segments.size(), 0);
    auto put16 = [&](size_t at, uint16_t v) { std::memcpy(&file[at], &v, 2); };
    auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&file[at], &v, 4); };
    const uint8_t ident[] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
    std::memcpy(file.data(), ident, sizeof(ident));
    put16(16, 2);  // ET_EXEC
    put16(18, 3);  // EM_386
    put32(20, 1);
    put32(24, entry);
    put32(28, phoff);
    put16(40, 52);
    put16(42, 32);
    put16(44, static_cast<uint16_t>(segments.size()));
    // Each segment's file bytes start at an offset congruent to its vaddr modulo the page size.
    for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        size_t offset = (file.size() + 4095) / 4096 * 4096 + (s.vaddr % 4096);
        size_t at = phoff + 32 * i;
        put32(at + 0, s.type);
        put32(at + 4, static_cast<uint32_t>(offset));
        put32(at + 8, s.vaddr);
        put32(at + 12, s.vaddr);
        put32(at + 16, s.filesz);
        put32(at + 20, s.memsz);
        put32(at + 24, s.flags);
        put32(at + 28, 4096);
        if (file.size() < offset + s.filesz) file.resize(offset + s.filesz, 0);
        for (uint32_t b = 0; b < s.filesz; ++b) file[offset + b] = static_cast<uint8_t>(i * 31 + b);
    }
    return file;
}

}  // namespace format_test
