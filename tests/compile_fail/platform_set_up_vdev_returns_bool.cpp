// expect: as declared it is ignored and DRIVER_OK comes first
#include <rproc/lifecycle.hpp>

#include "support.hpp"

struct board : required_operations {
#ifdef RPROC_COMPILE_FAIL
  bool set_up_vdev(const rproc::vdev_setup&) { return true; }
#else
  rproc::result<void> set_up_vdev(const rproc::vdev_setup&) { return {}; }
#endif
};

void use(board& b) { rproc::processor<board> proc(b); }
