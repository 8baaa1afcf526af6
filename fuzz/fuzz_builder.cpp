// The builder's round trip: input bytes -> a description (one of a few entry lists, every field,
// name, vring, config byte and raw body from the input) -> try_make_table -> parse -> the same
// values. Invariants: a description with a fault (a vring with num or align 0, a raw entry of a
// standard type, a name of more than 32 bytes) fails with that fault's code, offset and entry;
// any other builds, parses in its byte order to exactly the values described at the offsets the
// layout gives, with zeroed unused slots and padding, and builds to the same values in the other
// byte order; strict parsing fails on exactly the first raw entry of an unknown type.
#include <rproc/builder.hpp>
#include <rproc/table.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace rsc = rproc::rsc;
namespace L = rproc::layout;
using fuzz::require;

std::uint32_t word(FuzzedDataProvider& in) {
  // A zero now and then: num and align 0 are faults worth reaching often.
  return in.ConsumeIntegralInRange<int>(0, 7) == 0 ? 0 : in.ConsumeIntegral<std::uint32_t>();
}

// A name from the input; more than 32 bytes is a fault of its own (name_too_long).
std::optional<rproc::resource_name> name(FuzzedDataProvider& in) {
  const std::string text = in.ConsumeRandomLengthString(40);
  const auto made = rproc::resource_name::from(text);
  if (!made) {
    require(text.size() > L::name_size && made.error().code == rproc::errc::name_too_long &&
                made.error().value == text.size(),
            "name_too_long exactly for names of more than 32 bytes");
    return std::nullopt;
  }
  require(made->view() == std::string_view(text).substr(0, text.find('\0')), "the name kept");
  return *made;
}

// Fills a description from the input; false when the input asks for a name that cannot exist.
bool fill(FuzzedDataProvider& in, rsc::carveout& c) {
  c.da = word(in), c.pa = word(in), c.len = word(in), c.flags = word(in);
  const auto n = name(in);
  if (n) c.name = *n;
  return n.has_value();
}
bool fill(FuzzedDataProvider& in, rsc::devmem& d) {
  d.da = word(in), d.pa = word(in), d.len = word(in), d.flags = word(in);
  const auto n = name(in);
  if (n) d.name = *n;
  return n.has_value();
}
bool fill(FuzzedDataProvider& in, rsc::trace& t) {
  t.da = word(in), t.len = word(in);
  const auto n = name(in);
  if (n) t.name = *n;
  return n.has_value();
}
template <std::size_t N, std::size_t C>
bool fill(FuzzedDataProvider& in, rsc::vdev_with<N, C>& v) {
  v.fields = {.id = word(in),
              .notifyid = word(in),
              .dfeatures = word(in),
              .gfeatures = word(in),
              .status = in.ConsumeIntegral<std::uint8_t>()};
  for (auto& r : v.vrings)
    r = {.da = word(in), .align = word(in), .num = word(in), .notifyid = word(in), .pa = word(in)};
  for (auto& b : v.config) b = in.ConsumeIntegral<std::uint8_t>();
  return true;
}
template <std::size_t B>
bool fill(FuzzedDataProvider& in, rsc::raw<B>& r) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      r.type_id = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
      break;
    case 1:
      r.type_id = in.ConsumeIntegralInRange<std::uint32_t>(4, 127);
      break;
    case 2:
      r.type_id = in.ConsumeIntegralInRange<std::uint32_t>(128, 512);
      break;
    default:
      r.type_id = in.ConsumeIntegral<std::uint32_t>();
      break;
  }
  for (auto& b : r.body) b = in.ConsumeIntegral<std::uint8_t>();
  return true;
}

// The first fault the builder must report for an entry at `at`, if any.
std::optional<rproc::error> fault_of(const rsc::carveout&, std::size_t, std::uint32_t) {
  return std::nullopt;
}
std::optional<rproc::error> fault_of(const rsc::devmem&, std::size_t, std::uint32_t) {
  return std::nullopt;
}
std::optional<rproc::error> fault_of(const rsc::trace&, std::size_t, std::uint32_t) {
  return std::nullopt;
}
template <std::size_t N, std::size_t C>
std::optional<rproc::error> fault_of(const rsc::vdev_with<N, C>& v, std::size_t at,
                                     std::uint32_t index) {
  for (std::size_t k = 0; k < N; ++k) {
    const std::size_t r = at + L::vdev::vrings + k * L::vring::size;
    if (v.vrings[k].num == 0) return rproc::error{rproc::errc::vring_invalid, r + 8, index, 0};
    if (v.vrings[k].align == 0) return rproc::error{rproc::errc::vring_invalid, r + 4, index, 0};
  }
  return std::nullopt;
}
template <std::size_t B>
std::optional<rproc::error> fault_of(const rsc::raw<B>& r, std::size_t at, std::uint32_t index) {
  if (r.type_id <= 3) return rproc::error{rproc::errc::raw_standard_type, at, index, r.type_id};
  return std::nullopt;
}

template <class>
inline constexpr bool is_raw = false;
template <std::size_t B>
inline constexpr bool is_raw<rsc::raw<B>> = true;

// Bytes the parser counts as used by an entry (the type word only, for vendor and unknown).
template <class Entry>
constexpr std::size_t used_size() {
  return is_raw<Entry> ? 4 : Entry::size;
}

void check(const rproc::resource_entry& e, const rsc::carveout& c) {
  const auto v = e.as<rproc::carveout_entry>();
  require(v && v->da() == c.da && v->pa() == c.pa && v->len() == c.len && v->flags() == c.flags &&
              v->reserved() == 0 && v->name() == c.name.view(),
          "a carveout as described");
}
void check(const rproc::resource_entry& e, const rsc::devmem& d) {
  const auto v = e.as<rproc::devmem_entry>();
  require(v && v->da() == d.da && v->pa() == d.pa && v->len() == d.len && v->flags() == d.flags &&
              v->reserved() == 0 && v->name() == d.name.view(),
          "a devmem as described");
}
void check(const rproc::resource_entry& e, const rsc::trace& t) {
  const auto v = e.as<rproc::trace_entry>();
  require(
      v && v->da() == t.da && v->len() == t.len && v->reserved() == 0 && v->name() == t.name.view(),
      "a trace as described");
}
template <std::size_t N, std::size_t C>
void check(const rproc::resource_entry& e, const rsc::vdev_with<N, C>& d) {
  const auto v = e.as<rproc::vdev_entry>();
  require(v && v->id() == d.fields.id && v->notifyid() == d.fields.notifyid &&
              v->dfeatures() == d.fields.dfeatures && v->gfeatures() == d.fields.gfeatures &&
              v->status() == d.fields.status && v->num_of_vrings() == N && v->config_len() == C &&
              v->reserved() == std::array<std::uint8_t, 2>{0, 0},
          "a vdev as described");
  for (std::uint32_t k = 0; k < N; ++k) {
    const auto r = v->vring(k);
    const rsc::vring& want = d.vrings[k];
    require(r.da() == want.da && r.align() == want.align && r.num() == want.num &&
                r.notifyid() == want.notifyid && r.pa() == want.pa,
            "a vring as described");
  }
  const auto config = v->config();
  require(config.size() == C && std::ranges::equal(config, d.config, {}, {},
                                                   [](std::uint8_t b) { return std::byte{b}; }),
          "the config space as described");
}
template <std::size_t B>
void check(const rproc::resource_entry& e, const rsc::raw<B>& r) {
  require(e.type_id() == r.type_id && e.kind() == rproc::kind_of(r.type_id), "a raw entry's type");
  const auto body = e.bytes().bytes().subspan(4);
  require(body.size() >= B && std::ranges::equal(body.first(B), r.body, {}, {},
                                                 [](std::uint8_t b) { return std::byte{b}; }),
          "a raw entry's body as described");
}

template <rproc::table_options Options>
inline constexpr rproc::table_options flip{
    .order = Options.order == rproc::endian::little ? rproc::endian::big : rproc::endian::little,
    .offset_slots = Options.offset_slots,
    .size = Options.size};

template <rproc::table_options Options, class... Entries>
void round_trip(const std::tuple<Entries...>& entries) {
  constexpr std::size_t n = sizeof...(Entries);
  constexpr std::size_t slots = std::max(Options.offset_slots, n);
  constexpr std::size_t content =
      L::header::size + 4 * slots + (std::size_t{0} + ... + Entries::size);
  constexpr std::array<std::size_t, n> at = [] {
    std::array<std::size_t, n> offsets{};
    [[maybe_unused]] std::size_t next = L::header::size + 4 * slots;
    [[maybe_unused]] std::size_t i = 0;
    ((offsets[i++] = next, next += Entries::size), ...);
    return offsets;
  }();

  std::optional<rproc::error> want_fault;
  std::optional<std::uint32_t> first_unknown;
  // The parser sees num offsets, not the slots a layout reserves beyond them.
  std::size_t used = L::header::size + 4 * n;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((want_fault = want_fault
                       ? want_fault
                       : fault_of(std::get<I>(entries), at[I], static_cast<std::uint32_t>(I))),
     ...);
    ((used = std::max(used, at[I] + used_size<std::tuple_element_t<I, std::tuple<Entries...>>>())),
     ...);
    (
        [&] {
          if constexpr (is_raw<std::tuple_element_t<I, std::tuple<Entries...>>>) {
            const std::uint32_t type = std::get<I>(entries).type_id;
            if (!first_unknown && rproc::kind_of(type) == rproc::entry_kind::unknown)
              first_unknown = static_cast<std::uint32_t>(I);
          }
        }(),
        ...);
  }
  (std::index_sequence_for<Entries...>{});

  const auto built =
      std::apply([](const auto&... e) { return rproc::try_make_table<Options>(e...); }, entries);
  if (want_fault) {
    require(!built && built.error() == *want_fault, "the description's first fault");
    return;
  }
  require(built.has_value(), "a description without a fault builds");
  const std::span<const std::byte> image = built->bytes;
  require(image.size() == (Options.size == 0 ? content : Options.size), "the table's size");

  const rproc::byte_view raw(image, Options.order);
  require(raw.u32(L::header::ver.offset) == 1u && raw.u32(L::header::num.offset) == n && raw.u32(L::header::reserved0.offset) == 0u &&
              raw.u32(L::header::reserved1.offset) == 0u,
          "the header as built");
  for (std::size_t k = n; k < slots; ++k)
    require(raw.u32(L::header::offsets + 4 * k) == 0u, "unused offset slots are 0");
  require(std::all_of(image.begin() + static_cast<std::ptrdiff_t>(content), image.end(),
                      [](std::byte b) { return b == std::byte{0}; }),
          "padding is 0");

  const auto copy = fuzz::exact_copy(image);
  const auto parsed = rproc::parse_table(copy, Options.order);
  require(parsed && parsed->num() == n, "the built table parses");
  require(parsed->used_bytes() == used, "used_bytes as laid out");
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((require((*parsed)[I].offset() == at[I], "entries laid out in order"),
      check((*parsed)[I], std::get<I>(entries))),
     ...);
  }
  (std::index_sequence_for<Entries...>{});

  const auto strict = rproc::parse_table(copy, Options.order, {.strict = true});
  if (first_unknown) {
    require(!strict && strict.error().code == rproc::errc::unknown_resource_type &&
                strict.error().entry == first_unknown &&
                strict.error().offset == at[*first_unknown],
            "strict fails on the first unknown raw entry");
  } else {
    require(strict.has_value(), "strict accepts a table without unknown entries");
  }

  constexpr rproc::table_options flipped = flip<Options>;
  const auto other = std::apply(
      [](const auto&... e) { return rproc::try_make_table<flip<Options>>(e...); }, entries);
  require(other.has_value(), "the other byte order builds too");
  const auto other_copy = fuzz::exact_copy(other->bytes);
  const auto other_parsed = rproc::parse_table(other_copy, flipped.order);
  require(other_parsed.has_value(), "the other byte order parses");
  fuzz::require_same_values(*parsed, *other_parsed, fuzz::vendor_bodies::unrelated);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check((*other_parsed)[I], std::get<I>(entries)), ...);
  }
  (std::index_sequence_for<Entries...>{});
}

// Fills every entry of an entry list from the input, then runs the round trip in one of the
// table layouts chosen by the input.
template <class... Entries>
void run(FuzzedDataProvider& in) {
  std::tuple<Entries...> entries{};
  const bool filled = std::apply([&](auto&... e) { return (fill(in, e) && ...); }, entries);
  if (!filled) return;
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      round_trip<rproc::table_options{}>(entries);
      break;
    case 1:
      round_trip<rproc::table_options{.order = rproc::endian::big}>(entries);
      break;
    default:
      round_trip<rproc::table_options{
          .order = rproc::endian::big, .offset_slots = 8, .size = 2048}>(entries);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      run<>(in);
      break;
    case 1:
      run<rsc::carveout>(in);
      break;
    case 2:
      run<rsc::devmem, rsc::trace>(in);
      break;
    case 3:
      run<rsc::vdev_with<2, 0>>(in);
      break;
    case 4:
      run<rsc::vdev_with<1, 4>, rsc::carveout>(in);
      break;
    case 5:
      run<rsc::trace, rsc::vdev_with<0, 0>, rsc::raw<8>>(in);
      break;
    case 6:
      run<rsc::carveout, rsc::devmem, rsc::trace, rsc::vdev_with<2, 8>, rsc::raw<0>>(in);
      break;
    default:
      run<rsc::vdev_with<2, 0>, rsc::vdev_with<2, 0>, rsc::raw<12>, rsc::trace>(in);
      break;
  }
  return 0;
}
