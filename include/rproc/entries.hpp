// Typed views of the entries of a resource table: carveout, devmem, trace, vdev (with its vrings
// and config space), vendor and unknown. A view is a window on the table's bytes, valid as long
// as those bytes are; the read-only views read, the mutable ones also write the fields a host
// writes into a live table (SPEC section 3), in the table's byte order.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "bytes.hpp"
#include "index_iterator.hpp"
#include "layout.hpp"

namespace rproc {

// Builds a visitor from lambdas: entry.visit(rproc::overloaded{[](rproc::vdev_entry v) {...}, ...}).
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

namespace detail {

// The bytes of an entry or of a vring, read and written field by field as layout.hpp describes
// them. Fields of a validated table always lie inside it; the accessor checks regardless.
template <class Byte>
class field_bytes {
 public:
  using byte_type = Byte;
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr field_bytes() noexcept = default;

  // Whether a view of these bytes offers a setter for `f`.
  static constexpr bool writable(const field& f) noexcept { return is_mutable && f.writable(); }

  // The value of field F, known at compile time: what the named getters read.
  // (A forwarder, inlined everywhere: under -Os the compiler then keeps one word() for all.)
  template <const field& F>
  [[gnu::always_inline]] constexpr auto get() const noexcept {
    static_assert(F.width == 1 || F.width == 4, "rproc: a field read as a value is a u8 or a u32");
    if constexpr (F.width == 1) return byte(F.offset);
    else return word(F.offset);
  }
  // The value of a field of one or four bytes chosen at run time (a name or reserved bytes read
  // as 0): for code that walks layout.hpp's fields, such as a tool printing the host's writes.
  constexpr std::uint32_t get(const field& f) const noexcept {
    if (f.width == 1) return byte(f.offset);
    return f.width == 4 ? word(f.offset) : 0;
  }
  // Writes a field a host may write (field::writable()); any other is left alone: false.
  constexpr bool set(const field& f, std::uint32_t v) const noexcept
    requires is_mutable
  {
    if (!f.writable()) return false;
    if (f.width == 1) return bytes_.write_u8(f.offset, static_cast<std::uint8_t>(v));
    return f.width == 4 && bytes_.write_u32(f.offset, v);
  }

 protected:
  RPROC_ALWAYS_INLINE constexpr std::uint32_t word(std::size_t at) const noexcept {
    return bytes_.u32(at).value_or(0);
  }
  RPROC_ALWAYS_INLINE constexpr std::uint8_t byte(std::size_t at) const noexcept {
    return bytes_.u8(at).value_or(0);
  }
  // Writes field F, known at compile time: what the named setters write.
  template <const field& F>
  constexpr void put(std::conditional_t<F.width == 1, std::uint8_t, std::uint32_t> v) const noexcept
    requires is_mutable
  {
    static_assert(F.writable() && (F.width == 1 || F.width == 4));
    if constexpr (F.width == 1) (void)bytes_.write_u8(F.offset, v);
    else (void)bytes_.write_u32(F.offset, v);
  }

  basic_byte_view<Byte> bytes_{};
};

// The fields shared by every entry view: where it is and which type it has.
template <class Byte>
class entry_base : public field_bytes<Byte> {
 public:
  constexpr entry_base() noexcept = default;
  constexpr entry_base(basic_byte_view<Byte> from_entry, std::uint32_t index,
                       std::uint32_t offset) noexcept
      : index_(index), offset_(offset) {
    this->bytes_ = from_entry;
  }

  // Position in the offset array, and byte offset of the entry in the table.
  constexpr std::uint32_t index() const noexcept { return index_; }
  constexpr std::uint32_t offset() const noexcept { return offset_; }
  constexpr std::uint32_t type_id() const noexcept { return this->template get<layout::type>(); }
  // The entry's bytes, from its type word to the end of the table.
  constexpr basic_byte_view<Byte> bytes() const noexcept { return this->bytes_; }

 protected:
  // A 32-byte name, up to its first NUL or all 32 bytes; a name is data, never a format.
  constexpr std::size_t name_length(const field& name) const noexcept {
    std::size_t n = 0;
    while (n < name.width && this->byte(name.offset + n) != 0) ++n;
    return n;
  }
  std::string_view name_at(const field& name) const noexcept {
    const auto window = this->bytes_.subview(name.offset, name.width);
    if (!window) return {};
    return {reinterpret_cast<const char*>(window->bytes().data()), name_length(name)};
  }
  constexpr bool name_equals_at(const field& name, std::string_view s) const noexcept {
    if (s.size() != name_length(name)) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (static_cast<char>(this->byte(name.offset + i)) != s[i]) return false;
    return true;
  }

  std::uint32_t index_ = 0;
  std::uint32_t offset_ = 0;
};

}  // namespace detail

// Each getter and setter below reads or writes one field of layout.hpp; a setter exists only for
// a field a host may write (field::writable()).

namespace detail {
// What a carveout, a devmem and a trace share: an address, a length, a reserved word and a name,
// where layout F puts them.
template <class Byte, class F>
class named_region : public entry_base<Byte> {
 public:
  using entry_base<Byte>::entry_base;
  constexpr std::uint32_t da() const noexcept { return this->template get<F::da>(); }
  constexpr std::uint32_t len() const noexcept { return this->template get<F::len>(); }
  constexpr std::uint32_t reserved() const noexcept { return this->template get<F::reserved>(); }
  std::string_view name() const noexcept { return this->name_at(F::name); }
  constexpr bool name_equals(std::string_view s) const noexcept {
    return this->name_equals_at(F::name, s);
  }
};
}  // namespace detail

// A carveout (memory the firmware needs the host to set aside) or a devmem (device memory to
// map); the two share one layout.
template <class Byte, entry_kind Kind>
class basic_memory_entry : public detail::named_region<Byte, layout::memory<Kind>> {
  using base = detail::named_region<Byte, layout::memory<Kind>>;
  using F = layout::memory<Kind>;
  using base::base;

 public:
  static constexpr entry_kind kind = Kind;
  constexpr std::uint32_t pa() const noexcept { return this->template get<F::pa>(); }
  constexpr std::uint32_t flags() const noexcept { return this->template get<F::flags>(); }

  constexpr void set_da(std::uint32_t v) const noexcept requires(base::writable(F::da)) {
    this->template put<F::da>(v);
  }
  constexpr void set_pa(std::uint32_t v) const noexcept requires(base::writable(F::pa)) {
    this->template put<F::pa>(v);
  }
  constexpr void set_len(std::uint32_t v) const noexcept requires(base::writable(F::len)) {
    this->template put<F::len>(v);
  }

  constexpr operator basic_memory_entry<const std::byte, Kind>() const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }
};

// A trace buffer the firmware writes its log into.
template <class Byte>
class basic_trace_entry : public detail::named_region<Byte, layout::trace> {
  using base = detail::named_region<Byte, layout::trace>;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::trace;

  constexpr operator basic_trace_entry<detail::dependent_t<const std::byte, Byte>>() const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }
};

// One vring of a vdev (20 bytes: da, align, num, notifyid, pa).
template <class Byte>
class basic_vring : public detail::field_bytes<Byte> {
  using base = detail::field_bytes<Byte>;
  using F = layout::vring;

 public:
  constexpr basic_vring() noexcept = default;
  constexpr basic_vring(basic_byte_view<Byte> bytes, std::uint32_t index) noexcept
      : index_(index) {
    this->bytes_ = bytes;
  }

  // Position within its vdev (0 or 1).
  constexpr std::uint32_t index() const noexcept { return index_; }
  constexpr std::uint32_t da() const noexcept { return this->template get<F::da>(); }
  constexpr std::uint32_t align() const noexcept { return this->template get<F::align>(); }
  constexpr std::uint32_t num() const noexcept { return this->template get<F::num>(); }
  constexpr std::uint32_t notifyid() const noexcept { return this->template get<F::notifyid>(); }
  constexpr std::uint32_t pa() const noexcept { return this->template get<F::pa>(); }

  constexpr void set_da(std::uint32_t v) const noexcept requires(base::writable(F::da)) {
    this->template put<F::da>(v);
  }
  constexpr void set_notifyid(std::uint32_t v) const noexcept
    requires(base::writable(F::notifyid))
  {
    this->template put<F::notifyid>(v);
  }
  constexpr void set_pa(std::uint32_t v) const noexcept requires(base::writable(F::pa)) {
    this->template put<F::pa>(v);
  }

 private:
  std::uint32_t index_ = 0;
};

template <class Byte>
class basic_vring_range;

// A virtio device: its ids and features, status byte, vrings and config space.
template <class Byte>
class basic_vdev_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;
  using F = layout::vdev;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::vdev;

  using vring_range = basic_vring_range<Byte>;

  constexpr std::uint32_t id() const noexcept { return this->template get<F::id>(); }
  constexpr std::uint32_t notifyid() const noexcept { return this->template get<F::notifyid>(); }
  constexpr std::uint32_t dfeatures() const noexcept { return this->template get<F::dfeatures>(); }
  constexpr std::uint32_t gfeatures() const noexcept { return this->template get<F::gfeatures>(); }
  constexpr std::uint32_t config_len() const noexcept { return this->template get<F::config_len>(); }
  constexpr std::uint8_t status() const noexcept { return this->template get<F::status>(); }
  constexpr std::uint8_t num_of_vrings() const noexcept {
    return this->template get<F::num_of_vrings>();
  }
  constexpr std::array<std::uint8_t, 2> reserved() const noexcept {
    return {this->byte(F::reserved.offset), this->byte(F::reserved.offset + 1)};
  }

  constexpr vring_range vrings() const noexcept { return vring_range(*this); }
  // Vring i (i < num_of_vrings()); out of range gives an empty view that reads 0.
  constexpr basic_vring<Byte> vring(std::uint32_t i) const noexcept {
    if (i >= num_of_vrings()) return {};
    const auto at = F::vrings + std::size_t{i} * layout::vring::size;
    return {this->bytes_.subview(at, layout::vring::size).value_or(basic_byte_view<Byte>{}), i};
  }
  // The virtio config space, config_len() bytes after the vrings.
  constexpr std::span<Byte> config() const noexcept {
    const auto at = F::vrings + std::size_t{num_of_vrings()} * layout::vring::size;
    if (const auto window = this->bytes_.subview(at, config_len())) return window->bytes();
    return {};
  }

  constexpr void set_notifyid(std::uint32_t v) const noexcept
    requires(base::writable(F::notifyid))
  {
    this->template put<F::notifyid>(v);
  }
  constexpr void set_gfeatures(std::uint32_t v) const noexcept
    requires(base::writable(F::gfeatures))
  {
    this->template put<F::gfeatures>(v);
  }
  constexpr void set_status(std::uint8_t v) const noexcept requires(base::writable(F::status)) {
    this->template put<F::status>(v);
  }

  constexpr operator basic_vdev_entry<detail::dependent_t<const std::byte, Byte>>() const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }
};

// The vrings of a vdev, as a random-access range.
template <class Byte>
class basic_vring_range {
 public:
  constexpr basic_vring_range() noexcept = default;
  constexpr explicit basic_vring_range(basic_vdev_entry<Byte> vdev) noexcept : vdev_(vdev) {}
  constexpr std::uint32_t size() const noexcept { return vdev_.num_of_vrings(); }
  constexpr bool empty() const noexcept { return size() == 0; }
  constexpr basic_vring<Byte> operator[](std::uint32_t i) const noexcept { return vdev_.vring(i); }
  constexpr auto begin() const noexcept { return iterator(*this, 0); }
  constexpr auto end() const noexcept { return iterator(*this, size()); }

 private:
  using iterator = index_iterator<basic_vring_range, basic_vring<Byte>>;
  basic_vdev_entry<Byte> vdev_{};
};

// A vendor entry (type 128..512): its bytes go to the platform, which knows their layout.
template <class Byte>
class basic_vendor_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::vendor;
  // Everything after the type word, to the end of the table (the entry's own size is the
  // platform's business; OpenAMP's vendor entries put a u32 length first).
  constexpr basic_byte_view<Byte> body() const noexcept {
    return this->bytes_.subview(4).value_or(basic_byte_view<Byte>{});
  }
  constexpr std::optional<std::uint32_t> openamp_len() const noexcept {
    return this->bytes_.u32(4);
  }
};

// An entry of a type no one defines (4..127, above 512): skipped with a warning.
template <class Byte>
class basic_unknown_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::unknown;
};

template <class Byte>
using basic_carveout_entry = basic_memory_entry<Byte, entry_kind::carveout>;
template <class Byte>
using basic_devmem_entry = basic_memory_entry<Byte, entry_kind::devmem>;

using carveout_entry = basic_carveout_entry<const std::byte>;
using devmem_entry = basic_devmem_entry<const std::byte>;
using trace_entry = basic_trace_entry<const std::byte>;
using vdev_entry = basic_vdev_entry<const std::byte>;
using vring_view = basic_vring<const std::byte>;
using vendor_entry = basic_vendor_entry<const std::byte>;
using unknown_entry = basic_unknown_entry<const std::byte>;

using mutable_carveout_entry = basic_carveout_entry<std::byte>;
using mutable_devmem_entry = basic_devmem_entry<std::byte>;
using mutable_trace_entry = basic_trace_entry<std::byte>;
using mutable_vdev_entry = basic_vdev_entry<std::byte>;
using mutable_vring_view = basic_vring<std::byte>;
using mutable_vendor_entry = basic_vendor_entry<std::byte>;
using mutable_unknown_entry = basic_unknown_entry<std::byte>;

// Any entry of a table: its position and type, and the typed view through as<>() or visit().
template <class Byte>
class basic_resource_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;

 public:
  using base::base;

  constexpr entry_kind kind() const noexcept { return kind_of(this->type_id()); }

  // The typed view when the entry has that type: if (auto v = e.as<rproc::vdev_entry>()) ...
  template <class Typed>
  constexpr std::optional<Typed> as() const noexcept {
    static_assert(std::is_base_of_v<detail::entry_base<typename Typed::byte_type>, Typed>,
                  "as<T>() takes a typed entry view such as rproc::vdev_entry");
    if (kind() != Typed::kind) return std::nullopt;
    return Typed(this->bytes_, this->index_, this->offset_);
  }

  // Calls f with the typed view (carveout, devmem, trace, vdev, vendor or unknown entry).
  template <class F>
  constexpr decltype(auto) visit(F&& f) const {
    switch (kind()) {
      case entry_kind::carveout: return std::forward<F>(f)(typed<basic_carveout_entry<Byte>>());
      case entry_kind::devmem: return std::forward<F>(f)(typed<basic_devmem_entry<Byte>>());
      case entry_kind::trace: return std::forward<F>(f)(typed<basic_trace_entry<Byte>>());
      case entry_kind::vdev: return std::forward<F>(f)(typed<basic_vdev_entry<Byte>>());
      case entry_kind::vendor: return std::forward<F>(f)(typed<basic_vendor_entry<Byte>>());
      case entry_kind::unknown: break;
    }
    return std::forward<F>(f)(typed<basic_unknown_entry<Byte>>());
  }

  constexpr operator basic_resource_entry<detail::dependent_t<const std::byte, Byte>>()
      const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }

 private:
  template <class Typed>
  constexpr Typed typed() const noexcept {
    return Typed(this->bytes_, this->index_, this->offset_);
  }
};

using resource_entry = basic_resource_entry<const std::byte>;
using mutable_resource_entry = basic_resource_entry<std::byte>;

template <class Byte, class F>
constexpr decltype(auto) visit(F&& f, const basic_resource_entry<Byte>& entry) {
  return entry.visit(std::forward<F>(f));
}

}  // namespace rproc

template <class Byte>
inline constexpr bool std::ranges::enable_borrowed_range<rproc::basic_vring_range<Byte>> = true;
template <class Byte>
inline constexpr bool std::ranges::enable_view<rproc::basic_vring_range<Byte>> = true;
