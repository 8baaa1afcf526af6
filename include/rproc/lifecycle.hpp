// The lifecycle of a remote processor (SPEC section 4): start and stop firmware, attach to
// firmware that someone else started, detach from it while it keeps running, and re-attach
// cleanly, because the table the firmware wrote is saved at attach and written back at detach.
//
//   rproc::processor<board_platform> proc(board);        // the host's record of one remote
//   auto detached = proc.claim<rproc::detached>().value(); // typed handle: remote<P, detached>
//   auto attaching = std::move(detached).attach();
//   if (!attaching) { /* attaching.error(); std::move(attaching).previous() is still detached */ }
//   auto attached = std::move(attaching).value();          // remote<P, attached>
//   auto detached_again = std::move(attached).detach().value();
//
// A transition exists only where it is legal and the platform can carry it out; otherwise the
// call does not compile and the compiler names the rule (a deleted overload whose last parameter
// type spells it, e.g. detach_is_only_legal_on_an_attached_remote). A transition that fails at
// run time gives back the error and the handle in its old state, with every resource released
// and the firmware's table as it was. rproc::machine is the same for states known at run time.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "bytes.hpp"
#include "elf.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "platform.hpp"
#include "resources.hpp"
#include "snapshot.hpp"
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

// The states of the typed handle.
struct offline {
  static constexpr state value = state::offline;
};
struct running {
  static constexpr state value = state::running;
};
struct attached {
  static constexpr state value = state::attached;
};
struct detached {
  static constexpr state value = state::detached;
};

// What start() needs of a firmware image's table: its bytes, byte order, and the device address
// where the firmware expects it (an ELF section's sh_addr). rproc::elf_image provides it.
using image_table = elf_image_table;

// A device-address translation handed to an image's loader, without templates or a heap.
class address_translator {
 public:
  template <class F>
    requires std::is_invocable_r_v<std::span<std::byte>, F&, std::uint64_t, std::size_t>
  explicit address_translator(F& f) noexcept
      : context_(&f), call_([](void* c, std::uint64_t da, std::size_t len) {
          return (*static_cast<F*>(c))(da, len);
        }) {}
  std::span<std::byte> operator()(std::uint64_t da, std::size_t len) const {
    return call_(context_, da, len);
  }

 private:
  void* context_;
  std::span<std::byte> (*call_)(void*, std::uint64_t, std::size_t);
};

// What start() needs of a firmware image; rproc::elf_image is one.
template <class I>
concept bootable_image = requires(const I& image, const address_translator& translate) {
  { image.boot_address() } -> std::convertible_to<std::uint64_t>;
  // The image's table, or nothing when it has none.
  { image.table() } -> std::same_as<result<std::optional<image_table>>>;
  // Loads every segment through `translate`, writing nothing unless all of them fit.
  { image.load(translate) } -> std::same_as<result<void>>;
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
 public:
  using platform_type = Platform;
  using limits = typename limits_of<Platform>::type;
  static constexpr bool keeps_clean_copy = platform_can_detach<Platform>;

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
  std::optional<table_view> table() const noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_table<Platform>(current_bytes(), order_, {});
    if (!parsed) return std::nullopt;
    return *parsed;
  }
  // The host's cached copy (at start: the image's table; after detach or stop: the last live
  // table, with the host's release writes).
  std::optional<table_view> cached_table() const noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed =
        parse_table<Platform>(std::span<const std::byte>(cache_).first(table_size_), order_);
    if (!parsed) return std::nullopt;
    return *parsed;
  }
  // The clean copy taken at the last attach (only for platforms that can detach).
  const basic_table_snapshot* clean_copy() const noexcept {
    if constexpr (keeps_clean_copy) return clean_.has_value() ? &clean_ : nullptr;
    else return nullptr;
  }
  const resource_set<Platform, limits>& resources() const noexcept { return resources_; }
  std::span<const warning> warnings() const noexcept { return resources_.warnings().items(); }
  // What the last detach wrote back into the firmware's table.
  const restore_report& last_restore() const noexcept { return last_restore_; }

  // A typed handle for the current state; one handle at a time.
  template <class State>
  result<remote<Platform, State>> claim() noexcept {
    if (claimed_) return error{errc::busy, 0, std::nullopt, 0};
    if (state_ != State::value)
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    claimed_ = true;
    return remote<Platform, State>(this);
  }

  // The host side goes away: detach an attached remote where the platform can (it keeps
  // running), otherwise stop it; stop a running one. Errors cannot be reported here; the state
  // says what happened.
  void release() noexcept {
    if (state_ == state::attached) {
      if constexpr (platform_can_detach<Platform>)
        if (disconnect({on_remote_change::restore_anyway})) return;
      if constexpr (platform_can_stop<Platform>) (void)shutdown();
    } else if (state_ == state::running || state_ == state::crashed) {
      if constexpr (platform_can_stop<Platform>) (void)shutdown();
    }
  }

 private:
  template <rproc::platform, class>
  friend class remote;
  template <rproc::platform>
  friend class machine;
  template <rproc::platform, class, class>
  friend class transition;
  template <rproc::platform>
  friend class detail::claim;

  std::span<std::byte> cache_bytes() noexcept { return std::span(cache_).first(table_size_); }
  std::span<const std::byte> current_bytes() const noexcept {
    if (on_live_) return live_;
    return std::span<const std::byte>(cache_).first(table_size_);
  }
  std::optional<mutable_table_view> current_table() noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_mutable_table<Platform>(on_live_ ? live_ : cache_bytes(), order_);
    if (!parsed) return std::nullopt;
    return *parsed;
  }
  std::optional<mutable_table_view> cache_table() noexcept {
    if (table_size_ == 0) return std::nullopt;
    const auto parsed = parse_mutable_table<Platform>(cache_bytes(), order_);
    if (!parsed) return std::nullopt;
    return *parsed;
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
  result<void> boot(const Image& image) noexcept
    requires platform_can_start<Platform>
  {
    if (state_ != state::offline)
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    const auto located = image.table();
    if (!located) return located.error();
    table_size_ = 0;
    on_live_ = false;
    live_ = {};
    if (*located) {
      const image_table& t = **located;
      if (t.bytes.size() > cache_.size())
        return error{errc::table_too_large, 0, std::nullopt, t.bytes.size()};
      if (const auto parsed = parse_table<Platform>(t.bytes, t.order); !parsed)
        return parsed.error();
      for (std::size_t i = 0; i < t.bytes.size(); ++i) cache_[i] = t.bytes[i];
      table_size_ = t.bytes.size();
      order_ = t.order;
    } else if (!table_optional<Platform>()) {
      return error{errc::no_resource_table, 0, std::nullopt, 0};
    }
    if (auto prepared = prepare(); !prepared) return prepared;

    const auto fail = [&](const error& e) -> result<void> {
      on_live_ = false;  // release writes go to the host's copy, not to the loaded image
      resources_.release(*platform_, cache_table());
      unprepare();
      return e;
    };
    if (const auto cache = cache_table()) {
      if (auto handled = resources_.handle(*platform_, *cache); !handled) return fail(handled.error());
      if (auto allocated = resources_.allocate_carveouts(*platform_, *cache); !allocated)
        return fail(allocated.error());
    }
    // A loader may translate a segment twice (check, then copy); asking the platform once per
    // range keeps both answers the same even when a translation fails.
    struct translation {
      std::uint64_t da;
      std::size_t len;
      std::span<std::byte> target;
    };
    std::array<translation, 16> asked{};
    std::size_t asked_count = 0;
    auto translate = [&](std::uint64_t da, std::size_t len) {
      for (std::size_t i = 0; i < asked_count; ++i)
        if (asked[i].da == da && asked[i].len == len) return asked[i].target;
      const auto target = platform_->da_to_va(da, len);
      if (asked_count < asked.size()) asked[asked_count++] = {da, len, target};
      return target;
    };
    if (auto loaded = image.load(address_translator(translate)); !loaded)
      return fail(loaded.error());
    if (table_size_ != 0) {
      const auto& t = **located;
      const auto loaded_table = platform_->da_to_va(t.da, table_size_);
      if (loaded_table.size() >= table_size_) {
        live_ = loaded_table.first(table_size_);
        copy_differing(cache_bytes(), live_);
        on_live_ = true;
      } else if (host_writes_anything()) {
        // Linux would go on with its cache, and the firmware would never see the host's values.
        return fail({errc::table_not_mapped, 0, std::nullopt, t.da});
      }
    }
    if (auto started = platform_->start(image.boot_address()); !started)
      return fail(started.error());
    if (const auto current = current_table()) resources_.start_virtio(*platform_, *current);
    state_ = state::running;
    return {};
  }

  bool host_writes_anything() const noexcept {
    bool any = false;
    if (const auto t = cached_table())
      for_each_host_field(*t, [&](const host_field&) { any = true; });
    return any;
  }

  // running or attached (or crashed) -> offline.
  result<void> shutdown() noexcept
    requires platform_can_stop<Platform>
  {
    if (state_ != state::running && state_ != state::attached && state_ != state::crashed)
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    const bool was_live = on_live_;
    if (const auto current = current_table()) resources_.stop_virtio(*current);
    if (on_live_) {
      copy_differing(live_, cache_bytes());  // the host goes back to its own copy
      on_live_ = false;
    }
    if (auto stopped = platform_->stop(); !stopped) {
      on_live_ = was_live;
      if (const auto current = current_table()) resources_.resume_virtio(*current);
      return stopped;
    }
    resources_.release(*platform_, cache_table());
    unprepare();
    if constexpr (keeps_clean_copy) clean_.clear();
    live_ = {};
    state_ = state::offline;
    return {};
  }

  // detached -> attached.
  result<void> connect() noexcept
    requires platform_can_attach<Platform>
  {
    if (state_ != state::detached)
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    if (auto prepared = prepare(); !prepared) return prepared;
    auto location = platform_->loaded_table();
    if (!location) {
      unprepare();
      return location.error();
    }
    const std::span<std::byte> live = location->bytes;
    if (live.size() > cache_.size()) {
      unprepare();
      return error{errc::table_too_large, 0, std::nullopt, live.size()};
    }
    if (const auto parsed = parse_table<Platform>(live, location->order); !parsed) {
      unprepare();
      return parsed.error();
    }
    // The cache keeps the table as found until the attach is complete: a failure writes it back.
    live_ = live;
    order_ = location->order;
    table_size_ = live.size();
    for (std::size_t i = 0; i < live.size(); ++i) cache_[i] = live[i];
    on_live_ = true;
    if constexpr (keeps_clean_copy) (void)clean_.take(live, order_);

    const auto fail = [&](const error& e) -> result<void> {
      resources_.release(*platform_, std::nullopt);
      copy_differing(cache_bytes(), live_);
      on_live_ = false;
      live_ = {};
      if constexpr (keeps_clean_copy) clean_.clear();
      unprepare();
      return e;
    };
    const auto current = current_table();
    if (!current) return fail({errc::table_changed_by_remote, 0, std::nullopt, 0});
    const auto& table = *current;
    if (auto handled = resources_.handle(*platform_, table); !handled) return fail(handled.error());
    if (auto allocated = resources_.allocate_carveouts(*platform_, table); !allocated)
      return fail(allocated.error());
    if constexpr (platform_has_attach_notification<Platform>)
      if (auto told = platform_->attach(); !told) return fail(told.error());
    resources_.start_virtio(*platform_, table);
    state_ = state::attached;
    return {};
  }

  // attached (or crashed from attached) -> detached; the core keeps running.
  result<void> disconnect(const detach_options& options) noexcept
    requires platform_can_detach<Platform>
  {
    if (state_ != state::attached && state_ != state::crashed)
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    if (!on_live_ || !clean_.has_value())
      return error{errc::invalid_state, 0, std::nullopt, static_cast<std::uint64_t>(state_)};
    const auto changed = clean_.first_remote_change(live_);
    if (changed && options.remote_change == on_remote_change::fail)
      return error{errc::table_changed_by_remote, *changed, std::nullopt,
                   std::to_integer<std::uint64_t>(live_[*changed])};
    // The table as the host had it goes to the host's copy: written back whole if the detach
    // fails, so that every byte is as it was (the firmware's own writes too), and where the
    // host's writes land from now on.
    copy_differing(live_, cache_bytes());
    // Virtio reset in the live table (Linux's order), only while it is laid out as at attach: a
    // table the firmware changed may parse to other entries, or not at all, and the restore
    // below writes every host field anyway.
    if (!changed)
      if (const auto live = current_table()) resources_.stop_virtio(*live);
    on_live_ = false;
    const auto restored = clean_.restore(live_, options.remote_change);
    if (!restored) {  // cannot happen after the check above
      copy_differing(cache_bytes(), live_);
      on_live_ = true;
      return restored.error();
    }
    if (auto told = platform_->detach(); !told) {
      copy_differing(cache_bytes(), live_);
      on_live_ = true;
      return told.error();
    }
    last_restore_ = *restored;
    const auto cache = cache_table();
    if (cache) resources_.stop_virtio(*cache);  // the host's copy records the reset, as Linux's
    resources_.release(*platform_, cache);
    unprepare();
    clean_.clear();
    live_ = {};
    state_ = state::detached;
    return {};
  }

  Platform* platform_;
  state state_ = state::offline;
  state crashed_from_ = state::offline;
  bool claimed_ = false;
  bool on_live_ = false;
  endian order_ = endian::little;
  std::size_t table_size_ = 0;
  std::span<std::byte> live_{};
  std::array<std::byte, limits::max_table_size> cache_{};
  struct no_clean_copy {};
  [[no_unique_address]] std::conditional_t<keeps_clean_copy, table_snapshot<limits::max_table_size>,
                                           no_clean_copy>
      clean_{};
  resource_set<Platform, limits> resources_{};
  restore_report last_restore_{};
};

// Tags whose names are the compiler's message when a transition is not legal.
struct start_is_only_legal_on_an_offline_remote {};
struct start_needs_a_platform_that_can_start_the_core {};
struct stop_is_only_legal_on_a_running_or_attached_remote {};
struct stop_needs_a_platform_that_can_stop_the_core {};
struct attach_is_only_legal_on_a_detached_remote {};
struct attach_needs_a_platform_that_reports_the_loaded_table {};
struct detach_is_only_legal_on_an_attached_remote {};
struct detach_needs_a_platform_that_can_detach {};
struct kick_is_only_legal_on_a_running_or_attached_remote {};
struct a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle {};

namespace detail {
// Owns the claim on a processor: moving hands it on, destroying it gives it back.
template <platform Platform>
class claim {
 public:
  constexpr claim() noexcept = default;
  explicit constexpr claim(processor<Platform>* p) noexcept : processor_(p) {}
  claim(claim&& other) noexcept : processor_(std::exchange(other.processor_, nullptr)) {}
  claim& operator=(claim&& other) noexcept {
    if (this != &other) {
      drop();
      processor_ = std::exchange(other.processor_, nullptr);
    }
    return *this;
  }
  ~claim() { drop(); }
  processor<Platform>* get() const noexcept { return processor_; }
  processor<Platform>* hand_over() noexcept { return std::exchange(processor_, nullptr); }

 private:
  void drop() noexcept {
    if (processor_ != nullptr) processor_->claimed_ = false;
    processor_ = nullptr;
  }
  processor<Platform>* processor_ = nullptr;
};
}  // namespace detail

// The outcome of a transition: the handle in the next state, or the error and the handle back
// in the state it had.
template <platform Platform, class Next, class Previous>
class [[nodiscard]] transition {
 public:
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  const rproc::error& error() const noexcept {
    if (!error_) detail::bad_result_access();
    return *error_;
  }
  remote<Platform, Next> value() && noexcept {
    if (error_) detail::bad_result_access();
    return remote<Platform, Next>(claim_.hand_over());
  }
  remote<Platform, Previous> previous() && noexcept {
    if (!error_) detail::bad_result_access();
    return remote<Platform, Previous>(claim_.hand_over());
  }

 private:
  template <rproc::platform, class>
  friend class remote;
  transition(processor<Platform>* p, const result<void>& outcome) noexcept : claim_(p) {
    if (!outcome) error_ = outcome.error();
  }
  detail::claim<Platform> claim_;
  std::optional<rproc::error> error_;
};

// A remote processor in a state known at compile time.
template <platform Platform, class State>
class [[nodiscard]] remote {
  static constexpr bool is_offline = std::is_same_v<State, offline>;
  static constexpr bool is_running = std::is_same_v<State, running>;
  static constexpr bool is_attached = std::is_same_v<State, attached>;
  static constexpr bool is_detached = std::is_same_v<State, detached>;
  static_assert(is_offline || is_running || is_attached || is_detached,
                "rproc::remote's State is rproc::offline, running, attached or detached");

 public:
  using platform_type = Platform;
  using state_type = State;
  static constexpr state value = State::value;

  remote(remote&&) noexcept = default;
  remote& operator=(remote&&) noexcept = default;

  // What the handle refers to (its table, resources, warnings, platform).
  const rproc::processor<Platform>& processor() const noexcept { return *claim_.get(); }
  Platform& platform() const noexcept { return claim_.get()->platform(); }

  // offline -> running. On failure: offline, nothing held.
  template <bootable_image Image>
  transition<Platform, running, offline> start(const Image& image) &&
    requires(is_offline && platform_can_start<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->boot(image)};
  }
  template <class Image>
  void start(const Image&, start_is_only_legal_on_an_offline_remote = {}) &&
    requires(!is_offline)
  = delete;
  template <class Image>
  void start(const Image&, start_needs_a_platform_that_can_start_the_core = {}) &&
    requires(is_offline && !platform_can_start<Platform>)
  = delete;
  template <class Image>
  void start(const Image&, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) &
      = delete;

  // running -> offline; attached -> offline. On failure: the old state, virtio as it was.
  transition<Platform, offline, State> stop() &&
    requires((is_running || is_attached) && platform_can_stop<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->shutdown()};
  }
  void stop(stop_is_only_legal_on_a_running_or_attached_remote = {}) &&
    requires(!is_running && !is_attached)
  = delete;
  void stop(stop_needs_a_platform_that_can_stop_the_core = {}) &&
    requires((is_running || is_attached) && !platform_can_stop<Platform>)
  = delete;
  void stop(a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // detached -> attached. On failure: detached, nothing held, the firmware's table as it was.
  transition<Platform, attached, detached> attach() &&
    requires(is_detached && platform_can_attach<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->connect()};
  }
  void attach(attach_is_only_legal_on_a_detached_remote = {}) &&
    requires(!is_detached)
  = delete;
  void attach(attach_needs_a_platform_that_reports_the_loaded_table = {}) &&
    requires(is_detached && !platform_can_attach<Platform>)
  = delete;
  void attach(a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // attached -> detached: the clean copy is written back and the core keeps running. On failure
  // (the firmware changed its table and options say fail; the platform refused): attached, as
  // it was.
  transition<Platform, detached, attached> detach(detach_options options = {}) &&
    requires(is_attached && platform_can_detach<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->disconnect(options)};
  }
  void detach(detach_options = {}, detach_is_only_legal_on_an_attached_remote = {}) &&
    requires(!is_attached)
  = delete;
  void detach(detach_options = {}, detach_needs_a_platform_that_can_detach = {}) &&
    requires(is_attached && !platform_can_detach<Platform>)
  = delete;
  void detach(detach_options, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle) & =
      delete;
  void detach() & = delete;

  // Notifies the remote that vring `notifyid` has work.
  result<void> kick(std::uint32_t notifyid) const
    requires((is_running || is_attached) && platform_can_kick<Platform>)
  {
    return claim_.get()->platform().kick(notifyid);
  }
  void kick(std::uint32_t, kick_is_only_legal_on_a_running_or_attached_remote = {}) const
    requires(!is_running && !is_attached)
  = delete;

 private:
  friend class rproc::processor<Platform>;
  template <rproc::platform, class, class>
  friend class transition;
  explicit remote(rproc::processor<Platform>* p) noexcept : claim_(p) {}
  detail::claim<Platform> claim_;
};

// A remote whose state is known only at run time, driven by Linux's sysfs commands; built on
// the same operations as the typed handle.
template <platform Platform>
class machine {
 public:
  explicit machine(Platform& platform) noexcept : processor_(platform) {}

  // The firmware image that `start` boots and recovery reloads; it must outlive its use.
  template <bootable_image Image>
  void set_firmware(const Image& image) noexcept {
    image_ = &image;
    boot_ = [](rproc::processor<Platform>& p, const void* i) -> result<void> {
      if constexpr (platform_can_start<Platform>) return p.boot(*static_cast<const Image*>(i));
      else return error{errc::invalid_state, 0, std::nullopt, 0};
    };
  }

  state current_state() const noexcept { return processor_.current_state(); }
  const rproc::processor<Platform>& processor() const noexcept { return processor_; }
  Platform& platform() const noexcept { return processor_.platform(); }

  // "start": boots an offline remote, attaches a detached one; busy while running, attached or
  // crashed (recovery is the way out of crashed).
  result<void> start() noexcept {
    switch (processor_.current_state()) {
      case state::offline:
        if (boot_ == nullptr) return invalid();  // no firmware to boot: set_firmware first
        return boot_(processor_, image_);
      case state::detached:
        if constexpr (platform_can_attach<Platform>) return processor_.connect();
        else return invalid();
      case state::running:
      case state::attached:
      case state::crashed: return error{errc::busy, 0, std::nullopt, state_number()};
      default: return invalid();
    }
  }
  // "stop": only from running or attached.
  result<void> stop() noexcept {
    const state s = processor_.current_state();
    if (s != state::running && s != state::attached) return invalid();
    if constexpr (platform_can_stop<Platform>) return processor_.shutdown();
    else return invalid();
  }
  // "detach": only from attached, and only where the platform can detach.
  result<void> detach(detach_options options = {}) noexcept {
    if (processor_.current_state() != state::attached) return invalid();
    if constexpr (platform_can_detach<Platform>) return processor_.disconnect(options);
    else return invalid();
  }
  // The text commands of Linux's sysfs `state` file.
  result<void> command(std::string_view text) noexcept {
    if (text == "start") return start();
    if (text == "stop") return stop();
    if (text == "detach") return detach();
    return error{errc::invalid_state, 0, std::nullopt, 0};
  }

  // A crash report moves any state but offline and crashed to crashed.
  void report_crash() noexcept {
    const state s = processor_.current_state();
    if (s == state::offline || s == state::crashed) return;
    processor_.crashed_from_ = s;
    processor_.state_ = state::crashed;
  }
  // Recovery: detach and attach again where the platform declares attach_on_recovery, else stop
  // (as crashed) and start again from the image.
  result<void> recover() noexcept {
    if (processor_.current_state() != state::crashed) return invalid();
    if constexpr (attaches_on_recovery<Platform>() && platform_can_detach<Platform>) {
      if (processor_.crashed_from_ == state::attached) {
        if (auto d = processor_.disconnect({on_remote_change::restore_anyway}); !d) return d;
        return processor_.connect();
      }
    }
    if constexpr (platform_can_stop<Platform>) {
      if (auto s = processor_.shutdown(); !s) return s;
      if (boot_ == nullptr) return invalid();
      return boot_(processor_, image_);
    } else {
      return invalid();
    }
  }

 private:
  std::uint64_t state_number() const noexcept {
    return static_cast<std::uint64_t>(processor_.current_state());
  }
  result<void> invalid() const noexcept {
    return error{errc::invalid_state, 0, std::nullopt, state_number()};
  }

  rproc::processor<Platform> processor_;
  const void* image_ = nullptr;
  result<void> (*boot_)(rproc::processor<Platform>&, const void*) = nullptr;
};

}  // namespace rproc
