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

namespace rproc {

// "The host chooses": the value of a `da` or `pa` that the firmware leaves to the host.
inline constexpr std::uint32_t fw_rsc_addr_any = 0xFFFFFFFFu;

// The standard resource types; 128..512 are vendor types, every other value is unknown.
enum class resource_type : std::uint32_t { carveout = 0, devmem = 1, trace = 2, vdev = 3 };
inline constexpr std::uint32_t vendor_type_first = 128;
inline constexpr std::uint32_t vendor_type_last = 512;

enum class entry_kind : std::uint8_t { carveout, devmem, trace, vdev, vendor, unknown };

constexpr entry_kind kind_of(std::uint32_t type_id) noexcept {
  switch (type_id) {
    case 0: return entry_kind::carveout;
    case 1: return entry_kind::devmem;
    case 2: return entry_kind::trace;
    case 3: return entry_kind::vdev;
    default:
      return type_id >= vendor_type_first && type_id <= vendor_type_last ? entry_kind::vendor
                                                                          : entry_kind::unknown;
  }
}

constexpr std::string_view to_string(entry_kind kind) noexcept {
  switch (kind) {
    case entry_kind::carveout: return "carveout";
    case entry_kind::devmem: return "devmem";
    case entry_kind::trace: return "trace";
    case entry_kind::vdev: return "vdev";
    case entry_kind::vendor: return "vendor";
    case entry_kind::unknown: return "unknown";
  }
  return "unknown";
}

// Byte offsets and sizes of the format (SPEC section 1). Entry fields are counted from the
// entry's first byte, its type word.
namespace layout {
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t ver = 0;
inline constexpr std::size_t num = 4;
inline constexpr std::size_t reserved0 = 8;
inline constexpr std::size_t reserved1 = 12;
inline constexpr std::size_t offsets = 16;
inline constexpr std::size_t type = 0;
inline constexpr std::size_t name_size = 32;

namespace carveout {  // also the devmem layout
inline constexpr std::size_t da = 4, pa = 8, len = 12, flags = 16, reserved = 20, name = 24;
inline constexpr std::size_t size = 56;
}  // namespace carveout
namespace trace {
inline constexpr std::size_t da = 4, len = 8, reserved = 12, name = 16;
inline constexpr std::size_t size = 48;
}  // namespace trace
namespace vdev {
inline constexpr std::size_t id = 4, notifyid = 8, dfeatures = 12, gfeatures = 16,
                             config_len = 20, status = 24, num_of_vrings = 25, reserved = 26,
                             vrings = 28;
inline constexpr std::size_t size = 28;  // type word and fixed body, before the vrings
inline constexpr std::size_t max_vrings = 2;
}  // namespace vdev
namespace vring {
inline constexpr std::size_t da = 0, align = 4, num = 8, notifyid = 12, pa = 16;
inline constexpr std::size_t size = 20;
}  // namespace vring
}  // namespace layout

// Virtio facts the table carries: device ids and the device status bits.
namespace virtio {
inline constexpr std::uint32_t id_rpmsg = 7;
inline constexpr std::uint8_t status_acknowledge = 0x01;
inline constexpr std::uint8_t status_driver = 0x02;
inline constexpr std::uint8_t status_driver_ok = 0x04;
inline constexpr std::uint8_t status_features_ok = 0x08;
inline constexpr std::uint8_t status_needs_reset = 0x40;
inline constexpr std::uint8_t status_failed = 0x80;
}  // namespace virtio

// Builds a visitor from lambdas: entry.visit(rproc::overloaded{[](rproc::vdev_entry v) {...}, ...}).
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

// A random-access iterator over anything indexable by position that yields values: the table's
// entries, a vdev's vrings. It holds a copy of the (small) view, so the view is a borrowed range.
template <class View, class Value>
class index_iterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::random_access_iterator_tag;
  using iterator_category = std::input_iterator_tag;  // yields values, not references

  constexpr index_iterator() = default;
  constexpr index_iterator(View view, std::uint32_t at) noexcept : view_(view), at_(at) {}

  constexpr Value operator*() const noexcept { return view_[at_]; }
  constexpr Value operator[](difference_type n) const noexcept {
    return view_[static_cast<std::uint32_t>(static_cast<difference_type>(at_) + n)];
  }
  constexpr index_iterator& operator++() noexcept { ++at_; return *this; }
  constexpr index_iterator operator++(int) noexcept { auto t = *this; ++at_; return t; }
  constexpr index_iterator& operator--() noexcept { --at_; return *this; }
  constexpr index_iterator operator--(int) noexcept { auto t = *this; --at_; return t; }
  constexpr index_iterator& operator+=(difference_type n) noexcept {
    at_ = static_cast<std::uint32_t>(static_cast<difference_type>(at_) + n);
    return *this;
  }
  constexpr index_iterator& operator-=(difference_type n) noexcept { return *this += -n; }
  friend constexpr index_iterator operator+(index_iterator i, difference_type n) noexcept {
    return i += n;
  }
  friend constexpr index_iterator operator+(difference_type n, index_iterator i) noexcept {
    return i += n;
  }
  friend constexpr index_iterator operator-(index_iterator i, difference_type n) noexcept {
    return i -= n;
  }
  friend constexpr difference_type operator-(const index_iterator& a,
                                             const index_iterator& b) noexcept {
    return static_cast<difference_type>(a.at_) - static_cast<difference_type>(b.at_);
  }
  friend constexpr bool operator==(const index_iterator& a, const index_iterator& b) noexcept {
    return a.at_ == b.at_;
  }
  friend constexpr auto operator<=>(const index_iterator& a, const index_iterator& b) noexcept {
    return a.at_ <=> b.at_;
  }

 private:
  View view_{};
  std::uint32_t at_ = 0;
};

namespace detail {

// The fields shared by every entry view: where it is and which type it has.
template <class Byte>
class entry_base {
 public:
  using byte_type = Byte;
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr entry_base() noexcept = default;
  constexpr entry_base(basic_byte_view<Byte> from_entry, std::uint32_t index,
                       std::uint32_t offset) noexcept
      : bytes_(from_entry), index_(index), offset_(offset) {}

  // Position in the offset array, and byte offset of the entry in the table.
  constexpr std::uint32_t index() const noexcept { return index_; }
  constexpr std::uint32_t offset() const noexcept { return offset_; }
  constexpr std::uint32_t type_id() const noexcept { return word(layout::type); }
  // The entry's bytes, from its type word to the end of the table.
  constexpr basic_byte_view<Byte> bytes() const noexcept { return bytes_; }

 protected:
  // Fields of a validated entry always lie inside the table; the accessor checks regardless.
  RPROC_ALWAYS_INLINE constexpr std::uint32_t word(std::size_t at) const noexcept {
    return bytes_.u32(at).value_or(0);
  }
  RPROC_ALWAYS_INLINE constexpr std::uint8_t byte(std::size_t at) const noexcept {
    return bytes_.u8(at).value_or(0);
  }
  constexpr void set_word(std::size_t at, std::uint32_t v) const noexcept
    requires is_mutable
  {
    (void)bytes_.write_u32(at, v);
  }
  constexpr void set_byte(std::size_t at, std::uint8_t v) const noexcept
    requires is_mutable
  {
    (void)bytes_.write_u8(at, v);
  }
  // A 32-byte name, up to its first NUL or all 32 bytes; a name is data, never a format.
  constexpr std::size_t name_length(std::size_t at) const noexcept {
    std::size_t n = 0;
    while (n < layout::name_size && byte(at + n) != 0) ++n;
    return n;
  }
  std::string_view name_at(std::size_t at) const noexcept {
    const auto window = bytes_.subview(at, layout::name_size);
    if (!window) return {};
    return {reinterpret_cast<const char*>(window->bytes().data()), name_length(at)};
  }
  constexpr bool name_equals_at(std::size_t at, std::string_view s) const noexcept {
    if (s.size() != name_length(at)) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (static_cast<char>(byte(at + i)) != s[i]) return false;
    return true;
  }

  basic_byte_view<Byte> bytes_{};
  std::uint32_t index_ = 0;
  std::uint32_t offset_ = 0;
};

}  // namespace detail

// A carveout (memory the firmware needs the host to set aside) or a devmem (device memory to
// map); the two share one layout.
template <class Byte, entry_kind Kind>
class basic_memory_entry : public detail::entry_base<Byte> {
  static_assert(Kind == entry_kind::carveout || Kind == entry_kind::devmem);
  using base = detail::entry_base<Byte>;
  using base::base;

 public:
  static constexpr entry_kind kind = Kind;
  constexpr std::uint32_t da() const noexcept { return this->word(layout::carveout::da); }
  constexpr std::uint32_t pa() const noexcept { return this->word(layout::carveout::pa); }
  constexpr std::uint32_t len() const noexcept { return this->word(layout::carveout::len); }
  constexpr std::uint32_t flags() const noexcept { return this->word(layout::carveout::flags); }
  constexpr std::uint32_t reserved() const noexcept {
    return this->word(layout::carveout::reserved);
  }
  std::string_view name() const noexcept { return this->name_at(layout::carveout::name); }
  constexpr bool name_equals(std::string_view s) const noexcept {
    return this->name_equals_at(layout::carveout::name, s);
  }

  constexpr void set_da(std::uint32_t v) const noexcept
    requires base::is_mutable
  {
    this->set_word(layout::carveout::da, v);
  }
  constexpr void set_pa(std::uint32_t v) const noexcept
    requires base::is_mutable
  {
    this->set_word(layout::carveout::pa, v);
  }
  constexpr void set_len(std::uint32_t v) const noexcept
    requires base::is_mutable
  {
    this->set_word(layout::carveout::len, v);
  }

  constexpr operator basic_memory_entry<const std::byte, Kind>() const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }
};

// A trace buffer the firmware writes its log into.
template <class Byte>
class basic_trace_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::trace;
  constexpr std::uint32_t da() const noexcept { return this->word(layout::trace::da); }
  constexpr std::uint32_t len() const noexcept { return this->word(layout::trace::len); }
  constexpr std::uint32_t reserved() const noexcept { return this->word(layout::trace::reserved); }
  std::string_view name() const noexcept { return this->name_at(layout::trace::name); }
  constexpr bool name_equals(std::string_view s) const noexcept {
    return this->name_equals_at(layout::trace::name, s);
  }

  constexpr operator basic_trace_entry<const std::byte>() const noexcept
    requires base::is_mutable
  {
    return {this->bytes_, this->index_, this->offset_};
  }
};

// One vring of a vdev (20 bytes: da, align, num, notifyid, pa).
template <class Byte>
class basic_vring {
 public:
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr basic_vring() noexcept = default;
  constexpr basic_vring(basic_byte_view<Byte> bytes, std::uint32_t index) noexcept
      : bytes_(bytes), index_(index) {}

  // Position within its vdev (0 or 1).
  constexpr std::uint32_t index() const noexcept { return index_; }
  constexpr std::uint32_t da() const noexcept { return word(layout::vring::da); }
  constexpr std::uint32_t align() const noexcept { return word(layout::vring::align); }
  constexpr std::uint32_t num() const noexcept { return word(layout::vring::num); }
  constexpr std::uint32_t notifyid() const noexcept { return word(layout::vring::notifyid); }
  constexpr std::uint32_t pa() const noexcept { return word(layout::vring::pa); }

  constexpr void set_da(std::uint32_t v) const noexcept
    requires is_mutable
  {
    (void)bytes_.write_u32(layout::vring::da, v);
  }
  constexpr void set_notifyid(std::uint32_t v) const noexcept
    requires is_mutable
  {
    (void)bytes_.write_u32(layout::vring::notifyid, v);
  }
  constexpr void set_pa(std::uint32_t v) const noexcept
    requires is_mutable
  {
    (void)bytes_.write_u32(layout::vring::pa, v);
  }

 private:
  constexpr std::uint32_t word(std::size_t at) const noexcept {
    return bytes_.u32(at).value_or(0);
  }
  basic_byte_view<Byte> bytes_{};
  std::uint32_t index_ = 0;
};

template <class Byte>
class basic_vring_range;

// A virtio device: its ids and features, status byte, vrings and config space.
template <class Byte>
class basic_vdev_entry : public detail::entry_base<Byte> {
  using base = detail::entry_base<Byte>;
  using base::base;

 public:
  static constexpr entry_kind kind = entry_kind::vdev;

  using vring_range = basic_vring_range<Byte>;

  constexpr std::uint32_t id() const noexcept { return this->word(layout::vdev::id); }
  constexpr std::uint32_t notifyid() const noexcept { return this->word(layout::vdev::notifyid); }
  constexpr std::uint32_t dfeatures() const noexcept {
    return this->word(layout::vdev::dfeatures);
  }
  constexpr std::uint32_t gfeatures() const noexcept {
    return this->word(layout::vdev::gfeatures);
  }
  constexpr std::uint32_t config_len() const noexcept {
    return this->word(layout::vdev::config_len);
  }
  constexpr std::uint8_t status() const noexcept { return this->byte(layout::vdev::status); }
  constexpr std::uint8_t num_of_vrings() const noexcept {
    return this->byte(layout::vdev::num_of_vrings);
  }
  constexpr std::array<std::uint8_t, 2> reserved() const noexcept {
    return {this->byte(layout::vdev::reserved), this->byte(layout::vdev::reserved + 1)};
  }

  constexpr vring_range vrings() const noexcept { return vring_range(*this); }
  // Vring i (i < num_of_vrings()); out of range gives an empty view that reads 0.
  constexpr basic_vring<Byte> vring(std::uint32_t i) const noexcept {
    if (i >= num_of_vrings()) return {};
    const auto at = layout::vdev::vrings + std::size_t{i} * layout::vring::size;
    return {this->bytes_.subview(at, layout::vring::size).value_or(basic_byte_view<Byte>{}), i};
  }
  // The virtio config space, config_len() bytes after the vrings.
  constexpr std::span<Byte> config() const noexcept {
    const auto at = layout::vdev::vrings + std::size_t{num_of_vrings()} * layout::vring::size;
    if (const auto window = this->bytes_.subview(at, config_len())) return window->bytes();
    return {};
  }

  constexpr void set_notifyid(std::uint32_t v) const noexcept
    requires base::is_mutable
  {
    this->set_word(layout::vdev::notifyid, v);
  }
  constexpr void set_gfeatures(std::uint32_t v) const noexcept
    requires base::is_mutable
  {
    this->set_word(layout::vdev::gfeatures, v);
  }
  constexpr void set_status(std::uint8_t v) const noexcept
    requires base::is_mutable
  {
    this->set_byte(layout::vdev::status, v);
  }

  constexpr operator basic_vdev_entry<const std::byte>() const noexcept
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

  constexpr operator basic_resource_entry<const std::byte>() const noexcept
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
