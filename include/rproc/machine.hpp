// A remote whose state is known only at run time, driven by Linux's sysfs commands ("start",
// "stop", "detach") and numbering; built on the same operations of the processor as the typed
// handles.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "crash.hpp"
#include "error.hpp"
#include "image.hpp"
#include "platform.hpp"
#include "processor.hpp"

namespace rproc {

template <platform Platform>
class machine {
 public:
  explicit machine(Platform& platform) noexcept : processor_(platform) {}

  // The firmware image that `start` boots and recovery reloads; it must outlive its use.
  template <bootable_image Image>
  void set_firmware(const Image& image) noexcept {
    image_ = &image;
    start_ = [](rproc::processor<Platform>& p, const void* i) -> result<void> {
      if constexpr (platform_can_start<Platform>) return p.start(*static_cast<const Image*>(i));
      else return p.invalid_state();
    };
  }

  state current_state() const noexcept { return processor_.current_state(); }
  const rproc::processor<Platform>& processor() const noexcept { return processor_; }
  Platform& platform() const noexcept { return processor_.platform(); }

  // "start": starts an offline remote, attaches a detached one; busy while running, attached or
  // crashed (recovery is the way out of crashed).
  result<void> start() noexcept {
    switch (processor_.current_state()) {
      case state::offline:
        if (start_ == nullptr) return error{errc::no_image, 0, std::nullopt, 0};
        return start_(processor_, image_);
      case state::detached:
        if constexpr (platform_can_attach<Platform>) return processor_.attach();
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
    if constexpr (platform_can_stop<Platform>) return processor_.stop();
    else return invalid();
  }
  // "detach": only from attached, and only where the platform can detach.
  result<void> detach(detach_options options = {}) noexcept {
    if (processor_.current_state() != state::attached) return invalid();
    if constexpr (platform_can_detach<Platform>) return processor_.detach(options);
    else return invalid();
  }
  // The text commands of Linux's sysfs `state` file.
  result<void> command(std::string_view text) noexcept {
    if (text == "start") return start();
    if (text == "stop") return stop();
    if (text == "detach") return detach();
    return error{errc::unknown_command, 0, std::nullopt, 0};
  }

  // What a crash leads to (Linux's sysfs `recovery`; enabled by default, as in Linux).
  recovery_mode recovery() const noexcept { return recovery_; }
  void set_recovery(recovery_mode mode) noexcept { recovery_ = mode; }

  // A crash report moves any state but offline and crashed to crashed (invalid_state from
  // those), and the processor records why. With recovery enabled the remote is recovered at
  // once: the result is the recovery's, and a failed one leaves the state recover() documents.
  result<void> report_crash(crash_reason reason = crash_reason::fatal_error) noexcept {
    if (auto reported = processor_.report_crash(reason); !reported) return reported;
    if (recovery_ == recovery_mode::enabled) return recover();
    return {};
  }
  // Looks at the firmware's crash report (platforms that declare one, while running or
  // attached): when the firmware says it crashed, reports the crash with the firmware's reason.
  // True when it did; the error is the recovery's.
  result<bool> check_crash_report() noexcept {
    const state s = processor_.current_state();
    if (s != state::running && s != state::attached) return false;
    const auto report = processor_.firmware_crash_report();
    if (!report || !report->crashed()) return false;
    if (auto handled = report_crash(report->reason()); !handled) return handled.error();
    return true;
  }
  // Recovery (the one-shot "recover", whatever the mode): detach and attach again where the
  // platform attaches on recovery and the crash was while attached, else stop (as crashed) and
  // start again from the image. A failed first step leaves it crashed, everything held; a failed
  // second step leaves it detached or offline, nothing held.
  result<void> recover() noexcept {
    if (processor_.current_state() != state::crashed) return invalid();
    if constexpr (attaches_on_recovery<Platform>() && platform_can_detach<Platform>)
      if (processor_.last_crash_->from == state::attached) return processor_.recover();
    if constexpr (platform_can_stop<Platform>) {
      if (auto stopped = processor_.stop(); !stopped) return stopped;
      if (start_ == nullptr) return error{errc::no_image, 0, std::nullopt, 0};
      return start_(processor_, image_);
    } else {
      return invalid();
    }
  }

 private:
  std::uint64_t state_number() const noexcept {
    return static_cast<std::uint64_t>(processor_.current_state());
  }
  result<void> invalid() const noexcept { return processor_.invalid_state(); }

  rproc::processor<Platform> processor_;
  recovery_mode recovery_ = recovery_mode::enabled;
  const void* image_ = nullptr;
  result<void> (*start_)(rproc::processor<Platform>&, const void*) = nullptr;
};

}  // namespace rproc
