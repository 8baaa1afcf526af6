// rproc-inspect --map-svg on every real image of ../shared/corpus: each picture is one a real
// renderer (rsvg-convert, Debian's librsvg2-bin) draws, it lists the findings the JSON map has,
// and the README's picture in docs/ is what the tool draws today. Skipped (exit 77) without
// ../shared.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "inspect_support.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;

fs::path firmware_dir() { return test::shared_dir() / "corpus" / "firmware"; }

// The finding codes of an image's JSON map.
std::set<std::string> finding_codes(const std::string& image) {
  const auto run = test::run_inspect({"--json", "--map", image});
  const auto report = nlohmann::json::parse(run.out);
  std::set<std::string> codes;
  for (const auto& f : report["memory_map"]["findings"])
    codes.insert(f["code"].get<std::string>());
  return codes;
}

}  // namespace

TEST_CASE("every corpus image gives a memory map picture rsvg-convert draws",
          "[corpus][cli][map]") {
  const test::temp_dir out;
  std::size_t images = 0;
  for (const auto& entry : fs::directory_iterator(firmware_dir())) {
    if (entry.path().extension() != ".elf") continue;
    const std::string image = entry.path().string();
    const std::string stem = entry.path().stem().string();
    INFO(stem);
    ++images;
    const auto svg = out.path() / (stem + ".svg");
    const auto run = test::run_inspect({"--map-svg", svg.string(), image});
    INFO(run.err);
    CHECK(run.status == test::run_inspect({image}).status);  // the picture changes no verdict
    const std::string drawn = test::slurp(svg);
    REQUIRE(drawn.rfind("<svg ", 0) == 0);
    CHECK(drawn.find(entry.path().filename().string()) != std::string::npos);  // the title
    const auto codes = finding_codes(image);
    CHECK((drawn.find("No findings") != std::string::npos) == codes.empty());
    for (const auto& code : codes) CHECK(drawn.find(">" + code + "<") != std::string::npos);
    const auto png = out.path() / (stem + ".png");
    const auto render = test::run_tool(RPROC_RSVG_CONVERT, {"-o", png.string(), svg.string()});
    INFO(render.err);
    CHECK(render.status == 0);
    CHECK(test::slurp(png).rfind("\x89PNG", 0) == 0);
  }
  CHECK(images == 15);  // the corpus of ../shared/corpus/INDEX.md, all seen
}

TEST_CASE("the README's picture is the one rproc-inspect --map-svg draws", "[corpus][cli][map]") {
  const test::temp_dir out;
  const auto svg = out.path() / "memory-map-stm32mp15.svg";
  const auto run =
      test::run_inspect({"--map-svg", svg.string(), "st-stm32mp15-cm4-bst-v0.9.3.elf"},
                        firmware_dir());
  REQUIRE(run.status == 0);
  const std::string shown = test::slurp(fs::path(RPROC_DOCS_DIR) / "memory-map-stm32mp15.svg");
  INFO("regenerate it: in ../shared/corpus/firmware, rproc-inspect --map-svg "
       "<repository>/docs/memory-map-stm32mp15.svg st-stm32mp15-cm4-bst-v0.9.3.elf");
  CHECK(test::slurp(svg) == shown);
}
