// A remote processor driven through Linux's sysfs (/sys/class/remoteproc/remoteprocN/), in the
// vocabulary of rproc::machine: current_state(), start(), stop(), detach(), recover(),
// command(text). Hosted (std::string, std::filesystem, POSIX); never included by rproc/rproc.hpp.
//
//   auto remote = rproc::sysfs::open_remote(0).value();   // /sys/class/remoteproc/remoteproc0
//   if (auto started = remote.start(); !started)           // boots, or attaches a detached core
//     std::puts(rproc::message(started.error()).c_str());  // busy, firmware_not_found ...
//   remote.current_state();                                 // result<rproc::state>
//
// The kernel answers each write at once (EBUSY, EINVAL, ENOENT, EACCES ...); every answer
// becomes an rproc::error. Some drivers and simulators settle later, so a command then waits,
// bounded, until the state is the one it asked for or a failure, and says which.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../lifecycle.hpp"
#include "firmware_path.hpp"

namespace rproc::sysfs {

inline const std::filesystem::path default_root{"/sys/class/remoteproc"};

// How a handle reaches attribute files: posix_io for the kernel's sysfs; tests give a fake kernel.
class attribute_io {
 public:
  virtual ~attribute_io() = default;
  // 0 with the file's contents, or an errno.
  virtual int read(const std::filesystem::path& file, std::string& contents) = 0;
  // 0, or the errno of the kernel's answer; `text` arrives as one store, as `echo` gives it.
  virtual int write(const std::filesystem::path& file, std::string_view text) = 0;
  // 0 with the names in `directory`, or an errno.
  virtual int list(const std::filesystem::path& directory, std::vector<std::string>& names) = 0;
};

class posix_io final : public attribute_io {
 public:
  int read(const std::filesystem::path& file, std::string& contents) override {
    const file_descriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    contents.clear();
    char buffer[4096];  // a sysfs attribute is at most one page
    for (;;) {
      const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      if (n == 0 || contents.size() > 65536) return 0;
      contents.append(buffer, static_cast<std::size_t>(n));
    }
  }
  int write(const std::filesystem::path& file, std::string_view text) override {
    // kernfs refuses to open an attribute without write bits even for root; a tree of regular
    // files (a simulator, a test) gets the same rule before O_TRUNC can empty it.
    struct stat status {};
    if (::lstat(file.c_str(), &status) == 0 && S_ISREG(status.st_mode) &&
        (status.st_mode & 0222) == 0)
      return EACCES;
    const file_descriptor fd(
        ::open(file.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    for (;;) {
      const ssize_t n = ::write(fd.get(), text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      return static_cast<std::size_t>(n) == text.size() ? 0 : EIO;
    }
  }
  int list(const std::filesystem::path& directory, std::vector<std::string>& names) override {
    DIR* stream = ::opendir(directory.c_str());
    if (stream == nullptr) return errno;
    names.clear();
    while (const dirent* entry = ::readdir(stream)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(stream);
    return 0;
  }
};

inline attribute_io& system_io() {
  static posix_io io;
  return io;
}

// sysfs's words for the states are rproc::to_string(state)'s.
constexpr std::optional<state> state_from_word(std::string_view word) noexcept {
  for (std::uint8_t n = 0; n <= static_cast<std::uint8_t>(state::invalid); ++n)
    if (to_string(static_cast<state>(n)) == word) return static_cast<state>(n);
  return std::nullopt;
}

using rproc::recovery_mode;  // crash.hpp: the words of the kernel's `recovery` attribute
enum class coredump_mode { disabled, enabled, inlined };  // the kernel's words: ... "inline"

constexpr std::string_view to_string(coredump_mode m) noexcept {
  switch (m) {
    case coredump_mode::disabled: return "disabled";
    case coredump_mode::enabled: return "enabled";
    case coredump_mode::inlined: return "inline";
  }
  return "disabled";
}

// How long a command waits for the state it asked for, and how often it looks.
struct settle_options {
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds poll_interval{10};
};

// One remote processor: a directory of the sysfs tree, the io that reaches it, and how long its
// commands wait. Copies are cheap and all speak of the same remote.
class remote {
 public:
  remote(std::filesystem::path directory, unsigned index, attribute_io& io = system_io(),
         settle_options settle = {})
      : directory_(std::move(directory)), index_(index), io_(&io), settle_(settle) {}

  unsigned index() const noexcept { return index_; }
  const std::filesystem::path& directory() const noexcept { return directory_; }
  const settle_options& settle() const noexcept { return settle_; }
  void set_settle(settle_options s) noexcept { settle_ = s; }

  // An attribute's text without its trailing newline.
  result<std::string> read_attribute(std::string_view attribute) const {
    std::string text;
    if (const int e = io_->read(directory_ / attribute, text); e != 0) return read_failure(e);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }
  // Writes `text` and a newline, as `echo text > attribute` does.
  result<void> write_attribute(std::string_view attribute, std::string_view text) {
    std::string line(text);
    line += '\n';
    if (const int e = io_->write(directory_ / attribute, line); e != 0)
      return write_failure(attribute, text, e);
    return {};
  }

  result<std::string> name() const { return read_attribute("name"); }
  result<state> current_state() const {
    const auto word = read_attribute("state");
    if (!word) return word.error();
    if (const auto s = state_from_word(*word)) return *s;
    return error{errc::unknown_state_word, 0, std::nullopt, word->size()};
  }
  // The image the kernel boots; "unknown" while attached (someone else started the core).
  result<std::string> firmware() const { return read_attribute("firmware"); }
  // A plain file name, found in the kernel's search path at the next start; only while offline
  // (else firmware_in_use).
  result<void> set_firmware(std::string_view file_name) {
    if (auto checked = check_firmware_name(file_name); !checked) return checked.error();
    return write_attribute("firmware", file_name);
  }
  result<recovery_mode> recovery() const {
    const auto word = read_attribute("recovery");
    if (!word) return word.error();
    if (*word == "enabled") return recovery_mode::enabled;
    if (*word == "disabled") return recovery_mode::disabled;
    return error{errc::unknown_state_word, 0, std::nullopt, word->size()};
  }
  result<void> set_recovery(recovery_mode m) { return write_attribute("recovery", to_string(m)); }
  result<coredump_mode> coredump() const {
    const auto word = read_attribute("coredump");
    if (!word) return word.error();
    for (const auto m : {coredump_mode::disabled, coredump_mode::enabled, coredump_mode::inlined})
      if (*word == to_string(m)) return m;
    return error{errc::unknown_state_word, 0, std::nullopt, word->size()};
  }
  // The kernel refuses while crashed (busy).
  result<void> set_coredump(coredump_mode m) { return write_attribute("coredump", to_string(m)); }

  // "start": boots an offline remote, attaches a detached one, then waits for running or
  // attached. Busy while running, attached or crashed, checked before writing: since Linux 5.x
  // counts a second user there instead of refusing, and a later stop would not stop the core.
  result<void> start() {
    const auto s = current_state();
    if (!s) return s.error();
    switch (*s) {
      case state::offline:
      case state::detached:
      case state::deleted: {
        const state target = *s == state::detached ? state::attached : state::running;
        if (auto written = write_attribute("state", "start"); !written) return written;
        return settle_at([target](state now) { return now == target; }, true);
      }
      case state::invalid: return state_error(errc::invalid_state, *s);
      default: return state_error(errc::busy, *s);
    }
  }
  // "stop": from running or attached (else invalid_state), then waits for offline.
  result<void> stop() {
    if (auto written = write_attribute("state", "stop"); !written) return written;
    return settle_at([](state now) { return now == state::offline; }, true);
  }
  // "detach": from attached, where the driver can detach (else invalid_state); the core runs on.
  result<void> detach() {
    if (auto written = write_attribute("state", "detach"); !written) return written;
    return settle_at([](state now) { return now == state::detached; }, true);
  }
  // The one-shot recovery of a crashed remote (`echo recover > recovery`), whatever the
  // recovery setting; waits until the remote runs again or is attached again.
  result<void> recover() {
    const auto s = current_state();
    if (!s) return s.error();
    if (*s != state::crashed) return state_error(errc::invalid_state, *s);
    if (auto written = write_attribute("recovery", "recover"); !written) return written;
    return settle_at([](state now) { return now == state::running || now == state::attached; },
                     false);
  }
  // The words of the `state` file. A word rproc does not know goes to the kernel as written,
  // which refuses words it does not know either (invalid_state).
  result<void> command(std::string_view text) {
    if (text == "start") return start();
    if (text == "stop") return stop();
    if (text == "detach") return detach();
    return write_attribute("state", text);
  }

  // Waits until the state is `target`: state_not_reached after `timeout`, remote_crashed when
  // it crashed with recovery disabled (recovery enabled: the kernel is at work, so it waits on).
  result<void> wait_for(state target, std::chrono::milliseconds timeout) const {
    return settle_until([target](state now) { return now == target; }, target != state::crashed,
                        timeout);
  }

 private:
  template <class Done>
  result<void> settle_at(Done done, bool crash_is_failure) const {
    return settle_until(done, crash_is_failure, settle_.timeout);
  }
  template <class Done>
  result<void> settle_until(Done done, bool crash_is_failure,
                            std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    state last = state::invalid;
    for (;;) {
      const auto word = read_attribute("state");
      if (!word) return word.error();
      // A tree of regular files shows the command written until its kernel model answers.
      if (*word != "start" && *word != "stop" && *word != "detach") {
        const auto now = state_from_word(*word);
        if (!now) return error{errc::unknown_state_word, 0, std::nullopt, word->size()};
        if (done(*now)) return {};
        if (*now == state::crashed && crash_is_failure) {
          const auto mode = recovery();
          if (mode && *mode == recovery_mode::disabled)
            return state_error(errc::remote_crashed, *now);
        }
        last = *now;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return state_error(errc::state_not_reached, last);
      std::this_thread::sleep_for(settle_.poll_interval);
    }
  }

  static error state_error(errc code, state s) noexcept {
    return error{code, 0, std::nullopt, static_cast<std::uint64_t>(s)};
  }
  error missing(int errno_value) const {
    std::vector<std::string> names;
    if (io_->list(directory_, names) != 0)
      return error{errc::remote_not_found, 0, std::nullopt, index_};
    return error{errc::attribute_missing, 0, std::nullopt,
                 static_cast<std::uint64_t>(errno_value)};
  }
  error read_failure(int errno_value) const {
    if (errno_value == ENOENT) return missing(errno_value);
    return system_failure(errno_value);
  }
  // The kernel's answer to a write, by attribute (remoteproc_sysfs.c and remoteproc_core.c).
  error write_failure(std::string_view attribute, std::string_view text, int errno_value) const {
    const bool state_file = attribute == "state";
    const auto now = [&] {
      const auto s = current_state();
      return s ? *s : state::invalid;
    };
    switch (errno_value) {
      case ENOENT: {
        std::string ignored;
        if (io_->read(directory_ / attribute, ignored) == ENOENT) return missing(errno_value);
        if (state_file && text == "start")  // request_firmware found no such file
          return error{errc::firmware_not_found, 0, std::nullopt, ENOENT};
        return system_failure(errno_value);
      }
      case EBUSY:
        if (attribute == "firmware")
          return error{errc::firmware_in_use, 0, std::nullopt, EBUSY};
        return state_error(errc::busy, now());
      case EINVAL:
        if (state_file && text != "start") return state_error(errc::invalid_state, now());
        break;
      case EACCES:
      case EPERM:
      case EROFS: return system_failure(errno_value);
      default: break;
    }
    if (state_file && text == "start")  // the driver's boot or attach failed
      return error{errc::boot_failed, 0, std::nullopt, static_cast<std::uint64_t>(errno_value)};
    return system_failure(errno_value);
  }

  std::filesystem::path directory_;
  unsigned index_ = 0;
  attribute_io* io_;
  settle_options settle_;
};

// The remote remoteproc`index` under `root`; remote_not_found when there is none.
inline result<remote> open_remote(unsigned index, const std::filesystem::path& root = default_root,
                                  attribute_io& io = system_io(), settle_options settle = {}) {
  const auto directory = root / ("remoteproc" + std::to_string(index));
  std::vector<std::string> names;
  if (io.list(directory, names) != 0) return error{errc::remote_not_found, 0, std::nullopt, index};
  return remote(directory, index, io, settle);
}

// Every remote under `root`, by index; none when the class directory does not exist (no
// remoteproc driver is loaded).
inline result<std::vector<remote>> list_remotes(const std::filesystem::path& root = default_root,
                                                attribute_io& io = system_io(),
                                                settle_options settle = {}) {
  std::vector<std::string> names;
  if (const int e = io.list(root, names); e != 0) {
    if (e == ENOENT) return std::vector<remote>{};
    return system_failure(e);
  }
  std::vector<remote> remotes;
  constexpr std::string_view prefix = "remoteproc";
  for (const auto& name : names) {
    if (name.size() <= prefix.size() || name.size() > prefix.size() + 9 ||
        name.compare(0, prefix.size(), prefix) != 0)
      continue;
    const std::string_view digits = std::string_view(name).substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    remotes.emplace_back(root / name, static_cast<unsigned>(std::stoul(std::string(digits))), io,
                         settle);
  }
  std::sort(remotes.begin(), remotes.end(),
            [](const remote& a, const remote& b) { return a.index() < b.index(); });
  return remotes;
}

}  // namespace rproc::sysfs
