// What this kernel would do with a firmware image, decided before it is installed: rproc's ELF
// and table checks (SPEC section 2, as rproc-inspect makes them), then what Linux itself would
// refuse or misread: an image in the other byte order than the kernel's, an image with no
// loadable segment, and one it would boot with no resources (no table, or an empty section).
#pragma once

#include <rproc/bytes.hpp>
#include <rproc/error.hpp>

#include <cstddef>
#include <optional>
#include <span>

#include "inspect.hpp"

namespace ctl {

struct firmware_check {
  inspect::inspection found;            // the image as rproc-inspect reads it
  std::optional<rproc::error> refusal;  // the first reason not to boot it, offsets in the file
};

// The host's byte order, which is the kernel's on the board this runs on.
rproc::endian kernel_byte_order() noexcept;

firmware_check check_firmware(std::span<const std::byte> file, rproc::endian kernel_order);

}  // namespace ctl
