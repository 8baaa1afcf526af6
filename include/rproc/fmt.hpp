// {fmt} formatters for rproc's values, printing a table the way readelf prints an image: every
// field, addresses in hex, FW_RSC_ADDR_ANY named, vdev status bits and features decoded.
//
//   fmt::print("{}\n", table);        // rproc::table_view: header, offsets, every entry
//   fmt::print("{}\n", entry);        // rproc::resource_entry or any typed view (vdev_entry...)
//   fmt::print("{}\n", result.error());   // rproc::error: its message; rproc::errc: its name
//   fmt::print("{}\n", rproc::escaped{path});  // text from a file, bytes that could drive a
//                                               // terminal escaped
//
// Optional: the core (rproc.hpp) never includes it. Without {fmt} this header defines nothing
// but RPROC_HAS_FMT (0).
#pragma once

#if __has_include(<fmt/format.h>)
#define RPROC_HAS_FMT 1

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <type_traits>

#include "crash.hpp"
#include "elf.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "table.hpp"

namespace rproc {
// Text from a file (a path, a resource name) printed with every byte outside printable ASCII, and
// the backslash, escaped as \xNN: a name is data and must not drive the terminal it is printed on.
struct escaped {
  std::string_view text;
};
}  // namespace rproc

namespace rproc::fmt_detail {

// The formatters below take no format spec: "{}" only.
struct no_spec {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    const auto it = ctx.begin();
    if (it != ctx.end() && *it != '}') throw fmt::format_error("rproc's formatters take no spec");
    return it;
  }
};

struct bit_name {
  std::uint32_t bit;
  std::string_view name;
};

inline constexpr bit_name vdev_status_bits[] = {
    {virtio::status_acknowledge, "ACKNOWLEDGE"}, {virtio::status_driver, "DRIVER"},
    {virtio::status_driver_ok, "DRIVER_OK"},     {virtio::status_features_ok, "FEATURES_OK"},
    {virtio::status_needs_reset, "NEEDS_RESET"}, {virtio::status_failed, "FAILED"}};

// Feature bits of the low 32: rpmsg's own, then the transport's (virtio 1.x, section 6).
inline constexpr bit_name rpmsg_feature_bits[] = {{1u << 0, "VIRTIO_RPMSG_F_NS"}};
inline constexpr bit_name transport_feature_bits[] = {
    {1u << 24, "VIRTIO_F_NOTIFY_ON_EMPTY"},
    {1u << 27, "VIRTIO_F_ANY_LAYOUT"},
    {1u << 28, "VIRTIO_RING_F_INDIRECT_DESC"},
    {1u << 29, "VIRTIO_RING_F_EVENT_IDX"}};

// Linux's IOMMU protection bits, which carveout and devmem flags carry.
inline constexpr bit_name iommu_bits[] = {{1u << 0, "IOMMU_READ"},   {1u << 1, "IOMMU_WRITE"},
                                          {1u << 2, "IOMMU_CACHE"},  {1u << 3, "IOMMU_NOEXEC"},
                                          {1u << 4, "IOMMU_MMIO"},   {1u << 5, "IOMMU_PRIV"}};

constexpr std::string_view virtio_device_name(std::uint32_t id) noexcept {
  switch (id) {
    case 1: return "net";
    case 2: return "block";
    case 3: return "console";
    case 4: return "rng";
    case 5: return "balloon";
    case virtio::id_rpmsg: return "rpmsg";
    case 9: return "9p";
    case 11: return "rproc-serial";
    case 19: return "vsock";
    default: return {};
  }
}

constexpr std::string_view machine_name(std::uint16_t machine) noexcept {
  switch (machine) {
    case 3: return "x86";
    case 8: return "MIPS";
    case 40: return "ARM";
    case 62: return "x86-64";
    case 94: return "Xtensa";
    case 140: return "TI C6000";
    case 144: return "TI PRU";
    case 164: return "Hexagon QDSP6";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    default: return {};
  }
}

// "0x0" or "0x7 (ACKNOWLEDGE|DRIVER|DRIVER_OK)"; bits without a name follow as hex.
template <class Out>
Out put_bits(Out out, std::uint32_t value, std::span<const bit_name> names,
             std::span<const bit_name> more = {}) {
  out = fmt::format_to(out, "{:#x}", value);
  std::uint32_t left = value;
  std::string_view separator = " (";
  for (const auto list : {names, more}) {
    for (const bit_name& b : list) {
      if ((left & b.bit) == 0) continue;
      out = fmt::format_to(out, "{}{}", separator, b.name);
      separator = "|";
      left &= ~b.bit;
    }
  }
  if (left == value) return out;  // nothing named
  if (left != 0) out = fmt::format_to(out, "|{:#x}", left);
  return fmt::format_to(out, ")");
}

// A device or physical address: hex, and "the host chooses" named.
template <class Out>
Out put_address(Out out, std::uint32_t value) {
  if (value == fw_rsc_addr_any) return fmt::format_to(out, "{:#x} (FW_RSC_ADDR_ANY)", value);
  return fmt::format_to(out, "{:#x}", value);
}

template <class Out>
Out put_length(Out out, std::uint32_t value) {
  if (value < 10) return fmt::format_to(out, "{:#x}", value);
  return fmt::format_to(out, "{:#x} ({})", value, value);
}

// rproc::escaped's text; `quote` is escaped too.
template <class Out>
Out put_escaped(Out out, std::string_view text, char quote = '\\') {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      *out++ = '\\';
      *out++ = c;
    } else if (u < 0x20 || u > 0x7E) {
      out = fmt::format_to(out, "\\x{:02x}", u);
    } else {
      *out++ = c;
    }
  }
  return out;
}

// A resource name, quoted and escaped.
template <class Out>
Out put_name(Out out, std::string_view name) {
  *out++ = '"';
  out = put_escaped(out, name, '"');
  *out++ = '"';
  return out;
}

template <class Out>
Out put_label(Out out, std::string_view indent, std::string_view label) {
  return fmt::format_to(out, "\n{}{:<15}", indent, label);
}

template <class Out, class Byte>
Out put_vring(Out out, const basic_vring<Byte>& r) {
  out = fmt::format_to(out, "da ");
  out = put_address(out, r.da());
  out = fmt::format_to(out, ", align {}, num {}, notifyid {}, pa ", r.align(), r.num(),
                       r.notifyid());
  return put_address(out, r.pa());
}

template <class Out>
Out put_features(Out out, std::uint32_t device_id, std::uint32_t value) {
  if (device_id == virtio::id_rpmsg)
    return put_bits(out, value, rpmsg_feature_bits, transport_feature_bits);
  return put_bits(out, value, transport_feature_bits);
}

// "[index] kind (type N) at offset 0x..", then one line per field, indented by `indent`.
template <class Out, class Byte>
Out put_heading(Out out, const detail::entry_base<Byte>& e, entry_kind kind) {
  return fmt::format_to(out, "[{}] {} (type {}) at offset {:#x}", e.index(), to_string(kind),
                        e.type_id(), e.offset());
}

template <class Out, class Byte, entry_kind Kind>
Out put_entry(Out out, const basic_memory_entry<Byte, Kind>& m, std::string_view indent) {
  out = put_heading(out, m, Kind);
  out = put_address(put_label(out, indent, "da"), m.da());
  out = put_address(put_label(out, indent, "pa"), m.pa());
  out = put_length(put_label(out, indent, "len"), m.len());
  out = put_bits(put_label(out, indent, "flags"), m.flags(), iommu_bits);
  out = fmt::format_to(put_label(out, indent, "reserved"), "{}", m.reserved());
  return put_name(put_label(out, indent, "name"), m.name());
}

template <class Out, class Byte>
Out put_entry(Out out, const basic_trace_entry<Byte>& t, std::string_view indent) {
  out = put_heading(out, t, entry_kind::trace);
  out = put_address(put_label(out, indent, "da"), t.da());
  out = put_length(put_label(out, indent, "len"), t.len());
  out = fmt::format_to(put_label(out, indent, "reserved"), "{}", t.reserved());
  return put_name(put_label(out, indent, "name"), t.name());
}

template <class Out, class Byte>
Out put_entry(Out out, const basic_vdev_entry<Byte>& v, std::string_view indent) {
  out = put_heading(out, v, entry_kind::vdev);
  out = fmt::format_to(put_label(out, indent, "id"), "{}", v.id());
  if (const auto name = virtio_device_name(v.id()); !name.empty())
    out = fmt::format_to(out, " ({})", name);
  out = fmt::format_to(put_label(out, indent, "notifyid"), "{}", v.notifyid());
  out = put_features(put_label(out, indent, "dfeatures"), v.id(), v.dfeatures());
  out = put_features(put_label(out, indent, "gfeatures"), v.id(), v.gfeatures());
  out = fmt::format_to(put_label(out, indent, "config_len"), "{}", v.config_len());
  out = put_bits(put_label(out, indent, "status"), v.status(), vdev_status_bits);
  out = fmt::format_to(put_label(out, indent, "num_of_vrings"), "{}", v.num_of_vrings());
  out = fmt::format_to(put_label(out, indent, "reserved"), "{} {}", v.reserved()[0],
                       v.reserved()[1]);
  for (const auto r : v.vrings())
    out = put_vring(put_label(out, indent, fmt::format("vring {}", r.index())), r);
  out = put_label(out, indent, "config");
  if (v.config().empty()) return fmt::format_to(out, "(none)");
  const char* separator = "";
  for (const auto b : v.config()) {
    out = fmt::format_to(out, "{}{:02x}", separator, std::to_integer<unsigned>(b));
    separator = " ";
  }
  return out;
}

// Type 128 is also shown as AMD's crash report (crash.hpp), which it is on AMD's platforms.
template <class Out, class Byte>
Out put_entry(Out out, const basic_vendor_entry<Byte>& v, std::string_view indent) {
  out = fmt::format_to(put_heading(out, v, entry_kind::vendor), ", for the platform");
  const auto report = v.type_id() == amd_crash_report_type ? read_crash_report(v) : std::nullopt;
  if (!report) return out;
  out = fmt::format_to(put_label(out, indent, "crash_state"), "{} ({}, as AMD's crash report)",
                       report->crash_state, report->crashed() ? "crashed" : "not crashed");
  return fmt::format_to(put_label(out, indent, "crash_reason"), "{} ({})", report->reason_word,
                        to_string(report->reason()));
}

template <class Out, class Byte>
Out put_entry(Out out, const basic_unknown_entry<Byte>& u, std::string_view) {
  return fmt::format_to(put_heading(out, u, entry_kind::unknown), ", skipped");
}

template <class Out, class Byte>
Out put_entry(Out out, const basic_resource_entry<Byte>& e, std::string_view indent) {
  return e.visit([&](const auto& typed) { return put_entry(out, typed, indent); });
}

template <class Out, class Byte>
Out put_table(Out out, const basic_table_view<Byte>& t) {
  out = fmt::format_to(out, "Resource table: version {}, {} {}, {} bytes", t.ver(), t.num(),
                       t.num() == 1 ? "entry" : "entries", t.size_bytes());
  // The size of a vendor or unknown entry is not known, so neither is where the padding starts.
  bool sizes_known = true;
  for (const auto e : t)
    sizes_known = sizes_known && e.kind() != entry_kind::vendor && e.kind() != entry_kind::unknown;
  if (const std::size_t used = t.used_bytes(); sizes_known && used < t.size_bytes())
    out = fmt::format_to(out, " ({} used, then padding)", used);
  out = fmt::format_to(out, ", {}-endian", t.order() == endian::big ? "big" : "little");
  if (t.num() > 0) {
    out = fmt::format_to(out, "\n  Entry offsets:");
    for (std::uint32_t i = 0; i < t.num(); ++i) out = fmt::format_to(out, " {:#x}", t.offset(i));
  }
  for (const auto e : t) out = put_entry(fmt::format_to(out, "\n  "), e, "      ");
  return out;
}

}  // namespace rproc::fmt_detail

template <>
struct fmt::formatter<rproc::errc> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(rproc::errc code, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(rproc::to_string(code), ctx);
  }
};

template <>
struct fmt::formatter<rproc::entry_kind> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(rproc::entry_kind kind, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(rproc::to_string(kind), ctx);
  }
};

// "entry 2: vring_invalid at offset 0x5c: a vring has num 0 or align 0 (found 0x0)"
template <>
struct fmt::formatter<rproc::error> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const rproc::error& e, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(rproc::message(e).view(), ctx);
  }
};

template <class Byte>
struct fmt::formatter<rproc::basic_table_view<Byte>> : rproc::fmt_detail::no_spec {
  template <class FormatContext>
  auto format(const rproc::basic_table_view<Byte>& t, FormatContext& ctx) const
      -> decltype(ctx.out()) {
    return rproc::fmt_detail::put_table(ctx.out(), t);
  }
};

// Every entry view: its heading line, then its fields indented by four.
template <class Entry>
  requires std::is_base_of_v<rproc::detail::entry_base<typename Entry::byte_type>, Entry>
struct fmt::formatter<Entry> : rproc::fmt_detail::no_spec {
  template <class FormatContext>
  auto format(const Entry& e, FormatContext& ctx) const -> decltype(ctx.out()) {
    return rproc::fmt_detail::put_entry(ctx.out(), e, "    ");
  }
};

// "da 0xffffffff (FW_RSC_ADDR_ANY), align 16, num 8, notifyid 1, pa 0x0"
template <class Byte>
struct fmt::formatter<rproc::basic_vring<Byte>> : rproc::fmt_detail::no_spec {
  template <class FormatContext>
  auto format(const rproc::basic_vring<Byte>& r, FormatContext& ctx) const
      -> decltype(ctx.out()) {
    return rproc::fmt_detail::put_vring(ctx.out(), r);
  }
};

template <>
struct fmt::formatter<rproc::escaped> : rproc::fmt_detail::no_spec {
  template <class FormatContext>
  auto format(const rproc::escaped& e, FormatContext& ctx) const -> decltype(ctx.out()) {
    return rproc::fmt_detail::put_escaped(ctx.out(), e.text);
  }
};

// "ELF32 little-endian, machine 40 (ARM), entry 0x1ffe035d"
template <>
struct fmt::formatter<rproc::elf_image> : rproc::fmt_detail::no_spec {
  template <class FormatContext>
  auto format(const rproc::elf_image& image, FormatContext& ctx) const -> decltype(ctx.out()) {
    auto out = fmt::format_to(ctx.out(), "ELF{} {}-endian, machine {}", image.bits(),
                              image.order() == rproc::endian::big ? "big" : "little",
                              image.machine());
    if (const auto name = rproc::fmt_detail::machine_name(image.machine()); !name.empty())
      out = fmt::format_to(out, " ({})", name);
    return fmt::format_to(out, ", entry {:#x}", image.entry());
  }
};

#else
#define RPROC_HAS_FMT 0
#endif
