// Parsing and validating a resource table: parse_table checks every rule of SPEC section 2 in
// SPEC's order, reports the first fault with its byte offset and entry, never reads outside the
// span, and is free of overflow in every size computation. The table_view it returns gives the
// entries as a random-access range of typed views.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "table_checks.hpp"

namespace rproc {

struct parse_options {
  // Treat an unknown resource type (4..127, above 512) as an error instead of a warning.
  bool strict = false;
};

template <class Byte>
class basic_table_view;

template <class Byte>
constexpr result<basic_table_view<Byte>> parse_table_bytes(basic_byte_view<Byte>,
                                                           parse_options) noexcept;

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

// A validated resource table: the header, and the entries as a random-access range of
// basic_resource_entry. Only parse_table and parse_mutable_table make one.
template <class Byte>
class basic_table_view {
 public:
  using byte_type = Byte;
  using value_type = basic_resource_entry<Byte>;
  using iterator = index_iterator<basic_table_view, value_type>;
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr basic_table_view() noexcept = default;

  constexpr std::uint32_t ver() const noexcept { return word(layout::header::ver.offset); }
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
    return word(layout::header::offsets + std::size_t{i} * 4);
  }
  // Entry i (i < num()).
  constexpr value_type operator[](std::uint32_t i) const noexcept {
    const std::uint32_t at = offset(i);
    return value_type(bytes_.subview(at).value_or(basic_byte_view<Byte>{}), i, at);
  }

  // One warning (unknown_resource_type, entry offset, entry index, type) per unknown entry.
  constexpr warning_range<Byte> warnings() const noexcept {
    return warning_range<Byte>(*this);
  }

  // The end of the last byte any entry uses; bytes after it (to size_bytes()) are padding.
  constexpr std::size_t used_bytes() const noexcept;

  constexpr operator basic_table_view<detail::dependent_t<const std::byte, Byte>>() const noexcept
    requires is_mutable
  {
    return basic_table_view<detail::dependent_t<const std::byte, Byte>>(bytes_, num_);
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

template <class Byte>
[[gnu::always_inline]] constexpr result<basic_table_view<Byte>> parse_table_bytes(
    basic_byte_view<Byte> bytes, parse_options options) noexcept {
  const std::byte* t = bytes.bytes().data();
  const endian order = bytes.order();
  std::uint32_t num = 0;
  detail::table_fault fault;
  bool valid;
  // A byte order the compiler knows here (parse_table inlined into a call that names it) gets the
  // checks with plain loads; any other, one copy of them that swaps when it must.
  if (__builtin_constant_p(order) && order == endian::little)
    valid = detail::check_table<endian::little>(t, bytes.size(), {}, options.strict, num, fault);
  else if (__builtin_constant_p(order) && order == endian::big)
    valid = detail::check_table<endian::big>(t, bytes.size(), {}, options.strict, num, fault);
  else
    valid = detail::check_table<dynamic_endian>(t, bytes.size(),
                                                detail::order_holder<dynamic_endian>(order),
                                                options.strict, num, fault);
  if (!valid)
    return error{fault.code, fault.offset,
                 fault.entry == detail::no_entry ? std::nullopt
                                                 : std::optional<std::uint32_t>(fault.entry),
                 fault.value};
  return basic_table_view<Byte>(bytes, num);
}

// Validates `bytes` (a std::span<const std::byte>, or anything that converts to one) as a resource
// table in byte order `order` (the remote's) and returns a view of it, or the first fault (offsets
// are from the first byte of `bytes`). It returns a result<table_view>, spelled through
// detail::dependent_t so that it is instantiated where parse_table is called.
template <class Bytes = std::span<const std::byte>>
  requires std::convertible_to<const Bytes&, std::span<const std::byte>>
[[gnu::always_inline]] constexpr result<basic_table_view<detail::dependent_t<const std::byte, Bytes>>>
parse_table(const Bytes& bytes, endian order = endian::little, parse_options options = {}) noexcept {
  using byte = detail::dependent_t<const std::byte, Bytes>;
  return parse_table_bytes(basic_byte_view<byte>(bytes, order), options);
}

// The same, for a live table the host writes into (SPEC section 3).
template <class Bytes = std::span<std::byte>>
  requires std::convertible_to<Bytes, std::span<std::byte>>
constexpr result<basic_table_view<detail::dependent_t<std::byte, Bytes>>> parse_mutable_table(
    Bytes&& bytes, endian order = endian::little, parse_options options = {}) noexcept {
  using byte = detail::dependent_t<std::byte, Bytes>;
  const std::span<byte> writable = std::forward<Bytes>(bytes);
  return parse_table_bytes(basic_byte_view<byte>(writable, order), options);
}

// A field a host writes into a live table (SPEC section 3), where it lies: its offset in the
// table, its description in layout.hpp, and for a vring's field, which vring of its vdev.
struct host_field {
  std::size_t offset = 0;
  field what{};
  std::optional<std::uint32_t> vring{};

  constexpr std::size_t end() const noexcept { return offset + what.width; }
};

namespace detail {
// Calls visit.operator()<Holder>(at, vring) for each holder of layout.hpp in `entry` whose fields
// a host may write, where it lies: the entry itself, and each vring of a vdev before the vdev's
// own fields (its status last: the status is what publishes the rest).
template <class Byte, class Visit>
constexpr void for_each_holder_of(const basic_resource_entry<Byte>& entry, Visit&& visit) {
  const std::size_t at = entry.offset();
  switch (entry.kind()) {
    case entry_kind::carveout: visit.template operator()<layout::carveout>(at, std::nullopt); break;
    case entry_kind::devmem: visit.template operator()<layout::devmem>(at, std::nullopt); break;
    case entry_kind::trace: visit.template operator()<layout::trace>(at, std::nullopt); break;
    case entry_kind::vdev: {
      const std::uint32_t vrings = entry.template get<layout::vdev::num_of_vrings>();
      for (std::uint32_t k = 0; k < vrings; ++k)
        visit.template operator()<layout::vring>(
            at + layout::vdev::vrings + std::size_t{k} * layout::vring::size, k);
      visit.template operator()<layout::vdev>(at, std::nullopt);
      break;
    }
    case entry_kind::vendor:
    case entry_kind::unknown: break;
  }
}

struct byte_run {
  std::size_t offset = 0, length = 0;
};
// The host's fields of `Holder`, adjacent ones merged (a carveout's da, pa and len are one run of
// 12 bytes), worked out at compile time.
template <class Holder>
constexpr auto host_runs() noexcept {
  constexpr std::size_t count = [] {
    std::size_t n = 0, end = 0;
    for (const field& f : Holder::fields)
      if (f.host_writes()) {
        if (n == 0 || f.offset != end) ++n;
        end = f.end();
      }
    return n;
  }();
  std::array<byte_run, count> runs{};
  std::size_t n = 0;
  for (const field& f : Holder::fields) {
    if (!f.host_writes()) continue;
    if (n > 0 && runs[n - 1].offset + runs[n - 1].length == f.offset)
      runs[n - 1].length += f.width;
    else
      runs[n++] = {f.offset, f.width};
  }
  return runs;
}
template <class Holder>
inline constexpr auto host_runs_of = host_runs<Holder>();

// Calls f(offset, length) for each run of bytes a host writes into `entry`: the bytes of
// for_each_host_field_of in fewer calls, for the hot loops of the clean copy and of
// check_host_fields.
template <class Byte, class F>
constexpr void for_each_host_run_of(const basic_resource_entry<Byte>& entry, F&& f) {
  for_each_holder_of(entry, [&]<class Holder>(std::size_t at, std::optional<std::uint32_t>) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(at + host_runs_of<Holder>[I].offset, host_runs_of<Holder>[I].length), ...);
    }(std::make_index_sequence<host_runs_of<Holder>.size()>{});
  });
}
}  // namespace detail

// Calls f(host_field) for each field a host writes into entry `entry` of a live table, as
// layout.hpp marks them: a carveout's da, pa and len; a vdev's vrings' da and notifyid, then its
// gfeatures and status (last: the status is what publishes the rest).
template <class Byte, class F>
constexpr void for_each_host_field_of(const basic_resource_entry<Byte>& entry, F&& f) {
  detail::for_each_holder_of(
      entry, [&]<class Holder>(std::size_t at, std::optional<std::uint32_t> vring) {
        // Which fields is decided at compile time.
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          ([&] {
            if constexpr (Holder::fields[I].host_writes())
              f(host_field{at + Holder::fields[I].offset, Holder::fields[I], vring});
          }(), ...);
        }(std::make_index_sequence<Holder::fields.size()>{});
      });
}

// The same for every entry, in index order.
template <class Byte, class F>
constexpr void for_each_host_field(const basic_table_view<Byte>& table, F&& f) {
  for (const auto entry : table) for_each_host_field_of(entry, f);
}

namespace detail {
// True when the entries follow one another after the offset array, in the order of their
// offsets, each ending (as far as its type word, a vdev's config_len and num_of_vrings, and the
// host's fields reach) before the next begins. Then no host field can lie over the header or
// over another entry, and check_host_fields needs no walk of every pair. Every table of the
// corpus is laid out so.
template <class Byte>
constexpr bool entries_in_sequence(const basic_table_view<Byte>& table) noexcept {
  std::size_t free_from = layout::header::size + std::size_t{table.num()} * 4;
  for (const auto entry : table) {
    const std::size_t at = entry.offset();
    if (at < free_from) return false;
    std::size_t reach = at + (entry.kind() == entry_kind::vdev ? layout::vdev::num_of_vrings.end()
                                                               : layout::type.end());
    detail::for_each_host_run_of(entry, [&](std::size_t at, std::size_t length) {
      if (at + length > reach) reach = at + length;
    });
    free_from = reach;
  }
  return true;
}
}  // namespace detail

// Refuses a table where a field the host writes lies over the header, the offset array, or the
// bytes that give an entry its type and size (type word; a vdev's config_len, num_of_vrings):
// the format allows entries to overlap, but writing such a field would reshape the table.
template <class Byte>
constexpr result<void> check_host_fields(const basic_table_view<Byte>& table) noexcept {
  if (detail::entries_in_sequence(table)) return {};  // the common layout: nothing can overlap
  const std::size_t header_end = layout::header::size + std::size_t{table.num()} * 4;
  std::optional<detail::dependent_t<error, Byte>> fault;
  for (const auto entry : table) {
    detail::for_each_host_run_of(entry, [&](std::size_t written, std::size_t length) {
      if (fault) return;
      const auto overlaps = [&](std::size_t at, const field& shape) {
        return written < at + shape.end() && at + shape.offset < written + length;
      };
      bool reshapes = written < header_end;
      for (const auto other : table) {
        const std::size_t o = other.offset();
        reshapes = reshapes || overlaps(o, layout::type);
        if (other.kind() == entry_kind::vdev)
          reshapes = reshapes || overlaps(o, layout::vdev::config_len) ||
                     overlaps(o, layout::vdev::num_of_vrings);
      }
      if (reshapes) fault = error{errc::entries_overlap, written, entry.index(), written};
    });
  }
  if (fault) return *fault;
  return {};
}

template <class Byte>
constexpr std::size_t basic_table_view<Byte>::used_bytes() const noexcept {
  std::size_t end = layout::header::size + std::size_t{num_} * 4;
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
inline constexpr bool std::ranges::enable_borrowed_range<rproc::warning_range<Byte>> = true;
template <class Byte>
inline constexpr bool std::ranges::enable_view<rproc::warning_range<Byte>> = true;
