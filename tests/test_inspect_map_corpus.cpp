// rproc-inspect --map on every real image of ../shared/corpus: the findings of each image are the
// ones the README explains (the rules were checked against these images), and the text map of
// two images equals their golden files. Skipped (exit 77) without ../shared.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "inspect_support.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path firmware_dir() { return test::shared_dir() / "corpus" / "firmware"; }

std::vector<fs::path> corpus_images() {
  std::vector<fs::path> images;
  for (const auto& f : fs::directory_iterator(firmware_dir()))
    if (f.path().extension() == ".elf") images.push_back(f.path());
  std::sort(images.begin(), images.end());
  return images;
}

// How the text report names a region, rebuilt from its JSON keys.
std::string label(const json& r) {
  const std::string kind = r["kind"];
  if (kind == "segment") return "segment " + std::to_string(r["segment"].get<int>());
  if (kind == "table") return ".resource_table";
  std::string out = "[" + std::to_string(r["entry"].get<int>()) + "] " + kind;
  if (kind == "vring") out += " " + std::to_string(r["vring"].get<int>());
  return out;
}

std::vector<std::string> findings_of(const json& map) {
  std::vector<std::string> out;
  for (const auto& f : map["findings"]) {
    const auto& regions = map["regions"];
    std::string line = f["code"].get<std::string>() + ": ";
    line += label(regions[f["region"].get<std::size_t>()]);
    if (!f["other"].is_null()) line += " / " + label(regions[f["other"].get<std::size_t>()]);
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> pru_findings() {
  std::vector<std::string> out{"buffers_overlap: [0] vring 1 / [0] vring 0"};
  for (const char* vring : {"[0] vring 0", "[0] vring 1"}) {
    for (int segment = 0; segment < 5; ++segment) {
      out.push_back(std::string("vring_overlaps_segment: ") + vring + " / segment " +
                    std::to_string(segment));
      if (segment == 2) out.push_back(std::string("buffers_overlap: .resource_table / ") + vring);
    }
  }
  return out;
}

// What the README's "Memory maps of the corpus" explains, image by image.
std::map<std::string, std::vector<std::string>> expected_findings() {
  const std::vector<std::string> nxp_vrings{"outside_firmware_memory: [0] vring 0",
                                            "outside_firmware_memory: [0] vring 1"};
  return {
      {"nxp-imx8mm-cm4-rpmsg-str-echo", nxp_vrings},
      {"nxp-imx8mn-cm7-rpmsg-pingpong", nxp_vrings},
      {"nxp-imx8mq-cm4-hello-world", {}},
      {"nxp-imx8qm-cm4-hello-world-empty-rsc", {}},
      {"nxp-imx8qx-cm4-rpmsg-str-echo",
       {"outside_firmware_memory: [0] vring 0", "outside_firmware_memory: [0] vring 1",
        "outside_firmware_memory: [1] vring 0", "outside_firmware_memory: [1] vring 1"}},
      {"qcom-msm8909w-mba-notable", {}},
      {"st-stm32mp15-cm4-bst-v0.9.3", {"table_outside_segments: .resource_table"}},
      {"ti-am335x-pru0-adc", pru_findings()},
      {"ti-am62a-mcu-r5f-ipc-echo", {}},
      {"ti-am62x-m4f-ipc-echo", {}},
      {"ti-am64x-r5f0_0-ipc-echo", {}},
      {"ti-omap4-ducati-dce-oldformat", {}},
      {"ti-omap5-ipu-dce-15rsc", {}},
      {"xilinx-kr260-mbv-zephyr-openamp", nxp_vrings},
      {"xilinx-zynqmp-r5-rtos-echo", {}},
  };
}

}  // namespace

TEST_CASE("the memory map of every corpus image has exactly the findings the README explains",
          "[corpus][cli][map]") {
  const auto expected = expected_findings();
  std::size_t images = 0;
  for (const auto& image : corpus_images()) {
    const std::string stem = image.stem().string();
    INFO(stem);
    ++images;
    const auto plain = test::run_inspect({"--json", image.string()});
    const auto run = test::run_inspect({"--json", "--map", image.string()});
    INFO(run.err);
    CHECK(run.status == plain.status);  // findings are warnings: the exit status is the table's
    auto got = json::parse(run.out);
    REQUIRE(got.contains("memory_map"));
    const json map = got["memory_map"];
    got.erase("memory_map");
    CHECK(got == json::parse(plain.out));  // --map adds one key and changes nothing else
    REQUIRE(expected.count(stem) == 1);
    CHECK(findings_of(map) == expected.at(stem));
    CHECK(map["findings_truncated"] == false);
    // Regions by address, unplaced ones (FW_RSC_ADDR_ANY) last.
    bool unplaced_seen = false;
    std::uint64_t previous = 0;
    for (const auto& r : map["regions"]) {
      if (r["da"].is_null()) {
        unplaced_seen = true;
        CHECK_FALSE(r["fixed"].get<bool>());
        continue;
      }
      CHECK_FALSE(unplaced_seen);
      CHECK(r["da"].get<std::uint64_t>() >= previous);
      previous = r["da"];
    }
  }
  CHECK(images == 15);
}

TEST_CASE("the map of the STM32MP15 image names its segments, table, trace and vrings",
          "[corpus][cli][map]") {
  const auto image = (firmware_dir() / "st-stm32mp15-cm4-bst-v0.9.3.elf").string();
  const auto run = test::run_inspect({"--json", "--map", image});
  const auto map = json::parse(run.out)["memory_map"];
  REQUIRE(map["regions"].size() == 8);
  // The .data segment: loaded at 0x100077bc (p_paddr), run at 0x10020000 (p_vaddr).
  const auto& data = map["regions"][2];
  CHECK(data["kind"] == "segment");
  CHECK(data["segment"] == 2);
  CHECK(data["da"] == 0x100077bc);
  CHECK(data["vaddr"] == 0x10020000);
  CHECK(data["size"] == 0x1bc);
  CHECK(data["file_size"] == 0x1bc);
  CHECK(data["flags"] == 6);
  const auto& table = map["regions"][3];
  CHECK(table["kind"] == "table");
  CHECK(table["section"] == 11);
  CHECK(table["da"] == 0x10020130);
  CHECK(table["size"] == 140);
  const auto& trace = map["regions"][5];
  CHECK(trace["kind"] == "trace");
  CHECK(trace["entry"] == 1);
  CHECK(trace["name"] == "cm4_log");
  CHECK(trace["da"] == 0x1002051c);
  CHECK(trace["size"] == 0x1e460);
  // vring_size(16, 16) = 438 bytes, one 4 KiB page as the host allocates it.
  const auto& vring = map["regions"][7];
  CHECK(vring["kind"] == "vring");
  CHECK(vring["vring"] == 1);
  CHECK(vring["ring_size"] == 438);
  CHECK(vring["size"] == 4096);
  CHECK(vring["da"].is_null());
  CHECK(map["findings"][0]["region"] == 3);
  CHECK(map["findings"][0]["other"].is_null());

  // With --cycles, the addresses the simulated host gave both vrings in its first attach.
  const auto cycled = test::run_inspect({"--json", "--map", "--cycles", "1", image});
  const auto assigned = json::parse(cycled.out)["memory_map"]["regions"];
  std::vector<std::uint64_t> vring_addresses;
  for (const auto& r : assigned) {
    if (r["kind"] != "vring") continue;
    CHECK(r["assigned"] == true);
    CHECK(r["fixed"] == false);
    vring_addresses.push_back(r["da"]);
  }
  CHECK(vring_addresses == std::vector<std::uint64_t>{0x10000000, 0x10001000});
  // A host's choices are not judged: the findings stay the firmware's.
  CHECK(json::parse(cycled.out)["memory_map"]["findings"].size() == 1);
}

TEST_CASE("the text map of two real images equals the golden files", "[corpus][cli][golden]") {
  for (const char* stem : {"st-stm32mp15-cm4-bst-v0.9.3", "ti-am335x-pru0-adc"}) {
    INFO(stem);
    const auto run = test::run_inspect({"--map", std::string(stem) + ".elf"}, firmware_dir());
    CHECK(run.status == 0);
    CHECK(run.err.empty());
    const auto golden = test::slurp(fs::path(RPROC_GOLDEN_DIR) / (std::string(stem) + ".map.txt"));
    REQUIRE_FALSE(golden.empty());
    CHECK(run.out == golden);
  }
}
