// rpmsg across re-attach, rproc on both sides of a live Cortex-M4: QEMU runs the rpmsg echo
// firmware (firmware/rpmsg_echo.cpp), started as a boot loader would leave it, and this host
// attaches to it through rproc::posix::mapped_platform. Its virtio driver (the platform's
// set_up_vdev, between FEATURES_OK and DRIVER_OK) lays out an rpmsg host_bus on the vrings with
// every buffer in the vdev's buffer carveout, as Linux does. Each cycle: the firmware's
// announcement of its echo channel, a batch of messages from 1 byte to the largest payload, every
// echo checked byte for byte, detach, the live table checked, re-attach. Then the figures (round
// trip and messages per second beside a memory copy of the same bytes, interleaved, medians) and
// three negative controls: a detach without the clean copy, vrings not zeroed at re-attach, a
// firmware that keeps its old ring indices across a detach.
//
//   rproc-qemu-rpmsg --firmware qemu-rpmsg-firmware.elf [--qemu qemu-system-arm] [--cycles 100]
//                    [--log FILE]
// Exit status: 0 every cycle verified and every negative control failed as it must; 1 otherwise;
// 2 QEMU or the platform could not be set up.
#include <sys/prctl.h>

#include <rproc/lifecycle.hpp>
#include <rproc/rpmsg_host.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../memory_map.hpp"
#include "../rpmsg_status.hpp"
#include "host_support.hpp"
#include "qemu_remote.hpp"

namespace {

namespace rpmsg = rproc::rpmsg;
using qemu_remote::clock_type;
using qemu_remote::platform;
using qemu_remote::since;
using std::chrono::milliseconds;

constexpr std::size_t largest_payload = rpmsg::default_buffer_size - rpmsg::layout::header::size;
constexpr std::uint32_t local_address = 1024;
constexpr std::uint32_t in_flight = 8;  // the host's buffers in vring 1

// Payload byte k of message n: different for every message, cycle and byte.
std::byte payload_byte(std::uint32_t n, std::size_t k) {
  return static_cast<std::byte>((n * 131u + k * 7u + 1u) & 0xFFu);
}

// The host's kicks go through the platform (mailbox messages naming the vring's notify id).
struct platform_kick {
  platform* board;
  rproc::result<void> kick(std::uint32_t notifyid) noexcept { return board->kick(notifyid); }
};

// The host's end: its bus, and the echoes it waits for, each checked byte for byte as it comes.
class echo_client {
 public:
  explicit echo_client(platform& board) : kick_{&board}, bus_(kick_) {
    (void)bus_.create_endpoint("", receiver_, local_address);
  }
  rpmsg::host_bus<platform_kick>& bus() noexcept { return bus_; }

  // Forgets what the last session left: echoes still expected, errors seen.
  void reset() {
    expected_.clear();
    mismatches_ = 0;
    first_error_.clear();
  }
  std::size_t mismatches() const noexcept { return mismatches_; }
  std::size_t outstanding() const noexcept { return expected_.size(); }
  const std::string& first_error() const noexcept { return first_error_; }

  // One message; while the firmware has not given a buffer of vring 1 back yet (it does so
  // after it sent the echo), the host polls and tries again, for up to a second.
  bool send(std::uint32_t dst, std::uint32_t n, std::size_t length) {
    std::vector<std::byte> payload(length);
    for (std::size_t k = 0; k < length; ++k) payload[k] = payload_byte(n, k);
    const auto deadline = clock_type::now() + std::chrono::seconds(1);
    for (;;) {
      const auto sent = bus_.send(local_address, dst, payload);
      if (sent) break;
      if (sent.error().code != rproc::errc::rpmsg_no_buffer || clock_type::now() > deadline)
        return error(sent.error());
      if (auto polled = bus_.poll(); !polled) return error(polled.error());
      std::this_thread::yield();
    }
    expected_.push_back(std::move(payload));
    return true;
  }
  // Polls until `done()` or the deadline; false on a fault of the bus (first_error says it).
  // After 100 us of spinning it sleeps between polls: a host spinning on the core where QEMU's
  // CPU thread waits would keep it off that core for a whole time slice (about 4 ms here).
  template <class Done>
  bool poll_until(Done done, milliseconds timeout) {
    const auto start = clock_type::now();
    for (;;) {
      if (auto polled = bus_.poll(); !polled) return error(polled.error());
      if (done()) return true;
      const auto waited = clock_type::now() - start;
      if (waited > timeout) return false;
      if (waited < std::chrono::microseconds(100)) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(1));
    }
  }
  std::optional<std::uint32_t> echo_address() const { return bus_.channel_address("rpmsg-echo"); }

 private:
  struct receiver {
    echo_client* client;
    void operator()(const rpmsg::message& m) const { client->received(m); }
  };
  void received(const rpmsg::message& m) {
    if (expected_.empty() || m.payload.size() != expected_.front().size() ||
        !std::equal(m.payload.begin(), m.payload.end(), expected_.front().begin()))
      ++mismatches_;
    if (!expected_.empty()) expected_.pop_front();
  }
  bool error(const rproc::error& e) {
    if (first_error_.empty()) first_error_ = rproc::message(e).c_str();
    return false;
  }

  platform_kick kick_;
  receiver receiver_{this};
  rpmsg::host_bus<platform_kick> bus_;
  std::deque<std::vector<std::byte>> expected_;
  std::size_t mismatches_ = 0;
  std::string first_error_;
};

// The lengths of a cycle's batch: 1 byte up to the largest payload.
std::vector<std::size_t> batch_lengths() {
  std::vector<std::size_t> lengths;
  for (std::size_t length = 1; length < largest_payload; length += 33) lengths.push_back(length);
  lengths.push_back(largest_payload);
  return lengths;
}

// The firmware's status block (rpmsg_status.hpp), read a word at a time.
struct firmware_status {
  qemu_remote::rpmsg_status* words;
  std::uint32_t read(const std::uint32_t& word) const { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
  std::uint32_t faults() const { return read(words->faults); }
  std::string last_fault() const {
    const std::uint32_t entry = read(words->fault_entry);
    const rproc::error e{static_cast<rproc::errc>(read(words->fault_code)), read(words->fault_offset),
                         entry == 0xFFFFFFFFu ? std::nullopt : std::optional<std::uint32_t>{entry},
                         read(words->fault_value)};
    return rproc::message(e).c_str();
  }
  void keep_ring_state(bool keep) const {
    __atomic_store_n(&words->keep_ring_state, keep ? 1u : 0u, __ATOMIC_RELEASE);
  }
};

// What one session showed.
struct session {
  bool announced = false;
  std::size_t sent = 0, verified = 0;
  std::string problem;  // empty: everything verified
};

// After an attach: the announcement, then the batch in rounds of `in_flight`, every echo checked.
session exchange(echo_client& client, const std::vector<std::size_t>& lengths, std::uint32_t cycle,
                 milliseconds timeout) {
  session s;
  s.announced = client.poll_until([&] { return client.echo_address().has_value(); }, timeout);
  if (!s.announced) {
    s.problem = client.first_error().empty() ? "no announcement of rpmsg-echo within " +
                                                   std::to_string(timeout.count()) + " ms"
                                             : "before the announcement: " + client.first_error();
    return s;
  }
  const std::uint32_t dst = *client.echo_address();
  for (std::size_t first = 0; first < lengths.size(); first += in_flight) {
    const std::size_t end = std::min(lengths.size(), first + std::size_t{in_flight});
    for (std::size_t i = first; i < end; ++i) {
      if (!client.send(dst, cycle * 1000 + static_cast<std::uint32_t>(i), lengths[i])) break;
      ++s.sent;
    }
    const bool back = client.poll_until([&] { return client.outstanding() == 0; }, timeout);
    s.verified = s.sent - client.outstanding() - client.mismatches();
    if (!back || s.sent < end || client.mismatches() > 0) {
      std::string why = client.first_error();
      if (why.empty() && client.mismatches() > 0)
        why = std::to_string(client.mismatches()) + " differed from what was sent";
      if (why.empty())
        why = std::to_string(client.outstanding()) + " missing after " +
              std::to_string(timeout.count()) + " ms";
      s.problem = std::to_string(s.verified) + " of " + std::to_string(lengths.size()) +
                  " echoes verified: " + why;
      return s;
    }
  }
  return s;
}

// The figures, in one attached session: a round trip (send, the firmware's echo, the host
// receives and checks it) and messages per second in rounds of in_flight, beside a memory copy
// there and back of the same bytes (header and payload); repetitions interleaved, each side
// going first every other time; medians.
void measure(echo_client& client, std::uint32_t dst) {
  constexpr int repetitions = 15, round_trips = 100, stream = 400;
  for (const std::size_t length : {std::size_t{16}, largest_payload}) {
    std::vector<double> rpmsg_rt, copy_rt, rpmsg_rate, copy_rate;
    const std::size_t bytes = rpmsg::layout::header::size + length;
    std::vector<std::byte> message(bytes, std::byte{7}), shared(bytes), back(bytes);
    const auto copies = [&](int n) {
      const auto begin = clock_type::now();
      for (int i = 0; i < n; ++i) {
        std::memcpy(shared.data(), message.data(), bytes);
        asm volatile("" ::: "memory");
        std::memcpy(back.data(), shared.data(), bytes);
        asm volatile("" ::: "memory");
      }
      return since(begin);
    };
    const auto round_trip = [&] {
      const auto begin = clock_type::now();
      for (int i = 0; i < round_trips; ++i) {
        client.send(dst, 7, length);
        client.poll_until([&] { return client.outstanding() == 0; }, milliseconds(2000));
      }
      return since(begin);
    };
    const auto in_rounds = [&] {
      const auto begin = clock_type::now();
      for (int i = 0; i < stream; i += in_flight) {
        for (std::uint32_t k = 0; k < in_flight; ++k) client.send(dst, 7, length);
        client.poll_until([&] { return client.outstanding() == 0; }, milliseconds(2000));
      }
      return since(begin);
    };
    for (int r = 0; r < repetitions; ++r) {
      const bool copy_first = r % 2 == 1;
      if (copy_first) copy_rt.push_back(copies(round_trips) / round_trips);
      rpmsg_rt.push_back(round_trip() / round_trips);
      if (!copy_first) copy_rt.push_back(copies(round_trips) / round_trips);
      if (copy_first) copy_rate.push_back(stream / copies(stream) * 1e9);
      rpmsg_rate.push_back(stream / in_rounds() * 1e9);
      if (!copy_first) copy_rate.push_back(stream / copies(stream) * 1e9);
    }
    const double rt = qemu_remote::median(rpmsg_rt), copy = qemu_remote::median(copy_rt);
    std::printf("%zu-byte messages, medians of %d: round trip host -> firmware -> host %.1f us "
                "(memcpy there and back %.3f us, %.0fx); %.0f messages/s in rounds of %u "
                "(memcpy loop %.3g/s)\n",
                length, repetitions, rt / 1000, copy / 1000, rt / copy,
                qemu_remote::median(rpmsg_rate), in_flight, qemu_remote::median(copy_rate));
  }
  if (client.mismatches() > 0 || !client.first_error().empty())
    std::printf("while measuring: %zu echoes differed %s\n", client.mismatches(),
                client.first_error().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  ::prctl(PR_SET_TIMERSLACK, 1000UL);  // a 1 us sleep between polls wakes within microseconds
  qemu_remote::arguments args;
  auto remote = qemu_remote::start_from_command_line(argc, argv, "rproc-qemu-rpmsg", args);
  if (!remote) return 2;
  platform& board = remote->board();
  const std::vector<std::byte>& original = board.table().image_bytes;
  const auto status_bytes =
      board.da_to_va(qemu_remote::rpmsg_status_da, sizeof(qemu_remote::rpmsg_status));
  if (status_bytes.empty()) {
    std::fprintf(stderr, "rproc-qemu-rpmsg: the status block lies outside the windows\n");
    return 2;
  }
  const firmware_status firmware{reinterpret_cast<qemu_remote::rpmsg_status*>(status_bytes.data())};
  std::printf("QEMU mps2-an386 (pid %d) runs %s; PSRAM in %s\n",
              static_cast<int>(remote->qemu().pid()), args.qemu.firmware.c_str(),
              remote->qemu().shared_file().c_str());

  // Linux puts a vdev's buffers in the carveout named vdev<N>buffer when the firmware has one.
  const auto image_table = rproc::parse_table(original, board.table().order);
  std::optional<std::uint32_t> buffer_entry;
  if (image_table)
    for (const auto entry : *image_table)
      if (const auto c = entry.as<rproc::carveout_entry>(); c && c->name() == "vdev0buffer")
        buffer_entry = entry.index();
  if (!buffer_entry) {
    std::fprintf(stderr, "rproc-qemu-rpmsg: the firmware's table has no vdev0buffer carveout\n");
    return 2;
  }

  rproc::processor<platform> proc(board);
  echo_client client(board);
  bool stale_rings = false;  // the negative control: the rings as the session before left them
  std::vector<std::vector<std::byte>> last_rings;
  // The virtio driver: between FEATURES_OK and DRIVER_OK, the bus over the vdev's vrings.
  board.set_virtio_driver([&](const rproc::vdev_setup& vdev) -> rproc::result<void> {
    const auto carveouts = proc.resources().carveouts();
    const auto buffers = std::ranges::find(carveouts, *buffer_entry, &rproc::carveout_record::entry);
    if (buffers == carveouts.end())
      return rproc::error{rproc::errc::out_of_memory, 0, vdev.entry, 0};
    const auto config = rpmsg::bus_config_of(vdev, {buffers->region.da, buffers->region.va});
    if (!config) return config.error();
    client.reset();
    if (auto attached = client.bus().attach(*config); !attached) return attached;
    // Not zeroed: what a driver that neither zeroes nor lays out afresh leaves (the whole of
    // vring 1, where it has not written yet, and the used ring of vring 0, the device's part).
    if (stale_rings && last_rings.size() == vdev.vrings.size()) {
      std::ranges::copy(last_rings[1], vdev.vrings[1].region.va.begin());
      const std::size_t used = rproc::vring_layout{vdev.vrings[0].num, vdev.vrings[0].align}
                                   .used_flags();
      std::copy(last_rings[0].begin() + static_cast<std::ptrdiff_t>(used), last_rings[0].end(),
                vdev.vrings[0].region.va.begin() + static_cast<std::ptrdiff_t>(used));
    }
    return {};
  });

  auto claimed = proc.claim<rproc::detached>();
  if (!claimed) {
    std::printf("the remote is not detached: %s\n", rproc::message(claimed.error()).c_str());
    return 1;
  }
  auto detached = std::move(claimed).value();
  const auto lengths = batch_lengths();
  const milliseconds timeout(2000);
  // One session: attach, `during` (the exchange), detach; the live table checked after it. What
  // went wrong, or nothing when a detach failed (the remote stays attached: nothing more to do).
  const auto cycle = [&](std::uint32_t n, auto&& during) -> std::optional<std::string> {
    auto attaching = std::move(detached).attach();
    if (!attaching) {
      std::string problem = "attach: " + std::string(rproc::message(attaching.error()).c_str()) +
                            " (" + board.last_failure() + ")";
      detached = std::move(attaching).previous();
      return problem;
    }
    auto attached = std::move(attaching).value();
    std::string problem = during(n);
    last_rings.clear();
    for (const auto& v : proc.resources().vrings())
      last_rings.emplace_back(v.region.va.begin(), v.region.va.end());
    auto detaching = std::move(attached).detach();
    client.bus().detach();
    if (!detaching) {
      std::printf("detach failed: %s (%s)\n", rproc::message(detaching.error()).c_str(),
                  board.last_failure().c_str());
      return std::nullopt;
    }
    detached = std::move(detaching).value();
    if (!std::ranges::equal(board.live_table(), original) && problem.empty())
      problem = "after the detach the live table is not the firmware's original";
    return problem;
  };
  const auto echo = [&](std::uint32_t n) { return exchange(client, lengths, n, timeout).problem; };

  int verified = 0;
  std::size_t messages = 0;
  const auto run_start = clock_type::now();
  for (std::uint32_t n = 1; n <= static_cast<std::uint32_t>(args.cycles); ++n) {
    const auto problem = cycle(n, echo);
    if (!problem) return 1;
    if (problem->empty()) {
      ++verified;
      messages += lengths.size();
    } else {
      std::printf("cycle %u: %s\n", n, problem->c_str());
    }
  }
  const double run_ms = since(run_start) / 1e6;
  std::printf("%d/%d re-attach cycles with rpmsg echo\n", verified, args.cycles);
  std::printf("%zu messages of %zu to %zu bytes echoed and checked byte for byte, %zu per "
              "cycle; %.1f ms a cycle (attach, announcement, echoes, detach); firmware: %u "
              "fresh starts of its bus, %u faults\n",
              messages, lengths.front(), lengths.back(), lengths.size(), run_ms / args.cycles,
              firmware.read(firmware.words->bus_attaches), firmware.faults());

  // The figures, then a clean cycle so that last_rings is what a full session leaves.
  const auto measured = cycle(0, [&](std::uint32_t) -> std::string {
    const session s = exchange(client, {1}, 0, timeout);
    if (!s.problem.empty()) return s.problem;
    measure(client, *client.echo_address());
    return {};
  });
  if (!measured || !measured->empty())
    std::printf("the figures' session: %s\n", measured ? measured->c_str() : "attach failed");
  if (const auto clean = cycle(0, echo); !clean || !clean->empty()) return 1;

  // (a) A detach without the clean copy.
  bool controls = qemu_remote::attach_after_detach_without_clean_copy(proc, board, detached);

  // (b) Vrings not zeroed at the re-attach: the indices of the session before.
  {
    stale_rings = true;
    const std::uint32_t faults_before = firmware.faults();
    session s;
    const auto problem = cycle(0, [&](std::uint32_t) {
      s = exchange(client, lengths, 0, milliseconds(500));
      // The firmware's view too: it has time to start its bus and look at the rings.
      std::this_thread::sleep_for(milliseconds(200));
      return s.problem;
    });
    stale_rings = false;
    const bool firmware_fault = firmware.faults() != faults_before;
    const std::string host = client.first_error().empty() ? "no error" : client.first_error();
    const bool failed = !problem || !problem->empty() || firmware_fault;
    std::printf("negative control, vrings not zeroed at re-attach: %s\n  host: %s\n  firmware: %s\n"
                "  announcement %s, %zu of %zu echoes verified\n",
                failed ? "the rings fail" : "nothing noticed: it must fail", host.c_str(),
                firmware_fault ? firmware.last_fault().c_str() : "no fault",
                s.announced ? "seen" : "not seen", s.verified, lengths.size());
    controls = controls && failed;
    if (const auto clean = cycle(0, echo); !clean || !clean->empty()) {
      std::printf("the cycle after it: %s\n", clean ? clean->c_str() : "attach failed");
      controls = false;
    }
  }

  // (c) A firmware that keeps its old ring indices across a detach.
  {
    const std::uint32_t faults_before = firmware.faults();
    session s;
    bool echoed = false;
    (void)cycle(0, [&](std::uint32_t) {
      firmware.keep_ring_state(true);  // from the next detach on
      return exchange(client, lengths, 0, timeout).problem;
    });
    const auto problem = cycle(0, [&](std::uint32_t) {
      s = exchange(client, lengths, 0, milliseconds(500));
      if (!s.announced) {  // the address it had: does an echo come back?
        client.send(qemu_remote::rpmsg_echo_address, 0, 16);
        echoed = client.poll_until([&] { return client.outstanding() == 0; }, milliseconds(500));
      }
      firmware.keep_ring_state(false);  // the next detach resets it
      return s.problem;
    });
    const bool firmware_fault = firmware.faults() != faults_before;
    const bool failed = !s.announced && !echoed && firmware_fault;
    std::printf("negative control, firmware keeps its ring indices across a detach: %s\n"
                "  host: %s, %s\n  firmware: %s\n",
                failed ? "no announcement, no echo" : "it must fail and did not",
                problem ? problem->c_str() : "attach failed",
                echoed ? "a message to 1024 was echoed" : "a message to 1024 got no echo",
                firmware_fault ? firmware.last_fault().c_str() : "no fault");
    controls = controls && failed;
    const auto clean = cycle(0, echo);
    std::printf("after the controls: %s\n",
                clean && clean->empty() ? "the next attach echoes every message again"
                                        : (clean ? clean->c_str() : "attach failed"));
    controls = controls && clean && clean->empty();
  }
  return verified == args.cycles && controls ? 0 : 1;
}
