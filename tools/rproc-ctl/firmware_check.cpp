#include "firmware_check.hpp"

#include <rproc/elf.hpp>

#include <bit>

namespace ctl {

rproc::endian kernel_byte_order() noexcept {
  return std::endian::native == std::endian::big ? rproc::endian::big : rproc::endian::little;
}

firmware_check check_firmware(std::span<const std::byte> file, rproc::endian kernel_order) {
  firmware_check check;
  // The kernel loads ELF images only; a raw table is no firmware.
  if (!rproc::has_elf_magic(file)) {
    check.found.format = inspect::file_format::elf;
    check.refusal = rproc::error{rproc::errc::elf_bad_magic, 0, std::nullopt, 0};
    return check;
  }
  check.found = inspect::inspect_bytes(file, {});
  const auto& found = check.found;
  if (found.error) {
    check.refusal = found.error;
    return check;
  }
  const rproc::elf_image& image = *found.elf;
  if (image.order() != kernel_order) {
    // Linux refuses an image whose EI_DATA is not its own; a driver that skips the check
    // would read every table field byte-swapped.
    check.refusal = rproc::error{rproc::errc::byte_order_mismatch, rproc::elf::ei_data,
                                 std::nullopt, image.order() == rproc::endian::big ? 2u : 1u};
    return check;
  }
  bool loadable = false;
  for (const auto segment : image.segments()) loadable = loadable || segment.is_load();
  if (!loadable) {
    check.refusal = rproc::error{rproc::errc::elf_no_loadable_segments, image.layout().e_phnum,
                                 std::nullopt, image.segment_count()};
    return check;
  }
  if (!found.table) {
    // i.MX, R-Car and STM32 drivers boot such an image with no resources: no rpmsg, no trace.
    if (const auto empty = image.empty_table_warning()) check.refusal = *empty;
    else check.refusal = rproc::error{rproc::errc::no_resource_table, 0, std::nullopt, 0};
  }
  return check;
}

}  // namespace ctl
