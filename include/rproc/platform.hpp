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
// One vring of a vdev as the host placed it (its memory zeroed, its da and notify id written).
struct vring_record {
  std::uint32_t entry = 0;  // the vdev's entry index
  std::uint32_t index = 0;  // 0 or 1 within the vdev
  std::uint32_t notifyid = 0;
  std::uint32_t num = 0;
  std::uint32_t align = 0;
  memory_region region{};
};
// A vdev whose features are negotiated (FEATURES_OK) and whose vrings are placed, DRIVER_OK not
// yet set.
struct vdev_setup {
  std::uint32_t entry = 0;
  std::uint32_t id = 0;  // the virtio device id
  std::uint32_t gfeatures = 0;
  endian order = endian::little;  // the table's
  std::span<const vring_record> vrings{};
};
// The host's virtio driver sets up its virtqueues (Linux's driver probe: an rpmsg host lays out
// its rings and gives vring 0 its buffers) after FEATURES_OK and before DRIVER_OK, which the
// firmware waits for before it looks at a ring. A failure takes the attach or start back.
template <class P>
concept platform_sets_up_vdevs = requires(P& p, const vdev_setup& vdev) {
  { p.set_up_vdev(vdev) } -> std::same_as<result<void>>;
};
// DRIVER_OK is visible in the live table (attach, start): tell the remote, a doorbell (a mailbox
// message, an interrupt). A failure at attach takes the attach back (status 0 first).
template <class P>
concept platform_rings_doorbell = requires(P& p) {
  { p.ring_doorbell() } -> std::same_as<result<void>>;
};
// Memory the remote reads without the host's caches (no coherent interconnect): clean_cache
// writes the host's cached lines of `bytes` out to memory, invalidate_cache drops them before the
// host reads what the remote may have written. Called around every publication: the table and
// the vrings' memory cleaned before DRIVER_OK is stored, the status cleaned after; the table
// invalidated before it is read at attach and detach.
template <class P>
concept platform_cleans_cache = requires(P& p, std::span<const std::byte> bytes) {
  { p.clean_cache(bytes) } noexcept -> std::same_as<void>;
};
template <class P>
concept platform_invalidates_cache = requires(P& p, std::span<const std::byte> bytes) {
  { p.invalidate_cache(bytes) } noexcept -> std::same_as<void>;
};
// Whether the core runs firmware that someone else started (the remote begins detached).
template <class P>
concept platform_reports_running = requires(const P& p) {
  { p.is_running() } -> std::same_as<bool>;
};

// For platform authors: whether P declares an operation at all, whatever its signature (a member
// one can take the address of, or call as the lifecycle would), so that check_platform can say
// which declared operation the lifecycle ignores because its signature is not the one above.
namespace detail {
template <class P>
concept declares_start = requires { &P::start; } || requires(P& p) { p.start(std::uint64_t{}); };
template <class P>
concept declares_stop = requires { &P::stop; } || requires(P& p) { p.stop(); };
template <class P>
concept declares_loaded_table = requires { &P::loaded_table; } || requires(P& p) { p.loaded_table(); };
template <class P>
concept declares_detach = requires { &P::detach; } || requires(P& p) { p.detach(); };
template <class P>
concept declares_attach = requires { &P::attach; } || requires(P& p) { p.attach(); };
template <class P>
concept declares_prepare = requires { &P::prepare; } || requires { &P::unprepare; } ||
                           requires(P& p) { p.prepare(); } || requires(P& p) { p.unprepare(); };
template <class P>
concept declares_map_devmem = requires { &P::map_devmem; } || requires { &P::unmap_devmem; };
template <class P>
concept declares_kick = requires { &P::kick; } || requires(P& p) { p.kick(std::uint32_t{}); };
template <class P>
concept declares_handle_vendor = requires { &P::handle_vendor; };
template <class P>
concept declares_negotiate_features = requires { &P::negotiate_features; };
template <class P>
concept declares_set_up_vdev = requires { &P::set_up_vdev; };
template <class P>
concept declares_ring_doorbell = requires { &P::ring_doorbell; };
template <class P>
concept declares_clean_cache = requires { &P::clean_cache; };
template <class P>
concept declares_invalidate_cache = requires { &P::invalidate_cache; };
template <class P>
concept declares_is_running = requires { &P::is_running; } || requires(P& p) { p.is_running(); };
}  // namespace detail

// Fails to compile, with a message naming the operation and the signature the lifecycle expects,
// when P lacks a required operation or declares an optional one with another signature (which
// the lifecycle would otherwise ignore: a non-const is_running() starts the remote offline, a
// detach() returning bool removes the detach transition). processor<P> checks it; a platform's
// author can too: static_assert(rproc::check_platform<my_board>());
template <class P>
consteval bool check_platform() {
  static_assert(requires(P& p, std::uint64_t da, std::size_t len) {
    { p.da_to_va(da, len) } -> std::same_as<std::span<std::byte>>;
  }, "rproc platform: needs std::span<std::byte> da_to_va(std::uint64_t da, std::size_t len)");
  static_assert(requires(P& p, const allocation_request& request) {
    { p.allocate(request) } -> std::same_as<result<memory_region>>;
  }, "rproc platform: needs rproc::result<rproc::memory_region> "
     "allocate(const rproc::allocation_request&)");
  static_assert(requires(P& p, const memory_region& region) {
    { p.release(region) } noexcept -> std::same_as<void>;
  }, "rproc platform: needs void release(const rproc::memory_region&) noexcept");
  static_assert(!detail::declares_start<P> || platform_can_start<P>,
                "rproc platform: start must be rproc::result<void> start(std::uint64_t "
                "boot_address); as declared it is ignored and nothing can start the core");
  static_assert(!detail::declares_stop<P> || platform_can_stop<P>,
                "rproc platform: stop must be rproc::result<void> stop(); as declared it is "
                "ignored and nothing can stop the core");
  static_assert(!detail::declares_loaded_table<P> || platform_can_attach<P>,
                "rproc platform: loaded_table must be rproc::result<rproc::mutable_located_table> "
                "loaded_table(); as declared it is ignored and there is no attach");
  static_assert(!detail::declares_detach<P> || platform_can_detach<P>,
                "rproc platform: detach must be rproc::result<void> detach(), beside "
                "loaded_table(); as declared it is ignored and there is no detach");
  static_assert(!detail::declares_attach<P> || platform_has_attach_notification<P>,
                "rproc platform: attach must be rproc::result<void> attach(); as declared it is "
                "ignored and the platform is not told of an attach");
  static_assert(!detail::declares_prepare<P> || platform_has_prepare<P>,
                "rproc platform: prepare must be rproc::result<void> prepare(), with void "
                "unprepare() noexcept; as declared both are ignored");
  static_assert(!detail::declares_map_devmem<P> || platform_maps_devmem<P>,
                "rproc platform: map_devmem must be rproc::result<void> map_devmem(const "
                "rproc::devmem_request&), with void unmap_devmem(const rproc::devmem_request&) "
                "noexcept; as declared both are ignored and devmem entries fail");
  static_assert(!detail::declares_kick<P> || platform_can_kick<P>,
                "rproc platform: kick must be rproc::result<void> kick(std::uint32_t notifyid); "
                "as declared it is ignored and handles have no kick");
  static_assert(!detail::declares_handle_vendor<P> || platform_handles_vendor<P>,
                "rproc platform: handle_vendor must be rproc::vendor_outcome handle_vendor(const "
                "rproc::vendor_entry&); as declared it is ignored and vendor entries are skipped");
  static_assert(!detail::declares_negotiate_features<P> || platform_negotiates_features<P>,
                "rproc platform: negotiate_features must be std::uint32_t negotiate_features("
                "std::uint32_t id, std::uint32_t offered); as declared it is ignored");
  static_assert(!detail::declares_set_up_vdev<P> || platform_sets_up_vdevs<P>,
                "rproc platform: set_up_vdev must be rproc::result<void> set_up_vdev(const "
                "rproc::vdev_setup&); as declared it is ignored and DRIVER_OK comes first");
  static_assert(!detail::declares_ring_doorbell<P> || platform_rings_doorbell<P>,
                "rproc platform: ring_doorbell must be rproc::result<void> ring_doorbell(); as "
                "declared it is ignored and the remote is not told of DRIVER_OK");
  static_assert(!detail::declares_clean_cache<P> || platform_cleans_cache<P>,
                "rproc platform: clean_cache must be void clean_cache(std::span<const std::byte>) "
                "noexcept; as declared it is ignored and the remote may read stale memory");
  static_assert(!detail::declares_invalidate_cache<P> || platform_invalidates_cache<P>,
                "rproc platform: invalidate_cache must be void invalidate_cache(std::span<const "
                "std::byte>) noexcept; as declared it is ignored");
  static_assert(!detail::declares_is_running<P> || platform_reports_running<P>,
                "rproc platform: is_running must be bool is_running() const; as declared it is "
                "ignored and the remote starts offline");
  return true;
}

// The cache hooks, where the platform has them.
template <class P>
void clean_cache_of(P& p, std::span<const std::byte> bytes) noexcept {
  if constexpr (platform_cleans_cache<P>) p.clean_cache(bytes);
  else (void)p, (void)bytes;
}
template <class P>
void invalidate_cache_of(P& p, std::span<const std::byte> bytes) noexcept {
  if constexpr (platform_invalidates_cache<P>) p.invalidate_cache(bytes);
  else (void)p, (void)bytes;
}

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
// The vendor type of the crash report the firmware keeps in its table (crash.hpp; AMD's is 128),
// or 0: the platform's firmware keeps none.
template <class P>
constexpr std::uint32_t crash_report_type_of() noexcept {
  if constexpr (requires { P::crash_report_type; }) return P::crash_report_type;
  else return 0;
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
