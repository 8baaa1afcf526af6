// What start() needs of a firmware image: where the core begins, the image's resource table and
// where the firmware expects it, and a loader that writes the image into device memory.
// rproc::elf_image is one; any type with these members is one too.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "error.hpp"
#include "loader.hpp"
#include "located_table.hpp"

namespace rproc {

template <class I>
concept bootable_image = requires(const I& image, const address_translator& translate) {
  { image.boot_address() } -> std::convertible_to<std::uint64_t>;
  // The image's table with the device address where the firmware expects it, or nothing when
  // the image has none.
  { image.resource_table() } -> std::same_as<std::optional<located_table>>;
  // Loads every segment through `translate`, writing nothing unless all of them fit.
  { image.load(translate) } -> std::same_as<result<void>>;
};

}  // namespace rproc
