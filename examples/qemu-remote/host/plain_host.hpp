// The timing baseline: what a hand-written host for this one firmware does at attach and detach,
// with the field offsets of SPEC section 1 written in and the addresses rproc chose reused, no
// parsing, checking or bookkeeping. The same writes as rproc's, with the same store discipline:
// a copy of the table at attach, notify ids, the carveout's pa/da/len, the vrings zeroed and
// their da, gfeatures and the status steps, DRIVER_OK last with release order; at detach status
// 0 first, then the copy written back, then the detach message, acknowledged.
#pragma once

#include <rproc/lifecycle.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "qemu_remote.hpp"

namespace qemu_remote {

class plain_host {
 public:
  // While `proc` is attached: its addresses, and where the fields are in its table.
  plain_host(platform& board, const rproc::processor<platform>& proc)
      : board_(&board), live_(board.live_table()), copy_(live_.size()) {
    const auto table = proc.current_table();
    for (const auto entry : *table) {
      if (entry.template as<rproc::carveout_entry>()) carveout_ = entry.offset();
      if (entry.template as<rproc::vdev_entry>()) vdev_ = entry.offset();
    }
    const auto carveout = proc.resources().carveouts()[0].region;
    carveout_da_ = carveout.da;
    carveout_pa_ = carveout.pa;
    carveout_len_ = static_cast<std::uint32_t>(carveout.len);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto region = proc.resources().vrings()[i].region;
      vring_da_[i] = region.da;
      vring_memory_[i] = region.va;
    }
    gfeatures_ = proc.resources().vdevs()[0].gfeatures;
  }

  std::span<std::byte> vring0() const noexcept { return vring_memory_[0]; }

  void attach() {
    std::memcpy(copy_.data(), live_.data(), live_.size());
    for (std::uint32_t i = 0; i < 2; ++i) word(vdev_ + 28 + 20 * i + 12, i);  // notifyid
    word(carveout_ + 8, carveout_pa_);
    word(carveout_ + 4, carveout_da_);
    word(carveout_ + 12, carveout_len_);
    for (std::size_t i = 0; i < 2; ++i) {
      std::memset(vring_memory_[i].data(), 0, vring_memory_[i].size());
      word(vdev_ + 28 + 20 * i, vring_da_[i]);
    }
    status(1, __ATOMIC_RELAXED);
    status(3, __ATOMIC_RELAXED);
    word(vdev_ + 16, gfeatures_);
    status(0xb, __ATOMIC_RELAXED);
    status(0xf, __ATOMIC_RELEASE);
    (void)board_->mailbox().post({rproc::notification_kind::attach, 0});
  }

  // Whether the firmware acknowledged the detach within a second.
  bool detach() {
    status(0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (std::size_t i = 0; i < live_.size(); ++i)
      if (live_[i] != copy_[i])
        __atomic_store_n(reinterpret_cast<unsigned char*>(&live_[i]),
                         static_cast<unsigned char>(copy_[i]), __ATOMIC_RELAXED);
    const auto sequence = board_->mailbox().post({rproc::notification_kind::detach, 0});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (sequence && !board_->mailbox().acknowledged(*sequence))
      if (std::chrono::steady_clock::now() > deadline) return false;
    return sequence.has_value();
  }

 private:
  void word(std::size_t at, std::uint32_t v) noexcept {
    __atomic_store_n(reinterpret_cast<std::uint32_t*>(live_.data() + at), v, __ATOMIC_RELAXED);
  }
  void status(std::uint8_t v, int order) noexcept {
    __atomic_store_n(reinterpret_cast<std::uint8_t*>(live_.data() + vdev_ + 24), v, order);
  }

  platform* board_;
  std::span<std::byte> live_;
  std::vector<std::byte> copy_;
  std::size_t carveout_ = 0, vdev_ = 0;
  std::uint32_t carveout_da_ = 0, carveout_pa_ = 0, carveout_len_ = 0, gfeatures_ = 0;
  std::uint32_t vring_da_[2] = {};
  std::span<std::byte> vring_memory_[2];
};

}  // namespace qemu_remote
