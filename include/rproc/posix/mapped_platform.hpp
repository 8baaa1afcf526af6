// A platform for a host process that reaches its remote through mapped device memory (hosted,
// POSIX; never included by rproc/rproc.hpp): the OpenAMP-on-Linux case, UIO or /dev/mem instead
// of a kernel driver. The remote runs firmware someone else started (a boot loader); the host
// attaches to it, detaches and attaches again.
//
//   device_memory   the windows (device_memory.hpp); carveouts and vrings come from the ones set
//                   aside for it
//   table_location  where the running firmware keeps its table: from its ELF image (the
//                   .resource_table section's address and size, and its bytes, which the live
//                   table must match outside the host's fields) or an address and a size
//   Mailbox         the user's notifications to the firmware (attach, detach, kicks): post() a
//                   message, ask whether the firmware acknowledged() it. A detach is complete
//                   only once acknowledged, within options.detach_timeout: otherwise a re-attach
//                   could set DRIVER_OK again before the firmware saw the status go to 0, and it
//                   would never notice the detach.
//   CrashReportType the vendor type of the crash report the firmware keeps in its table
//                   (crash.hpp; rproc::amd_crash_report_type), or 0: none
//
// The host cannot reload the core, so a crashed remote recovers by detach and attach (Linux's
// RPROC_FEAT_ATTACH_ON_RECOVERY): the firmware restarts on the detach, as AMD's does.
//
// Every failure is an rproc::error through the lifecycle, and last_failure() says the same naming
// the file or the address.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <concepts>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../clean_copy.hpp"
#include "../elf.hpp"
#include "../error.hpp"
#include "../located_table.hpp"
#include "../platform.hpp"
#include "../shared_mailbox.hpp"
#include "device_memory.hpp"

namespace rproc::posix {

// The user's mailbox: post() gives the message's sequence number, or nothing when it cannot be
// sent now; acknowledged(n) tells whether the firmware has handled message n.
template <class M>
concept mailbox = requires(M& m, const notification& n, std::uint32_t sequence) {
  { m.post(n) } -> std::same_as<std::optional<std::uint32_t>>;
  { m.acknowledged(sequence) } -> std::same_as<bool>;
};

// The host's end of a shared_mailbox in device memory (the QEMU remote's).
class shared_memory_mailbox {
 public:
  static outcome<shared_memory_mailbox> at(const device_memory& memory, std::uint64_t da) {
    const auto bytes = memory.translate(da, shared_mailbox::size);
    if (bytes.empty() || reinterpret_cast<std::uintptr_t>(bytes.data()) % 4 != 0)
      return failure{{errc::table_not_mapped, 0, std::nullopt, da},
                     "the mailbox at " + hex(da) + " lies outside every window (or is unaligned)"};
    return shared_memory_mailbox(bytes);
  }
  std::optional<std::uint32_t> post(const notification& n) noexcept {
    return box_.post(shared_mailbox::direction::host_to_remote, n);
  }
  bool acknowledged(std::uint32_t sequence) const noexcept {
    return box_.acknowledged(shared_mailbox::direction::host_to_remote, sequence);
  }
  bool remote_ready() const noexcept { return box_.remote_ready(); }
  std::uint32_t boots() const noexcept { return box_.boots(); }

 private:
  explicit shared_memory_mailbox(std::span<std::byte> bytes) noexcept : box_(bytes) {}
  shared_mailbox box_;
};
static_assert(mailbox<shared_memory_mailbox>);

// Where the running firmware's table is, and (from its image) what it must hold.
struct table_location {
  std::uint64_t da = 0;
  std::size_t size = 0;
  endian order = endian::little;
  std::vector<std::byte> image_bytes{};  // empty: not checked
};

// The table of an ELF image (the file's bytes; `name` for messages).
inline outcome<table_location> table_from_image(std::span<const std::byte> file,
                                                const std::string& name) {
  const auto image = read_elf(file);
  if (!image) return failure{image.error(), name + ": not a valid ELF image"};
  const auto table = image->resource_table();
  if (!table || !table->da)
    return failure{{errc::no_resource_table, 0, std::nullopt, 0},
                   name + ": no .resource_table section"};
  if (const auto parsed = table->parse(); !parsed)
    return failure{parsed.error(), name + ": the .resource_table section is not a valid table"};
  return table_location{*table->da, table->bytes.size(), table->order,
                        {table->bytes.begin(), table->bytes.end()}};
}

// The whole of a file: an image on the host's disk.
inline outcome<std::vector<std::byte>> read_file(const std::string& path) {
  sysfs::file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::vector<std::byte> bytes;
  const auto fail = [&] {
    const int e = errno;
    return failure{{errc::system_error, 0, std::nullopt, static_cast<std::uint64_t>(e)},
                   path + ": cannot read: " + std::strerror(e)};
  };
  if (fd.get() < 0) return fail();
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail();
    if (n == 0) return bytes;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
}

inline outcome<table_location> table_from_elf_file(const std::string& path) {
  auto file = read_file(path);
  if (!file) return file.error();
  return table_from_image(*file, path);
}

struct mapped_platform_options {
  std::chrono::nanoseconds detach_timeout = std::chrono::seconds(1);
  bool running = true;  // a boot loader started the core: the remote begins detached
};

template <mailbox Mailbox, std::uint32_t CrashReportType = 0>
class mapped_platform {
 public:
  static constexpr bool attach_on_recovery = true;
  static constexpr std::uint32_t crash_report_type = CrashReportType;

  mapped_platform(device_memory memory, table_location table, Mailbox mailbox,
                  mapped_platform_options options = {})
      : memory_(std::move(memory)),
        allocator_(memory_),
        table_(std::move(table)),
        mailbox_(std::move(mailbox)),
        options_(options),
        image_copy_storage_(table_.image_bytes.size()),
        image_copy_(image_copy_storage_) {
    if (!table_.image_bytes.empty()) (void)image_copy_.take(table_.image_bytes, table_.order);
  }
  mapped_platform(const mapped_platform&) = delete;
  mapped_platform& operator=(const mapped_platform&) = delete;

  // The sentence naming the file or the address of the last operation that failed.
  const std::string& last_failure() const noexcept { return last_failure_; }
  const device_memory& memory() const noexcept { return memory_; }
  const table_location& table() const noexcept { return table_; }
  Mailbox& mailbox() noexcept { return mailbox_; }
  std::size_t outstanding_allocations() const noexcept { return allocator_.outstanding(); }
  // The live table, wherever the lifecycle stands (empty when outside every window).
  std::span<std::byte> live_table() const noexcept { return memory_.translate(table_.da, table_.size); }

  std::span<std::byte> da_to_va(std::uint64_t da, std::size_t len) noexcept {
    return memory_.translate(da, len);
  }
  result<memory_region> allocate(const allocation_request& request) noexcept {
    auto region = allocator_.allocate(request);
    if (!region)
      failed(region.error(), std::string(request.purpose == allocation_purpose::vring ? "a vring"
                                                                                     : "a carveout") +
                                 " of entry " + std::to_string(request.entry) + " (" +
                                 hex(request.len) + " bytes at " +
                                 (request.da == fw_rsc_addr_any ? std::string("any address")
                                                                : hex(request.da)) +
                                 ") does not fit in the windows set aside for allocation");
    return region;
  }
  void release(const memory_region& region) noexcept { allocator_.release(region); }

  bool is_running() const { return options_.running; }

  result<mutable_located_table> loaded_table() noexcept {
    const auto live = live_table();
    if (live.size() < table_.size || table_.size == 0)
      return failed({errc::table_not_mapped, 0, std::nullopt, table_.da},
                    "the table at " + hex(table_.da) + " (" + hex(table_.size) +
                        " bytes) lies outside every window");
    if (image_copy_.has_value())
      if (const auto at = image_copy_.first_remote_change(live))
        return failed({errc::live_table_differs, *at, std::nullopt,
                       std::to_integer<std::uint64_t>(live[*at])},
                      "the live table at " + hex(table_.da) + " differs from the image's at byte " +
                          hex(*at) + " (address " + hex(table_.da + *at) + ")");
    return mutable_located_table{live, table_.order, table_.da, std::nullopt};
  }

  // The host's virtio driver, called for each vdev after FEATURES_OK and before DRIVER_OK to set
  // up its virtqueues (an rpmsg host_bus's attach); without one there is nothing to set up.
  void set_virtio_driver(std::function<result<void>(const vdev_setup&)> driver) {
    driver_ = std::move(driver);
  }
  result<void> set_up_vdev(const vdev_setup& vdev) {
    if (!driver_) return {};
    auto set_up = driver_(vdev);
    if (!set_up)
      failed(set_up.error(), "the virtio driver refused vdev entry " + std::to_string(vdev.entry) +
                                 " (" + rproc::message(set_up.error()).c_str() + ")");
    return set_up;
  }

  // After DRIVER_OK is visible: the firmware may wait for the message rather than poll.
  result<void> ring_doorbell() noexcept { return notify({notification_kind::attach, 0}, false); }
  result<void> detach() noexcept { return notify({notification_kind::detach, 0}, true); }
  result<void> kick(std::uint32_t notifyid) noexcept {
    return notify({notification_kind::kick, notifyid}, false);
  }

 private:
  error failed(const error& e, std::string what) noexcept {
    last_failure_ = std::move(what);
    return e;
  }

  result<void> notify(const notification& n, bool wait) noexcept {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + options_.detach_timeout;
    std::optional<std::uint32_t> sequence = mailbox_.post(n);
    while (!sequence && clock::now() < deadline) {  // a full mailbox drains, or the wait ends
      ::sched_yield();
      sequence = mailbox_.post(n);
    }
    if (!sequence)
      return failed({errc::not_acknowledged, 0, std::nullopt, 0},
                    "the mailbox stayed full: the remote takes no messages");
    if (!wait) return {};
    while (!mailbox_.acknowledged(*sequence)) {
      if (clock::now() >= deadline)
        return failed({errc::not_acknowledged, 0, std::nullopt, *sequence},
                      "the remote did not acknowledge message " + std::to_string(*sequence) +
                          " (" + (n.kind == notification_kind::detach ? "detach" : "attach") +
                          ") in " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             options_.detach_timeout)
                                             .count()) +
                          " ms");
      ::sched_yield();
    }
    return {};
  }

  device_memory memory_;
  window_allocator allocator_;
  table_location table_;
  Mailbox mailbox_;
  mapped_platform_options options_;
  std::vector<std::byte> image_copy_storage_;
  clean_copy<> image_copy_;
  std::string last_failure_;
  std::function<result<void>(const vdev_setup&)> driver_;
};

}  // namespace rproc::posix
