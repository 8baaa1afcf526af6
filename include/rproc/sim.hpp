// A simulated remote processor, to test code that drives rproc without hardware: device memory
// with an allocator, the firmware side of rproc running on it, counters of every operation, and
// fault injection (make the k-th operation fail, make the firmware crash). Not part of rproc/rproc.hpp: include it where
// you test.
//
// The firmware: started by the host or by a "boot loader", it keeps its table in device memory
// and runs rproc::firmware::vdev_link on it (the first vdev, as rpmsg firmware serves): it waits
// for DRIVER_OK, takes what the host assigned and checks that every vring lies in device memory
// before it uses it, stops using the vrings when the host resets the vdev, restores the table or
// tells it of a detach, and keeps running across a detach. Call run_firmware() to let it look at
// its table (kick() does too); firmware() says what it did.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bytes.hpp"
#include "crash.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "firmware.hpp"
#include "located_table.hpp"
#include "platform.hpp"
#include "resources.hpp"
#include "sim_ranges.hpp"
#include "table.hpp"

namespace rproc::sim {

// What the simulated platform can do: each missing capability removes the operation, so the
// lifecycle drops the transitions that need it.
struct features {
  bool can_start = true;
  bool can_stop = true;
  bool can_attach = true;
  bool can_detach = true;
  bool maps_devmem = true;
  bool attach_on_recovery = false;
  bool table_optional = false;
  std::uint32_t crash_report_type = 0;  // the firmware keeps a crash report (crash.hpp) there
};

// Device memory beside the pool: where fixed carveouts, trace buffers or a table may lie.
// Without backing bytes, it can be allocated but not read or written by the host.
struct window {
  std::uint64_t da = 0;
  std::size_t len = 0;
  std::span<std::byte> backing{};
  bool allocatable = true;
};

struct counters {
  std::uint64_t operations = 0;  // failable operations, the ones fault injection counts
  std::uint64_t faults_injected = 0;
  std::uint64_t allocations = 0, releases = 0;
  std::uint64_t devmem_maps = 0, devmem_unmaps = 0;
  std::uint64_t starts = 0, stops = 0, attaches = 0, detaches = 0;
  std::uint64_t prepares = 0, unprepares = 0, kicks = 0, translations = 0, vendor_entries = 0;
  std::size_t outstanding_allocations = 0;
  std::size_t outstanding_bytes = 0;
  std::size_t outstanding_devmem = 0;
};

enum class firmware_phase : std::uint8_t { off, waiting, connected, crashed };

// What the firmware has done and seen, from its vdev_link's events.
struct firmware_record {
  firmware_phase phase = firmware_phase::off;
  std::uint64_t boot_address = 0;
  std::uint32_t connections = 0;     // link_event::attached with every vring in device memory
  std::uint32_t refused = 0;         // link_event::attached with a vring it cannot reach
  std::uint32_t disconnections = 0;  // times it stopped using its vrings (detached, or told)
  std::uint32_t detach_notices = 0;  // the platform's detach() told it
  std::uint32_t attaches_seen = 0;   // the host asked for its table (loaded_table)
  std::uint32_t pristine_at_attach = 0;  // ... and found it as the firmware wrote it
  firmware::host_assignment assignment{};  // what the host gave at the last link_event::attached
  std::uint32_t crashes = 0;                  // times firmware_crashes() made it crash
};

// Device memory: a pool at pool_base from which the host allocates (carveouts, vrings), the
// firmware's own RAM at firmware_ram_base (where images load and tables live; only fixed
// addresses are allocated there), and up to 8 windows added by the user.
template <features Features = features{}, std::size_t PoolSize = 256 * 1024,
          std::size_t FirmwareRamSize = 64 * 1024>
class basic_platform {
 public:
  static constexpr std::uint32_t pool_base = 0x10000000u;
  static constexpr std::uint32_t firmware_ram_base = 0x20000000u;
  static constexpr std::size_t page_size = 4096;
  static constexpr bool attach_on_recovery = Features.attach_on_recovery;
  static constexpr bool table_optional = Features.table_optional;
  static constexpr std::uint32_t crash_report_type = Features.crash_report_type;
  static constexpr std::size_t max_allocations = 64;
  static constexpr std::size_t max_windows = 8;
  static constexpr std::size_t max_table_size = 4096;

  basic_platform() = default;
  basic_platform(const basic_platform&) = delete;
  basic_platform& operator=(const basic_platform&) = delete;

  // Set-up and observation, not platform operations.

  const counters& stats() const noexcept { return counters_; }
  const firmware_record& firmware() const noexcept { return firmware_; }
  bool is_running() const noexcept { return running_; }

  // The n-th failable operation from now fails (n = 1: the next one); 0 cancels.
  void fail_operation(std::uint64_t n) noexcept {
    fail_at_ = n == 0 ? 0 : counters_.operations + n;
  }

  bool add_window(const window& w) noexcept {
    if (window_count_ == max_windows || w.len == 0) return false;
    if (!w.backing.empty() && w.backing.size() < w.len) return false;
    windows_[window_count_++] = w;
    return true;
  }

  // A boot loader started the firmware: its table is at `table_da`, the core runs, and the host
  // will find it detached.
  result<void> boot_loader_start(std::span<const std::byte> table, std::uint64_t table_da,
                                 endian order = endian::little,
                                 std::uint64_t boot_address = 0) noexcept {
    if (table.size() > max_table_size)
      return error{errc::table_too_large, 0, std::nullopt, table.size()};
    const auto at = translate(table_da, table.size());
    if (at.size() < table.size() || table.empty())
      return error{errc::table_not_mapped, 0, std::nullopt, table_da};
    for (std::size_t i = 0; i < table.size(); ++i) at[i] = table[i];
    set_firmware_table(table_da, table.size(), order);
    boot_firmware(boot_address);
    return {};
  }

  // Where the firmware keeps its table when the host boots it (the image's sh_addr); the bytes
  // there when the core starts are the ones the firmware calls its own.
  void set_firmware_table(std::uint64_t da, std::size_t size, endian order) noexcept {
    table_da_ = da;
    table_size_ = size < max_table_size ? size : max_table_size;
    order_ = order;
    remember_original();
  }

  // The firmware's table in device memory, as the firmware sees it.
  std::span<std::byte> firmware_table() noexcept { return translate(table_da_, table_size_); }
  // Whether it holds exactly the bytes the firmware wrote.
  bool table_is_original() noexcept {
    const auto live = firmware_table();
    if (live.size() != table_size_ || table_size_ == 0) return false;
    return detail::first_difference(live, original_, 0) == table_size_;
  }
  // The firmware changes its own table (to test what the host does about it).
  void firmware_writes(std::size_t offset, std::byte value) noexcept {
    const auto live = firmware_table();
    if (offset < live.size()) {
      live[offset] = value;
      original_[offset] = value;
    }
  }

  // What the platform answers for vendor entries (128..512); without a handler, ignored.
  using vendor_handler = vendor_outcome (*)(const vendor_entry&);
  void on_vendor_entry(vendor_handler handler) noexcept { vendor_handler_ = handler; }

  // The firmware crashes: it stops serving its vrings and, where its table has a crash report,
  // writes crashed and `reason` there (AMD's firmware does, then notifies the host). It runs
  // again when the host stops and starts it, or, told of a detach, by a reset of its own.
  void firmware_crashes(crash_reason reason) noexcept {
    if (!running_ || firmware_.phase == firmware_phase::crashed) return;
    disconnect();
    firmware_.phase = firmware_phase::crashed;
    ++firmware_.crashes;
    const auto live = firmware_table();
    const auto table = parse_table(std::span<const std::byte>(live), order_);
    if (Features.crash_report_type == 0 || !table) return;
    if (const auto report = find_crash_report(*table, Features.crash_report_type)) {
      const basic_byte_view<std::byte> bytes(live, order_);
      (void)bytes.write_u32(report->offset + 4, 1);
      (void)bytes.write_u32(report->offset + 8, static_cast<std::uint32_t>(reason));
    }
  }

  // Lets the firmware look at its table once and react.
  void run_firmware() noexcept {
    if (!running_ || !link_ || firmware_.phase == firmware_phase::crashed) return;
    const firmware::link_event event = link_->poll();
    if (event == firmware::link_event::detached) disconnect();
    if (event != firmware::link_event::attached) return;
    firmware_.assignment = link_->assignment();
    bool reachable = true;
    for (std::uint32_t i = 0; i < firmware_.assignment.num_of_vrings; ++i) {
      const firmware::vring_assignment& vring = firmware_.assignment.vrings[i];
      const std::uint64_t bytes = vring_size(vring.num, vring.align);
      reachable = reachable && vring.da != fw_rsc_addr_any &&
                  translate(vring.da, static_cast<std::size_t>(bytes)).size() == bytes;
    }
    if (!reachable) {
      ++firmware_.refused;
      return;
    }
    firmware_.phase = firmware_phase::connected;
    ++firmware_.connections;
  }

  // The platform operations.

  std::span<std::byte> da_to_va(std::uint64_t da, std::size_t len) noexcept {
    ++counters_.translations;
    if (inject()) return {};
    return translate(da, len);
  }

  result<memory_region> allocate(const allocation_request& request) noexcept {
    if (inject()) return error{errc::out_of_memory, 0, std::nullopt, request.len};
    if (allocation_count_ == max_allocations)
      return error{errc::too_many_resources, 0, std::nullopt, max_allocations};
    if (request.len == 0) return error{errc::out_of_memory, 0, std::nullopt, request.len};
    std::optional<std::uint64_t> da;
    if (request.da != fw_rsc_addr_any) {
      // A fixed address is honoured or refused; the board has no IOMMU to remap it.
      if (!fits_fixed(request.da, request.len))
        return error{errc::address_unavailable, 0, std::nullopt, request.da};
      da = request.da;
    } else {
      da = first_fit(request.len, request.align > page_size ? request.align : page_size);
    }
    if (!da) return error{errc::out_of_memory, 0, std::nullopt, request.len};
    allocations_[allocation_count_++] = {*da, request.len};
    ++counters_.allocations;
    ++counters_.outstanding_allocations;
    counters_.outstanding_bytes += request.len;
    const auto da32 = static_cast<std::uint32_t>(*da);
    return memory_region{da32, request.pa == fw_rsc_addr_any ? da32 : request.pa, request.len,
                         translate(*da, request.len)};
  }

  void release(const memory_region& region) noexcept {
    for (std::size_t i = 0; i < allocation_count_; ++i) {
      if (allocations_[i].da != region.da || allocations_[i].len != region.len) continue;
      allocations_[i] = allocations_[--allocation_count_];
      ++counters_.releases;
      --counters_.outstanding_allocations;
      counters_.outstanding_bytes -= region.len;
      return;
    }
  }

  result<void> map_devmem(const devmem_request& request) noexcept
    requires(Features.maps_devmem)
  {
    if (inject()) return failure();
    ++counters_.devmem_maps;
    ++counters_.outstanding_devmem;
    (void)request;
    return {};
  }
  void unmap_devmem(const devmem_request&) noexcept
    requires(Features.maps_devmem)
  {
    ++counters_.devmem_unmaps;
    --counters_.outstanding_devmem;
  }

  result<void> prepare() noexcept {
    if (inject()) return failure();
    ++counters_.prepares;
    return {};
  }
  void unprepare() noexcept { ++counters_.unprepares; }

  result<void> start(std::uint64_t boot_address) noexcept
    requires(Features.can_start)
  {
    if (inject()) return failure();
    ++counters_.starts;
    boot_firmware(boot_address);
    return {};
  }

  result<void> stop() noexcept
    requires(Features.can_stop)
  {
    if (inject()) return failure();
    ++counters_.stops;
    running_ = false;
    link_.reset();
    firmware_.phase = firmware_phase::off;
    return {};
  }

  result<mutable_located_table> loaded_table() noexcept
    requires(Features.can_attach)
  {
    if (inject()) return error{errc::platform_failure, 0, std::nullopt, 0};
    if (!running_ || table_size_ == 0) return error{errc::no_resource_table, 0, std::nullopt, 0};
    ++firmware_.attaches_seen;
    if (table_is_original()) ++firmware_.pristine_at_attach;
    return mutable_located_table{firmware_table(), order_, table_da_, std::nullopt};
  }

  result<void> attach() noexcept
    requires(Features.can_attach)
  {
    if (inject()) return failure();
    ++counters_.attaches;
    return {};
  }

  result<void> detach() noexcept
    requires(Features.can_detach && Features.can_attach)
  {
    if (inject()) return failure();
    ++counters_.detaches;
    ++firmware_.detach_notices;
    if (firmware_.phase == firmware_phase::crashed) {
      boot_firmware(firmware_.boot_address);  // its table restored by now
      return {};
    }
    // Told of the detach, a firmware using its vrings stops, looks at its table (restored by
    // now) and waits for the next attach, as after the boot loader. One not using them has
    // nothing to stop: it sees the host's next attach in its table.
    if (link_ && link_->attached()) {
      link_->detach_notified();
      disconnect();
      run_firmware();
    }
    return {};
  }

  vendor_outcome handle_vendor(const vendor_entry& entry) noexcept {
    ++counters_.vendor_entries;
    if (Features.crash_report_type != 0 && entry.type_id() == Features.crash_report_type)
      return vendor_outcome::handled;  // the host reads it when told of a crash
    return vendor_handler_ == nullptr ? vendor_outcome::ignored : vendor_handler_(entry);
  }

  result<void> kick(std::uint32_t) noexcept {
    if (inject()) return failure();
    ++counters_.kicks;
    run_firmware();
    return {};
  }

 private:
  struct allocation {
    std::uint64_t da = 0;
    std::size_t len = 0;
  };

  bool inject() noexcept {
    ++counters_.operations;
    if (fail_at_ == 0 || counters_.operations != fail_at_) return false;
    ++counters_.faults_injected;
    fail_at_ = 0;
    return true;
  }
  static constexpr error failure() noexcept { return {errc::platform_failure, 0, std::nullopt, 0}; }

  static constexpr bool inside(std::uint64_t base, std::size_t size, std::uint64_t da,
                               std::size_t len) noexcept {
    return da >= base && da - base <= size && len <= size - (da - base);
  }

  std::span<std::byte> translate(std::uint64_t da, std::size_t len) noexcept {
    if (inside(pool_base, PoolSize, da, len))
      return std::span(pool_).subspan(static_cast<std::size_t>(da - pool_base), len);
    if (inside(firmware_ram_base, FirmwareRamSize, da, len))
      return std::span(firmware_ram_).subspan(static_cast<std::size_t>(da - firmware_ram_base), len);
    for (std::size_t i = 0; i < window_count_; ++i) {
      const window& w = windows_[i];
      if (!w.backing.empty() && inside(w.da, w.len, da, len))
        return w.backing.subspan(static_cast<std::size_t>(da - w.da), len);
    }
    return {};
  }

  bool overlaps_allocation(std::uint64_t da, std::size_t len) const noexcept {
    for (std::size_t i = 0; i < allocation_count_; ++i) {
      const allocation& a = allocations_[i];
      if (da < a.da + a.len && a.da < da + len) return true;
    }
    return false;
  }

  bool fits_fixed(std::uint64_t da, std::size_t len) const noexcept {
    bool in_memory =
        inside(pool_base, PoolSize, da, len) || inside(firmware_ram_base, FirmwareRamSize, da, len);
    for (std::size_t i = 0; i < window_count_ && !in_memory; ++i)
      in_memory = windows_[i].allocatable && inside(windows_[i].da, windows_[i].len, da, len);
    return in_memory && !overlaps_allocation(da, len);
  }

  std::optional<std::uint64_t> first_fit(std::size_t len, std::size_t align) const noexcept {
    for (std::uint64_t da = pool_base; inside(pool_base, PoolSize, da, len);
         da += align) {
      if (!overlaps_allocation(da, len)) return da;
    }
    return std::nullopt;
  }

  // The firmware starts: it remembers its table as it wrote it and links to it.
  void boot_firmware(std::uint64_t boot_address) noexcept {
    remember_original();
    running_ = true;
    firmware_.phase = firmware_phase::waiting;
    firmware_.boot_address = boot_address;
    link_.reset();
    if (const auto live = firmware_table(); !live.empty())
      link_.emplace(live, order_, link_copy_, std::span<const std::byte>(original_).first(live.size()));
  }
  void disconnect() noexcept {
    if (firmware_.phase == firmware_phase::connected) ++firmware_.disconnections;
    firmware_.phase = firmware_phase::waiting;
  }

  void remember_original() noexcept {
    const auto live = firmware_table();
    for (std::size_t i = 0; i < live.size() && i < original_.size(); ++i) original_[i] = live[i];
  }

  std::array<std::byte, PoolSize> pool_{};
  std::array<std::byte, FirmwareRamSize> firmware_ram_{};
  std::array<window, max_windows> windows_{};
  std::size_t window_count_ = 0;
  std::array<allocation, max_allocations> allocations_{};
  std::size_t allocation_count_ = 0;
  counters counters_{};
  std::uint64_t fail_at_ = 0;
  bool running_ = false;
  std::uint64_t table_da_ = 0;
  std::size_t table_size_ = 0;
  endian order_ = endian::little;
  std::array<std::byte, max_table_size> original_{};
  std::array<std::byte, max_table_size> link_copy_{};  // the firmware's copy of its table
  std::optional<firmware::vdev_link<std::dynamic_extent, dynamic_endian>> link_;
  firmware_record firmware_{};
  vendor_handler vendor_handler_ = nullptr;
};

using platform = basic_platform<>;

}  // namespace rproc::sim
