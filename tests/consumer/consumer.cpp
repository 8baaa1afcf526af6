// What a project that uses rproc writes: one include, a table built at compile time, parsed back.
#include <rproc/rproc.hpp>

#include <cstdio>

namespace {

constexpr auto table = rproc::make_table(
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8}, rproc::rsc::vring{.align = 16, .num = 8}),
    rproc::rsc::trace{.da = 0x20001000, .len = 1024, .name = "consumer_log"});
static_assert(rproc::parse_table(table.bytes)->size() == 2);

}  // namespace

int main() {
  const auto parsed = rproc::parse_table(table.bytes);
  if (!parsed) {
    std::printf("consumer: %s\n", rproc::message(parsed.error()).c_str());
    return 1;
  }
  std::printf("consumer: a table of %zu bytes with %u entries\n", table.size(),
              static_cast<unsigned>(parsed->size()));
  return 0;
}
