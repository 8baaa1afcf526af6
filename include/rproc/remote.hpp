// The typed handles of the lifecycle: rproc::remote<Platform, State> is one pointer to its
// processor, and each transition consumes the handle and gives back the next one, or the error
// and the handle in its old state.
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
// type spells it, e.g. detach_is_only_legal_on_an_attached_remote).
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "crash.hpp"
#include "error.hpp"
#include "image.hpp"
#include "platform.hpp"
#include "processor.hpp"

namespace rproc {

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
struct crashed {
  static constexpr state value = state::crashed;
};

// Tags whose names are the compiler's message when a transition is not legal.
struct start_is_only_legal_on_an_offline_remote {};
struct start_needs_a_platform_that_can_start_the_core {};
struct stop_is_only_legal_on_a_running_attached_or_crashed_remote {};
struct stop_needs_a_platform_that_can_stop_the_core {};
struct attach_is_only_legal_on_a_detached_remote {};
struct attach_needs_a_platform_that_reports_the_loaded_table {};
struct detach_is_only_legal_on_an_attached_remote {};
struct detach_needs_a_platform_that_can_detach {};
struct report_crash_is_only_legal_on_a_running_or_attached_remote {};
struct recover_is_only_legal_on_a_crashed_remote {};
struct recover_without_an_image_needs_a_platform_that_attaches_on_recovery {};
struct recover_from_an_image_is_for_a_platform_that_does_not_attach_on_recovery {};
struct recover_from_an_image_needs_a_platform_that_can_stop_and_start_the_core {};
struct kick_is_only_legal_on_a_running_or_attached_remote {};
struct kick_needs_a_platform_that_can_kick {};
struct a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle {};

namespace detail {
template <platform Platform>
class outcome;

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

// Recovery detaches and attaches again where the platform says so and can; else it starts again
// from the image, which needs a platform that can stop and start the core.
template <class P>
inline constexpr bool recovers_by_attaching = attaches_on_recovery<P>() && platform_can_detach<P>;
template <class P>
inline constexpr bool recovers_from_the_image =
    !attaches_on_recovery<P>() && platform_can_stop<P> && platform_can_start<P>;
}  // namespace detail

namespace detail {
// What transition and recovery share: the claim on the processor, passed on to the handle the
// caller takes, and the error when the operation failed.
template <platform Platform>
class outcome {
 public:
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  const rproc::error& error() const noexcept {
    if (!error_) bad_result_access();
    return *error_;
  }

 protected:
  outcome(processor<Platform>* p, const result<void>& done) noexcept : claim_(p) {
    if (!done) error_ = done.error();
  }
  // The handle in State, when `allowed`.
  template <class State>
  remote<Platform, State> hand_over(bool allowed) noexcept {
    if (!allowed) bad_result_access();
    return remote<Platform, State>(claim_.hand_over());
  }
  state reached() const noexcept { return claim_.get()->current_state(); }

 private:
  claim<Platform> claim_;
  std::optional<dependent_t<rproc::error, Platform>> error_;
};
}  // namespace detail

// The outcome of a transition: the handle in the next state, or the error and the handle back
// in the state it had.
template <platform Platform, class Next, class Previous>
class [[nodiscard]] transition : public detail::outcome<Platform> {
  using base = detail::outcome<Platform>;

 public:
  remote<Platform, Next> value() && noexcept {
    return base::template hand_over<Next>(this->has_value());
  }
  remote<Platform, Previous> previous() && noexcept {
    return base::template hand_over<Previous>(!this->has_value());
  }

 private:
  template <rproc::platform, class>
  friend class remote;
  using base::base;
};

// The outcome of a recovery, which takes two steps (stop then start, or detach then attach): the
// handle in the next state; or the error and the handle crashed as before, when the first step
// failed, or in the state between the two steps (offline, or detached) when the second did.
template <platform Platform, class Next, class Between>
class [[nodiscard]] recovery : public detail::outcome<Platform> {
  using base = detail::outcome<Platform>;

 public:
  // Where a failed recovery left the remote: state::crashed or Between::value.
  state reached() const noexcept { return base::reached(); }
  remote<Platform, Next> value() && noexcept {
    return base::template hand_over<Next>(this->has_value());
  }
  remote<Platform, crashed> previous() && noexcept {
    return base::template hand_over<crashed>(!this->has_value() && reached() == state::crashed);
  }
  remote<Platform, Between> halfway() && noexcept {
    return base::template hand_over<Between>(!this->has_value() && reached() == Between::value);
  }

 private:
  template <rproc::platform, class>
  friend class remote;
  using base::base;
};

// A remote processor in a state known at compile time.
template <platform Platform, class State>
class [[nodiscard]] remote {
  static constexpr bool is_offline = std::is_same_v<State, offline>;
  static constexpr bool is_running = std::is_same_v<State, running>;
  static constexpr bool is_attached = std::is_same_v<State, attached>;
  static constexpr bool is_detached = std::is_same_v<State, detached>;
  static constexpr bool is_crashed = std::is_same_v<State, crashed>;
  static_assert(is_offline || is_running || is_attached || is_detached || is_crashed,
                "rproc::remote's State is rproc::offline, running, attached, detached or crashed");

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
    return {p, p->start(image)};
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
  void start(const Image&, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // running, attached or crashed -> offline. On failure: the old state, virtio as it was.
  transition<Platform, offline, State> stop() &&
    requires((is_running || is_attached || is_crashed) && platform_can_stop<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->stop()};
  }
  void stop(stop_is_only_legal_on_a_running_attached_or_crashed_remote = {}) &&
    requires(!is_running && !is_attached && !is_crashed)
  = delete;
  void stop(stop_needs_a_platform_that_can_stop_the_core = {}) &&
    requires((is_running || is_attached || is_crashed) && !platform_can_stop<Platform>)
  = delete;
  void stop(a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // detached -> attached. On failure: detached, nothing held, the firmware's table as it was.
  transition<Platform, attached, detached> attach() &&
    requires(is_detached && platform_can_attach<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->attach()};
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
    return {p, p->detach(options)};
  }
  void detach(detach_options = {}, detach_is_only_legal_on_an_attached_remote = {}) &&
    requires(!is_attached)
  = delete;
  void detach(detach_options = {}, detach_needs_a_platform_that_can_detach = {}) &&
    requires(is_attached && !platform_can_detach<Platform>)
  = delete;
  void detach(detach_options = {}, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // running or attached -> crashed: the host learnt that the firmware crashed, and why (the
  // processor's last_crash()). Everything stays held until the recovery or the stop.
  remote<Platform, crashed> report_crash(crash_reason reason = crash_reason::fatal_error) &&
    requires(is_running || is_attached)
  {
    auto* p = claim_.hand_over();
    (void)p->report_crash(reason);  // cannot fail from running or attached
    return remote<Platform, crashed>(p);
  }
  void report_crash(crash_reason = {}, report_crash_is_only_legal_on_a_running_or_attached_remote = {}) &&
    requires(!is_running && !is_attached)
  = delete;
  void report_crash(crash_reason = {}, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // crashed -> attached, on a platform that attaches on recovery: detach (writing the clean
  // copy back) and attach again. On failure: crashed, or detached if the attach failed.
  recovery<Platform, attached, detached> recover() &&
    requires(is_crashed && detail::recovers_by_attaching<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->recover()};
  }
  void recover(recover_is_only_legal_on_a_crashed_remote = {}) &&
    requires(!is_crashed)
  = delete;
  void recover(recover_without_an_image_needs_a_platform_that_attaches_on_recovery = {}) &&
    requires(is_crashed && !detail::recovers_by_attaching<Platform>)
  = delete;
  void recover(a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // crashed -> running: stop, and start again from `image`. On failure: crashed if the stop
  // failed, offline if the start did.
  template <bootable_image Image>
  recovery<Platform, running, offline> recover(const Image& image) &&
    requires(is_crashed && detail::recovers_from_the_image<Platform>)
  {
    auto* p = claim_.hand_over();
    return {p, p->recover(image)};
  }
  template <class Image>
  void recover(const Image&, recover_is_only_legal_on_a_crashed_remote = {}) &&
    requires(!is_crashed)
  = delete;
  template <class Image>
  void recover(const Image&, recover_from_an_image_is_for_a_platform_that_does_not_attach_on_recovery = {}) &&
    requires(is_crashed && attaches_on_recovery<Platform>())
  = delete;
  template <class Image>
  void recover(const Image&, recover_from_an_image_needs_a_platform_that_can_stop_and_start_the_core = {}) &&
    requires(is_crashed && !attaches_on_recovery<Platform>() &&
             !detail::recovers_from_the_image<Platform>)
  = delete;
  template <class Image>
  void recover(const Image&, a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle = {}) & = delete;

  // Notifies the remote that vring `notifyid` has work.
  result<void> kick(std::uint32_t notifyid) const
    requires((is_running || is_attached) && platform_can_kick<Platform>)
  {
    return claim_.get()->platform().kick(notifyid);
  }
  void kick(std::uint32_t, kick_is_only_legal_on_a_running_or_attached_remote = {}) const
    requires(!is_running && !is_attached)
  = delete;
  void kick(std::uint32_t, kick_needs_a_platform_that_can_kick = {}) const
    requires((is_running || is_attached) && !platform_can_kick<Platform>)
  = delete;

 private:
  friend class rproc::processor<Platform>;
  template <rproc::platform>
  friend class detail::outcome;
  template <rproc::platform, class>
  friend class remote;
  explicit remote(rproc::processor<Platform>* p) noexcept : claim_(p) {}
  detail::claim<Platform> claim_;
};

}  // namespace rproc
