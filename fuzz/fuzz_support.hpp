// What the harnesses share: invariant checks that abort with a message, exact-size heap copies,
// the C validation loop as an oracle, a map of a table's fields (which bytes are words, which are
// bytes) that turns a table into the same table in the other byte order, and a deep comparison of
// two parsed tables.
#pragma once

#include <rproc/table.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <source_location>
#include <span>
#include <string_view>
#include <vector>

#include "validate_table.h"

namespace fuzz {

// An invariant: when it does not hold, say which and abort (libFuzzer then saves the input).
inline void require(bool holds, const char* what,
                    std::source_location where = std::source_location::current()) {
  if (holds) return;
  std::fprintf(stderr, "%s:%u: invariant broken: %s\n", where.file_name(),
               static_cast<unsigned>(where.line()), what);
  std::abort();
}

// A heap block of exactly these bytes: a read or a write one byte outside is an ASan error.
inline std::vector<std::byte> exact_copy(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// True when `part` lies inside `whole` (an empty part anywhere in or at the end of it).
inline bool inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
  const auto* begin = whole.data();
  const auto* end = whole.data() + whole.size();
  if (part.empty()) return part.data() == nullptr || (part.data() >= begin && part.data() <= end);
  return part.data() >= begin && part.data() + part.size() <= end;
}

// The C loop's verdict (host order: little-endian here) in rproc's terms.
inline rproc::result<std::uint32_t> c_validate(std::span<const std::byte> bytes, bool strict) {
  std::uint32_t num = 0;
  rsc_fault fault{};
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (rsc_validate_table(data, bytes.size(), strict ? 1 : 0, &num, &fault) == RSC_OK) return num;
  return rproc::error{
      static_cast<rproc::errc>(fault.code), fault.offset,
      fault.entry == RSC_NO_ENTRY ? std::nullopt : std::optional<std::uint32_t>(fault.entry),
      fault.value};
}

template <class T>
bool same_outcome(const rproc::result<T>& a, const rproc::result<std::uint32_t>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return a.error() == b.error();
  if constexpr (std::is_same_v<T, std::uint32_t>)
    return *a == *b;
  else
    return a->num() == *b;
}

inline rproc::endian other(rproc::endian order) {
  return order == rproc::endian::little ? rproc::endian::big : rproc::endian::little;
}

// Which bytes of a table are the u32 fields, and which are u8 fields, names or config space, as
// the validator reads them; built from the table read in one byte order. Swapping every u32 then
// gives the table the other byte order reads as the same. Where two fields overlap differently
// (entries sharing bytes, an offset pointing into the header), no swap keeps both: `ambiguous()`.
class field_map {
 public:
  // Maps the header and the first `entries` entries (those the validator read).
  field_map(std::span<const std::byte> table, rproc::endian order, std::uint32_t entries)
      : table_(table), owner_(table.size(), unclaimed) {
    const rproc::byte_view t(table, order);
    fields<rproc::layout::header>(0);
    const auto ver = t.u32(rproc::layout::header::ver.offset);
    const auto num = t.u32(rproc::layout::header::num.offset);
    if (!ver || !num) return;
    const std::uint32_t count = std::min(*num, entries);
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t slot = rproc::layout::header::offsets + std::size_t{i} * 4;
      const auto at = t.u32(slot);
      if (!at) break;
      word(slot);
      entry(t, *at);
    }
  }

  bool ambiguous() const noexcept { return ambiguous_; }
  // Some byte belongs to two fields, even two that agree on it (an entry in the offset array,
  // two offsets to one entry): a write to one field is a write to the other.
  bool overlapping() const noexcept { return overlapping_; }

  // The table as the other byte order writes it.
  std::vector<std::byte> swapped() const {
    std::vector<std::byte> out(table_.begin(), table_.end());
    for (std::size_t at = 0; at < owner_.size(); ++at)
      if (owner_[at] == static_cast<std::int64_t>(at)) std::reverse(&out[at], &out[at] + 4);
    return out;
  }

 private:
  static constexpr std::int64_t unclaimed = -1;
  static constexpr std::int64_t byte_field = -2;

  void claim(std::size_t at, std::int64_t owner) {
    if (at >= owner_.size()) return;
    if (owner_[at] == unclaimed) {
      owner_[at] = owner;
      return;
    }
    overlapping_ = true;
    if (owner_[at] != owner) ambiguous_ = true;
  }
  void word(std::size_t at) {
    if (at > owner_.size() || owner_.size() - at < 4) return;
    for (std::size_t k = 0; k < 4; ++k) claim(at + k, static_cast<std::int64_t>(at));
  }
  void bytes(std::size_t at, std::size_t length) {
    for (std::size_t k = 0; k < length && at + k < owner_.size(); ++k) claim(at + k, byte_field);
  }

  // The fields of `Holder` (a struct of layout.hpp) lying at `at`, from offset `from` on: the
  // words as words, the rest (u8 fields, names, reserved bytes) as bytes.
  template <class Holder>
  void fields(std::size_t at, std::size_t from = 0) {
    for (const rproc::field& f : Holder::fields) {
      if (f.offset < from) continue;
      if (f.width == 4)
        word(at + f.offset);
      else
        bytes(at + f.offset, f.width);
    }
  }

  void entry(const rproc::byte_view& t, std::size_t at) {
    namespace L = rproc::layout;
    const auto type = t.u32(at);
    if (!type) return;
    word(at);
    const std::size_t size = t.size();
    const auto fits = [&](std::size_t length) { return length <= size - at; };
    const std::size_t body = L::type.end();
    switch (rproc::kind_of(*type)) {
      case rproc::entry_kind::carveout:
      case rproc::entry_kind::devmem:
        if (fits(L::carveout::size)) fields<L::carveout>(at, body);
        return;
      case rproc::entry_kind::trace:
        if (fits(L::trace::size)) fields<L::trace>(at, body);
        return;
      case rproc::entry_kind::vdev: {
        if (!fits(L::vdev::size)) return;
        fields<L::vdev>(at, body);
        const std::size_t nvrings =
            std::to_integer<std::size_t>(table_[at + L::vdev::num_of_vrings.offset]);
        const std::uint32_t config_len = *t.u32(at + L::vdev::config_len.offset);
        const std::size_t vrings = std::min(nvrings, L::vdev::max_vrings);
        for (std::size_t k = 0; k < vrings; ++k) {
          const std::size_t v = at + L::vdev::vrings + k * L::vring::size;
          if (!fits(v - at + L::vring::size)) return;
          fields<L::vring>(v);
        }
        if (nvrings <= L::vdev::max_vrings)
          bytes(at + L::vdev::vrings + nvrings * L::vring::size, config_len);
        return;
      }
      case rproc::entry_kind::vendor:
        word(at + 4);  // OpenAMP's len; rproc's openamp_len() reads it in the table's order
        return;
      case rproc::entry_kind::unknown:
        return;
    }
  }

  std::span<const std::byte> table_;
  std::vector<std::int64_t> owner_;
  bool ambiguous_ = false;
  bool overlapping_ = false;
};

template <class MemoryA, class MemoryB>
void require_same_memory(const MemoryA& a, const MemoryB& b, std::span<const std::byte> whole_a) {
  require(a.da() == b.da() && a.pa() == b.pa() && a.len() == b.len() && a.flags() == b.flags() &&
              a.reserved() == b.reserved(),
          "same carveout or devmem fields");
  require(a.reserved() == 0, "a valid carveout or devmem has reserved 0");
  const std::string_view name = a.name();
  require(name == b.name() && name.size() <= rproc::layout::name_size, "same name");
  require(a.name_equals(b.name()), "name_equals agrees with name");
  require(inside(std::as_bytes(std::span(name.data(), name.size())), whole_a),
          "name inside the table");
}

// How the two tables' vendor entries relate: their OpenAMP length word swapped with the rest (a
// field_map twin), or not at all (the builder writes a raw body byte by byte: the caller checks
// each body against what it described).
enum class vendor_bodies { len_swapped, unrelated };

// Every value the views give of two tables is the same (the byte order aside); every view of
// each table stays inside that table's bytes.
template <class ByteA, class ByteB>
void require_same_values(const rproc::basic_table_view<ByteA>& a,
                         const rproc::basic_table_view<ByteB>& b,
                         vendor_bodies vendor = vendor_bodies::len_swapped) {
  require(a.ver() == b.ver() && a.num() == b.num() && a.size_bytes() == b.size_bytes(),
          "same header");
  require(a.used_bytes() == b.used_bytes(), "same used_bytes");
  const std::span<const std::byte> whole_a = a.bytes().bytes(), whole_b = b.bytes().bytes();
  require(a.used_bytes() <= a.size_bytes(), "used_bytes within the table");
  for (std::uint32_t i = 0; i < a.num(); ++i) {
    const auto ea = a[i];
    const auto eb = b[i];
    require(ea.index() == i && eb.index() == i, "entry index");
    require(ea.offset() == eb.offset() && a.offset(i) == ea.offset(), "same entry offset");
    require(ea.type_id() == eb.type_id() && ea.kind() == eb.kind(), "same type");
    require(inside(ea.bytes().bytes(), whole_a) && inside(eb.bytes().bytes(), whole_b),
            "entry bytes inside the table");
    switch (ea.kind()) {
      case rproc::entry_kind::carveout:
        require_same_memory(*ea.template as<rproc::basic_carveout_entry<ByteA>>(),
                            *eb.template as<rproc::basic_carveout_entry<ByteB>>(), whole_a);
        break;
      case rproc::entry_kind::devmem:
        require_same_memory(*ea.template as<rproc::basic_devmem_entry<ByteA>>(),
                            *eb.template as<rproc::basic_devmem_entry<ByteB>>(), whole_a);
        break;
      case rproc::entry_kind::trace: {
        const auto ta = *ea.template as<rproc::basic_trace_entry<ByteA>>();
        const auto tb = *eb.template as<rproc::basic_trace_entry<ByteB>>();
        require(ta.da() == tb.da() && ta.len() == tb.len() && ta.reserved() == tb.reserved(),
                "same trace fields");
        require(ta.name() == tb.name(), "same trace name");
        break;
      }
      case rproc::entry_kind::vdev: {
        const auto va = *ea.template as<rproc::basic_vdev_entry<ByteA>>();
        const auto vb = *eb.template as<rproc::basic_vdev_entry<ByteB>>();
        require(va.id() == vb.id() && va.notifyid() == vb.notifyid() &&
                    va.dfeatures() == vb.dfeatures() && va.gfeatures() == vb.gfeatures() &&
                    va.config_len() == vb.config_len() && va.status() == vb.status() &&
                    va.num_of_vrings() == vb.num_of_vrings() && va.reserved() == vb.reserved(),
                "same vdev fields");
        require(va.num_of_vrings() <= 2, "a valid vdev has at most 2 vrings");
        const auto ca = va.config();
        const auto cb = vb.config();
        require(ca.size() == va.config_len() && std::ranges::equal(ca, cb), "same config");
        require(inside(ca, whole_a) && inside(cb, whole_b), "config inside the table");
        require(va.vrings().size() == vb.vrings().size(), "same vring count");
        for (std::uint32_t k = 0; k < va.vrings().size(); ++k) {
          const auto ra = va.vring(k);
          const auto rb = vb.vring(k);
          require(ra.da() == rb.da() && ra.align() == rb.align() && ra.num() == rb.num() &&
                      ra.notifyid() == rb.notifyid() && ra.pa() == rb.pa(),
                  "same vring fields");
          require(ra.num() != 0 && ra.align() != 0, "a valid vring has num and align");
        }
        break;
      }
      case rproc::entry_kind::vendor: {
        const auto xa = *ea.template as<rproc::basic_vendor_entry<ByteA>>();
        const auto xb = *eb.template as<rproc::basic_vendor_entry<ByteB>>();
        require(xa.body().size() == xb.body().size(), "same vendor entry size");
        if (vendor == vendor_bodies::len_swapped)
          require(xa.openamp_len() == xb.openamp_len(), "same OpenAMP vendor length");
        require(inside(xa.body().bytes(), whole_a), "vendor body inside the table");
        break;
      }
      case rproc::entry_kind::unknown:
        break;
    }
  }
  const auto wa = a.warnings();
  const auto wb = b.warnings();
  require(std::ranges::equal(wa, wb), "same warnings");
}

}  // namespace fuzz
