// What the compile-fail cases share: an image that start() accepts, and a board with only the
// three required operations, to which a case adds the one it is about.
#pragma once

#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

struct image {
  std::uint64_t boot_address() const { return 0; }
  std::optional<rproc::located_table> resource_table() const { return std::nullopt; }
  rproc::result<void> load(const rproc::address_translator&) const { return {}; }
};

struct required_operations {
  std::span<std::byte> da_to_va(std::uint64_t, std::size_t) { return {}; }
  rproc::result<rproc::memory_region> allocate(const rproc::allocation_request&) {
    return rproc::error{rproc::errc::out_of_memory, 0, std::nullopt, 0};
  }
  void release(const rproc::memory_region&) noexcept {}
};
