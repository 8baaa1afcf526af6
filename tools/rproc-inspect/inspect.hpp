// What rproc-inspect finds in a file: one model, from which the text and the JSON reports are
// both made (SPEC section 5).
#pragma once

#include <rproc/elf.hpp>
#include <rproc/error.hpp>
#include <rproc/located_table.hpp>
#include <rproc/table.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace inspect {

struct options {
  bool strict = false;      // an unknown resource type is an error
  bool raw = false;         // a raw table even when the file starts with the ELF magic
  bool big_endian = false;  // the byte order of a raw table
};

enum class file_format { elf, raw };

// Everything refers to the bytes inspected, which must outlive it. Offsets of the warnings and
// of the error are offsets in the file.
struct inspection {
  file_format format = file_format::raw;
  rproc::endian order = rproc::endian::little;  // in which the table is read
  std::optional<rproc::elf_image> elf;  // an image that passed every ELF check
  // The table and where it is in the file (a raw table: at offset 0, with no address), and the
  // table parsed, when it is valid.
  std::optional<rproc::located_table> located;
  std::optional<rproc::table_view> table;
  std::vector<rproc::warning> warnings;
  std::optional<rproc::error> error;
};

enum exit_status : int { valid = 0, malformed = 1, usage_or_io_error = 2, no_table = 3 };

// An ELF image (detected by its magic, unless options.raw) or a raw table.
inspection inspect_bytes(std::span<const std::byte> file, const options& options);

exit_status status_of(const inspection& found);

}  // namespace inspect
