// The engine of the lifecycle (SPEC section 4): the host's record of one remote processor and the
// operations that move it from state to state (start, stop, attach, detach, report_crash,
// recover), each leaving every resource released and the firmware's table as it was when it
// fails. Its operations are reached through the typed handles (remote.hpp) or the run-time
// machine (machine.hpp), which check what is legal before they call them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "bytes.hpp"
#include "clean_copy.hpp"
#include "crash.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "image.hpp"
#include "loader.hpp"
#include "located_table.hpp"
#include "platform.hpp"
#include "resources.hpp"
#include "table.hpp"

namespace rproc {

// Linux's numbering of remoteproc states (since v5.13).
enum class state : std::uint8_t {
  offline = 0,
  suspended = 1,
  running = 2,
  crashed = 3,
  deleted = 4,
  attached = 5,
  detached = 6,
  invalid = 7,  // Linux's RPROC_LAST: what sysfs shows for a state it cannot name
};

constexpr std::string_view to_string(state s) noexcept {
  switch (s) {
    case state::offline: return "offline";
    case state::suspended: return "suspended";
    case state::running: return "running";
    case state::crashed: return "crashed";
    case state::deleted: return "deleted";
    case state::attached: return "attached";
    case state::detached: return "detached";
    case state::invalid: return "invalid";
  }
  return "invalid";
}

// A crash the host was told of: why, and the state the remote was in.
struct crash_record {
  crash_reason reason = crash_reason::fatal_error;
  state from = state::offline;
};

// The choice made at detach when the firmware changed its table while the host held it.
struct detach_options {
  on_remote_change remote_change = on_remote_change::fail;
};

template <platform Platform, class State>
class remote;
template <platform Platform>
class machine;
namespace detail {
template <platform Platform>
class claim;
}  // namespace detail

// The host's record of one remote processor: its state, the host's cached copy of the table,
// the clean copy (only where the platform can detach), and every resource held, in fixed
// capacities. It outlives the handles it gives out; destroying it releases the remote as Linux
// does when the host side goes away: an attached remote is detached (it keeps running), a
// running one stopped.
template <platform Platform>
class processor {
  static_assert(check_platform<Platform>());
  // The table's types, instantiated with this class, not where rproc is included (dependent_t).
  using table_view = detail::dependent_t<rproc::table_view, Platform>;
  using mutable_table_view = detail::dependent_t<rproc::mutable_table_view, Platform>;

 public:
  using platform_type = Platform;
  using limits = typename limits_of<Platform>::type;
  static constexpr bool keeps_clean_copy = platform_can_detach<Platform>;
  using clean_copy_type = rproc::clean_copy<limits::max_table_size>;

  explicit processor(Platform& platform) noexcept : platform_(&platform) {
    if constexpr (platform_reports_running<Platform>)
      if (platform.is_running()) state_ = state::detached;
  }
  processor(const processor&) = delete;
  processor& operator=(const processor&) = delete;
  ~processor() { release(); }

  state current_state() const noexcept { return state_; }
  Platform& platform() const noexcept { return *platform_; }

  // The table the host writes to: the firmware's own while running or attached, otherwise the
  // host's cached copy. Nothing when the firmware has no table.
  std::optional<table_view> current_table() const noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_table(detail::deferred<Platform>(current_bytes()), order_);
    return parsed ? std::optional<table_view>(*parsed) : std::nullopt;
  }
  // The host's cached copy (at start: the image's table; after detach or stop: the last live
  // table, with the host's release writes).
  std::optional<table_view> cached_table() const noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_table(detail::deferred<Platform>(cache_bytes()), order_);
    return parsed ? std::optional<table_view>(*parsed) : std::nullopt;
  }
  // The clean copy taken at the last attach (only for platforms that can detach).
  const clean_copy_type* clean_copy() const noexcept {
    if constexpr (keeps_clean_copy) return clean_.has_value() ? &clean_ : nullptr;
    else return nullptr;
  }
  const resource_set<Platform, limits>& resources() const noexcept { return resources_; }
  std::span<const warning> warnings() const noexcept { return resources_.warnings().items(); }
  // What the last detach wrote back into the firmware's table.
  const restore_report& last_restore() const noexcept { return last_restore_; }

  // The last crash reported, kept after the recovery.
  const std::optional<crash_record>& last_crash() const noexcept { return last_crash_; }
  // The crash report in the firmware's live table, where the platform declares one (crash.hpp).
  std::optional<crash_report> firmware_crash_report() const noexcept {
    const auto live = on_live_ ? current_table() : std::nullopt;
    if (crash_report_type_of<Platform>() == 0 || !live) return std::nullopt;
    return find_crash_report(*live, crash_report_type_of<Platform>());
  }

  // A typed handle for the current state; one handle at a time.
  template <class State>
  result<remote<Platform, State>> claim() noexcept {
    if (claimed_) return error{errc::busy, 0, std::nullopt, 0};
    if (state_ != State::value) return invalid_state();
    claimed_ = true;
    return remote<Platform, State>(this);
  }

  // The host side goes away: detach an attached remote where the platform can (it keeps
  // running), otherwise stop it; stop a running or crashed one. Errors cannot be reported here;
  // the state says what happened.
  void release() noexcept {
    if (state_ == state::attached) {
      if constexpr (platform_can_detach<Platform>)
        if (detach({on_remote_change::restore_anyway})) return;
      if constexpr (platform_can_stop<Platform>) (void)stop();
    } else if (state_ == state::running || state_ == state::crashed) {
      if constexpr (platform_can_stop<Platform>) (void)stop();
    }
  }

 private:
  template <rproc::platform, class>
  friend class remote;
  template <rproc::platform>
  friend class machine;
  template <rproc::platform>
  friend class detail::claim;

  error invalid_state() const noexcept {
    return {errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
  }
  std::span<std::byte> cache_bytes() noexcept { return std::span(cache_).first(table_size_); }
  std::span<const std::byte> cache_bytes() const noexcept {
    return std::span<const std::byte>(cache_).first(table_size_);
  }
  std::span<const std::byte> current_bytes() const noexcept {
    return on_live_ ? live_ : cache_bytes();
  }
  // The table the host writes to, and its cached copy, as mutable views.
  std::optional<mutable_table_view> writable_table() noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed =
        parse_mutable_table(detail::deferred<Platform>(on_live_ ? live_ : cache_bytes()), order_);
    return parsed ? std::optional<mutable_table_view>(*parsed) : std::nullopt;
  }
  std::optional<mutable_table_view> writable_cache() noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_mutable_table(detail::deferred<Platform>(cache_bytes()), order_);
    return parsed ? std::optional<mutable_table_view>(*parsed) : std::nullopt;
  }
  static void copy_differing(std::span<const std::byte> from, std::span<std::byte> to) noexcept {
    if (to.size() < from.size()) from = from.first(to.size());
    (void)detail::copy_differing(from, to);
  }
  result<void> prepare() noexcept {
    if constexpr (platform_has_prepare<Platform>) return platform_->prepare();
    else return {};
  }
  void unprepare() noexcept {
    if constexpr (platform_has_prepare<Platform>) platform_->unprepare();
  }

  // offline -> running (Linux's rproc_fw_boot + rproc_start order).
  template <bootable_image Image>
  result<void> start(const Image& image) noexcept
    requires platform_can_start<Platform>
  {
    if (state_ != state::offline) return invalid_state();
    const auto found = image.resource_table();
    table_size_ = 0;
    on_live_ = false;
    live_ = {};
    if (found) {
      const auto& t = *found;
      if (t.bytes.size() > cache_.size())
        return error{errc::table_too_large, 0, std::nullopt, t.bytes.size()};
      if (const auto parsed = detail::deferred<Platform>(t).parse(); !parsed)
        return parsed.error();
      detail::copy_into(cache_, t.bytes);
      table_size_ = t.bytes.size();
      order_ = t.order;
    } else if (!table_optional<Platform>()) {
      return error{errc::no_resource_table, 0, std::nullopt, 0};
    }
    if (auto prepared = prepare(); !prepared) return prepared;

    const auto fail = [&](const error& e) -> result<void> {
      on_live_ = false;  // release writes go to the host's copy, not to the loaded image
      resources_.release(*platform_, writable_cache());
      unprepare();
      return e;
    };
    if (const auto cache = writable_cache()) {
      if (auto handled = resources_.handle(*platform_, *cache); !handled) return fail(handled.error());
      if (auto allocated = resources_.allocate_carveouts(*platform_, *cache); !allocated)
        return fail(allocated.error());
    }
    // The platform is asked once per range, whatever the image's loader does.
    auto da_to_va = [this](std::uint64_t da, std::size_t len) {
      return platform_->da_to_va(da, len);
    };
    translation_cache<decltype(da_to_va), 16> translate(da_to_va);
    if (auto loaded = image.load(address_translator(translate)); !loaded)
      return fail(loaded.error());
    if (table_size_ != 0) {
      const std::uint64_t da = found->da.value_or(0);
      const auto loaded_table =
          found->da ? platform_->da_to_va(da, table_size_) : std::span<std::byte>{};
      if (loaded_table.size() >= table_size_) {
        live_ = loaded_table.first(table_size_);
        copy_differing(cache_bytes(), live_);
        on_live_ = true;
      } else if (host_writes_anything()) {
        // Linux would go on with its cache, and the firmware would never see the host's values.
        return fail({errc::table_not_mapped, 0, std::nullopt, da});
      }
    }
    if (auto started = platform_->start(image.boot_address()); !started)
      return fail(started.error());
    result<void> up;  // the virtio side, then the doorbell: a failure stops the core again
    if (const auto current = writable_table()) up = resources_.start_virtio(*platform_, *current);
    if constexpr (platform_rings_doorbell<Platform>)
      if (up) up = platform_->ring_doorbell();
    if (!up) {
      if (const auto current = writable_table()) resources_.stop_virtio(*current);
      if constexpr (platform_can_stop<Platform>) (void)platform_->stop();
      return fail(up.error());
    }
    state_ = state::running;
    return {};
  }

  bool host_writes_anything() const noexcept {
    bool any = false;
    if (const auto t = cached_table())
      for_each_host_field(*t, [&](const host_field&) { any = true; });
    return any;
  }

  // running, attached or crashed -> offline.
  result<void> stop() noexcept
    requires platform_can_stop<Platform>
  {
    if (state_ != state::running && state_ != state::attached && state_ != state::crashed)
      return invalid_state();
    const bool was_live = on_live_;
    if (const auto current = writable_table()) resources_.stop_virtio(*current);
    if (on_live_) {
      copy_differing(live_, cache_bytes());  // the host goes back to its own copy
      on_live_ = false;
    }
    if (auto stopped = platform_->stop(); !stopped) {
      on_live_ = was_live;
      if (const auto current = writable_table()) resources_.resume_virtio(*platform_, *current);
      return stopped;
    }
    resources_.release(*platform_, writable_cache());
    unprepare();
    if constexpr (keeps_clean_copy) clean_.clear();
    live_ = {};
    state_ = state::offline;
    return {};
  }

  // detached -> attached.
  result<void> attach() noexcept
    requires platform_can_attach<Platform>
  {
    if (state_ != state::detached) return invalid_state();
    if (auto prepared = prepare(); !prepared) return prepared;
    const auto location = platform_->loaded_table();
    if (!location) {
      unprepare();
      return location.error();
    }
    const std::span<std::byte> live = location->bytes;
    invalidate_cache_of(*platform_, live);
    if (live.size() > cache_.size()) {
      unprepare();
      return error{errc::table_too_large, 0, std::nullopt, live.size()};
    }
    const auto parsed = detail::deferred<Platform>(*location).parse();
    if (!parsed) {
      unprepare();
      return parsed.error();
    }
    // The cache keeps the table as found until the attach is complete: a failure writes it back.
    live_ = live;
    order_ = location->order;
    table_size_ = live.size();
    detail::copy_into(cache_, live);
    on_live_ = true;
    if constexpr (keeps_clean_copy) (void)clean_.take(live, order_);

    // The table as found written back; after a DRIVER_OK (a doorbell that failed) status 0 first.
    const auto fail = [&](const error& e) -> result<void> {
      if (const auto found = cached_table()) resources_.reset_status(*platform_, live_, *found);
      copy_differing(cache_bytes(), live_);
      clean_cache_of(*platform_, live_);
      resources_.release(*platform_, std::nullopt);
      on_live_ = false;
      live_ = {};
      if constexpr (keeps_clean_copy) clean_.clear();
      unprepare();
      return e;
    };
    const mutable_table_view& table = *parsed;
    if (auto handled = resources_.handle(*platform_, table); !handled) return fail(handled.error());
    if (auto allocated = resources_.allocate_carveouts(*platform_, table); !allocated)
      return fail(allocated.error());
    if constexpr (platform_has_attach_notification<Platform>)
      if (auto told = platform_->attach(); !told) return fail(told.error());
    if (auto up = resources_.start_virtio(*platform_, table); !up) return fail(up.error());
    if constexpr (platform_rings_doorbell<Platform>)
      if (auto rung = platform_->ring_doorbell(); !rung) return fail(rung.error());
    state_ = state::attached;
    return {};
  }

  // attached -> detached; the core keeps running. Recovery detaches a crashed remote too.
  result<void> detach(const detach_options& options) noexcept
    requires platform_can_detach<Platform>
  {
    if (state_ != state::attached && state_ != state::crashed) return invalid_state();
    if (!on_live_ || !clean_.has_value()) return invalid_state();
    invalidate_cache_of(*platform_, live_);
    const auto changed = clean_.first_remote_change(live_);
    if (changed && options.remote_change == on_remote_change::fail)
      return error{errc::table_changed_by_remote, *changed, std::nullopt,
                   std::to_integer<std::uint64_t>(live_[*changed])};
    // The table as the host had it goes to the host's copy: written back whole if the detach
    // fails, so that every byte is as it was (the firmware's own writes too), and where the
    // host's writes land from now on.
    copy_differing(live_, cache_bytes());
    // Virtio reset first (SPEC section 3: status 0 visible before any restored byte), at the
    // offsets of the table as the host found it: a table the firmware changed may parse to other
    // entries, or not at all, and the restore writes those bytes back anyway.
    const table_view found = clean_.view();
    resources_.reset_status(*platform_, live_, found);
    on_live_ = false;
    const auto restored = clean_.restore(live_, options.remote_change);
    clean_cache_of(*platform_, live_);
    if (!restored) {  // cannot happen after the check above
      resources_.write_back(*platform_, live_, cache_bytes(), found);
      on_live_ = true;
      return restored.error();
    }
    if (auto told = platform_->detach(); !told) {
      resources_.write_back(*platform_, live_, cache_bytes(), found);
      on_live_ = true;
      return told.error();
    }
    last_restore_ = *restored;
    const auto cache = writable_cache();
    if (cache) resources_.stop_virtio(*cache);  // the host's copy records the reset, as Linux's
    resources_.release(*platform_, cache);
    unprepare();
    clean_.clear();
    live_ = {};
    state_ = state::detached;
    return {};
  }

  // running, attached or detached -> crashed (a crash report); nothing is released until the
  // recovery or the stop.
  result<void> report_crash(crash_reason reason) noexcept {
    if (state_ == state::offline || state_ == state::crashed) return invalid_state();
    last_crash_ = crash_record{reason, state_};
    state_ = state::crashed;
    return {};
  }

  // Recovery of a platform that attaches on recovery (Linux's RPROC_FEAT_ATTACH_ON_RECOVERY):
  // crashed while attached -> detached -> attached. A remote that crashed in another state has
  // no clean copy to detach with: invalid_state, still crashed.
  result<void> recover() noexcept
    requires platform_can_detach<Platform>
  {
    if (state_ != state::crashed || last_crash_->from != state::attached) return invalid_state();
    if (auto detached = detach({on_remote_change::restore_anyway}); !detached) return detached;
    return attach();
  }

  // Recovery from the image: crashed -> offline -> running. A failed start leaves it offline.
  template <bootable_image Image>
  result<void> recover(const Image& image) noexcept
    requires(platform_can_stop<Platform> && platform_can_start<Platform>)
  {
    if (state_ != state::crashed) return invalid_state();
    if (auto stopped = stop(); !stopped) return stopped;
    return start(image);
  }

  Platform* platform_;
  state state_ = state::offline;
  std::optional<crash_record> last_crash_{};
  bool claimed_ = false;
  bool on_live_ = false;
  endian order_ = endian::little;
  std::size_t table_size_ = 0;
  std::span<std::byte> live_{};
  std::array<std::byte, limits::max_table_size> cache_{};
  struct no_clean_copy {};
  [[no_unique_address]] std::conditional_t<keeps_clean_copy, clean_copy_type, no_clean_copy>
      clean_{};
  resource_set<Platform, limits> resources_{};
  restore_report last_restore_{};
};

}  // namespace rproc
