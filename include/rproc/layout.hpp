// The resource table's format as one typed description: every field of the header and of each
// entry (SPEC section 1) with its offset and width, and who writes it into a live table (SPEC
// section 3). The entry views' accessors, the validator, the builder, the clean copy and the
// tools read their offsets and the host's fields from here; nothing else spells them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rproc {

// "The host chooses": the value of a `da` or `pa` that the firmware leaves to the host.
inline constexpr std::uint32_t fw_rsc_addr_any = 0xFFFFFFFFu;

// The standard resource types; 128..512 are vendor types, every other value is unknown.
enum class resource_type : std::uint32_t { carveout = 0, devmem = 1, trace = 2, vdev = 3 };
inline constexpr std::uint32_t vendor_type_first = 128;
inline constexpr std::uint32_t vendor_type_last = 512;

enum class entry_kind : std::uint8_t { carveout, devmem, trace, vdev, vendor, unknown };

constexpr entry_kind kind_of(std::uint32_t type_id) noexcept {
  switch (type_id) {
    case 0: return entry_kind::carveout;
    case 1: return entry_kind::devmem;
    case 2: return entry_kind::trace;
    case 3: return entry_kind::vdev;
    default:
      return type_id >= vendor_type_first && type_id <= vendor_type_last ? entry_kind::vendor
                                                                          : entry_kind::unknown;
  }
}

constexpr std::string_view to_string(entry_kind kind) noexcept {
  switch (kind) {
    case entry_kind::carveout: return "carveout";
    case entry_kind::devmem: return "devmem";
    case entry_kind::trace: return "trace";
    case entry_kind::vdev: return "vdev";
    case entry_kind::vendor: return "vendor";
    case entry_kind::unknown: return "unknown";
  }
  return "unknown";
}

// Who writes a field of a live table, beside the firmware that built it.
enum class field_writer : std::uint8_t {
  firmware,    // the firmware alone: a host only reads it
  host,        // every host, at every attach and start (SPEC section 3): the clean copy restores it
  some_hosts,  // a host may (OpenAMP's numbers its vdev); Linux's and rproc's leave it alone
};

// One field: its name in SPEC section 1, its offset from the first byte of what holds it (the
// table, an entry's type word, a vring), its width in bytes, and who writes it.
struct field {
  std::string_view name;
  std::size_t offset = 0;
  std::size_t width = 4;
  field_writer writer = field_writer::firmware;

  constexpr std::size_t end() const noexcept { return offset + width; }
  constexpr bool host_writes() const noexcept { return writer == field_writer::host; }
  // Whether a mutable view offers a setter for it.
  constexpr bool writable() const noexcept { return writer != field_writer::firmware; }
};

// The fields of the format, by what holds them. `fields` lists each holder's fields in offset
// order; `size` is its fixed size in bytes.
namespace layout {

inline constexpr std::size_t name_size = 32;

struct header {
  static constexpr field ver{"ver", 0}, num{"num", 4}, reserved0{"reserved[0]", 8},
      reserved1{"reserved[1]", 12};
  static constexpr std::size_t size = 16;
  static constexpr std::size_t offsets = 16;  // offset[num]: one word per entry
  static constexpr std::array fields{ver, num, reserved0, reserved1};
};

// Every entry begins with its type word.
inline constexpr field type{"type", 0};

// A carveout and a devmem share one layout; the host writes where a carveout lies, never where
// a devmem does (it maps the devmem as the firmware asked).
template <entry_kind Kind>
struct memory {
  static_assert(Kind == entry_kind::carveout || Kind == entry_kind::devmem);
  static constexpr field_writer placement =
      Kind == entry_kind::carveout ? field_writer::host : field_writer::firmware;
  static constexpr field da{"da", 4, 4, placement}, pa{"pa", 8, 4, placement},
      len{"len", 12, 4, placement}, flags{"flags", 16}, reserved{"reserved", 20},
      name{"name", 24, name_size};
  static constexpr std::size_t size = 56;
  static constexpr std::array fields{type, da, pa, len, flags, reserved, name};
};
using carveout = memory<entry_kind::carveout>;
using devmem = memory<entry_kind::devmem>;

struct trace {
  static constexpr field da{"da", 4}, len{"len", 8}, reserved{"reserved", 12},
      name{"name", 16, name_size};
  static constexpr std::size_t size = 48;
  static constexpr std::array fields{type, da, len, reserved, name};
};

struct vdev {
  static constexpr field id{"id", 4}, notifyid{"notifyid", 8, 4, field_writer::some_hosts},
      dfeatures{"dfeatures", 12}, gfeatures{"gfeatures", 16, 4, field_writer::host},
      config_len{"config_len", 20}, status{"status", 24, 1, field_writer::host},
      num_of_vrings{"num_of_vrings", 25, 1}, reserved{"reserved", 26, 2};
  static constexpr std::size_t size = 28;    // the type word and fixed body, before the vrings
  static constexpr std::size_t vrings = 28;  // num_of_vrings vrings, then config_len bytes
  static constexpr std::size_t max_vrings = 2;
  static constexpr std::array fields{type,     id,     notifyid,      dfeatures, gfeatures,
                                     config_len, status, num_of_vrings, reserved};
};

// Offsets from the vring's first byte. Linux never writes a vring's pa (OpenAMP calls it
// reserved); a host that tracks physical addresses may.
struct vring {
  static constexpr field da{"da", 0, 4, field_writer::host}, align{"align", 4}, num{"num", 8},
      notifyid{"notifyid", 12, 4, field_writer::host}, pa{"pa", 16, 4, field_writer::some_hosts};
  static constexpr std::size_t size = 20;
  static constexpr std::array fields{da, align, num, notifyid, pa};
};

}  // namespace layout

// Virtio facts a vdev carries: device ids, and the bits of its status field.
namespace virtio {
inline constexpr std::uint32_t id_rpmsg = 7;
inline constexpr std::uint8_t status_acknowledge = 0x01;
inline constexpr std::uint8_t status_driver = 0x02;
inline constexpr std::uint8_t status_driver_ok = 0x04;
inline constexpr std::uint8_t status_features_ok = 0x08;
inline constexpr std::uint8_t status_needs_reset = 0x40;
inline constexpr std::uint8_t status_failed = 0x80;
}  // namespace virtio

}  // namespace rproc
