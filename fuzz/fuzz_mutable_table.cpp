// The mutable view of a live table: a host writes every field SPEC section 3 lets it write (as
// for_each_host_field gives them from layout.hpp: carveout da/pa/len, vring da/notifyid, vdev
// gfeatures/status) through the views' set(), with values from the input. Invariants: every
// write lands inside the table (an exact-size heap block, under ASan) and only on the bytes of
// the field written, in the table's byte order; get() reads back what was written; and a table
// whose entries do not overlap stays valid, every other field unchanged.
//
// Input: byte 0 chooses the byte order (bit 0: big-endian), bytes 1..8 seed the values written,
// the rest is the table. Regression inputs: tests/fuzz_regressions/fuzz_mutable_table-*.
#include <rproc/table.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"

namespace {

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

// One field of SPEC section 3 and the view that holds it: its entry, or for a vring's field, the
// vring.
struct host_write {
  rproc::mutable_resource_entry entry;
  std::optional<rproc::mutable_vring_view> vring;
  rproc::host_field field;
};

// Writes a value through the view's set(), then checks get() and the bytes of the field.
void write(const host_write& w, std::span<std::byte> table, rproc::endian order,
           value_source& values) {
  const rproc::field& what = w.field.what;
  const std::uint32_t v = what.width == 1 ? values.next() & 0xFFu : values.next();
  fuzz::require(w.vring ? w.vring->set(what, v) : w.entry.set(what, v), "a host field is writable");
  fuzz::require((w.vring ? w.vring->get(what) : w.entry.get(what)) == v,
                "a written field reads back");
  const rproc::byte_view bytes(table, order);
  const bool landed =
      what.width == 1 ? bytes.u8(w.field.offset) == v : bytes.u32(w.field.offset) == v;
  fuzz::require(landed, "a value lands at its field, in the table's byte order");
}

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
  std::vector<host_write> writes;
  for (const auto entry : *parsed) {
    rproc::for_each_host_field_of(entry, [&](const rproc::host_field& f) {
      std::optional<rproc::mutable_vring_view> vring;
      if (f.vring) vring = entry.as<rproc::mutable_vdev_entry>()->vring(*f.vring);
      writes.push_back({entry, vring, f});
    });
  }

  value_source values(seed);
  for (const host_write& w : writes) write(w, table, order, values);

  for (std::size_t at = 0; at < table.size(); ++at) {
    if (table[at] == before[at]) continue;
    bool allowed = false;
    for (const host_write& w : writes) allowed |= at >= w.field.offset && at < w.field.end();
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
