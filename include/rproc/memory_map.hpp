// The memory map of a firmware: where, in the remote's device addresses, its loadable segments,
// its resource table and the memory its table names (carveouts, devmem windows, trace buffers,
// vrings) lie, before and after a host assigned addresses; and the collisions that a board would
// only show by failing (findings). No heap: regions and findings go into the caller's buffers
// (make_memory_map) or into a memory_map<MaxRegions, MaxFindings>. Optional: rproc.hpp does not
// include it.
//
//   const rproc::memory_map<> map({.image = image, .table = image.resource_table()});
//   for (const rproc::map_region& r : map.regions()) ...        // by address, unplaced last
//   for (const rproc::map_finding& f : map.findings()) ...      // code, region, other region
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "elf.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "located_table.hpp"
#include "resources.hpp"
#include "table.hpp"

namespace rproc {

enum class region_kind : std::uint8_t { segment, table, carveout, devmem, trace, vring };

constexpr std::string_view to_string(region_kind kind) noexcept {
  switch (kind) {
    case region_kind::segment: return "segment";
    case region_kind::table: return "table";
    case region_kind::carveout: return "carveout";
    case region_kind::devmem: return "devmem";
    case region_kind::trace: return "trace";
    case region_kind::vring: return "vring";
  }
  return "unknown";
}

// One range of device addresses and what put it there.
struct map_region {
  region_kind kind = region_kind::segment;
  // segment: its program header; table: the image's .resource_table section (0 without an
  // image); the others: their entry.
  std::uint32_t index = 0;
  std::uint32_t vring = 0;  // a vring's index in its vdev
  // Whether the firmware chose the address; a carveout or vring at FW_RSC_ADDR_ANY did not.
  bool fixed = true;
  // The first device address: the firmware's, or the one a host assigned (`assigned`); none
  // while the host has not chosen one.
  std::optional<std::uint64_t> da{};
  bool assigned = false;
  // Bytes of device memory: a segment's p_memsz, the section's size, an entry's len, a vring's
  // split ring rounded up to whole pages (the host allocates it: SPEC section 3).
  std::uint64_t size = 0;
  std::optional<std::uint64_t> pa{};  // devmem; a carveout's where known (the host writes it)
  std::uint32_t flags = 0;            // segment: p_flags; carveout and devmem: flags
  std::uint64_t file_size = 0;        // segment: p_filesz
  std::uint64_t vaddr = 0;            // segment: p_vaddr, where it runs (da is p_paddr)
  std::uint64_t ring_size = 0;        // vring: vring_size(num, align), before rounding
  std::uint32_t num = 0, align = 0;   // vring

  constexpr bool placed() const noexcept { return da.has_value(); }
  // The last byte's address (the range is closed, so that one ending at 2^64 has a last byte).
  constexpr std::uint64_t last() const noexcept {
    const std::uint64_t first = da.value_or(0);
    if (size == 0) return first;
    return size - 1 > ~std::uint64_t{0} - first ? ~std::uint64_t{0} : first + (size - 1);
  }
  constexpr bool overlaps(const map_region& other) const noexcept {
    return placed() && other.placed() && size != 0 && other.size != 0 && *da <= other.last() &&
           *other.da <= last();
  }
  constexpr bool contains(const map_region& other) const noexcept {
    return overlaps(other) && *da <= *other.da && other.last() <= last();
  }
};

enum class finding_code : std::uint8_t {
  table_outside_segments = 1,
  outside_firmware_memory,
  regions_overlap,
  buffers_overlap,
  vring_overlaps_segment,
  segment_straddles_carveout,
};

constexpr std::string_view to_string(finding_code code) noexcept {
  switch (code) {
    case finding_code::table_outside_segments: return "table_outside_segments";
    case finding_code::outside_firmware_memory: return "outside_firmware_memory";
    case finding_code::regions_overlap: return "regions_overlap";
    case finding_code::buffers_overlap: return "buffers_overlap";
    case finding_code::vring_overlaps_segment: return "vring_overlaps_segment";
    case finding_code::segment_straddles_carveout: return "segment_straddles_carveout";
  }
  return "unknown";
}

constexpr std::string_view describe(finding_code code) noexcept {
  switch (code) {
    case finding_code::table_outside_segments:
      return "no loadable segment holds the table section, so no table is loaded where the host "
             "will look for it";
    case finding_code::outside_firmware_memory:
      return "no segment, fixed carveout or devmem of the image holds it: only the host's own "
             "configuration (a device tree's reserved memory) can provide that memory";
    case finding_code::regions_overlap: return "the two overlap without one holding the other";
    case finding_code::buffers_overlap:
      return "two buffers with different uses (the table, a trace buffer, vrings) share bytes";
    case finding_code::vring_overlaps_segment:
      return "the host zeroes and shares a vring's memory, and the firmware loads code or data "
             "there";
    case finding_code::segment_straddles_carveout:
      return "the segment crosses the carveout's edge, so it cannot be loaded into the memory "
             "the host allocates for the carveout";
  }
  return "unknown finding";
}

// A collision or a gap: `region` is the one at fault, `other` what it collides with (none for
// table_outside_segments and outside_firmware_memory). Both index the map's regions().
struct map_finding {
  finding_code code{};
  std::uint32_t region = 0;
  std::optional<std::uint32_t> other{};

  friend constexpr bool operator==(const map_finding&, const map_finding&) = default;
};

// What a map is drawn from; the bytes each refers to must outlive the map's use of it.
struct map_sources {
  std::optional<elf_image> image{};  // its PT_LOAD segments
  // The firmware's table (image->resource_table()): a region where its address is known, and
  // its entries when it parses.
  std::optional<located_table> table{};
  // The same table after a host attached (its live copy): the addresses the host assigned.
  std::optional<located_table> live{};
  std::uint64_t page_size = 4096;  // the host's, to which it rounds each vring up
};

struct memory_map_view {
  std::span<const map_region> regions{};
  std::span<const map_finding> findings{};
  std::size_t regions_omitted = 0;  // not in the buffer, and so in no finding either
  bool findings_truncated = false;  // the findings buffer filled up and the search stopped
};

namespace detail {

// Placed regions by address, a container before what it contains; unplaced ones last, by entry.
constexpr bool map_order(const map_region& a, const map_region& b) noexcept {
  if (a.placed() != b.placed()) return a.placed();
  if (a.placed() && *a.da != *b.da) return *a.da < *b.da;
  if (a.placed() && a.size != b.size) return a.size > b.size;
  if (a.kind != b.kind) return a.kind < b.kind;
  if (a.index != b.index) return a.index < b.index;
  return a.vring < b.vring;
}

constexpr bool is_buffer(region_kind k) noexcept {
  return k == region_kind::table || k == region_kind::trace || k == region_kind::vring;
}

constexpr bool holds_firmware_memory(const map_region& r) noexcept {
  return r.kind == region_kind::segment || r.kind == region_kind::devmem ||
         (r.kind == region_kind::carveout && r.fixed);
}

// The finding for two fixed regions that overlap, a at or below b in map order, if any.
constexpr std::optional<map_finding> pair_finding(std::span<const map_region> regions,
                                                  std::uint32_t i, std::uint32_t j) noexcept {
  const map_region& a = regions[i];
  const map_region& b = regions[j];
  const auto either = [&](region_kind x, region_kind y) {
    return (a.kind == x && b.kind == y) || (a.kind == y && b.kind == x);
  };
  const auto named = [&](finding_code code, region_kind first) {
    return a.kind == first ? map_finding{code, i, j} : map_finding{code, j, i};
  };
  if (either(region_kind::table, region_kind::segment)) return std::nullopt;  // its own rule
  if (either(region_kind::vring, region_kind::segment))
    return named(finding_code::vring_overlaps_segment, region_kind::vring);
  if (either(region_kind::carveout, region_kind::segment)) {
    const map_region& carveout = a.kind == region_kind::carveout ? a : b;
    const map_region& segment = a.kind == region_kind::carveout ? b : a;
    if (carveout.contains(segment)) return std::nullopt;
    return named(finding_code::segment_straddles_carveout, region_kind::segment);
  }
  if (is_buffer(a.kind) && is_buffer(b.kind))
    return map_finding{finding_code::buffers_overlap, j, i};
  if (!a.contains(b) && !b.contains(a)) return map_finding{finding_code::regions_overlap, j, i};
  return std::nullopt;
}

class map_writer {
 public:
  constexpr map_writer(std::span<map_region> regions, std::span<map_finding> findings) noexcept
      : regions_(regions), findings_(findings) {}

  constexpr void add(const map_region& r) noexcept {
    if (region_count_ < regions_.size()) regions_[region_count_++] = r;
    else ++regions_omitted_;
  }
  constexpr bool note(const map_finding& f) noexcept {
    if (finding_count_ == findings_.size()) {
      findings_truncated_ = true;
      return false;
    }
    findings_[finding_count_++] = f;
    return true;
  }
  constexpr std::span<map_region> regions() const noexcept {
    return regions_.first(region_count_);
  }
  constexpr memory_map_view view() const noexcept {
    return {regions(), findings_.first(finding_count_), regions_omitted_, findings_truncated_};
  }

 private:
  std::span<map_region> regions_;
  std::span<map_finding> findings_;
  std::size_t region_count_ = 0, finding_count_ = 0, regions_omitted_ = 0;
  bool findings_truncated_ = false;
};

// The entries of a located table, when it parses (a map shows what it can of one that does not).
constexpr std::optional<table_view> entries_of(const std::optional<located_table>& t) noexcept {
  if (!t) return std::nullopt;
  const auto parsed = t->parse();
  return parsed ? std::optional(*parsed) : std::nullopt;
}

template <class F>
constexpr void for_each_region(const map_sources& from, F&& add) {
  if (from.image) {
    for (const elf_segment s : from.image->segments()) {
      if (!s.is_load() || s.memsz == 0) continue;  // Linux loads neither
      map_region r{.kind = region_kind::segment, .index = s.index, .da = s.paddr, .size = s.memsz};
      r.flags = s.flags;
      r.file_size = s.filesz;
      r.vaddr = s.vaddr;
      add(r);
    }
  }
  if (!from.table) return;
  if (from.table->da && !from.table->bytes.empty()) {
    const auto section = from.image ? from.image->table_section() : std::nullopt;
    add(map_region{.kind = region_kind::table, .index = section ? section->index : 0,
                   .da = from.table->da, .size = from.table->bytes.size()});
  }
  const auto firmware = entries_of(from.table);
  if (!firmware) return;
  const table_view& table = *firmware;
  const auto live_table = entries_of(from.live);
  const auto live_entry = [&](std::uint32_t i) -> std::optional<resource_entry> {
    if (!live_table || i >= live_table->num()) return std::nullopt;
    const resource_entry e = (*live_table)[i];
    if (e.kind() != table[i].kind()) return std::nullopt;
    return e;
  };
  for (const resource_entry entry : table) {
    const std::uint32_t i = entry.index();
    const auto live = live_entry(i);
    if (const auto c = entry.as<carveout_entry>()) {
      map_region r{.kind = region_kind::carveout, .index = i, .size = c->len()};
      r.flags = c->flags();
      r.fixed = c->da() != fw_rsc_addr_any;
      if (r.fixed) r.da = c->da();
      if (c->pa() != fw_rsc_addr_any) r.pa = c->pa();
      if (const auto host = live ? live->template as<carveout_entry>() : std::nullopt) {
        if (!r.fixed && host->da() != fw_rsc_addr_any) {
          r.da = host->da();
          r.assigned = true;
        }
        r.pa = host->pa();
      }
      add(r);
    } else if (const auto d = entry.as<devmem_entry>()) {
      map_region r{.kind = region_kind::devmem, .index = i, .da = d->da(), .size = d->len()};
      r.pa = d->pa();
      r.flags = d->flags();
      add(r);
    } else if (const auto t = entry.as<trace_entry>()) {
      add(map_region{.kind = region_kind::trace, .index = i, .da = t->da(), .size = t->len()});
    } else if (const auto v = entry.as<vdev_entry>()) {
      const auto host = live ? live->template as<vdev_entry>() : std::nullopt;
      for (const auto vring : v->vrings()) {
        map_region r{.kind = region_kind::vring, .index = i, .vring = vring.index()};
        r.num = vring.num();
        r.align = vring.align();
        r.ring_size = vring_size(vring.num(), vring.align());
        r.size = round_up(r.ring_size, from.page_size);
        r.fixed = vring.da() != fw_rsc_addr_any;
        if (r.fixed) r.da = vring.da();
        if (host && !r.fixed && vring.index() < host->num_of_vrings()) {
          // Linux writes 0 into a vring it released: neither is an address it holds.
          const std::uint32_t da = host->vring(vring.index()).da();
          if (da != fw_rsc_addr_any && da != 0) {
            r.da = da;
            r.assigned = true;
          }
        }
        add(r);
      }
    }
  }
}

template <class = void>  // instantiated where it is used, not in every includer
constexpr void find_collisions(const map_sources& from, map_writer& out) noexcept {
  const std::span<map_region> regions = out.regions();
  const auto count = static_cast<std::uint32_t>(regions.size());
  // Only what the firmware fixed is judged: a host's choices are its own (and, in rproc-inspect,
  // a simulated board's).
  const auto judged = [&](std::uint32_t i) {
    return regions[i].placed() && !regions[i].assigned && regions[i].size != 0;
  };
  if (from.image) {
    for (std::uint32_t i = 0; i < count; ++i) {
      const map_region& r = regions[i];
      if (!judged(i)) continue;
      const bool is_table = r.kind == region_kind::table;
      if (!is_table && r.kind != region_kind::trace && r.kind != region_kind::vring) continue;
      bool held = false;
      for (std::uint32_t k = 0; k < count && !held; ++k) {
        if (k == i || !judged(k)) continue;
        held = is_table ? regions[k].kind == region_kind::segment && regions[k].contains(r)
                        : holds_firmware_memory(regions[k]) && regions[k].overlaps(r);
      }
      if (held) continue;
      if (!out.note({is_table ? finding_code::table_outside_segments
                              : finding_code::outside_firmware_memory,
                     i, std::nullopt}))
        return;
    }
  }
  // Sorted by address: the regions that overlap region i follow it until one starts after it.
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!judged(i)) continue;
    for (std::uint32_t j = i + 1; j < count && regions[j].placed(); ++j) {
      if (*regions[j].da > regions[i].last()) break;
      if (!judged(j) || !regions[i].overlaps(regions[j])) continue;
      if (const auto f = pair_finding(regions, i, j); f && !out.note(*f)) return;
    }
  }
}

}  // namespace detail

// How many regions the map of `from` has: a buffer of this size holds them all.
template <class = void>
constexpr std::size_t map_region_count(const map_sources& from) noexcept {
  std::size_t n = 0;
  detail::for_each_region(from, [&](const map_region&) { ++n; });
  return n;
}

// The map of `from` in the caller's buffers: regions by address (unplaced ones last), then the
// findings, each naming regions by their index in that order.
template <class = void>
constexpr memory_map_view make_memory_map(const map_sources& from, std::span<map_region> regions,
                                          std::span<map_finding> findings) noexcept {
  detail::map_writer out(regions, findings);
  detail::for_each_region(from, [&](const map_region& r) { out.add(r); });
  const auto placed = out.regions();
  std::sort(placed.begin(), placed.end(), detail::map_order);
  detail::find_collisions<>(from, out);
  return out.view();
}

// The same with storage of its own.
template <std::size_t MaxRegions = 64, std::size_t MaxFindings = 32>
class memory_map {
 public:
  constexpr explicit memory_map(const map_sources& from) noexcept {
    const memory_map_view v = make_memory_map(from, regions_, findings_);
    region_count_ = v.regions.size();
    finding_count_ = v.findings.size();
    regions_omitted_ = v.regions_omitted;
    findings_truncated_ = v.findings_truncated;
  }

  constexpr std::span<const map_region> regions() const noexcept {
    return std::span(regions_).first(region_count_);
  }
  constexpr std::span<const map_finding> findings() const noexcept {
    return std::span(findings_).first(finding_count_);
  }
  constexpr memory_map_view view() const noexcept {
    return {regions(), findings(), regions_omitted_, findings_truncated_};
  }

 private:
  std::array<map_region, MaxRegions> regions_{};
  std::array<map_finding, MaxFindings> findings_{};
  std::size_t region_count_ = 0, finding_count_ = 0, regions_omitted_ = 0;
  bool findings_truncated_ = false;
};

// "segment 2", "table", "[1] carveout", "[0] vring 1": how reports name a region.
constexpr text_buffer<32> region_label(const map_region& r) noexcept {
  text_buffer<32> text;
  if (r.kind == region_kind::segment) {
    text.append("segment ").append_decimal(r.index);
  } else if (r.kind == region_kind::table) {
    text.append(".resource_table");
  } else {
    text.append("[").append_decimal(r.index).append("] ").append(to_string(r.kind));
    if (r.kind == region_kind::vring) text.append(" ").append_decimal(r.vring);
  }
  return text;
}

}  // namespace rproc
