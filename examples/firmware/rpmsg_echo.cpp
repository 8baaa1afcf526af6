// The firmware end of rpmsg as a firmware uses it: an echo endpoint announced to the host, the
// bus attached once the table shows DRIVER_OK, polled on each kick, detached when the host
// detaches. Built for this core into a library the firmware tests inspect: it must need no symbol
// a bare-metal program lacks (no heap, no atomics library, no C++ runtime).
#include <rproc/rpmsg_firmware.hpp>

#include <cstdint>

namespace {

// The board's doorbell to the host; a kick names the vring by its notify id.
struct mailbox {
  volatile std::uint32_t last_kick = 0;
  rproc::result<void> kick(std::uint32_t notifyid) noexcept {
    last_kick = notifyid;
    return {};
  }
};

constexpr rproc::rpmsg::limits small{.endpoints = 2, .channels = 1, .max_num = 16};
mailbox board_mailbox;
rproc::rpmsg::firmware_bus<mailbox, small> bus(board_mailbox);
std::uint32_t echoed = 0;

void echo(const rproc::rpmsg::message& m) {
  if (bus.send(m.dst, m.src, m.payload)) ++echoed;
}

}  // namespace

namespace rpmsg_echo {

bool start(const rproc::rpmsg::bus_config& config) {
  if (!bus.bound(1024) && !bus.create_endpoint("rpmsg-echo", echo, 1024)) return false;
  return bus.attach(config).has_value();
}
std::uint32_t poll() { return bus.poll().value_or(0); }
void stop() { bus.detach(); }
std::uint32_t messages_echoed() { return echoed; }

}  // namespace rpmsg_echo
