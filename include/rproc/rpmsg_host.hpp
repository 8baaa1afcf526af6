// The host's end of rpmsg (rpmsg.hpp): the virtio driver of the vdev. It provides every buffer
// (fixed-size, in memory it allocated): vring 0's are empty ones the firmware fills, vring 1's
// carry the host's messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "error.hpp"
#include "platform.hpp"
#include "rpmsg.hpp"
#include "virtqueue.hpp"

namespace rproc::rpmsg {

// The host's bus over a vdev the lifecycle is setting up (a platform's set_up_vdev, before
// DRIVER_OK): vrings 0 and 1 where it placed them, the vdev's gfeatures and byte order, and
// `buffers`, memory the host allocated for its buffers (as Linux: the vdev's buffer carveout).
// The rings' window spans both vrings, which must lie in one mapping (the same distance from
// device address to host address); otherwise vring_layout_invalid names the vring.
inline result<bus_config> bus_config_of(const vdev_setup& vdev, memory_window buffers,
                                        std::uint32_t buffer_size = default_buffer_size) noexcept {
  if (vdev.vrings.size() < 2)
    return error{errc::vring_layout_invalid, 0, static_cast<std::uint32_t>(vdev.vrings.size()),
                 vdev.vrings.size()};
  const vring_record& low = vdev.vrings[0].region.da <= vdev.vrings[1].region.da ? vdev.vrings[0]
                                                                                 : vdev.vrings[1];
  const vring_record& high = &low == &vdev.vrings[0] ? vdev.vrings[1] : vdev.vrings[0];
  const auto offset = [](const vring_record& r) {
    return reinterpret_cast<std::uintptr_t>(r.region.va.data()) - r.region.da;
  };
  for (const vring_record& r : vdev.vrings.first(2))
    if (r.region.va.size() < r.region.len || offset(r) != offset(low))
      return error{errc::vring_layout_invalid, 0, r.index, r.region.da};
  const std::uint64_t low_end = std::uint64_t{low.region.da} + low.region.len;
  const std::uint64_t high_end = std::uint64_t{high.region.da} + high.region.len;
  const std::uint64_t end = low_end > high_end ? low_end : high_end;
  bus_config config{{}, {low.region.da, {low.region.va.data(), end - low.region.da}}, buffers,
                    buffer_size, vdev.gfeatures, vdev.order};
  for (std::uint32_t i = 0; i < 2; ++i) {
    const vring_record& v = vdev.vrings[i];
    config.vrings[i] = {i, v.region.da, v.num, v.align, v.notifyid};
  }
  return config;
}

// The host's end (the virtio driver). attach() must run before the firmware may look at the
// rings (before DRIVER_OK): it lays them out afresh and fills vring 0 with empty buffers.
template <platform_can_kick Notifier, limits Limits = limits{}>
class host_bus : public detail::bus_core<Limits> {
  using core = detail::bus_core<Limits>;

 public:
  explicit host_bus(Notifier& notifier) noexcept : notifier_(&notifier) {}

  result<void> attach(const bus_config& config) noexcept {
    detach();
    if (config.buffer_size <= layout::header::size)
      return error{errc::rpmsg_buffer_too_small, 0, {}, config.buffer_size};
    if (auto r = rx_.attach(config.rings, config.vrings[0], config.buffers, config.order); !r)
      return r;
    if (auto r = tx_.attach(config.rings, config.vrings[1], config.buffers, config.order); !r) {
      detach();
      return r;
    }
    rx_count_ = config.vrings[0].num < max_buffers ? config.vrings[0].num : max_buffers;
    tx_count_ = config.vrings[1].num < max_buffers ? config.vrings[1].num : max_buffers;
    const std::uint64_t bytes = std::uint64_t{rx_count_ + tx_count_} * config.buffer_size;
    if (bytes > config.buffers.bytes.size()) {
      detach();
      return error{errc::out_of_memory, 0, {}, bytes};
    }
    buffer_size_ = config.buffer_size;
    tx_base_ = config.buffers.da + std::uint64_t{rx_count_} * buffer_size_;
    tx_fresh_ = 0;
    for (std::uint32_t i = 0; i < rx_count_; ++i) {
      const buffer_segment empty{config.buffers.da + std::uint64_t{i} * buffer_size_, buffer_size_,
                                 true};
      if (auto r = rx_.add({&empty, 1}); !r) {
        detach();
        return r.error();
      }
    }
    core::start(config);
    return {};
  }
  // Forgets the rings and the channels the firmware announced; endpoints stay bound.
  void detach() noexcept {
    rx_.detach();
    tx_.detach();
    core::stop();
  }

  result<std::uint32_t> create_endpoint(std::string_view name, callback<message> on_message,
                                        std::uint32_t addr = address_any) noexcept {
    return core::bind(name, on_message, addr);
  }
  void destroy_endpoint(std::uint32_t addr) noexcept {
    if (auto* e = core::find(addr)) *e = {};
  }

  // One message from `src` to `dst` on vring 1, then a kick.
  result<void> send(std::uint32_t src, std::uint32_t dst,
                    std::span<const std::byte> payload) noexcept {
    if (!core::attached()) return error{errc::invalid_state, 0, 1, 0};
    const std::size_t bytes = layout::header::size + payload.size();
    if (payload.size() > 0xFFFF || bytes > buffer_size_)
      return error{errc::rpmsg_buffer_too_small, 0, 1, bytes};
    std::uint64_t da = tx_base_ + std::uint64_t{tx_fresh_} * buffer_size_;
    if (tx_fresh_ < tx_count_) {
      ++tx_fresh_;
    } else {
      const auto used = tx_.take_used();
      if (!used) return used.error();
      if (!*used) return error{errc::rpmsg_no_buffer, 0, 1, 0};
      da = tx_.descriptor((*used)->head).da;
    }
    const auto composed =
        core::compose(*tx_.buffers().find(da, buffer_size_), 1, src, dst, payload);
    const buffer_segment filled{da, *composed, false};
    if (auto added = tx_.add({&filled, 1}); !added) return added.error();
    return tx_.notify(*notifier_);
  }

  // Delivers every message the firmware sent, gives their buffers back to vring 0 and kicks it;
  // the number delivered. A fault stops at the faulty message, its buffer given back.
  result<std::uint32_t> poll() noexcept {
    if (!core::attached()) return error{errc::invalid_state, 0, 0, 0};
    std::uint32_t delivered = 0;
    result<void> outcome;
    for (;;) {
      const auto used = rx_.take_used();
      if (!used) {
        outcome = used.error();
        break;
      }
      if (!*used) break;
      const buffer_segment buffer = rx_.descriptor((*used)->head);
      const auto bytes = rx_.buffers().find(buffer.da, buffer.length);
      outcome = core::deliver(bytes->first((*used)->length), 0);
      if (auto again = rx_.add({&buffer, 1}); !again) outcome = again.error();
      if (!outcome) break;
      ++delivered;
    }
    if (delivered > 0 || !outcome) {
      if (auto kicked = rx_.notify(*notifier_); !kicked && outcome) outcome = kicked;
    }
    if (!outcome) return outcome.error();
    return delivered;
  }

  const virtqueue_driver<Limits.max_num>& vring(std::uint32_t index) const noexcept {
    return index == 0 ? rx_ : tx_;
  }

 private:
  virtqueue_driver<Limits.max_num> rx_{};  // vring 0
  virtqueue_driver<Limits.max_num> tx_{};  // vring 1
  Notifier* notifier_;
  std::uint32_t buffer_size_ = 0;
  std::uint32_t rx_count_ = 0;
  std::uint32_t tx_count_ = 0;
  std::uint32_t tx_fresh_ = 0;  // tx buffers never used yet
  std::uint64_t tx_base_ = 0;
};

}  // namespace rproc::rpmsg
