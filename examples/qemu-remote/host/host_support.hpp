// What the QEMU remote's host programs share: their command line, the timing helpers, and the
// negative control every one of them shows (a detach without the clean copy).
#pragma once

#include <rproc/lifecycle.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qemu_remote.hpp"

namespace qemu_remote {

using clock_type = std::chrono::steady_clock;

struct arguments {
  qemu_options qemu;
  int cycles = 100;
};

// --firmware ELF [--qemu PATH] [--cycles N] [--log FILE]
inline bool parse(int argc, char** argv, arguments& args) {
  return parse_options(argc, argv, args.qemu,
                       [&](std::string_view flag, const char* value) {
                         if (flag != "--cycles") return false;
                         args.cycles = std::atoi(value);
                         return true;
                       }) &&
         args.cycles > 0;
}

// The command line parsed, then QEMU started with the firmware and its mailbox up; nothing when
// either failed, after saying why on stderr (the program then exits with status 2).
inline std::optional<remote> start_from_command_line(int argc, char** argv, const char* program,
                                                     arguments& args) {
  if (!parse(argc, argv, args)) {
    std::fprintf(stderr, "usage: %s --firmware ELF [--qemu PATH] [--cycles N] [--log FILE]\n",
                 program);
    return std::nullopt;
  }
  auto started = remote::start(args.qemu);
  if (!started) {
    std::fprintf(stderr, "%s: %s\n", program, started.error().message().c_str());
    return std::nullopt;
  }
  return std::move(*started);
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n == 0) return 0;
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
inline double median_us(std::vector<double> ns) { return median(std::move(ns)) / 1000.0; }

inline double since(clock_type::time_point t) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t).count();
}

// The negative control: the live table as a detach without the clean copy leaves it (the host's
// own copy, with its release writes: status 0, vring da 0, notifyid -1); the re-attach must fail
// as the seed says, vring 0's da 0 read as a fixed address. Prints what happened, puts the
// firmware's bytes back and leaves `detached` detached; true when it failed that way.
inline bool attach_after_detach_without_clean_copy(rproc::processor<platform>& proc,
                                                   platform& board,
                                                   rproc::remote<platform, rproc::detached>& detached) {
  const std::vector<std::byte>& original = board.table().image_bytes;
  const auto cached = proc.cached_table();
  if (!cached) {
    std::printf("negative control: the host has no copy of the table\n");
    return false;
  }
  std::ranges::copy(cached->bytes().bytes(), board.live_table().begin());
  auto refused = std::move(detached).attach();
  bool as_expected = false;
  if (refused) {
    std::printf("negative control: the re-attach after a detach without the clean copy "
                "succeeded; it must fail\n");
    auto back = std::move(refused).value().detach();
    if (!back) return false;
    detached = std::move(back).value();
  } else {
    const rproc::error& e = refused.error();
    as_expected = e.code == rproc::errc::address_unavailable && e.value == 0 && e.entry == 0u;
    std::printf("negative control, detach without the clean copy: re-attach %s: %s\n  (%s)\n",
                as_expected ? "fails as in the seed (vring 0's da 0 read as a fixed address)"
                            : "fails, but not as the seed says",
                rproc::message(e).c_str(), board.last_failure().c_str());
    detached = std::move(refused).previous();
  }
  std::ranges::copy(original, board.live_table().begin());
  return as_expected;
}

}  // namespace qemu_remote
