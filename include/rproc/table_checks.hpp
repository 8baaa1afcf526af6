// The checks of SPEC section 2 on a resource table, in SPEC's order: one loop over plain bytes,
// shared by every byte order and by read-only and writable tables, so that a firmware carries it
// once (scripts/firmware-size.sh) and a host's compiler sees loads and compares (bench_table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "bytes.hpp"
#include "error.hpp"
#include "layout.hpp"

namespace rproc::detail {

// A table's first fault as check_table finds it (parse_table makes an rproc::error of it).
struct table_fault {
  errc code;
  std::uint32_t entry;  // no_entry for a fault in the header
  std::size_t offset, value;
};
inline constexpr std::uint32_t no_entry = 0xFFFFFFFF;  // an entry index is below 2^30

// Every fault is recorded out of line and off the hot path: a check costs a compare and a call.
[[gnu::cold, gnu::noinline]] constexpr bool record_fault(table_fault& fault, errc code,
                                                         std::size_t offset, std::uint32_t entry,
                                                         std::size_t value) noexcept {
  fault = {code, entry, offset, value};
  return false;
}
[[gnu::cold, gnu::noinline]] constexpr bool record_fault(table_fault& fault, errc code,
                                                         std::size_t offset,
                                                         std::size_t value) noexcept {
  fault = {code, no_entry, offset, value};
  return false;
}

// Always inlined, also under -Os: a call would cost more than the load (and swap) it wraps.
template <auto Order>
[[gnu::always_inline]] constexpr std::uint32_t word_at(const std::byte* p,
                                                       order_holder<Order> order) noexcept {
  if (!std::is_constant_evaluated()) {
    std::uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return order.value() == endian::native ? v : __builtin_bswap32(v);
  }
  return load<std::uint32_t>(p, order.value());
}

// A carveout and a devmem share one layout; a trace has the same shape, smaller.
static_assert(layout::carveout::size == layout::devmem::size &&
              layout::carveout::reserved.offset == layout::devmem::reserved.offset);

// True when the `size` bytes at `t` are a valid table in byte order `order` (endian::little or
// big known at compile time, or dynamic_endian), its entry count in `num`; else false and the
// first fault in `fault`. Every size computation is free of overflow and no read leaves the bytes.
template <auto Order>
constexpr bool check_table(const std::byte* t, std::size_t size, order_holder<Order> order,
                           bool strict, std::uint32_t& num, table_fault& fault) noexcept {
  using header = layout::header;
  if (size < header::size) return record_fault(fault, errc::table_too_small, 0, size);
  if (const std::uint32_t ver = word_at(t + header::ver.offset, order); ver != 1)
    return record_fault(fault, errc::unsupported_version, header::ver.offset, ver);
  const std::uint32_t count = word_at(t + header::num.offset, order);
  for (const std::size_t at : {header::reserved0.offset, header::reserved1.offset})
    if (const std::uint32_t r = word_at(t + at, order); r != 0)
      return record_fault(fault, errc::header_reserved_nonzero, at, r);
  // Divided, not multiplied: 4 * count would wrap where size_t has 32 bits.
  if (count > (size - header::size) / 4)
    return record_fault(fault, errc::offsets_truncated, header::num.offset, count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t slot = header::offsets + std::size_t{i} * 4;
    const std::uint32_t at = word_at(t + slot, order);
    if (at > size - layout::type.width)
      return record_fault(fault, errc::entry_offset_out_of_bounds, slot, i, at);
    const std::uint32_t type = word_at(t + at, order);
    const std::size_t room = size - at;  // from the type word to the end of the table
    if (type <= static_cast<std::uint32_t>(resource_type::trace)) {
      const bool trace = type == static_cast<std::uint32_t>(resource_type::trace);
      const std::size_t reserved = at + (trace ? layout::trace::reserved.offset
                                               : layout::carveout::reserved.offset);
      if (room < (trace ? layout::trace::size : layout::carveout::size))
        return record_fault(fault, errc::entry_truncated, at, i, type);
      if (const std::uint32_t r = word_at(t + reserved, order); r != 0)
        return record_fault(fault, errc::entry_reserved_nonzero, reserved, i, r);
    } else if (type == static_cast<std::uint32_t>(resource_type::vdev)) {
      using vdev = layout::vdev;
      if (room < vdev::size) return record_fault(fault, errc::entry_truncated, at, i, type);
      const auto nvrings = std::to_integer<std::uint8_t>(t[at + vdev::num_of_vrings.offset]);
      const std::uint32_t config_len = word_at(t + at + vdev::config_len.offset, order);
      const std::size_t after = room - vdev::size;  // after the fixed body
      const std::size_t vring_bytes = std::size_t{nvrings} * layout::vring::size;
      if (vring_bytes > after)
        return record_fault(fault, errc::vdev_truncated, at + vdev::num_of_vrings.offset, i,
                            nvrings);
      if (config_len > after - vring_bytes)
        return record_fault(fault, errc::vdev_truncated, at + vdev::config_len.offset, i,
                            config_len);
      for (std::size_t r = at + vdev::reserved.offset; r < at + vdev::reserved.end(); ++r)
        if (t[r] != std::byte{0})
          return record_fault(fault, errc::entry_reserved_nonzero, r, i,
                              std::to_integer<std::uint8_t>(t[r]));
      if (nvrings > vdev::max_vrings)
        return record_fault(fault, errc::vdev_too_many_vrings, at + vdev::num_of_vrings.offset, i,
                            nvrings);
      for (std::size_t v = at + vdev::vrings; v < at + vdev::vrings + vring_bytes;
           v += layout::vring::size)
        for (const std::size_t field : {layout::vring::num.offset, layout::vring::align.offset})
          if (word_at(t + v + field, order) == 0)
            return record_fault(fault, errc::vring_invalid, v + field, i, 0);
    } else if (strict && kind_of(type) == entry_kind::unknown) {
      return record_fault(fault, errc::unknown_resource_type, at, i, type);
    }
  }
  num = count;
  return true;
}

}  // namespace rproc::detail
