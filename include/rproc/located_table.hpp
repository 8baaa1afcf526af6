// A resource table and where it is: its bytes, the byte order they are read in, the device
// address where the firmware keeps it and its offset in the file it came from, each where known.
// The ELF reader finds one in an image, a bootable image hands one to start(), a platform reports
// the live one at attach, and rproc-inspect says where one lies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "bytes.hpp"
#include "error.hpp"
#include "table.hpp"

namespace rproc {

template <class Byte>
struct basic_located_table {
  std::span<Byte> bytes{};
  endian order = endian::little;
  // Where the firmware has it (an ELF section's sh_addr).
  std::optional<detail::dependent_t<std::uint64_t, Byte>> da{};
  // In the file it was read from (sh_offset).
  std::optional<detail::dependent_t<std::size_t, Byte>> file_offset{};

  // Validates the table (parse_table); a fault's offset is in the file where that is known.
  constexpr result<basic_table_view<Byte>> parse(parse_options options = {}) const noexcept {
    auto parsed = parse_table_bytes(basic_byte_view<Byte>(bytes, order), options);
    if (parsed || !file_offset) return parsed;
    error e = parsed.error();
    e.offset += *file_offset;
    return e;
  }

  constexpr operator basic_located_table<detail::dependent_t<const std::byte, Byte>>()
      const noexcept
    requires(!std::is_const_v<Byte>)
  {
    return {bytes, order, da, file_offset};
  }
};

// A table read from an image or a file.
using located_table = basic_located_table<const std::byte>;
// A live table, which the host writes into (SPEC section 3).
using mutable_located_table = basic_located_table<std::byte>;

}  // namespace rproc
