// Host and firmware on two threads over the same bytes, as on two processors: the host attaches
// and detaches through rproc::posix::mapped_platform (a file both map, the shared mailbox), the
// firmware runs rproc::firmware::vdev_link and the remote end of the mailbox. Thousands of cycles;
// at each attach the firmware checks that no vring it reads is FW_RSC_ADDR_ANY (the host's
// writes were visible before DRIVER_OK), at each detach message that its table is the original
// again. The firmware also speaks rpmsg (rproc/rpmsg_firmware.hpp) on the rings it is given:
// with a host that sets its rings up (rproc/rpmsg_host.hpp, the platform's virtio driver), it
// announces its echo channel after each attach and echoes what it receives. Run under
// ThreadSanitizer by the tsan configuration: every access to shared bytes on either side must be
// ordered or atomic.
#include <rproc/builder.hpp>
#include <rproc/firmware.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/posix/mapped_platform.hpp>
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>
#include <rproc/shared_mailbox.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rpmsg_support.hpp"

namespace {

namespace rsc = rproc::rsc;
using rproc::shared_mailbox;

constexpr std::uint64_t table_da = 0x1000, mailbox_da = 0x1800, pool_da = 0x10000;
constexpr std::size_t pool_size = 0x10000;
constexpr auto original_table = rproc::make_table(
    rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rsc::carveout{.len = 0x2000, .name = "buffers"});  // 8 + 8 rpmsg buffers of 512 bytes
constexpr std::size_t table_size = original_table.size();

struct temporary_file {
  std::string path;
  temporary_file() {
    char name[] = "/tmp/rproc-concurrency-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 0x20000) == 0);
    ::close(fd);
    path = name;
  }
  ~temporary_file() { ::unlink(path.c_str()); }
};

// Two threads that spin on the machine's 2 shared cores would hand over only when the scheduler
// says: each side sleeps until the other rings (or 1 ms), as a core would wait for an interrupt.
class doorbell {
 public:
  std::uint64_t rings() {
    std::lock_guard lock(mutex_);
    return rings_;
  }
  void ring() {
    {
      std::lock_guard lock(mutex_);
      ++rings_;
    }
    rung_.notify_all();
  }
  void wait(std::uint64_t seen) {
    std::unique_lock lock(mutex_);
    rung_.wait_for(lock, std::chrono::milliseconds(1), [&] { return rings_ != seen; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable rung_;
  std::uint64_t rings_ = 0;
};

// The shared mailbox, ringing the firmware's doorbell at each message and sleeping on the host's
// while a message is not acknowledged.
struct ringing_mailbox {
  rproc::posix::shared_memory_mailbox box;
  doorbell* to_firmware;
  doorbell* to_host;
  std::optional<std::uint32_t> post(const rproc::notification& n) {
    const auto sequence = box.post(n);
    to_firmware->ring();
    return sequence;
  }
  bool acknowledged(std::uint32_t sequence) {
    const auto seen = to_host->rings();
    if (box.acknowledged(sequence)) return true;
    to_host->wait(seen);
    return box.acknowledged(sequence);
  }
};

// A vring's notification: the other side's doorbell.
struct doorbell_kick {
  doorbell* other;
  rproc::result<void> kick(std::uint32_t) noexcept {
    other->ring();
    return {};
  }
};

struct firmware_report {
  std::uint32_t attaches = 0, unassigned_vrings = 0, detach_messages = 0, dirty_detaches = 0;
  std::uint32_t echoed = 0, rpmsg_faults = 0;
};

// The firmware's main loop, until told to stop. `pool` is the memory where the host may place
// vrings and buffers.
firmware_report run_firmware(std::span<std::byte> table, std::span<std::byte> mailbox_bytes,
                             std::span<std::byte> pool, doorbell& to_firmware, doorbell& to_host,
                             const std::atomic<bool>& stop) {
  shared_mailbox mailbox(mailbox_bytes);
  rproc::firmware::vdev_link link(std::span<std::byte, table_size>(table.first<table_size>()),
                                  std::span<const std::byte, table_size>(original_table.bytes));
  firmware_report report;
  doorbell_kick kick_host{&to_host};
  rproc::rpmsg::firmware_bus<doorbell_kick> bus(kick_host);
  auto echo = [&](const rproc::rpmsg::message& m) {
    if (bus.send(m.dst, m.src, m.payload)) ++report.echoed;
    else ++report.rpmsg_faults;
  };
  if (!bus.create_endpoint("rpmsg-echo", echo)) ++report.rpmsg_faults;
  const rproc::memory_window shared{pool_da, pool};
  mailbox.set_up_remote_end();
  int idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const auto seen = to_firmware.rings();
    if (++idle > 100) {  // nothing for 100 looks: sleep until the host rings
      to_firmware.wait(seen);
      idle = 0;
    }
    if (const auto n = mailbox.peek(shared_mailbox::direction::host_to_remote)) {
      idle = 0;
      if (n->kind == rproc::notification_kind::detach) {
        bus.detach();  // the rings are the host's again: forget them, indices and all
        link.detach_notified();
        (void)link.poll();  // shows the reset: ready for the next DRIVER_OK
        ++report.detach_messages;
        if (!std::ranges::equal(link.shared().copy(), original_table.bytes)) ++report.dirty_detaches;
      }
      mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
      to_host.ring();
    }
    if (bus.attached()) {
      const auto delivered = bus.poll();
      if (!delivered) ++report.rpmsg_faults;
      else if (*delivered > 0) idle = 0;
    }
    if (link.poll() != rproc::firmware::link_event::attached) continue;
    idle = 0;
    ++report.attaches;
    for (std::size_t i = 0; i < link.assignment().num_of_vrings; ++i)
      if (link.assignment().vrings[i].da == rproc::fw_rsc_addr_any) ++report.unassigned_vrings;
    // Fresh rings at each attach: the host laid them out before DRIVER_OK.
    const auto config = rproc::rpmsg::bus_config_of(link.assignment(), shared, shared,
                                                    rproc::endian::native);
    if (!config || !bus.attach(*config)) ++report.rpmsg_faults;
  }
  return report;
}

using platform = rproc::posix::mapped_platform<ringing_mailbox>;

// Both processors: the firmware's thread, running from construction to finish(), and the host's
// platform over the same memory (a file both map: the table, the mailbox, the pool).
class two_sides {
 public:
  two_sides() {
    auto memory = rproc::posix::device_memory::map(
        {{.da = 0, .size = 0x10000, .file = file_.path},
         {.da = pool_da, .size = pool_size, .file = file_.path, .file_offset = pool_da,
          .allocatable = true}});
    REQUIRE(memory);
    auto mailbox = rproc::posix::shared_memory_mailbox::at(*memory, mailbox_da);
    REQUIRE(mailbox);
    const auto table = memory->translate(table_da, table_size);
    const auto mailbox_bytes = memory->translate(mailbox_da, shared_mailbox::size);
    const auto pool = memory->translate(pool_da, pool_size);
    std::ranges::copy(original_table.bytes, table.begin());  // as a boot loader leaves it
    firmware_ = std::thread([=, this] {
      report_ = run_firmware(table, mailbox_bytes, pool, to_firmware_, to_host_, stop_);
    });
    while (!mailbox->remote_ready()) std::this_thread::yield();
    board_.emplace(std::move(*memory),
                   rproc::posix::table_location{
                       table_da, table_size, rproc::endian::native,
                       {original_table.bytes.begin(), original_table.bytes.end()}},
                   ringing_mailbox{std::move(*mailbox), &to_firmware_, &to_host_},
                   rproc::posix::mapped_platform_options{.detach_timeout = std::chrono::seconds(10)});
  }
  two_sides(const two_sides&) = delete;
  two_sides& operator=(const two_sides&) = delete;
  ~two_sides() {
    if (firmware_.joinable()) (void)finish();
  }

  platform& board() noexcept { return *board_; }
  doorbell& to_firmware() noexcept { return to_firmware_; }
  doorbell& to_host() noexcept { return to_host_; }

  // Stops the firmware: what it saw.
  firmware_report finish() {
    stop_ = true;
    to_firmware_.ring();
    firmware_.join();
    return report_;
  }

 private:
  temporary_file file_;
  doorbell to_firmware_, to_host_;
  std::atomic<bool> stop_{false};
  firmware_report report_;
  std::thread firmware_;
  std::optional<platform> board_;  // unmapped after the firmware stopped
};

}  // namespace

TEST_CASE("two threads: the host attaches and detaches while the firmware's vdev_link reads the same bytes") {
  two_sides sides;
  platform& board = sides.board();
  rproc::processor proc(board);
  auto detached = proc.claim<rproc::detached>().value();
  constexpr int cycles = 2000;
  int clean = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    auto attaching = std::move(detached).attach();
    if (!attaching) FAIL(rproc::message(attaching.error()).c_str() << ": " << board.last_failure());
    auto detaching = std::move(attaching).value().detach();
    if (!detaching) FAIL(rproc::message(detaching.error()).c_str() << ": " << board.last_failure());
    detached = std::move(detaching).value();
    clean += std::ranges::equal(board.live_table(), original_table.bytes);
  }
  const firmware_report report = sides.finish();

  CHECK(clean == cycles);
  CHECK(report.detach_messages == cycles);  // each acknowledged before the next attach
  CHECK(report.dirty_detaches == 0);
  CHECK(report.unassigned_vrings == 0);
  CHECK(report.attaches > 0);  // it saw some of them: a host that detaches at once may be quicker
  INFO("the firmware saw " << report.attaches << " of " << cycles << " attaches");
}

TEST_CASE("two threads: rpmsg echoes across attach, detach and re-attach") {
  two_sides sides;
  platform& board = sides.board();
  rproc::processor proc(board);
  doorbell_kick kick_firmware{&sides.to_firmware()};
  rproc::rpmsg::host_bus<doorbell_kick> host(kick_firmware);
  // The host's virtio driver: its rings laid out, vring 0 given its buffers, before DRIVER_OK;
  // every buffer in the vdev's carveout, as Linux puts them in the vdev's buffer memory.
  board.set_virtio_driver([&](const rproc::vdev_setup& vdev) -> rproc::result<void> {
    const auto& carveout = proc.resources().carveouts()[0].region;
    auto config = rproc::rpmsg::bus_config_of(vdev, {carveout.da, carveout.va});
    if (!config) return config.error();
    return host.attach(*config);
  });

  constexpr std::uint32_t cycles = 500, messages = 24, max_payload = 512 - 16;
  // At most as many messages on their way as vring 0 has buffers for their echoes.
  constexpr std::size_t window = 8;
  const auto length_of = [](std::uint32_t n) { return 1 + n * 53 % max_payload; };
  std::deque<std::uint32_t> outstanding;  // sent, not echoed yet, in order
  std::uint32_t echoes = 0, wrong = 0, announcements = 0, faults = 0;
  auto receive = [&](const rproc::rpmsg::message& m) {
    if (outstanding.empty()) {
      ++wrong;
      return;
    }
    const std::uint32_t n = outstanding.front();
    outstanding.pop_front();
    const auto expected = test::payload(n, length_of(n));
    if (!std::ranges::equal(m.payload, expected)) ++wrong;
    ++echoes;
  };
  auto heard = [&](const rproc::rpmsg::announcement&) { ++announcements; };
  host.on_announcement(heard);
  const std::uint32_t local = host.create_endpoint("", receive).value();
  // Not a timing: a bound, so that a firmware that stopped answering fails the test, not hangs it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(100);
  const auto stuck = [&] { return std::chrono::steady_clock::now() > give_up; };
  // Delivers what the firmware sent; sleeps until it rings (or 1 ms) when there was nothing.
  const auto receive_all = [&] {
    const auto seen = sides.to_host().rings();
    const auto delivered = host.poll();
    if (!delivered) ++faults;
    else if (*delivered == 0) sides.to_host().wait(seen);
  };

  auto detached = proc.claim<rproc::detached>().value();
  std::uint32_t clean = 0;
  for (std::uint32_t cycle = 1; cycle <= cycles && faults == 0 && !stuck(); ++cycle) {
    auto attaching = std::move(detached).attach();
    if (!attaching) FAIL(rproc::message(attaching.error()).c_str() << ": " << board.last_failure());
    while (!host.channel_address("rpmsg-echo") && faults == 0 && !stuck()) receive_all();
    const std::uint32_t remote_addr = host.channel_address("rpmsg-echo").value_or(0);
    std::uint32_t next = (cycle - 1) * messages;
    while (echoes < cycle * messages && faults == 0 && !stuck()) {
      while (next < cycle * messages && outstanding.size() < window) {
        if (!host.send(local, remote_addr, test::payload(next, length_of(next)))) break;
        outstanding.push_back(next++);  // else no buffer of vring 1's is back yet
      }
      receive_all();
    }
    auto detaching = std::move(attaching).value().detach();
    if (!detaching) FAIL(rproc::message(detaching.error()).c_str() << ": " << board.last_failure());
    detached = std::move(detaching).value();
    host.detach();
    clean += std::ranges::equal(board.live_table(), original_table.bytes);
  }
  const firmware_report report = sides.finish();

  CHECK_FALSE(stuck());
  CHECK(faults == 0);
  CHECK(report.rpmsg_faults == 0);
  CHECK(wrong == 0);
  CHECK(echoes == cycles * messages);
  CHECK(report.echoed == cycles * messages);
  CHECK(announcements == cycles);  // announced again after every attach
  CHECK(report.attaches == cycles);
  CHECK(report.detach_messages == cycles);
  CHECK(report.dirty_detaches == 0);
  CHECK(clean == cycles);
}
