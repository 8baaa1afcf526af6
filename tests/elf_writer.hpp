// The one writer of small ELF firmware images around a resource table, for the tests, the ELF
// benchmark and the fuzzers' seeds: ELF32 or ELF64 in either byte order, at compile time (into a
// std::array) or at run time (into a std::vector).
//
// The image (offsets for ELF32 / ELF64 with a 140-byte table, no padding, no extra sections):
//   0            ELF header (52 / 64 bytes)
//   64           3 program headers (32 / 56 bytes each):
//                  [0] PT_LOAD  .text: 32 bytes in the file, 48 in memory, at 0x1000
//                  [1] PT_NOTE  with an offset far outside the file (only PT_LOAD is checked)
//                  [2] PT_LOAD  .resource_table, at its address (0x2000)
//   then         `padding` zero bytes (a large file with few sections)
//   160 / 240    .text, bytes 0x01, 0x02 ... 0x20
//   192 / 272    .resource_table
//   332 / 412    .shstrtab "\0.text\0.resource_table\0.shstrtab\0" (33 bytes; ".extra\0" too
//                when there are extra sections)
//   368 / 448    section headers (40 / 64 bytes each): null, .text, `extra_sections` sections
//                named .extra, .resource_table (after the extras: finding it walks them all),
//                .shstrtab
//   528 / 704    end of file
#pragma once

#include <rproc/bytes.hpp>
#include <rproc/elf.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace fx {

inline constexpr std::uint32_t text_address = 0x1000;
inline constexpr std::uint64_t entry_point = 0x1001;
inline constexpr std::size_t text_size = 32;
inline constexpr std::size_t text_memsz = 48;
inline constexpr std::string_view names{"\0.text\0.resource_table\0.shstrtab\0.extra\0", 40};
inline constexpr std::size_t names_without_extra = 33;
inline constexpr std::uint32_t text_name = 1, table_name = 7, strtab_name = 23, extra_name = 33;
inline constexpr std::uint32_t pt_note = 4;
inline constexpr std::uint32_t default_table_address = 0x2000;

// What varies between images; the table's bytes are written as given (already in `order`).
struct elf_shape {
  std::uint8_t ident_class = rproc::elf::class32;
  rproc::endian order = rproc::endian::little;
  std::uint64_t table_address = default_table_address;
  std::size_t extra_sections = 0;
  std::size_t padding = 0;
};

constexpr std::size_t align_up(std::size_t v, std::size_t a) { return (v + a - 1) / a * a; }

// Where everything is in an image of that shape around a table of `table_size` bytes.
struct image_layout {
  rproc::elf::class_layout elf;
  std::size_t phoff = 64;
  std::size_t shnum = 4;
  std::size_t text_offset = 0, table_offset = 0, strtab_offset = 0, strtab_size = 0, shoff = 0,
              size = 0;

  constexpr std::size_t phdr(std::size_t i) const { return phoff + i * elf.phdr_size; }
  constexpr std::size_t shdr(std::size_t i) const { return shoff + i * elf.shdr_size; }
};

constexpr image_layout layout_for(const elf_shape& shape, std::size_t table_size) {
  image_layout at{rproc::elf::layout_of(shape.ident_class)};
  at.shnum = 4 + shape.extra_sections;
  at.text_offset = align_up(at.phoff + 3 * at.elf.phdr_size + shape.padding, 16);
  at.table_offset = at.text_offset + text_size;
  at.strtab_offset = at.table_offset + table_size;
  at.strtab_size = shape.extra_sections > 0 ? names.size() : names_without_extra;
  at.shoff = align_up(at.strtab_offset + at.strtab_size, 8);
  at.size = at.shoff + at.shnum * at.elf.shdr_size;
  return at;
}

// Writes fields of an image in its byte order; a word is 4 or 8 bytes by class.
struct image_writer {
  std::span<std::byte> bytes;
  rproc::endian order;
  std::uint8_t ident_class;

  constexpr void u8(std::size_t at, std::uint64_t v) const {
    check(view().write_u8(at, static_cast<std::uint8_t>(v)));
  }
  constexpr void u16(std::size_t at, std::uint64_t v) const {
    check(view().write(at, static_cast<std::uint16_t>(v)));
  }
  constexpr void u32(std::size_t at, std::uint64_t v) const {
    check(view().write_u32(at, static_cast<std::uint32_t>(v)));
  }
  constexpr void word(std::size_t at, std::uint64_t v) const {
    if (ident_class == rproc::elf::class64) check(view().write(at, v));
    else u32(at, v);
  }

 private:
  constexpr rproc::mutable_byte_view view() const { return {bytes, order}; }
  static constexpr void check(bool written) {
    if (!written) throw "an ELF fixture write outside the image";
  }
};

// The image around `table` into `out`, exactly layout_for(shape, table.size()).size bytes of
// zeros.
constexpr void write_image(std::span<std::byte> out, std::span<const std::byte> table,
                           const elf_shape& shape) {
  namespace elf = rproc::elf;
  const image_layout at = layout_for(shape, table.size());
  const elf::class_layout& e = at.elf;
  const image_writer w{out, shape.order, shape.ident_class};

  for (std::size_t i = 0; i < 4; ++i) w.u8(i, static_cast<std::uint8_t>("\x7f" "ELF"[i]));
  w.u8(elf::ei_class, shape.ident_class);
  w.u8(elf::ei_data, shape.order == rproc::endian::big ? elf::data_big : elf::data_little);
  w.u8(6, 1);                                                          // EI_VERSION
  w.u16(e.e_type, 2);                                                  // ET_EXEC
  w.u16(e.e_machine, shape.ident_class == elf::class64 ? 243 : 40);  // RISC-V, ARM
  w.u32(e.e_version, 1);
  w.word(e.e_entry, entry_point);
  w.word(e.e_phoff, at.phoff);
  w.word(e.e_shoff, at.shoff);
  w.u16(e.e_ehsize, e.header_size);
  w.u16(e.e_phentsize, e.phdr_size);
  w.u16(e.e_phnum, 3);
  w.u16(e.e_shentsize, e.shdr_size);
  w.u16(e.e_shnum, at.shnum);
  w.u16(e.e_shstrndx, at.shnum - 1);

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
  segment(0, elf::pt_load, 5, at.text_offset, text_address, text_size, text_memsz, 16);
  segment(1, pt_note, 4, 0xFFFFFFF0u, 0, 0x100, 0, 4);
  segment(2, elf::pt_load, 6, at.table_offset, shape.table_address, table.size(), table.size(),
          4);

  for (std::size_t i = 0; i < text_size; ++i) w.u8(at.text_offset + i, i + 1);
  for (std::size_t i = 0; i < table.size(); ++i) out[at.table_offset + i] = table[i];
  for (std::size_t i = 0; i < at.strtab_size; ++i)
    w.u8(at.strtab_offset + i, static_cast<std::uint8_t>(names[i]));

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
  constexpr std::uint32_t progbits = 1, strtab = 3;
  section(1, text_name, progbits, 6, text_address, at.text_offset, text_size, 16);
  for (std::size_t k = 0; k < shape.extra_sections; ++k)
    section(2 + k, extra_name, progbits, 0, 0, at.text_offset, text_size, 4);
  section(at.shnum - 2, table_name, progbits, 3, shape.table_address, at.table_offset,
          table.size(), 4);
  section(at.shnum - 1, strtab_name, strtab, 0, 0, at.strtab_offset, at.strtab_size, 1);
}

// The same at run time, in a vector of the image's size.
inline std::vector<std::byte> make_image(std::span<const std::byte> table,
                                         const elf_shape& shape = {}) {
  std::vector<std::byte> image(layout_for(shape, table.size()).size);
  write_image(image, table, shape);
  return image;
}

}  // namespace fx
