// expect: as declared it is ignored and the remote starts offline
#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

struct board {
  std::span<std::byte> da_to_va(std::uint64_t, std::size_t) { return {}; }
  rproc::result<rproc::memory_region> allocate(const rproc::allocation_request&) {
    return rproc::error{rproc::errc::out_of_memory, 0, std::nullopt, 0};
  }
  void release(const rproc::memory_region&) noexcept {}
#ifdef RPROC_COMPILE_FAIL
  bool is_running() { return true; }
#else
  bool is_running() const { return true; }
#endif
};

void use(board& b) { rproc::processor<board> proc(b); }
