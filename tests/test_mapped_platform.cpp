// rproc::posix::mapped_platform over a real file the test maps, as a UIO or /dev/mem user maps
// device memory: the windows, the allocator, the table from an ELF image, the mailbox, and every
// failure (a file that cannot be opened, one too small, overlapping windows, a table outside
// every window, a live table that is not the image's, a detach nobody acknowledges).
#include <rproc/lifecycle.hpp>
#include <rproc/posix/mapped_platform.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "elf_fixtures.hpp"

namespace {

using rproc::errc;
using rproc::posix::device_memory;
using rproc::posix::window;

using sample = fx::sample<rproc::elf::class32, rproc::endian::little>;
constexpr std::size_t file_size = 0x30000;
constexpr std::uint64_t pool_da = 0x10000, trace_da = 0x20000;

// A file of file_size zero bytes, removed at the end of the test.
struct temporary_file {
  std::string path;
  explicit temporary_file(std::size_t size = file_size) {
    char name[] = "/tmp/rproc-mapped-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
    ::close(fd);
    path = name;
  }
  ~temporary_file() { ::unlink(path.c_str()); }
};

// How many mappings of `path` this process has.
std::size_t mappings_of(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find(path) != std::string::npos;
  return n;
}

// The firmware's memory (its table at fx::table_address), the pool, the trace buffer's window.
std::vector<window> board_windows(const std::string& file) {
  return {{.da = 0, .size = 0x10000, .file = file},
          {.da = pool_da, .size = 0x10000, .file = file, .file_offset = pool_da, .allocatable = true},
          {.da = trace_da, .size = 0x10000, .file = file, .file_offset = trace_da}};
}

// A mailbox in the test's hands: it records what was posted and acknowledges when told to.
struct test_mailbox {
  std::vector<rproc::notification>* posted;
  bool* acknowledging;
  std::optional<std::uint32_t> post(const rproc::notification& n) {
    posted->push_back(n);
    return static_cast<std::uint32_t>(posted->size());
  }
  bool acknowledged(std::uint32_t) const { return *acknowledging; }
};
static_assert(rproc::posix::mailbox<test_mailbox>);

using test_platform = rproc::posix::mapped_platform<test_mailbox>;
static_assert(rproc::check_platform<test_platform>());
static_assert(rproc::platform_can_detach<test_platform> && rproc::platform_can_kick<test_platform>);

struct board {
  temporary_file file;
  std::vector<rproc::notification> posted;
  bool acknowledging = true;
  std::optional<test_platform> platform;

  explicit board(rproc::posix::mapped_platform_options options = {},
                 std::optional<rproc::posix::table_location> where = std::nullopt) {
    auto memory = device_memory::map(board_windows(file.path));
    REQUIRE(memory);
    auto location = rproc::posix::table_from_image(sample::image, "sample.elf");
    REQUIRE(location);
    // As a boot loader leaves it: the table where the image puts it.
    std::ranges::copy(location->image_bytes, memory->translate(fx::table_address, 140).begin());
    platform.emplace(std::move(*memory), where ? std::move(*where) : std::move(*location),
                     test_mailbox{&posted, &acknowledging}, options);
  }
  std::vector<std::byte> live() const {
    const auto bytes = platform->live_table();
    return {bytes.begin(), bytes.end()};
  }
};

std::vector<std::byte> image_table() {
  const auto t = rproc::read_elf(sample::image)->resource_table();
  return {t->bytes.begin(), t->bytes.end()};
}

}  // namespace

TEST_CASE("mapped platform: attach and detach through a mapped file, the image's table back each time") {
  board b;
  rproc::processor<test_platform> proc(*b.platform);
  REQUIRE(proc.current_state() == rproc::state::detached);  // a boot loader started the core
  auto detached = proc.claim<rproc::detached>().value();
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto attaching = std::move(detached).attach();
    REQUIRE(attaching);
    auto attached = std::move(attaching).value();
    const auto vrings = proc.resources().vrings();
    REQUIRE(vrings.size() == 2);
    CHECK(vrings[0].region.da == pool_da);  // the lowest free page of the pool
    CHECK(vrings[1].region.da == pool_da + 0x1000);
    CHECK(vrings[0].region.va.data() == b.platform->da_to_va(pool_da, 1).data());
    const auto vdev = proc.current_table()->operator[](0).as<rproc::vdev_entry>();
    CHECK(vdev->vring(0).da() == pool_da);
    CHECK(vdev->status() == 0xf);
    CHECK(b.platform->outstanding_allocations() == 2);

    auto detaching = std::move(attached).detach();
    REQUIRE(detaching);
    detached = std::move(detaching).value();
    CHECK(b.live() == image_table());
    CHECK(b.platform->outstanding_allocations() == 0);
  }
  // Per cycle: an attach message, then a detach message acknowledged.
  REQUIRE(b.posted.size() == 6);
  CHECK(b.posted[0].kind == rproc::notification_kind::attach);
  CHECK(b.posted[1].kind == rproc::notification_kind::detach);
}

TEST_CASE("mapped platform: a window whose file cannot be opened names the file; nothing stays mapped") {
  temporary_file file;
  auto windows = board_windows(file.path);
  windows[2].file = "/nonexistent/rproc-uio7";
  const auto memory = device_memory::map(windows);
  REQUIRE_FALSE(memory);
  CHECK(memory.error().error.code == errc::system_error);
  CHECK(memory.error().error.value == ENOENT);
  CHECK(memory.error().what.find("/nonexistent/rproc-uio7") != std::string::npos);
  CHECK(memory.error().what.find("cannot open") != std::string::npos);
  CHECK(memory.error().message().find("system_error") != std::string::npos);
  CHECK(mappings_of(file.path) == 0);  // the two windows mapped before it were unmapped
}

TEST_CASE("mapped platform: a file smaller than its window, and overlapping windows") {
  temporary_file file(0x18000);
  const auto small = device_memory::map(board_windows(file.path));
  REQUIRE_FALSE(small);
  CHECK(small.error().error.code == errc::window_too_small);
  CHECK(small.error().error.value == 0x18000);
  CHECK(small.error().what.find(file.path + " (window at 0x10000") == 0);
  CHECK(mappings_of(file.path) == 0);

  const auto overlapping = device_memory::map(
      {window{.da = 0x1000, .size = 0x2000, .file = file.path},
       window{.da = 0x2000, .size = 0x1000, .file = file.path, .file_offset = 0x8000}});
  REQUIRE_FALSE(overlapping);
  CHECK(overlapping.error().error.code == errc::windows_overlap);
  CHECK(overlapping.error().error.value == 0x2000);
  CHECK(mappings_of(file.path) == 0);

  const auto unaligned = device_memory::map({window{.da = 0x3000, .size = 0x100,
                                                    .file = file.path, .file_offset = 0x1010}});
  REQUIRE(unaligned);  // mmap takes whole pages: the window starts inside one
  unaligned->translate(0x3000, 1)[0] = std::byte{0x5a};
  CHECK(device_memory::map({window{.da = 0, .size = 0x2000, .file = file.path}})
            ->translate(0x1010, 1)[0] == std::byte{0x5a});
}

TEST_CASE("mapped platform: the allocator honours a free fixed address in a window set aside, refuses others naming the entry") {
  temporary_file file;
  auto memory = device_memory::map(board_windows(file.path));
  REQUIRE(memory);
  rproc::posix::window_allocator allocator(*memory);
  using rproc::allocation_request;
  const auto any = allocator.allocate({.len = 0x1800, .align = 16, .entry = 1});
  REQUIRE(any);
  CHECK(any->da == pool_da);
  CHECK(any->pa == pool_da);
  CHECK(any->va.size() == 0x1800);
  const auto fixed = allocator.allocate({.da = pool_da + 0x4000, .pa = 0x80004000, .len = 0x1000,
                                         .entry = 2});
  REQUIRE(fixed);
  CHECK(fixed->da == pool_da + 0x4000);
  CHECK(fixed->pa == 0x80004000);
  // The next free address past the first, at page alignment.
  CHECK(allocator.allocate({.len = 0x1000, .entry = 3})->da == pool_da + 0x2000);

  const auto taken = allocator.allocate({.da = pool_da + 0x4800, .len = 0x100, .entry = 4});
  REQUIRE_FALSE(taken);
  CHECK(taken.error() == rproc::error{errc::address_unavailable, 0, 4u, pool_da + 0x4800});
  const auto not_set_aside = allocator.allocate({.da = 0x3000, .len = 0x100, .entry = 5});
  REQUIRE_FALSE(not_set_aside);
  CHECK(not_set_aside.error() == rproc::error{errc::address_unavailable, 0, 5u, 0x3000});
  const auto straddling = allocator.allocate({.da = pool_da + 0xF800, .len = 0x1000, .entry = 6});
  CHECK(straddling.error().code == errc::address_unavailable);
  const auto too_big = allocator.allocate({.len = 0x20000, .entry = 7});
  CHECK(too_big.error() == rproc::error{errc::out_of_memory, 0, 7u, 0x20000});

  allocator.release(*fixed);
  CHECK(allocator.allocate({.da = pool_da + 0x4800, .len = 0x100})->da == pool_da + 0x4800);
  CHECK(allocator.outstanding() == 3);
}

TEST_CASE("mapped platform: the user's virtio driver sets up each vdev before DRIVER_OK; its refusal takes the attach back") {
  board b;
  rproc::processor<test_platform> proc(*b.platform);
  std::vector<rproc::vdev_setup> seen;
  std::vector<std::uint8_t> status_seen;
  b.platform->set_virtio_driver([&](const rproc::vdev_setup& vdev) -> rproc::result<void> {
    seen.push_back(vdev);
    const auto live = rproc::parse_table(b.platform->live_table(), rproc::endian::little);
    status_seen.push_back(live ? (*live)[0].as<rproc::vdev_entry>()->status() : 0xFF);
    return {};
  });
  auto attached = proc.claim<rproc::detached>().value().attach().value();
  REQUIRE(seen.size() == 1);
  CHECK(status_seen[0] == 0xb);  // FEATURES_OK, not yet DRIVER_OK
  REQUIRE(seen[0].vrings.size() == 2);
  CHECK(seen[0].vrings[1].region.da == pool_da + 0x1000);
  CHECK(seen[0].vrings[1].num == 8);
  auto detached = std::move(attached).detach().value();
  CHECK(b.posted.size() == 2);

  b.platform->set_virtio_driver([](const rproc::vdev_setup&) -> rproc::result<void> {
    return rproc::error{errc::out_of_memory, 0, 0, 42};
  });
  auto refused = std::move(detached).attach();
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == rproc::error{errc::out_of_memory, 0, 0, 42});
  CHECK(b.platform->last_failure().find("the virtio driver refused vdev entry 0") == 0);
  CHECK(b.live() == image_table());
  CHECK(b.platform->outstanding_allocations() == 0);
  CHECK(b.posted.size() == 2);  // no attach message: DRIVER_OK was never set
}

TEST_CASE("mapped platform: a fixed vring outside the windows set aside fails the attach naming the entry") {
  board b;
  // The firmware fixes vring 1 in its own window, which is not the host's to allocate from.
  auto live = b.platform->live_table();
  rproc::parse_mutable_table(live)->operator[](0).as<rproc::mutable_vdev_entry>()->vring(1).set_da(0x8000);
  rproc::processor<test_platform> proc(*b.platform);
  const auto before = b.live();
  auto attaching = proc.claim<rproc::detached>().value().attach();
  REQUIRE_FALSE(attaching);
  CHECK(attaching.error().code == errc::address_unavailable);
  CHECK(attaching.error().entry == 0u);
  CHECK(attaching.error().value == 0x8000);
  CHECK(b.platform->last_failure().find("a vring of entry 0 (0x1000 bytes at 0x8000)") == 0);
  CHECK(b.live() == before);
  CHECK(b.platform->outstanding_allocations() == 0);
}

TEST_CASE("mapped platform: a table outside every window, and a live table that is not the image's") {
  SECTION("outside") {
    board b({}, rproc::posix::table_location{0x90000, 140, rproc::endian::little, {}});
    rproc::processor<test_platform> proc(*b.platform);
    auto attaching = proc.claim<rproc::detached>().value().attach();
    REQUIRE_FALSE(attaching);
    CHECK(attaching.error().code == errc::table_not_mapped);
    CHECK(attaching.error().value == 0x90000);
    CHECK(b.platform->last_failure() == "the table at 0x90000 (0x8c bytes) lies outside every window");
    CHECK(proc.current_state() == rproc::state::detached);
  }
  SECTION("not the image's") {
    board b;
    b.platform->live_table()[fx::sample_trace_at + 20] = std::byte{'X'};  // the trace's name
    rproc::processor<test_platform> proc(*b.platform);
    auto attaching = proc.claim<rproc::detached>().value().attach();
    REQUIRE_FALSE(attaching);
    CHECK(attaching.error().code == errc::live_table_differs);
    CHECK(attaching.error().offset == fx::sample_trace_at + 20);
    CHECK(attaching.error().value == 'X');
    CHECK(b.platform->last_failure().find("differs from the image's at byte 0x70 (address 0x2070)") !=
          std::string::npos);
  }
  SECTION("the host's own fields may differ: features left by an earlier host") {
    board b;
    auto live = b.platform->live_table();
    rproc::parse_mutable_table(live)->operator[](0).as<rproc::mutable_vdev_entry>()->set_gfeatures(1);
    rproc::processor<test_platform> proc(*b.platform);
    CHECK(proc.claim<rproc::detached>().value().attach());
  }
}

TEST_CASE("mapped platform: a detach the firmware does not acknowledge fails in time; the remote stays attached") {
  board b({.detach_timeout = std::chrono::milliseconds(20)});
  rproc::processor<test_platform> proc(*b.platform);
  auto attached = proc.claim<rproc::detached>().value().attach().value();
  const auto as_attached = b.live();
  b.acknowledging = false;
  const auto begin = std::chrono::steady_clock::now();
  auto detaching = std::move(attached).detach();
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(2));
  REQUIRE_FALSE(detaching);
  CHECK(detaching.error() == rproc::error{errc::not_acknowledged, 0, std::nullopt, 2});
  CHECK(b.platform->last_failure() == "the remote did not acknowledge message 2 (detach) in 20 ms");
  CHECK(proc.current_state() == rproc::state::attached);
  CHECK(b.live() == as_attached);  // the table as the host had it: the firmware may go on
  b.acknowledging = true;
  attached = std::move(detaching).previous();
  REQUIRE(std::move(attached).detach());
  CHECK(b.live() == image_table());
}

TEST_CASE("mapped platform: the table of an ELF image, and images without one") {
  const auto found = rproc::posix::table_from_image(sample::image, "sample.elf");
  REQUIRE(found);
  CHECK(found->da == fx::table_address);
  CHECK(found->size == fx::sample_table_size);
  CHECK(found->image_bytes == image_table());

  const std::byte not_elf[64] = {};
  const auto bad = rproc::posix::table_from_image(not_elf, "blob.bin");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().error.code == errc::elf_bad_magic);
  CHECK(bad.error().what == "blob.bin: not a valid ELF image");

  const auto missing = rproc::posix::table_from_elf_file("/nonexistent/fw.elf");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().error.code == errc::system_error);
  CHECK(missing.error().what.find("/nonexistent/fw.elf: cannot read") == 0);
}

TEST_CASE("mapped platform: a crash the firmware reports in its table, recovered by detach and attach") {
  // The host cannot reload the core: recovery is Linux's attach on recovery.
  using crash_platform = rproc::posix::mapped_platform<test_mailbox, rproc::amd_crash_report_type>;
  static_assert(rproc::attaches_on_recovery<crash_platform>() && rproc::attaches_on_recovery<test_platform>());
  static_assert(rproc::crash_report_type_of<crash_platform>() == rproc::amd_crash_report_type);
  static_assert(rproc::crash_report_type_of<test_platform>() == 0);

  constexpr auto table = rproc::make_table(
      rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
          rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 0},
          rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
      rproc::rsc::raw{rproc::amd_crash_report_type, std::array<std::uint8_t, 8>{}});
  constexpr std::uint64_t table_da = 0x8000;
  const std::vector<std::byte> original(table.bytes.begin(), table.bytes.end());
  temporary_file file;
  std::vector<rproc::notification> posted;
  bool acknowledging = true;
  auto memory = device_memory::map(board_windows(file.path));
  REQUIRE(memory);
  std::ranges::copy(original, memory->translate(table_da, original.size()).begin());
  crash_platform board(std::move(*memory),
                       {table_da, original.size(), rproc::endian::little, original},
                       test_mailbox{&posted, &acknowledging});
  rproc::machine<crash_platform> m(board);
  REQUIRE(m.start());
  CHECK(m.check_crash_report().value() == false);

  // The firmware crashes as AMD's does: the reason, then crash_state, in its live table.
  const auto report = rproc::find_crash_report(rproc::parse_table(table).value()).value();
  const rproc::basic_byte_view<std::byte> live(board.live_table(), rproc::endian::little);
  REQUIRE(live.write_u32(report.offset + 8, static_cast<std::uint32_t>(rproc::crash_reason::watchdog)));
  REQUIRE(live.write_u32(report.offset + 4, 1));
  m.set_recovery(rproc::recovery_mode::disabled);
  CHECK(m.check_crash_report().value() == true);
  CHECK(m.current_state() == rproc::state::crashed);
  CHECK(m.processor().last_crash()->reason == rproc::crash_reason::watchdog);
  CHECK(board.outstanding_allocations() == 2);  // held until recovery
  REQUIRE(posted.size() == 1);

  // recover(): the detach writes the clean copy back (no crash report), the attach starts over.
  REQUIRE(m.recover());
  CHECK(m.current_state() == rproc::state::attached);
  REQUIRE(posted.size() == 3);
  CHECK(posted[1].kind == rproc::notification_kind::detach);
  CHECK(posted[2].kind == rproc::notification_kind::attach);
  CHECK(board.outstanding_allocations() == 2);
  CHECK(m.check_crash_report().value() == false);
  REQUIRE(m.detach());
  CHECK(std::ranges::equal(board.live_table(), original));
}
