// rproc-inspect --map on files made here: the JSON keys the README documents, the text table,
// and what happens when there is nothing to map.
#include <rproc/builder.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "inspect_support.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;
namespace rsc = rproc::rsc;

// A carveout crossing into a devmem window, a trace buffer on a fixed vring, a vring the host
// places.
constexpr auto colliding_table = rproc::make_table(
    rsc::carveout{.da = 0x10000, .pa = 0x80010000, .len = 0x10000, .name = "ddr"},
    rsc::devmem{.da = 0x1f000, .pa = 0x4a000000, .len = 0x2000, .name = "regs"},
    rsc::trace{.da = 0x30800, .len = 0x100, .name = "log"},
    rsc::vdev{}.with_vrings(rsc::vring{.da = 0x30000, .align = 16, .num = 8},
                            rsc::vring{.align = 4096, .num = 256, .notifyid = 1}));

}  // namespace

TEST_CASE("the JSON map (--map --json): the regions and findings of a raw table", "[cli][map]") {
  const test::temp_dir dir;
  const auto file = dir.write("table.bin", colliding_table.bytes).string();
  const auto run = test::run_inspect({"--json", "--map", file});
  INFO(run.err);
  CHECK(run.status == 0);  // findings are warnings
  const auto j = json::parse(run.out);
  const auto plain = json::parse(test::run_inspect({"--json", file}).out);
  CHECK_FALSE(plain.contains("memory_map"));
  auto without = j;
  without.erase("memory_map");
  CHECK(without == plain);

  const auto& map = j["memory_map"];
  REQUIRE(map["regions"].size() == 5);
  CHECK(map["regions"][0] == json{{"kind", "carveout"}, {"da", 0x10000}, {"size", 0x10000},
                                  {"fixed", true}, {"assigned", false}, {"entry", 0},
                                  {"name", "ddr"}, {"pa", 0x80010000}, {"flags", 0}});
  CHECK(map["regions"][1] == json{{"kind", "devmem"}, {"da", 0x1f000}, {"size", 0x2000},
                                  {"fixed", true}, {"assigned", false}, {"entry", 1},
                                  {"name", "regs"}, {"pa", 0x4a000000}, {"flags", 0}});
  CHECK(map["regions"][2] == json{{"kind", "vring"}, {"da", 0x30000}, {"size", 4096},
                                  {"fixed", true}, {"assigned", false}, {"entry", 3},
                                  {"vring", 0}, {"num", 8}, {"align", 16}, {"ring_size", 230}});
  CHECK(map["regions"][3] == json{{"kind", "trace"}, {"da", 0x30800}, {"size", 0x100},
                                  {"fixed", true}, {"assigned", false}, {"entry", 2},
                                  {"name", "log"}});
  CHECK(map["regions"][4]["da"].is_null());
  CHECK(map["regions"][4]["fixed"] == false);
  CHECK(map["regions"][4]["size"] == 3 * 4096);

  REQUIRE(map["findings"].size() == 2);
  CHECK(map["findings"][0]["code"] == "regions_overlap");
  CHECK(map["findings"][0]["region"] == 1);
  CHECK(map["findings"][0]["other"] == 0);
  CHECK(map["findings"][0]["message"] ==
        "regions_overlap: [1] devmem 0x0001f000-0x00020fff and [0] carveout "
        "0x00010000-0x0001ffff: the two overlap without one holding the other");
  CHECK(map["findings"][1]["code"] == "buffers_overlap");
  CHECK(map["findings"][1]["region"] == 3);
  CHECK(map["findings"][1]["other"] == 2);
  CHECK(map["findings_truncated"] == false);
}

TEST_CASE("the text map (--map): of a raw table", "[cli][map]") {
  const test::temp_dir dir;
  const auto file = dir.write("table.bin", colliding_table.bytes).string();
  const auto run = test::run_inspect({"--map", file});
  CHECK(run.status == 0);
  const auto at = run.out.find("\nMemory map:");
  REQUIRE(at != std::string::npos);
  CHECK(run.out.substr(at) ==
        "\nMemory map: 5 regions, in the remote's device addresses\n"
        "  first       last        size       region\n"
        "  0x00010000  0x0001ffff  64 KiB     [0] carveout  \"ddr\", pa 0x80010000\n"
        "  0x0001f000  0x00020fff  8 KiB      [1] devmem  \"regs\", pa 0x4a000000\n"
        "  0x00030000  0x00030fff  4 KiB      [3] vring 0  num 8, align 16, ring 230 B\n"
        "  0x00030800  0x000308ff  256 B        [2] trace  \"log\"\n"
        "  placed by the host (FW_RSC_ADDR_ANY), not yet assigned:\n"
        "                          12 KiB     [3] vring 1  num 256, align 4096, ring 10 KiB\n"
        "Findings: 2\n"
        "  regions_overlap (1): the two overlap without one holding the other\n"
        "    [1] devmem 0x0001f000-0x00020fff and [0] carveout 0x00010000-0x0001ffff\n"
        "  buffers_overlap (1): two buffers with different uses (the table, a trace buffer, "
        "vrings) share bytes\n"
        "    [2] trace 0x00030800-0x000308ff and [3] vring 0 0x00030000-0x00030fff\n");
}

TEST_CASE("no map of a file that is neither an image nor a table", "[cli][map]") {
  const test::temp_dir dir;
  const auto file = dir.write("short.bin", std::vector<std::byte>(3)).string();
  const auto run = test::run_inspect({"--map", file});
  CHECK(run.status == 1);  // the table's status: too small
  CHECK(run.out.find("Memory map") == std::string::npos);
  const auto j = json::parse(test::run_inspect({"--json", "--map", file}).out);
  CHECK(j["memory_map"].is_null());
}

TEST_CASE("the picture (--map-svg) of a raw table, and when it cannot be drawn", "[cli][map]") {
  const test::temp_dir dir;
  const auto table = dir.write("table.bin", colliding_table.bytes).string();
  const auto svg = dir.path() / "map.svg";
  const auto drawn = test::run_inspect({"--map-svg", svg.string(), table});
  CHECK(drawn.status == 0);
  CHECK(drawn.out.find("Memory map") == std::string::npos);  // the picture only, not the text
  const std::string picture = test::slurp(svg);
  CHECK(picture.rfind("<svg ", 0) == 0);
  CHECK(picture.find(">table.bin<") != std::string::npos);
  CHECK(picture.find(">regions_overlap<") != std::string::npos);
  CHECK(picture.find("the host chooses where") != std::string::npos);  // the vring it places

  const auto nothing = dir.path() / "nothing.svg";
  const auto junk = dir.write("short.bin", std::vector<std::byte>(3)).string();
  const auto no_map = test::run_inspect({"--map-svg", nothing.string(), junk});
  CHECK(no_map.status == 2);
  CHECK(no_map.err.find("no memory map to draw") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(nothing));

  const auto unwritable =
      test::run_inspect({"--map-svg", (dir.path() / "no/such/dir.svg").string(), table});
  CHECK(unwritable.status == 2);
  CHECK(unwritable.err.find("cannot write") != std::string::npos);
}
