// Parse + validate of a resource table against its two baselines, on the same bytes: memcpy (the
// floor: a host copies the table anyway) and a plain C validation loop (c_baseline/). Tables: the
// real ones of tests/data and synthetic ones of 1, 16 and 256 entries built with make_table.
// Each is called as a caller calls it: the C loop as a function of another translation unit,
// parse_table with the byte order known at the call (inlined or not, as the compiler decides for
// any caller); the loop keeps both from being hoisted or folded. Each is timed alone and followed
// by a walk of every entry (one field read per entry through the typed views; the C loop's
// rsc_entries_digest). Targets (issue 12): rproc <= 1.05x the C loop, alone and with the walk;
// rproc <= 2x memcpy.
#include <rproc/builder.hpp>
#include <rproc/table.hpp>

#include <benchmark/benchmark.h>

#include <corpus_fixtures.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "c_baseline/validate_table.h"
#include "page_bytes.hpp"
#include "ratio_report.hpp"

namespace {

namespace rsc = rproc::rsc;

// Entry I of a synthetic table: vdev (2 vrings), carveout, trace, devmem, vdev, ...
template <std::size_t I>
constexpr auto synthetic_entry() {
  constexpr auto k = static_cast<std::uint32_t>(I);
  if constexpr (I % 4 == 0) {
    return rsc::vdev{.id = rproc::virtio::id_rpmsg, .notifyid = k, .dfeatures = 1}.with_vrings(
        rsc::vring{.align = 16, .num = 256, .notifyid = 2 * k},
        rsc::vring{.align = 16, .num = 256, .notifyid = 2 * k + 1});
  } else if constexpr (I % 4 == 1) {
    return rsc::carveout{.da = 0x10000000 + k * 0x10000, .len = 0x10000, .name = "carveout"};
  } else if constexpr (I % 4 == 2) {
    return rsc::trace{.da = 0x20000000 + k * 0x1000, .len = 0x1000, .name = "trace"};
  } else {
    return rsc::devmem{
        .da = 0x40000000 + k * 0x1000, .pa = 0x40000000 + k * 0x1000, .len = 0x1000,
        .name = "devmem"};
  }
}

template <rproc::table_options Options, std::size_t... I>
consteval auto synthetic(std::index_sequence<I...>) {
  return rproc::make_table<Options>(synthetic_entry<I>()...);
}
template <std::size_t N, rproc::endian Order = rproc::endian::little>
constexpr auto synthetic_table =
    synthetic<rproc::table_options{.order = Order}>(std::make_index_sequence<N>{});

static_assert(synthetic_table<1>.size() == 16 + 4 + 68);
static_assert(synthetic_table<256>.size() == 16 + 4 * 256 + 64 * (68 + 56 + 48 + 56));

rproc::result<rproc::table_view> rproc_parse(std::span<const std::byte> bytes,
                                             rproc::endian order) {
  return rproc::parse_table(bytes, order);
}

// The C loop's outcome as an rproc::result, to check that the two agree.
rproc::result<std::uint32_t> c_parse(std::span<const std::byte> bytes) {
  std::uint32_t num = 0;
  rsc_fault fault{};
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (rsc_validate_table(data, bytes.size(), 0, &num, &fault) == RSC_OK) return num;
  return rproc::error{static_cast<rproc::errc>(fault.code), fault.offset,
                      fault.entry == RSC_NO_ENTRY ? std::nullopt
                                                  : std::optional<std::uint32_t>(fault.entry),
                      fault.value};
}

// What the walk reads of each entry: the field rsc_entries_digest adds up.
constexpr std::uint64_t entry_digest(const rproc::resource_entry& e) noexcept {
  return e.visit(rproc::overloaded{
      [](const rproc::carveout_entry& c) -> std::uint64_t { return c.da(); },
      [](const rproc::devmem_entry& d) -> std::uint64_t { return d.pa(); },
      [](const rproc::trace_entry& t) -> std::uint64_t { return t.len(); },
      [](const rproc::vdev_entry& v) -> std::uint64_t {
        return std::uint64_t{v.id()} + v.num_of_vrings();
      },
      [](const auto& other) -> std::uint64_t { return other.type_id(); }});
}

template <rproc::endian Order>
std::uint64_t rproc_parse_and_walk(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  if (const auto parsed = rproc::parse_table(bytes, Order))
    for (const auto e : *parsed) sum += entry_digest(e);
  return sum;
}

std::uint64_t c_parse_and_walk(const unsigned char* data, std::size_t size) {
  std::uint32_t num = 0;
  rsc_fault fault;
  if (rsc_validate_table(data, size, 0, &num, &fault) != RSC_OK) return 0;
  return rsc_entries_digest(data, num);
}

using rproc_bench::page_bytes;

// One table to measure: its bytes in the order rproc reads, and the same table little-endian for
// the C loop (which reads the host's order, as the kernel does): the same bytes when those are.
struct table_case {
  std::string name;
  page_bytes bytes_storage;
  rproc::endian order;
  std::optional<page_bytes> host_storage;
  std::span<const std::byte> bytes() const noexcept { return bytes_storage.span(); }
  std::span<const std::byte> host_bytes() const noexcept {
    return host_storage ? host_storage->span() : bytes();
  }
};

bool agree(const table_case& t) {
  const auto ours = rproc_parse(t.bytes(), t.order);
  const auto theirs = c_parse(t.host_bytes());
  if (ours.has_value() != theirs.has_value()) return false;
  if (!ours) return ours.error() == theirs.error();
  const auto* host = reinterpret_cast<const unsigned char*>(t.host_bytes().data());
  const std::uint64_t walked = t.order == rproc::endian::big
                                   ? rproc_parse_and_walk<rproc::endian::big>(t.bytes())
                                   : rproc_parse_and_walk<rproc::endian::little>(t.bytes());
  return ours->num() == *theirs && walked == c_parse_and_walk(host, t.host_bytes().size());
}

// parse_table alone, or followed by a walk of every entry.
template <rproc::endian Order, bool Walk>
void measure_rproc(benchmark::State& state, std::span<const std::byte> bytes) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    if constexpr (Walk) {
      auto sum = rproc_parse_and_walk<Order>(bytes);
      benchmark::DoNotOptimize(sum);
    } else {
      auto parsed = rproc::parse_table(bytes, Order);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

template <bool Walk>
void bm_rproc(benchmark::State& state, const table_case& t) {
  if (!agree(t)) {
    state.SkipWithError("rproc and the C loop disagree on this table");
    return;
  }
  if (t.order == rproc::endian::big) measure_rproc<rproc::endian::big, Walk>(state, t.bytes());
  else measure_rproc<rproc::endian::little, Walk>(state, t.bytes());
}

void bm_c_walk(benchmark::State& state, const table_case& t) {
  const auto* data = reinterpret_cast<const unsigned char*>(t.host_bytes().data());
  const std::size_t size = t.host_bytes().size();
  for (auto _ : state) {
    benchmark::DoNotOptimize(data);
    auto sum = c_parse_and_walk(data, size);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

void bm_c_loop(benchmark::State& state, const table_case& t) {
  const auto* data = reinterpret_cast<const unsigned char*>(t.host_bytes().data());
  const std::size_t size = t.host_bytes().size();
  for (auto _ : state) {
    benchmark::DoNotOptimize(data);
    std::uint32_t num = 0;
    rsc_fault fault;
    auto code = rsc_validate_table(data, size, 0, &num, &fault);
    benchmark::DoNotOptimize(code);
    benchmark::DoNotOptimize(num);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

void bm_memcpy(benchmark::State& state, const table_case& t) {
  const std::span<const std::byte> bytes = t.bytes();
  const page_bytes copy(bytes);
  const std::byte* from = bytes.data();
  std::byte* to = copy.span().data();
  for (auto _ : state) {
    benchmark::DoNotOptimize(from);
    benchmark::DoNotOptimize(to);
    std::memcpy(to, from, bytes.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

std::vector<table_case> all_cases() {
  std::vector<table_case> cases;
  const auto little = [&](std::string name, std::span<const std::byte> bytes) {
    cases.push_back({std::move(name), page_bytes(bytes), rproc::endian::little, std::nullopt});
  };
  for (const auto& f : fixtures::all) little(std::string(f.name), f.bytes);
  little("synthetic-1", synthetic_table<1>.bytes);
  little("synthetic-16", synthetic_table<16>.bytes);
  little("synthetic-256", synthetic_table<256>.bytes);
  // rproc reading a big-endian remote's table; the C loop reads the same table in host order.
  cases.push_back({"synthetic-16-big-endian",
                   page_bytes(synthetic_table<16, rproc::endian::big>.bytes), rproc::endian::big,
                   page_bytes(synthetic_table<16>.bytes)});
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  static const std::vector<table_case> cases = all_cases();
  for (const table_case& t : cases) {
    const std::string group = "table/" + t.name + "/";
    rproc_bench::add(group + "rproc", bm_rproc<false>, std::cref(t));
    rproc_bench::add(group + "c_loop", bm_c_loop, std::cref(t));
    rproc_bench::add(group + "memcpy", bm_memcpy, std::cref(t));
    rproc_bench::add(group + "rproc_walk", bm_rproc<true>, std::cref(t));
    rproc_bench::add(group + "c_walk", bm_c_walk, std::cref(t));
  }
  static constexpr rproc_bench::comparison comparisons[] = {
      {"rproc", "c_loop", 1.05},
      {"rproc_walk", "c_walk", 1.05},
      {"rproc", "memcpy", 2.0},
      {"c_loop", "memcpy", 0},
  };
  return rproc_bench::run_benchmarks(argc, argv, comparisons);
}
