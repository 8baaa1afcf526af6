#include "file_contents.hpp"

#include <rproc/linux/file_descriptor.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace inspect {

namespace {

[[noreturn]] void fail(const std::string& path, int code) {
  throw io_error("cannot read '" + path + "': " + std::strerror(code));
}

}  // namespace

file_contents file_contents::read(const std::string& path) {
  const rproc::sysfs::file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, errno);
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) fail(path, errno);
  if (S_ISDIR(status.st_mode)) fail(path, EISDIR);

  file_contents contents;
  if (S_ISREG(status.st_mode) && status.st_size > 0) {
    const auto size = static_cast<std::size_t>(status.st_size);
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (mapping != MAP_FAILED) {
      contents.mapping_ = mapping;
      contents.mapped_size_ = size;
      return contents;
    }
  }
  // Not mappable (or empty, or not a regular file): read it to the end.
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, errno);
    }
    contents.read_.insert(contents.read_.end(), chunk, chunk + n);
  }
  return contents;
}

file_contents::file_contents(file_contents&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapped_size_(std::exchange(other.mapped_size_, 0)),
      read_(std::move(other.read_)) {}

file_contents::~file_contents() {
  if (mapping_) ::munmap(mapping_, mapped_size_);
}

std::span<const std::byte> file_contents::bytes() const noexcept {
  if (mapping_) return {static_cast<const std::byte*>(mapping_), mapped_size_};
  return read_;
}

void write_file(const std::string& path, std::string_view text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw io_error("cannot write '" + path + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int code = errno;
  if (std::fclose(file) != 0 || !written)
    throw io_error("cannot write '" + path + "': " + std::strerror(written ? errno : code));
}

}  // namespace inspect
