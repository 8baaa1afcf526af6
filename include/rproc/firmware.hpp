// The firmware side: beside its table (builder.hpp), a firmware waits until the host's virtio
// driver has brought its vdev up (DRIVER_OK), reads the vring addresses and notify ids the host
// assigned, and notices when the host detaches so that it waits for the next attach without a
// reboot. Freestanding: no heap, no exceptions, no RTTI, no I/O; the caller brings the clock.
//
//   [[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = original;
//   rproc::firmware::vdev_link link(resource_table, original);
//   if (link.wait_attached(rproc::firmware::poll_limit(1000, delay_1ms)) ==
//       rproc::firmware::link_event::attached)
//     start_rpmsg(link.assignment().vrings[0].da, link.assignment().vrings[1].da);
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "builder.hpp"
#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "table.hpp"

namespace rproc::firmware {

// The firmware's table in the memory the host writes, read through a private copy.
//
// The host is another processor: nothing in this program writes the table, so a plain read could
// be hoisted out of a polling loop (or folded into the table's constinit initial bytes) and the
// firmware would never see DRIVER_OK. Each read() therefore copies every byte through a relaxed
// atomic load of volatile memory, which the compiler must perform, in order, every time (on a
// Cortex-M, the plain ldrb a volatile load is), and which is no data race when both sides run as
// threads of one program (ThreadSanitizer); then parse_table and the entry views read the copy
// like any other table.
//
// Size and Order are the table's size and byte order, the firmware's own: known at compile time,
// so that only the validator of that order is linked in, and the copy (Size bytes of RAM) is a
// member. Where both are known only at run time (std::dynamic_extent and rproc::dynamic_endian:
// a simulated remote, a firmware that finds its table at run time), the caller gives the buffer
// of the copy.
template <std::size_t Size, auto Order = endian::native>
class shared_table {
 public:
  static constexpr bool known_at_run_time = Size == std::dynamic_extent;
  static_assert(known_at_run_time ==
                    std::is_same_v<std::remove_cv_t<decltype(Order)>, dynamic_endian_t>,
                "rproc: a shared table's size and byte order are both known at compile time "
                "(Size, an rproc::endian), or both at run time (std::dynamic_extent, "
                "rproc::dynamic_endian)");

  explicit shared_table(std::span<std::byte, Size> live) noexcept
    requires(!known_at_run_time)
      : live_(live.data()) {}
  explicit shared_table(table_image<Size>& live) noexcept
    requires(!known_at_run_time)
      : shared_table(std::span<std::byte, Size>(live.bytes)) {}
  // `copy` holds at least live.size() bytes (a shorter one reads only its length of the table).
  shared_table(std::span<std::byte> live, endian order, std::span<std::byte> copy) noexcept
    requires(known_at_run_time)
      : live_(live.data()), copy_(copy.first(live.size() < copy.size() ? live.size() : copy.size())),
        order_(order) {}

  // Copies the live table now and validates the copy; the view lives until the next read().
  // (table_view, named through Size so that it is instantiated with this class: detail::dependent.)
  result<detail::dependent_t<table_view, std::span<std::byte, Size>>> read() noexcept {
    const std::span<std::byte, Size> copy = copy_bytes();
    const auto* live = reinterpret_cast<const volatile unsigned char*>(live_);
    for (std::size_t i = 0; i < copy.size(); ++i)
      copy[i] = static_cast<std::byte>(__atomic_load_n(live + i, __ATOMIC_RELAXED));
    // The host writes the vrings before it sets DRIVER_OK: this keeps the loads of the next
    // read() after those of this one, also on a core that reorders loads (a dmb on Arm).
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  // not <atomic>: costly for every includer
    return parse_table(copy, order());
  }

  // One byte of the live table, read with acquire order (the load that pairs with a host's
  // release store of that byte); `offset` lies in the table.
  std::uint8_t acquire(std::size_t offset) const noexcept {
    return __atomic_load_n(reinterpret_cast<const volatile unsigned char*>(live_) + offset,
                           __ATOMIC_ACQUIRE);
  }

  // The bytes of the last read().
  std::span<const std::byte, Size> copy() const noexcept {
    if constexpr (known_at_run_time) return copy_;
    else return copy_.bytes;
  }
  constexpr endian order() const noexcept { return order_.value(); }

 private:
  std::span<std::byte, Size> copy_bytes() noexcept {
    if constexpr (known_at_run_time) return copy_;
    else return copy_.bytes;
  }

  const volatile std::byte* live_;
  std::conditional_t<known_at_run_time, std::span<std::byte>, table_image<Size>> copy_{};
  [[no_unique_address]] detail::order_holder<Order> order_{};
};

// What the host gave one vring, read from the live table.
struct vring_assignment {
  std::uint32_t da = 0;        // base of the vring's memory (the firmware's own when it fixed it)
  std::uint32_t align = 0;
  std::uint32_t num = 0;
  std::uint32_t notifyid = 0;  // names this vring in the kicks (mailbox messages), both ways

  friend constexpr bool operator==(const vring_assignment&, const vring_assignment&) = default;
};

// What the host gave the vdev by the time it set DRIVER_OK.
struct host_assignment {
  std::uint32_t vdev_notifyid = 0;  // OpenAMP hosts write it; Linux leaves the firmware's value
  std::uint32_t gfeatures = 0;      // the negotiated features
  std::uint8_t status = 0;
  std::uint8_t num_of_vrings = 0;
  std::array<vring_assignment, layout::vdev::max_vrings> vrings{};

  friend constexpr bool operator==(const host_assignment&, const host_assignment&) = default;
};

enum class link_event : std::uint8_t {
  none,       // nothing changed since the last look
  attached,   // the host set DRIVER_OK: assignment() holds what it gave
  detached,   // the host reset the vdev, restored the table or moved the vrings: stop using them
  timed_out,  // wait_attached gave up before DRIVER_OK
  bad_table,  // the table no longer parses: error() says why
  no_vdev,    // the table has no vdev with the index given
};

constexpr std::string_view to_string(link_event e) noexcept {
  switch (e) {
    case link_event::none: return "none";
    case link_event::attached: return "attached";
    case link_event::detached: return "detached";
    case link_event::timed_out: return "timed_out";
    case link_event::bad_table: return "bad_table";
    case link_event::no_vdev: return "no_vdev";
  }
  return "unknown";
}

struct link_options {
  std::uint32_t vdev = 0;  // which vdev of the table, counting vdevs only, from 0
};

// DRIVER_OK without FAILED: the driver is up and the vrings are the host's.
constexpr bool driver_ready(std::uint8_t status) noexcept {
  return (status & virtio::status_driver_ok) != 0 && (status & virtio::status_failed) == 0;
}

// The vdev_index-th vdev of a table (counting vdevs only), if it has one.
template <class Byte>
constexpr std::optional<basic_vdev_entry<Byte>> find_vdev(basic_table_view<Byte> table,
                                                         std::uint32_t vdev_index) noexcept {
  for (const auto entry : table) {
    if (const auto vdev = entry.template as<basic_vdev_entry<Byte>>()) {
      if (vdev_index == 0) return vdev;
      --vdev_index;
    }
  }
  return std::nullopt;
}

template <class Byte>
constexpr host_assignment read_assignment(const basic_vdev_entry<Byte>& vdev) noexcept {
  host_assignment a{vdev.notifyid(), vdev.gfeatures(), vdev.status(), vdev.num_of_vrings(), {}};
  for (const auto ring : vdev.vrings())
    a.vrings[ring.index()] = {ring.da(), ring.align(), ring.num(), ring.notifyid()};
  return a;
}

// One vdev of the firmware's table, seen from the firmware: waiting for the host, or attached
// to it. poll() looks once; wait_attached() polls until DRIVER_OK or the caller's time is up.
// Order is the table's byte order (shared_table).
//
// Detach, as SPEC section 4 has it: the host resets the vdev (status 0), writes the table it
// copied at attach back over the live one, then tells the platform. Any of these seen here
// (status without DRIVER_OK, the table equal to the original bytes, or the vrings reassigned
// between two polls) gives `detached`, and the link waits for the next attach. A detach and a
// later attach with the same vring addresses, both between two polls, leave no trace in the
// table: the platform's detach notification (detach_notified) is what tells that case.
template <std::size_t Size, auto Order = endian::native>
class vdev_link {
 public:
  static constexpr bool known_at_run_time = Size == std::dynamic_extent;

  // `live`: the table in memory the host writes; `original`: the bytes the firmware was built
  // with, to recognise the host's restore at detach (optional).
  vdev_link(std::span<std::byte, Size> live, std::span<const std::byte, Size> original,
            link_options options = {}) noexcept
    requires(!known_at_run_time)
      : table_(live), original_(original.data()), vdev_index_(options.vdev) {}
  vdev_link(table_image<Size>& live, const table_image<Size>& original,
            link_options options = {}) noexcept
    requires(!known_at_run_time)
      : vdev_link(std::span<std::byte, Size>(live.bytes),
                  std::span<const std::byte, Size>(original.bytes), options) {}
  explicit vdev_link(table_image<Size>& live, link_options options = {}) noexcept
    requires(!known_at_run_time)
      : table_(live), vdev_index_(options.vdev) {}
  // A table whose size and byte order are known at run time (shared_table): `copy` as large as
  // `live`, `original` the firmware's own bytes (or empty).
  vdev_link(std::span<std::byte> live, endian order, std::span<std::byte> copy,
            std::span<const std::byte> original, link_options options = {}) noexcept
    requires(known_at_run_time)
      : table_(live, order, copy),
        original_(original.size() >= live.size() ? original.data() : nullptr),
        vdev_index_(options.vdev) {}

  bool attached() const noexcept { return attached_; }
  // What the host assigned, read once DRIVER_OK was seen; meaningful while attached().
  const host_assignment& assignment() const noexcept { return assignment_; }
  // Why the last poll gave bad_table.
  const error& last_error() const noexcept { return error_; }
  // The table shared with the host, to look at its other entries (a trace buffer's da, a
  // carveout's).
  shared_table<Size, Order>& shared() noexcept { return table_; }

  // One look at the table.
  link_event poll() noexcept {
    const auto seen = look();
    if (!seen.vdev) return seen.event;
    const bool ready = driver_ready(seen.vdev->status()) && !pristine();
    if (!attached_) {
      if (!ready) {
        armed_ = true;
        return link_event::none;
      }
      if (!armed_) return link_event::none;
      // Read again: DRIVER_OK was read before the fence, the vrings now come after it.
      const auto again = look();
      if (!again.vdev) return again.event;
      if (!driver_ready(again.vdev->status()) || pristine()) return link_event::none;
      const host_assignment assigned = read_assignment(*again.vdev);
      // The acquire paired with the host's release of DRIVER_OK: what the host laid out before it
      // (the vrings' memory) is read after this, as the fences of the looks also order it;
      // ThreadSanitizer, which does not model fences, sees this pairing.
      if (!driver_ready(table_.acquire(again.vdev->offset() + layout::vdev::status.offset)))
        return link_event::none;
      // And the status once more, after the vrings: a host detaching meanwhile resets it before
      // it restores a byte, so vrings read as restored cannot come with DRIVER_OK still seen.
      const auto confirmed = look();
      if (!confirmed.vdev) return confirmed.event;
      if (!driver_ready(confirmed.vdev->status()) ||
          !same_vrings(read_assignment(*confirmed.vdev), assigned))
        return link_event::none;
      assignment_ = assigned;
      attached_ = true;
      return link_event::attached;
    }
    if (!ready) return detach(true);
    const host_assignment now = read_assignment(*seen.vdev);
    // A detach and a later attach both happened since the last poll.
    if (!same_vrings(now, assignment_)) return detach(true);
    assignment_.status = now.status;
    return link_event::none;
  }

  // Polls until the host sets DRIVER_OK (attached), the table is unusable (bad_table, no_vdev)
  // or expired() returns true (timed_out). expired() runs between two looks: it is where the
  // caller waits (poll_limit, deadline) or never gives up (forever).
  template <class Expired>
    requires std::predicate<Expired&>
  link_event wait_attached(Expired&& expired) noexcept {
    if (attached_) return link_event::attached;
    for (;;) {
      const link_event e = poll();
      if (e == link_event::attached || e == link_event::bad_table || e == link_event::no_vdev)
        return e;
      if (expired()) return link_event::timed_out;
    }
  }

  // The platform said the host detached (a mailbox message): stop using the vrings now, and
  // attach again only once the table has shown the host's reset, not the old DRIVER_OK.
  void detach_notified() noexcept { (void)detach(false); }

 private:
  struct sighting {
    link_event event = link_event::none;
    std::optional<detail::dependent_t<vdev_entry, std::span<std::byte, Size>>> vdev{};
  };

  sighting look() noexcept {
    const auto table = table_.read();
    if (!table) {
      error_ = table.error();
      return {link_event::bad_table, std::nullopt};
    }
    const auto vdev = find_vdev(*table, vdev_index_);
    if (!vdev) return {link_event::no_vdev, std::nullopt};
    return {link_event::none, vdev};
  }

  bool pristine() const noexcept {
    if (original_ == nullptr) return false;
    const auto copy = table_.copy();
    for (std::size_t i = 0; i < copy.size(); ++i)
      if (copy[i] != original_[i]) return false;
    return true;
  }

  static constexpr bool same_vrings(const host_assignment& a, const host_assignment& b) noexcept {
    if (a.num_of_vrings != b.num_of_vrings) return false;
    for (std::size_t i = 0; i < a.num_of_vrings; ++i)
      if (a.vrings[i].da != b.vrings[i].da || a.vrings[i].notifyid != b.vrings[i].notifyid)
        return false;
    return true;
  }

  link_event detach(bool reset_seen) noexcept {
    const bool was_attached = attached_;
    attached_ = false;
    armed_ = reset_seen;
    return was_attached ? link_event::detached : link_event::none;
  }

  shared_table<Size, Order> table_;
  const std::byte* original_ = nullptr;
  std::uint32_t vdev_index_ = 0;
  host_assignment assignment_{};
  error error_{};
  bool attached_ = false;
  // Set once the table has shown no DRIVER_OK; at boot the firmware trusts what it finds.
  bool armed_ = true;
};

// Never gives up: OpenAMP's behaviour.
struct forever {
  constexpr bool operator()() const noexcept { return false; }
};

struct no_delay {
  constexpr void operator()() const noexcept {}
};

// Gives up after `polls` more looks, calling delay() between two (a busy loop, a WFI, a sleep).
template <class Delay = no_delay>
  requires std::invocable<Delay&>
class poll_limit {
 public:
  constexpr explicit poll_limit(std::uint32_t polls, Delay delay = {}) noexcept
      : left_(polls), delay_(delay) {}
  constexpr bool operator()() noexcept {
    if (left_ == 0) return true;
    --left_;
    delay_();
    return false;
  }

 private:
  std::uint32_t left_;
  Delay delay_;
};

// Gives up `timeout` ticks after it was made. now() reads a free-running unsigned counter (a
// wrap-around is harmless: only differences are used); idle() runs between two looks.
template <class Clock, class Idle = no_delay>
  requires std::invocable<Clock&> && std::invocable<Idle&> &&
           std::is_unsigned_v<std::invoke_result_t<Clock&>>
class deadline {
 public:
  using ticks = std::invoke_result_t<Clock&>;

  constexpr deadline(Clock now, ticks timeout, Idle idle = {}) noexcept
      : now_(now), idle_(idle), start_(now_()), timeout_(timeout) {}
  constexpr bool operator()() noexcept {
    if (static_cast<ticks>(now_() - start_) >= timeout_) return true;
    idle_();
    return false;
  }

 private:
  Clock now_;
  Idle idle_;
  ticks start_;
  ticks timeout_;
};

}  // namespace rproc::firmware
