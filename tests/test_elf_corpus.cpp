// elf.hpp on every real image of ../shared/corpus: the table where the expected outputs say it
// is, every section and program header as binutils' readelf reads them (when it is installed),
// and every PT_LOAD segment loaded byte for byte. Skipped (exit 77) without ../shared.
#include <rproc/elf.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "inspect_support.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The 15 firmware images of the corpus, sorted (fewer fails the test: no loop passes on none).
std::vector<fs::path> corpus_images() {
  std::vector<fs::path> images;
  for (const auto& f : fs::directory_iterator(test::shared_dir() / "corpus" / "firmware"))
    images.push_back(f.path());
  std::sort(images.begin(), images.end());
  REQUIRE(images.size() == 15);
  return images;
}

std::optional<std::string> command_output(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;)
    out.append(buffer, n);
  return out;
}

bool have_readelf() {
  return std::system("command -v readelf >/dev/null 2>&1") == 0;
}

std::uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

struct readelf_section {
  std::string name;
  std::uint64_t addr, offset, size;
};

// `readelf -S -W`: "  [ 2] .resource_table   PROGBITS  1ffe0a00 020068 000000 00 W 0 0 1".
std::map<std::uint32_t, readelf_section> readelf_sections(const fs::path& image) {
  const auto out = command_output("readelf -S -W " + test::shell_quote(image.string()));
  REQUIRE(out);
  // index, name, (type), address, offset, size
  const std::regex row(
      R"(^\s*\[\s*(\d+)\]\s+(\S*)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s)");
  std::map<std::uint32_t, readelf_section> sections;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const auto index = static_cast<std::uint32_t>(std::stoul(m[1]));
    if (index == 0) continue;  // the null section has no name for the pattern to anchor on
    sections[index] = {m[2], hex(m[3]), hex(m[4]), hex(m[5])};
  }
  return sections;
}

struct readelf_segment {
  std::string type;
  std::uint64_t offset, vaddr, paddr, filesz, memsz;
};

// `readelf -l -W`: "  LOAD  0x000034 0x00000000 0x00000000 0x000d8 0x000d8 R E 0x4".
std::vector<readelf_segment> readelf_segments(const fs::path& image) {
  const auto out = command_output("readelf -l -W " + test::shell_quote(image.string()));
  REQUIRE(out);
  // type, then offset, vaddr, paddr, filesz, memsz in hex
  const std::string hex_field = R"(\s+0x([0-9a-f]+))";
  const std::regex row(R"(^\s+([A-Z_a-z0-9+]+))" + hex_field + hex_field + hex_field + hex_field +
                       hex_field + R"(\s)");
  std::vector<readelf_segment> segments;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    segments.push_back({m[1], hex(m[2]), hex(m[3]), hex(m[4]), hex(m[5]), hex(m[6])});
  }
  return segments;
}

}  // namespace

TEST_CASE("every corpus image reads, its table where the expected output says", "[corpus][elf]") {
  for (const auto& path : corpus_images()) {
    INFO(path.filename().string());
    const auto bytes = test::read_file(path);
    const auto expected = json::parse(
        std::ifstream(test::shared_dir() / "corpus" / "expected" /
                      (path.stem().string() + ".json")));
    const auto image = rproc::read_elf(bytes);
    REQUIRE(image);
    CHECK(image->bits() == expected["elf"]["class"]);
    CHECK(image->machine() == expected["elf"]["machine"]);
    CHECK(image->entry() == expected["elf"]["entry"]);
    CHECK(image->order() == rproc::endian::little);

    const auto& rt = expected["resource_table"];
    if (!rt.is_null()) {
      const auto section = image->table_section();
      REQUIRE(section);
      CHECK(section->offset == rt["file_offset"]);
      CHECK(section->addr == rt["address"]);
      CHECK(section->size == rt["size"]);
      const auto found = image->resource_table();
      REQUIRE(found);
      const auto parsed = found->parse();
      REQUIRE(parsed);
      CHECK(parsed->num() == rt["num"]);
      CHECK(found->da == rt["address"]);
      CHECK(found->file_offset == rt["file_offset"]);
    }
  }
}

TEST_CASE("the i.MX8QM image's empty section warns at its sh_offset, 131176", "[corpus][elf]") {
  const auto bytes = test::read_file(test::shared_dir() / "corpus" / "firmware" /
                                     "nxp-imx8qm-cm4-hello-world-empty-rsc.elf");
  const auto image = rproc::read_elf(bytes);
  REQUIRE(image);
  CHECK_FALSE(image->resource_table());
  const auto warning = image->empty_table_warning();
  REQUIRE(warning);
  CHECK(warning->code == rproc::errc::empty_table_section);
  CHECK(warning->offset == 131176);
}

TEST_CASE("sections and program headers agree with readelf", "[corpus][elf][readelf]") {
  INFO("readelf comes with binutils, which g++ needs");
  REQUIRE(have_readelf());
  for (const auto& path : corpus_images()) {
    INFO(path.filename().string());
    const auto bytes = test::read_file(path);
    const auto image = rproc::read_elf(bytes);
    REQUIRE(image);

    const auto theirs = readelf_sections(path);
    CHECK(theirs.size() + (image->section_count() > 0 ? 1 : 0) == image->section_count());
    for (const auto s : image->sections()) {
      if (s.index == 0) continue;
      INFO("section " << s.index);
      REQUIRE(theirs.count(s.index) == 1);
      const auto& r = theirs.at(s.index);
      CHECK(s.name() == r.name);
      CHECK(s.addr == r.addr);
      CHECK(s.offset == r.offset);
      CHECK(s.size == r.size);
    }

    const auto segments = readelf_segments(path);
    REQUIRE(segments.size() == image->segment_count());
    for (const auto s : image->segments()) {
      INFO("segment " << s.index);
      const auto& r = segments[s.index];
      CHECK(s.is_load() == (r.type == "LOAD"));
      CHECK(s.offset == r.offset);
      CHECK(s.vaddr == r.vaddr);
      CHECK(s.paddr == r.paddr);
      CHECK(s.filesz == r.filesz);
      CHECK(s.memsz == r.memsz);
    }
  }
}

TEST_CASE("every PT_LOAD segment of every corpus image loads byte for byte", "[corpus][elf]") {
  for (const auto& path : corpus_images()) {
    INFO(path.filename().string());
    const auto bytes = test::read_file(path);
    const auto image = rproc::read_elf(bytes);
    REQUIRE(image);
    // Device memory: one buffer per (address, length) asked for, filled with 0xAA.
    std::map<std::pair<std::uint64_t, std::size_t>, std::vector<std::byte>> memory;
    const auto da_to_va = [&](std::uint64_t da, std::size_t length)
        -> std::optional<std::span<std::byte>> {
      auto& buffer = memory[{da, length}];
      if (buffer.empty()) buffer.assign(length, std::byte{0xAA});
      return std::span(buffer);
    };
    REQUIRE(rproc::load_segments(*image, da_to_va));
    std::size_t loaded = 0;
    for (const auto s : image->segments()) {
      if (!s.is_load() || s.memsz == 0) continue;
      ++loaded;
      const auto& buffer = memory.at({s.paddr, static_cast<std::size_t>(s.memsz)});
      const auto file = std::span(bytes).subspan(static_cast<std::size_t>(s.offset),
                                                 static_cast<std::size_t>(s.filesz));
      CHECK(std::equal(file.begin(), file.end(), buffer.begin()));
      CHECK(std::all_of(buffer.begin() + static_cast<std::ptrdiff_t>(s.filesz), buffer.end(),
                        [](std::byte b) { return b == std::byte{0}; }));
    }
    CHECK(loaded > 0);
  }
}
