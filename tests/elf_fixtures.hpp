// Small firmware images made at compile time, in both classes and both byte orders, for the ELF
// tests: a valid image with a known layout, from which each test makes one fault.
//
// The image (offsets for ELF32 / ELF64, with the 140-byte sample table):
//   0            ELF header (52 / 64 bytes)
//   64           3 program headers (32 / 56 bytes each):
//                  [0] PT_LOAD  .text: 32 bytes in the file, 48 in memory, at 0x1000
//                  [1] PT_NOTE  with an offset far outside the file (only PT_LOAD is checked)
//                  [2] PT_LOAD  .resource_table, at 0x2000
//   160 / 240    .text, bytes 0x01, 0x02 ... 0x20
//   192 / 272    .resource_table
//   332 / 412    .shstrtab "\0.text\0.resource_table\0.shstrtab\0" (33 bytes)
//   368 / 448    4 section headers (40 / 64 bytes each): null, .text, .resource_table, .shstrtab
//   528 / 704    end of file
#pragma once

#include <rproc/builder.hpp>
#include <rproc/bytes.hpp>
#include <rproc/elf.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fx {

inline constexpr std::uint32_t text_address = 0x1000;
inline constexpr std::uint32_t table_address = 0x2000;
inline constexpr std::uint64_t entry_point = 0x1001;
inline constexpr std::size_t text_size = 32;
inline constexpr std::size_t text_memsz = 48;
inline constexpr std::string_view names{"\0.text\0.resource_table\0.shstrtab\0", 33};
inline constexpr std::uint32_t text_name = 1, table_name = 7, strtab_name = 23;
inline constexpr std::uint32_t pt_note = 4;

constexpr std::size_t align_up(std::size_t v, std::size_t a) { return (v + a - 1) / a * a; }

// Where everything is in an image of class `ident_class` with a table of `table_size` bytes.
struct image_layout {
  std::uint8_t ident_class;
  rproc::elf::class_layout elf;
  std::size_t table_size;
  std::size_t phoff = 64;
  std::size_t text_offset = 0, table_offset = 0, strtab_offset = 0, shoff = 0, size = 0;

  constexpr std::size_t phdr(std::size_t i) const { return phoff + i * elf.phdr_size; }
  constexpr std::size_t shdr(std::size_t i) const { return shoff + i * elf.shdr_size; }
};

constexpr image_layout layout_for(std::uint8_t ident_class, std::size_t table_size) {
  image_layout at{ident_class, rproc::elf::layout_of(ident_class), table_size};
  at.text_offset = align_up(at.phoff + 3 * at.elf.phdr_size, 16);
  at.table_offset = at.text_offset + text_size;
  at.strtab_offset = at.table_offset + table_size;
  at.shoff = align_up(at.strtab_offset + names.size(), 8);
  at.size = at.shoff + 4 * at.elf.shdr_size;
  return at;
}

// Writes fields of an image in its byte order; a word is 4 or 8 bytes by class.
template <std::size_t N>
struct image_writer {
  std::array<std::byte, N>& bytes;
  rproc::endian order;
  std::uint8_t ident_class;

  constexpr void u8(std::size_t at, std::uint8_t v) { check(view().write_u8(at, v)); }
  constexpr void u16(std::size_t at, std::uint16_t v) { check(view().write(at, v)); }
  constexpr void u32(std::size_t at, std::uint32_t v) { check(view().write_u32(at, v)); }
  constexpr void u64(std::size_t at, std::uint64_t v) { check(view().write(at, v)); }
  constexpr void word(std::size_t at, std::uint64_t v) {
    if (ident_class == rproc::elf::class64) u64(at, v);
    else u32(at, static_cast<std::uint32_t>(v));
  }

 private:
  constexpr rproc::mutable_byte_view view() const { return {bytes, order}; }
  static constexpr void check(bool written) {
    if (!written) throw "fixture write outside the image";
  }
};

template <std::uint8_t Class, std::size_t TableSize>
inline constexpr image_layout layout_of = layout_for(Class, TableSize);

// The valid image around `table` (whose bytes are already in `Order`).
template <std::uint8_t Class, rproc::endian Order, std::size_t TableSize>
constexpr auto make_image(const std::array<std::byte, TableSize>& table) {
  constexpr image_layout at = layout_of<Class, TableSize>;
  constexpr rproc::elf::class_layout e = at.elf;
  std::array<std::byte, at.size> bytes{};
  image_writer<at.size> w{bytes, Order, Class};

  w.u8(0, 0x7F);
  w.u8(1, 'E');
  w.u8(2, 'L');
  w.u8(3, 'F');
  w.u8(rproc::elf::ei_class, Class);
  w.u8(rproc::elf::ei_data, Order == rproc::endian::big ? 2 : 1);
  w.u8(6, 1);                                     // EI_VERSION
  w.u16(e.e_type, 2);                             // ET_EXEC
  w.u16(e.e_machine, Class == rproc::elf::class64 ? 243 : 40);  // RISC-V, ARM
  w.u32(e.e_version, 1);
  w.word(e.e_entry, entry_point);
  w.word(e.e_phoff, at.phoff);
  w.word(e.e_shoff, at.shoff);
  w.u16(e.e_ehsize, static_cast<std::uint16_t>(e.header_size));
  w.u16(e.e_phentsize, static_cast<std::uint16_t>(e.phdr_size));
  w.u16(e.e_phnum, 3);
  w.u16(e.e_shentsize, static_cast<std::uint16_t>(e.shdr_size));
  w.u16(e.e_shnum, 4);
  w.u16(e.e_shstrndx, 3);

  const auto segment = [&](std::size_t i, std::uint32_t type, std::uint32_t flags,
                           std::uint64_t offset, std::uint64_t address, std::uint64_t filesz,
                           std::uint64_t memsz, std::uint64_t align) {
    const std::size_t p = at.phdr(i);
    w.u32(p + e.p_type, type);
    w.u32(p + e.p_flags, flags);
    w.word(p + e.p_offset, offset);
    w.word(p + e.p_vaddr, address);
    w.word(p + e.p_paddr, address);
    w.word(p + e.p_filesz, filesz);
    w.word(p + e.p_memsz, memsz);
    w.word(p + e.p_align, align);
  };
  segment(0, rproc::elf::pt_load, 5, at.text_offset, text_address, text_size, text_memsz, 16);
  segment(1, pt_note, 4, 0xFFFFFFF0u, 0, 0x100, 0, 4);
  segment(2, rproc::elf::pt_load, 6, at.table_offset, table_address, TableSize, TableSize, 4);

  for (std::size_t i = 0; i < text_size; ++i)
    bytes[at.text_offset + i] = static_cast<std::byte>(i + 1);
  for (std::size_t i = 0; i < TableSize; ++i) bytes[at.table_offset + i] = table[i];
  for (std::size_t i = 0; i < names.size(); ++i)
    bytes[at.strtab_offset + i] = static_cast<std::byte>(names[i]);

  const auto section = [&](std::size_t i, std::uint32_t name, std::uint32_t type,
                           std::uint64_t flags, std::uint64_t address, std::uint64_t offset,
                           std::uint64_t size, std::uint64_t align) {
    const std::size_t s = at.shdr(i);
    w.u32(s + e.sh_name, name);
    w.u32(s + e.sh_type, type);
    w.word(s + e.sh_flags, flags);
    w.word(s + e.sh_addr, address);
    w.word(s + e.sh_offset, offset);
    w.word(s + e.sh_size, size);
    w.word(s + e.sh_addralign, align);
  };
  section(1, text_name, 1, 6, text_address, at.text_offset, text_size, 16);
  section(2, table_name, 1, 3, table_address, at.table_offset, TableSize, 4);
  section(3, strtab_name, 3, 0, 0, at.strtab_offset, names.size(), 1);
  return bytes;
}

// The sample table: an rpmsg vdev with two vrings and a trace buffer, 140 bytes.
template <rproc::endian Order>
consteval auto sample_table() {
  namespace rsc = rproc::rsc;
  return rproc::make_table<rproc::table_options{.order = Order}>(
             rsc::vdev{.id = 7, .dfeatures = 1}.with_vrings(
                 rsc::vring{.align = 16, .num = 8, .notifyid = 1},
                 rsc::vring{.align = 16, .num = 8, .notifyid = 2}),
             rsc::trace{.da = 0x20000, .len = 0x1000, .name = "trace0"})
      .bytes;
}
inline constexpr std::size_t sample_table_size = 140;
inline constexpr std::size_t sample_vdev_at = 24, sample_trace_at = 92;

// The sample image in one class and byte order, and copies of it with one field changed.
template <std::uint8_t Class, rproc::endian Order>
struct sample {
  static constexpr image_layout at = layout_of<Class, sample_table_size>;
  static constexpr const rproc::elf::class_layout& elf = rproc::elf::layout_of(Class);
  using bytes_type = std::array<std::byte, at.size>;
  static constexpr bytes_type image = make_image<Class, Order>(sample_table<Order>());
  static constexpr std::uint64_t word_max =
      Class == rproc::elf::class64 ? ~std::uint64_t{0} : std::uint64_t{0xFFFFFFFFu};

  static constexpr bytes_type with_u8(std::size_t off, std::uint8_t v, bytes_type b = image) {
    image_writer<at.size>{b, Order, Class}.u8(off, v);
    return b;
  }
  static constexpr bytes_type with_u16(std::size_t off, std::uint16_t v, bytes_type b = image) {
    image_writer<at.size>{b, Order, Class}.u16(off, v);
    return b;
  }
  static constexpr bytes_type with_u32(std::size_t off, std::uint32_t v, bytes_type b = image) {
    image_writer<at.size>{b, Order, Class}.u32(off, v);
    return b;
  }
  static constexpr bytes_type with_word(std::size_t off, std::uint64_t v, bytes_type b = image) {
    image_writer<at.size>{b, Order, Class}.word(off, v);
    return b;
  }
};

}  // namespace fx
