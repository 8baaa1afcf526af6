// The QEMU remote's rpmsg echo firmware (Cortex-M4, mps2-an386), started as a boot loader would
// leave it, its table, mailbox and status block in the PSRAM the host maps (memory_map.hpp,
// rpmsg_status.hpp). At each attach (DRIVER_OK, rproc::firmware::vdev_link) its rpmsg bus starts
// afresh on the rings the host laid out and announces the echo channel; every message is sent
// back to where it came from; at the host's detach (the status reset, or the mailbox's detach
// message) it forgets its virtqueue state and waits for the next attach. Unless the host set
// keep_ring_state: then it keeps the state across the detach, as the negative control needs.
#include <rproc/firmware.hpp>
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/shared_mailbox.hpp>

#include <cstddef>
#include <cstdint>

#include "../../firmware/board.hpp"
#include "../memory_map.hpp"
#include "../rpmsg_status.hpp"
#include "remote_firmware.hpp"

namespace {

namespace rsc = rproc::rsc;
namespace rpmsg = rproc::rpmsg;
using rproc::shared_mailbox;

// The host gives both vrings, and its 2 x 8 buffers of 512 bytes in the vdev's buffer carveout.
constexpr auto original_table = rproc::make_table(
    rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = rpmsg::feature_name_service}
        .with_vrings(rsc::vring{.align = 16, .num = 8, .notifyid = 0},
                     rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rsc::carveout{.len = 0x2000, .name = "vdev0buffer"}, qemu_remote::trace);

}  // namespace

// Not const: the host writes into it while the firmware runs.
[[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = original_table;

extern "C" void systick_tick() { board::milliseconds = board::milliseconds + 1; }

namespace {

using qemu_remote::line;
using qemu_remote::log;

// The host polls its rings: this board has no doorbell towards the host.
struct no_doorbell {
  rproc::result<void> kick(std::uint32_t) noexcept { return {}; }
};

constexpr rpmsg::limits echo_limits{.endpoints = 2, .channels = 1, .max_num = 16};

auto* const status = reinterpret_cast<qemu_remote::rpmsg_status*>(qemu_remote::rpmsg_status_da);
no_doorbell doorbell;
rpmsg::firmware_bus<no_doorbell, echo_limits> bus(doorbell);
bool faulty = false;  // a fault was reported and nothing has worked since

std::uint32_t load(const std::uint32_t& word) { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
void store(std::uint32_t& word, std::uint32_t value) {
  __atomic_store_n(&word, value, __ATOMIC_RELAXED);
}
void count(std::uint32_t& word) { __atomic_store_n(&word, word + 1, __ATOMIC_RELEASE); }

// The first fault of a run of them (a ring fault repeats at every poll until the host repairs
// the ring or both sides start again), for the host to print.
void report(const rproc::error& e) {
  if (faulty) return;
  faulty = true;
  store(status->fault_code, static_cast<std::uint32_t>(e.code));
  store(status->fault_entry, e.entry.value_or(0xFFFFFFFFu));
  store(status->fault_offset, static_cast<std::uint32_t>(e.offset));
  store(status->fault_value, static_cast<std::uint32_t>(e.value));
  count(status->faults);
  log(line().append("qemu rpmsg echo: ").append(rproc::to_string(e.code)).append(" vring ")
          .append_decimal(e.entry.value_or(0xFFFFFFFFu)).append(" at ").append_hex(e.offset)
          .append(" value ").append_hex(e.value));
}

void echo(const rpmsg::message& m) {
  if (auto sent = bus.send(m.dst, m.src, m.payload); !sent) return report(sent.error());
  count(status->echoed);
}

// Where the host may put rings and buffers: the part of the PSRAM set aside for it.
const rproc::memory_window host_memory{
    qemu_remote::pool_da,
    {reinterpret_cast<std::byte*>(qemu_remote::pool_da), qemu_remote::pool_size}};

void start(const rproc::firmware::host_assignment& assigned) {
  if (bus.attached()) return;  // kept across the detach: the old ring state
  faulty = false;
  const auto config =
      rpmsg::bus_config_of(assigned, host_memory, host_memory, rproc::endian::little);
  if (!config) return report(config.error());
  if (auto attached = bus.attach(*config); !attached) return report(attached.error());
  count(status->bus_attaches);
}

void forget() {
  if (!bus.attached() || load(status->keep_ring_state) != 0) return;
  bus.detach();
  count(status->bus_detaches);
}

}  // namespace

int main() {
  auto* const words = reinterpret_cast<std::uint32_t*>(qemu_remote::rpmsg_status_da);
  for (std::size_t i = 0; i < sizeof(qemu_remote::rpmsg_status) / 4; ++i) store(words[i], 0);
  shared_mailbox mailbox(mailbox_memory);
  rproc::firmware::vdev_link link(resource_table, original_table);
  if (!bus.create_endpoint("rpmsg-echo", echo, qemu_remote::rpmsg_echo_address)) return 3;
  log(line().append("qemu rpmsg echo: table at ").append_hex(qemu_remote::table_da)
          .append(", status at ").append_hex(qemu_remote::rpmsg_status_da).append(", waiting"));
  mailbox.set_up_remote_end();
  for (;;) {
    if (const auto n = mailbox.peek(shared_mailbox::direction::host_to_remote)) {
      if (n->kind == rproc::notification_kind::detach) {
        link.detach_notified();
        forget();
      }
      mailbox.acknowledge(shared_mailbox::direction::host_to_remote);  // kicks: the poll below
    }
    const auto event = link.poll();
    if (event == rproc::firmware::link_event::attached) start(link.assignment());
    else if (event == rproc::firmware::link_event::detached) forget();
    if (!bus.attached()) continue;
    if (const auto polled = bus.poll(); !polled) report(polled.error());
    else if (*polled > 0) faulty = false;
  }
}
