// Small ELF images around a given table, for the ELF benchmark and the fuzzers' seeds: ELF32 or
// ELF64 in either byte order, two PT_LOAD segments (.text at 0x1000, the table at its address),
// sections null, .text, `extra_sections` sections named .extra, .resource_table, .shstrtab (the
// table after the extras, so that finding it walks them all), and `padding` zero bytes after the
// program headers (a large file with few sections).
#pragma once

#include <rproc/bytes.hpp>
#include <rproc/elf.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace rproc_bench {

struct elf_shape {
  std::uint8_t ident_class = rproc::elf::class32;
  rproc::endian order = rproc::endian::little;
  std::size_t extra_sections = 0;
  std::size_t padding = 0;
  std::uint64_t table_address = 0x2000;
};

// `table` is written as given: its bytes should already be in `shape.order`.
inline std::vector<std::byte> make_elf(std::span<const std::byte> table, const elf_shape& shape) {
  namespace elf = rproc::elf;
  constexpr std::string_view names{"\0.text\0.resource_table\0.shstrtab\0.extra\0", 40};
  constexpr std::uint32_t text_name = 1, table_name = 7, strtab_name = 23, extra_name = 33;
  constexpr std::uint64_t text_address = 0x1000, text_size = 32, text_memsz = 48;
  const auto& l = elf::layout_of(shape.ident_class);
  const auto align = [](std::size_t v, std::size_t a) { return (v + a - 1) / a * a; };

  const std::size_t phoff = l.header_size;
  const std::size_t text_offset = align(phoff + 2 * l.phdr_size + shape.padding, 16);
  const std::size_t table_offset = align(text_offset + text_size, 8);
  const std::size_t strtab_offset = table_offset + table.size();
  const std::size_t shoff = align(strtab_offset + names.size(), 8);
  const std::size_t shnum = 4 + shape.extra_sections;
  std::vector<std::byte> file(shoff + shnum * l.shdr_size);

  const rproc::mutable_byte_view out(file, shape.order);
  const auto u8 = [&](std::size_t at, std::uint64_t v) {
    (void)out.write_u8(at, static_cast<std::uint8_t>(v));
  };
  const auto u16 = [&](std::size_t at, std::uint64_t v) {
    (void)out.write<std::uint16_t>(at, static_cast<std::uint16_t>(v));
  };
  const auto u32 = [&](std::size_t at, std::uint64_t v) {
    (void)out.write_u32(at, static_cast<std::uint32_t>(v));
  };
  const auto word = [&](std::size_t at, std::uint64_t v) {
    if (l.word == 8)
      (void)out.write<std::uint64_t>(at, v);
    else
      u32(at, v);
  };

  for (std::size_t i = 0; i < 4; ++i)
    u8(i, static_cast<std::uint8_t>("\x7f"
                                    "ELF"[i]));
  u8(elf::ei_class, shape.ident_class);
  u8(elf::ei_data, shape.order == rproc::endian::big ? elf::data_big : elf::data_little);
  u8(6, 1);              // EI_VERSION
  u16(l.e_type, 2);      // ET_EXEC
  u16(l.e_machine, 40);  // EM_ARM
  u32(l.e_version, 1);
  word(l.e_entry, text_address + 1);
  word(l.e_phoff, phoff);
  word(l.e_shoff, shoff);
  u16(l.e_ehsize, l.header_size);
  u16(l.e_phentsize, l.phdr_size);
  u16(l.e_phnum, 2);
  u16(l.e_shentsize, l.shdr_size);
  u16(l.e_shnum, shnum);
  u16(l.e_shstrndx, shnum - 1);

  const auto segment = [&](std::size_t i, std::size_t offset, std::uint64_t address,
                           std::uint64_t filesz, std::uint64_t memsz) {
    const std::size_t at = phoff + i * l.phdr_size;
    u32(at + l.p_type, elf::pt_load);
    u32(at + l.p_flags, 4);  // PF_R
    word(at + l.p_offset, offset);
    word(at + l.p_vaddr, address);
    word(at + l.p_paddr, address);
    word(at + l.p_filesz, filesz);
    word(at + l.p_memsz, memsz);
    word(at + l.p_align, 4);
  };
  segment(0, text_offset, text_address, text_size, text_memsz);
  segment(1, table_offset, shape.table_address, table.size(), table.size());

  for (std::size_t i = 0; i < text_size; ++i) u8(text_offset + i, i + 1);
  for (std::size_t i = 0; i < table.size(); ++i) file[table_offset + i] = table[i];
  for (std::size_t i = 0; i < names.size(); ++i)
    u8(strtab_offset + i, static_cast<std::uint8_t>(names[i]));

  const auto section = [&](std::size_t i, std::uint32_t name, std::uint32_t type,
                           std::uint64_t flags, std::uint64_t address, std::size_t offset,
                           std::size_t size) {
    const std::size_t at = shoff + i * l.shdr_size;
    u32(at + l.sh_name, name);
    u32(at + l.sh_type, type);
    word(at + l.sh_flags, flags);
    word(at + l.sh_addr, address);
    word(at + l.sh_offset, offset);
    word(at + l.sh_size, size);
    word(at + l.sh_addralign, 4);
  };
  constexpr std::uint32_t progbits = 1, strtab = 3;
  constexpr std::uint64_t alloc = 2, exec = 4;
  section(1, text_name, progbits, alloc | exec, text_address, text_offset, text_size);
  for (std::size_t k = 0; k < shape.extra_sections; ++k)
    section(2 + k, extra_name, progbits, 0, 0, text_offset, text_size);
  section(2 + shape.extra_sections, table_name, progbits, alloc, shape.table_address, table_offset,
          table.size());
  section(shnum - 1, strtab_name, strtab, 0, 0, strtab_offset, names.size());
  return file;
}

}  // namespace rproc_bench
