// expect: kick_needs_a_platform_that_can_kick
#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

// The three required operations, start and stop; kick only in the legal twin.
struct board {
  std::span<std::byte> da_to_va(std::uint64_t, std::size_t) { return {}; }
  rproc::result<rproc::memory_region> allocate(const rproc::allocation_request&) {
    return rproc::error{rproc::errc::out_of_memory, 0, std::nullopt, 0};
  }
  void release(const rproc::memory_region&) noexcept {}
  rproc::result<void> start(std::uint64_t) { return {}; }
  rproc::result<void> stop() { return {}; }
#ifndef RPROC_COMPILE_FAIL
  rproc::result<void> kick(std::uint32_t) { return {}; }
#endif
};

auto f(const rproc::remote<board, rproc::running>& r) { return r.kick(0); }
