// Resource handling (SPEC sections 3 and 4): carveouts allocated through the platform and their
// da/pa/len written back, devmem mapped, trace buffers located, vrings allocated with notify ids
// numbered from 0 across the remote, the host's virtio side written (gfeatures, status), vendor
// entries handed to the platform. Every acquisition is recorded as it happens, so that release()
// gives back everything, in reverse order, after a success or a failure at any step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "entries.hpp"
#include "error.hpp"
#include "platform.hpp"
#include "table.hpp"

namespace rproc {

// Bytes of a virtio split ring of `num` descriptors: the descriptor table (16 per entry), the
// available ring (2 * (3 + num)), padding to `align`, the used ring (2 * 3 + 8 * num). Computed in
// 64 bits, so no num or align overflows it; align need not be a power of two.
constexpr std::uint64_t vring_size(std::uint32_t num, std::uint32_t align) noexcept {
  const std::uint64_t n = num;
  const std::uint64_t a = align == 0 ? 1 : align;
  const std::uint64_t driver_part = 16 * n + 2 * (3 + n);
  return (driver_part + a - 1) / a * a + 2 * 3 + 8 * n;
}

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t unit) noexcept {
  return unit == 0 ? value : (value + unit - 1) / unit * unit;
}

// Notify ids of one remote: the lowest free id first, reused after release.
template <std::uint32_t Max>
class notify_id_pool {
  static_assert(Max > 0 && Max % 64 == 0);

 public:
  constexpr std::optional<std::uint32_t> take() noexcept {
    for (std::uint32_t w = 0; w < Max / 64; ++w) {
      if (used_[w] == ~std::uint64_t{0}) continue;
      for (std::uint32_t b = 0; b < 64; ++b) {
        if ((used_[w] >> b & 1u) == 0) {
          used_[w] |= std::uint64_t{1} << b;
          return w * 64 + b;
        }
      }
    }
    return std::nullopt;
  }
  constexpr void give_back(std::uint32_t id) noexcept {
    if (id < Max) used_[id / 64] &= ~(std::uint64_t{1} << (id % 64));
  }
  constexpr std::uint32_t in_use() const noexcept {
    std::uint32_t n = 0;
    for (auto w : used_)
      for (; w != 0; w &= w - 1) ++n;
    return n;
  }

 private:
  std::array<std::uint64_t, Max / 64> used_{};
};

struct carveout_record {
  std::uint32_t entry = 0;
  allocation_request request{};
  memory_region region{};
  bool allocated = false;
};

struct vdev_record {
  std::uint32_t entry = 0;
  std::uint32_t id = 0;
  std::uint32_t gfeatures = 0;
  std::uint8_t status = 0;
};

struct trace_record {
  std::uint32_t entry = 0;
  std::span<std::byte> buffer{};
};

// Warnings met while handling a table (unknown types, vendor entries the platform ignored).
template <std::size_t Capacity>
class warning_list {
 public:
  constexpr void add(const warning& w) noexcept {
    if (size_ < Capacity) items_[size_] = w;
    ++size_;
  }
  constexpr void clear() noexcept { size_ = 0; }
  // The warnings kept (at most Capacity), and how many there were.
  constexpr std::span<const warning> items() const noexcept {
    return std::span<const warning>(items_).first(size_ < Capacity ? size_ : Capacity);
  }
  constexpr std::size_t count() const noexcept { return size_; }

 private:
  std::array<warning, Capacity> items_{};
  std::size_t size_ = 0;
};

// The host's resources of one remote, in fixed capacities.
template <platform Platform, class Limits = typename limits_of<Platform>::type>
class resource_set {
  // The table's types, named through Platform so that they are instantiated with this class, not
  // in every file that includes rproc (see detail::dependent).
  using mutable_table_view = detail::dependent_t<rproc::mutable_table_view, Platform>;
  using mutable_carveout_entry = detail::dependent_t<rproc::mutable_carveout_entry, Platform>;
  using mutable_devmem_entry = detail::dependent_t<rproc::mutable_devmem_entry, Platform>;
  using mutable_trace_entry = detail::dependent_t<rproc::mutable_trace_entry, Platform>;
  using mutable_vdev_entry = detail::dependent_t<rproc::mutable_vdev_entry, Platform>;
  using mutable_vendor_entry = detail::dependent_t<rproc::mutable_vendor_entry, Platform>;
  using mutable_unknown_entry = detail::dependent_t<rproc::mutable_unknown_entry, Platform>;
  using warnings_type = detail::dependent_t<warning_list<16>, Platform>;

 public:
  static constexpr std::size_t max_resources = Limits::max_resources;
  static constexpr std::size_t max_vdevs = Limits::max_vdevs;

  constexpr std::span<const carveout_record> carveouts() const noexcept {
    return std::span(carveouts_).first(carveout_count_);
  }
  constexpr std::span<const vring_record> vrings() const noexcept {
    return std::span(vrings_).first(vring_count_);
  }
  constexpr std::span<const vdev_record> vdevs() const noexcept {
    return std::span(vdevs_).first(vdev_count_);
  }
  constexpr std::span<const trace_record> traces() const noexcept {
    return std::span(traces_).first(trace_count_);
  }
  constexpr std::span<const devmem_request> devmems() const noexcept {
    return std::span(devmems_).first(devmem_count_);
  }
  constexpr std::uint32_t notify_ids_in_use() const noexcept { return notify_ids_.in_use(); }
  constexpr const warnings_type& warnings() const noexcept { return warnings_; }
  constexpr bool empty() const noexcept {
    return carveout_count_ == 0 && vring_count_ == 0 && vdev_count_ == 0 && trace_count_ == 0 &&
           devmem_count_ == 0;
  }

  // Walks the entries in index order (Linux's): carveouts are registered, devmem mapped, traces
  // located, each vring gets its memory and a notify id (written into `table`), vendor entries
  // go to the platform. Nothing is written to the table but the vrings' notify ids.
  result<void> handle(Platform& platform, const mutable_table_view& table) noexcept {
    warnings_.clear();
    if (auto checked = check_host_fields(detail::deferred<Platform>(table)); !checked) return checked;
    for (const auto entry : table) {
      result<void> handled;
      entry.visit(overloaded{
          [&](const mutable_carveout_entry& c) { handled = register_carveout(c); },
          [&](const mutable_devmem_entry& d) { handled = map_devmem(platform, d); },
          [&](const mutable_trace_entry& t) { handled = locate_trace(platform, t); },
          [&](const mutable_vdev_entry& v) { handled = add_vdev(platform, v); },
          [&](const mutable_vendor_entry& v) { handled = hand_vendor(platform, v); },
          [&](const mutable_unknown_entry& u) {
            warnings_.add({errc::unknown_resource_type, u.offset(), u.index(), u.type_id()});
          }});
      if (!handled) return handled;
    }
    return {};
  }

  // Allocates every registered carveout (where `da`/`pa` is fw_rsc_addr_any the platform
  // chooses; a fixed address it honours or refuses) and writes pa, da and len of every carveout.
  result<void> allocate_carveouts(Platform& platform, const mutable_table_view& table) noexcept {
    for (std::size_t i = 0; i < carveout_count_; ++i) {
      carveout_record& record = carveouts_[i];
      auto region = platform.allocate(record.request);
      if (!region) return located(region.error(), table, record.entry);
      record.region = *region;
      record.allocated = true;
      if (const auto c = table[record.entry].template as<mutable_carveout_entry>()) {
        c->set_pa(record.region.pa);
        c->set_da(record.region.da);
        c->set_len(static_cast<std::uint32_t>(record.region.len));
      }
    }
    return {};
  }

  // The host's virtio side comes up: each vring's memory is zeroed and its da written, features
  // negotiated, the status moved through ACKNOWLEDGE, DRIVER, FEATURES_OK, the platform's virtio
  // driver sets up its virtqueues (set_up_vdev), then DRIVER_OK, as Linux's virtio core does.
  // DRIVER_OK publishes (SPEC section 3): every other write, and the vrings, are cleaned from the
  // host's caches (where the platform has them) and ordered before it by a release store, then
  // the status is cleaned too. The steps before it are relaxed atomic stores like every field's,
  // kept and seen in order; they mean nothing to the remote, and cost one byte store each.
  result<void> start_virtio(Platform& platform, const mutable_table_view& table) noexcept {
    for (std::size_t i = 0; i < vring_count_; ++i) {
      const vring_record& r = vrings_[i];
      for (auto& b : r.region.va) b = std::byte{0};
      if (const auto v = table[r.entry].template as<mutable_vdev_entry>())
        v->vring(r.index).set_da(r.region.da);
    }
    for (std::size_t i = 0; i < vdev_count_; ++i) {
      vdev_record& record = vdevs_[i];
      const auto v = table[record.entry].template as<mutable_vdev_entry>();
      if (!v) continue;
      std::uint8_t status = virtio::status_acknowledge;
      v->set_status(status);
      status |= virtio::status_driver;
      v->set_status(status);
      record.gfeatures = v->dfeatures();
      if constexpr (platform_negotiates_features<Platform>)
        record.gfeatures = platform.negotiate_features(record.id, v->dfeatures());
      v->set_gfeatures(record.gfeatures);
      status |= virtio::status_features_ok;
      v->set_status(status);
      record.status = status | virtio::status_driver_ok;
      if constexpr (platform_sets_up_vdevs<Platform>) {
        std::size_t first = 0, count = 0;  // a vdev's vrings are recorded together
        while (first < vring_count_ && vrings_[first].entry != record.entry) ++first;
        while (first + count < vring_count_ && vrings_[first + count].entry == record.entry) ++count;
        if (auto set_up = platform.set_up_vdev({record.entry, record.id, record.gfeatures,
                                                table.order(),
                                                std::span(vrings_).subspan(first, count)});
            !set_up)
          return set_up;
      }
    }
    for (std::size_t i = 0; i < vring_count_; ++i) clean_cache_of(platform, vrings_[i].region.va);
    const std::span<const std::byte> bytes = table.bytes().bytes();
    clean_cache_of(platform, bytes);
    for (std::size_t i = 0; i < vdev_count_; ++i)
      store_status(table, vdevs_[i].entry, vdevs_[i].status, __ATOMIC_RELEASE);
    clean_cache_of(platform, bytes);
    return {};
  }

  // Virtio reset where the live table may be read by the remote: status 0 in every vdev first,
  // at the offsets `layout` has (the table as the host found it), made visible (cleaned, and
  // ordered by a release fence before any later store), so that nothing written after it can be
  // taken for the host's while DRIVER_OK still shows.
  void reset_status(Platform& platform, std::span<std::byte> live, const table_view& layout) noexcept {
    for (std::size_t i = 0; i < vdev_count_; ++i) {
      const std::size_t at = layout.offset(vdevs_[i].entry) + layout::vdev::status.offset;
      if (at < live.size()) detail::store_byte(live.data() + at, std::byte{0});
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    clean_cache_of(platform, live);
  }

  // A teardown that failed after reset_status: `copy` (the table as the host had it) back over
  // `live` in the order of an attach, every byte but the statuses first, then the statuses with
  // release order. `copy` is the host's own: its statuses are held aside meanwhile.
  void write_back(Platform& platform, std::span<std::byte> live, std::span<std::byte> copy,
                  const table_view& layout) const noexcept {
    std::array<std::byte, max_vdevs> status{};
    const auto status_at = [&](std::size_t i) {
      return layout.offset(vdevs_[i].entry) + layout::vdev::status.offset;
    };
    for (std::size_t i = 0; i < vdev_count_; ++i)
      if (status_at(i) < copy.size() && status_at(i) < live.size())
        std::swap(status[i], copy[status_at(i)]);
    (void)detail::copy_differing(copy, live);
    clean_cache_of(platform, live);
    for (std::size_t i = 0; i < vdev_count_; ++i) {
      if (status_at(i) >= copy.size() || status_at(i) >= live.size()) continue;
      copy[status_at(i)] = status[i];
      __atomic_store_n(reinterpret_cast<unsigned char*>(live.data() + status_at(i)),
                       std::to_integer<unsigned char>(status[i]), __ATOMIC_RELEASE);
    }
    clean_cache_of(platform, live);
  }

  // Rewrites the virtio side's fields as start_virtio left them (after a failed teardown), in the
  // same order: DRIVER_OK last, with release order.
  void resume_virtio(Platform& platform, const mutable_table_view& table) const noexcept {
    for (std::size_t i = 0; i < vring_count_; ++i)
      if (const auto v = table[vrings_[i].entry].template as<mutable_vdev_entry>())
        v->vring(vrings_[i].index).set_da(vrings_[i].region.da);
    for (std::size_t i = 0; i < vdev_count_; ++i)
      if (const auto v = table[vdevs_[i].entry].template as<mutable_vdev_entry>())
        v->set_gfeatures(vdevs_[i].gfeatures);
    clean_cache_of(platform, table.bytes().bytes());
    for (std::size_t i = 0; i < vdev_count_; ++i)
      store_status(table, vdevs_[i].entry, vdevs_[i].status, __ATOMIC_RELEASE);
    clean_cache_of(platform, table.bytes().bytes());
  }

  // Virtio reset: status 0 in every vdev.
  void stop_virtio(const mutable_table_view& table) noexcept {
    for (std::size_t i = 0; i < vdev_count_; ++i)
      if (const auto v = table[vdevs_[i].entry].template as<mutable_vdev_entry>())
        v->set_status(0);
  }

  // Gives everything back, in reverse order. A released vring's da becomes 0 and its notifyid
  // -1 in `table` (Linux's vring release), which the caller points at the host's own copy.
  void release(Platform& platform, const std::optional<mutable_table_view>& table) noexcept {
    while (vring_count_ > 0) {
      const vring_record& r = vrings_[--vring_count_];
      if (table)
        if (const auto v = (*table)[r.entry].template as<mutable_vdev_entry>()) {
          v->vring(r.index).set_da(0);
          v->vring(r.index).set_notifyid(0xFFFFFFFFu);
        }
      notify_ids_.give_back(r.notifyid);
      if (r.region.len != 0) platform.release(r.region);
    }
    while (carveout_count_ > 0) {
      const carveout_record& c = carveouts_[--carveout_count_];
      if (c.allocated) platform.release(c.region);
    }
    while (devmem_count_ > 0) {
      const devmem_request& d = devmems_[--devmem_count_];
      if constexpr (platform_maps_devmem<Platform>) platform.unmap_devmem(d);
    }
    trace_count_ = 0;
    vdev_count_ = 0;
  }

 private:
  static void store_status(const mutable_table_view& table, std::uint32_t entry,
                           std::uint8_t status, int order) noexcept {
    const auto bytes = table.bytes().bytes();
    const std::size_t at = table.offset(entry) + layout::vdev::status.offset;
    if (at < bytes.size())
      __atomic_store_n(reinterpret_cast<unsigned char*>(bytes.data() + at), status, order);
  }

  constexpr std::size_t used_slots() const noexcept {
    return carveout_count_ + vring_count_ + trace_count_ + devmem_count_;
  }
  static constexpr error located(error e, const mutable_table_view& table,
                                 std::uint32_t entry) noexcept {
    if (!e.entry) {
      e.entry = entry;
      e.offset = table.offset(entry);
    }
    return e;
  }
  template <class Entry>
  static constexpr error no_room(const Entry& e, std::uint64_t limit) noexcept {
    return {errc::too_many_resources, e.offset(), e.index(), limit};
  }

  result<void> register_carveout(const mutable_carveout_entry& c) noexcept {
    if (used_slots() == max_resources) return no_room(c, max_resources);
    carveouts_[carveout_count_++] = {
        c.index(),
        {c.da(), c.pa(), c.len(), 1, allocation_purpose::carveout, c.index()},
        {},
        false};
    return {};
  }

  result<void> map_devmem(Platform& platform, const mutable_devmem_entry& d) noexcept {
    if constexpr (platform_maps_devmem<Platform>) {
      if (used_slots() == max_resources) return no_room(d, max_resources);
      const devmem_request request{d.da(), d.pa(), d.len(), d.flags(), d.index()};
      if (auto mapped = platform.map_devmem(request); !mapped) {
        error e = mapped.error();
        e.entry = d.index();
        e.offset = d.offset();
        return e;
      }
      devmems_[devmem_count_++] = request;
      return {};
    } else {
      (void)platform;
      return error{errc::devmem_unsupported, d.offset(), d.index(), d.da()};
    }
  }

  result<void> locate_trace(Platform& platform, const mutable_trace_entry& t) noexcept {
    if (used_slots() == max_resources) return no_room(t, max_resources);
    const auto buffer = platform.da_to_va(t.da(), t.len());
    if (buffer.size() < t.len() || (t.len() != 0 && buffer.empty()))
      return error{errc::trace_not_mapped, t.offset() + layout::trace::da.offset, t.index(),
                   t.da()};
    traces_[trace_count_++] = {t.index(), buffer.first(t.len())};
    return {};
  }

  result<void> add_vdev(Platform& platform, const mutable_vdev_entry& v) noexcept {
    if (vdev_count_ == max_vdevs) return no_room(v, max_vdevs);
    for (std::uint32_t k = 0; k < v.num_of_vrings(); ++k) {
      if (used_slots() == max_resources) return no_room(v, max_resources);
      const auto vring = v.vring(k);
      const std::size_t vring_at = v.offset() + layout::vdev::vrings + k * layout::vring::size;
      const std::uint64_t bytes = round_up(vring_size(vring.num(), vring.align()),
                                           page_size_of<Platform>());
      if (bytes > 0xFFFFFFFFu)
        return error{errc::vring_too_large, vring_at + layout::vring::num.offset, v.index(),
                     vring.num()};
      const auto notifyid = notify_ids_.take();
      if (!notifyid)
        return error{errc::too_many_resources, vring_at + layout::vring::notifyid.offset, v.index(),
                     Limits::max_notify_ids};
      // Recorded before allocating, so that release() gives the id back if allocation fails.
      vring_record& record = vrings_[vring_count_++];
      record = {v.index(), k, *notifyid, vring.num(), vring.align(), {}};
      auto region = platform.allocate({vring.da(), fw_rsc_addr_any, static_cast<std::size_t>(bytes),
                                       vring.align(), allocation_purpose::vring, v.index()});
      if (!region) {
        error e = region.error();
        e.entry = v.index();
        e.offset = vring_at + layout::vring::da.offset;
        return e;
      }
      record.region = *region;
      vring.set_notifyid(*notifyid);
    }
    vdevs_[vdev_count_++] = {v.index(), v.id(), 0, 0};
    return {};
  }

  result<void> hand_vendor(Platform& platform, const mutable_vendor_entry& v) noexcept {
    vendor_outcome outcome = vendor_outcome::ignored;
    if constexpr (platform_handles_vendor<Platform>) outcome = platform.handle_vendor(vendor_entry(
        basic_byte_view<detail::dependent_t<const std::byte, Platform>>(v.bytes()), v.index(),
        v.offset()));
    else (void)platform;
    if (outcome == vendor_outcome::failed)
      return error{errc::vendor_resource_failed, v.offset(), v.index(), v.type_id()};
    if (outcome == vendor_outcome::ignored)
      warnings_.add({errc::vendor_resource_ignored, v.offset(), v.index(), v.type_id()});
    return {};
  }

  std::array<carveout_record, max_resources> carveouts_{};
  std::array<vring_record, max_resources> vrings_{};
  std::array<trace_record, max_resources> traces_{};
  std::array<devmem_request, max_resources> devmems_{};
  std::array<vdev_record, max_vdevs> vdevs_{};
  std::size_t carveout_count_ = 0, vring_count_ = 0, trace_count_ = 0, devmem_count_ = 0,
              vdev_count_ = 0;
  notify_id_pool<Limits::max_notify_ids> notify_ids_{};
  warnings_type warnings_{};
};

}  // namespace rproc
