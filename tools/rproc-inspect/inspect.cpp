#include "inspect.hpp"

namespace inspect {

namespace {

void inspect_elf(std::span<const std::byte> file, rproc::parse_options parse, inspection& found) {
  const auto image = rproc::read_elf(file);
  if (!image) {
    found.error = image.error();
    return;
  }
  found.elf = *image;
  found.order = image->order();
  found.located = image->resource_table();
  if (!found.located) {
    if (const auto w = image->empty_table_warning()) found.warnings.push_back(*w);
    return;
  }
  const auto parsed = found.located->parse(parse);
  if (!parsed) {
    found.error = parsed.error();
    return;
  }
  found.table = *parsed;
}

void inspect_raw(std::span<const std::byte> file, const options& options,
                 rproc::parse_options parse, inspection& found) {
  found.order = options.big_endian ? rproc::endian::big : rproc::endian::little;
  found.located = rproc::located_table{file, found.order, std::nullopt, 0};
  const auto parsed = found.located->parse(parse);
  if (!parsed) {
    found.error = parsed.error();
    return;
  }
  found.table = *parsed;
}

}  // namespace

inspection inspect_bytes(std::span<const std::byte> file, const options& options) {
  inspection found;
  const rproc::parse_options parse{.strict = options.strict};
  if (!options.raw && rproc::has_elf_magic(file)) {
    found.format = file_format::elf;
    inspect_elf(file, parse, found);
  } else {
    found.format = file_format::raw;
    inspect_raw(file, options, parse, found);
  }
  if (found.table) {
    // The table reports offsets from its first byte; the inspector speaks of the file.
    for (rproc::warning w : found.table->warnings()) {
      w.offset += found.located->file_offset.value_or(0);
      found.warnings.push_back(w);
    }
  }
  return found;
}

exit_status status_of(const inspection& found) {
  if (found.error) return exit_status::malformed;
  if (!found.table) return exit_status::no_table;
  return exit_status::valid;
}

}  // namespace inspect
