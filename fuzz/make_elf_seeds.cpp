// Writes, for each table file given, four small ELF images holding it (ELF32 and ELF64, little-
// and big-endian; the big-endian table byte-swapped field by field): the fuzzers' image seeds.
//   make_elf_seeds OUTPUT_DIR TABLE.rsc...  ->  OUTPUT_DIR/NAME-elf32-little.elf ...
#include <rproc/elf.hpp>
#include <rproc/table.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "elf_writer.hpp"
#include "fuzz_support.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_elf_seeds OUTPUT_DIR TABLE...\n");
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  std::filesystem::create_directories(out_dir);
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path path = argv[i];
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> little(chars.size());
    for (std::size_t k = 0; k < chars.size(); ++k) little[k] = static_cast<std::byte>(chars[k]);

    const auto parsed = rproc::parse_table(little);
    const std::uint32_t entries = parsed ? parsed->num() : 0;
    const auto big = fuzz::field_map(little, rproc::endian::little, entries).swapped();

    for (const auto ident_class : {rproc::elf::class32, rproc::elf::class64}) {
      for (const auto order : {rproc::endian::little, rproc::endian::big}) {
        const auto image = fx::make_image(order == rproc::endian::little ? little : big,
                                          {.ident_class = ident_class, .order = order});
        const std::string name = path.stem().string() + "-elf" +
                                 (ident_class == rproc::elf::class64 ? "64" : "32") +
                                 (order == rproc::endian::little ? "-little" : "-big") + ".elf";
        std::ofstream(out_dir / name, std::ios::binary)
            .write(reinterpret_cast<const char*>(image.data()),
                   static_cast<std::streamsize>(image.size()));
      }
    }
  }
  return 0;
}
