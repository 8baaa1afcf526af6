// What a platform provides: the operations that touch hardware. A platform is any type with the
// required members below; every other operation is optional and detected with `requires`, and
// the lifecycle offers exactly the transitions the platform can carry out (a platform without
// `detach` has no detach transition, and no clean copy is ever taken for it, as in Linux).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "located_table.hpp"

namespace rproc {

// Memory the platform set aside for the remote: a carveout or a vring.
struct memory_region {
  std::uint32_t da = 0;          // device address: what the remote uses
  std::uint32_t pa = 0;          // physical address, as the table records it
  std::size_t len = 0;
  std::span<std::byte> va{};     // the host's view; empty when the host cannot reach it
};

enum class allocation_purpose : std::uint8_t { carveout, vring };

// What the lifecycle asks of `allocate`: `da` (and `pa`) fw_rsc_addr_any when the host chooses,
// a fixed address otherwise, which the platform honours or refuses.
struct allocation_request {
  std::uint32_t da = fw_rsc_addr_any;
  std::uint32_t pa = fw_rsc_addr_any;
  std::size_t len = 0;
  std::uint32_t align = 1;
  allocation_purpose purpose = allocation_purpose::carveout;
  std::uint32_t entry = 0;  // index of the table entry that asked
};

// Device memory to map for the remote (a devmem entry).
struct devmem_request {
  std::uint32_t da = 0;
  std::uint32_t pa = 0;
  std::uint32_t len = 0;
  std::uint32_t flags = 0;
  std::uint32_t entry = 0;
};

// A platform's answer for a vendor entry (128..512).
enum class vendor_outcome : std::uint8_t { handled, ignored, failed };

// The required operations.
template <class P>
concept platform = requires(P& p, const P& cp, std::uint32_t da, std::size_t len,
                            const allocation_request& request, const memory_region& region) {
  // The host's writable view of device memory [da, da + len), or an empty span.
  { p.da_to_va(da, len) } -> std::same_as<std::span<std::byte>>;
  { p.allocate(request) } -> std::same_as<result<memory_region>>;
  // Releasing cannot fail: it is what every failure path relies on.
  { p.release(region) } noexcept -> std::same_as<void>;
};

// Optional operations, each its own concept.
template <class P>
concept platform_can_start = platform<P> && requires(P& p, std::uint64_t boot_address) {
  { p.start(boot_address) } -> std::same_as<result<void>>;
};
template <class P>
concept platform_can_stop = platform<P> && requires(P& p) {
  { p.stop() } -> std::same_as<result<void>>;
};
// Attaching needs the table of the running firmware (its live bytes and byte order, and its
// device address where known); it can only be asked at attach time.
template <class P>
concept platform_can_attach = platform<P> && requires(P& p) {
  { p.loaded_table() } -> std::same_as<result<mutable_located_table>>;
};
template <class P>
concept platform_can_detach = platform_can_attach<P> && requires(P& p) {
  { p.detach() } -> std::same_as<result<void>>;
};
template <class P>
concept platform_has_attach_notification = requires(P& p) {
  { p.attach() } -> std::same_as<result<void>>;
};
template <class P>
concept platform_has_prepare = requires(P& p) {
  { p.prepare() } -> std::same_as<result<void>>;
  { p.unprepare() } noexcept -> std::same_as<void>;
};
template <class P>
concept platform_maps_devmem = requires(P& p, const devmem_request& request) {
  { p.map_devmem(request) } -> std::same_as<result<void>>;
  { p.unmap_devmem(request) } noexcept -> std::same_as<void>;
};
template <class P>
concept platform_can_kick = requires(P& p, std::uint32_t notifyid) {
  { p.kick(notifyid) } -> std::same_as<result<void>>;
};
template <class P>
concept platform_handles_vendor = requires(P& p, const vendor_entry& entry) {
  { p.handle_vendor(entry) } -> std::same_as<vendor_outcome>;
};
// The features the host's virtio side accepts of those a vdev offers (default: all of them).
template <class P>
concept platform_negotiates_features = requires(P& p, std::uint32_t id, std::uint32_t offered) {
  { p.negotiate_features(id, offered) } -> std::same_as<std::uint32_t>;
};
// Whether the core runs firmware that someone else started (the remote begins detached).
template <class P>
concept platform_reports_running = requires(const P& p) {
  { p.is_running() } -> std::same_as<bool>;
};

// Static facts a platform may state as members; each has a default.
template <class P>
constexpr std::size_t page_size_of() noexcept {
  if constexpr (requires { P::page_size; }) return P::page_size;
  else return 4096;
}
// Linux's RPROC_FEAT_ATTACH_ON_RECOVERY: a core that cannot be reloaded recovers by detach + attach.
template <class P>
constexpr bool attaches_on_recovery() noexcept {
  if constexpr (requires { P::attach_on_recovery; }) return P::attach_on_recovery;
  else return false;
}
// Whether an image without a resource table may boot (Linux's core refuses; i.MX, R-Car and STM32
// drivers accept).
template <class P>
constexpr bool table_optional() noexcept {
  if constexpr (requires { P::table_optional; }) return P::table_optional;
  else return false;
}

// Capacities of the host's bookkeeping for one remote (no heap): a platform may define
// `using limits = ...;` with the same members.
struct default_limits {
  static constexpr std::size_t max_table_size = 4096;  // cached copy and clean copy
  static constexpr std::size_t max_resources = 32;     // carveouts, vrings, devmems, traces
  static constexpr std::size_t max_vdevs = 8;
  static constexpr std::uint32_t max_notify_ids = 64;
};
template <class P>
struct limits_of {
  using type = default_limits;
};
template <class P>
  requires requires { typename P::limits; }
struct limits_of<P> {
  using type = typename P::limits;
};

}  // namespace rproc
