// The validation catalogue of SPEC section 2: every table code from a fixture, with the offset of
// the faulty field and the entry at fault, checked at compile time and at run time.
#include <rproc/builder.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "support.hpp"

namespace {

using rproc::errc;
namespace rsc = rproc::rsc;

// Entries at 32 (carveout), 88 (devmem), 144 (trace), 192 (vdev, 2 vrings, 4 config bytes);
// 264 bytes in all.
constexpr auto sample_entries() {
  return std::tuple{
      rsc::carveout{.len = 0x10000, .name = "text"},
      rsc::devmem{.da = 0x40000000, .pa = 0x40000000, .len = 0x1000, .name = "regs"},
      rsc::trace{.da = 0x20000000, .len = 0x800, .name = "trace:log"},
      rsc::vdev{.id = 7, .dfeatures = 1}
          .with_vrings(rsc::vring{.align = 16, .num = 8}, rsc::vring{.align = 16, .num = 8})
          .with_config(std::array<std::uint8_t, 4>{1, 2, 3, 4})};
}
template <rproc::table_options Options = rproc::table_options{}>
consteval auto sample_table() {
  constexpr auto e = sample_entries();
  return rproc::make_table<Options>(std::get<0>(e), std::get<1>(e), std::get<2>(e),
                                    std::get<3>(e))
      .bytes;
}
constexpr auto sample = sample_table();
constexpr auto sample_padded = sample_table<rproc::table_options{.size = 6000}>();
static_assert(sample.size() == 264);

constexpr std::size_t carveout_at = 32, devmem_at = 88, trace_at = 144, vdev_at = 192;

struct expectation {
  errc code;
  std::size_t offset;
  std::optional<std::uint32_t> entry;
};

constexpr bool fails_with(std::span<const std::byte> bytes, expectation want,
                          rproc::parse_options options = {}) {
  const auto parsed = rproc::parse_table(bytes, rproc::endian::little, options);
  return !parsed && parsed.error().code == want.code && parsed.error().offset == want.offset &&
         parsed.error().entry == want.entry;
}

// Each fixture also runs at run time, on an exact-size heap copy (see below).
#define FIXTURE(name, bytes_expr, code, offset, entry)                       \
  constexpr auto name = bytes_expr;                                          \
  static_assert(fails_with(name, expectation{code, offset, entry}), #name);

constexpr std::array<std::byte, 15> fifteen_bytes = test::prefix<15>(sample);

FIXTURE(too_small, fifteen_bytes, errc::table_too_small, 0, std::nullopt)
FIXTURE(version_2, test::with_u32(sample, 0, 2), errc::unsupported_version, 0, std::nullopt)
FIXTURE(version_0, test::with_u32(sample, 0, 0), errc::unsupported_version, 0, std::nullopt)
FIXTURE(reserved0, test::with_u32(sample, 8, 1), errc::header_reserved_nonzero, 8, std::nullopt)
FIXTURE(reserved1, test::with_u32(sample, 12, 0x80000000u), errc::header_reserved_nonzero, 12,
        std::nullopt)
// 16 + 4 * 0x40000000 wraps to 16 in 32 bits.
FIXTURE(num_wraps, test::with_u32(sample, 4, 0x40000000u), errc::offsets_truncated, 4, std::nullopt)
FIXTURE(num_max, test::with_u32(sample, 4, 0xFFFFFFFFu), errc::offsets_truncated, 4, std::nullopt)
// 16 + 4 * 63 = 268 > 264.
FIXTURE(num_one_too_many, test::with_u32(sample, 4, 63), errc::offsets_truncated, 4, std::nullopt)
// The type word at size - 3 does not fit.
FIXTURE(offset_size_minus_3, test::with_u32(sample, 16 + 4 * 2, 264 - 3),
        errc::entry_offset_out_of_bounds, 24, 2u)
FIXTURE(offset_at_size, test::with_u32(sample, 16, 264), errc::entry_offset_out_of_bounds, 16, 0u)
// Linux keeps offsets in an int: 2^31 escapes its check; not rproc's.
FIXTURE(offset_2_pow_31, test::with_u32(sample, 16 + 4, 0x80000000u),
        errc::entry_offset_out_of_bounds, 20, 1u)
FIXTURE(offset_max, test::with_u32(sample, 16 + 12, 0xFFFFFFFFu), errc::entry_offset_out_of_bounds,
        28, 3u)
// A carveout moved to 264 - 55: its 52-byte body is one byte short.
FIXTURE(carveout_truncated, test::with_u32(test::with_u32(sample, 16, 264 - 55), 264 - 55, 0),
        errc::entry_truncated, 264 - 55, 0u)
// The trace is the last entry of a table cut one byte before the trace's end.
FIXTURE(trace_body_truncated, (test::with_u32(test::prefix<191>(sample), 4, 3)),
        errc::entry_truncated, trace_at, 2u)
// A vdev moved to size - 24: its 24 fixed bytes do not fit after its type word.
FIXTURE(vdev_fixed_truncated, test::with_u32(test::with_u32(sample, 28, 264 - 24), 264 - 24, 3),
        errc::entry_truncated, 264 - 24, 3u)
FIXTURE(config_len_max, test::with_u32(sample, vdev_at + 20, 0xFFFFFFFFu), errc::vdev_truncated,
        vdev_at + 20, 3u)
FIXTURE(config_len_one_more, test::with_u32(sample, vdev_at + 20, 5), errc::vdev_truncated,
        vdev_at + 20, 3u)
FIXTURE(vrings_255_cut, test::with_u8(sample, vdev_at + 25, 255), errc::vdev_truncated,
        vdev_at + 25, 3u)
FIXTURE(carveout_reserved, test::with_u32(sample, carveout_at + 20, 1),
        errc::entry_reserved_nonzero, carveout_at + 20, 0u)
FIXTURE(devmem_reserved, test::with_u32(sample, devmem_at + 20, 7), errc::entry_reserved_nonzero,
        devmem_at + 20, 1u)
FIXTURE(trace_reserved, test::with_u32(sample, trace_at + 12, 1), errc::entry_reserved_nonzero,
        trace_at + 12, 2u)
FIXTURE(vdev_reserved_1, test::with_u8(sample, vdev_at + 27, 1), errc::entry_reserved_nonzero,
        vdev_at + 27, 3u)
// Reserved is checked before the vring limit (Linux's order).
FIXTURE(vdev_reserved_and_3_vrings, test::with_u8(test::with_u8(sample_padded, vdev_at + 26, 9),
                                                  vdev_at + 25, 3),
        errc::entry_reserved_nonzero, vdev_at + 26, 3u)
FIXTURE(vrings_3, test::with_u8(sample_padded, vdev_at + 25, 3), errc::vdev_too_many_vrings,
        vdev_at + 25, 3u)
FIXTURE(vrings_255_fit, test::with_u8(sample_padded, vdev_at + 25, 255),
        errc::vdev_too_many_vrings, vdev_at + 25, 3u)
FIXTURE(vring1_num_0, test::with_u32(sample, vdev_at + 28 + 20 + 8, 0), errc::vring_invalid,
        vdev_at + 28 + 20 + 8, 3u)
FIXTURE(vring0_align_0, test::with_u32(sample, vdev_at + 28 + 4, 0), errc::vring_invalid,
        vdev_at + 28 + 4, 3u)
// The first failure is the one reported: entry 0's fault before entry 3's.
FIXTURE(two_faults, test::with_u32(test::with_u32(sample, vdev_at + 28 + 4, 0), carveout_at + 20, 1),
        errc::entry_reserved_nonzero, carveout_at + 20, 0u)

constexpr auto unknown_type_5 = test::with_u32(sample, trace_at, 5);
static_assert(rproc::parse_table(unknown_type_5).has_value());
static_assert(fails_with(unknown_type_5, {errc::unknown_resource_type, trace_at, 2u}, {.strict = true}));

struct runtime_case {
  const char* name;
  std::span<const std::byte> bytes;
  expectation want;
  rproc::parse_options options{};
};

const runtime_case catalogue[] = {
    {"too_small", too_small, {errc::table_too_small, 0, {}}},
    {"version_2", version_2, {errc::unsupported_version, 0, {}}},
    {"version_0", version_0, {errc::unsupported_version, 0, {}}},
    {"reserved0", reserved0, {errc::header_reserved_nonzero, 8, {}}},
    {"reserved1", reserved1, {errc::header_reserved_nonzero, 12, {}}},
    {"num_wraps", num_wraps, {errc::offsets_truncated, 4, {}}},
    {"num_max", num_max, {errc::offsets_truncated, 4, {}}},
    {"num_one_too_many", num_one_too_many, {errc::offsets_truncated, 4, {}}},
    {"offset_size_minus_3", offset_size_minus_3, {errc::entry_offset_out_of_bounds, 24, 2u}},
    {"offset_at_size", offset_at_size, {errc::entry_offset_out_of_bounds, 16, 0u}},
    {"offset_2_pow_31", offset_2_pow_31, {errc::entry_offset_out_of_bounds, 20, 1u}},
    {"offset_max", offset_max, {errc::entry_offset_out_of_bounds, 28, 3u}},
    {"carveout_truncated", carveout_truncated, {errc::entry_truncated, 264 - 55, 0u}},
    {"trace_body_truncated", trace_body_truncated, {errc::entry_truncated, trace_at, 2u}},
    {"vdev_fixed_truncated", vdev_fixed_truncated, {errc::entry_truncated, 264 - 24, 3u}},
    {"config_len_max", config_len_max, {errc::vdev_truncated, vdev_at + 20, 3u}},
    {"config_len_one_more", config_len_one_more, {errc::vdev_truncated, vdev_at + 20, 3u}},
    {"vrings_255_cut", vrings_255_cut, {errc::vdev_truncated, vdev_at + 25, 3u}},
    {"carveout_reserved", carveout_reserved, {errc::entry_reserved_nonzero, carveout_at + 20, 0u}},
    {"devmem_reserved", devmem_reserved, {errc::entry_reserved_nonzero, devmem_at + 20, 1u}},
    {"trace_reserved", trace_reserved, {errc::entry_reserved_nonzero, trace_at + 12, 2u}},
    {"vdev_reserved_1", vdev_reserved_1, {errc::entry_reserved_nonzero, vdev_at + 27, 3u}},
    {"vdev_reserved_and_3_vrings", vdev_reserved_and_3_vrings,
     {errc::entry_reserved_nonzero, vdev_at + 26, 3u}},
    {"vrings_3", vrings_3, {errc::vdev_too_many_vrings, vdev_at + 25, 3u}},
    {"vrings_255_fit", vrings_255_fit, {errc::vdev_too_many_vrings, vdev_at + 25, 3u}},
    {"vring1_num_0", vring1_num_0, {errc::vring_invalid, vdev_at + 48 + 8, 3u}},
    {"vring0_align_0", vring0_align_0, {errc::vring_invalid, vdev_at + 28 + 4, 3u}},
    {"two_faults", two_faults, {errc::entry_reserved_nonzero, carveout_at + 20, 0u}},
    {"unknown_type_5_strict", unknown_type_5, {errc::unknown_resource_type, trace_at, 2u}, {.strict = true}},
};

}  // namespace

TEST_CASE("every fixture of the catalogue fails with its code, offset and entry", "[table]") {
  for (const auto& c : catalogue) {
    INFO(c.name);
    const auto bytes = test::exact_copy(c.bytes);  // ASan sees any read past the end
    const auto parsed = rproc::parse_table(bytes, rproc::endian::little, c.options);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(rproc::to_string(parsed.error().code) == rproc::to_string(c.want.code));
    CHECK(parsed.error().offset == c.want.offset);
    CHECK(parsed.error().entry == c.want.entry);
  }
}

TEST_CASE("the catalogue covers every table code of SPEC section 2", "[table]") {
  for (int c = static_cast<int>(errc::table_too_small);
       c <= static_cast<int>(errc::unknown_resource_type); ++c) {
    bool covered = false;
    for (const auto& k : catalogue) covered = covered || static_cast<int>(k.want.code) == c;
    INFO(rproc::to_string(static_cast<errc>(c)));
    CHECK(covered);
  }
}

TEST_CASE("an empty span and a header-only table", "[table]") {
  CHECK(rproc::parse_table({}).error().code == errc::table_too_small);
  const auto header_only = test::exact_copy(test::prefix<16>(test::with_u32(sample, 4, 0)));
  const auto parsed = rproc::parse_table(header_only);
  REQUIRE(parsed);
  CHECK(parsed->num() == 0);
  CHECK(parsed->empty());
  CHECK(parsed->begin() == parsed->end());
}

TEST_CASE("a table that exactly fills its span parses; one byte less does not", "[table]") {
  const auto exact = test::exact_copy(sample);
  REQUIRE(rproc::parse_table(exact));
  CHECK(rproc::parse_table(exact)->used_bytes() == exact.size());
  const auto short_by_one = test::exact_copy(std::span(sample).first(263));
  const auto parsed = rproc::parse_table(short_by_one);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == errc::vdev_truncated);
  CHECK(parsed.error().offset == vdev_at + 20);  // the config space no longer fits
  CHECK(parsed.error().entry == 3u);
}

TEST_CASE("unknown types are warnings the caller can list, errors when strict", "[table]") {
  const auto bytes = test::exact_copy(unknown_type_5);
  const auto parsed = rproc::parse_table(bytes);
  REQUIRE(parsed);
  std::vector<rproc::warning> warnings(parsed->warnings().begin(), parsed->warnings().end());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].code == errc::unknown_resource_type);
  CHECK(warnings[0].offset == trace_at);
  CHECK(warnings[0].entry == 2u);
  CHECK(warnings[0].value == 5);
  CHECK(rproc::parse_table(sample)->warnings().empty());
  // Vendor types (128..512) are neither warnings nor errors; 127 and 513 are unknown.
  for (std::uint32_t type : {128u, 300u, 512u}) {
    const auto vendor = test::exact_copy(test::with_u32(sample, trace_at, type));
    CHECK(rproc::parse_table(vendor, rproc::endian::little, {.strict = true}));
  }
  for (std::uint32_t type : {4u, 127u, 513u, 0xFFFFFFFFu}) {
    const auto unknown = test::exact_copy(test::with_u32(sample, trace_at, type));
    CHECK(rproc::parse_table(unknown)->warnings().size() == 1);
    CHECK(rproc::parse_table(unknown, rproc::endian::little, {.strict = true}).error().code ==
          errc::unknown_resource_type);
  }
}

TEST_CASE("a big-endian table is read in its own byte order", "[table]") {
  constexpr auto big = sample_table<rproc::table_options{.order = rproc::endian::big}>();
  static_assert(rproc::parse_table(big, rproc::endian::big).has_value());
  // Read as little-endian, ver is 0x01000000.
  const auto wrong = rproc::parse_table(big, rproc::endian::little);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::unsupported_version);
  CHECK(wrong.error().value == 0x01000000u);
  // The catalogue holds in big-endian too.
  const auto bad = test::exact_copy(test::with_u32(big, vdev_at + 28 + 8, 0, rproc::endian::big));
  const auto parsed = rproc::parse_table(bad, rproc::endian::big);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == errc::vring_invalid);
  CHECK(parsed.error().offset == vdev_at + 28 + 8);
}

TEST_CASE("entries may overlap and point anywhere inside the table", "[table]") {
  // Linux does not forbid two offsets naming the same entry; neither does rproc.
  const auto twice = test::exact_copy(test::with_u32(sample, 16 + 4, carveout_at));
  const auto parsed = rproc::parse_table(twice);
  REQUIRE(parsed);
  CHECK((*parsed)[1].kind() == rproc::entry_kind::carveout);
  CHECK((*parsed)[1].offset() == carveout_at);
}
