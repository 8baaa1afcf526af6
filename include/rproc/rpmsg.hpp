// rpmsg over a vdev's two vrings (SPEC section 3), as Linux's virtio_rpmsg_bus and OpenAMP speak
// it: a 16-byte header before each message, name service announcements (40 bytes) to address
// 53 when both sides have VIRTIO_RPMSG_F_NS, vring 0 carrying the firmware's messages to the
// host and vring 1 the host's to the firmware, every buffer the host's. Both ends: host_bus (the
// virtio driver: fills vring 0 with empty buffers, sends on vring 1) and firmware_bus (the
// device: takes buffers from vring 0 to send, from vring 1 to receive). Endpoints are a fixed
// number of slots, each with a callback the caller keeps alive; nothing is allocated.
//
// Detach and re-attach: both sides forget their rings at detach(); the next attach() starts from
// index 0 on fresh rings, and the firmware announces its endpoints again.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "bytes.hpp"
#include "error.hpp"
#include "virtqueue.hpp"

namespace rproc::rpmsg {

inline constexpr std::uint32_t feature_name_service = 1u << 0;  // VIRTIO_RPMSG_F_NS
inline constexpr std::uint32_t name_service_address = 53;
inline constexpr std::uint32_t first_dynamic_address = 1024;  // 0..1023 are reserved
inline constexpr std::uint32_t address_any = 0xFFFFFFFF;
inline constexpr std::uint32_t default_buffer_size = 512;  // Linux's
inline constexpr std::uint32_t max_buffers = 256;          // per direction, Linux's
inline constexpr std::size_t name_size = 32;

namespace layout {
namespace header {
inline constexpr std::size_t src = 0, dst = 4, reserved = 8, len = 12, flags = 14, size = 16;
}
namespace announcement {
inline constexpr std::size_t name = 0, addr = 32, flags = 36, size = 40;
}
}  // namespace layout

struct header {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint32_t reserved = 0;
  std::uint16_t len = 0;  // of the payload that follows
  std::uint16_t flags = 0;

  friend constexpr bool operator==(const header&, const header&) = default;
};

enum class announcement_kind : std::uint32_t { create = 0, destroy = 1 };

// A name service message: a channel `name` at address `addr` was created or destroyed.
struct announcement {
  std::array<char, name_size> name{};  // NUL-padded; all 32 bytes are name when none is NUL
  std::uint32_t addr = 0;
  announcement_kind kind = announcement_kind::create;

  constexpr std::string_view name_view() const noexcept {
    std::size_t length = 0;
    while (length < name_size && name[length] != '\0') ++length;
    return {name.data(), length};
  }
  friend constexpr bool operator==(const announcement&, const announcement&) = default;
};

constexpr std::array<std::byte, layout::header::size> encode(const header& h, endian order) {
  std::array<std::byte, layout::header::size> bytes{};
  const mutable_byte_view v(bytes, order);
  (void)v.write_u32(layout::header::src, h.src);
  (void)v.write_u32(layout::header::dst, h.dst);
  (void)v.write_u32(layout::header::reserved, h.reserved);
  (void)v.write<std::uint16_t>(layout::header::len, h.len);
  (void)v.write<std::uint16_t>(layout::header::flags, h.flags);
  return bytes;
}
constexpr header decode_header(std::span<const std::byte, layout::header::size> bytes,
                               endian order) {
  const byte_view v(bytes, order);
  return {*v.u32(layout::header::src), *v.u32(layout::header::dst),
          *v.u32(layout::header::reserved), *v.u16(layout::header::len),
          *v.u16(layout::header::flags)};
}
constexpr std::array<std::byte, layout::announcement::size> encode(const announcement& a,
                                                                   endian order) {
  std::array<std::byte, layout::announcement::size> bytes{};
  for (std::size_t i = 0; i < name_size; ++i) bytes[i] = static_cast<std::byte>(a.name[i]);
  const mutable_byte_view v(bytes, order);
  (void)v.write_u32(layout::announcement::addr, a.addr);
  (void)v.write_u32(layout::announcement::flags, static_cast<std::uint32_t>(a.kind));
  return bytes;
}
// Flags other than 0 and 1 are refused (Linux reads only bit 0); `offset` is the payload's.
constexpr result<announcement> decode_announcement(
    std::span<const std::byte, layout::announcement::size> bytes, endian order,
    std::size_t offset = 0) {
  announcement a;
  for (std::size_t i = 0; i < name_size; ++i) a.name[i] = static_cast<char>(bytes[i]);
  const byte_view v(bytes, order);
  a.addr = *v.u32(layout::announcement::addr);
  const std::uint32_t flags = *v.u32(layout::announcement::flags);
  if (flags > 1)
    return error{errc::rpmsg_announcement_invalid, offset + layout::announcement::flags, {}, flags};
  a.kind = static_cast<announcement_kind>(flags);
  return a;
}

// A message as an endpoint receives it; the payload lies in a shared buffer, valid until the
// callback returns, and the other side may still write it: read each byte once.
struct message {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::span<const std::byte> payload{};
};

// A function, or a callable object the caller keeps alive, called through one pointer: no heap,
// no copy.
template <class Arg>
class callback {
 public:
  constexpr callback() noexcept = default;
  constexpr callback(void (*function)(const Arg&)) noexcept : function_(function) {}
  template <class F>
    requires(std::invocable<F&, const Arg&> && !std::is_function_v<F> &&
             !std::same_as<std::remove_cv_t<F>, callback>)
  constexpr callback(F& f) noexcept : target_(__builtin_addressof(f)), call_(&call<F>) {}

  constexpr explicit operator bool() const noexcept { return function_ || call_; }
  void operator()(const Arg& arg) const {
    if (function_) function_(arg);
    else if (call_) call_(target_, arg);
  }

 private:
  template <class F>
  static void call(const void* target, const Arg& arg) {
    (*static_cast<F*>(const_cast<void*>(target)))(arg);
  }
  void (*function_)(const Arg&) = nullptr;
  const void* target_ = nullptr;
  void (*call_)(const void*, const Arg&) = nullptr;
};

// Capacities of a bus, fixed at compile time.
struct limits {
  std::size_t endpoints = 8;
  std::size_t channels = 8;     // announced by the other side
  std::uint32_t max_num = 256;  // descriptors per vring
};

// What a bus needs at attach, from the vdev the host set up.
struct bus_config {
  std::array<vring_config, 2> vrings{};  // 0: firmware to host, 1: host to firmware
  memory_window rings{};                 // where the vrings lie
  // The host: memory it allocated for its buffers (vring 0's first, then vring 1's). The
  // firmware: where the host's buffers may lie (each buffer's size is its descriptor's).
  memory_window buffers{};
  std::uint32_t buffer_size = default_buffer_size;  // the host's
  std::uint32_t features = 0;                       // the vdev's gfeatures
  endian order = endian::little;                    // the table's
};

// The bus over a vdev as the host set it up: its vrings 0 and 1 and its gfeatures (the name
// service only when the host accepted it), from a vdev entry of the live table (an entry view)
// or from what firmware::vdev_link read at DRIVER_OK (a host_assignment). A vdev of fewer than
// two vrings is vring_layout_invalid naming the first vring missing.
template <class Vdev>
constexpr result<bus_config> bus_config_of(const Vdev& vdev, memory_window rings,
                                           memory_window buffers, endian order,
                                           std::uint32_t buffer_size = default_buffer_size) {
  bus_config config{{}, rings, buffers, buffer_size, 0, order};
  std::uint32_t vrings = 0;
  for (std::uint32_t i = 0; i < 2; ++i) {
    if constexpr (requires { vdev.vrings[i].da; }) {
      vrings = vdev.num_of_vrings;
      config.features = vdev.gfeatures;
      const auto& v = vdev.vrings[i];
      config.vrings[i] = {i, v.da, v.num, v.align, v.notifyid};
    } else {
      vrings = vdev.num_of_vrings();
      config.features = vdev.gfeatures();
      const auto v = vdev.vring(i);
      config.vrings[i] = {i, v.da(), v.num(), v.align(), v.notifyid()};
    }
  }
  if (vrings < 2) return error{errc::vring_layout_invalid, 0, vrings, vrings};
  return config;
}

namespace detail {

// Endpoints, channels and messages: what both ends of the bus do the same way.
template <limits Limits>
class bus_core {
 public:
  bool attached() const noexcept { return attached_; }
  bool name_service() const noexcept {
    return attached_ && (features_ & feature_name_service) != 0;
  }
  bool bound(std::uint32_t addr) const noexcept { return find(addr) != nullptr; }

  // Channels the other side announced (name service), in the order announced.
  std::span<const announcement> channels() const noexcept {
    return {channels_.data(), channel_count_};
  }
  std::optional<std::uint32_t> channel_address(std::string_view name) const noexcept {
    for (const announcement& c : channels())
      if (c.name_view() == name) return c.addr;
    return std::nullopt;
  }
  // Called for every announcement received, after the channel list changed.
  void on_announcement(callback<announcement> handler) noexcept { on_announcement_ = handler; }

 protected:
  struct endpoint {
    std::uint32_t addr = address_any;
    std::array<char, name_size> name{};
    std::size_t name_length = 0;
    callback<message> on_message{};
    bool announce = false;  // a create announcement is still to be sent

    std::string_view name_view() const noexcept { return {name.data(), name_length}; }
  };

  // Binds an endpoint at `addr`, or at the lowest free address from 1024; returns the address.
  result<std::uint32_t> bind(std::string_view name, callback<message> on_message,
                             std::uint32_t addr = address_any) noexcept {
    if (name.size() > name_size) return error{errc::name_too_long, 0, {}, name.size()};
    if (addr == address_any) {
      for (addr = first_dynamic_address; find(addr) != nullptr; ++addr) {}
    } else if (addr == name_service_address || find(addr) != nullptr) {
      return error{errc::rpmsg_address_unavailable, 0, {}, addr};
    }
    endpoint* slot = find(address_any);
    if (slot == nullptr) return error{errc::rpmsg_no_endpoint_slot, 0, {}, Limits.endpoints};
    *slot = endpoint{addr, {}, name.size(), on_message, false};
    for (std::size_t i = 0; i < name.size(); ++i) slot->name[i] = name[i];
    return addr;
  }

  endpoint* find(std::uint32_t addr) noexcept {
    for (endpoint& e : endpoints_)
      if (e.addr == addr) return &e;
    return nullptr;
  }
  const endpoint* find(std::uint32_t addr) const noexcept {
    return const_cast<bus_core*>(this)->find(addr);
  }

  void start(const bus_config& config) noexcept {
    attached_ = true;
    features_ = config.features;
    order_ = config.order;
    channel_count_ = 0;
  }
  void stop() noexcept {
    attached_ = false;
    channel_count_ = 0;
  }

  // Header and payload into `buffer`; the bytes used, or rpmsg_buffer_too_small.
  result<std::uint32_t> compose(std::span<std::byte> buffer, std::uint32_t ring,
                                std::uint32_t src, std::uint32_t dst,
                                std::span<const std::byte> payload) const noexcept {
    const std::size_t bytes = layout::header::size + payload.size();
    if (payload.size() > 0xFFFF || bytes > buffer.size())
      return error{errc::rpmsg_buffer_too_small, 0, ring, bytes};
    const auto head =
        encode(header{src, dst, 0, static_cast<std::uint16_t>(payload.size()), 0}, order_);
    // The payload may lie in a buffer the other side made overlap this one (an echo): moved
    // first, then the header, which cannot then change it.
    if (!payload.empty())
      __builtin_memmove(buffer.data() + head.size(), payload.data(), payload.size());
    __builtin_memcpy(buffer.data(), head.data(), head.size());
    return static_cast<std::uint32_t>(bytes);
  }

  // A received buffer (its bytes the sender wrote): checked, then handed to its endpoint or to
  // the name service. The header and an announcement are copied out once before any check.
  result<void> deliver(std::span<const std::byte> bytes, std::uint32_t ring) noexcept {
    if (bytes.size() < layout::header::size)
      return error{errc::rpmsg_buffer_too_small, 0, ring, bytes.size()};
    std::array<std::byte, layout::header::size> copy{};
    rproc::detail::read_shared_bytes(bytes, copy);
    const header h = decode_header(copy, order_);
    if (h.len > bytes.size() - layout::header::size)
      return error{errc::rpmsg_header_invalid, layout::header::len, ring, h.len};
    const auto payload = bytes.subspan(layout::header::size, h.len);
    if (h.dst == name_service_address && name_service()) return announced(payload, ring);
    const endpoint* target = find(h.dst);
    if (target == nullptr) return error{errc::rpmsg_no_endpoint, layout::header::dst, ring, h.dst};
    target->on_message(message{h.src, h.dst, payload});
    return {};
  }

  std::array<endpoint, Limits.endpoints> endpoints_{};
  std::uint32_t features_ = 0;
  endian order_ = endian::little;

 private:
  result<void> announced(std::span<const std::byte> payload, std::uint32_t ring) noexcept {
    if (payload.size() != layout::announcement::size)
      return error{errc::rpmsg_announcement_invalid, layout::header::len, ring, payload.size()};
    std::array<std::byte, layout::announcement::size> copy{};
    rproc::detail::read_shared_bytes(payload, copy);
    auto decoded = decode_announcement(copy, order_, layout::header::size);
    if (!decoded)
      return error{decoded.error().code, decoded.error().offset, ring, decoded.error().value};
    const announcement& a = *decoded;
    std::size_t known = 0;
    while (known < channel_count_ &&
           !(channels_[known].addr == a.addr && channels_[known].name == a.name))
      ++known;
    const bool listed = known < channel_count_;
    if (a.kind == announcement_kind::destroy && listed) {
      for (--channel_count_; known < channel_count_; ++known) channels_[known] = channels_[known + 1];
    } else if (a.kind == announcement_kind::create && !listed) {
      if (channel_count_ == Limits.channels)
        return error{errc::rpmsg_no_endpoint_slot, layout::header::size, ring, Limits.channels};
      channels_[channel_count_++] = a;
    }
    on_announcement_(a);
    return {};
  }

  std::array<announcement, Limits.channels> channels_{};
  std::size_t channel_count_ = 0;
  callback<announcement> on_announcement_{};
  bool attached_ = false;
};

}  // namespace detail
}  // namespace rproc::rpmsg
