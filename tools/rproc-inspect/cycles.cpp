#include "cycles.hpp"

#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace inspect {
namespace {

using board_t = rproc::sim::platform;

struct range {
  std::uint64_t begin = 0, end = 0;
  bool backed = false;
};

constexpr std::uint64_t backing_limit = 1u << 20;

// Sorted, with neighbours closer than 1 MiB in one range: the board has only a few windows.
std::vector<range> merged(std::vector<range> ranges, bool always_backed) {
  std::sort(ranges.begin(), ranges.end(),
            [](const range& a, const range& b) { return a.begin < b.begin; });
  std::vector<range> out;
  for (const range& r : ranges) {
    if (!out.empty() && r.begin <= out.back().end + backing_limit)
      out.back().end = std::max(out.back().end, r.end);
    else
      out.push_back(r);
  }
  for (range& r : out) r.backed = always_backed || r.end - r.begin <= 4 * backing_limit;
  return out;
}

// Device memory for what the table fixes: trace buffers must translate (backed windows); fixed
// carveouts and vrings must be allocatable where they are (backed when small enough to hold,
// so that the firmware model can use its vrings).
std::vector<range> fixed_windows(const rproc::table_view& table) {
  std::vector<range> traces, allocations;
  rproc::sim::for_each_fixed_range(table, [&](const rproc::sim::fixed_range& r) {
    (r.is_trace ? traces : allocations).push_back({r.da, r.da + r.len});
  });
  auto windows = merged(std::move(traces), true);
  for (range& r : windows) r.end = std::min(r.end, r.begin + 4 * backing_limit);
  const auto allocatable = merged(std::move(allocations), false);
  windows.insert(windows.end(), allocatable.begin(), allocatable.end());
  return windows;
}

// The host's fields (SPEC section 3) that differ between the firmware's table and the live one,
// in the order for_each_host_field gives them.
std::vector<assigned_field> assignments(const rproc::table_view& before,
                                        const rproc::table_view& after) {
  std::vector<assigned_field> out;
  const auto value = [](const rproc::table_view& table, const rproc::host_field& f) {
    const auto bytes = table.bytes();
    return f.what.width == 1 ? bytes.u8(f.offset).value_or(0) : bytes.u32(f.offset).value_or(0);
  };
  for (const auto entry : before) {
    rproc::for_each_host_field_of(entry, [&](const rproc::host_field& f) {
      const std::uint32_t to = value(after, f);
      if (value(before, f) == to) return;
      out.push_back({entry.index(),
                     f.vring ? fmt::format("vring[{}].{}", *f.vring, f.what.name)
                             : std::string(f.what.name),
                     to});
    });
  }
  return out;
}

}  // namespace

cycles_run run_cycles(const rproc::table_view& table, unsigned count) {
  cycles_run run;
  const auto stop = [&](unsigned cycle, const rproc::error& e) {
    cycle_outcome failed;
    failed.cycle = cycle;
    failed.error = e;
    run.cycles.push_back(std::move(failed));
    return run;
  };
  const auto board = std::make_unique<board_t>();
  std::vector<std::vector<std::byte>> backing;
  for (const range& r : fixed_windows(table)) {
    const auto len = static_cast<std::size_t>(r.end - r.begin);
    std::span<std::byte> bytes;
    if (r.backed) bytes = backing.emplace_back(len);
    if (!board->add_window({r.begin, len, bytes, true}))
      return stop(1, {rproc::errc::too_many_resources, 0, std::nullopt, board_t::max_windows});
  }
  const auto original = table.bytes().bytes();
  if (auto started = board->boot_loader_start(original, board_t::firmware_ram_base, table.order());
      !started)
    return stop(1, started.error());

  rproc::processor<board_t> proc(*board);
  auto detached = proc.claim<rproc::detached>().value();
  for (unsigned cycle = 1; cycle <= count; ++cycle) {
    auto attaching = std::move(detached).attach();
    if (!attaching) return stop(cycle, attaching.error());
    auto attached = std::move(attaching).value();
    cycle_outcome outcome;
    outcome.cycle = cycle;
    const auto live = board->firmware_table();
    outcome.live_table.assign(live.begin(), live.end());
    outcome.assigned =
        assignments(table, rproc::parse_table(outcome.live_table, table.order()).value());
    board->run_firmware();
    auto detaching = std::move(attached).detach();
    if (!detaching) return stop(cycle, detaching.error());
    detached = std::move(detaching).value();
    outcome.restored_bytes = proc.last_restore().bytes_written;
    const auto restored = board->firmware_table();
    outcome.clean =
        std::equal(original.begin(), original.end(), restored.begin(), restored.end());
    run.cycles.push_back(std::move(outcome));
  }
  return run;
}

namespace {
rproc::error in_file(rproc::error e, std::size_t table_file_offset) {
  e.offset += table_file_offset;
  return e;
}
}  // namespace

nlohmann::ordered_json cycles_json(const cycles_run& run, std::size_t table_file_offset) {
  auto cycles = nlohmann::ordered_json::array();
  for (const cycle_outcome& c : run.cycles) {
    auto assigned = nlohmann::ordered_json::array();
    for (const assigned_field& a : c.assigned)
      assigned.push_back({{"entry", a.entry}, {"field", a.field}, {"value", a.value}});
    nlohmann::ordered_json j{{"cycle", c.cycle},
                             {"assigned", assigned},
                             {"restored_bytes", c.restored_bytes},
                             {"clean", c.clean}};
    if (c.error) {
      const auto e = in_file(*c.error, table_file_offset);
      j["error"] = {{"code", rproc::to_string(e.code)},
                    {"offset", e.offset},
                    {"entry", e.entry ? nlohmann::ordered_json(*e.entry) : nullptr},
                    {"message", std::string(rproc::message(e).view())}};
    }
    cycles.push_back(std::move(j));
  }
  return cycles;
}

std::string cycles_text(const cycles_run& run, std::size_t table_file_offset) {
  std::string out = "\nAttach / detach cycles on the simulated platform:\n";
  for (const cycle_outcome& c : run.cycles) {
    if (c.error) {
      out += fmt::format("  cycle {}: {}\n", c.cycle,
                         rproc::message(in_file(*c.error, table_file_offset)).view());
      continue;
    }
    out += fmt::format("  cycle {}: {} bytes restored at detach, table {}\n", c.cycle,
                       c.restored_bytes, c.clean ? "clean" : "NOT the firmware's");
    std::string line = "      assigned:";
    for (const assigned_field& a : c.assigned) {
      const std::string item = fmt::format(" [{}] {} {:#x}", a.entry, a.field, a.value);
      if (line.size() + item.size() > 96) {
        out += line + "\n";
        line = "               ";
      }
      line += item;
    }
    out += line + "\n";
  }
  out += run.all_clean() ? "Every cycle left the firmware's table as it wrote it.\n"
                         : "A cycle did not leave the firmware's table as it wrote it.\n";
  return out;
}

}  // namespace inspect
