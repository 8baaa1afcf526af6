// rproc-ctl: every command in-process against the fake kernel (tests/fake_kernel.hpp), with its
// refusals, a crash, a remote that never settles and a read-only state; the firmware check and
// the safe install; and the program itself on a tree of real files that a kernel thread serves.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ctl.hpp"
#include "elf_fixtures.hpp"
#include "fake_kernel.hpp"
#include "inspect_support.hpp"

namespace fs = std::filesystem;
using rproc::state;
using namespace std::chrono_literals;

namespace {

using little = fx::sample<rproc::elf::class32, rproc::endian::little>;
using big = fx::sample<rproc::elf::class32, rproc::endian::big>;
constexpr bool little_host = std::endian::native == std::endian::little;
constexpr auto good_image = little_host ? little::image : big::image;
constexpr auto foreign_image = little_host ? big::image : little::image;
using native = std::conditional_t<little_host, little, big>;
// vring 0's num set to 0: vring_invalid in entry 0, at the table's offset 24 + 28 + 8.
constexpr std::size_t bad_vring_offset = native::at.table_offset + 60;
constexpr auto bad_vring_image = native::with_u32(bad_vring_offset, 0);
// ".resource_table" renamed ".Resource_table": an image without a table.
constexpr auto tableless_image = native::with_u8(native::at.strtab_offset + fx::table_name + 1, 'R');

struct board {
  test::temp_dir tree;
  fs::path root = tree.path() / "sys/class/remoteproc";
  fs::path firmware_dir = tree.path() / "firmware";
  test::fake_kernel kernel{root, {firmware_dir}};

  board() { fs::create_directories(firmware_dir); }
  fs::path image(const std::string& name, std::span<const std::byte> bytes) {
    return tree.write(name, bytes);
  }
  ctl::run_output ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", root.string(), "--firmware-path", firmware_dir.string(),
                               "--timeout", "2"});
    return ctl::run(args, kernel);
  }
  unsigned add(state s, auto&&... configure) {
    test::fake_remote r;
    r.state = s;
    (configure(r), ...);
    return kernel.add(r);
  }
};

nlohmann::json parse(const std::string& text) { return nlohmann::json::parse(text); }

}  // namespace

TEST_CASE("rproc-ctl list and status", "[ctl]") {
  board b;
  b.add(state::offline);
  b.add(state::detached, [](auto& r) { r.name = "r5f"; });
  auto list = b.ctl({"list"});
  CHECK(list.status == ctl::done);
  CHECK(list.out ==
        "remote        name        state     firmware\n"
        "remoteproc0   m4          offline   rproc-m4-fw\n"
        "remoteproc1   r5f         detached  rproc-m4-fw\n");
  const auto j = parse(b.ctl({"list", "--json"}).out);
  REQUIRE(j["remotes"].size() == 2);
  CHECK(j["remotes"][1] == nlohmann::json{{"index", 1}, {"name", "r5f"}, {"state", "detached"},
                                          {"firmware", "rproc-m4-fw"}});

  const auto status = b.ctl({"status", "1"});
  CHECK(status.status == ctl::done);
  CHECK(status.out ==
        "remoteproc1\n  name      r5f\n  state     detached\n  firmware  rproc-m4-fw\n"
        "  recovery  enabled\n  coredump  disabled\n");
  const auto js = parse(b.ctl({"--json", "status", "0"}).out);
  CHECK(js["state"] == "offline");
  CHECK(js["recovery"] == "enabled");

  const auto missing = b.ctl({"status", "7"});
  CHECK(missing.status == ctl::usage_or_io_error);
  CHECK(missing.err.find("remote_not_found") != std::string::npos);
  CHECK(missing.err.find("no remoteproc7 under") != std::string::npos);
  const auto no_root = ctl::run({"--root", (b.tree.path() / "absent").string(), "list"}, b.kernel);
  CHECK(no_root.status == ctl::usage_or_io_error);
}

TEST_CASE("rproc-ctl usage", "[ctl]") {
  board b;
  CHECK(b.ctl({}).status == ctl::usage_or_io_error);
  CHECK(b.ctl({"start"}).status == ctl::usage_or_io_error);  // no N
  CHECK(b.ctl({"reboot", "0"}).status == ctl::usage_or_io_error);
  const auto help = b.ctl({"--help"});
  CHECK(help.status == ctl::done);
  CHECK(help.out.find("Exit status: 0 done; 1 the firmware image failed a check") !=
        std::string::npos);
  b.add(state::running);
  const auto bad_state = b.ctl({"wait", "0", "booted"});
  CHECK(bad_state.status == ctl::usage_or_io_error);
  CHECK(bad_state.err.find("'booted' is not a state") != std::string::npos);
}

TEST_CASE("rproc-ctl start --firmware checks, installs, names and boots", "[ctl]") {
  board b;
  b.add(state::offline);
  const auto file = b.image("zephyr.elf", good_image);
  const auto started = b.ctl({"start", "0", "--firmware", file.string()});
  INFO(started.err);
  CHECK(started.status == ctl::done);
  CHECK(started.err.empty());
  CHECK(started.out == fmt::format("{}: ELF32, resource table at file offset {:#x}: 2 entries, "
                                   "valid\n{}: installed\nremoteproc0 (m4): offline -> running\n",
                                   file.string(), native::at.table_offset,
                                   (b.firmware_dir / "zephyr.elf").string()));
  CHECK(test::slurp(b.firmware_dir / "zephyr.elf") == test::slurp(file));
  CHECK(b.kernel.writes() == std::vector<std::string>{"remoteproc0/firmware: zephyr.elf",
                                                      "remoteproc0/state: start"});
  // Stopped and started again under another name, in JSON: the same bytes are not rewritten.
  CHECK(b.ctl({"stop", "0"}).status == ctl::done);
  const auto again = parse(b.ctl({"--json", "start", "0", "--firmware", file.string(), "--name",
                                  "zephyr.elf"}).out);
  CHECK(again["firmware"]["outcome"] == "already_installed");
  CHECK(again["firmware"]["refusal"].is_null());
  CHECK(again["firmware"]["image"]["resource_table"]["num"] == 2);
  CHECK(again["from"] == "offline");
  CHECK(again["state"] == "running");
  CHECK(again["error"].is_null());
}

TEST_CASE("rproc-ctl refuses a bad image before anything is installed", "[ctl]") {
  board b;
  b.add(state::offline);
  // Nothing reached the search path or the kernel.
  const auto nothing_written = [&] {
    CHECK(fs::is_empty(b.firmware_dir));
    CHECK(b.kernel.writes().empty());
  };
  SECTION("a malformed table: the code, the byte offset in the file, the entry") {
    const auto file = b.image("bad.elf", bad_vring_image);
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::image_refused);
    CHECK(refused.err.find(fmt::format("refused: entry 0: vring_invalid at offset {:#x}",
                                       bad_vring_offset)) != std::string::npos);
    const auto j = parse(b.ctl({"--json", "start", "0", "--firmware", file.string()}).out);
    CHECK(j["error"]["code"] == "vring_invalid");
    CHECK(j["error"]["offset"] == bad_vring_offset);
    CHECK(j["error"]["entry"] == 0);
    nothing_written();
  }
  SECTION("an image in the other byte order than the kernel's") {
    const auto file = b.image("swapped.elf", foreign_image);
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::image_refused);
    CHECK(refused.err.find("byte_order_mismatch at offset 0x5") != std::string::npos);
    nothing_written();
    // Forced: installed, and the kernel refuses to boot it.
    const auto forced = b.ctl({"start", "0", "--firmware", file.string(), "--force"});
    CHECK(forced.status == ctl::kernel_refused);
    CHECK(forced.err.find("boot_failed") != std::string::npos);
    CHECK(fs::exists(b.firmware_dir / "swapped.elf"));
    CHECK(b.kernel.remote(0).state == state::offline);
  }
  SECTION("an image the kernel would boot with no resources") {
    const auto file = b.image("tableless.elf", tableless_image);
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::image_refused);
    CHECK(refused.err.find("no_resource_table") != std::string::npos);
    nothing_written();
    // A vendor driver boots it when forced: the check is what stood in the way.
    auto r = b.kernel.remote(0);
    r.boots_without_table = true;
    b.kernel.set(0, r);
    CHECK(b.ctl({"start", "0", "--firmware", file.string(), "--force"}).status == ctl::done);
    CHECK(b.kernel.remote(0).state == state::running);
  }
  SECTION("not an ELF image") {
    const std::string text = "#!/bin/sh\n";
    const auto file = b.image("script", std::as_bytes(std::span(text.data(), text.size())));
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::image_refused);
    CHECK(refused.err.find("elf_bad_magic at offset 0x0") != std::string::npos);
    nothing_written();
  }
  SECTION("a file that cannot be read") {
    const auto refused = b.ctl({"start", "0", "--firmware", (b.tree.path() / "nope").string()});
    CHECK(refused.status == ctl::usage_or_io_error);
    CHECK(refused.err.find("cannot read") != std::string::npos);
    nothing_written();
  }
}

TEST_CASE("rproc-ctl installs safely as root", "[ctl]") {
  board b;
  b.add(state::offline);
  const auto file = b.image("m4.elf", good_image);
  SECTION("the name written to firmware is a plain file name") {
    for (const std::string name : {"../m4.elf", "a/b", ".", "..", "m4\n.elf", "m4\x1b[2J"}) {
      const auto refused = b.ctl({"start", "0", "--firmware", file.string(), "--name", name});
      CHECK(refused.status == ctl::usage_or_io_error);
      CHECK(refused.err.find("bad_firmware_name") != std::string::npos);
    }
    CHECK(fs::is_empty(b.firmware_dir));
    CHECK(b.kernel.writes().empty());
  }
  SECTION("a different file of the same name is replaced only with --force") {
    const std::string old = "old firmware";
    b.tree.write("firmware/m4.elf", std::as_bytes(std::span(old.data(), old.size())));
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::usage_or_io_error);
    CHECK(refused.err.find("firmware_exists") != std::string::npos);
    CHECK(refused.err.find("--force replaces it") != std::string::npos);
    CHECK(test::slurp(b.firmware_dir / "m4.elf") == old);
    CHECK(b.kernel.writes().empty());
    const auto forced = b.ctl({"--json", "start", "0", "--firmware", file.string(), "--force"});
    CHECK(forced.status == ctl::done);
    CHECK(parse(forced.out)["firmware"]["outcome"] == "replaced");
    CHECK(test::slurp(b.firmware_dir / "m4.elf") == test::slurp(file));
  }
  SECTION("a symlink planted in the search path is never followed") {
    const auto victim = b.tree.path() / "passwd";
    std::ofstream(victim) << "root:x:0:0\n";
    fs::create_symlink(victim, b.firmware_dir / "m4.elf");
    CHECK(b.ctl({"start", "0", "--firmware", file.string()}).status == ctl::usage_or_io_error);
    CHECK(b.ctl({"start", "0", "--firmware", file.string(), "--force"}).status == ctl::done);
    CHECK(test::slurp(victim) == "root:x:0:0\n");
    CHECK(!fs::is_symlink(b.firmware_dir / "m4.elf"));
  }
  SECTION("the firmware of a running remote is not changed, nor anything installed") {
    auto r = b.kernel.remote(0);
    r.state = state::running;
    b.kernel.set(0, r);
    const auto refused = b.ctl({"start", "0", "--firmware", file.string()});
    CHECK(refused.status == ctl::kernel_refused);
    CHECK(refused.err.find("firmware_in_use") != std::string::npos);
    CHECK(fs::is_empty(b.firmware_dir));
  }
}

TEST_CASE("rproc-ctl start: the kernel's refusals", "[ctl]") {
  board b;
  b.add(state::offline);                                            // 0: its firmware is missing
  b.add(state::running);                                            // 1
  b.add(state::offline, [](auto& r) { r.read_only = true; });       // 2
  b.add(state::offline, [](auto& r) { r.never_settles = true; });   // 3
  b.image("firmware/rproc-m4-fw", good_image);

  fs::remove(b.firmware_dir / "rproc-m4-fw");
  const auto missing = b.ctl({"start", "0"});
  CHECK(missing.status == ctl::kernel_refused);
  CHECK(missing.err.find("firmware_not_found") != std::string::npos);
  CHECK(missing.err.find("searched " + b.firmware_dir.string()) != std::string::npos);
  b.image("firmware/rproc-m4-fw", good_image);

  const auto busy = b.ctl({"--json", "start", "1"});
  CHECK(busy.status == ctl::kernel_refused);
  CHECK(parse(busy.out)["error"] == nlohmann::json{{"code", "busy"},
                                                   {"message", "the remote is busy in its "
                                                               "current state (state running)"},
                                                   {"state", "running"}});
  const auto read_only = b.ctl({"start", "2"});
  CHECK(read_only.status == ctl::kernel_refused);
  CHECK(read_only.err ==
        "rproc-ctl: remoteproc2 (m4): start: permission_denied: the kernel refused access to "
        "the attribute (Permission denied)\n");

  const auto never = b.ctl({"--timeout", "0.05", "start", "3"});
  CHECK(never.status == ctl::not_settled);
  CHECK(never.err.find("state_not_reached") != std::string::npos);
  CHECK(never.err.find("(state offline)") != std::string::npos);
}

TEST_CASE("rproc-ctl stop, detach, attach, recover and wait", "[ctl]") {
  board b;
  b.add(state::attached);
  b.add(state::running, [](auto& r) { r.recovery_enabled = false; });
  CHECK(b.ctl({"attach", "0"}).status == ctl::kernel_refused);  // already attached
  const auto detached = b.ctl({"detach", "0"});
  CHECK(detached.status == ctl::done);
  CHECK(detached.out == "remoteproc0 (m4): attached -> detached\n");
  CHECK(b.ctl({"attach", "0"}).out == "remoteproc0 (m4): detached -> attached\n");
  CHECK(b.ctl({"stop", "0"}).status == ctl::done);
  const auto stop_again = b.ctl({"stop", "0"});
  CHECK(stop_again.status == ctl::kernel_refused);
  CHECK(stop_again.err.find("invalid_state") != std::string::npos);
  const auto attach_offline = b.ctl({"attach", "0"});
  CHECK(attach_offline.status == ctl::kernel_refused);
  CHECK(b.kernel.writes() == std::vector<std::string>{"remoteproc0/state: detach",
                                                      "remoteproc0/state: start",
                                                      "remoteproc0/state: stop",
                                                      "remoteproc0/state: stop"});

  CHECK(b.ctl({"recover", "1"}).status == ctl::kernel_refused);  // not crashed
  b.kernel.crash(1);
  CHECK(b.ctl({"wait", "1", "crashed"}).out == "remoteproc1 (m4): crashed\n");
  const auto recovered = parse(b.ctl({"--json", "recover", "1"}).out);
  CHECK(recovered["from"] == "crashed");
  CHECK(recovered["state"] == "running");
  CHECK(recovered["error"].is_null());
}

TEST_CASE("rproc-ctl wait: reached, never reached, crashed", "[ctl]") {
  board b;
  b.add(state::running, [](auto& r) { r.recovery_enabled = false; });
  CHECK(b.ctl({"wait", "0", "running"}).status == ctl::done);
  const auto never = b.ctl({"--json", "wait", "0", "offline", "--timeout", "0.05"});
  CHECK(never.status == ctl::not_settled);
  CHECK(parse(never.out)["error"]["code"] == "state_not_reached");
  CHECK(parse(never.out)["state"] == "running");
  // The kernel reports a crash from its own thread while rproc-ctl waits.
  std::thread watchdog([&] {
    std::this_thread::sleep_for(5ms);
    b.kernel.crash(0);
  });
  const auto crashed = b.ctl({"wait", "0", "offline", "--timeout", "10"});
  watchdog.join();
  CHECK(crashed.status == ctl::crashed);
  CHECK(crashed.err == "rproc-ctl: remoteproc0 (m4): wait: remote_crashed: the remote crashed "
                       "(state crashed)\n");
}

TEST_CASE("rproc-ctl, the program, on a tree of real files", "[ctl]") {
  board b;
  b.add(state::offline);
  b.add(state::attached, [](auto& r) { r.name = "r5f"; });
  const auto file = b.image("zephyr.elf", good_image);
  std::atomic<bool> stop{false};
  std::thread kernel([&] {
    while (!stop) {
      b.kernel.serve_files();
      std::this_thread::sleep_for(1ms);
    }
  });
  const std::vector<std::string> common{"--root", b.root.string(), "--firmware-path",
                                        b.firmware_dir.string()};
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), common.begin(), common.end());
    return test::run_tool(RPROC_CTL, args);
  };
  const auto started = run({"start", "0", "--firmware", file.string()});
  const auto detached = run({"detach", "1"});
  const auto listed = run({"--json", "list"});
  const auto refused = run({"start", "0", "--firmware", b.image("bad.elf", bad_vring_image).string()});
  const auto version = test::run_tool(RPROC_CTL, {"--version"});
  stop = true;
  kernel.join();
  INFO(started.err << b.kernel.kernel_log());
  for (const auto& w : b.kernel.writes()) INFO(w);
  CHECK(started.status == 0);
  CHECK(started.out.ends_with("remoteproc0 (m4): offline -> running\n"));
  CHECK(detached.out == "remoteproc1 (r5f): attached -> detached\n");
  const auto j = parse(listed.out);
  CHECK(j["remotes"][0]["state"] == "running");
  CHECK(j["remotes"][0]["firmware"] == "zephyr.elf");
  CHECK(j["remotes"][1]["state"] == "detached");
  CHECK(refused.status == 1);
  CHECK(version.out == "rproc-ctl " RPROC_VERSION "\n");
}
