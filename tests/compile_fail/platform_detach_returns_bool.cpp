// expect: as declared it is ignored and there is no detach
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
  rproc::result<rproc::mutable_located_table> loaded_table() { return rproc::mutable_located_table{}; }
#ifdef RPROC_COMPILE_FAIL
  bool detach() { return true; }
#else
  rproc::result<void> detach() { return {}; }
#endif
};

void use(board& b) { rproc::processor<board> proc(b); }
