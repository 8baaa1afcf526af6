// QEMU's mps2-an386 running a firmware image, its PSRAM backed by a new file under /dev/shm that
// the host maps too. The process is this object's own child: the destructor ends that process
// (by its id, SIGTERM then SIGKILL) and removes the file, and the child is told to die with its
// parent (PR_SET_PDEATHSIG), so no QEMU outlives a host that crashed. Linux only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rproc/linux/file_descriptor.hpp>
#include <rproc/posix/device_memory.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../memory_map.hpp"

namespace qemu_remote {

struct qemu_options {
  std::string qemu = "qemu-system-arm";
  std::string firmware;  // the ELF image QEMU loads (-kernel)
  std::string log;       // QEMU's output (the firmware's semihosting console); /dev/null if empty
};

// A command line of "--flag value" pairs: --firmware, --qemu and --log here, any other flag given
// to `other(flag, value)`, which returns false for a flag it does not know. False also for a flag
// without its value, or without --firmware.
template <class Other>
bool parse_options(int argc, char** argv, qemu_options& options, Other other) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--firmware") options.firmware = argv[i + 1];
    else if (flag == "--qemu") options.qemu = argv[i + 1];
    else if (flag == "--log") options.log = argv[i + 1];
    else if (!other(flag, argv[i + 1])) return false;
  }
  return argc % 2 == 1 && !options.firmware.empty();
}

class qemu_process {
 public:
  static rproc::posix::outcome<qemu_process> start(const qemu_options& options) {
    static std::atomic<unsigned> started{0};
    const std::string file = "/dev/shm/rproc-qemu-remote-" + std::to_string(::getpid()) + "-" +
                             std::to_string(started++);
    const auto system = [](const std::string& what) {
      const int e = errno;
      return rproc::posix::failure{
          {rproc::errc::system_error, 0, std::nullopt, static_cast<std::uint64_t>(e)},
          what + ": " + std::strerror(e)};
    };
    {
      rproc::sysfs::file_descriptor fd(
          ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (fd.get() < 0) return system(file + ": cannot create");
      if (::ftruncate(fd.get(), static_cast<off_t>(psram_size)) != 0) {
        auto f = system(file + ": cannot size");
        ::unlink(file.c_str());
        return f;
      }
    }
    const std::string backend = "memory-backend-file,id=psram,size=" +
                                std::to_string(psram_size / (1024 * 1024)) +
                                "M,mem-path=" + file + ",share=on";
    std::vector<std::string> args = {options.qemu, "-M", "mps2-an386", "-nographic", "-monitor",
                                     "none", "-semihosting", "-kernel", options.firmware,
                                     "-object", backend, "-machine", "memory-backend=psram"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = options.log.empty() ? "/dev/null" : options.log;

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      auto f = system("cannot fork for " + options.qemu);
      ::unlink(file.c_str());
      return f;
    }
    if (pid == 0) {  // the child: only async-signal-safe calls until exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      const int in = ::open("/dev/null", O_RDONLY);
      if (in >= 0) ::dup2(in, 0);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    return qemu_process(pid, file, log);
  }

  qemu_process(qemu_process&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), file_(std::move(other.file_)),
        log_(std::move(other.log_)) {
    other.file_.clear();
  }
  qemu_process& operator=(qemu_process&&) = delete;
  qemu_process(const qemu_process&) = delete;
  ~qemu_process() { stop(); }

  pid_t pid() const noexcept { return pid_; }
  // The file behind the PSRAM: what the host maps (device_memory windows).
  const std::string& shared_file() const noexcept { return file_; }
  const std::string& log() const noexcept { return log_; }

  // Whether QEMU still runs; when it has ended, `status` says how (waitpid's).
  bool running(int* status = nullptr) {
    if (pid_ < 0) return false;
    int s = 0;
    if (::waitpid(pid_, &s, WNOHANG) == 0) return true;
    if (status != nullptr) *status = s;
    pid_ = -1;
    return false;
  }

  // Ends QEMU (only the process this object started) and removes the shared file.
  void stop() noexcept {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 200 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
      pid_ = -1;
    }
    if (!file_.empty()) ::unlink(file_.c_str());
    file_.clear();
  }

 private:
  qemu_process(pid_t pid, std::string file, std::string log)
      : pid_(pid), file_(std::move(file)), log_(std::move(log)) {}

  pid_t pid_;
  std::string file_;
  std::string log_;
};

}  // namespace qemu_remote
