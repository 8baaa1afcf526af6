// The host's side of the wire, played inside the firmware because no Linux runs beside QEMU.
// It writes to the firmware's live table from the SysTick interrupt, one write per tick, in the
// order of SPEC section 3 (attach) and section 4 (detach), so that its writes land while main()
// is polling, as another processor's would.
#pragma once

#include <rproc/rproc.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

template <std::size_t Size>
class simulated_host {
 public:
  enum class request : std::uint8_t { none, attach, detach };

  explicit simulated_host(rproc::table_image<Size>& live) noexcept : live_(live) {}

  // Called from main(); the interrupt takes the request up at its next tick.
  void ask(request r) noexcept { pending_ = r; }
  bool busy() const noexcept { return pending_ != request::none || job_ != request::none; }

  // One write of the job under way; called from the SysTick interrupt.
  void tick() noexcept {
    if (job_ == request::none) {
      job_ = pending_;
      pending_ = request::none;
      step_ = 0;
      if (job_ == request::none) return;
    }
    const bool more = job_ == request::attach ? attach_step() : detach_step();
    ++step_;
    if (!more) job_ = request::none;
  }

 private:
  static constexpr std::size_t page = 4096;  // vring_size(8, 16) = 230 bytes, rounded up

  rproc::mutable_vdev_entry vdev(std::span<std::byte> bytes) const noexcept {
    // The host parses before it trusts: a table that fails leaves an empty view that writes
    // nothing.
    if (const auto table = rproc::parse_mutable_table(bytes))
      if (const auto v = rproc::firmware::find_vdev(*table, 0)) return *v;
    return {};
  }

  bool attach_step() noexcept {
    const auto v = vdev(live_.bytes);
    switch (step_) {
      case 0:  // the clean copy, before anything is written (SPEC section 4)
        clean_ = live_;
        return true;
      case 1:  // resource handling: notify ids from 0, lowest free first
        v.vring(0).set_notifyid(0);
        v.vring(1).set_notifyid(1);
        return true;
      case 2: v.set_status(rproc::virtio::status_acknowledge); return true;
      case 3:
        v.set_status(rproc::virtio::status_acknowledge | rproc::virtio::status_driver);
        return true;
      case 4:  // the driver knows the name service feature (bit 0) and nothing else
        v.set_gfeatures(v.dfeatures() & 1u);
        return true;
      case 5: v.set_status(v.status() | rproc::virtio::status_features_ok); return true;
      case 6:  // the vrings' memory, zeroed, then its base in each vring's da
        for (std::uint32_t i = 0; i < v.num_of_vrings(); ++i) {
          auto& ring = memory_[next_page_++ % memory_.size()];
          std::fill(ring.begin(), ring.end(), std::byte{0});
          const auto base = reinterpret_cast<std::uintptr_t>(ring.data());
          v.vring(i).set_da(static_cast<std::uint32_t>(base));
        }
        return true;
      default: v.set_status(v.status() | rproc::virtio::status_driver_ok); return false;
    }
  }

  bool detach_step() noexcept {
    switch (step_) {
      case 0: vdev(live_.bytes).set_status(0); return true;  // virtio reset
      case 1:  // from now on the host writes only to its copy, and the firmware gets its own back
        copy_ = live_;
        live_ = clean_;
        return true;
      default: {  // releasing the vrings lands in the host's copy, not in the firmware's table
        const auto v = vdev(copy_.bytes);
        for (std::uint32_t i = 0; i < v.num_of_vrings(); ++i) {
          v.vring(i).set_da(0);
          v.vring(i).set_notifyid(0xFFFFFFFFu);
        }
        return false;
      }
    }
  }

  rproc::table_image<Size>& live_;
  rproc::table_image<Size> clean_{};
  rproc::table_image<Size> copy_{};
  alignas(page) std::array<std::array<std::byte, page>, 4> memory_{};
  std::uint32_t next_page_ = 0;
  volatile request pending_ = request::none;
  volatile request job_ = request::none;
  std::uint32_t step_ = 0;
};
