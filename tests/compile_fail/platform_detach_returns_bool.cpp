// expect: as declared it is ignored and there is no detach
#include <rproc/lifecycle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include "support.hpp"

struct board : required_operations {
  rproc::result<rproc::mutable_located_table> loaded_table() { return rproc::mutable_located_table{}; }
#ifdef RPROC_COMPILE_FAIL
  bool detach() { return true; }
#else
  rproc::result<void> detach() { return {}; }
#endif
};

void use(board& b) { rproc::processor<board> proc(b); }
