// rproc-inspect on every real image of ../shared/corpus: `--json` equals expected/<name>.json as
// JSON values (all but "file" and the "message"s), the exit status is INDEX.md's, and the text
// output of two images equals the golden files in tests/golden/. Skipped (exit 77) without
// ../shared.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "inspect_support.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path corpus() { return test::shared_dir() / "corpus"; }

// The free-text fields SPEC leaves out of the comparison.
json without_free_text(json j) {
  if (j.is_object()) {
    j.erase("file");
    j.erase("message");
    for (auto& [key, value] : j.items()) value = without_free_text(value);
  } else if (j.is_array()) {
    for (auto& value : j) value = without_free_text(value);
  }
  return j;
}

struct expected_status {
  int plain = -1;
  int strict = -1;  // the status with --strict where INDEX.md names one
};

// INDEX.md's `exit` column: "0", "**3**", "0 (1 with `--strict`)".
std::map<std::string, expected_status> index_statuses() {
  std::ifstream index(corpus() / "INDEX.md");
  const std::regex row(R"(^\| `([^`]+)\.elf` \| ([^|]*) \|)");
  const std::regex with_strict(R"(\((\d) with `--strict`\))");
  std::map<std::string, expected_status> statuses;
  for (std::string line; std::getline(index, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string cell = m[2];
    expected_status s;
    s.plain = std::stoi(cell.substr(cell.find_first_of("0123456789")));
    if (std::smatch sm; std::regex_search(cell, sm, with_strict)) s.strict = std::stoi(sm[1]);
    statuses[m[1]] = s;
  }
  return statuses;
}

}  // namespace

TEST_CASE("rproc-inspect --json equals every expected output, with INDEX.md's exit status",
          "[corpus][cli]") {
  const auto statuses = index_statuses();
  REQUIRE(statuses.size() == 15);
  std::size_t images = 0;
  for (const auto& file : fs::directory_iterator(corpus() / "expected")) {
    const std::string stem = file.path().stem().string();
    INFO(stem);
    ++images;
    const auto expected = json::parse(std::ifstream(file.path()));
    const auto image = corpus() / "firmware" / (stem + ".elf");
    const auto run = test::run_inspect({"--json", image.string()});
    INFO(run.err);
    REQUIRE(statuses.count(stem) == 1);
    CHECK(run.status == statuses.at(stem).plain);
    CHECK(run.err.empty());
    const auto got = json::parse(run.out);
    CHECK(got["file"] == image.string());
    CHECK(without_free_text(got) == without_free_text(expected));
    // Every message is filled in.
    for (const auto& w : got["warnings"]) CHECK_FALSE(w["message"].get<std::string>().empty());
    if (!got["error"].is_null()) CHECK_FALSE(got["error"]["message"].get<std::string>().empty());

    if (const int strict = statuses.at(stem).strict; strict >= 0) {
      const auto strict_run = test::run_inspect({"--json", "--strict", image.string()});
      CHECK(strict_run.status == strict);
    }
  }
  CHECK(images == 15);
}

TEST_CASE("with --strict, the PRU image's type 5 entry is an error at its file offset",
          "[corpus][cli]") {
  const auto run = test::run_inspect(
      {"--json", "--strict", (corpus() / "firmware" / "ti-am335x-pru0-adc.elf").string()});
  CHECK(run.status == 1);
  const auto j = json::parse(run.out);
  CHECK(j["elf"]["machine"] == 144);
  CHECK(j["resource_table"].is_null());
  CHECK(j["warnings"] == json::array());
  CHECK(j["error"]["code"] == "unknown_resource_type");
  CHECK(j["error"]["offset"] == 0x6c8 + 92);
  CHECK(j["error"]["entry"] == 1);
}

TEST_CASE("the text output of two real images equals the golden files", "[corpus][cli][golden]") {
  for (const char* stem : {"ti-omap5-ipu-dce-15rsc", "st-stm32mp15-cm4-bst-v0.9.3"}) {
    INFO(stem);
    // Run beside the image, so that the "File:" line does not depend on where the corpus is.
    const auto run = test::run_inspect({std::string(stem) + ".elf"}, corpus() / "firmware");
    CHECK(run.status == 0);
    CHECK(run.err.empty());
    const auto golden = test::slurp(fs::path(RPROC_GOLDEN_DIR) / (std::string(stem) + ".txt"));
    REQUIRE_FALSE(golden.empty());
    CHECK(run.out == golden);
  }
}

TEST_CASE("raw --json of a tests/data fixture equals the image's table", "[corpus][cli]") {
  // The fixture is the section; as a raw table it reads the same, at file offset 0, no address.
  const auto stem = std::string("xilinx-zynqmp-r5-rtos-echo");
  const auto expected = json::parse(std::ifstream(corpus() / "expected" / (stem + ".json")));
  const auto run = test::run_inspect({"--json", (test::data_dir() / (stem + ".rsc")).string()});
  CHECK(run.status == 0);
  auto got = json::parse(run.out);
  CHECK(got["format"] == "raw");
  auto want = expected["resource_table"];
  want["file_offset"] = 0;
  want["address"] = nullptr;
  CHECK(got["resource_table"] == want);
}
