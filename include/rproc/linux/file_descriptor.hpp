// An owned POSIX file descriptor, closed on every path out. Hosted; never included by
// rproc/rproc.hpp.
#pragma once

#include <unistd.h>

namespace rproc::sysfs {

class file_descriptor {
 public:
  explicit file_descriptor(int fd) noexcept : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  // Gives the descriptor up (to close it oneself and see close's error).
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace rproc::sysfs
