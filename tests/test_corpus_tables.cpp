// Every table of ../shared/corpus parses to exactly what ../shared/corpus/expected/ holds, and the
// fixtures in tests/data are byte-identical to the tables inside the real images. Skipped (exit
// 77, with a message) when ../shared is absent.
#include <rproc/table.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "support.hpp"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const auto b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xF];
  }
  return out;
}

// The entry as SPEC section 5 prints it, built from the library's views.
json entry_json(const rproc::resource_entry& e) {
  json j{{"index", e.index()}, {"offset", e.offset()}, {"type", rproc::to_string(e.kind())},
         {"type_id", e.type_id()}};
  e.visit(rproc::overloaded{
      [&](const auto& m) requires(std::decay_t<decltype(m)>::kind == rproc::entry_kind::carveout ||
                                  std::decay_t<decltype(m)>::kind == rproc::entry_kind::devmem) {
        j.update({{"da", m.da()}, {"pa", m.pa()}, {"len", m.len()}, {"flags", m.flags()},
                  {"reserved", m.reserved()}, {"name", std::string(m.name())}});
      },
      [&](const rproc::trace_entry& t) {
        j.update({{"da", t.da()}, {"len", t.len()}, {"reserved", t.reserved()},
                  {"name", std::string(t.name())}});
      },
      [&](const rproc::vdev_entry& v) {
        json vrings = json::array();
        for (const auto r : v.vrings())
          vrings.push_back({{"da", r.da()}, {"align", r.align()}, {"num", r.num()},
                            {"notifyid", r.notifyid()}, {"pa", r.pa()}});
        j.update({{"id", v.id()}, {"notifyid", v.notifyid()}, {"dfeatures", v.dfeatures()},
                  {"gfeatures", v.gfeatures()}, {"config_len", v.config_len()},
                  {"status", v.status()}, {"num_of_vrings", v.num_of_vrings()},
                  {"reserved", {v.reserved()[0], v.reserved()[1]}}, {"vrings", vrings},
                  {"config", hex(v.config())}});
      },
      [](const auto&) {}});
  return j;
}

}  // namespace

TEST_CASE("corpus tables parse to the expected values", "[corpus]") {
  const fs::path corpus = test::shared_dir() / "corpus";
  std::size_t images = 0, tables = 0;
  for (const auto& file : fs::directory_iterator(corpus / "expected")) {
    const auto expected = json::parse(std::ifstream(file.path()));
    const std::string stem = file.path().stem().string();
    INFO(stem);
    ++images;
    if (expected["resource_table"].is_null() && expected["error"].is_null()) {
      // No table in the image (exit 3): no fixture either.
      CHECK_FALSE(fs::exists(test::data_dir() / (stem + ".rsc")));
      continue;
    }
    const auto fixture = test::read_file(test::data_dir() / (stem + ".rsc"));
    REQUIRE_FALSE(fixture.empty());
    const auto image = test::read_file(corpus / "firmware" / (stem + ".elf"));

    if (!expected["error"].is_null()) {
      // The fixture is the whole section; the error's file offset is the table's plus the field's.
      const auto parsed = rproc::parse_table(fixture);
      REQUIRE_FALSE(parsed);
      CHECK(rproc::to_string(parsed.error().code) == expected["error"]["code"].get<std::string>());
      const auto table_offset = expected["error"]["offset"].get<std::size_t>() - parsed.error().offset;
      CHECK(std::equal(fixture.begin(), fixture.end(),
                       image.begin() + static_cast<std::ptrdiff_t>(table_offset)));
      continue;
    }
    ++tables;
    const auto& rt = expected["resource_table"];
    const auto file_offset = rt["file_offset"].get<std::size_t>();
    REQUIRE(rt["size"].get<std::size_t>() == fixture.size());
    REQUIRE(file_offset + fixture.size() <= image.size());
    CHECK(std::equal(fixture.begin(), fixture.end(),
                     image.begin() + static_cast<std::ptrdiff_t>(file_offset)));

    const auto table = rproc::parse_table(fixture).value();
    CHECK(table.ver() == rt["ver"].get<std::uint32_t>());
    CHECK(table.num() == rt["num"].get<std::uint32_t>());
    json offsets = json::array();
    for (std::uint32_t i = 0; i < table.num(); ++i) offsets.push_back(table.offset(i));
    CHECK(offsets == rt["offsets"]);
    REQUIRE(rt["entries"].size() == table.num());
    for (const auto entry : table) CHECK(entry_json(entry) == rt["entries"][entry.index()]);

    json warnings = json::array();
    for (const auto w : table.warnings())
      warnings.push_back({{"code", rproc::to_string(w.code)},
                          {"entry", *w.entry},
                          {"offset", file_offset + w.offset}});
    json want = expected["warnings"];
    for (auto& w : want) w.erase("message");
    CHECK(warnings == want);
  }
  CHECK(images == 15);
  CHECK(tables == 12);
}
