// A remote's memory as an ELF core (ET_CORE), for post-mortem debugging: one PT_LOAD per region
// the host can read (carveouts, vrings, devmem, firmware segments) at its device address, in the
// remote's class, byte order and machine, so that `readelf -l` and a debugger for the remote
// (`arm-none-eabi-gdb FW.elf CORE`) see its memory where the firmware saw it. Freestanding, no
// heap: the caller gives the regions (dump_plan collects them from a processor and an image), a
// reader of the remote's memory as the host reaches it (the platform's da_to_va) and a sink that
// takes the file's bytes in order.
//
//   rproc::dump_plan plan;
//   plan.add_resources(proc);                 // carveouts and vrings allocated, devmem mapped
//   plan.add_segments(image);                 // the image's PT_LOAD segments
//   auto core = rproc::write_coredump(rproc::core_format_of(image), plan.regions(),
//       [&](std::uint64_t da, std::size_t len) { return board.da_to_va(da, len); },
//       [&](std::span<const std::byte> bytes) { return file.write(bytes); });
//   // core->left_out: the regions the host could not read, left out of the file
//
// The registers at the crash, where the firmware saved them, go in a PT_NOTE before the memory
// (arm_prstatus_note for a 32-bit Arm core: the NT_PRSTATUS note gdb reads registers from).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bytes.hpp"
#include "elf.hpp"
#include "elf_format.hpp"
#include "error.hpp"

namespace rproc {

// The most regions one core holds (write_coredump keeps a view of each while it writes).
inline constexpr std::size_t max_dump_regions = 64;

// Where a region of the core comes from.
enum class dump_source : std::uint8_t { carveout, vring, devmem, segment, other };

// A range of the remote's memory for the core.
struct dump_region {
  std::uint64_t da = 0;
  std::uint64_t len = 0;
  std::uint32_t flags = 6;  // p_flags: PF_R | PF_W, or the image segment's
  dump_source source = dump_source::other;
  std::uint32_t index = 0;  // the table entry, or the image's program header
};

// The ELF identification of the core: the remote's, not the host's.
struct core_format {
  unsigned bits = 32;  // ELFCLASS32 or ELFCLASS64
  endian order = endian::little;
  std::uint16_t machine = 40;  // e_machine (40: ARM)
  std::uint32_t flags = 0;     // e_flags
};

// The format of a firmware image's own ELF file.
constexpr core_format core_format_of(const elf_image& image) noexcept {
  return {image.bits(), image.order(), image.machine(), 0};
}

// The regions to dump, in a fixed capacity. A region already inside one added earlier is not
// added again (a segment loaded into a carveout is in the core once).
template <std::size_t Capacity = max_dump_regions>
class dump_plan {
 public:
  // False when it is full (the region is not added); true for an empty or covered region.
  constexpr bool add(const dump_region& region) noexcept {
    if (region.len == 0) return true;
    for (std::size_t i = 0; i < size_; ++i) {
      const dump_region& r = regions_[i];
      if (region.da >= r.da && region.da - r.da <= r.len && region.len <= r.len - (region.da - r.da))
        return true;
    }
    if (size_ == Capacity) return false;
    regions_[size_++] = region;
    return true;
  }
  // Every carveout and vring the processor allocated and every devmem it mapped.
  template <class Processor>
  constexpr bool add_resources(const Processor& processor) noexcept {
    bool all = true;
    for (const auto& c : processor.resources().carveouts())
      if (c.allocated)
        all = add({c.region.da, c.region.len, 6, dump_source::carveout, c.entry}) && all;
    for (const auto& v : processor.resources().vrings())
      all = add({v.region.da, v.region.len, 6, dump_source::vring, v.entry}) && all;
    for (const auto& d : processor.resources().devmems())
      all = add({d.da, d.len, 6, dump_source::devmem, d.entry}) && all;
    return all;
  }
  // Every PT_LOAD segment of the image: its memory size at its physical (device) address.
  constexpr bool add_segments(const elf_image& image) noexcept {
    bool all = true;
    for (const elf_segment s : image.segments())
      if (s.is_load()) all = add({s.paddr, s.memsz, s.flags, dump_source::segment, s.index}) && all;
    return all;
  }
  constexpr std::span<const dump_region> regions() const noexcept {
    return std::span<const dump_region>(regions_).first(size_);
  }

 private:
  std::array<dump_region, Capacity> regions_{};
  std::size_t size_ = 0;
};

// What write_coredump wrote, and which regions it left out because the host could not read them
// (bit i of `left_out`: regions[i]).
struct coredump_result {
  std::uint32_t segments = 0;  // PT_LOAD headers written
  std::uint64_t size = 0;      // bytes given to the sink
  std::uint64_t left_out = 0;
  constexpr bool was_left_out(std::size_t i) const noexcept {
    return i < max_dump_regions && ((left_out >> i) & 1u) != 0;
  }
};

// A 32-bit Arm core's registers at the crash: r0 to r12, sp, lr, pc, and the program status.
struct arm_registers {
  std::array<std::uint32_t, 16> r{};
  std::uint32_t psr = 0;
};

// One ELF note, "CORE" / NT_PRSTATUS, whose body is 32-bit Arm's prstatus as Linux and gdb lay it
// out (148 bytes): the signal at 12, the 18 general registers at 72 (r0 to r15, cpsr, orig_r0).
inline constexpr std::size_t arm_prstatus_note_size = 12 + 8 + 148;

constexpr std::array<std::byte, arm_prstatus_note_size> arm_prstatus_note(
    const arm_registers& registers, endian order, std::uint16_t signal = 0) noexcept {
  constexpr std::size_t name_size = 5, body = 20, nt_prstatus = 1;  // "CORE\0", padded to 8
  std::array<std::byte, arm_prstatus_note_size> note{};
  const basic_byte_view<std::byte> out(std::span<std::byte>(note), order);
  (void)out.write_u32(0, name_size);
  (void)out.write_u32(4, arm_prstatus_note_size - body);
  (void)out.write_u32(8, nt_prstatus);
  for (std::size_t i = 0; i < 4; ++i) note[12 + i] = static_cast<std::byte>("CORE"[i]);
  (void)out.write(body + 12, signal);
  for (std::size_t i = 0; i < registers.r.size(); ++i)
    (void)out.write_u32(body + 72 + 4 * i, registers.r[i]);
  (void)out.write_u32(body + 72 + 64, registers.psr);
  return note;
}

namespace detail {
inline constexpr std::uint16_t et_core = 4;
inline constexpr std::uint8_t ev_current = 1;
inline constexpr std::uint32_t pt_note = 4;

template <class Sink>
constexpr bool put(Sink& sink, std::span<const std::byte> bytes, std::uint64_t& size) {
  if (!sink(bytes)) return false;
  size += bytes.size();
  return true;
}
}  // namespace detail

// Writes the core: the ELF header, a PT_NOTE program header when `notes` (ELF notes, such as
// arm_prstatus_note) is not empty, one PT_LOAD per readable region, then the notes and each
// region's bytes. `read(da, len)` gives the remote's memory as a std::span<const std::byte>, asked once
// per region (fewer bytes or none where the host cannot reach it: that region is left out).
// `sink(bytes)` takes the file in order and returns false to stop: errc::coredump_sink_failed,
// value the bytes it took. Before anything is written: more than max_dump_regions regions is
// too_many_resources; an ELF32 core of 4 GiB or more, or a region above its address space,
// coredump_too_large.
template <class Read, class Sink>
result<coredump_result> write_coredump(const core_format& format,
                                       std::span<const dump_region> regions, Read&& read,
                                       Sink&& sink, std::span<const std::byte> notes = {}) {
  if (regions.size() > max_dump_regions)
    return error{errc::too_many_resources, 0, std::nullopt, max_dump_regions};
  const bool is64 = format.bits == 64;
  const elf::class_layout& l = is64 ? elf::layout64 : elf::layout32;
  const std::uint64_t limit = is64 ? UINT64_MAX : UINT32_MAX;
  coredump_result done;
  std::array<std::span<const std::byte>, max_dump_regions> contents{};
  std::uint64_t data_size = notes.size();
  const unsigned note_headers = notes.empty() ? 0 : 1;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const dump_region& r = regions[i];
    if (r.len == 0) continue;
    if (r.len <= SIZE_MAX) contents[i] = read(r.da, static_cast<std::size_t>(r.len));
    if (contents[i].size() != r.len) {
      done.left_out |= std::uint64_t{1} << i;
      continue;
    }
    if (r.da > limit || r.len > limit - r.da || r.len > limit - data_size)
      return error{errc::coredump_too_large, 0, std::nullopt, r.da};
    data_size += r.len;
    ++done.segments;
  }
  const std::uint64_t headers =
      l.header_size + std::uint64_t{done.segments + note_headers} * l.phdr_size;
  if (data_size > limit - headers)
    return error{errc::coredump_too_large, 0, std::nullopt, data_size};

  std::array<std::byte, 64> buffer{};
  const basic_byte_view<std::byte> out(std::span<std::byte>(buffer), format.order);
  const auto word = [&](std::size_t at, std::uint64_t v) {
    return is64 ? out.write(at, v) : out.write(at, static_cast<std::uint32_t>(v));
  };
  constexpr std::uint8_t magic[4] = {0x7F, 'E', 'L', 'F'};
  for (std::size_t i = 0; i < 4; ++i) buffer[elf::ei_magic + i] = std::byte{magic[i]};
  buffer[elf::ei_class] = std::byte{is64 ? elf::class64 : elf::class32};
  buffer[elf::ei_data] = std::byte{format.order == endian::big ? elf::data_big : elf::data_little};
  buffer[elf::ei_version] = std::byte{detail::ev_current};
  bool ok = out.write(l.e_type, detail::et_core) && out.write(l.e_machine, format.machine) &&
            out.write(l.e_version, std::uint32_t{detail::ev_current}) &&
            word(l.e_phoff, l.header_size) && out.write(l.e_flags, format.flags) &&
            out.write(l.e_ehsize, static_cast<std::uint16_t>(l.header_size)) &&
            out.write(l.e_phentsize, static_cast<std::uint16_t>(l.phdr_size)) &&
            out.write(l.e_phnum, static_cast<std::uint16_t>(done.segments + note_headers));
  const auto failed = [&] {
    return error{errc::coredump_sink_failed, 0, std::nullopt, done.size};
  };
  if (!ok || !detail::put(sink, std::span<const std::byte>(buffer).first(l.header_size), done.size))
    return failed();

  std::uint64_t offset = headers;
  const auto program_header = [&](std::uint32_t type, std::uint32_t flags, std::uint64_t da,
                                   std::uint64_t len, std::uint64_t align) {
    buffer = {};
    const bool written = out.write(l.p_type, type) && out.write(l.p_flags, flags) &&
                         word(l.p_offset, offset) && word(l.p_vaddr, da) && word(l.p_paddr, da) &&
                         word(l.p_filesz, len) && word(l.p_memsz, len) && word(l.p_align, align);
    offset += len;
    return written &&
           detail::put(sink, std::span<const std::byte>(buffer).first(l.phdr_size), done.size);
  };
  if (note_headers != 0 && !program_header(detail::pt_note, 0, 0, notes.size(), 4)) return failed();
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const dump_region& r = regions[i];
    if (r.len == 0 || done.was_left_out(i)) continue;
    if (!program_header(elf::pt_load, r.flags, r.da, r.len, 0)) return failed();
  }
  if (!notes.empty() && !detail::put(sink, notes, done.size)) return failed();
  for (std::size_t i = 0; i < regions.size(); ++i)
    if (regions[i].len != 0 && !done.was_left_out(i))
      if (!detail::put(sink, contents[i], done.size)) return failed();
  return done;
}

}  // namespace rproc
