// fake-board DIR [SECONDS]: a Linux board without the board, to try rproc-ctl on. Creates
// DIR/sys/class/remoteproc with two remotes (remoteproc0 "m4", offline; remoteproc1 "r5f",
// detached: a boot loader started it), an empty DIR/lib/firmware, and two firmware images:
// DIR/zephyr.elf (valid) and DIR/zephyr-bad.elf (vring 0 of its table has num 0). Then returns,
// leaving a child process that answers every write to the tree's attribute files as the kernel's
// sysfs would (tests/fake_kernel.hpp), logging what dmesg would say to DIR/sys/class/kernel.log,
// for SECONDS (default 60).
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "elf_fixtures.hpp"
#include "fake_kernel.hpp"

namespace {

using native = std::conditional_t<std::endian::native == std::endian::little,
                                  fx::sample<rproc::elf::class32, rproc::endian::little>,
                                  fx::sample<rproc::elf::class32, rproc::endian::big>>;

void write(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: fake-board DIR [SECONDS]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int seconds = argc == 3 ? std::stoi(argv[2]) : 60;
  const auto firmware_dir = dir / "lib/firmware";
  std::filesystem::create_directories(firmware_dir);
  // Two fake kernels answering the same files would answer each write twice.
  const rproc::sysfs::file_descriptor lock(::open((dir / ".fake-board.lock").c_str(),
                                                  O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0 || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "fake-board: another fake-board serves %s\n", dir.c_str());
    return 2;
  }
  write(dir / "zephyr.elf", native::image);
  write(dir / "zephyr-bad.elf", native::with_u32(native::at.table_offset + 60, 0));

  test::fake_kernel kernel(dir / "sys/class/remoteproc", {firmware_dir});
  test::fake_remote m4;
  kernel.add(m4);
  test::fake_remote r5f;
  r5f.name = "r5f";
  r5f.state = rproc::state::detached;
  r5f.firmware = "am62-mcu-r5f0_0-fw";
  kernel.add(r5f);

  // The tree is ready when the command returns: a script's next line can use it at once.
  if (const pid_t child = ::fork(); child != 0) return child > 0 ? 0 : 2;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    kernel.serve_files();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return 0;
}
