// The QEMU remote as a host program sees it: QEMU started with the firmware (qemu_process), its
// PSRAM mapped as two windows (the firmware's MiB, and the MiB set aside for the host's carveouts
// and vrings), the firmware's table found from its ELF image, the shared mailbox, all in one
// rproc::posix::mapped_platform (basic_remote: any of its types). Made once the firmware has set
// its mailbox up, as a boot loader would leave the core: running, with nobody attached.
#pragma once

#include <rproc/posix/mapped_platform.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "../memory_map.hpp"
#include "qemu_process.hpp"

namespace qemu_remote {

using platform = rproc::posix::mapped_platform<rproc::posix::shared_memory_mailbox>;

template <class Platform>
class basic_remote {
 public:
  static rproc::posix::outcome<basic_remote> start(const qemu_options& options,
                                             std::chrono::milliseconds boot_timeout =
                                                 std::chrono::seconds(10)) {
    using rproc::posix::failure;
    auto table = rproc::posix::table_from_elf_file(options.firmware);
    if (!table) return table.error();
    auto qemu = qemu_process::start(options);
    if (!qemu) return qemu.error();
    const rproc::posix::window windows[] = {
        {.da = firmware_window_da, .size = firmware_window_size, .file = qemu->shared_file()},
        {.da = pool_da, .size = pool_size, .file = qemu->shared_file(),
         .file_offset = pool_da - psram_da, .allocatable = true}};
    auto memory = rproc::posix::device_memory::map(windows);
    if (!memory) return memory.error();
    auto mailbox = rproc::posix::shared_memory_mailbox::at(*memory, mailbox_da);
    if (!mailbox) return mailbox.error();
    const auto deadline = std::chrono::steady_clock::now() + boot_timeout;
    while (!mailbox->remote_ready()) {
      int status = 0;
      if (!qemu->running(&status))
        return failure{{rproc::errc::system_error, 0, std::nullopt, 0},
                       options.qemu + " ended before the firmware was up (wait status " +
                           std::to_string(status) + "; its output: " + qemu->log() + ")"};
      if (std::chrono::steady_clock::now() > deadline)
        return failure{{rproc::errc::not_acknowledged, 0, std::nullopt, 0},
                       "the firmware's mailbox at " + rproc::posix::hex(mailbox_da) +
                           " was not ready after " + std::to_string(boot_timeout.count()) +
                           " ms (QEMU's output: " + qemu->log() + ")"};
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return basic_remote(std::move(*qemu), std::make_unique<Platform>(
                                              std::move(*memory), std::move(*table),
                                              std::move(*mailbox)));
  }

  Platform& board() noexcept { return *platform_; }
  qemu_process& qemu() noexcept { return qemu_; }

 private:
  basic_remote(qemu_process qemu, std::unique_ptr<Platform> p)
      : qemu_(std::move(qemu)), platform_(std::move(p)) {}

  qemu_process qemu_;                   // declared first: ended last, after the mappings go
  std::unique_ptr<Platform> platform_;
};
using remote = basic_remote<platform>;

}  // namespace qemu_remote
