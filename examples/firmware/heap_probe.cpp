// Linked only into rproc-firmware-heap-probe, which must not link: one call to malloc.
#include <cstdlib>

[[gnu::constructor]] static void allocate_at_start_up() {
  void* volatile block = std::malloc(16);
  std::free(block);
}
