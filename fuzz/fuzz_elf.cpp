// The ELF reader, its table lookup and its loader on any bytes. Invariants:
// - no read outside the file (parsed from a heap block of exactly its size, under ASan), and a
//   fault is an ELF code at an offset inside the file;
// - every section name ends inside the string table; the table section is the first section
//   named .resource_table; every PT_LOAD segment's contents lie in the file, filesz <= memsz;
// - resource_table() is that section's bytes, order, address and offset, and its parse() is
//   parse_table of those bytes (copied to a block of their own) in the image's byte order,
//   faults moved to file offsets; the C loop agrees on little-endian ones;
// - load() into a bounded device memory (64 KiB at the first loadable address) either writes
//   exactly what the segments say, in file order, or fails before writing anything;
// - the memory map (with the table as its own live copy) holds one region per loadable segment,
//   table section, carveout, devmem, trace and vring, placed ones by address, and each finding
//   names regions that are as its code says; a buffer too small keeps what fits and says so.
#include <rproc/elf.hpp>
#include <rproc/memory_map.hpp>
#include <rproc/table.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using fuzz::require;

void check_table(const rproc::elf_image& image, std::span<const std::byte> file) {
  std::optional<std::uint32_t> first_named;
  for (const rproc::elf_section s : image.sections()) {
    const std::string_view name = s.name();
    require(fuzz::inside(s.names_from_here, file), "a name's string table lies in the file");
    require(name.size() < s.names_from_here.size(), "every section name ends in its table");
    require(s.name_equals(rproc::elf::table_section_name) == (name == ".resource_table"),
            "name_equals agrees with name");
    if (!first_named && name == ".resource_table") first_named = s.index;
  }
  const auto section = image.table_section();
  require(section.has_value() == first_named.has_value() &&
              (!section || section->index == *first_named),
          "the table is the first section named .resource_table");

  const auto found = image.resource_table();
  const auto warning = image.empty_table_warning();
  if (!section || section->size == 0) {
    require(!found, "no table without a non-empty section");
    require(warning.has_value() == (section && section->size == 0), "empty_table_section");
    return;
  }
  require(!warning, "no empty_table_section for a table with bytes");
  require(section->offset <= file.size() && section->size <= file.size() - section->offset,
          "the table section lies in the file");
  const auto at = static_cast<std::size_t>(section->offset);
  const auto copy = fuzz::exact_copy(file.subspan(at, static_cast<std::size_t>(section->size)));
  require(found.has_value(), "a table where the section has bytes");
  require(found->bytes.data() == file.data() + at && found->bytes.size() == copy.size() &&
              found->order == image.order() && found->da == section->addr &&
              found->file_offset == at,
          "resource_table() gives the section's bytes, order, address and file offset");
  const auto parsed = rproc::parse_table(copy, image.order());
  const auto in_file = found->parse();
  require(in_file.has_value() == parsed.has_value(), "parse() is parse_table");
  if (parsed) {
    fuzz::require_same_values(*in_file, *parsed);
  } else {
    rproc::error moved = parsed.error();
    moved.offset += at;
    require(in_file.error() == moved, "a table fault at its file offset");
  }
  if (image.order() == rproc::endian::little)
    require(fuzz::same_outcome(parsed, fuzz::c_validate(copy, false)), "the C loop agrees");
}

void check_load(const rproc::elf_image& image) {
  constexpr std::size_t device_size = std::size_t{1} << 16;
  bool any_load = false;
  std::optional<std::uint64_t> base;
  for (const rproc::elf_segment s : image.segments()) {
    if (!s.is_load()) continue;
    any_load = true;
    require(s.filesz <= s.memsz && s.contents.size() == s.filesz, "a PT_LOAD's contents");
    require(fuzz::inside(s.contents, image.bytes()), "a PT_LOAD's contents lie in the file");
    if (!base && s.memsz > 0) base = s.paddr & ~std::uint64_t{0xFFF};
  }
  const std::uint64_t from = base.value_or(0);
  std::vector<std::byte> device(device_size, std::byte{0xA5});
  const auto translate = [&](std::uint64_t da,
                             std::size_t length) -> std::optional<std::span<std::byte>> {
    if (da < from || da - from > device_size || length > device_size - (da - from))
      return std::nullopt;
    return std::span(device).subspan(static_cast<std::size_t>(da - from), length);
  };

  // What the loader must do, worked out segment by segment.
  std::vector<std::byte> expected = device;
  std::optional<rproc::elf_segment> unmapped;
  for (const rproc::elf_segment s : image.segments()) {
    if (!s.is_load() || s.memsz == 0) continue;
    if (!translate(s.paddr, static_cast<std::size_t>(s.memsz))) {
      unmapped = s;
      break;
    }
    const auto target = expected.begin() + static_cast<std::ptrdiff_t>(s.paddr - from);
    const auto zeros = std::copy(s.contents.begin(), s.contents.end(), target);
    std::fill(zeros, target + static_cast<std::ptrdiff_t>(s.memsz), std::byte{0});
  }

  const auto loaded = image.load(translate);
  if (!any_load) {
    require(!loaded && loaded.error().code == rproc::errc::elf_no_loadable_segments,
            "elf_no_loadable_segments");
  } else if (unmapped) {
    require(!loaded && loaded.error().code == rproc::errc::segment_not_mapped &&
                loaded.error().offset == unmapped->header_offset &&
                loaded.error().value == unmapped->paddr,
            "segment_not_mapped names the first segment that does not translate");
  } else {
    require(loaded.has_value(), "an image whose segments all translate loads");
  }
  if (!loaded) {
    require(std::ranges::all_of(device, [](std::byte b) { return b == std::byte{0xA5}; }),
            "a failed load writes nothing");
  } else {
    require(device == expected, "a load writes exactly the segments, in file order");
  }
}

// Whether the finding's premise holds of the regions it names.
bool finding_holds(const rproc::map_finding& f, std::span<const rproc::map_region> regions) {
  using rproc::region_kind;
  const rproc::map_region& r = regions[f.region];
  if (!f.other) {
    const bool held = std::ranges::any_of(regions, [&](const rproc::map_region& h) {
      if (&h == &r || h.assigned) return false;
      if (f.code == rproc::finding_code::table_outside_segments)
        return h.kind == region_kind::segment && h.contains(r);
      const bool memory = h.kind == region_kind::segment || h.kind == region_kind::devmem ||
                          (h.kind == region_kind::carveout && h.fixed);
      return memory && h.overlaps(r);
    });
    if (held) return false;
    if (f.code == rproc::finding_code::table_outside_segments) return r.kind == region_kind::table;
    return f.code == rproc::finding_code::outside_firmware_memory &&
           (r.kind == region_kind::trace || (r.kind == region_kind::vring && r.fixed));
  }
  const rproc::map_region& o = regions[*f.other];
  if (*f.other == f.region || !r.overlaps(o) || r.assigned || o.assigned) return false;
  const auto buffer = [](region_kind k) {
    return k == region_kind::table || k == region_kind::trace || k == region_kind::vring;
  };
  switch (f.code) {
    case rproc::finding_code::vring_overlaps_segment:
      return r.kind == region_kind::vring && o.kind == region_kind::segment;
    case rproc::finding_code::segment_straddles_carveout:
      return r.kind == region_kind::segment && o.kind == region_kind::carveout && !o.contains(r);
    case rproc::finding_code::buffers_overlap: return buffer(r.kind) && buffer(o.kind);
    case rproc::finding_code::regions_overlap: return !r.contains(o) && !o.contains(r);
    default: return false;
  }
}

void check_map(const rproc::elf_image& image) {
  const auto located = image.resource_table();
  const rproc::map_sources sources{.image = image, .table = located, .live = located};
  const std::size_t count = rproc::map_region_count(sources);
  std::size_t expected = located ? 1 : 0;
  for (const rproc::elf_segment s : image.segments()) expected += s.is_load() && s.memsz != 0;
  rproc::table_view table{};  // no entries when there is no valid table
  if (const auto parsed = located ? located->parse() : rproc::result<rproc::table_view>(table))
    table = *parsed;
  for (const rproc::resource_entry e : table) {
    if (const auto v = e.as<rproc::vdev_entry>()) expected += v->num_of_vrings();
    else if (e.as<rproc::carveout_entry>() || e.as<rproc::devmem_entry>() ||
             e.as<rproc::trace_entry>())
      ++expected;
  }
  require(count == expected, "one region per segment, section, memory entry and vring");

  std::vector<rproc::map_region> regions(count);
  std::vector<rproc::map_finding> findings(std::min<std::size_t>(count * (count + 1) / 2, 4096));
  const auto map = rproc::make_memory_map(sources, regions, findings);
  require(map.regions.size() == count && map.regions_omitted == 0,
          "every region in a buffer that fits");
  for (std::size_t i = 0; i + 1 < count; ++i) {
    const auto& a = map.regions[i];
    const auto& b = map.regions[i + 1];
    require(a.placed() || !b.placed(), "unplaced regions last");
    require(!b.placed() || *a.da <= *b.da, "placed regions by address");
  }
  for (const rproc::map_region& r : map.regions)
    require(r.placed() == (r.fixed || r.assigned) && !(r.fixed && r.assigned),
            "a region is placed by its firmware or by the host");
  for (std::size_t k = 0; k < map.findings.size(); ++k) {
    const auto& f = map.findings[k];
    require(f.region < count && (!f.other || *f.other < count), "a finding names regions");
    require(finding_holds(f, map.regions), "a finding's regions are as its code says");
    for (std::size_t m = 0; m < k; ++m) require(!(map.findings[m] == f), "no finding twice");
  }
  if (!map.findings_truncated) {
    // Every fixed vring over a segment is found (the rule with the simplest premise).
    std::size_t pairs = 0;
    for (const auto& v : map.regions)
      for (const auto& s : map.regions)
        pairs += v.kind == rproc::region_kind::vring && v.fixed &&
                 s.kind == rproc::region_kind::segment && v.overlaps(s);
    require(pairs == static_cast<std::size_t>(std::ranges::count(
                         map.findings, rproc::finding_code::vring_overlaps_segment,
                         &rproc::map_finding::code)),
            "every fixed vring over a segment is a finding");
  }

  // Buffers a third of the size: what fits, and the count of what did not.
  std::vector<rproc::map_region> few(count / 3);
  std::vector<rproc::map_finding> fewer(map.findings.size() / 3);
  const auto small = rproc::make_memory_map(sources, few, fewer);
  require(small.regions.size() == few.size() && small.regions_omitted == count - few.size(),
          "a small buffer keeps what fits and counts the rest");
  require(small.findings.size() <= fewer.size(), "findings stay in their buffer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = fuzz::exact_copy(fuzz::as_bytes(data, size));
  const auto image = rproc::read_elf(file);
  if (!image) {
    const rproc::error& e = image.error();
    require(e.code >= rproc::errc::elf_too_small && e.code <= rproc::errc::table_out_of_bounds,
            "an ELF fault code");
    require(!e.entry, "an ELF fault has no entry");
    require(e.offset < std::max<std::size_t>(size, 1), "an ELF fault lies in the file");
    require(rproc::message(e).size() > 0, "a message for every fault");
    return 0;
  }
  require(image->bytes().data() == file.data() && image->bytes().size() == file.size(),
          "the image views the file");
  check_table(*image, file);
  check_load(*image);
  check_map(*image);
  return 0;
}
