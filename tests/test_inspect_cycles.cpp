// rproc-inspect --cycles: attach / detach cycles of real tables on the simulated platform.
#include <rproc/table.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "cycles.hpp"
#include "inspect_support.hpp"
#include "support.hpp"

namespace {
rproc::table_view fixture_table(const std::vector<std::byte>& bytes) {
  return rproc::parse_table(bytes).value();
}
}  // namespace

TEST_CASE("every real table of tests/data goes through clean cycles, or says why not",
          "[inspect][cycles]") {
  std::size_t files = 0, cycled = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::data_dir())) {
    if (entry.path().extension() != ".rsc") continue;
    const std::string name = entry.path().stem().string();
    INFO(name);
    ++files;
    const auto bytes = test::read_file(entry.path());
    const auto parsed = rproc::parse_table(bytes);
    if (!parsed) {
      CHECK(name == "ti-omap4-ducati-dce-oldformat");  // pre-3.4: the one that does not parse
      continue;
    }
    ++cycled;
    const auto run = inspect::run_cycles(*parsed, 5);
    if (name == "ti-am335x-pru0-adc") {
      // TI PRU firmware leaves 0 in both vrings' da: on a platform without an IOMMU, the
      // second vring cannot have the fixed address 0 too.
      REQUIRE(run.cycles.size() == 1);
      REQUIRE(run.cycles[0].error);
      CHECK(run.cycles[0].error->code == rproc::errc::address_unavailable);
      CHECK(run.cycles[0].error->entry == 0u);
      CHECK(run.cycles[0].error->offset == 24 + 48);  // vring 1's da
      CHECK_FALSE(run.all_clean());
      continue;
    }
    REQUIRE(run.cycles.size() == 5);
    CHECK(run.all_clean());
    for (const auto& c : run.cycles) {
      CHECK_FALSE(c.error);
      CHECK(c.restored_bytes == run.cycles[0].restored_bytes);
      CHECK(c.assigned.size() == run.cycles[0].assigned.size());
    }
  }
  CHECK(files == 13);
  CHECK(cycled == 12);
}

TEST_CASE("what the host assigns to the STM32MP15 table, cycle after cycle", "[inspect][cycles]") {
  const auto bytes = test::read_file(test::data_dir() / "st-stm32mp15-cm4-bst-v0.9.3.rsc");
  const auto run = inspect::run_cycles(fixture_table(bytes), 3);
  REQUIRE(run.cycles.size() == 3);
  for (const auto& c : run.cycles) {
    CHECK(c.clean);
    // Both vrings asked FW_RSC_ADDR_ANY (4 bytes each change), gfeatures 0 -> 1 (one byte); the
    // status was already reset to 0 before the restore.
    CHECK(c.restored_bytes == 9);
    std::vector<std::string> fields;
    for (const auto& a : c.assigned) fields.push_back(a.field);
    CHECK(fields == std::vector<std::string>{"vring[0].da", "vring[1].da", "gfeatures", "status"});
    CHECK(c.assigned[0].value != rproc::fw_rsc_addr_any);
    CHECK(c.assigned[0].value == run.cycles[0].assigned[0].value);
    CHECK(c.assigned[3].value == 0x0F);
  }
}

TEST_CASE("rproc-inspect --cycles: JSON, text and exit status", "[inspect][cycles]") {
  const auto stm32 = (test::data_dir() / "st-stm32mp15-cm4-bst-v0.9.3.rsc").string();
  const auto json_run = test::run_inspect({"--cycles", "2", "--json", stm32});
  CHECK(json_run.status == 0);
  const auto j = nlohmann::json::parse(json_run.out);
  REQUIRE(j["cycles"].size() == 2);
  CHECK(j["cycles"][1]["cycle"] == 2);
  CHECK(j["cycles"][1]["clean"] == true);
  CHECK(j["cycles"][1]["restored_bytes"] == 9);
  CHECK(j["cycles"][1]["assigned"][0]["field"] == "vring[0].da");
  CHECK(j["cycles"][1]["assigned"][0]["entry"] == 0);
  CHECK(j["resource_table"]["num"] == 2);  // the rest of the report is unchanged

  const auto text_run = test::run_inspect({"--cycles", "2", stm32});
  CHECK(text_run.status == 0);
  CHECK(text_run.out.find("cycle 2: 9 bytes restored at detach, table clean") != std::string::npos);

  const auto pru = (test::data_dir() / "ti-am335x-pru0-adc.rsc").string();
  const auto refused = test::run_inspect({"--cycles", "2", "--json", pru});
  CHECK(refused.status == 1);
  const auto r = nlohmann::json::parse(refused.out);
  CHECK(r["cycles"][0]["clean"] == false);
  CHECK(r["cycles"][0]["error"]["code"] == "address_unavailable");
  CHECK(r["error"].is_null());  // the table itself is valid

  CHECK(test::run_inspect({"--cycles", "0", stm32}).status == 2);
  CHECK(test::run_inspect({"--cycles", "x", stm32}).status == 2);
}
