// Host and firmware on two threads over the same bytes, as on two processors: the host attaches
// and detaches through rproc::posix::mapped_platform (a file both map, the shared mailbox), the
// firmware runs rproc::firmware::vdev_link and the remote end of the mailbox. Thousands of cycles;
// at each attach the firmware checks that no vring it reads is FW_RSC_ADDR_ANY (the host's
// writes were visible before DRIVER_OK), at each detach message that its table is the original
// again. Run under ThreadSanitizer by the tsan configuration: every access to shared bytes on
// either side must be ordered or atomic.
#include <rproc/builder.hpp>
#include <rproc/firmware.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/posix/mapped_platform.hpp>
#include <rproc/shared_mailbox.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace {

namespace rsc = rproc::rsc;
using rproc::shared_mailbox;

constexpr std::uint64_t table_da = 0x1000, mailbox_da = 0x1800, pool_da = 0x10000;
constexpr auto original_table = rproc::make_table(
    rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rsc::carveout{.len = 0x1000, .name = "buffers"});
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

struct firmware_report {
  std::uint32_t attaches = 0, unassigned_vrings = 0, detach_messages = 0, dirty_detaches = 0;
};

// The firmware's main loop, until told to stop.
firmware_report run_firmware(std::span<std::byte> table, std::span<std::byte> mailbox_bytes,
                             doorbell& to_firmware, doorbell& to_host,
                             const std::atomic<bool>& stop) {
  shared_mailbox mailbox(mailbox_bytes);
  rproc::firmware::vdev_link link(std::span<std::byte, table_size>(table.first<table_size>()),
                                  std::span<const std::byte, table_size>(original_table.bytes));
  firmware_report report;
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
        link.detach_notified();
        (void)link.poll();  // shows the reset: ready for the next DRIVER_OK
        ++report.detach_messages;
        if (!std::ranges::equal(link.shared().copy(), original_table.bytes)) ++report.dirty_detaches;
      }
      mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
      to_host.ring();
    }
    if (link.poll() != rproc::firmware::link_event::attached) continue;
    idle = 0;
    ++report.attaches;
    for (std::size_t i = 0; i < link.assignment().num_of_vrings; ++i)
      if (link.assignment().vrings[i].da == rproc::fw_rsc_addr_any) ++report.unassigned_vrings;
  }
  return report;
}

}  // namespace

TEST_CASE("two threads: the host attaches and detaches while the firmware's vdev_link reads the same bytes") {
  temporary_file file;
  auto memory = rproc::posix::device_memory::map(
      {{.da = 0, .size = 0x10000, .file = file.path},
       {.da = pool_da, .size = 0x10000, .file = file.path, .file_offset = pool_da,
        .allocatable = true}});
  REQUIRE(memory);
  const auto table = memory->translate(table_da, table_size);
  const auto mailbox_bytes = memory->translate(mailbox_da, shared_mailbox::size);
  std::ranges::copy(original_table.bytes, table.begin());  // as a boot loader leaves it

  std::atomic<bool> stop{false};
  doorbell to_firmware, to_host;
  firmware_report report;
  std::thread firmware(
      [&] { report = run_firmware(table, mailbox_bytes, to_firmware, to_host, stop); });

  auto mailbox = rproc::posix::shared_memory_mailbox::at(*memory, mailbox_da);
  REQUIRE(mailbox);
  while (!mailbox->remote_ready()) std::this_thread::yield();
  rproc::posix::mapped_platform board(
      std::move(*memory),
      rproc::posix::table_location{table_da, table_size, rproc::endian::native,
                                   {original_table.bytes.begin(), original_table.bytes.end()}},
      ringing_mailbox{std::move(*mailbox), &to_firmware, &to_host},
      {.detach_timeout = std::chrono::seconds(10)});
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
  stop = true;
  to_firmware.ring();
  firmware.join();

  CHECK(clean == cycles);
  CHECK(report.detach_messages == cycles);  // each acknowledged before the next attach
  CHECK(report.dirty_detaches == 0);
  CHECK(report.unassigned_vrings == 0);
  CHECK(report.attaches > 0);  // it saw some of them: a host that detaches at once may be quicker
  INFO("the firmware saw " << report.attaches << " of " << cycles << " attaches");
}
