// rproc's demo: the attach / detach / clean re-attach problem, on a simulated remote processor.
//
// A boot loader started a co-processor whose firmware carries a Zephyr-style resource table.
// The host attaches, writes vring addresses, notify ids and DRIVER_OK into the live table,
// detaches, and attaches again. rproc takes a clean copy of the table at attach and writes it
// back at detach, so the firmware's table is exactly what it wrote and re-attach works; without
// that copy (Linux before 5.13), re-attach reads the released vring address 0 as a fixed one.
#include <rproc/fmt.hpp>
#include <rproc/rproc.hpp>
#include <rproc/sim.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace {

namespace rsc = rproc::rsc;

// The firmware's table, built and checked at compile time.
constexpr auto firmware_table = rproc::make_table(
    rsc::carveout{.len = 0x8000, .name = "zephyr_heap"},
    rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rsc::trace{.da = 0x20008000, .len = 2048, .name = "Zephyr_log"});
static_assert(rproc::parse_table(firmware_table).has_value());
constexpr std::uint32_t table_address = 0x20000100;

using board_t = rproc::sim::platform;

std::string address(std::uint32_t v) {
  return v == rproc::fw_rsc_addr_any ? std::string("FW_RSC_ADDR_ANY") : fmt::format("{:#x}", v);
}
std::string number(std::uint32_t v) {
  return v == 0xFFFFFFFFu ? std::string("-1") : fmt::format("{:#x}", v);
}

// Prints every field of the table whose value differs between `before` and `after`.
void print_changes(const rproc::table_view& before, const rproc::table_view& after) {
  const auto field = [](std::string_view what, std::uint32_t from, std::uint32_t to,
                        auto show) {
    if (from != to) fmt::print("    {:<28} {} -> {}\n", what, show(from), show(to));
  };
  for (std::uint32_t i = 0; i < before.num(); ++i) {
    if (const auto c = before[i].as<rproc::carveout_entry>()) {
      const auto n = *after[i].as<rproc::carveout_entry>();
      const std::string name = fmt::format("carveout \"{}\"", c->name());
      field(name + " da", c->da(), n.da(), address);
      field(name + " pa", c->pa(), n.pa(), address);
    } else if (const auto v = before[i].as<rproc::vdev_entry>()) {
      const auto n = *after[i].as<rproc::vdev_entry>();
      for (std::uint32_t k = 0; k < v->num_of_vrings(); ++k) {
        field(fmt::format("vring {} da", k), v->vring(k).da(), n.vring(k).da(), address);
        field(fmt::format("vring {} notifyid", k), v->vring(k).notifyid(), n.vring(k).notifyid(),
              number);
      }
      field("vdev gfeatures", v->gfeatures(), n.gfeatures(), number);
      field("vdev status", v->status(), n.status(), number);
    }
  }
}

std::vector<std::byte> copy(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

}  // namespace

int main() {
  fmt::print("rproc {} demo: attach, detach and clean re-attach of a remote processor\n\n",
             "0.1");
  fmt::print("1. The firmware's resource table, built at compile time ({} bytes):\n\n{}\n",
             firmware_table.size(), rproc::parse_table(firmware_table).value());

  auto board = std::make_unique<board_t>();
  if (!board->boot_loader_start(firmware_table, table_address)) return 1;
  rproc::processor<board_t> proc(*board);
  fmt::print("\n2. A boot loader started the firmware; the host finds the core {}.\n",
             rproc::to_string(proc.current_state()));

  auto detached = proc.claim<rproc::detached>().value();
  for (int round = 1; round <= 2; ++round) {
    const auto as_written = copy(board->firmware_table());
    auto attaching = std::move(detached).attach();
    if (!attaching) {
      fmt::print("attach failed: {}\n", attaching.error());
      return 1;
    }
    auto attached = std::move(attaching).value();
    fmt::print("\n{} attach: the host wrote into the live table:\n",
               round == 1 ? "First" : "Second");
    print_changes(rproc::parse_table(as_written).value(),
                  rproc::parse_table(board->firmware_table()).value());
    // A kick tells the firmware that vring 0 has work; the simulated one looks at its table.
    if (auto kicked = attached.kick(0); !kicked) {
      fmt::print("kick failed: {}\n", kicked.error());
      return 1;
    }
    fmt::print("  Kicked, the firmware saw DRIVER_OK and connected its vrings (connections: {}).\n",
               board->firmware().connections);

    auto detaching = std::move(attached).detach();
    if (!detaching) {
      fmt::print("detach failed: {}\n", detaching.error());
      return 1;
    }
    detached = std::move(detaching).value();
    fmt::print("Detach: the clean copy taken at attach went back ({} bytes rewritten);\n",
               proc.last_restore().bytes_written);
    fmt::print("  the firmware's table is byte for byte what it wrote: {}; core running: {}.\n",
               board->table_is_original() ? "yes" : "NO", board->is_running() ? "yes" : "no");
    if (!board->table_is_original() || !board->is_running()) return 1;
  }

  fmt::print("\n3. Without the clean copy (Linux's detach before 5.13), the vrings are released\n"
             "   through the live table, which keeps da = 0 and notifyid = -1:\n");
  const auto released = proc.cached_table().value();  // where rproc's release marks went
  std::ranges::copy(released.bytes().bytes(), board->firmware_table().begin());
  print_changes(rproc::parse_table(firmware_table).value(),
                rproc::parse_table(board->firmware_table()).value());
  auto refused = std::move(detached).attach();
  if (refused) {
    fmt::print("   re-attach unexpectedly worked\n");
    return 1;
  }
  fmt::print("   Re-attach reads da 0 as an address the firmware fixed, and fails:\n     {}\n",
             refused.error());
  fmt::print("   rproc leaves the table as it found it and the remote detached ({} allocations "
             "held).\n",
             board->stats().outstanding_allocations);
  return 0;
}
