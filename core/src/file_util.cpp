// Whole-file reads and maps, and atomic writes.
#include "strata/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "strata/error.h"

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace strata {

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  // One sized read: streaming through rdbuf() costs a call per byte (slow in WebAssembly).
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path + ": cannot determine the file size");
  std::string bytes(size_t(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) throw Error(path + ": read error");
  return bytes;
}

FileBytes map_file(const std::string& path) {
#ifndef __EMSCRIPTEN__
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, expected a file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0) {
    ::close(fd);
    throw Error(path + ": cannot determine the file size");
  }
  FileBytes f;
  f.size = size_t(st.st_size);
  if (f.size == 0) {  // mmap refuses length 0
    ::close(fd);
    f.keep = std::make_shared<int>(0);
    return f;
  }
  void* p = ::mmap(nullptr, f.size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) throw Error(path + ": cannot map (" + std::strerror(err) + ")");
  const size_t size = f.size;
  f.keep = std::shared_ptr<const void>(p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
  f.data = static_cast<const unsigned char*>(p);
  return f;
#else
  auto bytes = std::make_shared<const std::string>(read_file(path));
  FileBytes f;
  f.data = reinterpret_cast<const unsigned char*>(bytes->data());
  f.size = bytes->size();
  f.keep = std::move(bytes);
  return f;
#endif
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // The rename below replaces whatever `path` names: never a device (/dev/null), a
  // directory or a pipe a user pointed an output option at.
  std::error_code exists_ec;
  const auto status = std::filesystem::status(path, exists_ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw Error(path + ": exists and is not a regular file; refusing to replace it");
  // Unique to the process, so that concurrent writers (e.g. MPI ranks) never share one.
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp + ": cannot create (" + std::strerror(errno) + ")");
    try {
      write(out);
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(tmp + ": write failed (disk full?)");
    }
  }
#if !defined(_WIN32) && !defined(__EMSCRIPTEN__)
  if (int fd = ::open(tmp.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
#endif
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename temporary file into place (" + ec.message() + ")");
  }
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace strata
