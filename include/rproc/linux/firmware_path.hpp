// Where Linux looks for a remote's firmware, and putting an image there safely. Hosted (POSIX,
// std::filesystem); never included by rproc/rproc.hpp.
//
//   const auto path = rproc::sysfs::firmware_search_path::of_kernel();  // the kernel's order
//   rproc::sysfs::install_firmware(path.install_directory(), "m4.elf", image_bytes, {});
//
// Run as root on a board, so the name must be a plain file name, the copy is atomic (a temporary
// file in the same directory, synced, then renamed), nothing follows a symlink planted in the
// directory, and an existing file of the same name that differs is replaced only when asked.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "file_descriptor.hpp"

namespace rproc::sysfs {

// An operation the system refused: permission_denied for EACCES, EPERM and EROFS, else
// system_error; the value is the errno.
inline error system_failure(int errno_value) noexcept {
  const bool denied = errno_value == EACCES || errno_value == EPERM || errno_value == EROFS;
  return error{denied ? errc::permission_denied : errc::system_error, 0, std::nullopt,
               static_cast<std::uint64_t>(errno_value)};
}

// A name the kernel resolves inside its search directories only: no '/', not "." or "..", no
// control character, not empty (what request_firmware would otherwise take as a path).
inline result<void> check_firmware_name(std::string_view name) noexcept {
  const auto bad = [&](std::size_t at) {
    return error{errc::bad_firmware_name, at, std::nullopt,
                 at < name.size() ? static_cast<unsigned char>(name[at]) : 0u};
  };
  if (name.empty() || name == "." || name == "..") return bad(0);
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == '/' || c < 0x20 || c == 0x7f) return bad(i);
  }
  return {};
}

// The directories the kernel's firmware loader tries, first to last.
struct firmware_search_path {
  std::vector<std::filesystem::path> directories;
  // Where a new image goes: the first directory when the search path was configured (the
  // firmware_class.path parameter, or the caller's), else /lib/firmware (the last).
  std::filesystem::path install_directory() const {
    if (directories.empty()) return {};
    return configured ? directories.front() : directories.back();
  }
  bool configured = false;

  // Linux's order: firmware_class.path when set, then /lib/firmware/updates/<release>,
  // /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware. `system_root` prefixes each
  // path (a test tree); `release` is uname's, as the kernel's UTS_RELEASE.
  static firmware_search_path of_kernel(const std::filesystem::path& system_root = "/",
                                        std::string release = running_release()) {
    firmware_search_path path;
    const auto custom = configured_directory(system_root);
    if (custom) {
      path.directories.push_back(*custom);
      path.configured = true;
    }
    const auto base = system_root / "lib/firmware";
    path.directories.push_back(base / "updates" / release);
    path.directories.push_back(base / "updates");
    path.directories.push_back(base / release);
    path.directories.push_back(base);
    return path;
  }
  // `first` searched before Linux's standard directories, as if it were firmware_class.path.
  static firmware_search_path starting_with(const std::filesystem::path& first,
                                            const std::filesystem::path& system_root = "/") {
    auto path = of_kernel(system_root);
    if (path.configured) path.directories.front() = first;
    else path.directories.insert(path.directories.begin(), first);
    path.configured = true;
    return path;
  }

  // The file the kernel would load for `name`: the first directory holding it, as
  // request_firmware searches.
  std::optional<std::filesystem::path> find(std::string_view name) const {
    for (const auto& dir : directories) {
      std::error_code ec;
      const auto candidate = dir / name;
      if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    }
    return std::nullopt;
  }
  // firmware_shadowed when a directory searched before `directory` holds `name`: the kernel
  // would load that file instead (its path is the error's context; value is its position).
  result<void> check_not_shadowed(std::string_view name,
                                  const std::filesystem::path& directory) const {
    for (std::size_t i = 0; i < directories.size(); ++i) {
      if (directories[i] == directory) return {};
      std::error_code ec;
      if (std::filesystem::exists(std::filesystem::symlink_status(directories[i] / name, ec)))
        return error{errc::firmware_shadowed, 0, std::nullopt, i};
    }
    return {};
  }

  static std::string running_release() {
    struct utsname names {};
    if (::uname(&names) != 0) return {};
    return names.release;
  }

 private:
  static std::optional<std::filesystem::path> configured_directory(
      const std::filesystem::path& system_root) {
    const auto parameter = system_root / "sys/module/firmware_class/parameters/path";
    std::string text;
    const int fd = ::open(parameter.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    text.assign(buffer, static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.empty()) return std::nullopt;
    // The parameter is an absolute path on the system; a test tree puts it under its root.
    return system_root / std::filesystem::path(text).relative_path();
  }
};

enum class install_outcome {
  installed,          // no file of that name was there
  already_installed,  // the same bytes were there: nothing written
  replaced,           // a different file (or a symlink) of that name was replaced
};

struct install_options {
  bool replace_different = false;  // replace a different file or a symlink of the same name
};

namespace detail {

inline bool write_all(int fd, std::span<const std::byte> bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

// True when the open regular file `fd` holds exactly `bytes`.
inline result<bool> same_contents(int fd, std::span<const std::byte> bytes) noexcept {
  std::byte chunk[65536];
  std::size_t at = 0;
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_failure(errno);
    if (n == 0) return at == bytes.size();
    const auto got = static_cast<std::size_t>(n);
    if (at + got > bytes.size() || std::memcmp(chunk, bytes.data() + at, got) != 0) return false;
    at += got;
  }
}

}  // namespace detail

// Puts `image` in `directory` as `name`: written to a new temporary file in that directory
// (O_CREAT | O_EXCL | O_NOFOLLOW, relative to the directory's descriptor), synced, then renamed
// over `name`, so the kernel sees the old file or the whole new one. A file of that name with
// the same bytes is left alone; a different one, or a symlink (never followed), is replaced only
// with `replace_different` (else firmware_exists). A directory itself may be a symlink (merged
// /usr systems link /lib to /usr/lib).
inline result<install_outcome> install_firmware(const std::filesystem::path& directory,
                                                std::string_view name,
                                                std::span<const std::byte> image,
                                                install_options options = {}) {
  if (auto checked = check_firmware_name(name); !checked) return checked.error();
  const std::string file_name(name);
  const file_descriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return system_failure(errno);

  auto outcome = install_outcome::installed;
  {
    const file_descriptor existing(
        ::openat(dir.get(), file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (existing.get() >= 0) {
      struct stat status {};
      if (::fstat(existing.get(), &status) != 0) return system_failure(errno);
      if (S_ISDIR(status.st_mode)) return error{errc::firmware_exists, 0, std::nullopt, 0};
      if (S_ISREG(status.st_mode)) {
        const auto same = detail::same_contents(existing.get(), image);
        if (!same) return same.error();
        if (*same) return install_outcome::already_installed;
      }
      outcome = install_outcome::replaced;
    } else if (errno == ELOOP) {  // a symlink: what it points at is not ours to read or write
      outcome = install_outcome::replaced;
    } else if (errno != ENOENT) {
      return system_failure(errno);
    }
  }
  if (outcome == install_outcome::replaced && !options.replace_different)
    return error{errc::firmware_exists, 0, std::nullopt, 0};

  std::string temporary;
  int fd = -1;
  const auto stamp = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  for (unsigned attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temporary = "." + file_name.substr(0, 200) + ".rproc-" + std::to_string(::getpid()) + "-" +
                std::to_string((stamp + attempt * 7919u) % 1000000007u);
    fd = ::openat(dir.get(), temporary.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return system_failure(errno);
  }
  if (fd < 0) return system_failure(EEXIST);
  file_descriptor file(fd);
  const auto abandon = [&](int errno_value) {
    ::unlinkat(dir.get(), temporary.c_str(), 0);
    return system_failure(errno_value);
  };
  if (!detail::write_all(file.get(), image)) return abandon(errno ? errno : EIO);
  if (::fsync(file.get()) != 0) return abandon(errno);
  if (::close(file.release()) != 0) return abandon(errno);
  if (::renameat(dir.get(), temporary.c_str(), dir.get(), file_name.c_str()) != 0)
    return abandon(errno);
  // The rename itself is durable once the directory is synced.
  if (::fsync(dir.get()) != 0) return system_failure(errno);
  return outcome;
}

}  // namespace rproc::sysfs
