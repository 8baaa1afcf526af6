#include "memory_map_report.hpp"

#include <rproc/entries.hpp>
#include <rproc/fmt.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "report.hpp"

namespace inspect {

namespace {

using json = nlohmann::ordered_json;

bool any_wide_address(const memory_map_report& map) {
  return std::any_of(map.regions.begin(), map.regions.end(), [](const rproc::map_region& r) {
    return r.placed() && r.last() > 0xFFFFFFFFu;
  });
}

// p_flags as /proc/PID/maps writes permissions: "r-x".
std::string permissions(std::uint32_t flags) {
  return {flags & 4u ? 'r' : '-', flags & 2u ? 'w' : '-', flags & 1u ? 'x' : '-'};
}

std::string quoted(std::string_view name) {
  std::string out;
  rproc::fmt_detail::put_name(std::back_inserter(out), name);
  return out;
}

// What the text table says of a region after its label.
std::string details(const memory_map_report& map, const rproc::map_region& r, bool wide) {
  std::string out;
  switch (r.kind) {
    case rproc::region_kind::segment:
      out = fmt::format("{}, {} from the file", permissions(r.flags), human_size(r.file_size));
      if (r.da && r.vaddr != *r.da) out += ", runs at " + map_address(r.vaddr, wide);
      break;
    case rproc::region_kind::table: out = fmt::format("section {}", r.index); break;
    case rproc::region_kind::carveout:
    case rproc::region_kind::devmem:
      out = quoted(map.name_of(r));
      if (r.pa) out += ", pa " + map_address(*r.pa, wide);
      if (r.flags != 0) out += fmt::format(", flags {:#x}", r.flags);
      break;
    case rproc::region_kind::trace: out = quoted(map.name_of(r)); break;
    case rproc::region_kind::vring:
      out = fmt::format("num {}, align {}, ring {}", r.num, r.align, human_size(r.ring_size));
      break;
  }
  if (r.assigned) out += " (FW_RSC_ADDR_ANY: the simulated host's choice)";
  return out;
}

std::string range_of(const rproc::map_region& r, bool wide) {
  return map_address(*r.da, wide) + "-" + map_address(r.last(), wide);
}

}  // namespace

std::string_view memory_map_report::name_of(const rproc::map_region& r) const {
  const bool named = r.kind == rproc::region_kind::carveout ||
                     r.kind == rproc::region_kind::devmem || r.kind == rproc::region_kind::trace;
  if (!named || !table || r.index >= table->num()) return {};
  const auto entry = (*table)[r.index];
  if (const auto c = entry.as<rproc::carveout_entry>()) return c->name();
  if (const auto d = entry.as<rproc::devmem_entry>()) return d->name();
  if (const auto t = entry.as<rproc::trace_entry>()) return t->name();
  return {};
}

std::string memory_map_report::describe(const rproc::map_region& r) const {
  std::string out(rproc::region_label(r).view());
  if (r.placed()) out += " " + range_of(r, any_wide_address(*this));
  return out;
}

std::string memory_map_report::regions_of(const rproc::map_finding& f) const {
  std::string out = describe(regions[f.region]);
  if (f.other) out += " and " + describe(regions[*f.other]);
  return out;
}

std::string memory_map_report::message(const rproc::map_finding& f) const {
  return fmt::format("{}: {}: {}", rproc::to_string(f.code), regions_of(f),
                     rproc::describe(f.code));
}

std::vector<memory_map_report::finding_group> memory_map_report::findings_by_code() const {
  std::vector<finding_group> groups;
  for (const rproc::map_finding& f : findings) {
    const auto group = std::find_if(groups.begin(), groups.end(),
                                    [&](const finding_group& g) { return g.code == f.code; });
    if (group == groups.end()) groups.push_back({f.code, {f}});
    else group->findings.push_back(f);
  }
  std::sort(groups.begin(), groups.end(),
            [](const finding_group& a, const finding_group& b) { return a.code < b.code; });
  return groups;
}

std::optional<memory_map_report> memory_map_of(const inspection& found,
                                               std::optional<rproc::located_table> live) {
  if (!found.elf && !found.table) return std::nullopt;  // neither an image nor a valid table
  const rproc::map_sources sources{.image = found.elf, .table = found.located, .live = live};
  memory_map_report map;
  map.table = found.table;
  map.assigned = live.has_value();
  map.regions.resize(rproc::map_region_count(sources));
  // A finding is a region or a pair of regions: n (n + 1) / 2 at most.
  const std::size_t n = map.regions.size();
  map.findings.resize(std::min(n * (n + 1) / 2, max_findings));
  const auto view = rproc::make_memory_map(sources, map.regions, map.findings);
  map.findings.resize(view.findings.size());
  map.findings_truncated = view.findings_truncated;
  return map;
}

std::string map_address(std::uint64_t address, bool wide) {
  return wide ? fmt::format("{:#018x}", address) : fmt::format("{:#010x}", address);
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  std::string text = fmt::format("{:.1f}", value);
  if (text.ends_with(".0")) text.resize(text.size() - 2);
  return text + " " + units[unit];
}

std::string map_text(const memory_map_report& map) {
  const bool wide = any_wide_address(map);
  const std::size_t column = wide ? 18 : 10;
  std::string out = fmt::format(
      "\nMemory map: {} regions, in the remote's device addresses{}\n", map.regions.size(),
      map.assigned ? ", with the addresses the simulated host assigned" : "");
  out += fmt::format("  {:<{}}  {:<{}}  {:<10} region\n", "first", column, "last", column, "size");
  // The regions that hold the current one, innermost last: its depth of indentation.
  std::vector<const rproc::map_region*> holders;
  bool unplaced_heading = false;
  for (const rproc::map_region& r : map.regions) {
    if (!r.placed()) {
      if (!unplaced_heading)
        out += "  placed by the host (FW_RSC_ADDR_ANY), not yet assigned:\n";
      unplaced_heading = true;
      out += fmt::format("  {:<{}}  {:<10} {}  {}\n", "", 2 * column + 2, human_size(r.size),
                         rproc::region_label(r).view(), details(map, r, wide));
      continue;
    }
    while (!holders.empty() && !holders.back()->contains(r)) holders.pop_back();
    out += fmt::format("  {}  {}  {:<10} {:{}}{}  {}\n", map_address(*r.da, wide),
                       map_address(r.last(), wide), human_size(r.size), "", 2 * holders.size(),
                       rproc::region_label(r).view(), details(map, r, wide));
    if (r.size != 0) holders.push_back(&r);
  }
  if (map.findings.empty()) return out + "No findings.\n";
  out += fmt::format("Findings: {}\n", map.findings.size());
  for (const auto& group : map.findings_by_code()) {
    out += fmt::format("  {} ({}): {}\n", rproc::to_string(group.code), group.findings.size(),
                       rproc::describe(group.code));
    for (const rproc::map_finding& f : group.findings)
      out += fmt::format("    {}\n", map.regions_of(f));
  }
  if (map.findings_truncated)
    out += fmt::format("  (more findings not listed: at most {} are kept)\n", max_findings);
  return out;
}

json map_json(const memory_map_report& map) {
  json regions = json::array();
  for (const rproc::map_region& r : map.regions) {
    json j{{"kind", rproc::to_string(r.kind)},
           {"da", r.da ? json(*r.da) : json(nullptr)},
           {"size", r.size},
           {"fixed", r.fixed},
           {"assigned", r.assigned}};
    switch (r.kind) {
      case rproc::region_kind::segment:
        j["segment"] = r.index;
        j["vaddr"] = r.vaddr;
        j["file_size"] = r.file_size;
        j["flags"] = r.flags;
        break;
      case rproc::region_kind::table: j["section"] = r.index; break;
      case rproc::region_kind::carveout:
      case rproc::region_kind::devmem:
        j["entry"] = r.index;
        j["name"] = json_name(map.name_of(r));
        j["pa"] = r.pa ? json(*r.pa) : json(nullptr);
        j["flags"] = r.flags;
        break;
      case rproc::region_kind::trace:
        j["entry"] = r.index;
        j["name"] = json_name(map.name_of(r));
        break;
      case rproc::region_kind::vring:
        j["entry"] = r.index;
        j["vring"] = r.vring;
        j["num"] = r.num;
        j["align"] = r.align;
        j["ring_size"] = r.ring_size;
        break;
    }
    regions.push_back(std::move(j));
  }
  json findings = json::array();
  for (const rproc::map_finding& f : map.findings)
    findings.push_back({{"code", rproc::to_string(f.code)},
                        {"region", f.region},
                        {"other", f.other ? json(*f.other) : json(nullptr)},
                        {"message", map.message(f)}});
  return {{"regions", std::move(regions)},
          {"findings", std::move(findings)},
          {"findings_truncated", map.findings_truncated}};
}

}  // namespace inspect
