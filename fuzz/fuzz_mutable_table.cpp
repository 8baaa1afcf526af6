// The mutable view of a live table: a host writes every field SPEC section 3 lets it write
// (carveout da/pa/len, vring da/notifyid, vdev gfeatures/status) with values from the input.
// Invariants: every write lands inside the table (an exact-size heap block, under ASan) and only
// on the bytes of the field written, in the table's byte order; the getter reads back what was
// written; and a table whose entries do not overlap stays valid, every other field unchanged.
//
// Input: byte 0 chooses the byte order (bit 0: big-endian), bytes 1..8 seed the values written,
// the rest is the table. Regression inputs: tests/fuzz_regressions/fuzz_mutable_table-*.
#include <rproc/table.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"

namespace {

namespace L = rproc::layout;

// The values to write: splitmix64, so that eight bytes of input choose them all.
class value_source {
 public:
  explicit value_source(std::uint64_t seed) : state_(seed) {}
  std::uint32_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return static_cast<std::uint32_t>(z ^ (z >> 31));
  }

 private:
  std::uint64_t state_;
};

struct field {
  std::size_t offset;
  std::size_t width;
};

class host_writes {
 public:
  host_writes(std::span<std::byte> table, rproc::endian order, value_source& values)
      : table_(table), order_(order), values_(values) {}

  const std::vector<field>& written() const noexcept { return written_; }

  // Writes v through `set`, then checks the getter and the bytes of the field.
  template <class Set, class Get>
  std::uint32_t word(std::size_t offset, Set set, Get get) {
    const std::uint32_t v = values_.next();
    set(v);
    fuzz::require(get() == v, "a written word reads back");
    fuzz::require(rproc::byte_view(table_, order_).u32(offset) == v,
                  "a word lands at its field, in the table's byte order");
    written_.push_back({offset, 4});
    return v;
  }
  template <class Set, class Get>
  std::uint8_t byte(std::size_t offset, Set set, Get get) {
    const auto v = static_cast<std::uint8_t>(values_.next());
    set(v);
    fuzz::require(get() == v, "a written byte reads back");
    fuzz::require(std::to_integer<std::uint8_t>(table_[offset]) == v, "a byte lands at its field");
    written_.push_back({offset, 1});
    return v;
  }

 private:
  std::span<std::byte> table_;
  rproc::endian order_;
  value_source& values_;
  std::vector<field> written_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  const rproc::endian order = (data[0] & 1) != 0 ? rproc::endian::big : rproc::endian::little;
  std::uint64_t seed = 0;
  std::memcpy(&seed, data + 1, sizeof seed);
  auto table = fuzz::exact_copy(fuzz::as_bytes(data + 9, size - 9));
  const auto parsed = rproc::parse_mutable_table(table, order);
  if (!parsed) return 0;
  const std::vector<std::byte> before = table;

  // Every view is taken before any write: entries may share bytes, and a write into one may
  // change what a view made later would read (a vdev's num_of_vrings, say).
  std::vector<rproc::mutable_carveout_entry> carveouts;
  std::vector<rproc::mutable_vdev_entry> vdevs;
  std::vector<std::pair<rproc::mutable_vring_view, std::size_t>> vrings;  // and their offsets
  for (const auto entry : *parsed) {
    if (const auto c = entry.as<rproc::mutable_carveout_entry>()) carveouts.push_back(*c);
    if (const auto v = entry.as<rproc::mutable_vdev_entry>()) {
      vdevs.push_back(*v);
      for (const auto vring : v->vrings())
        vrings.emplace_back(vring, v->offset() + L::vdev::vrings + vring.index() * L::vring::size);
    }
  }

  value_source values(seed);
  host_writes host(table, order, values);
  for (const auto& c : carveouts) {
    const std::size_t at = c.offset();
    host.word(
        at + L::carveout::da, [&](auto v) { c.set_da(v); }, [&] { return c.da(); });
    host.word(
        at + L::carveout::pa, [&](auto v) { c.set_pa(v); }, [&] { return c.pa(); });
    host.word(
        at + L::carveout::len, [&](auto v) { c.set_len(v); }, [&] { return c.len(); });
  }
  for (const auto& [vring, at] : vrings) {
    host.word(
        at + L::vring::da, [&](auto v) { vring.set_da(v); }, [&] { return vring.da(); });
    host.word(
        at + L::vring::notifyid, [&](auto v) { vring.set_notifyid(v); },
        [&] { return vring.notifyid(); });
  }
  for (const auto& v : vdevs) {
    const std::size_t at = v.offset();
    host.word(
        at + L::vdev::gfeatures, [&](auto x) { v.set_gfeatures(x); },
        [&] { return v.gfeatures(); });
    host.byte(
        at + L::vdev::status, [&](auto x) { v.set_status(x); }, [&] { return v.status(); });
  }

  for (std::size_t at = 0; at < table.size(); ++at) {
    if (table[at] == before[at]) continue;
    bool allowed = false;
    for (const field& f : host.written()) allowed |= at >= f.offset && at < f.offset + f.width;
    fuzz::require(allowed, "only the fields of SPEC section 3 change");
  }

  // Without shared bytes, the written table is the same table with the host's values in it. (With
  // them, a write can move an entry: a vdev may lie over the offset array, its gfeatures being an
  // offset. SPEC accepts such a table, as Linux does.)
  if (fuzz::field_map(before, order, parsed->num()).overlapping()) return 0;
  const auto again = rproc::parse_table(table, order);
  const auto original = rproc::parse_table(before, order);
  fuzz::require(again && original, "a host's writes keep a table valid");
  fuzz::require(again->num() == original->num() && again->used_bytes() == original->used_bytes(),
                "same structure after the host's writes");
  for (std::uint32_t i = 0; i < again->num(); ++i) {
    const auto now = (*again)[i];
    const auto was = (*original)[i];
    fuzz::require(now.offset() == was.offset() && now.type_id() == was.type_id(), "same entries");
    if (const auto c = now.as<rproc::carveout_entry>()) {
      const auto o = *was.as<rproc::carveout_entry>();
      fuzz::require(
          c->flags() == o.flags() && c->reserved() == o.reserved() && c->name() == o.name(),
          "a carveout keeps what the host does not write");
    }
    if (const auto v = now.as<rproc::vdev_entry>()) {
      const auto o = *was.as<rproc::vdev_entry>();
      fuzz::require(v->id() == o.id() && v->notifyid() == o.notifyid() &&
                        v->dfeatures() == o.dfeatures() && v->config_len() == o.config_len() &&
                        v->num_of_vrings() == o.num_of_vrings() &&
                        std::ranges::equal(v->config(), o.config()),
                    "a vdev keeps what the host does not write");
      for (std::uint32_t k = 0; k < v->num_of_vrings(); ++k)
        fuzz::require(v->vring(k).align() == o.vring(k).align() &&
                          v->vring(k).num() == o.vring(k).num() &&
                          v->vring(k).pa() == o.vring(k).pa(),
                      "a vring keeps what the host does not write");
    }
  }
  return 0;
}
