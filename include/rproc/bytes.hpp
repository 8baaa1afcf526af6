// The one accessor through which rproc reads and writes a resource table or a firmware image:
// bounds-checked, in a chosen byte order, usable in constant expressions, never a cast to a struct.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

// The byte accessor's smallest functions are always inlined where the build optimises for speed:
// out of line, where a compiler leaves them when many entry views read fields, a call costs more
// than the load it wraps (benchmarks/README.md has the figures). Under -Os the compiler chooses,
// which keeps firmware smaller.
#if defined(__OPTIMIZE_SIZE__)
#define RPROC_ALWAYS_INLINE
#else
#define RPROC_ALWAYS_INLINE [[gnu::always_inline]]
#endif

namespace rproc {

// Byte order of a table or an image: the remote's, which need not be the host's.
using endian = std::endian;

// Marks an accessor whose byte order is chosen at run time.
struct dynamic_endian_t {
  explicit constexpr dynamic_endian_t() = default;
};
inline constexpr dynamic_endian_t dynamic_endian{};

namespace detail {

// `T`, named through a type that depends on `Dependent`. A signature or an expression of one of
// rproc's templates written with it is completed when that template is instantiated, not in every
// file that includes rproc: GCC instantiates the class templates a template's non-dependent
// signatures and expressions name where it reads them, and clang the functions they call.
template <class T, class Dependent>
struct dependent {
  using type = T;
};
template <class T, class Dependent>
using dependent_t = typename dependent<T, Dependent>::type;

template <class Dependent, class T>
constexpr const dependent_t<T, Dependent>& deferred(const T& value) noexcept {
  return value;
}
template <class Dependent, class T>
constexpr dependent_t<T, Dependent>& deferred(T& value) noexcept {
  return value;
}

template <auto Order>
struct order_holder {
  constexpr order_holder() noexcept = default;
  constexpr explicit order_holder(endian) noexcept {}
  static constexpr endian value() noexcept { return Order; }
};

template <>
struct order_holder<dynamic_endian> {
  endian order = endian::little;
  constexpr order_holder() noexcept = default;
  constexpr explicit order_holder(endian o) noexcept : order(o) {}
  constexpr endian value() const noexcept { return order; }
};

template <class Unsigned>
constexpr Unsigned byteswap(Unsigned v) noexcept {
  if constexpr (sizeof(Unsigned) == 1) {
    return v;
  } else if constexpr (sizeof(Unsigned) == 2) {
    return static_cast<Unsigned>((v >> 8) | (v << 8));
  } else if constexpr (sizeof(Unsigned) == 4) {
    return static_cast<Unsigned>((v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) |
                                 (v << 24));
  } else {
    static_assert(sizeof(Unsigned) == 8);
    return static_cast<Unsigned>(
        std::uint64_t{byteswap(static_cast<std::uint32_t>(v))} << 32 |
        byteswap(static_cast<std::uint32_t>(v >> 32)));
  }
}

template <class Unsigned, class Byte>
RPROC_ALWAYS_INLINE constexpr Unsigned load(const Byte* p, endian order) noexcept {
  // Copied whole and swapped when the orders differ, the value compiles to one load (and one
  // bswap): a compiler may leave the byte-at-a-time loop below as separate loads and shifts.
  if constexpr (endian::native == endian::little || endian::native == endian::big) {
    std::array<std::byte, sizeof(Unsigned)> raw{};
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) raw[i] = p[i];
    const auto v = std::bit_cast<Unsigned>(raw);
    return order == endian::native ? v : byteswap(v);
  }
  Unsigned v = 0;
  if (order == endian::little) {
    for (std::size_t i = sizeof(Unsigned); i-- > 0;)
      v = static_cast<Unsigned>((v << 8) | std::to_integer<Unsigned>(p[i]));
  } else {
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i)
      v = static_cast<Unsigned>((v << 8) | std::to_integer<Unsigned>(p[i]));
  }
  return v;
}

// One byte written as a relaxed atomic store (outside constant evaluation): a table the host
// writes may be live, read by another processor meanwhile, so no store may be dropped as dead,
// merged with the next or moved across a fence, and none is a data race (ThreadSanitizer); on
// x86 and Arm it is the plain byte store.
RPROC_ALWAYS_INLINE constexpr void store_byte(std::byte* p, std::byte v) noexcept {
  if (std::is_constant_evaluated()) *p = v;
  else __atomic_store_n(reinterpret_cast<unsigned char*>(p), static_cast<unsigned char>(v),
                        __ATOMIC_RELAXED);
}

template <class Unsigned>
RPROC_ALWAYS_INLINE constexpr void store(std::byte* p, Unsigned v, endian order) noexcept {
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
    const std::size_t at = order == endian::little ? i : sizeof(Unsigned) - 1 - i;
    store_byte(p + at, static_cast<std::byte>(v & 0xFFu));
    if constexpr (sizeof(Unsigned) > 1) v = static_cast<Unsigned>(v >> 8);
  }
}

// Copies `from` to the start of `to` (at least as long); one memmove outside constant evaluation.
// The byte helpers below are templates only so that their spans are completed where they are
// used (see `dependent`); Byte is always std::byte.
template <class Byte = std::byte>
constexpr void copy_into(std::span<dependent_t<std::byte, Byte>> to,
                         std::span<dependent_t<const std::byte, Byte>> from) noexcept {
  if (std::is_constant_evaluated()) {
    for (std::size_t i = 0; i < from.size(); ++i) to[i] = from[i];
  } else if (!from.empty()) {
    __builtin_memmove(to.data(), from.data(), from.size());
  }
}

// The first index at or after `from` where `a` and `b` (at least as long) differ, else
// a.size(). A live table and its clean copy differ in a few bytes of up to 4 KiB: outside
// constant evaluation, equal bytes are skipped 64, then 8 at a time, rather than one by one.
template <class Byte = std::byte>
constexpr std::size_t first_difference(std::span<dependent_t<const std::byte, Byte>> a,
                                       std::span<dependent_t<const std::byte, Byte>> b,
                                       std::size_t from) noexcept {
  if (from >= a.size()) return a.size();
  if (!std::is_constant_evaluated()) {
    const std::byte* x = a.data();
    const std::byte* y = b.data();
    while (a.size() - from >= 64 && __builtin_memcmp(x + from, y + from, 64) == 0) from += 64;
    while (a.size() - from >= 8) {
      std::uint64_t u = 0, v = 0;
      __builtin_memcpy(&u, x + from, 8);
      __builtin_memcpy(&v, y + from, 8);
      if (u != v) break;
      from += 8;
    }
  }
  while (from < a.size() && a[from] == b[from]) ++from;
  return from;
}

// The first index at or after `from` where `a` and `b` (at least as long) are equal again, else
// a.size(): the end of a run of differing bytes, which is short (a field the host wrote).
template <class Byte = std::byte>
constexpr std::size_t first_equal(std::span<dependent_t<const std::byte, Byte>> a,
                                  std::span<dependent_t<const std::byte, Byte>> b,
                                  std::size_t from) noexcept {
  while (from < a.size() && a[from] != b[from]) ++from;
  return from;
}

// Writes `from` over `to` (at least as long) only where they differ, byte by byte as store_byte
// does (a live table is device memory another processor reads: bytes already right are not
// written); returns the bytes written.
template <class Byte = std::byte>
constexpr std::size_t copy_differing(std::span<dependent_t<const std::byte, Byte>> from,
                                     std::span<dependent_t<std::byte, Byte>> to) noexcept {
  std::size_t written = 0;
  for (std::size_t i = first_difference<Byte>(from, to, 0); i < from.size();) {
    const std::size_t end = first_equal<Byte>(from, to, i);
    for (std::size_t k = i; k < end; ++k) store_byte(to.data() + k, from[k]);
    written += end - i;
    i = first_difference<Byte>(from, to, end);
  }
  return written;
}

}  // namespace detail

// A window on bytes (`const std::byte` to read, `std::byte` to read and write) in one byte
// order, fixed at compile time (`Order` = std::endian::little / big) or at run time
// (`Order` = dynamic_endian). Every access names an offset and a width and is checked against
// the window: a read outside gives std::nullopt, a write outside writes nothing and says so.
template <class Byte, auto Order = dynamic_endian>
class basic_byte_view {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, std::byte>,
                "rproc::basic_byte_view is a view of std::byte or const std::byte");

 public:
  using byte_type = Byte;
  static constexpr bool is_mutable = !std::is_const_v<Byte>;

  constexpr basic_byte_view() noexcept = default;
  constexpr basic_byte_view(std::span<Byte> bytes, endian order) noexcept
      : bytes_(bytes), order_(order) {}
  constexpr explicit basic_byte_view(std::span<Byte> bytes) noexcept
    requires(!std::is_same_v<decltype(Order), dynamic_endian_t>)
      : bytes_(bytes) {}

  // A writable view reads as a read-only one.
  template <class Other>
    requires(std::is_same_v<Other, std::byte> && std::is_const_v<Byte>)
  constexpr basic_byte_view(basic_byte_view<Other, Order> other) noexcept
      : bytes_(other.bytes()), order_(other.order()) {}

  constexpr std::span<Byte> bytes() const noexcept { return bytes_; }
  constexpr std::size_t size() const noexcept { return bytes_.size(); }
  constexpr bool empty() const noexcept { return bytes_.empty(); }
  constexpr endian order() const noexcept { return order_.value(); }

  // True when [offset, offset + length) lies inside the view; free of overflow for any inputs.
  constexpr bool contains(std::size_t offset, std::size_t length) const noexcept {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }

  constexpr std::optional<basic_byte_view> subview(std::size_t offset,
                                                   std::size_t length) const noexcept {
    if (!contains(offset, length)) return std::nullopt;
    return basic_byte_view(bytes_.subspan(offset, length), order());
  }
  // From `offset` to the end.
  constexpr std::optional<basic_byte_view> subview(std::size_t offset) const noexcept {
    if (offset > bytes_.size()) return std::nullopt;
    return basic_byte_view(bytes_.subspan(offset), order());
  }

  // Always inlined: out of line, a compiler may return the std::optional through the stack, value
  // and flag stored apart then loaded as one word, a store-forwarding stall on every read
  // (benchmarks/README.md: what it cost the attach/detach cycle).
  template <class Unsigned>
  RPROC_ALWAYS_INLINE constexpr std::optional<Unsigned> read(
      std::size_t offset) const noexcept {
    static_assert(std::is_unsigned_v<Unsigned> && !std::is_same_v<Unsigned, bool>);
    if (!contains(offset, sizeof(Unsigned))) return std::nullopt;
    return detail::load<Unsigned>(bytes_.data() + offset, order());
  }
  RPROC_ALWAYS_INLINE constexpr std::optional<detail::dependent_t<std::uint8_t, Byte>> u8(
      std::size_t offset) const noexcept {
    return read<std::uint8_t>(offset);
  }
  RPROC_ALWAYS_INLINE constexpr std::optional<detail::dependent_t<std::uint16_t, Byte>> u16(
      std::size_t offset) const noexcept {
    return read<std::uint16_t>(offset);
  }
  RPROC_ALWAYS_INLINE constexpr std::optional<detail::dependent_t<std::uint32_t, Byte>> u32(
      std::size_t offset) const noexcept {
    return read<std::uint32_t>(offset);
  }
  RPROC_ALWAYS_INLINE constexpr std::optional<detail::dependent_t<std::uint64_t, Byte>> u64(
      std::size_t offset) const noexcept {
    return read<std::uint64_t>(offset);
  }

  template <class Unsigned>
  [[nodiscard]] constexpr bool write(std::size_t offset, Unsigned value) const noexcept
    requires is_mutable
  {
    static_assert(std::is_unsigned_v<Unsigned> && !std::is_same_v<Unsigned, bool>);
    if (!contains(offset, sizeof(Unsigned))) return false;
    detail::store<Unsigned>(bytes_.data() + offset, value, order());
    return true;
  }
  [[nodiscard]] constexpr bool write_u8(std::size_t offset, std::uint8_t v) const noexcept
    requires is_mutable
  {
    return write<std::uint8_t>(offset, v);
  }
  [[nodiscard]] constexpr bool write_u32(std::size_t offset, std::uint32_t v) const noexcept
    requires is_mutable
  {
    return write<std::uint32_t>(offset, v);
  }

 private:
  std::span<Byte> bytes_{};
  [[no_unique_address]] detail::order_holder<Order> order_{};
};

using byte_view = basic_byte_view<const std::byte>;
using mutable_byte_view = basic_byte_view<std::byte>;

}  // namespace rproc
