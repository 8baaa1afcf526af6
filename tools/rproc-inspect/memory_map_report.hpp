// rproc-inspect --map: the memory map of what was inspected (rproc/memory_map.hpp) as an
// address-sorted text table with its findings, and as JSON.
#pragma once

#include <rproc/located_table.hpp>
#include <rproc/memory_map.hpp>
#include <rproc/table.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inspect.hpp"

namespace inspect {

struct memory_map_report {
  std::vector<rproc::map_region> regions;
  std::vector<rproc::map_finding> findings;
  bool findings_truncated = false;
  std::optional<rproc::table_view> table;  // for the entries' names
  bool assigned = false;                   // drawn with a host's assignment

  // A carveout's, devmem's or trace's name; empty for the others.
  std::string_view name_of(const rproc::map_region& r) const;
  // "[0] vring 1 0x10000-0x12fff", naming a region in a finding.
  std::string describe(const rproc::map_region& r) const;
  // "[0] vring 0 0x00000000-0x00000fff and segment 1 0x00000000-0x00000303"
  std::string regions_of(const rproc::map_finding& f) const;
  // "vring_overlaps_segment: " + regions_of(f) + ": " + what it means
  std::string message(const rproc::map_finding& f) const;

  struct finding_group {
    rproc::finding_code code{};
    std::vector<rproc::map_finding> findings;
  };
  // The findings by code, in the order of the codes.
  std::vector<finding_group> findings_by_code() const;
};

// At most this many findings are kept; an image with more says so.
inline constexpr std::size_t max_findings = 4096;

// The map of an inspected image or table, with the addresses of `live` (the table after a host
// attached) where given; none when the file is neither an image nor a table.
std::optional<memory_map_report> memory_map_of(const inspection& found,
                                               std::optional<rproc::located_table> live);

// "0x1000" or "0x00001000": addresses in the width of the widest in the map.
std::string map_address(std::uint64_t address, bool wide);
// "216 B", "6 MiB", "121.1 KiB".
std::string human_size(std::uint64_t bytes);

std::string map_text(const memory_map_report& map);
nlohmann::ordered_json map_json(const memory_map_report& map);
// The map as an SVG picture, titled `title` (the file's name).
std::string map_svg(const memory_map_report& map, std::string_view title);

}  // namespace inspect
