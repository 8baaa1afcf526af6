// Parsing and validating a resource table: parse_table checks every rule of SPEC section 2 in
// SPEC's order, reports the first fault with its byte offset and entry, never reads outside the
// span, and is free of overflow in every size computation. The table_view it returns gives the
// entries as a random-access range of typed views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"

namespace rproc {

struct parse_options {
  // Treat an unknown resource type (4..127, above 512) as an error instead of a warning.
  bool strict = false;
};

template <class Byte>
class basic_table_view;

namespace detail {

// The warnings of a valid table: one per entry of unknown type, in index order.
template <class Byte>
class warning_range {
 public:
  class iterator {
   public:
    using value_type = warning;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;

    constexpr iterator() = default;
    constexpr iterator(basic_table_view<Byte> table, std::uint32_t at) noexcept
        : table_(table), at_(at) {
      skip();
    }
    constexpr warning operator*() const noexcept {
      const auto e = table_[at_];
      return {errc::unknown_resource_type, e.offset(), e.index(), e.type_id()};
    }
    constexpr iterator& operator++() noexcept {
      ++at_;
      skip();
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      auto t = *this;
      ++*this;
      return t;
    }
    friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.at_ == b.at_;
    }

   private:
    constexpr void skip() noexcept {
      while (at_ < table_.size() && table_[at_].kind() != entry_kind::unknown) ++at_;
    }
    basic_table_view<Byte> table_{};
    std::uint32_t at_ = 0;
  };

  constexpr warning_range() = default;
  constexpr explicit warning_range(basic_table_view<Byte> table) noexcept : table_(table) {}
  constexpr iterator begin() const noexcept { return {table_, 0}; }
  constexpr iterator end() const noexcept { return {table_, table_.size()}; }
  constexpr bool empty() const noexcept { return begin() == end(); }
  constexpr std::size_t size() const noexcept {
    std::size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
  }

 private:
  basic_table_view<Byte> table_{};
};

}  // namespace detail

// A validated resource table: the header, and the entries as a random-access range of
// basic_resource_entry. Only parse_table and parse_mutable_table make one.
template <class Byte>
class basic_table_view {
 public:
  using byte_type = Byte;
  using value_type = basic_resource_entry<Byte>;
  using iterator = detail::index_iterator<basic_table_view, value_type>;
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr basic_table_view() noexcept = default;

  constexpr std::uint32_t ver() const noexcept { return word(layout::ver); }
  constexpr std::uint32_t num() const noexcept { return num_; }
  // All the bytes of the table as given (a table may fill only part of them: padding follows).
  constexpr basic_byte_view<Byte> bytes() const noexcept { return bytes_; }
  constexpr std::size_t size_bytes() const noexcept { return bytes_.size(); }
  constexpr endian order() const noexcept { return bytes_.order(); }

  // The range of entries.
  constexpr std::uint32_t size() const noexcept { return num_; }
  constexpr bool empty() const noexcept { return num_ == 0; }
  constexpr iterator begin() const noexcept { return {*this, 0}; }
  constexpr iterator end() const noexcept { return {*this, num_}; }

  // Entry i's byte offset from offset[i] (i < num()).
  constexpr std::uint32_t offset(std::uint32_t i) const noexcept {
    return word(layout::offsets + std::size_t{i} * 4);
  }
  // Entry i (i < num()).
  constexpr value_type operator[](std::uint32_t i) const noexcept {
    const std::uint32_t at = offset(i);
    return value_type(bytes_.subview(at).value_or(basic_byte_view<Byte>{}), i, at);
  }

  // One warning (unknown_resource_type, entry offset, entry index, type) per unknown entry.
  constexpr detail::warning_range<Byte> warnings() const noexcept {
    return detail::warning_range<Byte>(*this);
  }

  // The end of the last byte any entry uses; bytes after it (to size_bytes()) are padding.
  constexpr std::size_t used_bytes() const noexcept;

  constexpr operator basic_table_view<const std::byte>() const noexcept
    requires is_mutable
  {
    return basic_table_view<const std::byte>(bytes_, num_);
  }

 private:
  template <class>
  friend class basic_table_view;
  template <class B>
  friend constexpr result<basic_table_view<B>> parse_table_bytes(basic_byte_view<B>,
                                                                 parse_options) noexcept;

  constexpr basic_table_view(basic_byte_view<Byte> bytes, std::uint32_t num) noexcept
      : bytes_(bytes), num_(num) {}
  constexpr std::uint32_t word(std::size_t at) const noexcept {
    return bytes_.u32(at).value_or(0);
  }

  basic_byte_view<Byte> bytes_{};
  std::uint32_t num_ = 0;
};

using table_view = basic_table_view<const std::byte>;
using mutable_table_view = basic_table_view<std::byte>;

namespace detail {

constexpr error table_fault(errc code, std::size_t offset, std::uint64_t value) noexcept {
  return {code, offset, std::nullopt, value};
}
constexpr error entry_fault(errc code, std::size_t offset, std::uint32_t entry,
                            std::uint64_t value) noexcept {
  return {code, offset, entry, value};
}

// The checks of SPEC section 2 on one byte order known at compile time (the reads then compile
// to plain loads). Returns num on success.
template <auto Order>
constexpr result<std::uint32_t> validate_table(basic_byte_view<const std::byte, Order> t,
                                               parse_options options) noexcept {
  const std::size_t size = t.size();
  if (size < layout::header_size) return table_fault(errc::table_too_small, 0, size);
  const auto header = *t.subview(0, layout::header_size);
  const std::uint32_t ver = *header.u32(layout::ver);
  if (ver != 1) return table_fault(errc::unsupported_version, layout::ver, ver);
  const std::uint32_t num = *header.u32(layout::num);
  if (const std::uint32_t r = *header.u32(layout::reserved0); r != 0)
    return table_fault(errc::header_reserved_nonzero, layout::reserved0, r);
  if (const std::uint32_t r = *header.u32(layout::reserved1); r != 0)
    return table_fault(errc::header_reserved_nonzero, layout::reserved1, r);
  if (num > (size - layout::header_size) / 4)
    return table_fault(errc::offsets_truncated, layout::num, num);

  for (std::uint32_t i = 0; i < num; ++i) {
    const std::size_t slot = layout::offsets + std::size_t{i} * 4;
    const std::uint32_t at = *t.u32(slot);
    // size >= 16, so size - 4 does not wrap.
    if (at > size - 4) return entry_fault(errc::entry_offset_out_of_bounds, slot, i, at);
    const std::uint32_t type = *t.u32(at);
    const std::size_t left = size - at - 4;  // bytes after the type word
    const auto entry = *t.subview(at);
    switch (kind_of(type)) {
      case entry_kind::carveout:
      case entry_kind::devmem: {
        if (left < layout::carveout::size - 4)
          return entry_fault(errc::entry_truncated, at, i, type);
        const std::uint32_t r = *entry.u32(layout::carveout::reserved);
        if (r != 0)
          return entry_fault(errc::entry_reserved_nonzero, at + layout::carveout::reserved, i, r);
        break;
      }
      case entry_kind::trace: {
        if (left < layout::trace::size - 4)
          return entry_fault(errc::entry_truncated, at, i, type);
        const std::uint32_t r = *entry.u32(layout::trace::reserved);
        if (r != 0)
          return entry_fault(errc::entry_reserved_nonzero, at + layout::trace::reserved, i, r);
        break;
      }
      case entry_kind::vdev: {
        if (left < layout::vdev::size - 4) return entry_fault(errc::entry_truncated, at, i, type);
        const std::uint8_t nvrings = *entry.u8(layout::vdev::num_of_vrings);
        const std::uint32_t config_len = *entry.u32(layout::vdev::config_len);
        const std::size_t room = left - (layout::vdev::size - 4);  // after the fixed body
        const std::size_t vring_bytes = std::size_t{nvrings} * layout::vring::size;
        if (vring_bytes > room)
          return entry_fault(errc::vdev_truncated, at + layout::vdev::num_of_vrings, i, nvrings);
        if (config_len > room - vring_bytes)
          return entry_fault(errc::vdev_truncated, at + layout::vdev::config_len, i, config_len);
        for (std::size_t k = 0; k < 2; ++k) {
          const std::uint8_t r = *entry.u8(layout::vdev::reserved + k);
          if (r != 0)
            return entry_fault(errc::entry_reserved_nonzero, at + layout::vdev::reserved + k, i,
                               r);
        }
        if (nvrings > layout::vdev::max_vrings)
          return entry_fault(errc::vdev_too_many_vrings, at + layout::vdev::num_of_vrings, i,
                             nvrings);
        for (std::size_t k = 0; k < nvrings; ++k) {
          const std::size_t v = layout::vdev::vrings + k * layout::vring::size;
          const std::uint32_t align = *entry.u32(v + layout::vring::align);
          const std::uint32_t count = *entry.u32(v + layout::vring::num);
          if (count == 0)
            return entry_fault(errc::vring_invalid, at + v + layout::vring::num, i, count);
          if (align == 0)
            return entry_fault(errc::vring_invalid, at + v + layout::vring::align, i, align);
        }
        break;
      }
      case entry_kind::vendor: break;
      case entry_kind::unknown:
        if (options.strict) return entry_fault(errc::unknown_resource_type, at, i, type);
        break;
    }
  }
  return num;
}

template <class Byte>
constexpr result<std::uint32_t> validate_any_order(basic_byte_view<Byte> t,
                                                   parse_options options) noexcept {
  const std::span<const std::byte> bytes = t.bytes();
  if (t.order() == endian::big)
    return validate_table(basic_byte_view<const std::byte, endian::big>(bytes), options);
  return validate_table(basic_byte_view<const std::byte, endian::little>(bytes), options);
}

}  // namespace detail

template <class Byte>
constexpr result<basic_table_view<Byte>> parse_table_bytes(basic_byte_view<Byte> bytes,
                                                           parse_options options) noexcept {
  const auto num = detail::validate_any_order(bytes, options);
  if (!num) return num.error();
  return basic_table_view<Byte>(bytes, *num);
}

// Validates `bytes` as a resource table in byte order `order` (the remote's) and returns a view
// of it, or the first fault (offsets are from the first byte of `bytes`).
constexpr result<table_view> parse_table(std::span<const std::byte> bytes,
                                         endian order = endian::little,
                                         parse_options options = {}) noexcept {
  return parse_table_bytes(byte_view(bytes, order), options);
}

// The same, for a live table the host writes into (SPEC section 3).
constexpr result<mutable_table_view> parse_mutable_table(std::span<std::byte> bytes,
                                                         endian order = endian::little,
                                                         parse_options options = {}) noexcept {
  return parse_table_bytes(mutable_byte_view(bytes, order), options);
}

template <class Byte>
constexpr std::size_t basic_table_view<Byte>::used_bytes() const noexcept {
  std::size_t end = layout::header_size + std::size_t{num_} * 4;
  for (const auto e : *this) {
    std::size_t length = 4;
    e.visit(overloaded{
        [&](const basic_carveout_entry<Byte>&) { length = layout::carveout::size; },
        [&](const basic_devmem_entry<Byte>&) { length = layout::carveout::size; },
        [&](const basic_trace_entry<Byte>&) { length = layout::trace::size; },
        [&](const basic_vdev_entry<Byte>& v) {
          length = layout::vdev::size + std::size_t{v.num_of_vrings()} * layout::vring::size +
                   v.config_len();
        },
        [&](const auto&) {}});
    if (e.offset() + length > end) end = e.offset() + length;
  }
  return end < bytes_.size() ? end : bytes_.size();
}

}  // namespace rproc

// The views own nothing and copy in constant time: std::ranges views, usable by value in pipes.
template <class Byte>
inline constexpr bool std::ranges::enable_borrowed_range<rproc::basic_table_view<Byte>> = true;
template <class Byte>
inline constexpr bool std::ranges::enable_view<rproc::basic_table_view<Byte>> = true;
template <class Byte>
inline constexpr bool std::ranges::enable_borrowed_range<rproc::detail::warning_range<Byte>> = true;
template <class Byte>
inline constexpr bool std::ranges::enable_view<rproc::detail::warning_range<Byte>> = true;
