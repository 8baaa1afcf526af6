// Memory shared with another processor (vrings, their buffers): where it lies, and the only ways
// rproc reads and writes it. Each field is read or written once, through volatile bytes, in the
// memory's byte order: the compiler can neither drop, merge nor re-read it, so a value checked is
// the value used even when the other side rewrites it meanwhile. A word that publishes what was
// written before it is accessed atomically: a release store by the writer, an acquire load by the
// reader (__atomic builtins: <atomic> costs every includer ~0.3 s). Freestanding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bytes.hpp"

namespace rproc {

// Memory shared with the other side: device addresses [da, da + bytes.size()) seen here at bytes.
struct memory_window {
  std::uint64_t da = 0;
  std::span<std::byte> bytes{};

  // The bytes of [addr, addr + length) when all of them lie in the window; free of overflow.
  constexpr std::optional<std::span<std::byte>> find(std::uint64_t addr,
                                                     std::uint64_t length) const noexcept {
    if (addr < da) return std::nullopt;
    const std::uint64_t at = addr - da;
    if (at > bytes.size() || length > bytes.size() - at) return std::nullopt;
    return bytes.subspan(static_cast<std::size_t>(at), static_cast<std::size_t>(length));
  }
};

namespace detail {

// One access to a field of shared memory, in its byte order, a volatile byte at a time.
template <class Unsigned>
Unsigned read_shared(const std::byte* at, endian order) noexcept {
  std::array<std::byte, sizeof(Unsigned)> raw{};
  const volatile std::byte* from = at;
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) raw[i] = from[i];
  return load<Unsigned>(raw.data(), order);
}
template <class Unsigned>
void write_shared(std::byte* at, Unsigned value, endian order) noexcept {
  std::array<std::byte, sizeof(Unsigned)> raw{};
  store<Unsigned>(raw.data(), value, order);
  volatile std::byte* to = at;
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) to[i] = raw[i];
}

// A 16-bit word (2-byte aligned) that publishes what was written before it: one atomic access,
// which also tells ThreadSanitizer how the two sides synchronise.
inline std::uint16_t acquire_u16(const std::byte* at, endian order) noexcept {
  const auto raw = __atomic_load_n(reinterpret_cast<const std::uint16_t*>(at), __ATOMIC_ACQUIRE);
  return order == endian::native ? raw : byteswap(raw);
}
inline void release_u16(std::byte* at, std::uint16_t value, endian order) noexcept {
  const std::uint16_t raw = order == endian::native ? value : byteswap(value);
  __atomic_store_n(reinterpret_cast<std::uint16_t*>(at), raw, __ATOMIC_RELEASE);
}

// Copies shared bytes out, each read once (a header, before it is checked).
inline void read_shared_bytes(std::span<const std::byte> from, std::span<std::byte> to) noexcept {
  const volatile std::byte* shared = from.data();
  for (std::size_t i = 0; i < to.size(); ++i) to[i] = shared[i];
}

}  // namespace detail
}  // namespace rproc
