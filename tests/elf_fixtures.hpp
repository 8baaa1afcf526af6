// The ELF tests' sample images, made at compile time by the one ELF writer (elf_writer.hpp), in
// both classes and both byte orders: a valid image with a known layout, from which each test
// makes one fault.
#pragma once

#include <rproc/builder.hpp>
#include <rproc/bytes.hpp>
#include <rproc/elf.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

#include "elf_writer.hpp"

namespace fx {

inline constexpr std::uint32_t table_address = default_table_address;

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
  static constexpr elf_shape shape{.ident_class = Class, .order = Order};
  static constexpr image_layout at = layout_for(shape, sample_table_size);
  static constexpr const rproc::elf::class_layout& elf = rproc::elf::layout_of(Class);
  using bytes_type = std::array<std::byte, at.size>;
  static constexpr bytes_type image = [] {
    bytes_type bytes{};
    write_image(bytes, sample_table<Order>(), shape);
    return bytes;
  }();
  static constexpr std::uint64_t word_max =
      Class == rproc::elf::class64 ? ~std::uint64_t{0} : std::uint64_t{0xFFFFFFFFu};

  static constexpr bytes_type with_u8(std::size_t off, std::uint8_t v, bytes_type b = image) {
    return with(&image_writer::u8, off, v, b);
  }
  static constexpr bytes_type with_u16(std::size_t off, std::uint16_t v, bytes_type b = image) {
    return with(&image_writer::u16, off, v, b);
  }
  static constexpr bytes_type with_u32(std::size_t off, std::uint32_t v, bytes_type b = image) {
    return with(&image_writer::u32, off, v, b);
  }
  static constexpr bytes_type with_word(std::size_t off, std::uint64_t v, bytes_type b = image) {
    return with(&image_writer::word, off, v, b);
  }

 private:
  using write_field = void (image_writer::*)(std::size_t, std::uint64_t) const;
  static constexpr bytes_type with(write_field write, std::size_t off, std::uint64_t v,
                                   bytes_type b) {
    (image_writer{b, Order, Class}.*write)(off, v);
    return b;
  }
};

}  // namespace fx
