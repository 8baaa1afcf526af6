// A firmware image for lifecycle tests that need no ELF: a table, where the firmware expects it,
// and segments to load.
#pragma once

#include <rproc/builder.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace test {

struct segment {
  std::uint64_t da = 0;
  std::vector<std::byte> bytes;
  std::size_t memsz = 0;
};

struct memory_image {
  std::vector<std::byte> table_bytes;  // empty: no table
  rproc::endian order = rproc::endian::little;
  std::uint64_t table_da = 0;
  std::uint64_t entry = 0;
  std::vector<segment> segments;

  std::uint64_t boot_address() const { return entry; }
  std::optional<rproc::located_table> resource_table() const {
    if (table_bytes.empty()) return std::nullopt;
    return rproc::located_table{table_bytes, order, table_da, std::nullopt};
  }
  // Translates every segment before writing any, as a loader must (a translation may fail any
  // time: it is asked once per segment).
  rproc::result<void> load(const rproc::address_translator& translate) const {
    std::vector<std::span<std::byte>> targets;
    for (const auto& s : segments) {
      targets.push_back(translate(s.da, s.memsz));
      if (targets.back().size() < s.memsz)
        return rproc::error{rproc::errc::segment_not_mapped, 0, std::nullopt, s.da};
    }
    for (std::size_t k = 0; k < segments.size(); ++k)
      for (std::size_t i = 0; i < segments[k].memsz; ++i)
        targets[k][i] = i < segments[k].bytes.size() ? segments[k].bytes[i] : std::byte{0};
    return {};
  }
};

// A Zephyr-like table: a carveout at FW_RSC_ADDR_ANY, an rpmsg vdev with two vrings at
// FW_RSC_ADDR_ANY, a trace buffer in the firmware's RAM.
inline constexpr std::uint32_t trace_da = 0x20008000;
inline constexpr auto zephyr_table = rproc::make_table(
    rproc::rsc::carveout{.len = 0x8000, .name = "heap"},
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rproc::rsc::trace{.da = trace_da, .len = 2048, .name = "Zephyr_log"});
inline constexpr std::uint32_t table_da = 0x20000100;

inline std::vector<std::byte> bytes_of(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

inline memory_image zephyr_image() {
  memory_image image;
  image.table_bytes = bytes_of(zephyr_table);
  image.table_da = table_da;
  image.entry = 0x20000001;
  // The code segment holds the table at its sh_addr, as a linker places .resource_table.
  segment code{0x20000000, std::vector<std::byte>(0x100 + zephyr_table.size(), std::byte{0x5A}),
               0x2000};
  for (std::size_t i = 0; i < zephyr_table.size(); ++i) code.bytes[0x100 + i] = zephyr_table.bytes[i];
  image.segments.push_back(code);
  return image;
}

}  // namespace test
