// The ELF checks of SPEC section 2, the resource table lookup and the segment loader, on images
// made in tests/elf_fixtures.hpp (ELF32 and ELF64, little- and big-endian): every code from a
// fixture with one fault, with the offset of the faulty field, checked at compile time and again at
// run time on an exact-size heap copy (so that a read one past the end is an ASan error).
#include <rproc/elf.hpp>
#include <rproc/image.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elf_fixtures.hpp"
#include "support.hpp"

namespace {

using rproc::endian;
using rproc::errc;
constexpr std::uint8_t c32 = rproc::elf::class32;
constexpr std::uint8_t c64 = rproc::elf::class64;

using le32 = fx::sample<c32, endian::little>;
using be32 = fx::sample<c32, endian::big>;
using le64 = fx::sample<c64, endian::little>;
using be64 = fx::sample<c64, endian::big>;

// The layouts a reader can check by hand against the picture in elf_fixtures.hpp.
static_assert(le32::at.text_offset == 160 && le32::at.table_offset == 192 &&
              le32::at.strtab_offset == 332 && le32::at.shoff == 368 && le32::at.size == 528);
static_assert(le64::at.text_offset == 240 && le64::at.table_offset == 272 &&
              le64::at.strtab_offset == 412 && le64::at.shoff == 448 && le64::at.size == 704);
static_assert(le32::at.phdr(2) == 128 && le64::at.phdr(2) == 176);
static_assert(le32::at.shdr(2) == 448 && le64::at.shdr(2) == 576);

template <class S>
constexpr bool reads_as_built() {
  const auto image = rproc::read_elf(S::image);
  if (!image) return false;
  const bool is64 = S::shape.ident_class == c64;
  const endian order = S::image[5] == std::byte{2} ? endian::big : endian::little;
  if (image->bits() != (is64 ? 64u : 32u) || image->order() != order) return false;
  if (image->machine() != (is64 ? 243 : 40) || image->type() != 2) return false;
  if (image->entry() != fx::entry_point) return false;
  if (image->segment_count() != 3 || image->section_count() != 4) return false;

  const auto text = image->segment(0);
  if (!text.is_load() || text.header_offset != S::at.phdr(0) || text.paddr != fx::text_address ||
      text.filesz != fx::text_size || text.memsz != fx::text_memsz ||
      text.contents.size() != fx::text_size || text.contents[0] != std::byte{1})
    return false;
  if (image->segment(1).is_load() || !image->segment(1).contents.empty()) return false;

  const auto section = image->table_section();
  if (!section || section->index != 2 || section->header_offset != S::at.shdr(2) ||
      !section->name_equals(".resource_table") || section->name_equals(".resource_tabl") ||
      section->offset != S::at.table_offset || section->addr != fx::table_address)
    return false;
  if (!image->section(3).name_equals(".shstrtab") || !image->section(0).name_equals(""))
    return false;
  if (image->empty_table_warning()) return false;

  const auto found = image->resource_table();
  if (!found || found->da != fx::table_address || found->file_offset != S::at.table_offset ||
      found->order != order || found->bytes.size() != 140)
    return false;
  const auto parsed = found->parse();
  if (!parsed || parsed->num() != 2) return false;
  const rproc::table_view t = *parsed;
  const auto vdev = t[0].as<rproc::vdev_entry>();
  const auto trace = t[1].as<rproc::trace_entry>();
  return vdev && vdev->num_of_vrings() == 2 && vdev->vring(1).notifyid() == 2 && trace &&
         trace->da() == 0x20000 && trace->len() == 0x1000 && trace->name_equals("trace0");
}
static_assert(reads_as_built<le32>());
static_assert(reads_as_built<be32>());
static_assert(reads_as_built<le64>());
static_assert(reads_as_built<be64>());

template <class S>
struct fault_case {
  const char* name;
  typename S::bytes_type bytes;
  errc code;
  std::size_t offset;
};

constexpr bool fails_with(std::span<const std::byte> bytes, errc code, std::size_t offset) {
  const auto image = rproc::read_elf(bytes);
  return !image && image.error().code == code && image.error().offset == offset &&
         !image.error().entry;
}

// One fault each, in SPEC's order; where two faults are made, the one SPEC checks first wins.
template <class S>
constexpr auto faults() {
  constexpr auto& e = S::elf;
  constexpr auto at = S::at;
  constexpr std::uint64_t max = S::word_max;
  constexpr auto other = S::shape.ident_class == c64 ? rproc::elf::layout32 : rproc::elf::layout64;
  using f = fault_case<S>;
  constexpr auto half = [](std::size_t v) { return static_cast<std::uint16_t>(v); };
  return std::array{
      f{"magic byte 1", S::with_u8(1, 'X'), errc::elf_bad_magic, 0},
      f{"magic byte 0", S::with_u8(0, 0x7E), errc::elf_bad_magic, 0},
      f{"class 0", S::with_u8(4, 0), errc::elf_bad_class, 4},
      f{"class 3", S::with_u8(4, 3), errc::elf_bad_class, 4},
      f{"data 0", S::with_u8(5, 0), errc::elf_bad_data, 5},
      f{"data 3", S::with_u8(5, 3), errc::elf_bad_data, 5},
      f{"class before data", S::with_u8(5, 0, S::with_u8(4, 0)), errc::elf_bad_class, 4},
      f{"e_ehsize one short", S::with_u16(e.e_ehsize, half(e.header_size - 1)),
        errc::elf_bad_header, e.e_ehsize},
      f{"e_ehsize 0", S::with_u16(e.e_ehsize, 0), errc::elf_bad_header, e.e_ehsize},
      f{"e_shentsize one more", S::with_u16(e.e_shentsize, half(e.shdr_size + 1)),
        errc::elf_bad_header, e.e_shentsize},
      f{"e_shentsize of the other class",
        S::with_u16(e.e_shentsize, half(other.shdr_size)),
        errc::elf_bad_header, e.e_shentsize},
      f{"e_phentsize one less", S::with_u16(e.e_phentsize, half(e.phdr_size - 1)),
        errc::elf_bad_header, e.e_phentsize},
      f{"e_phentsize of the other class",
        S::with_u16(e.e_phentsize, half(other.phdr_size)),
        errc::elf_bad_header, e.e_phentsize},
      f{"e_ehsize before e_shentsize",
        S::with_u16(e.e_shentsize, 0, S::with_u16(e.e_ehsize, 0)), errc::elf_bad_header,
        e.e_ehsize},
      f{"e_shentsize before e_phentsize",
        S::with_u16(e.e_phentsize, 0, S::with_u16(e.e_shentsize, 0)), errc::elf_bad_header,
        e.e_shentsize},
      f{"magic before header",
        S::with_u8(0, 0, S::with_u16(e.e_ehsize, 0)), errc::elf_bad_magic, 0},
      f{"section headers one byte past the end", S::with_word(e.e_shoff, at.shoff + 1),
        errc::elf_sections_out_of_bounds, e.e_shoff},
      f{"e_shnum 65535", S::with_u16(e.e_shnum, 65535), errc::elf_sections_out_of_bounds,
        e.e_shoff},
      f{"e_shoff max", S::with_word(e.e_shoff, max), errc::elf_sections_out_of_bounds, e.e_shoff},
      f{"e_shoff wraps", S::with_word(e.e_shoff, max - 15), errc::elf_sections_out_of_bounds,
        e.e_shoff},
      f{"program headers one byte past the end",
        S::with_word(e.e_phoff, at.size - 3 * e.phdr_size + 1), errc::elf_segments_out_of_bounds,
        e.e_phoff},
      f{"e_phnum 65535", S::with_u16(e.e_phnum, 65535), errc::elf_segments_out_of_bounds,
        e.e_phoff},
      f{"e_phoff wraps", S::with_word(e.e_phoff, max - 7), errc::elf_segments_out_of_bounds,
        e.e_phoff},
      f{"sections before segments",
        S::with_word(e.e_phoff, max, S::with_word(e.e_shoff, max)),
        errc::elf_sections_out_of_bounds, e.e_shoff},
      f{"e_shstrndx = e_shnum", S::with_u16(e.e_shstrndx, 4), errc::elf_bad_string_table,
        e.e_shstrndx},
      f{"e_shstrndx 65535", S::with_u16(e.e_shstrndx, 65535), errc::elf_bad_string_table,
        e.e_shstrndx},
      f{"string table one byte past the end",
        S::with_word(at.shdr(3) + e.sh_offset, at.size - at.strtab_size + 1),
        errc::elf_bad_string_table, at.shdr(3)},
      f{"string table size max", S::with_word(at.shdr(3) + e.sh_size, max),
        errc::elf_bad_string_table, at.shdr(3)},
      f{"segments out of bounds before string table",
        S::with_u16(e.e_phnum, 65535, S::with_u16(e.e_shstrndx, 9)),
        errc::elf_segments_out_of_bounds, e.e_phoff},
      f{"name at the string table's end", S::with_u32(at.shdr(1) + e.sh_name, 33),
        errc::elf_bad_string_table, at.shdr(1)},
      f{"name offset max", S::with_u32(at.shdr(2) + e.sh_name, 0xFFFFFFFFu),
        errc::elf_bad_string_table, at.shdr(2)},
      // The last NUL is then the one after ".resource_table": ".shstrtab" runs off the end.
      f{"last name not NUL-terminated", S::with_u8(at.strtab_offset + 32, 'x'),
        errc::elf_bad_string_table, at.shdr(3)},
      f{"p_filesz > p_memsz", S::with_word(at.phdr(0) + e.p_filesz, fx::text_memsz + 1),
        errc::elf_segment_out_of_bounds, at.phdr(0)},
      f{"segment one byte past the end",
        S::with_word(at.phdr(2) + e.p_offset, at.size - fx::sample_table_size + 1),
        errc::elf_segment_out_of_bounds, at.phdr(2)},
      f{"segment offset wraps", S::with_word(at.phdr(2) + e.p_offset, max - 3),
        errc::elf_segment_out_of_bounds, at.phdr(2)},
      f{"segment p_filesz and p_memsz max",
        S::with_word(at.phdr(2) + e.p_memsz, max, S::with_word(at.phdr(2) + e.p_filesz, max)),
        errc::elf_segment_out_of_bounds, at.phdr(2)},
      f{"string table before segment",
        S::with_word(at.phdr(0) + e.p_filesz, max, S::with_u32(at.shdr(1) + e.sh_name, 40)),
        errc::elf_bad_string_table, at.shdr(1)},
      f{"table one byte past the end",
        S::with_word(at.shdr(2) + e.sh_size, at.size - at.table_offset + 1),
        errc::table_out_of_bounds, at.shdr(2)},
      f{"table offset max", S::with_word(at.shdr(2) + e.sh_offset, max),
        errc::table_out_of_bounds, at.shdr(2)},
      f{"table end wraps to 0", S::with_word(at.shdr(2) + e.sh_size, max - at.table_offset + 1),
        errc::table_out_of_bounds, at.shdr(2)},
      f{"segment before table",
        S::with_word(at.shdr(2) + e.sh_size, max, S::with_word(at.phdr(2) + e.p_offset, max)),
        errc::elf_segment_out_of_bounds, at.phdr(2)},
  };
}

template <class S>
constexpr bool every_fault_reported() {
  for (const auto& f : faults<S>())
    if (!fails_with(f.bytes, f.code, f.offset)) return false;
  return true;
}
static_assert(every_fault_reported<le32>());
static_assert(every_fault_reported<be32>());
static_assert(every_fault_reported<le64>());
static_assert(every_fault_reported<be64>());

// Too small for the header of the class that byte 4 names (ELF32's when it names none).
static_assert(fails_with(test::prefix<51>(le32::image), errc::elf_too_small, 0));
static_assert(fails_with(test::prefix<63>(be64::image), errc::elf_too_small, 0));
static_assert(fails_with(test::prefix<4>(le64::image), errc::elf_too_small, 0));
static_assert(fails_with(std::span<const std::byte>{}, errc::elf_too_small, 0));
// 60 bytes: enough for ELF32, not for ELF64; too small before a bad magic.
static_assert(fails_with(test::prefix<60>(le64::with_u8(0, 0)), errc::elf_too_small, 0));
static_assert(fails_with(test::prefix<60>(le32::with_u8(0, 0)), errc::elf_bad_magic, 0));

// Valid variations: the table lookup's outcomes.
template <class S>
constexpr bool no_table(const typename S::bytes_type& bytes, bool empty_section) {
  const auto image = rproc::read_elf(bytes);
  if (!image) return false;
  if (image->resource_table()) return false;
  const auto w = image->empty_table_warning();
  if (!empty_section) return !w;
  return w && w->code == errc::empty_table_section && w->offset == S::at.table_offset &&
         !w->entry;
}

template <class S>
constexpr bool table_lookups() {
  constexpr auto& e = S::elf;
  constexpr auto at = S::at;
  // A size-0 section: no table, and the warning at the section's offset.
  if (!no_table<S>(S::with_word(at.shdr(2) + e.sh_size, 0), true)) return false;
  // ".resource_tablx" is not the table.
  if (!no_table<S>(S::with_u8(at.strtab_offset + fx::table_name + 14, 'x'), false)) return false;
  // No section headers at all (their entry size and offset then do not matter).
  if (!no_table<S>(S::with_word(e.e_shoff, S::word_max,
                                S::with_u16(e.e_shentsize, 0, S::with_u16(e.e_shnum, 0))),
                   false))
    return false;
  // A larger e_ehsize is allowed.
  if (!rproc::read_elf(S::with_u16(e.e_ehsize, 200))) return false;
  // No program headers: readable (but not loadable).
  const auto without_segments = S::with_word(
      e.e_phoff, S::word_max, S::with_u16(e.e_phentsize, 0, S::with_u16(e.e_phnum, 0)));
  const auto no_segments = rproc::read_elf(without_segments);
  if (!no_segments || no_segments->segment_count() != 0) return false;
  return true;
}
static_assert(table_lookups<le32>());
static_assert(table_lookups<be32>());
static_assert(table_lookups<le64>());
static_assert(table_lookups<be64>());

// The region of device memory a fixture loads into: base address and bytes.
struct region {
  std::uint64_t base;
  std::span<std::byte> bytes;
};

// Translates [da, da + length) when it lies inside one of the regions.
template <std::size_t N>
struct translation {
  std::array<region, N> regions;
  int* calls = nullptr;

  constexpr std::optional<std::span<std::byte>> operator()(std::uint64_t da,
                                                           std::size_t length) const {
    if (calls) ++*calls;
    for (const auto& r : regions) {
      if (da < r.base || da - r.base > r.bytes.size()) continue;
      const auto at = static_cast<std::size_t>(da - r.base);
      if (length <= r.bytes.size() - at) return r.bytes.subspan(at, length);
    }
    return std::nullopt;
  }
};
static_assert(rproc::address_translation<translation<2>>);
static_assert(!rproc::address_translation<int>);

template <class S>
constexpr bool loads_at_compile_time() {
  std::array<std::byte, 64> tcm{};
  std::array<std::byte, 256> sram{};
  for (auto& b : tcm) b = std::byte{0xAA};
  for (auto& b : sram) b = std::byte{0xAA};
  const auto image = rproc::read_elf(S::image);
  if (!image) return false;
  const translation<2> t{{region{fx::text_address, tcm}, region{fx::table_address, sram}}};
  if (!rproc::load_segments(*image, t)) return false;
  for (std::size_t i = 0; i < 64; ++i) {
    const std::byte want = i < 32 ? std::byte(i + 1) : i < 48 ? std::byte{0} : std::byte{0xAA};
    if (tcm[i] != want) return false;
  }
  for (std::size_t i = 0; i < 256; ++i) {
    const std::byte want = i < 140 ? S::image[S::at.table_offset + i] : std::byte{0xAA};
    if (sram[i] != want) return false;
  }
  return true;
}
static_assert(loads_at_compile_time<le32>());
static_assert(loads_at_compile_time<be64>());

}  // namespace

TEMPLATE_TEST_CASE("the sample images read as built", "[elf]", le32, be32, le64, be64) {
  const auto copy = test::exact_copy(TestType::image);
  const auto image = rproc::read_elf(copy);
  REQUIRE(image);
  CHECK(image->entry() == 0x1001);
  CHECK(image->section(1).name() == ".text");
  CHECK(image->section(2).name() == ".resource_table");
  CHECK(image->section(3).name() == ".shstrtab");
  CHECK(image->section(0).name().empty());
  std::vector<std::uint32_t> types;
  for (const auto s : image->segments()) types.push_back(s.type);
  CHECK(types == std::vector<std::uint32_t>{1, 4, 1});
  std::vector<std::uint64_t> offsets;
  for (const auto s : image->sections()) offsets.push_back(s.offset);
  CHECK(offsets == std::vector<std::uint64_t>{0, TestType::at.text_offset,
                                              TestType::at.table_offset,
                                              TestType::at.strtab_offset});
  const auto found = image->resource_table();
  REQUIRE(found);
  CHECK(found->bytes.data() == copy.data() + TestType::at.table_offset);
}

TEMPLATE_TEST_CASE("every ELF code of SPEC section 2, with its offset", "[elf]", le32, be32, le64,
                   be64) {
  for (const auto& f : faults<TestType>()) {
    INFO(f.name);
    const auto copy = test::exact_copy(f.bytes);
    const auto image = rproc::read_elf(copy);
    REQUIRE_FALSE(image);
    CHECK(rproc::to_string(image.error().code) == rproc::to_string(f.code));
    CHECK(image.error().offset == f.offset);
    CHECK_FALSE(image.error().entry);
  }
  for (const std::size_t n : {0u, 1u, 4u, 16u, 51u}) {
    const auto copy = test::exact_copy(std::span(TestType::image).first(n));
    const auto image = rproc::read_elf(copy);
    REQUIRE_FALSE(image);
    CHECK(image.error().code == errc::elf_too_small);
    CHECK(image.error().value == n);
  }
  CHECK(table_lookups<TestType>());
}

TEST_CASE("ELF faults carry the value found", "[elf]") {
  const auto bad_class = rproc::read_elf(le32::with_u8(4, 7));
  REQUIRE_FALSE(bad_class);
  CHECK(bad_class.error().value == 7);
  const auto magic = rproc::read_elf(be64::with_u8(3, 'G'));
  REQUIRE_FALSE(magic);
  CHECK(magic.error().value == 0x7F454C47);
  const auto shnum = rproc::read_elf(le64::with_word(le64::elf.e_shoff, 0xFFFFFFFFFFFFFFF0u));
  REQUIRE_FALSE(shnum);
  CHECK(shnum.error().value == 0xFFFFFFFFFFFFFFF0u);
  const auto name = rproc::read_elf(be32::with_u32(be32::at.shdr(2), 0x12345678));
  REQUIRE_FALSE(name);
  CHECK(name.error().value == 0x12345678);
  CHECK(std::string(rproc::message(name.error()).view()) ==
        "elf_bad_string_table at offset 0x1c0: the section name string table is invalid (found "
        "0x12345678)");
}

TEST_CASE("65535 sections sharing one 2.6 MB name are read in linear time", "[elf]") {
  // The sample's four section headers, then 65531 more (all zero: the empty name) right after
  // them, then a run of 'a' ending in the only NUL.
  using S = le64;
  const std::size_t extra_headers = 65531 * S::elf.shdr_size;
  const std::size_t run = 2'600'000;
  std::vector<std::byte> bytes(S::at.size + extra_headers + run, std::byte{'a'});
  std::copy(S::image.begin(), S::image.end(), bytes.begin());
  std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(S::at.size), extra_headers, std::byte{0});
  bytes.back() = std::byte{0};
  rproc::mutable_byte_view w(bytes, endian::little);
  REQUIRE(w.write<std::uint16_t>(S::elf.e_shnum, 65535));

  const auto image = rproc::read_elf(bytes);
  REQUIRE(image);
  CHECK(image->section_count() == 65535);
  CHECK(image->section(65534).name().empty());
  REQUIRE(image->table_section());
  CHECK(image->table_section()->index == 2);

  // The string table becomes the run: every name is 'a' repeated, 2.6 MB long.
  const std::size_t run_at = S::at.size + extra_headers;
  REQUIRE(w.write<std::uint64_t>(S::at.shdr(3) + S::elf.sh_offset, run_at));
  REQUIRE(w.write<std::uint64_t>(S::at.shdr(3) + S::elf.sh_size, run));
  const auto long_names = rproc::read_elf(bytes);
  REQUIRE(long_names);
  CHECK_FALSE(long_names->table_section());
  CHECK(long_names->section(65534).name().size() == run - 1);
  CHECK(long_names->section(2).name_length() == run - 1 - fx::table_name);

  // Without the final NUL, the first section's name is the first fault.
  bytes.back() = std::byte{'a'};
  const auto rejected = rproc::read_elf(bytes);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == errc::elf_bad_string_table);
  CHECK(rejected.error().offset == S::at.shdr(0));
}

TEMPLATE_TEST_CASE("the table is parsed in the image's byte order, faults at file offsets",
                   "[elf]", le32, be32, le64, be64) {
  using S = TestType;
  const std::size_t table = S::at.table_offset;
  const std::size_t vring0_num = table + fx::sample_vdev_at + 28 + 8;
  const auto bad_vring = S::with_u32(vring0_num, 0);
  const auto image = rproc::read_elf(bad_vring);
  REQUIRE(image);
  REQUIRE(image->resource_table());
  const auto found = image->resource_table()->parse();
  REQUIRE_FALSE(found);
  CHECK(found.error().code == errc::vring_invalid);
  CHECK(found.error().offset == vring0_num);
  CHECK(found.error().entry == 0u);

  // Type 5: a warning, and an error when strict.
  const auto unknown = S::with_u32(table + fx::sample_trace_at, 5);
  const auto lenient = rproc::read_elf(unknown)->resource_table()->parse();
  REQUIRE(lenient);
  const auto warnings = lenient->warnings();
  REQUIRE(warnings.size() == 1);
  CHECK((*warnings.begin()).offset == fx::sample_trace_at);  // in the table, as parse_table says
  const auto strict = rproc::read_elf(unknown)->resource_table()->parse({.strict = true});
  REQUIRE_FALSE(strict);
  CHECK(strict.error().code == errc::unknown_resource_type);
  CHECK(strict.error().offset == table + fx::sample_trace_at);
  CHECK(strict.error().entry == 1u);
}

TEMPLATE_TEST_CASE("only the first .resource_table section counts", "[elf]", le32, be64) {
  using S = TestType;
  // .text renamed to .resource_table: its bytes 01 02 03 04 ... are read as the table.
  const auto two = S::with_u32(S::at.shdr(1) + S::elf.sh_name, fx::table_name);
  const auto image = rproc::read_elf(two);
  REQUIRE(image);
  REQUIRE(image->table_section());
  CHECK(image->table_section()->index == 1);
  REQUIRE(image->resource_table());
  const auto found = image->resource_table()->parse();
  REQUIRE_FALSE(found);
  CHECK(found.error().code == errc::unsupported_version);
  CHECK(found.error().offset == S::at.text_offset);
  CHECK(found.error().value == (S::image[5] == std::byte{2} ? 0x01020304u : 0x04030201u));
}

TEMPLATE_TEST_CASE("segments are copied and zero-filled byte by byte", "[elf][load]", le32, be32,
                   le64, be64) {
  using S = TestType;
  std::vector<std::byte> tcm(64, std::byte{0xAA});
  std::vector<std::byte> sram(256, std::byte{0xAA});
  int calls = 0;
  const translation<2> t{{region{fx::text_address, tcm}, region{fx::table_address, sram}}, &calls};
  const auto copy = test::exact_copy(S::image);
  const auto image = rproc::read_elf(copy);
  REQUIRE(image);
  REQUIRE(rproc::load_segments(*image, t));
  CHECK(calls == 2);  // two segments, each translated once
  for (std::size_t i = 0; i < tcm.size(); ++i) {
    INFO("tcm byte " << i);
    const std::byte want = i < 32 ? std::byte(i + 1) : i < 48 ? std::byte{0} : std::byte{0xAA};
    CHECK(tcm[i] == want);
  }
  for (std::size_t i = 0; i < sram.size(); ++i) {
    INFO("sram byte " << i);
    CHECK(sram[i] == (i < 140 ? S::image[S::at.table_offset + i] : std::byte{0xAA}));
  }
}

TEMPLATE_TEST_CASE("a segment that does not translate or does not fit writes nothing",
                   "[elf][load]", le32, be64) {
  using S = TestType;
  const std::vector<std::byte> untouched(256, std::byte{0xAA});
  std::vector<std::byte> tcm = untouched;
  std::vector<std::byte> sram = untouched;
  const auto image = rproc::read_elf(S::image);
  REQUIRE(image);

  SECTION("the second segment's address is not mapped") {
    const translation<1> t{{region{fx::text_address, tcm}}};
    const auto loaded = rproc::load_segments(*image, t);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == errc::segment_not_mapped);
    CHECK(loaded.error().offset == S::at.phdr(2));
    CHECK(loaded.error().value == fx::table_address);
  }
  SECTION("the second segment is one byte larger than its memory") {
    const translation<2> t{{region{fx::text_address, tcm},
                            region{fx::table_address, std::span(sram).first(139)}}};
    const auto loaded = rproc::load_segments(*image, t);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == errc::segment_not_mapped);
    CHECK(loaded.error().offset == S::at.phdr(2));
  }
  SECTION("a translation that answers with too few bytes") {
    const auto short_answer = [&](std::uint64_t da, std::size_t length)
        -> std::optional<std::span<std::byte>> {
      if (da == fx::text_address) return std::span(tcm).first(length);
      return std::span(sram).first(length - 1);
    };
    const auto loaded = rproc::load_segments(*image, short_answer);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == errc::segment_not_mapped);
  }
  SECTION("p_memsz larger than the memory, p_filesz fits") {
    const auto big = S::with_word(S::at.phdr(0) + S::elf.p_memsz, 0x10000);
    const auto big_image = rproc::read_elf(big);
    REQUIRE(big_image);
    const translation<2> t{{region{fx::text_address, tcm}, region{fx::table_address, sram}}};
    const auto loaded = rproc::load_segments(*big_image, t);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == errc::segment_not_mapped);
    CHECK(loaded.error().offset == S::at.phdr(0));
  }
  CHECK(tcm == untouched);
  CHECK(sram == untouched);
}

TEMPLATE_TEST_CASE("an image without PT_LOAD segments cannot be loaded", "[elf][load]", le32,
                   be64) {
  using S = TestType;
  int calls = 0;
  std::vector<std::byte> ram(256);
  const translation<1> t{{region{0, ram}}, &calls};

  const auto none = S::with_word(S::elf.e_phoff, 0, S::with_u16(S::elf.e_phnum, 0));
  const auto no_headers = rproc::read_elf(none);
  REQUIRE(no_headers);
  const auto loaded = rproc::load_segments(*no_headers, t);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == errc::elf_no_loadable_segments);
  CHECK(loaded.error().offset == S::elf.e_phnum);

  const auto notes = S::with_u32(S::at.phdr(2), fx::pt_note, S::with_u32(S::at.phdr(0), 6));
  const auto no_load = rproc::read_elf(notes);
  REQUIRE(no_load);
  const auto loaded2 = rproc::load_segments(*no_load, t);
  REQUIRE_FALSE(loaded2);
  CHECK(loaded2.error().code == errc::elf_no_loadable_segments);
  CHECK(calls == 0);

  // A PT_LOAD with p_memsz 0 is skipped without asking for a translation.
  const auto empty_segment = S::with_word(S::at.phdr(2) + S::elf.p_filesz, 0,
                                          S::with_word(S::at.phdr(2) + S::elf.p_memsz, 0));
  const auto image = rproc::read_elf(empty_segment);
  REQUIRE(image);
  const translation<1> text_only{{region{fx::text_address, ram}}, &calls};
  CHECK(rproc::load_segments(*image, text_only));
  CHECK(calls == 1);
}

TEMPLATE_TEST_CASE("a translation that fails at its k-th call writes nothing, for every k",
                   "[elf][load]", le32, be64) {
  using S = TestType;
  const auto image = rproc::read_elf(S::image);
  REQUIRE(image);
  for (int k = 1; k <= 2; ++k) {
    INFO("failing call " << k);
    std::vector<std::byte> tcm(64, std::byte{0xAA});
    std::vector<std::byte> sram(256, std::byte{0xAA});
    const auto untouched = tcm;
    const auto untouched_sram = sram;
    int calls = 0;
    const translation<2> t{{region{fx::text_address, tcm}, region{fx::table_address, sram}}};
    const auto flaky = [&](std::uint64_t da, std::size_t length)
        -> std::optional<std::span<std::byte>> {
      if (++calls == k) return std::nullopt;
      return t(da, length);
    };
    const auto loaded = rproc::load_segments(*image, flaky);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == rproc::errc::segment_not_mapped);
    CHECK(loaded.error().offset == S::at.phdr(k == 1 ? 0 : 2));
    CHECK(tcm == untouched);
    CHECK(sram == untouched_sram);
  }
}

TEST_CASE("more loadable segments than load_segments remembers", "[elf][load]") {
  // The program header table moved to the end of the file and grown to 70 PT_LOAD segments, each
  // one byte of .text at its own address, then one byte of zero fill.
  using S = le32;
  constexpr std::size_t count = rproc::load_segments_capacity + 6;
  std::vector<std::byte> bytes(S::image.begin(), S::image.end());
  const std::size_t phoff = bytes.size();
  bytes.resize(phoff + count * S::elf.phdr_size);
  rproc::mutable_byte_view w(bytes, endian::little);
  REQUIRE(w.write_u32(S::elf.e_phoff, static_cast<std::uint32_t>(phoff)));
  REQUIRE(w.write<std::uint16_t>(S::elf.e_phnum, count));
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t p = phoff + i * S::elf.phdr_size;
    REQUIRE(w.write_u32(p + S::elf.p_type, rproc::elf::pt_load));
    const auto text_byte = static_cast<std::uint32_t>(S::at.text_offset + i % 32);
    REQUIRE(w.write_u32(p + S::elf.p_offset, text_byte));
    REQUIRE(w.write_u32(p + S::elf.p_paddr, static_cast<std::uint32_t>(0x1000 + 2 * i)));
    REQUIRE(w.write_u32(p + S::elf.p_filesz, 1));
    REQUIRE(w.write_u32(p + S::elf.p_memsz, 2));
  }
  const auto image = rproc::read_elf(bytes);
  REQUIRE(image);
  std::vector<std::byte> ram(2 * count, std::byte{0xAA});
  int calls = 0;
  const translation<1> t{{region{0x1000, ram}}, &calls};
  REQUIRE(rproc::load_segments(*image, t));
  CHECK(calls == static_cast<int>(count + 6));  // the 6 past the capacity are asked again
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(ram[2 * i] == std::byte(i % 32 + 1));
    CHECK(ram[2 * i + 1] == std::byte{0});
  }
}

// The shape the lifecycle's start() uses: boot_address(), resource_table(), load() with a translation
// that answers with a span (empty when the range does not translate).
struct span_translator {
  std::span<std::byte> memory;
  std::uint64_t base;
  std::span<std::byte> operator()(std::uint64_t da, std::size_t length) const {
    if (da < base || da - base + length > memory.size()) return {};
    return memory.subspan(static_cast<std::size_t>(da - base), length);
  }
};
static_assert(rproc::address_translation<const span_translator>);

TEMPLATE_TEST_CASE("what the lifecycle asks of an image", "[elf][load]", le32, be64) {
  using S = TestType;
  const auto image = rproc::read_elf(S::image);
  REQUIRE(image);
  CHECK(image->boot_address() == fx::entry_point);
  static_assert(rproc::bootable_image<rproc::elf_image>);
  const auto table = image->resource_table();
  REQUIRE(table);
  CHECK(table->da == fx::table_address);
  CHECK(table->order == image->order());
  CHECK(table->bytes.data() == S::image.data() + S::at.table_offset);
  CHECK(table->bytes.size() == fx::sample_table_size);

  std::vector<std::byte> ram(0x1200, std::byte{0xAA});
  CHECK(image->load(span_translator{ram, 0x1000}));
  CHECK(ram[0] == std::byte{1});
  CHECK(ram[0x1000] == S::image[S::at.table_offset]);
  std::vector<std::byte> small(0x100, std::byte{0xAA});
  const auto refused = image->load(span_translator{small, 0x1000});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == rproc::errc::segment_not_mapped);
  CHECK(std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0xAA}; }));

  // No table, and a bad table at its file offset.
  const auto empty_section = S::with_word(S::at.shdr(2) + S::elf.sh_size, 0);
  const auto none = rproc::read_elf(empty_section);
  REQUIRE(none);
  CHECK_FALSE(none->resource_table());
  const auto version_2 = S::with_u32(S::at.table_offset, 2);
  const auto bad = rproc::read_elf(version_2);
  REQUIRE(bad);
  REQUIRE(bad->resource_table());
  REQUIRE_FALSE(bad->resource_table()->parse());
  CHECK(bad->resource_table()->parse().error().offset == S::at.table_offset);
}
