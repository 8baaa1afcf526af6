#include <rproc/bytes.hpp>
#include <rproc/error.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <limits>
#include <string_view>

#include "support.hpp"

namespace {

constexpr std::array<std::byte, 8> sample{std::byte{0x01}, std::byte{0x02}, std::byte{0x03},
                                          std::byte{0x04}, std::byte{0x05}, std::byte{0x06},
                                          std::byte{0x07}, std::byte{0x08}};

// Reads in both byte orders, at compile time.
static_assert(rproc::byte_view(sample, rproc::endian::little).u32(0) == 0x04030201u);
static_assert(rproc::byte_view(sample, rproc::endian::big).u32(0) == 0x01020304u);
static_assert(rproc::byte_view(sample, rproc::endian::little).u16(6) == 0x0807u);
static_assert(rproc::byte_view(sample, rproc::endian::big).u64(0) == 0x0102030405060708u);
static_assert(rproc::basic_byte_view<const std::byte, rproc::endian::big>(sample).u32(4) ==
              0x05060708u);
// Reads that would cross the end give nothing.
static_assert(!rproc::byte_view(sample, rproc::endian::little).u32(5).has_value());
static_assert(!rproc::byte_view(sample, rproc::endian::little).u64(1).has_value());
static_assert(!rproc::byte_view(sample, rproc::endian::little).u8(8).has_value());
// A view whose order is fixed at compile time stores no order.
static_assert(sizeof(rproc::basic_byte_view<const std::byte, rproc::endian::little>) ==
              sizeof(std::span<const std::byte>));

constexpr auto written_big = [] {
  std::array<std::byte, 8> b{};
  rproc::mutable_byte_view v(b, rproc::endian::big);
  if (!v.write_u32(2, 0xA1B2C3D4u)) throw "write failed";
  if (v.write_u32(5, 1)) throw "write outside succeeded";
  return b;
}();
static_assert(written_big[2] == std::byte{0xA1} && written_big[5] == std::byte{0xD4});
static_assert(written_big[6] == std::byte{0} && written_big[7] == std::byte{0});

}  // namespace

TEST_CASE("contains() is exact at the edges and free of overflow", "[bytes]") {
  const rproc::byte_view v(sample, rproc::endian::little);
  constexpr auto max = std::numeric_limits<std::size_t>::max();
  CHECK(v.contains(0, 8));
  CHECK(v.contains(8, 0));
  CHECK_FALSE(v.contains(8, 1));
  CHECK_FALSE(v.contains(9, 0));
  CHECK_FALSE(v.contains(4, max));     // 4 + max wraps to 3
  CHECK_FALSE(v.contains(max, 2));     // max + 2 wraps to 1
  CHECK_FALSE(v.u32(max - 1).has_value());
  CHECK_FALSE(v.subview(2, max).has_value());
  CHECK(v.subview(8).value().empty());
  CHECK_FALSE(v.subview(9).has_value());
}

TEST_CASE("subviews keep the byte order and count from their own start", "[bytes]") {
  const rproc::byte_view v(sample, rproc::endian::big);
  const auto tail = v.subview(4, 4);
  REQUIRE(tail);
  CHECK(tail->order() == rproc::endian::big);
  CHECK(tail->u32(0) == 0x05060708u);
  CHECK_FALSE(tail->u32(1).has_value());
}

TEST_CASE("a write outside the view writes nothing", "[bytes]") {
  std::array<std::byte, 4> b{};
  rproc::mutable_byte_view v(b, rproc::endian::little);
  CHECK_FALSE(v.write_u32(1, 0xFFFFFFFFu));
  CHECK(b == std::array<std::byte, 4>{});
  CHECK(v.write_u32(0, 0x11223344u));
  CHECK(b[0] == std::byte{0x44});
  CHECK(b[3] == std::byte{0x11});
}

TEST_CASE("errors carry code, offset, entry and value, and print a message", "[error]") {
  const rproc::error e{rproc::errc::vring_invalid, 0x5c, 2, 0};
  CHECK(rproc::to_string(e.code) == "vring_invalid");
  CHECK(rproc::message(e).view() ==
        "entry 2: vring_invalid at offset 0x5c: a vring has num 0 or align 0 (found 0x0)");
  const rproc::error header{rproc::errc::unsupported_version, 0, std::nullopt, 4};
  CHECK(rproc::message(header).view() ==
        "unsupported_version at offset 0x0: the table's version is not 1 (ver is 4)");
}

TEST_CASE("every code has a distinct name and a description", "[error]") {
  std::vector<std::string_view> names;
  for (int c = static_cast<int>(rproc::errc::table_too_small);
       c <= static_cast<int>(rproc::errc::rpmsg_announcement_invalid); ++c) {
    const auto code = static_cast<rproc::errc>(c);
    CHECK(rproc::to_string(code) != "unknown");
    CHECK(rproc::describe(code) != "unknown error");
    for (auto seen : names) CHECK(seen != rproc::to_string(code));
    names.push_back(rproc::to_string(code));
  }
}

TEST_CASE("result holds a value or an error", "[error]") {
  constexpr rproc::result<int> ok = 3;
  static_assert(ok.has_value() && *ok == 3);
  constexpr rproc::result<int> bad = rproc::error{rproc::errc::busy, 0, {}, 0};
  static_assert(!bad && bad.error().code == rproc::errc::busy && bad.value_or(7) == 7);
  const rproc::result<void> fine;
  CHECK(fine.has_value());
}

TEST_CASE("a message never overflows its buffer", "[error]") {
  rproc::text_buffer<8> t;
  t.append("0123456789").append_decimal(42);
  CHECK(t.view() == "0123456");
  CHECK(t.size() == 7);
}
