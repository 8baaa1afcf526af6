// A fake Linux remoteproc sysfs for the tests: a model of what remoteproc_sysfs.c and
// remoteproc_core.c (Linux 5.13 and later) answer to each read and write of
// /sys/class/remoteproc/remoteprocN/{name,state,firmware,recovery,coredump}, served two ways:
//  - in-process, as the rproc::sysfs::attribute_io the backend is given: a refused write returns
//    the kernel's errno (EBUSY, EINVAL, ENOENT, EACCES, ENODEV), as write(2) does on a board;
//  - on disk: every attribute is mirrored to a file of the tree, and serve_files() treats a
//    changed file as a write from another process (rproc-ctl), answering by rewriting it (a
//    refusal restores the file and is logged to kernel.log, as dmesg would say it).
// Transitions can settle later (settle_delay) or never, a core can crash (recovered or not), and
// a remote can be read-only (the kernel's sysfs_read_only).
#pragma once

#include <rproc/elf.hpp>
#include <rproc/linux/sysfs.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace test {

struct fake_remote {
  std::string name = "m4";
  rproc::state state = rproc::state::offline;
  std::string firmware = "rproc-m4-fw";
  bool recovery_enabled = true;
  std::string coredump = "disabled";
  bool can_detach = true;             // the driver has a detach operation
  bool attach_on_recovery = false;    // RPROC_FEAT_ATTACH_ON_RECOVERY
  bool read_only = false;             // sysfs_read_only: the four writable attributes are 0444
  bool counts_users = false;          // newer kernels: "start" while running counts a user
  bool boots_without_table = false;   // vendor drivers: a bad table boots with no resources
  std::optional<int> boot_errno;      // the driver's start or attach fails with this errno
  std::chrono::milliseconds settle_delay{0};  // a transition lands this long after its write
  bool never_settles = false;         // a transition that never lands
};

class fake_kernel final : public rproc::sysfs::attribute_io {
 public:
  using clock = std::chrono::steady_clock;

  // `root` is the class directory (…/sys/class/remoteproc), created; `firmware_dirs` is where
  // request_firmware looks.
  fake_kernel(std::filesystem::path root, std::vector<std::filesystem::path> firmware_dirs)
      : root_(std::move(root)), firmware_dirs_(std::move(firmware_dirs)) {
    std::filesystem::create_directories(root_);
  }

  unsigned add(fake_remote r) {
    const std::lock_guard lock(mutex_);
    const auto index = static_cast<unsigned>(remotes_.size());
    const bool powered = r.state == rproc::state::running || r.state == rproc::state::attached;
    model added;
    added.r = std::move(r);
    remotes_.push_back(std::move(added));
    remotes_.back().power = powered ? 1 : 0;
    std::filesystem::create_directories(directory(index));
    mirror(index);
    return index;
  }

  // A crash the driver reports (rproc_report_crash): ignored while offline or already crashed;
  // recovered at once (or after settle_delay) when recovery is enabled.
  void crash(unsigned index) {
    const std::lock_guard lock(mutex_);
    advance();
    auto& m = remotes_.at(index);
    if (m.r.state == rproc::state::offline || m.r.state == rproc::state::crashed) return;
    m.crashed_from = m.r.state;
    m.r.state = rproc::state::crashed;
    ++m.crashes;
    log(index, "handling crash #" + std::to_string(m.crashes));
    if (m.r.recovery_enabled) recover(index);
    mirror(index);
  }
  // The remote's device goes away (rproc_del): the state reads "deleted".
  void remove(unsigned index) {
    const std::lock_guard lock(mutex_);
    remotes_.at(index).r.state = rproc::state::deleted;
    remotes_.at(index).pending.reset();
    mirror(index);
  }
  fake_remote remote(unsigned index) {
    const std::lock_guard lock(mutex_);
    advance();
    return remotes_.at(index).r;
  }
  void set(unsigned index, const fake_remote& r) {
    const std::lock_guard lock(mutex_);
    remotes_.at(index).r = r;
    mirror(index);
  }
  // Every write the kernel saw, "remoteprocN/attribute: text", in order.
  std::vector<std::string> writes() {
    const std::lock_guard lock(mutex_);
    return writes_;
  }
  std::string kernel_log() {
    const std::lock_guard lock(mutex_);
    return log_;
  }
  std::filesystem::path directory(unsigned index) const {
    return root_ / ("remoteproc" + std::to_string(index));
  }

  int read(const std::filesystem::path& file, std::string& contents) override {
    const std::lock_guard lock(mutex_);
    advance();
    const auto at = locate(file);
    if (!at) return ENOENT;
    contents = show(at->first, at->second);
    return contents.empty() ? ENOENT : 0;
  }
  int write(const std::filesystem::path& file, std::string_view text) override {
    const std::lock_guard lock(mutex_);
    advance();
    const auto at = locate(file);
    if (!at || show(at->first, at->second).empty()) return ENOENT;
    const int answer = store(at->first, at->second, text);
    mirror(at->first);
    return answer;
  }
  int list(const std::filesystem::path& dir, std::vector<std::string>& names) override {
    const std::lock_guard lock(mutex_);
    names.clear();
    if (dir == root_) {
      for (unsigned i = 0; i < remotes_.size(); ++i) names.push_back("remoteproc" + std::to_string(i));
      return 0;
    }
    for (unsigned i = 0; i < remotes_.size(); ++i) {
      if (dir == directory(i)) {
        names = {"name", "state", "firmware", "recovery", "coredump"};
        return 0;
      }
    }
    return ENOENT;
  }

  // One pass of the on-disk kernel: lands due transitions and answers every attribute file
  // another process changed since the last pass. Returns how many writes it answered.
  int serve_files() {
    const std::lock_guard lock(mutex_);
    advance();
    struct changed_file {
      std::filesystem::file_time_type written;
      int rank;  // one tick of the file clock may hold several writes: settings before commands
      unsigned remote;
      std::string attribute, text;
    };
    std::vector<changed_file> changes;
    static constexpr const char* attributes[] = {"firmware", "coredump", "recovery", "state"};
    // Commands are read before settings: a setting written before a command seen in this pass
    // is then seen too.
    for (unsigned i = 0; i < remotes_.size(); ++i) {
      for (int rank = 3; rank >= 0; --rank) {
        const auto path = directory(i) / attributes[rank];
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        // Empty: a writer has truncated the file and not yet written.
        if (text.str().empty() || text.str() == remotes_[i].mirrored[attributes[rank]]) continue;
        std::error_code ec;
        changes.push_back({std::filesystem::last_write_time(path, ec), rank, i, attributes[rank],
                           text.str()});
      }
    }
    std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) {
      return a.written != b.written ? a.written < b.written : a.rank < b.rank;
    });
    for (auto& c : changes) {
      while (!c.text.empty() && c.text.back() == '\n') c.text.pop_back();
      if (const int e = store(c.remote, c.attribute, c.text); e != 0)
        log(c.remote, "write '" + c.text + "' to " + c.attribute + ": error -" +
                          std::to_string(e) + " (" + std::strerror(e) + ")");
      remotes_[c.remote].mirrored[c.attribute].clear();  // rewritten even if the same
      mirror(c.remote);
    }
    return static_cast<int>(changes.size());
  }

 private:
  struct pending_transition {
    rproc::state to;
    clock::time_point due;
  };
  struct model {
    fake_remote r;
    rproc::state crashed_from = rproc::state::offline;
    int power = 0;
    unsigned crashes = 0;
    std::optional<pending_transition> pending;
    std::map<std::string, std::string> mirrored;
  };

  std::optional<std::pair<unsigned, std::string>> locate(const std::filesystem::path& file) const {
    for (unsigned i = 0; i < remotes_.size(); ++i)
      if (file.parent_path() == directory(i)) return std::pair{i, file.filename().string()};
    return std::nullopt;
  }

  std::string show(unsigned i, const std::string& attribute) const {
    const auto& m = remotes_[i];
    if (attribute == "name") return m.r.name + "\n";
    if (attribute == "state") return std::string(rproc::to_string(m.r.state)) + "\n";
    if (attribute == "firmware")
      return (m.r.state == rproc::state::attached ? "unknown" : m.r.firmware) + "\n";
    if (attribute == "recovery") return m.r.recovery_enabled ? "enabled\n" : "disabled\n";
    if (attribute == "coredump") return m.r.coredump + "\n";
    return {};
  }

  // The kernel's store functions; returns 0 or the errno write(2) gives.
  int store(unsigned i, const std::string& attribute, std::string_view text) {
    auto& m = remotes_[i];
    std::string word(text);
    while (!word.empty() && (word.back() == '\n')) word.pop_back();
    writes_.push_back("remoteproc" + std::to_string(i) + "/" + attribute + ": " + word);
    if (attribute == "name") return EACCES;  // 0444
    if (m.r.read_only) return EACCES;
    if (attribute == "state") return store_state(i, word);
    if (attribute == "firmware") {
      if (m.r.state != rproc::state::offline) return EBUSY;
      if (word.empty()) return EINVAL;
      m.r.firmware = word;
      return 0;
    }
    if (attribute == "recovery") {
      if (word == "enabled") {
        m.r.recovery_enabled = true;
        if (m.r.state == rproc::state::crashed) recover(i);
      } else if (word == "disabled") {
        m.r.recovery_enabled = false;
      } else if (word == "recover") {
        if (m.r.state == rproc::state::crashed) recover(i);
      } else {
        return EINVAL;
      }
      return 0;
    }
    if (attribute == "coredump") {
      if (m.r.state == rproc::state::crashed) return EBUSY;
      if (word != "disabled" && word != "enabled" && word != "inline") return EINVAL;
      m.r.coredump = word;
      return 0;
    }
    return EINVAL;
  }

  int store_state(unsigned i, const std::string& word) {
    auto& m = remotes_[i];
    const rproc::state s = m.r.state;
    if (word == "start") {
      if (s == rproc::state::deleted) return ENODEV;
      if (s == rproc::state::running || s == rproc::state::attached) {
        if (!m.r.counts_users) return EBUSY;
        ++m.power;  // a second user: nothing happens
        return 0;
      }
      if (s == rproc::state::crashed) {
        ++m.power;
        return 0;
      }
      if (s == rproc::state::detached) {
        if (m.r.boot_errno) return *m.r.boot_errno;
        land(i, rproc::state::attached);
        ++m.power;
        return 0;
      }
      if (const int e = boot(i); e != 0) return e;
      land(i, rproc::state::running);
      ++m.power;
      return 0;
    }
    if (word == "stop") {
      if (s != rproc::state::running && s != rproc::state::attached) return EINVAL;
      if (--m.power > 0) return 0;  // still used by someone else
      land(i, rproc::state::offline);
      return 0;
    }
    if (word == "detach") {
      if (s != rproc::state::attached || !m.r.can_detach) return EINVAL;
      if (--m.power > 0) return 0;
      land(i, rproc::state::detached);
      return 0;
    }
    log(i, "Unrecognised option: " + word);
    return EINVAL;
  }

  // request_firmware, then what rproc_fw_boot checks: an ELF image in the kernel's byte order
  // with a valid table (or, for a vendor driver, no table at all).
  int boot(unsigned i) {
    auto& m = remotes_[i];
    std::optional<std::filesystem::path> file;
    for (const auto& dir : firmware_dirs_)
      if (std::filesystem::is_regular_file(dir / m.r.firmware)) {
        file = dir / m.r.firmware;
        break;
      }
    if (!file) {
      log(i, "request_firmware failed: -2");
      return ENOENT;
    }
    std::ifstream in(*file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    const auto image = rproc::read_elf(bytes);
    const auto native = std::endian::native == std::endian::little ? rproc::endian::little
                                                                   : rproc::endian::big;
    bool bad = !image || image->order() != native || image->segment_count() == 0;
    if (!bad) {
      const auto table = image->resource_table();
      bad = !table || !table->parse();
    }
    if (bad && !m.r.boots_without_table) {
      log(i, "Boot failed: -22");
      return EINVAL;
    }
    if (m.r.boot_errno) return *m.r.boot_errno;
    return 0;
  }

  void recover(unsigned i) {
    auto& m = remotes_[i];
    const bool attach = m.r.attach_on_recovery && m.crashed_from == rproc::state::attached;
    log(i, "recovering " + m.r.name);
    land(i, attach ? rproc::state::attached : rproc::state::running);
  }

  void land(unsigned i, rproc::state to) {
    auto& m = remotes_[i];
    if (m.r.never_settles) {
      m.pending = pending_transition{to, clock::time_point::max()};
    } else if (m.r.settle_delay.count() > 0) {
      m.pending = pending_transition{to, clock::now() + m.r.settle_delay};
    } else {
      m.r.state = to;
      m.pending.reset();
    }
  }

  void advance() {
    const auto now = clock::now();
    for (unsigned i = 0; i < remotes_.size(); ++i) {
      auto& m = remotes_[i];
      if (m.pending && m.pending->due <= now) {
        m.r.state = m.pending->to;
        m.pending.reset();
        mirror(i);
      }
    }
  }

  void log(unsigned i, const std::string& line) {
    log_ += "remoteproc" + std::to_string(i) + ": " + line + "\n";
    std::ofstream(root_.parent_path() / "kernel.log", std::ios::app)
        << "remoteproc" << i << ": " << line << "\n";
  }

  // Rewrites the files whose text changed, each by a rename so that a reader sees the old
  // text or the new one, never an empty file; the writable ones are 0444 when read-only.
  void mirror(unsigned i) {
    auto& m = remotes_[i];
    for (const char* attribute : {"name", "state", "firmware", "recovery", "coredump"}) {
      const std::string text = show(i, attribute);
      if (m.mirrored[attribute] == text) continue;
      const auto path = directory(i) / attribute;
      const auto temporary = directory(i) / (std::string(".") + attribute + ".new");
      std::ofstream(temporary, std::ios::binary | std::ios::trunc) << text;
      const bool writable = std::string_view(attribute) != "name" && !m.r.read_only;
      ::chmod(temporary.c_str(), writable ? 0644 : 0444);
      std::filesystem::rename(temporary, path);
      m.mirrored[attribute] = text;
    }
  }

  std::filesystem::path root_;
  std::vector<std::filesystem::path> firmware_dirs_;
  std::mutex mutex_;
  std::vector<model> remotes_;
  std::vector<std::string> writes_;
  std::string log_;
};

}  // namespace test
