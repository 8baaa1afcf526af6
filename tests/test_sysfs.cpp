// rproc/linux/sysfs.hpp against a fake kernel (tests/fake_kernel.hpp): every command, every
// kernel answer mapped to its rproc error, waiting for a state that settles late or never, a
// crash with and without recovery; and posix_io on a tree of real files, with the fake kernel
// answering from another thread.
#include <rproc/linux/sysfs.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "elf_fixtures.hpp"
#include "fake_kernel.hpp"
#include "inspect_support.hpp"

namespace fs = std::filesystem;
using rproc::errc;
using rproc::state;
using namespace std::chrono_literals;

namespace {

using little_image = fx::sample<rproc::elf::class32, rproc::endian::little>;
using big_image = fx::sample<rproc::elf::class32, rproc::endian::big>;
constexpr auto native_image = std::endian::native == std::endian::little ? little_image::image
                                                                          : big_image::image;
constexpr auto foreign_image = std::endian::native == std::endian::little ? big_image::image
                                                                           : little_image::image;

// A board: the class directory and /lib/firmware in a fresh tree, a fake kernel serving it.
struct board {
  test::temp_dir tree;
  fs::path root = tree.path() / "sys/class/remoteproc";
  fs::path firmware_dir = tree.path() / "lib/firmware";
  test::fake_kernel kernel{root, {firmware_dir}};
  rproc::sysfs::settle_options settle{.timeout = 2000ms, .poll_interval = 1ms};

  board() { fs::create_directories(firmware_dir); }
  rproc::sysfs::remote open(unsigned index) {
    return rproc::sysfs::open_remote(index, root, kernel, settle).value();
  }
  void install(const std::string& name, std::span<const std::byte> bytes) {
    tree.write("lib/firmware/" + name, bytes);
  }
};

test::fake_remote offline_m4() {
  return {};
}
test::fake_remote with_state(state s) {
  test::fake_remote r;
  r.state = s;
  return r;
}

}  // namespace

TEST_CASE("list_remotes finds remoteprocN by index and nothing else", "[sysfs]") {
  const test::temp_dir tree;
  for (const char* d : {"remoteproc10", "remoteproc2", "remoteprocX", "remoteproc", "other"})
    fs::create_directories(tree.path() / d);
  const auto remotes = rproc::sysfs::list_remotes(tree.path()).value();
  REQUIRE(remotes.size() == 2);
  CHECK(remotes[0].index() == 2);
  CHECK(remotes[1].index() == 10);
  CHECK(remotes[1].directory() == tree.path() / "remoteproc10");
  // No class directory: no remoteproc driver, no remotes.
  CHECK(rproc::sysfs::list_remotes(tree.path() / "absent").value().empty());
}

TEST_CASE("open_remote of a remote that does not exist", "[sysfs]") {
  board b;
  b.kernel.add(offline_m4());
  CHECK(rproc::sysfs::open_remote(0, b.root, b.kernel).has_value());
  const auto missing = rproc::sysfs::open_remote(3, b.root, b.kernel);
  REQUIRE(!missing);
  CHECK(missing.error().code == errc::remote_not_found);
  CHECK(missing.error().value == 3);
  CHECK(rproc::message(missing.error()).view() ==
        "remote_not_found at offset 0x0: no such remote processor in the sysfs tree "
        "(remoteproc3)");
}

TEST_CASE("every state word sysfs shows maps onto rproc::state", "[sysfs]") {
  board b;
  const auto i = b.kernel.add(offline_m4());
  auto remote = b.open(i);
  for (const state s : {state::offline, state::suspended, state::running, state::crashed,
                        state::deleted, state::attached, state::detached, state::invalid}) {
    auto r = b.kernel.remote(i);
    r.state = s;
    b.kernel.set(i, r);
    CHECK(remote.current_state().value() == s);
  }
  CHECK(rproc::sysfs::state_from_word("running") == state::running);
  CHECK(!rproc::sysfs::state_from_word("booting"));
  CHECK(remote.name().value() == "m4");
}

TEST_CASE("a state word rproc does not know is unknown_state_word", "[sysfs]") {
  const test::temp_dir tree;
  fs::create_directories(tree.path() / "remoteproc0");
  std::ofstream(tree.path() / "remoteproc0/state") << "booting\n";
  auto remote = rproc::sysfs::open_remote(0, tree.path()).value();
  const auto s = remote.current_state();
  REQUIRE(!s);
  CHECK(s.error().code == errc::unknown_state_word);
  CHECK(remote.read_attribute("state").value() == "booting");
}

TEST_CASE("start boots an offline remote from the search path", "[sysfs]") {
  board b;
  b.install("rproc-m4-fw", native_image);
  auto remote = b.open(b.kernel.add(offline_m4()));
  REQUIRE(remote.start().has_value());
  CHECK(remote.current_state().value() == state::running);
  CHECK(b.kernel.writes() == std::vector<std::string>{"remoteproc0/state: start"});
  CHECK(remote.firmware().value() == "rproc-m4-fw");
}

TEST_CASE("start is busy while running, attached or crashed, and writes nothing", "[sysfs]") {
  for (const state s : {state::running, state::attached, state::crashed}) {
    board b;
    auto r = with_state(s);
    r.counts_users = true;  // a kernel that would count a second user instead of refusing
    r.recovery_enabled = false;
    auto remote = b.open(b.kernel.add(r));
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::busy);
    CHECK(started.error().value == static_cast<unsigned>(s));
    CHECK(b.kernel.writes().empty());
  }
}

TEST_CASE("the kernel's answers to start", "[sysfs]") {
  board b;
  SECTION("no such firmware in the search path: firmware_not_found") {
    auto remote = b.open(b.kernel.add(offline_m4()));
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::firmware_not_found);
    CHECK(started.error().value == ENOENT);
    CHECK(remote.current_state().value() == state::offline);
    CHECK(b.kernel.kernel_log() == "remoteproc0: request_firmware failed: -2\n");
  }
  SECTION("an image in the other byte order: the boot fails with EINVAL") {
    b.install("rproc-m4-fw", foreign_image);
    auto remote = b.open(b.kernel.add(offline_m4()));
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::boot_failed);
    CHECK(started.error().value == EINVAL);
    CHECK(remote.current_state().value() == state::offline);
  }
  SECTION("a vendor driver boots the same image with no resources") {
    b.install("rproc-m4-fw", foreign_image);
    auto r = offline_m4();
    r.boots_without_table = true;
    auto remote = b.open(b.kernel.add(r));
    CHECK(remote.start().has_value());
    CHECK(remote.current_state().value() == state::running);
  }
  SECTION("the driver fails the start") {
    b.install("rproc-m4-fw", native_image);
    auto r = offline_m4();
    r.boot_errno = ETIMEDOUT;
    auto remote = b.open(b.kernel.add(r));
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::boot_failed);
    CHECK(started.error().value == ETIMEDOUT);
  }
  SECTION("a deleted remote: ENODEV") {
    auto remote = b.open(b.kernel.add(offline_m4()));
    b.kernel.remove(0);
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::boot_failed);
    CHECK(started.error().value == ENODEV);
  }
  SECTION("a read-only remote: permission_denied, and reading still works") {
    b.install("rproc-m4-fw", native_image);
    auto r = offline_m4();
    r.read_only = true;
    auto remote = b.open(b.kernel.add(r));
    const auto started = remote.start();
    REQUIRE(!started);
    CHECK(started.error().code == errc::permission_denied);
    CHECK(started.error().value == EACCES);
    CHECK(remote.current_state().value() == state::offline);
    CHECK(remote.set_firmware("other").error().code == errc::permission_denied);
  }
}

TEST_CASE("start attaches a detached remote; detach leaves it running", "[sysfs]") {
  board b;
  auto remote = b.open(b.kernel.add(with_state(state::detached)));
  REQUIRE(remote.start().has_value());
  CHECK(remote.current_state().value() == state::attached);
  CHECK(remote.firmware().value() == "unknown");  // someone else started the core
  REQUIRE(remote.detach().has_value());
  CHECK(remote.current_state().value() == state::detached);
  REQUIRE(remote.command("start").has_value());
  REQUIRE(remote.stop().has_value());
  CHECK(remote.current_state().value() == state::offline);
  CHECK(b.kernel.writes() == std::vector<std::string>{
                                 "remoteproc0/state: start", "remoteproc0/state: detach",
                                 "remoteproc0/state: start", "remoteproc0/state: stop"});
}

TEST_CASE("stop and detach where the kernel refuses them: invalid_state", "[sysfs]") {
  board b;
  auto offline = b.open(b.kernel.add(offline_m4()));
  auto stopped = offline.stop();
  REQUIRE(!stopped);
  CHECK(stopped.error().code == errc::invalid_state);
  CHECK(stopped.error().value == static_cast<unsigned>(state::offline));

  auto running = b.open(b.kernel.add(with_state(state::running)));
  CHECK(running.detach().error().code == errc::invalid_state);  // only from attached

  auto r = with_state(state::attached);
  r.can_detach = false;  // a driver without a detach operation
  auto attached = b.open(b.kernel.add(r));
  CHECK(attached.detach().error().code == errc::invalid_state);
  CHECK(attached.current_state().value() == state::attached);
  CHECK(b.kernel.writes().size() == 3);  // each went to the kernel, which refused
}

TEST_CASE("command passes words it does not know to the kernel, which refuses them", "[sysfs]") {
  board b;
  auto remote = b.open(b.kernel.add(offline_m4()));
  const auto reboot = remote.command("reboot");
  REQUIRE(!reboot);
  CHECK(reboot.error().code == errc::invalid_state);
  CHECK(b.kernel.kernel_log() == "remoteproc0: Unrecognised option: reboot\n");
}

TEST_CASE("firmware: a plain name, written only while offline", "[sysfs]") {
  board b;
  auto remote = b.open(b.kernel.add(offline_m4()));
  REQUIRE(remote.set_firmware("zephyr.elf").has_value());
  CHECK(remote.firmware().value() == "zephyr.elf");
  using namespace std::string_view_literals;
  for (const std::string_view bad : {""sv, "."sv, ".."sv, "../etc/shadow"sv, "a/b"sv,
                                     "fw\n.elf"sv, "fw\0x"sv, "fw\x7f"sv}) {
    const auto refused = remote.set_firmware(bad);
    REQUIRE(!refused);
    CHECK(refused.error().code == errc::bad_firmware_name);
  }
  CHECK(remote.set_firmware("a/b").error().offset == 1);  // where the '/' is
  CHECK(b.kernel.writes().size() == 1);                   // the bad names never reached it

  auto running = b.open(b.kernel.add(with_state(state::running)));
  const auto refused = running.set_firmware("zephyr.elf");
  REQUIRE(!refused);
  CHECK(refused.error().code == errc::firmware_in_use);
  CHECK(running.firmware().value() == "rproc-m4-fw");
}

TEST_CASE("recovery and coredump settings", "[sysfs]") {
  board b;
  auto remote = b.open(b.kernel.add(with_state(state::running)));
  using rproc::sysfs::coredump_mode;
  using rproc::sysfs::recovery_mode;
  CHECK(remote.recovery().value() == recovery_mode::enabled);
  REQUIRE(remote.set_recovery(recovery_mode::disabled).has_value());
  CHECK(remote.recovery().value() == recovery_mode::disabled);
  CHECK(remote.coredump().value() == coredump_mode::disabled);
  REQUIRE(remote.set_coredump(coredump_mode::inlined).has_value());
  CHECK(remote.coredump().value() == coredump_mode::inlined);
  CHECK(remote.read_attribute("coredump").value() == "inline");

  b.kernel.crash(0);  // recovery disabled: it stays crashed
  CHECK(remote.current_state().value() == state::crashed);
  const auto busy = remote.set_coredump(coredump_mode::enabled);
  REQUIRE(!busy);
  CHECK(busy.error().code == errc::busy);
  // Enabling recovery recovers a crashed remote.
  REQUIRE(remote.set_recovery(recovery_mode::enabled).has_value());
  CHECK(remote.current_state().value() == state::running);
  const auto bad = remote.write_attribute("recovery", "sometimes");
  REQUIRE(!bad);
  CHECK(bad.error().code == errc::system_error);
  CHECK(bad.error().value == EINVAL);
}

TEST_CASE("a crash and its recovery", "[sysfs]") {
  board b;
  SECTION("recovery enabled: the kernel restarts the core at once") {
    auto remote = b.open(b.kernel.add(with_state(state::running)));
    b.kernel.crash(0);
    CHECK(remote.current_state().value() == state::running);
    CHECK(b.kernel.kernel_log() == "remoteproc0: handling crash #1\nremoteproc0: recovering m4\n");
  }
  SECTION("recovery disabled: recover() starts it again") {
    auto r = with_state(state::running);
    r.recovery_enabled = false;
    auto remote = b.open(b.kernel.add(r));
    CHECK(remote.recover().error().code == errc::invalid_state);  // not crashed
    CHECK(b.kernel.writes().empty());
    b.kernel.crash(0);
    CHECK(remote.current_state().value() == state::crashed);
    REQUIRE(remote.recover().has_value());
    CHECK(remote.current_state().value() == state::running);
    CHECK(b.kernel.writes() == std::vector<std::string>{"remoteproc0/recovery: recover"});
  }
  SECTION("a core the kernel cannot reload is attached again") {
    auto r = with_state(state::attached);
    r.recovery_enabled = false;
    r.attach_on_recovery = true;
    auto remote = b.open(b.kernel.add(r));
    b.kernel.crash(0);
    REQUIRE(remote.recover().has_value());
    CHECK(remote.current_state().value() == state::attached);
  }
  SECTION("a recovery that settles later is waited for") {
    auto r = with_state(state::running);
    r.recovery_enabled = false;
    r.settle_delay = 20ms;
    auto remote = b.open(b.kernel.add(r));
    b.kernel.crash(0);
    REQUIRE(remote.recover().has_value());
    CHECK(remote.current_state().value() == state::running);
  }
}

TEST_CASE("a command waits for a remote that settles later", "[sysfs]") {
  board b;
  b.install("rproc-m4-fw", native_image);
  auto r = offline_m4();
  r.settle_delay = 20ms;
  auto remote = b.open(b.kernel.add(r));
  REQUIRE(remote.start().has_value());
  CHECK(remote.current_state().value() == state::running);
  REQUIRE(remote.stop().has_value());
  CHECK(remote.current_state().value() == state::offline);
}

TEST_CASE("a remote that never settles: state_not_reached, with the state it stayed in",
          "[sysfs]") {
  board b;
  b.install("rproc-m4-fw", native_image);
  auto r = offline_m4();
  r.never_settles = true;
  auto remote = b.open(b.kernel.add(r));
  remote.set_settle({.timeout = 30ms, .poll_interval = 1ms});
  const auto started = remote.start();
  REQUIRE(!started);
  CHECK(started.error().code == errc::state_not_reached);
  CHECK(started.error().value == static_cast<unsigned>(state::offline));
  CHECK(rproc::message(started.error()).view() ==
        "state_not_reached at offset 0x0: the remote did not reach the state in time (state 0)");
  const auto waited = remote.wait_for(state::running, 10ms);
  REQUIRE(!waited);
  CHECK(waited.error().code == errc::state_not_reached);
}

TEST_CASE("wait_for ends at a crash when recovery is disabled", "[sysfs]") {
  board b;
  auto r = with_state(state::running);
  r.recovery_enabled = false;
  auto remote = b.open(b.kernel.add(r));
  // The kernel reports the crash from its own thread while the caller waits.
  std::thread watchdog([&] {
    std::this_thread::sleep_for(5ms);
    b.kernel.crash(0);
  });
  const auto waited = remote.wait_for(state::offline, 5000ms);
  watchdog.join();
  REQUIRE(!waited);
  CHECK(waited.error().code == errc::remote_crashed);
  CHECK(remote.wait_for(state::crashed, 10ms).has_value());
}

TEST_CASE("wait_for sees a crashed remote through its recovery", "[sysfs]") {
  board b;
  auto r = with_state(state::attached);
  r.attach_on_recovery = true;
  r.settle_delay = 1000ms;  // recovery enabled, and slow: crashed is seen first, even when loaded
  auto remote = b.open(b.kernel.add(r));
  b.kernel.crash(0);
  CHECK(remote.current_state().value() == state::crashed);
  REQUIRE(remote.wait_for(state::attached, 5000ms).has_value());
}

TEST_CASE("posix_io: what echo and cat do, and kernfs's read-only rule", "[sysfs]") {
  const test::temp_dir tree;
  const auto file = tree.path() / "state";
  std::ofstream(file) << "offline\n";
  rproc::sysfs::posix_io io;
  std::string text;
  REQUIRE(io.read(file, text) == 0);
  CHECK(text == "offline\n");
  REQUIRE(io.write(file, "stop\n") == 0);
  REQUIRE(io.read(file, text) == 0);
  CHECK(text == "stop\n");  // truncated first, as `echo stop > state`
  CHECK(io.read(tree.path() / "absent", text) == ENOENT);
  CHECK(io.write(tree.path() / "absent", "x") == ENOENT);

  // No write bit: refused even to root, and the file is not emptied.
  ::chmod(file.c_str(), 0444);
  CHECK(io.write(file, "start\n") == EACCES);
  REQUIRE(io.read(file, text) == 0);
  CHECK(text == "stop\n");

  // A symlink planted in place of an attribute is not written through.
  const auto target = tree.path() / "target";
  std::ofstream(target) << "keep\n";
  fs::create_symlink(target, tree.path() / "firmware");
  CHECK(io.write(tree.path() / "firmware", "x\n") == ELOOP);
  REQUIRE(io.read(target, text) == 0);
  CHECK(text == "keep\n");
}

TEST_CASE("a tree of real files, with the fake kernel answering from its own thread",
          "[sysfs]") {
  board b;
  b.install("rproc-m4-fw", native_image);
  b.kernel.add(offline_m4());
  auto r = with_state(state::detached);
  r.name = "r5f";
  b.kernel.add(r);
  auto readonly = with_state(state::running);
  readonly.read_only = true;
  b.kernel.add(readonly);

  std::atomic<bool> done{false};
  std::thread kernel([&] {
    while (!done) {
      b.kernel.serve_files();
      std::this_thread::sleep_for(1ms);
    }
  });
  // The backend reads and writes the files themselves, as on a board.
  auto remotes = rproc::sysfs::list_remotes(b.root, rproc::sysfs::system_io(), b.settle);
  REQUIRE(remotes.has_value());
  REQUIRE(remotes->size() == 3);
  auto m4 = (*remotes)[0];
  auto r5f = (*remotes)[1];
  CHECK(r5f.name().value() == "r5f");
  const auto started = m4.start();
  const auto attached = r5f.start();
  const auto detached = r5f.detach();
  const auto refused = (*remotes)[2].stop();  // 0444: refused before the file is touched
  const auto stopped = m4.stop();
  done = true;
  kernel.join();
  CHECK(started.has_value());
  CHECK(attached.has_value());
  CHECK(detached.has_value());
  REQUIRE(!refused);
  CHECK(refused.error().code == errc::permission_denied);
  CHECK(stopped.has_value());
  CHECK(m4.current_state().value() == state::offline);
  CHECK(r5f.current_state().value() == state::detached);
  CHECK(test::slurp(b.root / "remoteproc1/state") == "detached\n");
}
