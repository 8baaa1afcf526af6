// rproc/linux/firmware_path.hpp: the kernel's search order, plain firmware names, and the
// atomic install that never follows a symlink planted in the directory.
#include <rproc/linux/firmware_path.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include "inspect_support.hpp"

namespace fs = std::filesystem;
using rproc::errc;

namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Names in `dir` that start with '.' (a temporary file left behind would be one).
std::size_t hidden_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().front() == '.') ++n;
  return n;
}

}  // namespace

TEST_CASE("the kernel's firmware search order", "[firmware_path]") {
  const test::temp_dir tree;
  const auto& root = tree.path();
  auto path = rproc::sysfs::firmware_search_path::of_kernel(root, "6.1.0-rpi");
  CHECK(!path.configured);
  CHECK(path.directories == std::vector<fs::path>{root / "lib/firmware/updates/6.1.0-rpi",
                                                  root / "lib/firmware/updates",
                                                  root / "lib/firmware/6.1.0-rpi",
                                                  root / "lib/firmware"});
  CHECK(path.install_directory() == root / "lib/firmware");

  // firmware_class.path, when set, is searched first and is where an image is installed.
  fs::create_directories(root / "sys/module/firmware_class/parameters");
  std::ofstream(root / "sys/module/firmware_class/parameters/path") << "/opt/fw\n";
  path = rproc::sysfs::firmware_search_path::of_kernel(root, "6.1.0-rpi");
  CHECK(path.configured);
  REQUIRE(path.directories.size() == 5);
  CHECK(path.directories[0] == root / "opt/fw");
  CHECK(path.install_directory() == root / "opt/fw");
  // An empty parameter (the kernel's default) is no directory.
  std::ofstream(root / "sys/module/firmware_class/parameters/path") << "\n";
  CHECK(rproc::sysfs::firmware_search_path::of_kernel(root, "r").directories.size() == 4);

  const auto chosen = rproc::sysfs::firmware_search_path::starting_with(root / "here", root);
  CHECK(chosen.install_directory() == root / "here");
  CHECK(chosen.directories.size() == 5);
  CHECK(!rproc::sysfs::firmware_search_path::running_release().empty());
}

TEST_CASE("find and check_not_shadowed follow the kernel's order", "[firmware_path]") {
  const test::temp_dir tree;
  const auto path = rproc::sysfs::firmware_search_path::of_kernel(tree.path(), "6.1");
  const std::string image = "image";
  fs::create_directories(tree.path() / "lib/firmware/updates");
  tree.write("lib/firmware/m4.elf", bytes_of(image));
  CHECK(path.find("m4.elf") == tree.path() / "lib/firmware/m4.elf");
  CHECK(!path.find("r5.elf"));
  CHECK(path.check_not_shadowed("m4.elf", path.install_directory()).has_value());

  tree.write("lib/firmware/updates/m4.elf", bytes_of(image));
  CHECK(path.find("m4.elf") == tree.path() / "lib/firmware/updates/m4.elf");
  const auto shadowed = path.check_not_shadowed("m4.elf", path.install_directory());
  REQUIRE(!shadowed);
  CHECK(shadowed.error().code == errc::firmware_shadowed);
  CHECK(shadowed.error().value == 1);  // the second directory searched
}

TEST_CASE("a firmware name is a plain file name", "[firmware_path]") {
  using rproc::sysfs::check_firmware_name;
  CHECK(check_firmware_name("am64-main-r5f0_0-fw").has_value());
  CHECK(check_firmware_name("rproc-m4 fw.elf").has_value());
  CHECK(check_firmware_name("..fw").has_value());
  struct refused {
    std::string name;
    std::size_t offset;
  };
  for (const auto& [name, offset] : {refused{"", 0}, refused{".", 0}, refused{"..", 0},
                                     refused{"/lib/firmware/x", 0}, refused{"../x", 2},
                                     refused{"a\tb", 1}, refused{std::string("ab\0c", 4), 2},
                                     refused{"x\x7f", 1}}) {
    const auto checked = check_firmware_name(name);
    REQUIRE(!checked);
    CHECK(checked.error().code == errc::bad_firmware_name);
    CHECK(checked.error().offset == offset);
  }
}

TEST_CASE("install_firmware: atomic, and only over a different file when asked",
          "[firmware_path]") {
  const test::temp_dir tree;
  const auto& dir = tree.path();
  using rproc::sysfs::install_firmware;
  using rproc::sysfs::install_outcome;
  const std::string first = "first image", second = "second image, longer";

  CHECK(install_firmware(dir, "m4.elf", bytes_of(first)).value() == install_outcome::installed);
  CHECK(test::slurp(dir / "m4.elf") == first);
  struct stat before {};
  ::stat((dir / "m4.elf").c_str(), &before);
  CHECK((before.st_mode & 022) == 0);  // nobody but its owner may change what the kernel boots

  // The same bytes again: nothing written (the same inode).
  CHECK(install_firmware(dir, "m4.elf", bytes_of(first)).value() ==
        install_outcome::already_installed);
  struct stat again {};
  ::stat((dir / "m4.elf").c_str(), &again);
  CHECK(again.st_ino == before.st_ino);

  // Different bytes: refused, the old file intact; replaced (a new inode) when asked.
  const auto refused = install_firmware(dir, "m4.elf", bytes_of(second));
  REQUIRE(!refused);
  CHECK(refused.error().code == errc::firmware_exists);
  CHECK(test::slurp(dir / "m4.elf") == first);
  CHECK(install_firmware(dir, "m4.elf", bytes_of(second), {.replace_different = true}).value() ==
        install_outcome::replaced);
  CHECK(test::slurp(dir / "m4.elf") == second);
  struct stat after {};
  ::stat((dir / "m4.elf").c_str(), &after);
  CHECK(after.st_ino != before.st_ino);
  CHECK(hidden_files(dir) == 0);  // no temporary file left

  // Bad names never reach the file system.
  CHECK(install_firmware(dir, "../m4.elf", bytes_of(first)).error().code ==
        errc::bad_firmware_name);
}

TEST_CASE("install_firmware never follows a symlink planted in the directory",
          "[firmware_path]") {
  const test::temp_dir tree;
  const auto dir = tree.path() / "firmware";
  fs::create_directories(dir);
  const auto victim = tree.path() / "shadow";
  std::ofstream(victim) << "root:x:0:0\n";
  fs::create_symlink(victim, dir / "m4.elf");
  const std::string image = "image";
  using rproc::sysfs::install_firmware;

  const auto refused = install_firmware(dir, "m4.elf", bytes_of(image));
  REQUIRE(!refused);
  CHECK(refused.error().code == errc::firmware_exists);
  CHECK(test::slurp(victim) == "root:x:0:0\n");

  // Replaced when asked: the link itself gives way to a regular file; its target is untouched.
  CHECK(install_firmware(dir, "m4.elf", bytes_of(image), {.replace_different = true}).value() ==
        rproc::sysfs::install_outcome::replaced);
  CHECK(fs::is_regular_file(fs::symlink_status(dir / "m4.elf")));
  CHECK(test::slurp(dir / "m4.elf") == image);
  CHECK(test::slurp(victim) == "root:x:0:0\n");

  // A directory of that name is never replaced.
  fs::create_directories(dir / "r5.elf");
  CHECK(install_firmware(dir, "r5.elf", bytes_of(image), {.replace_different = true})
            .error()
            .code == errc::firmware_exists);

  // The directory itself may be a symlink (merged /usr: /lib -> usr/lib).
  fs::create_directory_symlink(dir, tree.path() / "linked");
  CHECK(install_firmware(tree.path() / "linked", "zephyr.elf", bytes_of(image)).has_value());
  CHECK(test::slurp(dir / "zephyr.elf") == image);

  // A directory that does not exist, or that cannot be written.
  const auto missing = install_firmware(tree.path() / "absent", "x", bytes_of(image));
  REQUIRE(!missing);
  CHECK(missing.error().code == errc::system_error);
  CHECK(missing.error().value == ENOENT);
}
