// What every firmware image of the QEMU remote shares: the entries of its table (one rpmsg vdev
// with vring 1 fixed, a carveout, the trace buffer), its mailbox and trace buffer in the PSRAM the
// host maps (memory_map.hpp), and a log that goes to the semihosting console and the trace buffer.
#pragma once

#include <rproc/firmware.hpp>
#include <rproc/shared_mailbox.hpp>

#include <algorithm>
#include <cstddef>

#include "../../firmware/board.hpp"
#include "../memory_map.hpp"

namespace qemu_remote {

inline constexpr auto rpmsg_vdev =
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rproc::rsc::vring{.da = fixed_vring_da, .align = 16, .num = 8, .notifyid = 1});
inline constexpr rproc::rsc::carveout buffers{.len = 0x2000, .name = "qemu_remote_buffers"};
inline constexpr rproc::rsc::trace trace{.da = trace_da, .len = trace_len, .name = "qemu_remote_log"};

}  // namespace qemu_remote

[[gnu::section(".mailbox"), gnu::used]] alignas(4) inline std::byte
    mailbox_memory[rproc::shared_mailbox::size];
[[gnu::section(".trace_buffer"), gnu::used]] inline char trace_buffer[qemu_remote::trace_len];

namespace qemu_remote {

using line = rproc::text_buffer<96>;

inline void log(const line& text) {
  board::semihosting::write(text.c_str());
  board::semihosting::write("\n");
  const auto n = std::min<std::size_t>(text.view().size(), trace_len - 1);
  std::copy_n(text.view().data(), n, trace_buffer);
  trace_buffer[n] = '\0';
}

}  // namespace qemu_remote
