// The table parser on any bytes, in both byte orders, strict and not. Invariants:
// - no read outside the input (it is parsed from a heap block of exactly its size, under ASan);
// - the plain C loop of benchmarks/c_baseline gives the same verdict: the same fault (code,
//   offset, entry, value) or the same number of entries;
// - the same table byte-swapped (every u32 field, found by walking it as the validator does)
//   parses in the other byte order to the same fault or the same values;
// - strict differs from non-strict only by failing on the first unknown-type warning;
// - the mutable parse agrees with the read-only one; every view stays inside the table.
#include <rproc/table.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using rproc::endian;

void require_strict_agrees(const rproc::result<rproc::table_view>& lenient,
                           const rproc::result<rproc::table_view>& strict) {
  if (lenient) {
    const auto warnings = lenient->warnings();
    if (warnings.empty()) {
      fuzz::require(strict && strict->num() == lenient->num(), "strict accepts a clean table");
    } else {
      const rproc::warning first = *warnings.begin();
      fuzz::require(!strict && strict.error() == first,
                    "strict fails on the first unknown-type warning");
    }
    return;
  }
  fuzz::require(!strict, "strict fails where non-strict fails");
  if (strict.error() == lenient.error()) return;
  // Only an unknown entry before the non-strict fault's entry can fail first.
  fuzz::require(strict.error().code == rproc::errc::unknown_resource_type &&
                    lenient.error().entry && strict.error().entry &&
                    *strict.error().entry < *lenient.error().entry,
                "strict fails earlier only on an unknown type");
}

// The input read in `order`: checks it, then its byte-swapped twin read in the other order.
void check_order(std::span<const std::byte> input, endian order, bool strict) {
  const auto copy = fuzz::exact_copy(input);
  const rproc::parse_options options{.strict = strict};
  const auto parsed = rproc::parse_table(copy, order, options);

  auto writable = fuzz::exact_copy(input);
  const auto mutable_parsed = rproc::parse_mutable_table(writable, order, options);
  fuzz::require(mutable_parsed.has_value() == parsed.has_value(), "mutable parse agrees");
  if (parsed) {
    fuzz::require_same_values(*parsed, *mutable_parsed);
  } else {
    fuzz::require(mutable_parsed.error() == parsed.error(), "mutable parse, same fault");
    const auto text = rproc::message(parsed.error());
    fuzz::require(text.size() < 160 && !rproc::to_string(parsed.error().code).empty(),
                  "a message for every fault");
    fuzz::require(parsed.error().code >= rproc::errc::table_too_small &&
                      parsed.error().code <= rproc::errc::unknown_resource_type,
                  "a table fault code");
    fuzz::require(parsed.error().offset < std::max<std::size_t>(input.size(), 1),
                  "the fault's offset lies in the table");
  }

  // The entries the validator read: all, up to the faulty one, or none for a header fault.
  const std::uint32_t read = parsed                 ? parsed->num()
                             : parsed.error().entry ? *parsed.error().entry + 1
                                                    : 0;
  const fuzz::field_map fields(copy, order, read);
  if (order == endian::little)
    fuzz::require(fuzz::same_outcome(parsed, fuzz::c_validate(copy, strict)),
                  "the C loop agrees (little-endian)");
  if (fields.ambiguous()) return;

  const auto twin = fields.swapped();
  const auto twin_parsed = rproc::parse_table(twin, fuzz::other(order), options);
  fuzz::require(twin_parsed.has_value() == parsed.has_value(), "byte-swapped twin, same verdict");
  if (parsed)
    fuzz::require_same_values(*parsed, *twin_parsed);
  else
    fuzz::require(twin_parsed.error() == parsed.error(), "byte-swapped twin, same fault");
  if (order == endian::big)
    fuzz::require(fuzz::same_outcome(parsed, fuzz::c_validate(twin, strict)),
                  "the C loop agrees (big-endian, through the twin)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::as_bytes(data, size);
  for (const endian order : {endian::little, endian::big}) {
    check_order(input, order, false);
    check_order(input, order, true);
    const auto copy = fuzz::exact_copy(input);
    require_strict_agrees(rproc::parse_table(copy, order),
                          rproc::parse_table(copy, order, {.strict = true}));
  }
  return 0;
}
