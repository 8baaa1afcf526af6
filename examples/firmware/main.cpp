// A Cortex-M4 firmware for QEMU's mps2-an386 with the resource table a remoteproc host reads:
// one rpmsg vdev with two vrings the host places (FW_RSC_ADDR_ANY) and a trace buffer. main()
// does what a firmware does with rproc::firmware::vdev_link: wait for DRIVER_OK with a timeout,
// read the vring addresses and notify ids the host assigned, see the host detach and wait for the
// next attach, without a reboot. The host is played by simulated_host from the SysTick interrupt.
// Exit status (semihosting): 0 when every step went as SPEC sections 3 and 4 say.
#include <rproc/rproc.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "board.hpp"
#include "simulated_host.hpp"

namespace {

constexpr std::uint32_t trace_da = 0x20001000;  // the .trace_buffer section of mps2_an386.ld
constexpr std::uint32_t trace_len = 4096;

constexpr auto original_table = rproc::make_table(
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8},
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rproc::rsc::trace{.da = trace_da, .len = trace_len, .name = "rproc_fw_log"});

}  // namespace

// Not const: the host writes into it while the firmware runs.
[[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = original_table;
[[gnu::section(".trace_buffer"), gnu::used]] char trace_buffer[trace_len];

namespace {

// Built at start-up (startup.cpp runs .init_array): constant-initialised, its 16 KiB of vring
// memory would land in .data, in the image.
simulated_host<original_table.size()> host(resource_table);

using line = rproc::text_buffer<160>;

// Each line goes to the semihosting console and into the trace buffer the host can read.
class console {
 public:
  void print(const line& text) noexcept {
    board::semihosting::write(text.c_str());
    board::semihosting::write("\n");
    for (const char c : text.view()) put(c);
    put('\n');
  }

 private:
  void put(char c) noexcept {
    if (used_ + 1 >= trace_len) return;
    trace_buffer[used_++] = c;
    trace_buffer[used_] = '\0';
  }
  std::size_t used_ = 0;
};
constinit console out;

void print_table(const rproc::table_view& table) {
  out.print(line{}
                .append("resource table at ")
                .append_hex(reinterpret_cast<std::uintptr_t>(resource_table.data()))
                .append(": ")
                .append_decimal(table.size_bytes())
                .append(" bytes, ")
                .append_decimal(table.size())
                .append(" entries"));
  for (const auto entry : table) {
    line text;
    text.append("  entry ").append_decimal(entry.index()).append(" at ").append_hex(entry.offset());
    text.append(": ").append(rproc::to_string(entry.kind()));
    if (const auto vdev = entry.as<rproc::vdev_entry>()) {
      text.append(" id ").append_decimal(vdev->id());
      text.append(", dfeatures ").append_hex(vdev->dfeatures());
      text.append(", status ").append_hex(vdev->status());
      text.append(", ").append_decimal(vdev->num_of_vrings()).append(" vrings");
      out.print(text);
      for (const auto ring : vdev->vrings())
        out.print(line{}
                      .append("    vring ")
                      .append_decimal(ring.index())
                      .append(": da ")
                      .append_hex(ring.da())
                      .append(", align ")
                      .append_decimal(ring.align())
                      .append(", num ")
                      .append_decimal(ring.num())
                      .append(", notifyid ")
                      .append_decimal(ring.notifyid()));
      continue;
    }
    if (const auto trace = entry.as<rproc::trace_entry>()) {
      text.append(" \"").append(trace->name()).append("\", da ").append_hex(trace->da());
      text.append(", len ").append_decimal(trace->len());
    }
    out.print(text);
  }
}

void print_assignment(const rproc::firmware::host_assignment& a) {
  out.print(line{}.append("  gfeatures ").append_hex(a.gfeatures).append(", status ").append_hex(
      a.status));
  for (std::uint32_t i = 0; i < a.num_of_vrings; ++i)
    out.print(line{}
                  .append("  vring ")
                  .append_decimal(i)
                  .append(": da ")
                  .append_hex(a.vrings[i].da)
                  .append(", notifyid ")
                  .append_decimal(a.vrings[i].notifyid));
}

int fail(int status, std::string_view what) {
  out.print(line{}.append("FAILED: ").append(what));
  return status;
}

auto within_ms(std::uint32_t timeout) {
  return rproc::firmware::deadline(board::now_ms, timeout, board::wait_for_interrupt);
}

bool is_original(rproc::firmware::shared_table<original_table.size()>& table) {
  if (!table.read()) return false;
  const auto bytes = table.copy();
  return std::equal(bytes.begin(), bytes.end(), original_table.begin());
}

// An attach: the host's writes, DRIVER_OK within a second, then what it gave.
int attach(rproc::firmware::vdev_link<original_table.size()>& link, int number) {
  host.ask(simulated_host<original_table.size()>::request::attach);
  const std::uint32_t start = board::now_ms();
  const auto event = link.wait_attached(within_ms(1000));
  out.print(line{}
                .append("attach ")
                .append_decimal(static_cast<std::uint32_t>(number))
                .append(": ")
                .append(rproc::firmware::to_string(event))
                .append(" after ")
                .append_decimal(board::now_ms() - start)
                .append(" ms"));
  if (event != rproc::firmware::link_event::attached) return fail(10 + number, "no DRIVER_OK");
  print_assignment(link.assignment());
  const auto& a = link.assignment();
  // SPEC section 3: vrings placed by the host, notify ids numbered from 0 on every attach.
  if (a.num_of_vrings != 2 || a.gfeatures != 1) return fail(20 + number, "vdev fields");
  for (std::uint32_t i = 0; i < 2; ++i)
    if (a.vrings[i].da == rproc::fw_rsc_addr_any || a.vrings[i].da == 0 ||
        a.vrings[i].notifyid != i || a.vrings[i].num != 8 || a.vrings[i].align != 16)
      return fail(30 + number, "vring assignment");
  return 0;
}

}  // namespace

extern "C" void systick_tick() {
  board::milliseconds = board::milliseconds + 1;
  host.tick();
}

int main() {
  board::start_millisecond_tick();
  out.print(line{}.append("rproc firmware on mps2-an386 (Cortex-M4)"));
  if (reinterpret_cast<std::uintptr_t>(trace_buffer) != trace_da)
    return fail(2, "the trace buffer is not where the table says");

  rproc::firmware::vdev_link link(resource_table, original_table);
  const auto table = link.shared().read();
  if (!table) return fail(3, rproc::message(table.error()).view());
  print_table(*table);

  // Nobody writes yet: the wait gives up after 20 ms instead of hanging as OpenAMP's would.
  const auto alone = link.wait_attached(within_ms(20));
  out.print(line{}.append("waiting 20 ms with no host: ").append(
      rproc::firmware::to_string(alone)));
  if (alone != rproc::firmware::link_event::timed_out) return fail(4, "expected timed_out");

  if (const int status = attach(link, 1); status != 0) return status;
  const auto first = link.assignment();

  host.ask(simulated_host<original_table.size()>::request::detach);
  auto expired = within_ms(1000);
  rproc::firmware::link_event event{};
  while ((event = link.poll()) == rproc::firmware::link_event::none && !expired()) {
  }
  out.print(line{}.append("host detached: ").append(rproc::firmware::to_string(event)));
  if (event != rproc::firmware::link_event::detached) return fail(5, "expected detached");
  while (host.busy()) board::wait_for_interrupt();
  const bool restored = is_original(link.shared());
  out.print(line{}.append("table is the original again: ").append(restored ? "yes" : "no"));
  if (!restored) return fail(6, "the table was not restored");

  if (const int status = attach(link, 2); status != 0) return status;
  if (link.assignment().vrings[0].da == first.vrings[0].da)
    return fail(7, "the second attach reused the first vring memory");

  const auto final_table = link.shared().read();
  if (!final_table) return fail(8, "the live table does not parse");
  print_table(*final_table);
  out.print(line{}.append("done"));
  return 0;
}
