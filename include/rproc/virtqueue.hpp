// The virtio split ring of SPEC section 3 in memory shared with another processor, in both roles:
// the driver (the host: adds buffers, reads back what the device used) and the device (the
// firmware: takes the buffers the driver made available, returns them used). Neither side trusts
// the other: every index, descriptor and length read from the ring is read once and checked
// before use, and a fault is an error naming the vring (entry) and the byte offset of the faulty
// field in the ring's memory. Freestanding, no heap: each role keeps its own record of the
// descriptors, up to MaxNum of them, and never reads back what only it writes.
//
// Ordering (shared_memory.hpp): ring entries are written before the index that publishes them (a
// release store) and read only after it (an acquire load); every other word is read and written
// once, through volatile bytes. The ring is 16-byte aligned and align a power of two, so that the
// index words are 2-byte aligned.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bytes.hpp"
#include "error.hpp"
#include "platform.hpp"
#include "resources.hpp"
#include "shared_memory.hpp"

namespace rproc {

namespace virtio {
inline constexpr std::uint16_t descriptor_next = 1;
inline constexpr std::uint16_t descriptor_write = 2;     // the device writes this buffer
inline constexpr std::uint16_t descriptor_indirect = 4;  // never negotiated by rpmsg: refused
inline constexpr std::uint32_t max_queue_size = 32768;
}  // namespace virtio

namespace layout {
namespace descriptor {
inline constexpr std::size_t addr = 0, len = 8, flags = 12, next = 14, size = 16;
}
namespace used_element {
inline constexpr std::size_t id = 0, len = 4, size = 8;
}
}  // namespace layout

// Where each part of a split ring lies, from its first byte. The used ring is what ends the
// ring (flags, idx, num elements, avail_event): it starts where vring_size puts its end.
struct vring_layout {
  std::uint32_t num = 0;
  std::uint32_t align = 0;

  constexpr std::size_t size() const noexcept {
    return static_cast<std::size_t>(vring_size(num, align));
  }
  static constexpr std::size_t descriptor(std::uint32_t id) noexcept {
    return layout::descriptor::size * id;
  }
  constexpr std::size_t avail_flags() const noexcept { return descriptor(num); }
  constexpr std::size_t avail_idx() const noexcept { return avail_flags() + 2; }
  constexpr std::size_t avail_ring(std::uint32_t slot) const noexcept {
    return avail_flags() + 4 + std::size_t{2} * slot;
  }
  constexpr std::size_t used_flags() const noexcept {
    return size() - (6 + layout::used_element::size * num);
  }
  constexpr std::size_t used_idx() const noexcept { return used_flags() + 2; }
  constexpr std::size_t used_ring(std::uint32_t slot) const noexcept {
    return used_flags() + 4 + layout::used_element::size * slot;
  }
};

// One vring as its vdev describes it once the host placed it.
struct vring_config {
  std::uint32_t index = 0;  // the vring's number in its vdev (rpmsg: 0 and 1), named in errors
  std::uint64_t da = 0;     // where the ring lies
  std::uint32_t num = 0;
  std::uint32_t align = 0;
  std::uint32_t notifyid = 0;  // what a kick about this ring carries, either way
};

// A buffer of a chain as the driver describes it.
struct buffer_segment {
  std::uint64_t da = 0;
  std::uint32_t length = 0;
  bool device_writable = false;

  friend constexpr bool operator==(const buffer_segment&, const buffer_segment&) = default;
};

// A buffer the device took: the bytes its descriptor names, checked to lie in shared memory.
struct taken_segment {
  std::uint16_t descriptor = 0;
  std::span<std::byte> bytes{};
  bool device_writable = false;
};

// What the device returned: the chain's head and how many bytes it wrote.
struct used_buffer {
  std::uint16_t head = 0;
  std::uint32_t length = 0;
};

// A chain the device took: its head (to return it), its segments and byte counts.
struct available_chain {
  std::uint16_t head = 0;
  std::uint32_t segments = 0;
  std::uint64_t readable = 0;
  std::uint64_t writable = 0;
};

namespace detail {

// What both roles share: the ring's memory and layout, the buffers' window, the byte order.
template <std::uint32_t MaxNum>
class vring_memory {
  static_assert(MaxNum > 0 && MaxNum <= virtio::max_queue_size && (MaxNum & (MaxNum - 1)) == 0,
                "MaxNum is a power of two up to 32768");

 public:
  bool attached() const noexcept { return !ring_.empty(); }
  const vring_config& config() const noexcept { return config_; }
  vring_layout layout() const noexcept { return {config_.num, config_.align}; }
  endian order() const noexcept { return order_; }
  std::span<std::byte> ring() const noexcept { return ring_; }
  const memory_window& buffers() const noexcept { return buffers_; }

  // The other side is told through the platform's kick, with this vring's notify id.
  template <platform_can_kick Notifier>
  result<void> notify(Notifier& notifier) const {
    return notifier.kick(config_.notifyid);
  }

 protected:
  // num a power of two (free-running indices wrap at 65536 onto the same slot), up to MaxNum;
  // align a power of two; the ring inside `rings`, 16-byte aligned.
  result<void> map(memory_window rings, vring_config config, memory_window buffers,
                   endian order) noexcept {
    ring_ = {};
    config_ = config;
    const auto bad = [&](std::uint64_t value) {
      return error{errc::vring_layout_invalid, 0, config.index, value};
    };
    if (config.num == 0 || config.num > MaxNum || (config.num & (config.num - 1)) != 0)
      return bad(config.num);
    if (config.align == 0 || (config.align & (config.align - 1)) != 0) return bad(config.align);
    const auto ring = rings.find(config.da, vring_size(config.num, config.align));
    if (!ring || reinterpret_cast<std::uintptr_t>(ring->data()) % 16 != 0) return bad(config.da);
    ring_ = *ring;
    buffers_ = buffers;
    order_ = order;
    return {};
  }
  void unmap() noexcept { ring_ = {}; }

  error fault(errc code, std::size_t offset, std::uint64_t value) const noexcept {
    return {code, offset, config_.index, value};
  }
  error not_attached() const noexcept { return {errc::invalid_state, 0, config_.index, 0}; }
  std::uint32_t slot(std::uint16_t index) const noexcept { return index & (config_.num - 1); }

  template <class Unsigned>
  Unsigned read(std::size_t offset) const noexcept {
    return read_shared<Unsigned>(ring_.data() + offset, order_);
  }
  template <class Unsigned>
  void write(std::size_t offset, Unsigned value) const noexcept {
    write_shared<Unsigned>(ring_.data() + offset, value, order_);
  }
  std::uint16_t acquire(std::size_t offset) const noexcept {
    return acquire_u16(ring_.data() + offset, order_);
  }
  void release(std::size_t offset, std::uint16_t value) const noexcept {
    release_u16(ring_.data() + offset, value, order_);
  }

  static constexpr std::uint16_t none = 0xFFFF;  // no successor (num is at most 32768)

 private:
  std::span<std::byte> ring_{};
  vring_config config_{};
  memory_window buffers_{};
  endian order_ = endian::little;
};

}  // namespace detail

// The driver's side of one vring (the host). attach() lays out a fresh ring (zeroed, indices 0):
// it must happen before the device may look at the ring (before DRIVER_OK). The driver keeps
// what it wrote into each descriptor and reads from shared memory only the used ring.
template <std::uint32_t MaxNum = 256>
class virtqueue_driver : public detail::vring_memory<MaxNum> {
  using base = detail::vring_memory<MaxNum>;

 public:
  result<void> attach(memory_window rings, vring_config config, memory_window buffers,
                      endian order) noexcept {
    if (auto mapped = base::map(rings, config, buffers, order); !mapped) return mapped;
    const auto ring = base::ring();
    __builtin_memset(ring.data(), 0, ring.size());
    for (std::uint32_t id = 0; id < config.num; ++id) {
      descriptors_[id] = {};
      descriptors_[id].next = static_cast<std::uint16_t>(id + 1 < config.num ? id + 1 : base::none);
      in_flight_[id] = false;
    }
    free_head_ = 0;
    free_count_ = config.num;
    in_flight_count_ = 0;
    avail_idx_ = 0;
    last_used_ = 0;
    return {};
  }
  // Forgets the ring: nothing more is read or written until the next attach.
  void detach() noexcept { base::unmap(); }

  std::uint32_t free_descriptors() const noexcept { return free_count_; }
  std::uint32_t in_flight() const noexcept { return in_flight_count_; }
  std::uint16_t avail_idx() const noexcept { return avail_idx_; }
  std::uint16_t last_used_idx() const noexcept { return last_used_; }

  // The descriptor `id` as this driver last wrote it.
  buffer_segment descriptor(std::uint16_t id) const noexcept {
    if (id >= base::config().num) return {};
    const auto& d = descriptors_[id];
    return {d.da, d.length, (d.flags & virtio::descriptor_write) != 0};
  }

  // Makes a chain of buffers available to the device (readable ones first) and publishes it;
  // returns its head. Checked whole before anything is written.
  result<std::uint16_t> add(std::span<const buffer_segment> segments) noexcept {
    if (!base::attached()) return base::not_attached();
    if (segments.empty()) return base::fault(errc::descriptor_chain_invalid, 0, 0);
    if (segments.size() > free_count_)
      return base::fault(errc::virtqueue_full, 0, segments.size());
    const vring_layout at = base::layout();
    bool writable_seen = false;
    std::uint64_t writable = 0, total = 0;
    std::uint16_t id = free_head_;
    for (const buffer_segment& s : segments) {
      total += s.length;
      if (!base::buffers().find(s.da, s.length))
        return base::fault(errc::descriptor_out_of_bounds, at.descriptor(id), s.da);
      if (writable_seen && !s.device_writable)
        return base::fault(errc::descriptor_chain_invalid, at.descriptor(id), s.da);
      writable_seen = s.device_writable;
      if (s.device_writable) writable += s.length;
      id = descriptors_[id].next;
    }
    const std::uint16_t head = free_head_;
    id = head;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      auto& d = descriptors_[id];
      const bool last = i + 1 == segments.size();
      d.da = segments[i].da;
      d.length = segments[i].length;
      d.flags = static_cast<std::uint16_t>(
          (segments[i].device_writable ? virtio::descriptor_write : 0) |
          (last ? 0 : virtio::descriptor_next));
      const std::size_t offset = at.descriptor(id);
      base::write(offset + layout::descriptor::addr, d.da);
      base::write(offset + layout::descriptor::len, d.length);
      base::write(offset + layout::descriptor::flags, d.flags);
      base::write(offset + layout::descriptor::next, last ? std::uint16_t{0} : d.next);
      if (last) {
        free_head_ = d.next;
        d.next = base::none;
      }
      id = d.next;
    }
    free_count_ -= static_cast<std::uint32_t>(segments.size());
    in_flight_[head] = true;
    writable_[head] = writable > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(writable);
    length_[head] = total > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(total);
    ++in_flight_count_;
    base::write(at.avail_ring(base::slot(avail_idx_)), head);
    base::release(at.avail_idx(), ++avail_idx_);
    return head;
  }

  // The next chain the device returned, if any; its descriptors are free again.
  result<std::optional<used_buffer>> take_used() noexcept {
    if (!base::attached()) return base::not_attached();
    const vring_layout at = base::layout();
    const std::uint16_t used_idx = base::acquire(at.used_idx());
    const auto pending = static_cast<std::uint16_t>(used_idx - last_used_);
    if (pending == 0) return std::optional<used_buffer>{};
    if (pending > in_flight_count_)
      return base::fault(errc::ring_index_jump, at.used_idx(), used_idx);
    const std::size_t element = at.used_ring(base::slot(last_used_));
    const auto id = base::template read<std::uint32_t>(element + layout::used_element::id);
    const auto length = base::template read<std::uint32_t>(element + layout::used_element::len);
    if (id >= base::config().num) return base::fault(errc::descriptor_id_invalid, element, id);
    if (!in_flight_[id]) return base::fault(errc::descriptor_state_invalid, element, id);
    // OpenAMP's device returns a read-only buffer with its whole length as used length: a
    // length up to the chain's is accepted, and the bytes reported are never more than writable.
    if (length > length_[id])
      return base::fault(errc::used_length_too_large, element + layout::used_element::len,
                         length);
    std::uint16_t last = static_cast<std::uint16_t>(id);
    std::uint32_t count = 1;
    while ((descriptors_[last].flags & virtio::descriptor_next) != 0) {
      last = descriptors_[last].next;
      ++count;
    }
    descriptors_[last].next = free_head_;
    free_head_ = static_cast<std::uint16_t>(id);
    free_count_ += count;
    in_flight_[id] = false;
    --in_flight_count_;
    ++last_used_;
    return std::optional<used_buffer>{
        used_buffer{static_cast<std::uint16_t>(id), length < writable_[id] ? length : writable_[id]}};
  }

 private:
  struct written_descriptor {
    std::uint64_t da = 0;
    std::uint32_t length = 0;
    std::uint16_t flags = 0;
    std::uint16_t next = 0;  // in a chain: its successor; free: the next free descriptor
  };
  std::array<written_descriptor, MaxNum> descriptors_{};
  std::array<std::uint32_t, MaxNum> writable_{};  // of each chain in flight, by head
  std::array<std::uint32_t, MaxNum> length_{};    // of each chain in flight, by head
  std::array<bool, MaxNum> in_flight_{};          // by head
  std::uint16_t free_head_ = 0;
  std::uint32_t free_count_ = 0;
  std::uint32_t in_flight_count_ = 0;
  std::uint16_t avail_idx_ = 0;
  std::uint16_t last_used_ = 0;
};

// The device's side of one vring (the firmware). attach() starts from index 0 on a ring the
// driver laid out; detach() forgets it, so that the next attach starts afresh.
template <std::uint32_t MaxNum = 256>
class virtqueue_device : public detail::vring_memory<MaxNum> {
  using base = detail::vring_memory<MaxNum>;

 public:
  result<void> attach(memory_window rings, vring_config config, memory_window buffers,
                      endian order) noexcept {
    if (auto mapped = base::map(rings, config, buffers, order); !mapped) return mapped;
    for (std::uint32_t id = 0; id < config.num; ++id) state_[id] = state::free;
    last_avail_ = 0;
    used_idx_ = 0;
    taken_ = 0;
    return {};
  }
  void detach() noexcept { base::unmap(); }

  std::uint32_t taken() const noexcept { return taken_; }
  std::uint16_t last_avail_idx() const noexcept { return last_avail_; }
  std::uint16_t used_idx() const noexcept { return used_idx_; }

  // The next chain the driver made available, its segments written to `segments` in chain
  // order (a longer chain is descriptor_chain_invalid). On a fault nothing is taken: the same
  // fault comes back until the driver repairs its ring or both sides start again.
  result<std::optional<available_chain>> take(std::span<taken_segment> segments) noexcept {
    if (!base::attached()) return base::not_attached();
    const vring_layout at = base::layout();
    const std::uint16_t avail_idx = base::acquire(at.avail_idx());
    const auto pending = static_cast<std::uint16_t>(avail_idx - last_avail_);
    if (pending == 0) return std::optional<available_chain>{};
    if (pending > base::config().num - taken_)
      return base::fault(errc::ring_index_jump, at.avail_idx(), avail_idx);
    const std::size_t slot = at.avail_ring(base::slot(last_avail_));
    const auto head = base::template read<std::uint16_t>(slot);
    if (head >= base::config().num) return base::fault(errc::descriptor_id_invalid, slot, head);
    available_chain chain{head, 0, 0, 0};
    std::size_t named_at = slot;  // the field that named the current descriptor
    std::uint16_t id = head;
    bool writable_seen = false;
    for (;;) {
      if (state_[id] != state::free) {
        const bool loop = state_[id] == state::walking;
        unmark(head, chain.segments);
        return base::fault(loop ? errc::descriptor_chain_loop : errc::descriptor_state_invalid,
                           named_at, id);
      }
      state_[id] = state::walking;
      next_[id] = base::none;
      ++chain.segments;
      const std::size_t d = at.descriptor(id);
      const auto addr = base::template read<std::uint64_t>(d + layout::descriptor::addr);
      const auto length = base::template read<std::uint32_t>(d + layout::descriptor::len);
      const auto flags = base::template read<std::uint16_t>(d + layout::descriptor::flags);
      const bool writable = (flags & virtio::descriptor_write) != 0;
      auto fail = [&](errc code, std::size_t offset, std::uint64_t value) {
        unmark(head, chain.segments);
        return base::fault(code, offset, value);
      };
      if ((flags & ~(virtio::descriptor_next | virtio::descriptor_write)) != 0)
        return fail(errc::descriptor_flags_invalid, d + layout::descriptor::flags, flags);
      if (!writable && writable_seen)
        return fail(errc::descriptor_chain_invalid, d + layout::descriptor::flags, flags);
      writable_seen = writable;
      const auto bytes = base::buffers().find(addr, length);
      if (!bytes) return fail(errc::descriptor_out_of_bounds, d + layout::descriptor::addr, addr);
      (writable ? chain.writable : chain.readable) += length;
      if (chain.segments > segments.size())
        return fail(errc::descriptor_chain_invalid, d, chain.segments);
      segments[chain.segments - 1] = {id, *bytes, writable};
      if ((flags & virtio::descriptor_next) == 0) break;
      const auto next = base::template read<std::uint16_t>(d + layout::descriptor::next);
      named_at = d + layout::descriptor::next;
      if (next >= base::config().num) return fail(errc::descriptor_id_invalid, named_at, next);
      next_[id] = next;
      id = next;
    }
    for (std::uint16_t k = head; k != base::none; k = next_[k]) state_[k] = state::taken;
    state_[head] = state::head;
    writable_[head] = chain.writable > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                                   : static_cast<std::uint32_t>(chain.writable);
    ++last_avail_;
    ++taken_;
    return std::optional<available_chain>{chain};
  }

  // Returns a chain taken before, with the bytes written into it, and publishes it.
  result<void> put(std::uint16_t head, std::uint32_t written) noexcept {
    if (!base::attached()) return base::not_attached();
    if (head >= base::config().num || state_[head] != state::head)
      return base::fault(errc::descriptor_state_invalid, 0, head);
    if (written > writable_[head]) return base::fault(errc::used_length_too_large, 0, written);
    const vring_layout at = base::layout();
    const std::size_t element = at.used_ring(base::slot(used_idx_));
    base::write(element + layout::used_element::id, std::uint32_t{head});
    base::write(element + layout::used_element::len, written);
    base::release(at.used_idx(), ++used_idx_);
    for (std::uint16_t k = head; k != base::none; k = next_[k]) state_[k] = state::free;
    --taken_;
    return {};
  }

 private:
  enum class state : std::uint8_t { free, walking, taken, head };

  // Frees the descriptors a failed walk marked: the first `count` of the chain from `head`.
  void unmark(std::uint16_t head, std::uint32_t count) noexcept {
    for (std::uint16_t k = head; count > 0 && k != base::none; k = next_[k], --count)
      state_[k] = state::free;
  }

  std::array<state, MaxNum> state_{};
  std::array<std::uint16_t, MaxNum> next_{};      // successors as read when the chain was taken
  std::array<std::uint32_t, MaxNum> writable_{};  // by head
  std::uint16_t last_avail_ = 0;
  std::uint16_t used_idx_ = 0;
  std::uint32_t taken_ = 0;
};

}  // namespace rproc
