// rproc-inspect --cycles N: the image's table on the simulated platform, as a boot loader left
// it, through N attach / detach cycles; per cycle, what the host assigned, how many bytes the
// detach wrote back, and whether the table then equals the firmware's bytes.
#pragma once

#include <rproc/error.hpp>
#include <rproc/table.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace inspect {

// A field the host wrote during the attach, with the value it wrote.
struct assigned_field {
  std::uint32_t entry = 0;
  std::string field;  // "da", "pa", "len", "gfeatures", "status", "vring[1].notifyid" ...
  std::uint32_t value = 0;
};

struct cycle_outcome {
  unsigned cycle = 0;  // from 1
  std::vector<assigned_field> assigned;
  // The table as the host left it once attached (what `assigned` was read from).
  std::vector<std::byte> live_table;
  std::size_t restored_bytes = 0;
  bool clean = false;  // after detach, the table is byte for byte the firmware's
  // Why the cycle stopped (an attach or a detach refused); offsets are in the table. The run
  // ends with it.
  std::optional<rproc::error> error;
};

struct cycles_run {
  std::vector<cycle_outcome> cycles;
  bool all_clean() const {
    for (const auto& c : cycles)
      if (!c.clean) return false;
    return true;
  }
};

// Runs `count` cycles of `table`. The simulated board gives device memory to every address the
// table fixes (carveouts, vrings, trace buffers) and maps devmem.
cycles_run run_cycles(const rproc::table_view& table, unsigned count);

// The "cycles" array of the JSON report; error offsets become file offsets.
nlohmann::ordered_json cycles_json(const cycles_run& run, std::size_t table_file_offset);
// The text report's lines.
std::string cycles_text(const cycles_run& run, std::size_t table_file_offset);

}  // namespace inspect
