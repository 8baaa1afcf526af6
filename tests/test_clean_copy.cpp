// The clean copy: taken before any host write, restored writing only the bytes that differ, and
// refusing to clobber a table the remote changed unless told to.
#include <rproc/builder.hpp>
#include <rproc/clean_copy.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lifecycle_support.hpp"

namespace {
// carveout at 28, vdev at 84 (vrings at 112 and 132), then the trace.
constexpr std::size_t vdev_at = 84;

// Each host field as "offset width name", a vring's name prefixed with its vring.
std::vector<std::string> host_fields(std::span<const std::byte> bytes) {
  std::vector<std::string> fields;
  rproc::for_each_host_field(rproc::parse_table(bytes).value(), [&](const rproc::host_field& f) {
    const std::string vring = f.vring ? "vring[" + std::to_string(*f.vring) + "]." : "";
    fields.push_back(std::to_string(f.offset) + " " + std::to_string(f.what.width) + " " + vring +
                     std::string(f.what.name));
  });
  return fields;
}
}  // namespace

TEST_CASE("the host's fields are exactly those of SPEC section 3", "[clean_copy]") {
  // carveout at 28: da, pa, len; vdev at 84: each vring's da and notifyid (vrings at 112 and
  // 132), then gfeatures and status.
  CHECK(host_fields(test::zephyr_table) ==
        std::vector<std::string>{"32 4 da", "36 4 pa", "40 4 len", "112 4 vring[0].da",
                                 "124 4 vring[0].notifyid", "132 4 vring[1].da",
                                 "144 4 vring[1].notifyid", "100 4 gfeatures", "108 1 status"});
}

TEST_CASE("restore writes back only the bytes that differ", "[clean_copy]") {
  auto live = test::bytes_of(test::zephyr_table);
  rproc::clean_copy<512> clean;
  REQUIRE(clean.take(live, rproc::endian::little));
  CHECK(clean.bytes().size() == live.size());

  auto table = rproc::parse_mutable_table(live).value();
  table[1].as<rproc::mutable_vdev_entry>()->set_status(0x0F);           // 1 byte differs
  table[1].as<rproc::mutable_vdev_entry>()->vring(0).set_da(0x10001000); // 4 bytes differ
  table[1].as<rproc::mutable_vdev_entry>()->vring(1).set_notifyid(1);    // already 1: none
  CHECK_FALSE(clean.first_remote_change(live).has_value());

  const auto report = clean.restore(live, rproc::on_remote_change::fail).value();
  CHECK(report.bytes_written == 5);
  CHECK_FALSE(report.remote_changed);
  CHECK(live == test::bytes_of(test::zephyr_table));
  CHECK(clean.restore(live, rproc::on_remote_change::fail).value().bytes_written == 0);
}

TEST_CASE("a change outside the host's fields is the remote's", "[clean_copy]") {
  auto live = test::bytes_of(test::zephyr_table);
  rproc::clean_copy<512> clean;
  REQUIRE(clean.take(live, rproc::endian::little));
  live[vdev_at + 12] = std::byte{0x03};  // dfeatures: the firmware's field
  live[vdev_at + 24] = std::byte{0x0F};  // status: the host's
  CHECK(clean.first_remote_change(live) == vdev_at + 12);

  const auto refused = clean.restore(live, rproc::on_remote_change::fail);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == rproc::errc::table_changed_by_remote);
  CHECK(refused.error().offset == vdev_at + 12);
  CHECK(live[vdev_at + 24] == std::byte{0x0F});  // nothing written

  auto kept = live;
  const auto keep = clean.restore(kept, rproc::on_remote_change::keep_remote_changes).value();
  CHECK(keep.remote_changed);
  CHECK(keep.bytes_written == 1);
  CHECK(kept[vdev_at + 12] == std::byte{0x03});
  CHECK(kept[vdev_at + 24] == std::byte{0x00});

  const auto anyway = clean.restore(live, rproc::on_remote_change::restore_anyway).value();
  CHECK(anyway.bytes_written == 2);
  CHECK(live == test::bytes_of(test::zephyr_table));
}

TEST_CASE("a clean copy needs room, a valid table and the same size to restore", "[clean_copy]") {
  const auto bytes = test::bytes_of(test::zephyr_table);
  rproc::clean_copy<64> small;
  CHECK(small.take(bytes, rproc::endian::little).error().code == rproc::errc::clean_copy_too_small);
  CHECK_FALSE(small.has_value());

  std::vector<std::byte> storage(1024);
  rproc::clean_copy<> in_callers_buffer(storage);
  auto broken = bytes;
  broken[0] = std::byte{2};
  CHECK(in_callers_buffer.take(broken, rproc::endian::little).error().code ==
        rproc::errc::unsupported_version);
  REQUIRE(in_callers_buffer.take(bytes, rproc::endian::little));
  std::vector<std::byte> shorter(bytes.begin(), bytes.end() - 4);
  CHECK(in_callers_buffer.restore(shorter, rproc::on_remote_change::restore_anyway).error().code ==
        rproc::errc::table_changed_by_remote);
  in_callers_buffer.clear();
  auto live = bytes;
  CHECK(in_callers_buffer.restore(live, rproc::on_remote_change::fail).error().code ==
        rproc::errc::invalid_state);
}

TEST_CASE("a table with more host fields than the restore gathers at once", "[clean_copy]") {
  // 5 vdevs of 2 vrings: 30 host fields, more than first_remote_change keeps in its array, so it
  // walks the table again for each difference; the outcome must be the same.
  namespace rsc = rproc::rsc;
  const auto vdev = [](std::uint32_t id) {
    return rsc::vdev{.id = id, .dfeatures = 1}.with_vrings(rsc::vring{.align = 16, .num = 8},
                                                            rsc::vring{.align = 16, .num = 8});
  };
  static constexpr auto many = rproc::make_table(vdev(7), vdev(7), vdev(7), vdev(7), vdev(7));
  auto live = test::bytes_of(many);
  REQUIRE(host_fields(live).size() == 30);
  rproc::clean_copy<1024> clean;
  REQUIRE(clean.take(live, rproc::endian::little));

  auto table = rproc::parse_mutable_table(live).value();
  const auto last = *table[4].as<rproc::mutable_vdev_entry>();
  last.vring(1).set_da(0x20002000);  // the 29th field
  last.set_status(0x0F);
  table[0].as<rproc::mutable_vdev_entry>()->set_gfeatures(1);
  CHECK_FALSE(clean.first_remote_change(live).has_value());

  const std::size_t dfeatures = table[4].offset() + 12;  // the firmware's field
  live[dfeatures] = std::byte{0x03};
  CHECK(clean.first_remote_change(live) == dfeatures);
  auto kept = live;
  const auto keep = clean.restore(kept, rproc::on_remote_change::keep_remote_changes).value();
  CHECK(keep.bytes_written == 4 + 1 + 1);
  CHECK(kept[dfeatures] == std::byte{0x03});
  CHECK(clean.restore(live, rproc::on_remote_change::restore_anyway).value().bytes_written == 7);
  CHECK(live == test::bytes_of(many));
}
