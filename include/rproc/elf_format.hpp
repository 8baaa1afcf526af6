// The ELF format as rproc reads it (System V ABI): the identification bytes, the offsets of the
// header, program header and section header fields of each class, and one program header and one
// section header as values. elf.hpp checks an image and reads these from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rproc {

// Facts of the ELF format that rproc reads (System V ABI, "ELF header", "Program header",
// "Sections").
namespace elf {

inline constexpr std::uint8_t class32 = 1;
inline constexpr std::uint8_t class64 = 2;
inline constexpr std::uint8_t data_little = 1;
inline constexpr std::uint8_t data_big = 2;
inline constexpr std::uint32_t pt_load = 1;
inline constexpr std::string_view table_section_name = ".resource_table";

// e_ident: the same 16 bytes in both classes.
inline constexpr std::size_t ei_magic = 0;
inline constexpr std::size_t ei_class = 4;
inline constexpr std::size_t ei_data = 5;
inline constexpr std::size_t ei_version = 6;

// Byte offsets of the header fields, program header fields and section header fields of one
// class; `word` is the width of addresses, file offsets and sizes (4 or 8).
struct class_layout {
  std::size_t word;
  std::size_t header_size;
  std::size_t e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize,
      e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
  std::size_t phdr_size;
  std::size_t p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
  std::size_t shdr_size;
  std::size_t sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info,
      sh_addralign, sh_entsize;
};

inline constexpr class_layout layout32{
    .word = 4, .header_size = 52,
    .e_type = 16, .e_machine = 18, .e_version = 20, .e_entry = 24, .e_phoff = 28, .e_shoff = 32,
    .e_flags = 36, .e_ehsize = 40, .e_phentsize = 42, .e_phnum = 44, .e_shentsize = 46,
    .e_shnum = 48, .e_shstrndx = 50,
    .phdr_size = 32,
    .p_type = 0, .p_flags = 24, .p_offset = 4, .p_vaddr = 8, .p_paddr = 12, .p_filesz = 16,
    .p_memsz = 20, .p_align = 28,
    .shdr_size = 40,
    .sh_name = 0, .sh_type = 4, .sh_flags = 8, .sh_addr = 12, .sh_offset = 16, .sh_size = 20,
    .sh_link = 24, .sh_info = 28, .sh_addralign = 32, .sh_entsize = 36};

inline constexpr class_layout layout64{
    .word = 8, .header_size = 64,
    .e_type = 16, .e_machine = 18, .e_version = 20, .e_entry = 24, .e_phoff = 32, .e_shoff = 40,
    .e_flags = 48, .e_ehsize = 52, .e_phentsize = 54, .e_phnum = 56, .e_shentsize = 58,
    .e_shnum = 60, .e_shstrndx = 62,
    .phdr_size = 56,
    .p_type = 0, .p_flags = 4, .p_offset = 8, .p_vaddr = 16, .p_paddr = 24, .p_filesz = 32,
    .p_memsz = 40, .p_align = 48,
    .shdr_size = 64,
    .sh_name = 0, .sh_type = 4, .sh_flags = 8, .sh_addr = 16, .sh_offset = 24, .sh_size = 32,
    .sh_link = 40, .sh_info = 44, .sh_addralign = 48, .sh_entsize = 56};

constexpr const class_layout& layout_of(std::uint8_t ident_class) noexcept {
  return ident_class == class64 ? layout64 : layout32;
}

}  // namespace elf

// True when `file` starts with the ELF magic (how the inspector tells an image from a raw table).
constexpr bool has_elf_magic(std::span<const std::byte> file) noexcept {
  constexpr std::uint8_t magic[4] = {0x7F, 'E', 'L', 'F'};
  if (file.size() < 4) return false;
  for (std::size_t i = 0; i < 4; ++i)
    if (std::to_integer<std::uint8_t>(file[i]) != magic[i]) return false;
  return true;
}

// One program header. `contents` are the p_filesz bytes of a PT_LOAD segment (checked to lie in
// the file); other segments are not checked and have no contents.
struct elf_segment {
  std::uint32_t index = 0;
  std::size_t header_offset = 0;  // of the program header, in the file
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t paddr = 0;  // the device address the loader writes to
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t align = 0;
  std::span<const std::byte> contents{};

  constexpr bool is_load() const noexcept { return type == elf::pt_load; }
};

// One section header. Its name starts at sh_name in the section name string table and ends at
// the first NUL, which read_elf checked lies inside that table.
struct elf_section {
  std::uint32_t index = 0;
  std::size_t header_offset = 0;  // of the section header, in the file
  std::uint32_t name_offset = 0;  // sh_name
  std::uint32_t type = 0;
  std::uint64_t flags = 0;
  std::uint64_t addr = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t addralign = 0;
  std::uint64_t entsize = 0;
  // The string table from sh_name to its end; the name is found only when asked for, so that
  // listing 65535 sections that share one long name costs nothing.
  std::span<const std::byte> names_from_here{};

  constexpr std::size_t name_length() const noexcept {
    std::size_t n = 0;
    while (n < names_from_here.size() && names_from_here[n] != std::byte{0}) ++n;
    return n;
  }
  std::string_view name() const noexcept {
    return {reinterpret_cast<const char*>(names_from_here.data()), name_length()};
  }
  // Reads at most s.size() + 1 bytes.
  constexpr bool name_equals(std::string_view s) const noexcept {
    if (names_from_here.size() <= s.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (std::to_integer<char>(names_from_here[i]) != s[i]) return false;
    return names_from_here[s.size()] == std::byte{0};
  }
};

}  // namespace rproc
