// The QEMU remote's firmware (Cortex-M4, mps2-an386), started as a boot loader would leave it:
// its table, mailbox and trace buffer in the PSRAM the host maps (memory_map.hpp). It waits for
// the host's DRIVER_OK, checks that the host gave every vring an address, writes a counted
// message at the start of vring 0, and on the host's detach message checks that its table is the
// original again, acknowledges, and waits for the next attach. It runs until QEMU is killed.
#include <rproc/firmware.hpp>
#include <rproc/shared_mailbox.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../../firmware/board.hpp"
#include "../memory_map.hpp"
#include "remote_firmware.hpp"

namespace {

using qemu_remote::line;
using qemu_remote::log;
using rproc::shared_mailbox;

constexpr auto original_table =
    rproc::make_table(qemu_remote::rpmsg_vdev, qemu_remote::buffers, qemu_remote::trace);

}  // namespace

// Not const: the host writes into it while the firmware runs.
[[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = original_table;

extern "C" void systick_tick() { board::milliseconds = board::milliseconds + 1; }

namespace {

struct counts {
  std::uint32_t attaches = 0, clean_detaches = 0, dirty_detaches = 0;
};

// At the start of vring 0's memory, which the host zeroed before DRIVER_OK: the rest first, the
// magic word last, with release order, so that a host that reads the magic reads the rest.
void write_message(const rproc::firmware::host_assignment& a, const counts& c) {
  auto* const m = reinterpret_cast<qemu_remote::remote_message*>(a.vrings[0].da);
  m->attaches = c.attaches;
  for (std::size_t i = 0; i < 2; ++i) {
    m->vring_da[i] = a.vrings[i].da;
    m->notifyid[i] = a.vrings[i].notifyid;
  }
  m->clean_detaches = c.clean_detaches;
  m->dirty_detaches = c.dirty_detaches;
  line text;
  text.append("hello from the remote, attach ").append_decimal(c.attaches);
  const auto n = std::min(text.view().size(), sizeof m->text - 1);
  std::copy_n(text.view().data(), n, m->text);
  m->text[n] = '\0';
  __atomic_store_n(&m->magic, qemu_remote::message_magic, __ATOMIC_RELEASE);
}

// Right after the host's detach message, while the host waits for the acknowledgement: one look
// at the table, which shows the reset (so the link is ready for the next DRIVER_OK, even one the
// host sets right after the acknowledgement) and must be the original bytes again.
bool table_is_original(rproc::firmware::vdev_link<original_table.size()>& link) {
  (void)link.poll();
  return std::ranges::equal(link.shared().copy(), original_table.bytes);
}

}  // namespace

int main() {
  shared_mailbox mailbox(mailbox_memory);
  rproc::firmware::vdev_link link(resource_table, original_table);
  counts seen;
  log(line().append("qemu remote: table at ").append_hex(qemu_remote::table_da)
          .append(", mailbox at ").append_hex(qemu_remote::mailbox_da).append(", waiting"));
  mailbox.set_up_remote_end();
  for (;;) {
    if (const auto n = mailbox.peek(shared_mailbox::direction::host_to_remote)) {
      if (n->kind == rproc::notification_kind::detach) {
        link.detach_notified();
        // The host restored the table before it said so.
        if (table_is_original(link)) ++seen.clean_detaches;
        else ++seen.dirty_detaches;
      }
      mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
    }
    if (link.poll() != rproc::firmware::link_event::attached) continue;
    const auto& a = link.assignment();
    if (a.num_of_vrings != 2 || a.vrings[0].da == rproc::fw_rsc_addr_any ||
        a.vrings[1].da != qemu_remote::fixed_vring_da) {
      log(line().append("qemu remote: attached with vrings ").append_hex(a.vrings[0].da)
              .append(", ").append_hex(a.vrings[1].da).append(": not what the host must give"));
      return 3;
    }
    ++seen.attaches;
    write_message(a, seen);
  }
}
