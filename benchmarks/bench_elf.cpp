// Finding the resource table in a firmware image: read_elf (every check of SPEC section 2) then
// resource_table()->parse() (the section found by name, its table parsed). The time must follow the number
// of sections and not the size of the file:
// - synthetic images (tests/elf_writer.hpp) of 64 sections and 4 KiB to 16 MiB, and of
//   4 to 16384 sections in a few KiB, the table after all the other sections;
// - the largest images of ../shared/corpus and the one with the most sections, when present,
//   beside memcpy of their table section (what a host does next: it copies the table).
#include <rproc/elf.hpp>
#include <rproc/table.hpp>

#include <benchmark/benchmark.h>

#include <corpus_fixtures.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "elf_writer.hpp"
#include "ratio_report.hpp"

namespace {

struct image_case {
  std::string group;
  std::string variant;
  std::vector<std::byte> file;
};

[[gnu::noinline]] bool find_table(std::span<const std::byte> file) {
  const auto image = rproc::read_elf(file);
  if (!image) return false;
  const auto table = image->resource_table();
  return table && table->parse().has_value();
}

void bm_find(benchmark::State& state, const image_case& c) {
  const auto image = rproc::read_elf(c.file);
  if (!image || !find_table(c.file)) {
    state.SkipWithError("the image or its table does not parse");
    return;
  }
  std::span<const std::byte> file = c.file;
  for (auto _ : state) {
    benchmark::DoNotOptimize(file);
    bool found = find_table(file);
    benchmark::DoNotOptimize(found);
  }
  const double sections = image->section_count();
  state.counters["sections"] = sections;
  state.counters["MiB"] = static_cast<double>(c.file.size()) / (1024.0 * 1024.0);
  state.counters["per_section"] =
      benchmark::Counter(sections, benchmark::Counter::kIsIterationInvariantRate |
                                       benchmark::Counter::kInvert);
}

void bm_copy_table(benchmark::State& state, const image_case& c) {
  const auto image = rproc::read_elf(c.file);
  const auto section = image ? image->table_section() : std::nullopt;
  if (!section) {
    state.SkipWithError("no table section");
    return;
  }
  const auto from = std::span(c.file).subspan(static_cast<std::size_t>(section->offset),
                                              static_cast<std::size_t>(section->size));
  std::vector<std::byte> copy(from.size());
  for (auto _ : state) {
    const std::byte* source = from.data();
    std::byte* target = copy.data();
    benchmark::DoNotOptimize(source);
    benchmark::DoNotOptimize(target);
    std::memcpy(target, source, from.size());
    benchmark::ClobberMemory();
  }
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::vector<std::byte> bytes(std::filesystem::file_size(path));
  std::ifstream(path, std::ios::binary)
      .read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

std::vector<image_case> synthetic_cases() {
  const std::span<const std::byte> table = fixtures::st_stm32mp15_cm4_bst_v0_9_3;
  std::vector<image_case> cases;
  for (const std::size_t kib : {4u, 1024u, 16384u}) {
    const std::string size = kib < 1024 ? std::to_string(kib) + "KiB"
                                        : std::to_string(kib / 1024) + "MiB";
    cases.push_back({"elf_find/64-sections", "file-" + size,
                     fx::make_image(table, {.extra_sections = 60, .padding = kib * 1024})});
  }
  for (const std::size_t sections : {4u, 64u, 1024u, 16384u})
    cases.push_back({"elf_find/few-KiB", "sections-" + std::to_string(sections),
                     fx::make_image(table, {.extra_sections = sections - 4})});
  return cases;
}

// The three largest corpus images and the one with the most sections.
std::vector<image_case> corpus_cases() {
  const std::filesystem::path dir = std::filesystem::path(RPROC_SHARED_DIR) / "corpus/firmware";
  if (!std::filesystem::is_directory(dir)) return {};
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".elf") paths.push_back(e.path());
  std::vector<image_case> all;
  for (const auto& p : paths) {
    auto file = read_file(p);
    const auto image = rproc::read_elf(file);
    if (!image) continue;
    const auto table = image->resource_table();
    if (!table || !table->parse()) continue;  // no table to find, or one that does not parse
    all.push_back({"elf_find/" + p.stem().string(), "rproc", std::move(file)});
  }
  const auto sections = [](const image_case& c) {
    return rproc::read_elf(c.file)->section_count();
  };
  std::ranges::sort(all, std::greater{}, [](const image_case& c) { return c.file.size(); });
  std::vector<image_case> chosen(all.begin(),
                                 all.begin() + std::min<std::ptrdiff_t>(3, std::ssize(all)));
  if (all.size() > 3) {
    const auto most = std::ranges::max_element(all.begin() + 3, all.end(), {}, sections);
    if (sections(*most) > sections(chosen.back())) chosen.push_back(*most);
  }
  return chosen;
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<image_case> synthetic = synthetic_cases();
  static const std::vector<image_case> corpus = corpus_cases();
  for (const image_case& c : synthetic)
    rproc_bench::add(c.group + "/" + c.variant, bm_find, std::cref(c));
  for (const image_case& c : corpus) {
    rproc_bench::add(c.group + "/rproc", bm_find, std::cref(c));
    rproc_bench::add(c.group + "/memcpy_table", bm_copy_table, std::cref(c));
  }
  static constexpr rproc_bench::comparison comparisons[] = {
      {"file-1MiB", "file-4KiB", 1.25},        // the file's size must not count
      {"file-16MiB", "file-4KiB", 1.25},
      {"sections-16384", "sections-1024", 0},  // linear in sections: about 16
      {"sections-1024", "sections-64", 0},
      {"rproc", "memcpy_table", 0},
  };
  return rproc_bench::run_benchmarks(argc, argv, comparisons);
}
