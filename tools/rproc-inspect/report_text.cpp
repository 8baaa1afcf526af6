#include <rproc/fmt.hpp>

#include <fmt/format.h>

#include <iterator>
#include <string>

#include "report.hpp"

namespace inspect {

std::string text_report(const inspection& found, std::string_view path, std::size_t size) {
  std::string out;
  auto it = std::back_inserter(out);
  // The path is printed as given, with any byte that could drive a terminal escaped.
  it = fmt::format_to(it, "File:     {}\n", rproc::escaped{path});

  if (found.format == file_format::raw) {
    it = fmt::format_to(it, "Format:   raw resource table, {}-endian, {} bytes\n",
                        found.order == rproc::endian::big ? "big" : "little", size);
  } else if (found.elf) {
    it = fmt::format_to(it, "Format:   {}\n", *found.elf);
    if (const auto section = found.elf->table_section())
      it = fmt::format_to(it,
                          "Section:  .resource_table [{}] at file offset {:#x}, address {:#x}, "
                          "{} bytes\n",
                          section->index, section->offset, section->addr, section->size);
  } else {
    it = fmt::format_to(it, "Format:   ELF image\n");
  }

  if (found.error) {
    fmt::format_to(it, "\nError: {}\n", *found.error);
    return out;
  }
  if (found.table) {
    it = fmt::format_to(it, "\n{}\n", *found.table);
  } else if (found.elf && found.elf->table_section()) {
    it = fmt::format_to(it, "\nResource table: none (the .resource_table section is empty)\n");
  } else {
    it = fmt::format_to(it, "\nResource table: none (no .resource_table section)\n");
  }
  if (!found.warnings.empty()) it = fmt::format_to(it, "\n");
  for (const auto& w : found.warnings) it = fmt::format_to(it, "Warning: {}\n", w);
  return out;
}

}  // namespace inspect
