// BuiltFile.h: reading a file the build made (build/user/bin/hello, build/initrd/bin/hello) from a host
// test, for the tests that check real program images (Elf32RelocationsTest, RelinkTest).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// The built file `relative` (build/...), found from the working directory or upwards of the test binary.
inline std::vector<uint8_t> built_file(const std::string& relative) {
    std::string path = relative;
    char executable[4096];
    ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
    std::string directory(executable, length > 0 ? static_cast<size_t>(length) : 0);
    while (!std::ifstream(path) && directory.find('/') != std::string::npos) {
        directory.erase(directory.rfind('/'));
        path = directory + "/" + relative;
    }
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << relative << " is missing: `make host-tests` builds it";
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
