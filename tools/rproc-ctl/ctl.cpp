#include "ctl.hpp"

#include <rproc/linux/firmware_path.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string_view>

#include "file_contents.hpp"
#include "firmware_check.hpp"
#include "report.hpp"

namespace ctl {

namespace {

using json = nlohmann::ordered_json;
using rproc::errc;
namespace sysfs = rproc::sysfs;

struct command_line {
  std::string root = sysfs::default_root.string();
  std::string firmware_path;  // empty: the kernel's search path
  bool json = false;
  double timeout = 10.0;
  std::string command;
  unsigned index = 0;
  std::string firmware_file;
  std::string firmware_name;
  bool force = false;
  std::string wanted_state;
};

bool carries_errno(errc code) {
  return code == errc::permission_denied || code == errc::system_error ||
         code == errc::boot_failed || code == errc::firmware_in_use ||
         code == errc::firmware_not_found || code == errc::attribute_missing;
}
bool carries_state(errc code) {
  return code == errc::busy || code == errc::invalid_state || code == errc::state_not_reached ||
         code == errc::remote_crashed;
}
std::string_view state_name(std::uint64_t value) {
  return rproc::to_string(static_cast<rproc::state>(value));
}

int status_of(errc code) {
  switch (code) {
    case errc::state_not_reached: return not_settled;
    case errc::remote_crashed: return crashed;
    case errc::remote_not_found:
    case errc::attribute_missing:
    case errc::bad_firmware_name:
    case errc::firmware_exists:
    case errc::firmware_shadowed: return usage_or_io_error;
    default: return kernel_refused;
  }
}

// What one invocation prints: JSON gathered into one object, or text lines.
class session {
 public:
  session(command_line cl, sysfs::attribute_io& io) : cl_(std::move(cl)), io_(io) {}

  int execute() {
    if (cl_.command == "list") return list();
    auto opened = sysfs::open_remote(cl_.index, cl_.root, io_, settle());
    if (!opened) return fail(opened.error(), {});
    sysfs::remote remote = *opened;
    const std::string label = label_of(remote);
    report_["remote"] = remote.index();
    report_["name"] = remote.name().value_or("");
    if (cl_.command == "status") return status(remote);
    if (cl_.command == "wait") return wait(remote, label);
    return transition(remote, label);
  }

  run_output finish(int status) {
    run_output o;
    o.status = status;
    if (cl_.json) o.out = report_.dump(2) + "\n";
    else o.out = std::move(text_);
    o.err = std::move(err_);
    return o;
  }

 private:
  sysfs::settle_options settle() const {
    const auto ms = static_cast<long long>(std::llround(cl_.timeout * 1000.0));
    return {.timeout = std::chrono::milliseconds(ms), .poll_interval = std::chrono::milliseconds(10)};
  }
  static std::string label_of(const sysfs::remote& r) {
    const auto name = r.name();
    return fmt::format("remoteproc{}{}", r.index(), name ? " (" + *name + ")" : std::string());
  }

  // A failure of the remote or the kernel: one line on stderr, or the JSON "error" object.
  // The exit status is the code's, unless `status` says otherwise.
  int fail(const rproc::error& e, std::string_view context, int status = -1) {
    std::string detail;
    json j{{"code", rproc::to_string(e.code)}, {"message", std::string(rproc::describe(e.code))}};
    if (carries_errno(e.code)) {
      detail = fmt::format(" ({})", std::strerror(static_cast<int>(e.value)));
      j["errno"] = e.value;
    } else if (carries_state(e.code)) {
      detail = fmt::format(" (state {})", state_name(e.value));
      j["state"] = state_name(e.value);
    } else if (e.code == errc::remote_not_found) {
      detail = fmt::format(" (no remoteproc{} under {})", e.value, cl_.root);
    } else if (e.code == errc::firmware_shadowed) {
      detail = fmt::format(" ({})", search_path().directories.at(e.value).string());
    }
    if (e.code == errc::firmware_not_found) {
      std::string dirs;
      for (const auto& d : search_path().directories) dirs += (dirs.empty() ? "" : ", ") + d.string();
      detail += fmt::format("; searched {}", dirs);
    }
    j["message"] = std::string(rproc::describe(e.code)) + detail;
    report_["error"] = j;
    err_ += fmt::format("rproc-ctl: {}{}{}: {}{}\n", context, context.empty() ? "" : ": ",
                        cl_.command, rproc::to_string(e.code),
                        fmt::format(": {}{}", rproc::describe(e.code), detail));
    return status >= 0 ? status : status_of(e.code);
  }

  sysfs::firmware_search_path search_path() const {
    if (!cl_.firmware_path.empty()) return sysfs::firmware_search_path::starting_with(cl_.firmware_path);
    return sysfs::firmware_search_path::of_kernel();
  }

  int list() {
    std::vector<std::string> names;
    if (const int e = io_.list(cl_.root, names); e != 0) {
      err_ += fmt::format("rproc-ctl: {}: {}\n", cl_.root, std::strerror(e));
      report_["error"] = {{"code", "system_error"}, {"message", std::strerror(e)}, {"errno", e}};
      return usage_or_io_error;
    }
    const auto remotes = sysfs::list_remotes(cl_.root, io_, settle());
    if (!remotes) return fail(remotes.error(), cl_.root);
    json all = json::array();
    text_ += fmt::format("{:<14}{:<12}{:<10}{}\n", "remote", "name", "state", "firmware");
    for (const auto& r : *remotes) {
      const auto name = r.name(), state = r.read_attribute("state"), firmware = r.firmware();
      all.push_back({{"index", r.index()},
                     {"name", name ? json(*name) : json(nullptr)},
                     {"state", state ? json(*state) : json(nullptr)},
                     {"firmware", firmware ? json(*firmware) : json(nullptr)}});
      text_ += fmt::format("{:<14}{:<12}{:<10}{}\n", fmt::format("remoteproc{}", r.index()),
                           name.value_or("?"), state.value_or("?"), firmware.value_or("?"));
    }
    report_["remotes"] = std::move(all);
    return done;
  }

  int status(const sysfs::remote& r) {
    text_ += fmt::format("remoteproc{}\n", r.index());
    for (const char* attribute : {"name", "state", "firmware", "recovery", "coredump"}) {
      const auto value = r.read_attribute(attribute);
      report_[attribute] = value ? json(*value) : json(nullptr);
      text_ += fmt::format("  {:<10}{}\n", attribute, value.value_or("-"));
    }
    const auto s = r.current_state();
    if (!s) return fail(s.error(), label_of(r));
    return done;
  }

  int wait(const sysfs::remote& r, const std::string& label) {
    const auto target = sysfs::state_from_word(cl_.wanted_state);
    if (!target) {
      err_ += fmt::format("rproc-ctl: wait: '{}' is not a state (offline, running, attached, "
                          "detached, crashed ...)\n", cl_.wanted_state);
      return usage_or_io_error;
    }
    const auto waited = r.wait_for(*target, settle().timeout);
    const auto now = r.read_attribute("state");
    report_["state"] = now ? json(*now) : json(nullptr);
    if (!waited) return fail(waited.error(), label);
    report_["error"] = nullptr;
    text_ += fmt::format("{}: {}\n", label, rproc::to_string(*target));
    return done;
  }

  int transition(sysfs::remote& r, const std::string& label) {
    const auto from = r.current_state();
    if (!from) return fail(from.error(), label);
    report_["command"] = cl_.command;
    report_["from"] = rproc::to_string(*from);
    if (!cl_.firmware_file.empty()) {
      if (const int s = install(r, *from, label); s != done) return s;
    }
    rproc::result<void> outcome;
    if (cl_.command == "start") outcome = r.start();
    else if (cl_.command == "stop") outcome = r.stop();
    else if (cl_.command == "detach") outcome = r.detach();
    else if (cl_.command == "recover") outcome = r.recover();
    else if (*from != rproc::state::detached)  // attach: `start` written to a detached remote
      outcome = rproc::error{errc::invalid_state, 0, std::nullopt,
                             static_cast<std::uint64_t>(*from)};
    else outcome = r.start();
    const auto to = r.current_state();
    report_["state"] = to ? json(rproc::to_string(*to)) : json(nullptr);
    if (!outcome) return fail(outcome.error(), label);
    report_["error"] = nullptr;
    text_ += fmt::format("{}: {} -> {}\n", label, rproc::to_string(*from),
                         to ? rproc::to_string(*to) : "?");
    return done;
  }

  // start --firmware FILE: check the image, then (only if it passed, or with --force) put it in
  // the search path and name it in `firmware`.
  int install(sysfs::remote& r, rproc::state from, const std::string& label) {
    const std::string name = cl_.firmware_name.empty()
                                 ? std::filesystem::path(cl_.firmware_file).filename().string()
                                 : cl_.firmware_name;
    json fw{{"file", cl_.firmware_file}, {"name", name}};
    const auto finish_firmware = [&] { report_["firmware"] = fw; };
    std::optional<inspect::file_contents> file;
    try {
      file.emplace(inspect::file_contents::read(cl_.firmware_file));
    } catch (const inspect::io_error& e) {
      err_ += fmt::format("rproc-ctl: {}\n", e.what());
      fw["error"] = e.what();
      finish_firmware();
      return usage_or_io_error;
    }
    const auto check = check_firmware(file->bytes(), kernel_byte_order());
    fw["image"] = inspect::json_report(check.found, cl_.firmware_file);
    fw["refusal"] = check.refusal ? inspect::fault_json(*check.refusal, true) : json(nullptr);
    if (check.refusal) {
      const auto text = rproc::message(*check.refusal);
      if (!cl_.force) {
        finish_firmware();
        report_["error"] = inspect::fault_json(*check.refusal, true);
        err_ += fmt::format("rproc-ctl: {}: refused: {}\n(nothing was installed; --force starts it "
                            "anyway)\n", cl_.firmware_file, text.view());
        return image_refused;
      }
      err_ += fmt::format("rproc-ctl: {}: {} (installed anyway: --force)\n", cl_.firmware_file,
                          text.view());
    } else {
      text_ += fmt::format("{}: {}, resource table at file offset {:#x}: {} entries, valid\n",
                           cl_.firmware_file, check.found.elf->bits() == 64 ? "ELF64" : "ELF32",
                           check.found.located->file_offset.value_or(0),
                           check.found.table->num());
    }
    for (const auto& w : check.found.warnings)
      err_ += fmt::format("rproc-ctl: {}: warning: {}\n", cl_.firmware_file, rproc::message(w).view());

    if (auto named = sysfs::check_firmware_name(name); !named) {
      finish_firmware();
      return fail(named.error(), label);
    }
    if (from != rproc::state::offline) {  // the kernel would refuse the name: change nothing
      finish_firmware();
      return fail({errc::firmware_in_use, 0, std::nullopt, EBUSY}, label);
    }
    const auto path = search_path();
    const auto directory = path.install_directory();
    if (auto clear = path.check_not_shadowed(name, directory); !clear) {
      finish_firmware();
      return fail(clear.error(), label);
    }
    const auto installed = sysfs::install_firmware(directory, name, file->bytes(),
                                                   {.replace_different = cl_.force});
    if (!installed) {
      finish_firmware();
      if (installed.error().code == errc::firmware_exists)
        err_ += fmt::format("rproc-ctl: {} differs from {} (--force replaces it)\n",
                            (directory / name).string(), cl_.firmware_file);
      return fail(installed.error(), (directory / name).string(), usage_or_io_error);
    }
    static constexpr std::string_view outcomes[] = {"installed", "already_installed", "replaced"};
    const auto outcome = outcomes[static_cast<int>(*installed)];
    fw["installed"] = (directory / name).string();
    fw["outcome"] = outcome;
    finish_firmware();
    text_ += fmt::format("{}: {}\n", (directory / name).string(), outcome);
    if (auto set = r.set_firmware(name); !set) return fail(set.error(), label);
    return done;
  }

  command_line cl_;
  sysfs::attribute_io& io_;
  json report_ = json::object();
  std::string text_;
  std::string err_;
};

void define(CLI::App& app, command_line& cl) {
  app.add_flag("--json", cl.json, "Print one JSON object instead of text");
  app.add_option("--root", cl.root, "The sysfs class directory of the remotes")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  app.add_option("--firmware-path", cl.firmware_path,
                 "Install firmware here, searched first as the kernel's firmware_class.path "
                 "(default: that parameter when set, else /lib/firmware)");
  app.add_option("--timeout", cl.timeout, "Seconds a command waits for the state it asked for")
      ->check(CLI::Range(0.0, 3600.0))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  app.require_subcommand(1, 1);
  app.fallthrough();

  app.add_subcommand("list", "Every remote: index, name, state, firmware");
  const auto with_index = [&](const char* name, const char* about) {
    auto* sub = app.add_subcommand(name, about);
    sub->add_option("N", cl.index, "The remote's index (remoteprocN)")->required();
    return sub;
  };
  with_index("status", "A remote's name, state, firmware, recovery and coredump settings");
  auto* start = with_index("start", "Boot an offline remote (or attach a detached one)");
  start->add_option("--firmware", cl.firmware_file,
                    "Check this ELF image, install it in the firmware search path and boot it");
  start->add_option("--name", cl.firmware_name,
                    "The name to install it under (default: the file's name)");
  start->add_flag("--force", cl.force,
                  "Boot an image that failed a check, and replace a different installed file");
  with_index("stop", "Stop a running or attached remote");
  with_index("detach", "Detach from an attached remote; it keeps running");
  with_index("attach", "Attach to a detached remote (writes start)");
  with_index("recover", "Recover a crashed remote");
  auto* wait = with_index("wait", "Wait until a remote is in STATE");
  wait->add_option("STATE", cl.wanted_state, "offline, running, attached, detached, crashed ...")
      ->required();
  app.footer(
      "Exit status: 0 done; 1 the firmware image failed a check; 2 a usage or I/O error, no\n"
      "such remote, or an unsafe install; 3 the kernel refused or failed the command; 4 the\n"
      "remote did not reach the state in time; 5 the remote crashed while waited for.");
}

}  // namespace

run_output run(const std::vector<std::string>& args, rproc::sysfs::attribute_io& io) {
  CLI::App app("Drives Linux remote processors (/sys/class/remoteproc), checking firmware "
               "before the kernel loads it.",
               "rproc-ctl");
  command_line cl;
  define(app, cl);
  app.set_version_flag("--version", "rproc-ctl " RPROC_VERSION);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  run_output output;
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    output.status = app.exit(e, out, err) == 0 ? done : usage_or_io_error;
    output.out = out.str();
    output.err = err.str();
    return output;
  }
  for (const auto* sub : app.get_subcommands()) cl.command = sub->get_name();
  session s(cl, io);
  return s.finish(s.execute());
}

}  // namespace ctl
