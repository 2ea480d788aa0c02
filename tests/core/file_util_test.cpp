// Whole-file reads and atomic writes: a write leaves exactly the file (no temporary beside
// it), replaces an old one whole, and a refused write names the path and leaves nothing;
// reads return the bytes exactly and refuse a missing file or a directory by name.
#include "strata/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

using fixtures::error_of;

TEST(FileUtilTest, AtomicWriteLeavesOnlyTheFile) {
  const fixtures::ScratchDir scratch("file_util_write");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/out.bin";
  const std::string bytes("binary\0bytes\xff\n", 14);
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"out.bin"});
  EXPECT_TRUE(file_exists(path));
}

TEST(FileUtilTest, AtomicWriteReplacesAnOldFileWhole) {
  const fixtures::ScratchDir scratch("file_util_replace");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/config.json";
  write_file_atomic(path, std::string(10000, 'x'));
  write_file_atomic(path, "short");
  EXPECT_EQ(read_file(path), "short");
  write_file_atomic(path, "");
  EXPECT_EQ(read_file(path), "");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"config.json"});
}

TEST(FileUtilTest, AtomicWriteIntoAMissingDirectoryIsRefusedByName) {
  const fixtures::ScratchDir scratch("file_util_missing");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/no/such/dir/report.html";
  const std::string message = error_of([&] { write_file_atomic(path, "<html>"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("cannot create"), std::string::npos) << message;
  EXPECT_TRUE(entries(dir).empty());
}

TEST(FileUtilTest, AtomicWriteOverADirectoryIsRefusedAndLeavesNoTemporary) {
  const fixtures::ScratchDir scratch("file_util_over_dir");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/taken";
  fs::create_directories(path + "/inside");
  const std::string message = error_of([&] { write_file_atomic(path, "bytes"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(entries(dir), std::vector<std::string>{"taken"});  // the temporary is removed
  EXPECT_TRUE(fs::is_directory(path + "/inside"));
}

TEST(FileUtilTest, ReadRefusesAMissingFileAndADirectoryByName) {
  const fixtures::ScratchDir scratch("file_util_read");
  const std::string& dir = scratch.path();
  const std::string missing = dir + "/absent.txt";
  const std::string message = error_of([&] { read_file(missing); });
  EXPECT_EQ(message.rfind(missing + ": cannot open", 0), 0u) << message;
  EXPECT_EQ(error_of([&] { read_file(dir); }), dir + ": is a directory, expected a file");
  EXPECT_FALSE(file_exists(missing));
  EXPECT_FALSE(file_exists(dir));  // a directory is not a file
}


// `strata tokenize --out /dev/null` once renamed its temporary file over /dev/null. Tested
// with a FIFO and a symbolic link to /dev/null, so a regression replaces only the link.
TEST(FileUtilTest, AtomicWriteNeverReplacesADeviceOrAPipe) {
  const fixtures::ScratchDir scratch("file_util_device");
  const std::string& dir = scratch.path();
  const std::string fifo = dir + "/pipe", link = dir + "/null";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink("/dev/null", link);
  for (const std::string& path : {fifo, link}) {
    const std::string message = error_of([&] { write_file_atomic(path, "bytes"); });
    EXPECT_EQ(message, path + ": exists and is not a regular file; refusing to replace it");
  }
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_TRUE(fs::is_symlink(link) && fs::is_character_file(link));
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"null", "pipe"}));
}

}  // namespace
}  // namespace strata
