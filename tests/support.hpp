// Helpers shared by the tests: reading files, and making malformed tables from valid ones.
#pragma once

#include <rproc/bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

// The bytes of a file; a file that cannot be read fails the test case (it is never read as
// empty, which would let a test pass on no input).
inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

inline std::filesystem::path data_dir() { return RPROC_TEST_DATA_DIR; }
inline std::filesystem::path shared_dir() { return RPROC_SHARED_DIR; }

// A heap copy of exactly these bytes: a read one past the end is an ASan error.
inline std::vector<std::byte> exact_copy(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

// A copy of `bytes` with a u32 (or u8) replaced, in the given byte order; usable at compile time.
template <std::size_t N>
constexpr std::array<std::byte, N> with_u32(std::array<std::byte, N> bytes, std::size_t at,
                                            std::uint32_t value,
                                            rproc::endian order = rproc::endian::little) {
  if (!rproc::mutable_byte_view(bytes, order).write_u32(at, value)) throw "write outside";
  return bytes;
}
template <std::size_t N>
constexpr std::array<std::byte, N> with_u8(std::array<std::byte, N> bytes, std::size_t at,
                                           std::uint8_t value) {
  if (!rproc::mutable_byte_view(bytes, rproc::endian::little).write_u8(at, value))
    throw "write outside";
  return bytes;
}
// The first M bytes of `bytes`.
template <std::size_t M, std::size_t N>
constexpr std::array<std::byte, M> prefix(const std::array<std::byte, N>& bytes) {
  static_assert(M <= N);
  std::array<std::byte, M> out{};
  for (std::size_t i = 0; i < M; ++i) out[i] = bytes[i];
  return out;
}

template <class Span>
std::vector<std::byte> to_vector(const Span& s) {
  return {std::begin(s), std::end(s)};
}

}  // namespace test
