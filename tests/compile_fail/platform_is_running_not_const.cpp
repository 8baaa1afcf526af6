// expect: as declared it is ignored and the remote starts offline
#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include "support.hpp"

struct board : required_operations {
#ifdef RPROC_COMPILE_FAIL
  bool is_running() { return true; }
#else
  bool is_running() const { return true; }
#endif
};

void use(board& b) { rproc::processor<board> proc(b); }
