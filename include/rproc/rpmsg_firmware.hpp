// The firmware's end of rpmsg (rpmsg.hpp): the virtio device of the vdev. It sends in buffers
// the host made available on vring 0 and receives those it made available on vring 1; every
// buffer is the host's, checked to lie in the shared memory before it is touched.
//
//   rproc::rpmsg::firmware_bus<mailbox> bus(mailbox);
//   auto echo = bus.create_endpoint("rpmsg-echo", on_echo);     // announced at every attach
//   // once the table shows DRIVER_OK (firmware::vdev_link): bus.attach(config)
//   // on a kick, or in the main loop: bus.poll(); at the host's detach: bus.detach()
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "error.hpp"
#include "rpmsg.hpp"
#include "virtqueue.hpp"

namespace rproc::rpmsg {

template <platform_can_kick Notifier, limits Limits = limits{}>
class firmware_bus : public detail::bus_core<Limits> {
  using core = detail::bus_core<Limits>;

 public:
  explicit firmware_bus(Notifier& notifier) noexcept : notifier_(&notifier) {}

  // Starts from index 0 on the rings the host laid out, then announces every named endpoint
  // (when the host negotiated the name service). An announcement that cannot be sent yet (no
  // buffer, or a fault of vring 0) waits for poll(), which sends it or reports the fault.
  result<void> attach(const bus_config& config) noexcept {
    detach();
    if (auto r = tx_.attach(config.rings, config.vrings[0], config.buffers, config.order); !r)
      return r;
    if (auto r = rx_.attach(config.rings, config.vrings[1], config.buffers, config.order); !r) {
      tx_.detach();
      return r;
    }
    core::start(config);
    for (auto& e : core::endpoints_)
      e.announce = e.addr != address_any && e.name_length > 0 && core::name_service();
    (void)announce_pending();
    return {};
  }
  // The host detached: forget the rings (and any buffer held); endpoints stay bound and are
  // announced again at the next attach.
  void detach() noexcept {
    tx_.detach();
    rx_.detach();
    held_.reset();
    core::stop();
  }

  // A named endpoint is announced to the host: now if attached (or at the next poll() if that
  // cannot be yet), else at the next attach.
  result<std::uint32_t> create_endpoint(std::string_view name, callback<message> on_message,
                                        std::uint32_t addr = address_any) noexcept {
    const auto bound = core::bind(name, on_message, addr);
    if (!bound) return bound;
    core::find(*bound)->announce = !name.empty() && core::name_service();
    (void)announce_pending();
    return bound;
  }
  // Unbinds, after announcing the destruction if the creation was announced; if no buffer is
  // free for it, the endpoint stays bound and the error says so.
  result<void> destroy_endpoint(std::uint32_t addr) noexcept {
    auto* e = core::find(addr);
    if (e == nullptr) return error{errc::rpmsg_no_endpoint, 0, {}, addr};
    if (core::name_service() && e->name_length > 0 && !e->announce) {
      if (auto sent = announce(*e, announcement_kind::destroy); !sent) return sent;
    }
    *e = {};
    return {};
  }

  // One message from `src` to `dst` in a buffer from vring 0, then a kick. A buffer too small
  // for this message is kept for the next one.
  result<void> send(std::uint32_t src, std::uint32_t dst,
                    std::span<const std::byte> payload) noexcept {
    if (!core::attached()) return error{errc::invalid_state, 0, 0, 0};
    taken_segment buffer{};
    if (held_) {
      buffer = *held_;
      held_.reset();
    } else {
      std::array<taken_segment, 1> taken{};
      const auto chain = tx_.take(taken);
      if (!chain) return chain.error();
      if (!*chain) return error{errc::rpmsg_no_buffer, 0, 0, 0};
      buffer = taken[0];
    }
    const std::size_t flags_at =
        vring_layout::descriptor(buffer.descriptor) + rproc::layout::descriptor::flags;
    if (!buffer.device_writable || buffer.bytes.size() < layout::header::size) {
      (void)tx_.put(buffer.descriptor, 0);  // unusable: given back unwritten
      if (!buffer.device_writable) return error{errc::descriptor_flags_invalid, flags_at, 0, 0};
      return error{errc::rpmsg_buffer_too_small, 0, 0, buffer.bytes.size()};
    }
    const auto composed = core::compose(buffer.bytes, 0, src, dst, payload);
    if (!composed) {
      held_ = buffer;
      return composed.error();
    }
    if (auto put = tx_.put(buffer.descriptor, *composed); !put) return put;
    return tx_.notify(*notifier_);
  }

  // Sends the announcements still pending, then delivers every message the host sent and gives
  // its buffers back on vring 1 (with a kick); the number delivered. A fault stops at the
  // faulty message, its buffer given back.
  result<std::uint32_t> poll() noexcept {
    if (!core::attached()) return error{errc::invalid_state, 0, 1, 0};
    if (auto sent = announce_pending(); !sent) return sent.error();
    std::uint32_t delivered = 0;
    bool returned = false;
    result<void> outcome;
    for (;;) {
      std::array<taken_segment, 1> taken{};
      const auto chain = rx_.take(taken);
      if (!chain) {
        outcome = chain.error();
        break;
      }
      if (!*chain) break;
      const taken_segment& buffer = taken[0];
      if (buffer.device_writable)
        outcome =
            error{errc::descriptor_flags_invalid,
                  vring_layout::descriptor(buffer.descriptor) + rproc::layout::descriptor::flags, 1,
                  virtio::descriptor_write};
      else
        outcome = core::deliver(buffer.bytes, 1);
      if (auto put = rx_.put(buffer.descriptor, 0); !put && outcome) outcome = put;
      returned = true;
      if (!outcome) break;
      ++delivered;
    }
    if (returned) {
      if (auto kicked = rx_.notify(*notifier_); !kicked && outcome) outcome = kicked;
    }
    if (!outcome) return outcome.error();
    return delivered;
  }

  const virtqueue_device<Limits.max_num>& vring(std::uint32_t index) const noexcept {
    return index == 0 ? tx_ : rx_;
  }

 private:
  result<void> announce(const typename core::endpoint& e, announcement_kind kind) noexcept {
    announcement a{{}, e.addr, kind};
    for (std::size_t i = 0; i < e.name_length; ++i) a.name[i] = e.name[i];
    const auto bytes = encode(a, core::order_);
    return send(e.addr, name_service_address, bytes);
  }
  // Announces endpoints still waiting for it; without a free buffer they wait for poll().
  result<void> announce_pending() noexcept {
    for (auto& e : core::endpoints_) {
      if (!e.announce) continue;
      const auto sent = announce(e, announcement_kind::create);
      if (!sent && sent.error().code == errc::rpmsg_no_buffer) return {};
      if (!sent) return sent;
      e.announce = false;
    }
    return {};
  }

  virtqueue_device<Limits.max_num> tx_{};  // vring 0
  virtqueue_device<Limits.max_num> rx_{};  // vring 1
  std::optional<taken_segment> held_{};
  Notifier* notifier_;
};

}  // namespace rproc::rpmsg
