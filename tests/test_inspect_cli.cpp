// rproc-inspect as a user runs it, on files made here and on the table fixtures of tests/data:
// SPEC section 5's JSON and exit statuses, the options, and every way a file can fail to be one.
#include <rproc/builder.hpp>
#include <rproc/crash.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "elf_fixtures.hpp"
#include "inspect_support.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;
using rproc::endian;

json inspect_json(const std::vector<std::string>& args, int want_status) {
  std::vector<std::string> all{"--json"};
  all.insert(all.end(), args.begin(), args.end());
  const auto run = test::run_inspect(all);
  INFO(run.err);
  CHECK(run.status == want_status);
  CHECK(run.err.empty());
  return json::parse(run.out);
}

std::string fixture(const char* name) { return (test::data_dir() / name).string(); }

}  // namespace

TEST_CASE("a missing file, a directory: exit 2 and a message naming the file", "[cli]") {
  const test::temp_dir dir;
  const auto missing = (dir.path() / "no-such-image.elf").string();
  for (const bool as_json : {false, true}) {
    std::vector<std::string> args{missing};
    if (as_json) args.insert(args.begin(), "--json");
    const auto run = test::run_inspect(args);
    CHECK(run.status == 2);
    CHECK(run.out.empty());
    CHECK(run.err == "rproc-inspect: cannot read '" + missing + "': No such file or directory\n");
  }
  const auto run = test::run_inspect({dir.path().string()});
  CHECK(run.status == 2);
  CHECK(run.out.empty());
  CHECK(run.err == "rproc-inspect: cannot read '" + dir.path().string() + "': Is a directory\n");
}

TEST_CASE("an empty file is a raw table too small to be one: exit 1", "[cli]") {
  const test::temp_dir dir;
  const auto empty = dir.write("empty.bin", {}).string();
  const auto j = inspect_json({empty}, 1);
  CHECK(j["file"] == empty);
  CHECK(j["format"] == "raw");
  CHECK_FALSE(j.contains("elf"));
  CHECK(j["resource_table"].is_null());
  CHECK(j["warnings"] == json::array());
  CHECK(j["error"]["code"] == "table_too_small");
  CHECK(j["error"]["offset"] == 0);
  CHECK(j["error"]["entry"].is_null());

  const auto text = test::run_inspect({empty});
  CHECK(text.status == 1);
  CHECK(text.out.find("Error: table_too_small at offset 0x0") != std::string::npos);
}

TEST_CASE("a raw table from tests/data, with and without --raw", "[cli]") {
  const auto path = fixture("ti-omap5-ipu-dce-15rsc.rsc");
  for (const bool raw : {false, true}) {
    const auto j = raw ? inspect_json({"--raw", path}, 0) : inspect_json({path}, 0);
    CHECK(j["format"] == "raw");
    CHECK_FALSE(j.contains("elf"));
    const auto& t = j["resource_table"];
    CHECK(t["file_offset"] == 0);
    CHECK(t["address"].is_null());
    CHECK(t["size"] == 920);
    CHECK(t["num"] == 15);
    CHECK(t["offsets"][0] == 76);
    CHECK(t["entries"][1]["type"] == "carveout");
    CHECK(t["entries"][1]["name"] == "IPU_MEM_TEXT");
    CHECK(t["entries"][1]["len"] == 0x600000);
    CHECK(t["entries"][0]["vrings"][0]["da"] == 0xA0000000u);
    CHECK(j["warnings"] == json::array());
    CHECK(j["error"].is_null());
  }
  // A table of type 5 entries: a warning, or with --strict an error at its file offset.
  const auto pru = fixture("ti-am335x-pru0-adc.rsc");
  const auto lenient = inspect_json({pru}, 0);
  REQUIRE(lenient["warnings"].size() == 1);
  CHECK(lenient["warnings"][0]["code"] == "unknown_resource_type");
  CHECK(lenient["warnings"][0]["entry"] == 1);
  CHECK(lenient["warnings"][0]["offset"] == 92);
  const auto strict = inspect_json({"--strict", pru}, 1);
  CHECK(strict["error"]["code"] == "unknown_resource_type");
  CHECK(strict["error"]["offset"] == 92);
  CHECK(strict["resource_table"].is_null());
  CHECK(strict["warnings"] == json::array());
}

TEST_CASE("a big-endian raw table, read with --raw --big-endian", "[cli]") {
  namespace rsc = rproc::rsc;
  constexpr auto big = rproc::make_table<rproc::table_options{.order = endian::big}>(
      rsc::carveout{.da = 0x10000000, .len = 0x8000, .name = "big"},
      rsc::trace{.da = 0x20000, .len = 0x400, .name = "log"});
  const test::temp_dir dir;
  const auto path = dir.write("big.rsc", big.bytes).string();
  const auto j = inspect_json({"--raw", "--big-endian", path}, 0);
  const auto& e = j["resource_table"]["entries"];
  CHECK(e[0]["da"] == 0x10000000);
  CHECK(e[0]["pa"] == 0xFFFFFFFFu);
  CHECK(e[0]["len"] == 0x8000);
  CHECK(e[0]["name"] == "big");
  CHECK(e[1]["len"] == 0x400);

  // Read little-endian, ver is 0x01000000.
  const auto wrong = inspect_json({path}, 1);
  CHECK(wrong["error"]["code"] == "unsupported_version");
  CHECK(wrong["error"]["offset"] == 0);
  const auto text = test::run_inspect({"--raw", "--big-endian", path});
  CHECK(text.status == 0);
  CHECK(text.out.find("raw resource table, big-endian, 128 bytes") != std::string::npos);
}

TEST_CASE("AMD's crash report entry (type 128) is decoded, other vendor types are not",
          "[cli][crash]") {
  namespace rsc = rproc::rsc;
  constexpr auto table = rproc::make_table(
      rsc::trace{.da = 0x20000, .len = 0x400, .name = "log"},
      rsc::raw{rproc::amd_crash_report_type, std::array<std::uint8_t, 8>{1, 0, 0, 0, 1, 0, 0, 0}},
      rsc::raw{130, std::array<std::uint8_t, 8>{1, 0, 0, 0, 1, 0, 0, 0}});
  const test::temp_dir dir;
  const auto path = dir.write("crashed.rsc", table.bytes).string();
  const auto j = inspect_json({path}, 0);
  const auto& e = j["resource_table"]["entries"];
  CHECK(e[1]["type_id"] == 128);
  CHECK(e[1]["crash_report"] ==
        json{{"crash_state", 1}, {"crash_reason", 1}, {"reason", "watchdog"}});
  CHECK_FALSE(e[2].contains("crash_report"));
  const auto text = test::run_inspect({path});
  INFO(text.out);
  CHECK(text.status == 0);
  CHECK(text.out.find("  [1] vendor (type 128) at offset 0x4c, for the platform\n"
                      "      crash_state    1 (crashed, as AMD's crash report)\n"
                      "      crash_reason   1 (watchdog)\n"
                      "  [2] vendor (type 130) at offset 0x58, for the platform") !=
        std::string::npos);
}

TEST_CASE("ELF images of both classes and byte orders", "[cli]") {
  const test::temp_dir dir;
  const auto check = [&](const auto& image, const char* name, int bits, const char* order,
                         int machine, std::size_t table_offset) {
    INFO(name);
    const auto path = dir.write(name, image).string();
    const auto j = inspect_json({path}, 0);
    CHECK(j["format"] == "elf");
    CHECK(j["elf"] == json{{"class", bits}, {"endian", order}, {"machine", machine},
                           {"entry", 0x1001}});
    const auto& t = j["resource_table"];
    CHECK(t["file_offset"] == table_offset);
    CHECK(t["address"] == 0x2000);
    CHECK(t["size"] == 140);
    CHECK(t["entries"][0]["vrings"][1]["notifyid"] == 2);
    CHECK(t["entries"][1]["name"] == "trace0");
    // --raw reads the whole file as a table: "\x7fELF" is not version 1.
    const auto raw = inspect_json({"--raw", path}, 1);
    CHECK(raw["format"] == "raw");
    CHECK(raw["error"]["code"] == "unsupported_version");
  };
  using fx::sample;
  constexpr auto c32 = rproc::elf::class32;
  constexpr auto c64 = rproc::elf::class64;
  check(sample<c32, endian::little>::image, "le32.elf", 32, "little", 40, 192);
  check(sample<c32, endian::big>::image, "be32.elf", 32, "big", 40, 192);
  check(sample<c64, endian::little>::image, "le64.elf", 64, "little", 243, 272);
  check(sample<c64, endian::big>::image, "be64.elf", 64, "big", 243, 272);

  const auto text = test::run_inspect({(dir.path() / "be64.elf").string()});
  CHECK(text.status == 0);
  CHECK(text.out.find("Format:   ELF64 big-endian, machine 243 (RISC-V), entry 0x1001\n"
                      "Section:  .resource_table [2] at file offset 0x110, address 0x2000, "
                      "140 bytes\n") != std::string::npos);
}

TEST_CASE("malformed images, images without a table: exit 1 and 3", "[cli]") {
  using S = fx::sample<rproc::elf::class64, endian::big>;
  const test::temp_dir dir;

  const auto bad_header = dir.write("bad.elf", S::with_u16(S::elf.e_phentsize, 32)).string();
  const auto bad = inspect_json({bad_header}, 1);
  CHECK(bad["format"] == "elf");
  CHECK(bad["elf"].is_null());
  CHECK(bad["resource_table"].is_null());
  CHECK(bad["error"]["code"] == "elf_bad_header");
  CHECK(bad["error"]["offset"] == 54);
  CHECK(bad["error"]["entry"].is_null());

  const auto bad_vring =
      dir.write("vring.elf", S::with_u32(S::at.table_offset + 24 + 28 + 4, 0)).string();
  const auto vring = inspect_json({bad_vring}, 1);
  CHECK(vring["elf"]["class"] == 64);
  CHECK(vring["error"]["code"] == "vring_invalid");
  CHECK(vring["error"]["offset"] == 272 + 24 + 28 + 4);
  CHECK(vring["error"]["entry"] == 0);

  const auto empty = dir.write("empty.elf", S::with_word(S::at.shdr(2) + S::elf.sh_size, 0));
  const auto no_table = inspect_json({empty.string()}, 3);
  CHECK(no_table["resource_table"].is_null());
  CHECK(no_table["error"].is_null());
  REQUIRE(no_table["warnings"].size() == 1);
  CHECK(no_table["warnings"][0]["code"] == "empty_table_section");
  CHECK(no_table["warnings"][0]["offset"] == 272);
  CHECK(no_table["warnings"][0]["entry"].is_null());

  const auto renamed = dir.write("renamed.elf", S::with_u8(S::at.strtab_offset + 8, 'R'));
  const auto none = inspect_json({renamed.string()}, 3);
  CHECK(none["resource_table"].is_null());
  CHECK(none["warnings"] == json::array());
  CHECK(none["error"].is_null());
  const auto text = test::run_inspect({renamed.string()});
  CHECK(text.status == 3);
  CHECK(text.out.find("Resource table: none (no .resource_table section)") != std::string::npos);

  // Only the first four bytes of the magic make a file an ELF image.
  const auto stub = dir.write("stub.elf", test::prefix<4>(S::image)).string();
  const auto small = inspect_json({stub}, 1);
  CHECK(small["format"] == "elf");
  CHECK(small["error"]["code"] == "elf_too_small");
}

TEST_CASE("usage errors: exit 2, a message on standard error, nothing on standard output",
          "[cli]") {
  const auto path = fixture("nxp-imx8mq-cm4-hello-world.rsc");
  const std::vector<std::vector<std::string>> misuses = {
      {}, {"--bogus", path}, {"--big-endian", path},
      {path, path}, {"--json=maybe", path}, {"-x", path}};
  for (const auto& args : misuses) {
    const auto run = test::run_inspect(args);
    INFO(run.err);
    CHECK(run.status == 2);
    CHECK(run.out.empty());
    CHECK_FALSE(run.err.empty());
  }
  CHECK(test::run_inspect({"--big-endian", path}).err.find("--raw") != std::string::npos);
}

TEST_CASE("the options --help and --version", "[cli]") {
  const auto help = test::run_inspect({"--help"});
  CHECK(help.status == 0);
  CHECK(help.err.empty());
  for (const char* word : {"Usage:", "--json", "--strict", "--raw", "--big-endian", "--version",
                           "FILE", "Exit status: 0"})
    CHECK(help.out.find(word) != std::string::npos);
  const auto version = test::run_inspect({"--version"});
  CHECK(version.status == 0);
  CHECK(version.out == std::string("rproc-inspect ") + RPROC_VERSION + "\n");
}

TEST_CASE("a file name that starts with a dash, after --", "[cli]") {
  const test::temp_dir dir;
  dir.write("-table.rsc", test::read_file(test::data_dir() / "nxp-imx8mq-cm4-hello-world.rsc"));
  const auto run = test::run_inspect({"--json", "--", "-table.rsc"}, dir.path());
  CHECK(run.status == 0);
  CHECK(json::parse(run.out)["resource_table"]["num"] == 0);
}
