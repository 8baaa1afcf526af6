// The bytes of a file, read once: mapped when it is a regular file (so that an image of any size
// costs only the pages the inspector touches), read to the end otherwise (pipes, /proc files).
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace inspect {

// A file that cannot be read: its message names the file and the system's reason.
class io_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class file_contents {
 public:
  // Throws io_error.
  static file_contents read(const std::string& path);

  file_contents(file_contents&& other) noexcept;
  file_contents& operator=(file_contents&&) = delete;
  file_contents(const file_contents&) = delete;
  file_contents& operator=(const file_contents&) = delete;
  ~file_contents();

  std::span<const std::byte> bytes() const noexcept;

 private:
  file_contents() = default;
  void* mapping_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::vector<std::byte> read_;
};

// Writes `text` into the file at `path`, created or emptied first. Throws io_error.
void write_file(const std::string& path, std::string_view text);

}  // namespace inspect
