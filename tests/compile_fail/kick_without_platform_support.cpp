// expect: kick_needs_a_platform_that_can_kick
#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include "support.hpp"

// Start and stop beside the required operations; kick only in the legal twin.
struct board : required_operations {
  rproc::result<void> start(std::uint64_t) { return {}; }
  rproc::result<void> stop() { return {}; }
#ifndef RPROC_COMPILE_FAIL
  rproc::result<void> kick(std::uint32_t) { return {}; }
#endif
};

auto f(const rproc::remote<board, rproc::running>& r) { return r.kick(0); }
