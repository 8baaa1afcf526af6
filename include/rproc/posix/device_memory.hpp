// Device memory a host process maps (hosted, POSIX; never included by rproc/rproc.hpp): windows,
// each a device-address range backed by a file (/dev/uioN, /dev/mem at the region's physical
// address, a shared-memory file under /dev/shm), and an allocator for carveouts and vrings over
// the windows set aside for it. Every failure names the file or the address, and leaves nothing
// mapped.
//
//   auto memory = rproc::posix::device_memory::map({
//       {.da = 0x21000000, .size = 0x100000, .file = "/dev/uio0"},
//       {.da = 0x21100000, .size = 0x100000, .file = "/dev/uio0", .file_offset = 4096,
//        .allocatable = true}});
//   if (!memory) std::puts(memory.error().message().c_str());
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../linux/file_descriptor.hpp"
#include "../platform.hpp"
#include "../resources.hpp"

namespace rproc::posix {

// An rproc::error and the sentence that names the file or the address at fault.
struct failure {
  rproc::error error{};
  std::string what;  // "/dev/uio0: cannot map 0x100000 bytes at file offset 0x0"

  std::string message() const { return what + ": " + rproc::message(error).c_str(); }
};

inline std::string hex(std::uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(v));
  return text;
}

// A T or a failure.
template <class T>
class outcome {
 public:
  outcome(T value) : value_(std::move(value)) {}
  outcome(failure f) : failure_(std::move(f)) {}

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return value_.has_value(); }
  T& operator*() & noexcept { return *value_; }
  T&& operator*() && noexcept { return std::move(*value_); }
  T* operator->() noexcept { return &*value_; }
  const T* operator->() const noexcept { return &*value_; }
  const failure& error() const noexcept { return failure_; }

 private:
  std::optional<T> value_;
  failure failure_;
};

// One window: device addresses [da, da + size) are the bytes [file_offset, file_offset + size)
// of `file`. `allocatable`: set aside for the host's carveouts and vrings; the other windows hold
// what the firmware placed itself (its table, trace buffer, fixed buffers).
struct window {
  std::uint64_t da = 0;
  std::size_t size = 0;
  std::string file;
  std::uint64_t file_offset = 0;
  bool allocatable = false;
  bool synchronous = false;  // O_SYNC: uncached on /dev/mem
};

// One mapping, unmapped when it goes.
class mapping {
 public:
  mapping(void* base, std::size_t length, std::size_t skip) noexcept
      : base_(base), length_(length), skip_(skip) {}
  mapping(mapping&& other) noexcept
      : base_(std::exchange(other.base_, nullptr)), length_(other.length_), skip_(other.skip_) {}
  mapping& operator=(mapping&&) = delete;
  mapping(const mapping&) = delete;
  ~mapping() {
    if (base_ != nullptr) ::munmap(base_, length_);
  }
  std::span<std::byte> bytes() const noexcept {
    return {static_cast<std::byte*>(base_) + skip_, length_ - skip_};
  }

 private:
  void* base_;
  std::size_t length_;
  std::size_t skip_;  // mmap takes page-aligned offsets: the bytes before the window's first
};

// The windows, mapped.
class device_memory {
 public:
  static outcome<device_memory> map(std::span<const window> windows) {
    device_memory memory;
    for (std::size_t i = 0; i < windows.size(); ++i) {
      const window& w = windows[i];
      for (std::size_t k = 0; k < i; ++k)
        if (w.da < windows[k].da + windows[k].size && windows[k].da < w.da + w.size)
          return failure{{errc::windows_overlap, 0, std::nullopt, w.da},
                         "window at " + hex(w.da) + " (" + w.file + ") overlaps the window at " +
                             hex(windows[k].da) + " (" + windows[k].file + ")"};
      auto mapped = map_one(w);
      if (!mapped) return mapped.error();  // the windows mapped so far are unmapped here
      memory.windows_.push_back(w);
      memory.mappings_.push_back(std::move(*mapped));
    }
    return memory;
  }
  static outcome<device_memory> map(std::initializer_list<window> windows) {
    return map(std::span<const window>(windows.begin(), windows.size()));
  }

  // The host's view of [da, da + len), inside one window, or an empty span.
  std::span<std::byte> translate(std::uint64_t da, std::size_t len) const noexcept {
    if (const auto w = window_of(da, len))
      return mappings_[*w].bytes().subspan(static_cast<std::size_t>(da - windows_[*w].da), len);
    return {};
  }
  // The index of the window holding [da, da + len) whole.
  std::optional<std::size_t> window_of(std::uint64_t da, std::size_t len) const noexcept {
    for (std::size_t i = 0; i < windows_.size(); ++i)
      if (da >= windows_[i].da && da - windows_[i].da <= windows_[i].size &&
          len <= windows_[i].size - (da - windows_[i].da))
        return i;
    return std::nullopt;
  }
  std::span<const window> windows() const noexcept { return windows_; }

 private:
  device_memory() = default;

  static outcome<mapping> map_one(const window& w) {
    const std::string where = w.file + " (window at " + hex(w.da) + ", " + hex(w.size) +
                              " bytes at file offset " + hex(w.file_offset) + ")";
    const auto system = [&](const char* what) {
      const int e = errno;
      return failure{{errc::system_error, 0, std::nullopt, static_cast<std::uint64_t>(e)},
                     where + ": " + what + ": " + std::strerror(e)};
    };
    if (w.size == 0)
      return failure{{errc::window_too_small, 0, std::nullopt, 0}, where + ": an empty window"};
    const int flags = O_RDWR | O_CLOEXEC | (w.synchronous ? O_SYNC : 0);
    sysfs::file_descriptor fd(::open(w.file.c_str(), flags));
    if (fd.get() < 0) return system("cannot open");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return system("cannot stat");
    // A device file has no size to check; a regular file must hold the whole window.
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) < w.file_offset + w.size)
      return failure{{errc::window_too_small, 0, std::nullopt, static_cast<std::uint64_t>(st.st_size)},
                     where + ": the file has only " + hex(static_cast<std::uint64_t>(st.st_size)) +
                         " bytes"};
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t skip = w.file_offset % page;
    void* base = ::mmap(nullptr, w.size + skip, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(),
                        static_cast<off_t>(w.file_offset - skip));
    if (base == MAP_FAILED) return system("cannot map");
    return mapping(base, w.size + skip, static_cast<std::size_t>(skip));
  }

  std::vector<window> windows_;
  std::vector<mapping> mappings_;
};

// Carveouts and vrings over the allocatable windows: a fixed address is honoured when it lies in
// one of them and is free, otherwise refused (address_unavailable, with the entry that asked);
// fw_rsc_addr_any takes the lowest free address at the request's alignment (at least `unit`).
class window_allocator {
 public:
  explicit window_allocator(const device_memory& memory, std::size_t unit = 4096)
      : memory_(&memory), unit_(unit) {}

  result<memory_region> allocate(const allocation_request& request) {
    if (request.len == 0) return error{errc::out_of_memory, 0, request.entry, 0};
    std::optional<std::uint64_t> da;
    if (request.da != fw_rsc_addr_any) {
      if (in_allocatable_window(request.da, request.len) && !overlaps(request.da, request.len))
        da = request.da;
      else
        return error{errc::address_unavailable, 0, request.entry, request.da};
    } else {
      da = first_fit(request.len, std::max<std::uint64_t>(request.align, unit_));
      if (!da) return error{errc::out_of_memory, 0, request.entry, request.len};
    }
    if (*da + request.len > 0x100000000u)
      return error{errc::address_unavailable, 0, request.entry, *da};
    const auto at = std::upper_bound(used_.begin(), used_.end(), *da,
                                     [](std::uint64_t a, const range& r) { return a < r.da; });
    used_.insert(at, range{*da, request.len});
    const auto da32 = static_cast<std::uint32_t>(*da);
    return memory_region{da32, request.pa == fw_rsc_addr_any ? da32 : request.pa, request.len,
                         memory_->translate(*da, request.len)};
  }

  void release(const memory_region& region) noexcept {
    const auto found = std::find_if(used_.begin(), used_.end(), [&](const range& r) {
      return r.da == region.da && r.len == region.len;
    });
    if (found != used_.end()) used_.erase(found);
  }

  std::size_t outstanding() const noexcept { return used_.size(); }

 private:
  struct range {
    std::uint64_t da = 0;
    std::size_t len = 0;
  };

  bool in_allocatable_window(std::uint64_t da, std::size_t len) const noexcept {
    const auto w = memory_->window_of(da, len);
    return w && memory_->windows()[*w].allocatable;
  }
  bool overlaps(std::uint64_t da, std::size_t len) const noexcept {
    return std::any_of(used_.begin(), used_.end(),
                       [&](const range& r) { return da < r.da + r.len && r.da < da + len; });
  }
  std::optional<std::uint64_t> first_fit(std::size_t len, std::uint64_t align) const noexcept {
    for (const window& w : memory_->windows()) {
      if (!w.allocatable) continue;
      std::uint64_t da = round_up(w.da, align);
      // Past each range in the way, in address order, until the request fits.
      for (const range& r : used_) {
        if (r.da + r.len <= da) continue;
        if (da + len <= r.da) break;
        da = round_up(r.da + r.len, align);
      }
      if (da >= w.da && da + len <= w.da + w.size) return da;
    }
    return std::nullopt;
  }

  const device_memory* memory_;
  std::size_t unit_;
  std::vector<range> used_;  // sorted by address
};

}  // namespace rproc::posix
