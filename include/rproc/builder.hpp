// Describing a resource table in C++ and getting its exact bytes, for firmware:
//
//   [[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table =
//       rproc::make_table(
//           rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
//               rproc::rsc::vring{.align = 16, .num = 8},
//               rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
//           rproc::rsc::trace{.da = 0x20001000, .len = 2048, .name = "Zephyr_log"});
//
// make_table is consteval: an invalid description does not compile, and the compiler names the
// fault (a call to a function of rproc::table_description_error). try_make_table builds the same
// bytes at run time and returns the fault as an rproc::error instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "table.hpp"

namespace rproc {

// A 32-byte resource name, NUL-padded; a 32-character name has no NUL.
class resource_name {
 public:
  constexpr resource_name() noexcept = default;
  template <std::size_t N>
  constexpr resource_name(const char (&literal)[N]) noexcept {  // NOLINT: implicit on purpose
    static_assert(N >= 1 && N - 1 <= layout::name_size,
                  "rproc: a resource name holds at most 32 bytes");
    for (std::size_t i = 0; i + 1 < N && i < layout::name_size && literal[i] != '\0'; ++i)
      chars_[i] = literal[i];
  }
  // A name known only at run time; too long is name_too_long. (A template so that its result type
  // is instantiated where it is called: Name is resource_name.)
  template <class Name = resource_name>
  static constexpr result<Name> from(std::string_view s) noexcept {
    if (s.size() > layout::name_size) return error{errc::name_too_long, 0, std::nullopt, s.size()};
    Name n;
    for (std::size_t i = 0; i < s.size(); ++i) n.chars_[i] = s[i];
    return n;
  }
  constexpr std::string_view view() const noexcept {
    std::size_t n = 0;
    while (n < layout::name_size && chars_[n] != '\0') ++n;
    return {chars_.data(), n};
  }
  constexpr const std::array<char, layout::name_size>& chars() const noexcept { return chars_; }
  friend constexpr bool operator==(const resource_name&, const resource_name&) = default;

 private:
  std::array<char, layout::name_size> chars_{};
};

// What the table as a whole looks like, beside its entries.
struct table_options {
  endian order = endian::little;
  // Room for this many offsets (at least one per entry); the unused slots are zero. Some SDKs
  // size the offset array for more entries than they use (Xilinx: 8 slots for 2 entries).
  std::size_t offset_slots = 0;
  // Total size of the table, zero-padded after the last entry (TI pads to 1 or 4 KiB); 0 means
  // exactly what the entries need.
  std::size_t size = 0;
};

// The descriptions of entries, by the field names of SPEC section 1. Reserved fields are 0.
namespace rsc {

// A carveout (memory the host sets aside; by default where it chooses) or a devmem (device
// memory the host maps, at the address given): one layout, one description.
template <entry_kind Kind>
struct memory {
  static_assert(Kind == entry_kind::carveout || Kind == entry_kind::devmem);
  static constexpr std::uint32_t default_address =
      Kind == entry_kind::carveout ? fw_rsc_addr_any : 0;

  std::uint32_t da = default_address;
  std::uint32_t pa = default_address;
  std::uint32_t len = 0;
  std::uint32_t flags = 0;
  resource_name name{};
  static constexpr std::uint32_t type_id = static_cast<std::uint32_t>(
      Kind == entry_kind::carveout ? resource_type::carveout : resource_type::devmem);
  static constexpr std::size_t size = layout::memory<Kind>::size;
};
using carveout = memory<entry_kind::carveout>;
using devmem = memory<entry_kind::devmem>;

struct trace {
  std::uint32_t da = 0;
  std::uint32_t len = 0;
  resource_name name{};
  static constexpr std::uint32_t type_id = 2;
  static constexpr std::size_t size = layout::trace::size;
};

struct vring {
  std::uint32_t da = fw_rsc_addr_any;
  std::uint32_t align = 0;
  std::uint32_t num = 0;
  std::uint32_t notifyid = 0;
  std::uint32_t pa = 0;
};

template <std::size_t NumVrings, std::size_t ConfigLen>
struct vdev_with;

// A virtio device; with_vrings() and with_config() give it its vrings and config space.
struct vdev {
  std::uint32_t id = virtio::id_rpmsg;
  std::uint32_t notifyid = 0;
  std::uint32_t dfeatures = 0;
  std::uint32_t gfeatures = 0;
  std::uint8_t status = 0;

  template <class... Vrings>
    requires(std::is_same_v<Vrings, vring> && ...)
  constexpr vdev_with<sizeof...(Vrings), 0> with_vrings(const Vrings&... vrings) const noexcept;
};

template <std::size_t NumVrings, std::size_t ConfigLen>
struct vdev_with {
  static_assert(NumVrings <= layout::vdev::max_vrings,
                "rproc: a vdev has at most 2 vrings (Linux's limit)");
  vdev fields{};
  std::array<vring, NumVrings> vrings{};
  std::array<std::uint8_t, ConfigLen> config{};

  template <std::size_t Len>
  constexpr vdev_with<NumVrings, Len> with_config(
      const std::array<std::uint8_t, Len>& bytes) const noexcept {
    return {fields, vrings, bytes};
  }

  static constexpr std::uint32_t type_id = 3;
  static constexpr std::size_t size =
      layout::vdev::size + NumVrings * layout::vring::size + ConfigLen;
};

template <class... Vrings>
  requires(std::is_same_v<Vrings, vring> && ...)
constexpr vdev_with<sizeof...(Vrings), 0> vdev::with_vrings(
    const Vrings&... vrings) const noexcept {
  return {*this, {vrings...}, {}};
}

// An entry given as its type and the bytes after the type word: vendor entries (128..512) and
// entries of types rproc does not know. The standard types (0..3) cannot be given raw.
template <std::size_t BodyLen>
struct raw {
  std::uint32_t type_id = vendor_type_first;
  std::array<std::uint8_t, BodyLen> body{};
  static constexpr std::size_t size = 4 + BodyLen;
};
template <std::size_t BodyLen>
raw(std::uint32_t, std::array<std::uint8_t, BodyLen>) -> raw<BodyLen>;

}  // namespace rsc

// The bytes of a built table, aligned as its u32 fields need. Place it in firmware with
// [[gnu::section(".resource_table"), gnu::used]].
template <std::size_t N>
struct alignas(4) table_image {
  std::array<std::byte, N> bytes;

  static constexpr std::size_t size() noexcept { return N; }
  constexpr const std::byte* data() const noexcept { return bytes.data(); }
  constexpr std::byte* data() noexcept { return bytes.data(); }
  constexpr auto begin() const noexcept { return bytes.begin(); }
  constexpr auto end() const noexcept { return bytes.end(); }
  constexpr operator std::span<const std::byte>() const noexcept { return bytes; }
  constexpr operator std::span<std::byte>() noexcept { return bytes; }
  friend constexpr bool operator==(const table_image&, const table_image&) = default;
};

// Each function names a fault of a description; make_table calls one at compile time, which does
// not compile, so the compiler's message says what is wrong.
namespace table_description_error {
void a_vring_has_num_0(std::uint32_t entry);
void a_vring_has_align_0(std::uint32_t entry);
void a_raw_entry_has_a_standard_type_0_to_3(std::uint32_t entry);
void the_built_table_does_not_parse(errc code, std::uint32_t entry);
}  // namespace table_description_error

namespace detail {

template <class Entry>
struct entry_size : std::integral_constant<std::size_t, Entry::size> {};

template <table_options Options, class... Entries>
constexpr std::size_t table_content_size() noexcept {
  constexpr std::size_t slots =
      Options.offset_slots > sizeof...(Entries) ? Options.offset_slots : sizeof...(Entries);
  return layout::header::size + 4 * slots + (std::size_t{0} + ... + entry_size<Entries>::value);
}

template <table_options Options, class... Entries>
constexpr std::size_t table_size() noexcept {
  constexpr std::size_t content = table_content_size<Options, Entries...>();
  static_assert(Options.size == 0 || Options.size >= content,
                "rproc: table_options::size is smaller than the entries need");
  static_assert(Options.offset_slots == 0 || Options.offset_slots >= sizeof...(Entries),
                "rproc: table_options::offset_slots is smaller than the number of entries");
  static_assert(content <= 0xFFFFFFFFu, "rproc: a table is at most 4 GiB");
  return Options.size == 0 ? content : Options.size;
}

enum class description_fault : std::uint8_t { none, vring_num_0, vring_align_0, raw_standard_type };

// A template so that what it uses is instantiated with the builder: Byte is std::byte.
template <class Byte>
class table_writer {
 public:
  constexpr explicit table_writer(basic_byte_view<Byte> out) noexcept : out_(out) {}

  constexpr void put(std::size_t at, std::uint32_t v) noexcept { (void)out_.write_u32(at, v); }
  constexpr void put_u8(std::size_t at, std::uint8_t v) noexcept { (void)out_.write_u8(at, v); }
  constexpr void put_name(std::size_t at, const resource_name& n) noexcept {
    for (std::size_t i = 0; i < layout::name_size; ++i)
      put_u8(at + i, static_cast<std::uint8_t>(n.chars()[i]));
  }

  template <entry_kind Kind>
  constexpr void write(std::size_t at, std::uint32_t, const rsc::memory<Kind>& m) noexcept {
    using F = layout::memory<Kind>;
    put(at, rsc::memory<Kind>::type_id);
    put(at + F::da.offset, m.da);
    put(at + F::pa.offset, m.pa);
    put(at + F::len.offset, m.len);
    put(at + F::flags.offset, m.flags);
    put_name(at + F::name.offset, m.name);
  }
  constexpr void write(std::size_t at, std::uint32_t, const rsc::trace& t) noexcept {
    put(at, rsc::trace::type_id);
    put(at + layout::trace::da.offset, t.da);
    put(at + layout::trace::len.offset, t.len);
    put_name(at + layout::trace::name.offset, t.name);
  }
  template <std::size_t NumVrings, std::size_t ConfigLen>
  constexpr void write(std::size_t at, std::uint32_t index,
                       const rsc::vdev_with<NumVrings, ConfigLen>& v) noexcept {
    put(at, rsc::vdev_with<NumVrings, ConfigLen>::type_id);
    put(at + layout::vdev::id.offset, v.fields.id);
    put(at + layout::vdev::notifyid.offset, v.fields.notifyid);
    put(at + layout::vdev::dfeatures.offset, v.fields.dfeatures);
    put(at + layout::vdev::gfeatures.offset, v.fields.gfeatures);
    put(at + layout::vdev::config_len.offset, static_cast<std::uint32_t>(ConfigLen));
    put_u8(at + layout::vdev::status.offset, v.fields.status);
    put_u8(at + layout::vdev::num_of_vrings.offset, static_cast<std::uint8_t>(NumVrings));
    for (std::size_t k = 0; k < NumVrings; ++k) {
      const std::size_t r = at + layout::vdev::vrings + k * layout::vring::size;
      const rsc::vring& vr = v.vrings[k];
      if (vr.num == 0)
        fail(description_fault::vring_num_0, errc::vring_invalid, r + layout::vring::num.offset,
             index, 0);
      else if (vr.align == 0)
        fail(description_fault::vring_align_0, errc::vring_invalid,
             r + layout::vring::align.offset, index, 0);
      put(r + layout::vring::da.offset, vr.da);
      put(r + layout::vring::align.offset, vr.align);
      put(r + layout::vring::num.offset, vr.num);
      put(r + layout::vring::notifyid.offset, vr.notifyid);
      put(r + layout::vring::pa.offset, vr.pa);
    }
    const std::size_t config_at = at + layout::vdev::vrings + NumVrings * layout::vring::size;
    for (std::size_t k = 0; k < ConfigLen; ++k) put_u8(config_at + k, v.config[k]);
  }
  template <std::size_t BodyLen>
  constexpr void write(std::size_t at, std::uint32_t index, const rsc::raw<BodyLen>& r) noexcept {
    if (r.type_id <= 3)
      fail(description_fault::raw_standard_type, errc::raw_standard_type, at, index, r.type_id);
    put(at, r.type_id);
    for (std::size_t k = 0; k < BodyLen; ++k) put_u8(at + 4 + k, r.body[k]);
  }

  constexpr void fail(description_fault kind, errc code, std::size_t at, std::uint32_t entry,
                      std::uint64_t value) noexcept {
    if (fault_) return;
    fault_ = error{code, at, entry, value};
    kind_ = kind;
  }
  constexpr const std::optional<dependent_t<error, Byte>>& fault() const noexcept { return fault_; }
  constexpr description_fault fault_kind() const noexcept { return kind_; }

 private:

  basic_byte_view<Byte> out_;
  std::optional<dependent_t<error, Byte>> fault_{};
  description_fault kind_ = description_fault::none;
};

template <class Image>
struct build_outcome {
  Image image{};
  std::optional<dependent_t<error, Image>> fault{};
  description_fault kind = description_fault::none;
};

template <table_options Options, class... Entries>
constexpr auto build(const Entries&... entries) noexcept {
  build_outcome<table_image<table_size<Options, Entries...>()>> built{};
  table_writer out(mutable_byte_view(built.image.bytes, Options.order));
  constexpr std::size_t slots =
      Options.offset_slots > sizeof...(Entries) ? Options.offset_slots : sizeof...(Entries);
  out.put(layout::header::ver.offset, 1);
  out.put(layout::header::num.offset, static_cast<std::uint32_t>(sizeof...(Entries)));
  [[maybe_unused]] std::size_t at = layout::header::size + 4 * slots;
  [[maybe_unused]] std::uint32_t index = 0;
  (
      [&] {
        out.put(layout::header::offsets + 4 * std::size_t{index}, static_cast<std::uint32_t>(at));
        out.write(at, index, entries);
        at += Entries::size;
        ++index;
      }(),
      ...);
  built.fault = out.fault();
  built.kind = out.fault_kind();
  // The writer covers every rule the parser checks; parsing proves it for each table built.
  if (!built.fault) {
    if (const auto parsed = parse_table(built.image.bytes, Options.order); !parsed)
      built.fault = parsed.error();
  }
  return built;
}

}  // namespace detail

template <table_options Options = table_options{}, class... Entries>
using table_image_for = table_image<detail::table_size<Options, Entries...>()>;

// Builds the table at run time (or in a constant expression); a fault of the description comes
// back as an error whose offset is that of the faulty field in the table being built.
template <table_options Options = table_options{}, class... Entries>
constexpr result<table_image_for<Options, Entries...>> try_make_table(
    const Entries&... entries) noexcept {
  const auto built = detail::build<Options>(entries...);
  if (built.fault) return *built.fault;
  return built.image;
}

// The same at compile time only: a fault does not compile, and the error names it.
template <table_options Options = table_options{}, class... Entries>
consteval table_image_for<Options, Entries...> make_table(const Entries&... entries) noexcept {
  const auto built = detail::build<Options>(entries...);
  if (built.fault) {
    const std::uint32_t entry = built.fault->entry.value_or(0);
    switch (built.kind) {
      case detail::description_fault::vring_num_0:
        table_description_error::a_vring_has_num_0(entry);
        break;
      case detail::description_fault::vring_align_0:
        table_description_error::a_vring_has_align_0(entry);
        break;
      case detail::description_fault::raw_standard_type:
        table_description_error::a_raw_entry_has_a_standard_type_0_to_3(entry);
        break;
      case detail::description_fault::none:
        table_description_error::the_built_table_does_not_parse(built.fault->code, entry);
        break;
    }
  }
  return built.image;
}

}  // namespace rproc
