// Built with single_include/ as rproc's only include path: the generated header alone gives the
// whole core (builder, parser, entry views, ELF reader, firmware side).
#include <rproc.hpp>

#include <array>
#include <cstdint>
#include <cstdio>

#if __has_include(<rproc/table.hpp>)
#error "the split headers must not be on the include path of this test"
#endif

namespace {

constexpr auto original = rproc::make_table(
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8}, rproc::rsc::vring{.align = 16, .num = 8}),
    rproc::rsc::trace{.da = 0x20001000, .len = 1024, .name = "single_log"});
static_assert(original.size() == 140);
static_assert(rproc::parse_table(original.bytes)->size() == 2);
static_assert(!rproc::read_elf(original.bytes).has_value());

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  auto live = original;
  rproc::firmware::vdev_link<original.size(), rproc::endian::little> link(live, original);
  check(link.poll() == rproc::firmware::link_event::none, "no host yet");

  const auto table = rproc::parse_mutable_table(live.bytes);
  check(table.has_value(), "the live table parses");
  const auto vdev = (*table)[0].as<rproc::mutable_vdev_entry>();
  check(vdev.has_value(), "entry 0 is the vdev");
  vdev->vring(0).set_da(0x20100000);
  vdev->vring(1).set_notifyid(1);
  vdev->set_status(0x0F);
  check(link.poll() == rproc::firmware::link_event::attached, "DRIVER_OK attaches");
  check(link.assignment().vrings[0].da == 0x20100000, "vring 0 da");
  check(link.assignment().vrings[1].notifyid == 1, "vring 1 notifyid");

  live = original;
  check(link.poll() == rproc::firmware::link_event::detached, "the restore detaches");

  const rproc::error fault{rproc::errc::vring_invalid, 0x5c, 2, 0};
  check(rproc::message(fault).view() ==
            "entry 2: vring_invalid at offset 0x5c: a vring has num 0 or align 0 (found 0x0)",
        "message text");
  std::printf("single header: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
