// The inspector never fails on any input: every prefix and many one-byte changes of the sample
// images and of the table fixtures go through the model and both reports (under ASan and UBSan
// every read is checked), and the outcome always agrees with SPEC section 5.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "elf_fixtures.hpp"
#include "file_contents.hpp"
#include "inspect.hpp"
#include "inspect_support.hpp"
#include "report.hpp"
#include "support.hpp"

namespace {

using rproc::endian;

// One input through everything the tool does after reading the file.
void inspect_everything(std::span<const std::byte> input) {
  const auto copy = test::exact_copy(input);
  for (const bool strict : {false, true}) {
    const auto found = inspect::inspect_bytes(copy, {.strict = strict});
    const auto status = inspect::status_of(found);
    const auto j = inspect::json_report(found, "input");
    // The report is JSON that reads back as itself, whatever bytes the names hold.
    REQUIRE(std::remove_cvref_t<decltype(j)>::parse(j.dump(2)) == j);
    // The text report says, after its header, what the exit status says.
    const std::string text = inspect::text_report(found, "input", copy.size());
    const char* verdict = status == inspect::malformed ? "\nError: "
                          : status == inspect::no_table ? "\nResource table: none"
                                                        : "\nResource table: version ";
    REQUIRE(text.find(verdict) != std::string::npos);
    if (status == inspect::malformed) {
      REQUIRE(j["resource_table"].is_null());
      REQUIRE(j["warnings"].empty());
      REQUIRE(j["error"]["offset"].get<std::size_t>() <= copy.size());
    } else {
      REQUIRE(j["error"].is_null());
    }
    if (status == inspect::no_table) REQUIRE(j["format"] == "elf");
    if (status == inspect::valid) REQUIRE(j["resource_table"]["num"] == found.table->num());
  }
}

void every_prefix_and_change(std::span<const std::byte> input) {
  for (std::size_t n = 0; n <= input.size(); ++n) inspect_everything(input.first(n));
  std::vector<std::byte> changed(input.begin(), input.end());
  for (std::size_t i = 0; i < changed.size(); ++i) {
    const std::byte original = changed[i];
    for (const std::byte b : {std::byte{0}, std::byte{0xFF}, original ^ std::byte{0x80}}) {
      changed[i] = b;
      inspect_everything(changed);
    }
    changed[i] = original;
  }
}

}  // namespace

TEST_CASE("every prefix and one-byte change of the sample images", "[inspect][robust]") {
  constexpr auto c32 = rproc::elf::class32;
  constexpr auto c64 = rproc::elf::class64;
  every_prefix_and_change(fx::sample<c32, endian::little>::image);
  every_prefix_and_change(fx::sample<c32, endian::big>::image);
  every_prefix_and_change(fx::sample<c64, endian::little>::image);
  every_prefix_and_change(fx::sample<c64, endian::big>::image);
}

TEST_CASE("every prefix and one-byte change of two table fixtures", "[inspect][robust]") {
  for (const char* name : {"ti-omap5-ipu-dce-15rsc.rsc", "ti-am335x-pru0-adc.rsc"}) {
    INFO(name);
    every_prefix_and_change(test::read_file(test::data_dir() / name));
  }
}

TEST_CASE("file_contents reads a file once, mapped or not", "[inspect]") {
  const test::temp_dir dir;
  const auto table = test::read_file(test::data_dir() / "ti-omap5-ipu-dce-15rsc.rsc");
  const auto path = dir.write("t.rsc", table);
  const auto mapped = inspect::file_contents::read(path.string());
  CHECK(std::equal(table.begin(), table.end(), mapped.bytes().begin(), mapped.bytes().end()));

  CHECK(inspect::file_contents::read(dir.write("empty", {}).string()).bytes().empty());
  // A /proc file says it has size 0: it is read to its end.
  CHECK_FALSE(inspect::file_contents::read("/proc/self/status").bytes().empty());

  const auto missing = (dir.path() / "missing").string();
  CHECK_THROWS_WITH(inspect::file_contents::read(missing),
                    "cannot read '" + missing + "': No such file or directory");
  CHECK_THROWS_WITH(inspect::file_contents::read(dir.path().string()),
                    "cannot read '" + dir.path().string() + "': Is a directory");
}

TEST_CASE("names that are not text become valid JSON and escaped text", "[inspect]") {
  namespace rsc = rproc::rsc;
  // A trace name with a quote, an escape character and two bytes above 0x7F.
  auto table = rproc::make_table(rsc::trace{.da = 1, .len = 2, .name = "a\"b"});
  table.bytes[16 + 4 + 16 + 3] = std::byte{0x1B};
  table.bytes[16 + 4 + 16 + 4] = std::byte{0xE9};
  table.bytes[16 + 4 + 16 + 5] = std::byte{0xFF};
  const auto found = inspect::inspect_bytes(table.bytes, {});
  REQUIRE(inspect::status_of(found) == inspect::valid);
  const auto j = nlohmann::json::parse(inspect::json_report(found, "t").dump());
  CHECK(j["resource_table"]["entries"][0]["name"] == "a\"b\x1b\u00e9\u00ff");
  const auto text = inspect::text_report(found, "t", table.bytes.size());
  CHECK(text.find(R"(name           "a\"b\x1b\xe9\xff")") != std::string::npos);
}
