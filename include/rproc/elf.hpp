// Firmware images: an ELF32 or ELF64 file, little- or big-endian, checked as SPEC section 2 says
// before anything in it is trusted; its `.resource_table` found and parsed in the image's byte
// order; its PT_LOAD segments copied into device memory through the caller's address translation.
//
//   const auto image = rproc::read_elf(file_bytes);   // result<elf_image>
//   const auto table = image->resource_table();       // optional<located_table>; ->parse()
//   rproc::load_segments(*image, [&](std::uint64_t da, std::size_t len)
//                                    -> std::optional<std::span<std::byte>> { ... });
//   image->entry();                                   // the boot address
//
// Every read goes through rproc::basic_byte_view; every offset and size of the file is checked
// against the file without overflow, so hostile 64-bit values cannot wrap. Usable in constant
// expressions, no heap, no exceptions.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "bytes.hpp"
#include "elf_format.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "loader.hpp"
#include "located_table.hpp"
#include "table.hpp"

namespace rproc {

template <class Byte>
class basic_elf_image;
// A checked ELF image: only read_elf makes one.
using elf_image = basic_elf_image<const std::byte>;
template <class Bytes = std::span<const std::byte>>
  requires std::convertible_to<const Bytes&, std::span<const std::byte>>
constexpr result<basic_elf_image<detail::dependent_t<const std::byte, Bytes>>> read_elf(
    const Bytes& file) noexcept;

namespace detail {

// [offset, offset + length) inside a file of `size` bytes, with no wrap for any 64-bit inputs.
constexpr bool fits_in(std::uint64_t offset, std::uint64_t length, std::size_t size) noexcept {
  const std::uint64_t total = size;
  return offset <= total && length <= total - offset;
}

constexpr error elf_fault(errc code, std::size_t offset, std::uint64_t value) noexcept {
  return {code, offset, std::nullopt, value};
}

}  // namespace detail

template <class Value>
class elf_header_range;

using elf_segment_range = elf_header_range<elf_segment>;
using elf_section_range = elf_header_range<elf_section>;

// A checked ELF image (elf_image): a view of the file's bytes, valid as long as they are. A
// template only so that what its members use is instantiated where an image is read, not in every
// file that includes rproc; Byte is const std::byte.
template <class Byte>
class basic_elf_image {
 public:
  constexpr basic_elf_image() noexcept = default;

  constexpr std::span<Byte> bytes() const noexcept { return file_.bytes(); }
  // 32 or 64 (EI_CLASS).
  constexpr unsigned bits() const noexcept { return ident_class_ == elf::class64 ? 64u : 32u; }
  // EI_DATA: the remote's byte order, in which its table is read.
  constexpr endian order() const noexcept { return file_.order(); }
  constexpr const elf::class_layout& layout() const noexcept {
    return elf::layout_of(ident_class_);
  }
  constexpr std::uint16_t type() const noexcept { return half(layout().e_type); }
  constexpr std::uint16_t machine() const noexcept { return half(layout().e_machine); }
  constexpr std::uint32_t flags() const noexcept { return u32_at(layout().e_flags); }
  // The boot address (e_entry).
  constexpr std::uint64_t entry() const noexcept { return word_at(layout().e_entry); }
  constexpr std::uint64_t boot_address() const noexcept { return entry(); }

  // Every program header, in file order (PT_LOAD and the others).
  constexpr elf_header_range<detail::dependent_t<elf_segment, Byte>> segments() const noexcept;
  constexpr std::uint32_t segment_count() const noexcept { return phnum_; }
  constexpr elf_segment segment(std::uint32_t i) const noexcept;

  // Every section header, in file order.
  constexpr elf_header_range<detail::dependent_t<elf_section, Byte>> sections() const noexcept;
  constexpr std::uint32_t section_count() const noexcept { return shnum_; }
  constexpr elf_section section(std::uint32_t i) const noexcept;

  // The first section named `.resource_table` (checked to lie in the file), if any.
  constexpr std::optional<detail::dependent_t<elf_section, Byte>> table_section() const noexcept {
    if (!table_index_) return std::nullopt;
    return section(*table_index_);
  }

  // empty_table_section when that section has size 0 (its offset is the section's sh_offset).
  constexpr std::optional<detail::dependent_t<warning, Byte>> empty_table_warning() const noexcept {
    const auto s = table_section();
    if (!s || s->size != 0) return std::nullopt;
    return warning{errc::empty_table_section, static_cast<std::size_t>(s->offset), std::nullopt,
                   s->size};
  }

  // The `.resource_table` section's bytes, in the image's byte order, with its address (sh_addr)
  // and file offset (sh_offset); std::nullopt when the image has none (no such section, or one of
  // size 0: see empty_table_warning()). Its parse() reports a fault at its offset in the file.
  constexpr std::optional<basic_located_table<Byte>> resource_table() const noexcept {
    const auto s = table_section();
    if (!s || s->size == 0) return std::nullopt;
    const auto at = static_cast<std::size_t>(s->offset);
    return basic_located_table<Byte>{bytes().subspan(at, static_cast<std::size_t>(s->size)),
                                     order(), s->addr, at};
  }

  // load_segments(*this, da_to_va).
  template <class Translate>
  constexpr result<void> load(Translate&& da_to_va) const;

 private:
  template <class Bytes>
    requires std::convertible_to<const Bytes&, std::span<const std::byte>>
  friend constexpr result<basic_elf_image<detail::dependent_t<const std::byte, Bytes>>> read_elf(
      const Bytes& file) noexcept;

  constexpr std::uint16_t half(std::size_t at) const noexcept {
    return file_.u16(at).value_or(0);
  }
  constexpr std::uint32_t u32_at(std::size_t at) const noexcept {
    return file_.u32(at).value_or(0);
  }
  constexpr std::uint64_t word_at(std::size_t at) const noexcept {
    return ident_class_ == elf::class64 ? file_.u64(at).value_or(0) : u32_at(at);
  }
  constexpr std::span<Byte> names_from(std::uint32_t name_offset) const noexcept {
    if (name_offset >= strtab_size_) return {};
    return bytes().subspan(strtab_offset_ + name_offset, strtab_size_ - name_offset);
  }

  basic_byte_view<Byte> file_{};
  std::uint8_t ident_class_ = elf::class32;
  std::size_t phoff_ = 0;
  std::size_t shoff_ = 0;
  std::uint16_t phnum_ = 0;
  std::uint16_t shnum_ = 0;
  std::size_t strtab_offset_ = 0;
  std::size_t strtab_size_ = 0;
  std::optional<detail::dependent_t<std::uint32_t, Byte>> table_index_{};
};

// The program headers or the section headers of an image, as a random-access range of values.
template <class Value>
class elf_header_range {
 public:
  using value_type = Value;
  using iterator = index_iterator<elf_header_range, Value>;

  constexpr elf_header_range() noexcept = default;
  constexpr explicit elf_header_range(const detail::dependent_t<elf_image, Value>& image) noexcept
      : image_(image) {}

  constexpr std::uint32_t size() const noexcept {
    if constexpr (std::is_same_v<Value, elf_segment>) return image_.segment_count();
    else return image_.section_count();
  }
  constexpr bool empty() const noexcept { return size() == 0; }
  constexpr Value operator[](std::uint32_t i) const noexcept {
    if constexpr (std::is_same_v<Value, elf_segment>) return image_.segment(i);
    else return image_.section(i);
  }
  constexpr iterator begin() const noexcept { return {*this, 0}; }
  constexpr iterator end() const noexcept { return {*this, size()}; }

 private:
  detail::dependent_t<elf_image, Value> image_{};
};

template <class Byte>
constexpr elf_header_range<detail::dependent_t<elf_segment, Byte>> basic_elf_image<Byte>::segments()
    const noexcept {
  return elf_header_range<detail::dependent_t<elf_segment, Byte>>(*this);
}
template <class Byte>
constexpr elf_header_range<detail::dependent_t<elf_section, Byte>> basic_elf_image<Byte>::sections()
    const noexcept {
  return elf_header_range<detail::dependent_t<elf_section, Byte>>(*this);
}

template <class Byte>
constexpr elf_segment basic_elf_image<Byte>::segment(std::uint32_t i) const noexcept {
  const auto& l = layout();
  const std::size_t at = phoff_ + std::size_t{i} * l.phdr_size;
  elf_segment s{};
  if (i >= phnum_) return s;
  s.index = i;
  s.header_offset = at;
  s.type = u32_at(at + l.p_type);
  s.flags = u32_at(at + l.p_flags);
  s.offset = word_at(at + l.p_offset);
  s.vaddr = word_at(at + l.p_vaddr);
  s.paddr = word_at(at + l.p_paddr);
  s.filesz = word_at(at + l.p_filesz);
  s.memsz = word_at(at + l.p_memsz);
  s.align = word_at(at + l.p_align);
  if (s.is_load() && detail::fits_in(s.offset, s.filesz, file_.size()))
    s.contents = bytes().subspan(static_cast<std::size_t>(s.offset),
                                 static_cast<std::size_t>(s.filesz));
  return s;
}

template <class Byte>
constexpr elf_section basic_elf_image<Byte>::section(std::uint32_t i) const noexcept {
  const auto& l = layout();
  const std::size_t at = shoff_ + std::size_t{i} * l.shdr_size;
  elf_section s{};
  if (i >= shnum_) return s;
  s.index = i;
  s.header_offset = at;
  s.name_offset = u32_at(at + l.sh_name);
  s.type = u32_at(at + l.sh_type);
  s.flags = word_at(at + l.sh_flags);
  s.addr = word_at(at + l.sh_addr);
  s.offset = word_at(at + l.sh_offset);
  s.size = word_at(at + l.sh_size);
  s.link = u32_at(at + l.sh_link);
  s.info = u32_at(at + l.sh_info);
  s.addralign = word_at(at + l.sh_addralign);
  s.entsize = word_at(at + l.sh_entsize);
  s.names_from_here = names_from(s.name_offset);
  return s;
}

// Checks `file` as an ELF image, every check of SPEC section 2 in SPEC's order, and returns the
// first fault with the file offset of the faulty header field, section header or program header.
// Extended numbering (e_shnum 0 with the count in section 0) is not read, as in Linux. It returns
// a result<elf_image>.
template <class Bytes>
  requires std::convertible_to<const Bytes&, std::span<const std::byte>>
constexpr result<basic_elf_image<detail::dependent_t<const std::byte, Bytes>>> read_elf(
    const Bytes& bytes) noexcept {
  using byte = detail::dependent_t<const std::byte, Bytes>;
  using detail::elf_fault;
  const std::span<byte> file = bytes;
  using detail::fits_in;
  const std::size_t size = file.size();
  const basic_byte_view<byte> ident(file, endian::little);

  // "The header of its class": EI_CLASS when the file is long enough to have one, else ELF32's.
  const std::uint8_t ident_class = ident.u8(elf::ei_class).value_or(0);
  const auto& l = elf::layout_of(ident_class);
  if (size < l.header_size) return elf_fault(errc::elf_too_small, 0, size);
  if (!has_elf_magic(file))
    return elf_fault(errc::elf_bad_magic, elf::ei_magic,
                     basic_byte_view<byte>(file, endian::big).u32(elf::ei_magic).value_or(0));
  if (ident_class != elf::class32 && ident_class != elf::class64)
    return elf_fault(errc::elf_bad_class, elf::ei_class, ident_class);
  const std::uint8_t data = ident.u8(elf::ei_data).value_or(0);
  if (data != elf::data_little && data != elf::data_big)
    return elf_fault(errc::elf_bad_data, elf::ei_data, data);

  basic_elf_image<byte> image;
  image.file_ = basic_byte_view<byte>(file, data == elf::data_big ? endian::big : endian::little);
  image.ident_class_ = ident_class;

  const std::uint16_t ehsize = image.half(l.e_ehsize);
  const std::uint16_t phentsize = image.half(l.e_phentsize);
  const std::uint16_t shentsize = image.half(l.e_shentsize);
  const std::uint16_t phnum = image.half(l.e_phnum);
  const std::uint16_t shnum = image.half(l.e_shnum);
  const std::uint16_t shstrndx = image.half(l.e_shstrndx);
  const std::uint64_t phoff = image.word_at(l.e_phoff);
  const std::uint64_t shoff = image.word_at(l.e_shoff);

  if (ehsize < l.header_size) return elf_fault(errc::elf_bad_header, l.e_ehsize, ehsize);
  if (shnum > 0 && shentsize != l.shdr_size)
    return elf_fault(errc::elf_bad_header, l.e_shentsize, shentsize);
  if (phnum > 0 && phentsize != l.phdr_size)
    return elf_fault(errc::elf_bad_header, l.e_phentsize, phentsize);
  // An empty table is nowhere, so its offset does not matter (an image without sections may
  // leave e_shoff at any value).
  if (shnum > 0 && !fits_in(shoff, std::uint64_t{shnum} * l.shdr_size, size))
    return elf_fault(errc::elf_sections_out_of_bounds, l.e_shoff, shoff);
  if (phnum > 0 && !fits_in(phoff, std::uint64_t{phnum} * l.phdr_size, size))
    return elf_fault(errc::elf_segments_out_of_bounds, l.e_phoff, phoff);
  image.shoff_ = shnum > 0 ? static_cast<std::size_t>(shoff) : 0;
  image.phoff_ = phnum > 0 ? static_cast<std::size_t>(phoff) : 0;
  image.shnum_ = shnum;
  image.phnum_ = phnum;

  if (shnum > 0) {
    if (shstrndx >= shnum) return elf_fault(errc::elf_bad_string_table, l.e_shstrndx, shstrndx);
    const std::size_t strtab_header = image.shoff_ + std::size_t{shstrndx} * l.shdr_size;
    const std::uint64_t str_offset = image.word_at(strtab_header + l.sh_offset);
    const std::uint64_t str_size = image.word_at(strtab_header + l.sh_size);
    if (!fits_in(str_offset, str_size, size))
      return elf_fault(errc::elf_bad_string_table, strtab_header, str_offset);
    image.strtab_offset_ = static_cast<std::size_t>(str_offset);
    image.strtab_size_ = static_cast<std::size_t>(str_size);
    // A name starting at n ends inside the table iff a NUL lies at or after n: one scan for the
    // last NUL makes each name's check O(1), even for 65535 sections sharing one long name.
    const auto names = file.subspan(image.strtab_offset_, image.strtab_size_);
    std::size_t terminated_below = 0;  // names starting below this end inside the table
    for (std::size_t n = names.size(); n > 0; --n) {
      if (names[n - 1] == std::byte{0}) {
        terminated_below = n;
        break;
      }
    }
    for (std::uint32_t i = 0; i < shnum; ++i) {
      const std::size_t at = image.shoff_ + std::size_t{i} * l.shdr_size;
      const std::uint32_t name = image.u32_at(at + l.sh_name);
      if (name >= terminated_below) return elf_fault(errc::elf_bad_string_table, at, name);
    }
  }

  for (std::uint32_t i = 0; i < phnum; ++i) {
    const std::size_t at = image.phoff_ + std::size_t{i} * l.phdr_size;
    if (image.u32_at(at + l.p_type) != elf::pt_load) continue;
    const std::uint64_t offset = image.word_at(at + l.p_offset);
    const std::uint64_t filesz = image.word_at(at + l.p_filesz);
    const std::uint64_t memsz = image.word_at(at + l.p_memsz);
    if (filesz > memsz) return elf_fault(errc::elf_segment_out_of_bounds, at, filesz);
    if (!fits_in(offset, filesz, size))
      return elf_fault(errc::elf_segment_out_of_bounds, at, offset);
  }

  // Only the first section of that name counts, as in Linux.
  for (std::uint32_t i = 0; i < shnum; ++i) {
    if (!image.section(i).name_equals(elf::table_section_name)) continue;
    const std::size_t at = image.shoff_ + std::size_t{i} * l.shdr_size;
    const std::uint64_t offset = image.word_at(at + l.sh_offset);
    const std::uint64_t length = image.word_at(at + l.sh_size);
    if (!fits_in(offset, length, size)) return elf_fault(errc::table_out_of_bounds, at, offset);
    image.table_index_ = i;
    break;
  }
  return image;
}

namespace detail {

template <class Byte = std::byte>
constexpr void zero_bytes(std::span<dependent_t<std::byte, Byte>> to) noexcept {
  if (std::is_constant_evaluated()) {
    for (auto& b : to) b = std::byte{0};
  } else if (!to.empty()) {
    __builtin_memset(to.data(), 0, to.size());
  }
}

// Where segment s goes: memsz bytes at p_paddr, or nothing.
template <class Translate>
constexpr std::optional<std::span<dependent_t<std::byte, Translate>>> segment_target(
    const elf_segment& s, Translate& da_to_va) {
  if constexpr (sizeof(std::size_t) < sizeof(std::uint64_t)) {
    if (s.memsz > SIZE_MAX) return std::nullopt;  // a 32-bit host cannot hold it
  }
  const auto length = static_cast<std::size_t>(s.memsz);
  const std::span<dependent_t<std::byte, Translate>> target = da_to_va(s.paddr, length);
  if (target.size() < length) return std::nullopt;
  return target.first(length);
}

}  // namespace detail

// How many segments load_segments remembers the translation of between checking and writing.
// Each range is translated once; in an image with more loadable segments than this, those after
// the first 64 are asked for again when written (give such an image a translation that answers
// the same twice).
inline constexpr std::size_t load_segments_capacity = 64;

// Loads every PT_LOAD segment of `image` at its p_paddr, in file order: p_filesz bytes copied,
// then zeros up to p_memsz (segments with p_memsz 0 are skipped, as in Linux). Every segment is
// translated and checked before the first byte is written, so a failure writes nothing:
// elf_no_loadable_segments (offset of e_phnum) when there is no PT_LOAD segment at all;
// segment_not_mapped (offset of the program header, value p_paddr) when a segment's range does not
// translate or translates to fewer than p_memsz bytes.
template <class Translate>
  requires address_translation<std::remove_reference_t<Translate>>
constexpr result<detail::dependent_t<void, Translate>> load_segments(
    const detail::dependent_t<elf_image, Translate>& image, Translate&& da_to_va) {
  bool any_load = false;
  for (const elf_segment s : image.segments()) any_load = any_load || s.is_load();
  if (!any_load)
    return detail::elf_fault(errc::elf_no_loadable_segments, image.layout().e_phnum,
                             image.segment_count());

  translation_cache<std::remove_reference_t<Translate>, load_segments_capacity> translate(
      da_to_va);
  for (const elf_segment s : image.segments()) {
    if (!s.is_load() || s.memsz == 0) continue;
    if (!detail::segment_target(s, translate))
      return detail::elf_fault(errc::segment_not_mapped, s.header_offset, s.paddr);
  }
  for (const elf_segment s : image.segments()) {
    if (!s.is_load() || s.memsz == 0) continue;
    const auto target = detail::segment_target(s, translate);
    if (!target) return detail::elf_fault(errc::segment_not_mapped, s.header_offset, s.paddr);
    detail::copy_into(*target, s.contents);
    detail::zero_bytes(target->subspan(s.contents.size()));
  }
  return {};
}

template <class Byte>
template <class Translate>
constexpr result<void> basic_elf_image<Byte>::load(Translate&& da_to_va) const {
  return load_segments(*this, std::forward<Translate>(da_to_va));
}

}  // namespace rproc

template <class Value>
inline constexpr bool std::ranges::enable_borrowed_range<rproc::elf_header_range<Value>> = true;
