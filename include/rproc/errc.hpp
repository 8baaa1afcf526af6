// The catalogue of error codes: rproc::errc (the names of SPEC section 2 are the API, then those
// of the lifecycle and of each further part of rproc), each code's name and a sentence on what it
// means. error.hpp builds errors and their messages on it (split from it at 450 lines).
#pragma once

#include <cstdint>
#include <string_view>

namespace rproc {

enum class errc : std::uint8_t {
  // resource table (SPEC section 2, in the order the checks are made)
  table_too_small = 1,
  unsupported_version,
  header_reserved_nonzero,
  offsets_truncated,
  entry_offset_out_of_bounds,
  entry_truncated,
  vdev_truncated,
  entry_reserved_nonzero,
  vdev_too_many_vrings,
  vring_invalid,
  unknown_resource_type,  // a warning unless parsing is strict
  // ELF image (SPEC section 2, in order)
  elf_too_small,
  elf_bad_magic,
  elf_bad_class,
  elf_bad_data,
  elf_bad_header,
  elf_sections_out_of_bounds,
  elf_segments_out_of_bounds,
  elf_bad_string_table,
  elf_segment_out_of_bounds,
  table_out_of_bounds,
  empty_table_section,  // a warning: the section exists with size 0
  elf_no_loadable_segments,
  // loading an image
  segment_not_mapped,
  // building a table
  name_too_long,
  table_too_large,
  // lifecycle and resources (SPEC section 4)
  no_resource_table,
  table_not_mapped,
  devmem_unsupported,
  trace_not_mapped,
  vendor_resource_failed,
  out_of_memory,
  platform_failure,
  table_changed_by_remote,
  clean_copy_too_small,
  invalid_state,
  busy,
  vendor_resource_ignored,  // a warning: the platform does not handle this vendor entry
  address_unavailable,
  entries_overlap,
  // a remote driven through Linux's sysfs (rproc/linux/sysfs.hpp): what the kernel answered
  remote_not_found,
  attribute_missing,
  permission_denied,
  unknown_state_word,
  firmware_in_use,
  firmware_not_found,
  boot_failed,
  system_error,
  remote_crashed,
  state_not_reached,
  // installing a firmware image for the kernel (rproc/linux/firmware_path.hpp, rproc-ctl)
  byte_order_mismatch,
  bad_firmware_name,
  firmware_exists,
  firmware_shadowed,
  // one meaning per code: the host's bookkeeping limits, a vring too large to place, a raw entry
  // of a standard type (builder), the run-time machine's commands
  too_many_resources,
  vring_too_large,
  raw_standard_type,
  unknown_command,
  no_image,
  // virtqueues: a vring's memory, shared with the other side (entry: the vring's index)
  vring_layout_invalid,
  descriptor_out_of_bounds,
  descriptor_id_invalid,
  descriptor_state_invalid,
  descriptor_flags_invalid,
  descriptor_chain_loop,
  descriptor_chain_invalid,
  used_length_too_large,
  ring_index_jump,
  virtqueue_full,
  // a platform over mapped device memory (rproc/posix/mapped_platform.hpp)
  window_too_small,
  windows_overlap,
  live_table_differs,
  not_acknowledged,
  // coredump.hpp
  coredump_too_large,
  coredump_sink_failed,
  // rpmsg over the vrings (entry: the vring the buffer came from, offset: in the buffer)
  rpmsg_buffer_too_small,
  rpmsg_header_invalid,
  rpmsg_no_buffer,
  rpmsg_no_endpoint,
  rpmsg_address_unavailable,
  rpmsg_no_endpoint_slot,
  rpmsg_announcement_invalid,
};

// Codes whose `entry` is a vring's index in its vdev, not a table entry.
constexpr bool names_a_vring(errc code) noexcept {
  return (code >= errc::vring_layout_invalid && code <= errc::virtqueue_full) ||
         (code >= errc::rpmsg_buffer_too_small && code <= errc::rpmsg_announcement_invalid);
}

// The code's name as SPEC spells it ("vring_invalid"), or "unknown" for a value outside errc.
constexpr std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::table_too_small: return "table_too_small";
    case errc::unsupported_version: return "unsupported_version";
    case errc::header_reserved_nonzero: return "header_reserved_nonzero";
    case errc::offsets_truncated: return "offsets_truncated";
    case errc::entry_offset_out_of_bounds: return "entry_offset_out_of_bounds";
    case errc::entry_truncated: return "entry_truncated";
    case errc::vdev_truncated: return "vdev_truncated";
    case errc::entry_reserved_nonzero: return "entry_reserved_nonzero";
    case errc::vdev_too_many_vrings: return "vdev_too_many_vrings";
    case errc::vring_invalid: return "vring_invalid";
    case errc::unknown_resource_type: return "unknown_resource_type";
    case errc::elf_too_small: return "elf_too_small";
    case errc::elf_bad_magic: return "elf_bad_magic";
    case errc::elf_bad_class: return "elf_bad_class";
    case errc::elf_bad_data: return "elf_bad_data";
    case errc::elf_bad_header: return "elf_bad_header";
    case errc::elf_sections_out_of_bounds: return "elf_sections_out_of_bounds";
    case errc::elf_segments_out_of_bounds: return "elf_segments_out_of_bounds";
    case errc::elf_bad_string_table: return "elf_bad_string_table";
    case errc::elf_segment_out_of_bounds: return "elf_segment_out_of_bounds";
    case errc::table_out_of_bounds: return "table_out_of_bounds";
    case errc::empty_table_section: return "empty_table_section";
    case errc::elf_no_loadable_segments: return "elf_no_loadable_segments";
    case errc::segment_not_mapped: return "segment_not_mapped";
    case errc::name_too_long: return "name_too_long";
    case errc::table_too_large: return "table_too_large";
    case errc::no_resource_table: return "no_resource_table";
    case errc::table_not_mapped: return "table_not_mapped";
    case errc::devmem_unsupported: return "devmem_unsupported";
    case errc::trace_not_mapped: return "trace_not_mapped";
    case errc::vendor_resource_failed: return "vendor_resource_failed";
    case errc::out_of_memory: return "out_of_memory";
    case errc::platform_failure: return "platform_failure";
    case errc::table_changed_by_remote: return "table_changed_by_remote";
    case errc::clean_copy_too_small: return "clean_copy_too_small";
    case errc::invalid_state: return "invalid_state";
    case errc::busy: return "busy";
    case errc::vendor_resource_ignored: return "vendor_resource_ignored";
    case errc::address_unavailable: return "address_unavailable";
    case errc::entries_overlap: return "entries_overlap";
    case errc::remote_not_found: return "remote_not_found";
    case errc::attribute_missing: return "attribute_missing";
    case errc::permission_denied: return "permission_denied";
    case errc::unknown_state_word: return "unknown_state_word";
    case errc::firmware_in_use: return "firmware_in_use";
    case errc::firmware_not_found: return "firmware_not_found";
    case errc::boot_failed: return "boot_failed";
    case errc::system_error: return "system_error";
    case errc::remote_crashed: return "remote_crashed";
    case errc::state_not_reached: return "state_not_reached";
    case errc::byte_order_mismatch: return "byte_order_mismatch";
    case errc::bad_firmware_name: return "bad_firmware_name";
    case errc::firmware_exists: return "firmware_exists";
    case errc::firmware_shadowed: return "firmware_shadowed";
    case errc::too_many_resources: return "too_many_resources";
    case errc::vring_too_large: return "vring_too_large";
    case errc::raw_standard_type: return "raw_standard_type";
    case errc::unknown_command: return "unknown_command";
    case errc::no_image: return "no_image";
    case errc::coredump_too_large: return "coredump_too_large";
    case errc::coredump_sink_failed: return "coredump_sink_failed";
    case errc::vring_layout_invalid: return "vring_layout_invalid";
    case errc::descriptor_out_of_bounds: return "descriptor_out_of_bounds";
    case errc::descriptor_id_invalid: return "descriptor_id_invalid";
    case errc::descriptor_state_invalid: return "descriptor_state_invalid";
    case errc::descriptor_flags_invalid: return "descriptor_flags_invalid";
    case errc::descriptor_chain_loop: return "descriptor_chain_loop";
    case errc::descriptor_chain_invalid: return "descriptor_chain_invalid";
    case errc::used_length_too_large: return "used_length_too_large";
    case errc::ring_index_jump: return "ring_index_jump";
    case errc::virtqueue_full: return "virtqueue_full";
    case errc::window_too_small: return "window_too_small";
    case errc::windows_overlap: return "windows_overlap";
    case errc::live_table_differs: return "live_table_differs";
    case errc::not_acknowledged: return "not_acknowledged";
    case errc::rpmsg_buffer_too_small: return "rpmsg_buffer_too_small";
    case errc::rpmsg_header_invalid: return "rpmsg_header_invalid";
    case errc::rpmsg_no_buffer: return "rpmsg_no_buffer";
    case errc::rpmsg_no_endpoint: return "rpmsg_no_endpoint";
    case errc::rpmsg_address_unavailable: return "rpmsg_address_unavailable";
    case errc::rpmsg_no_endpoint_slot: return "rpmsg_no_endpoint_slot";
    case errc::rpmsg_announcement_invalid: return "rpmsg_announcement_invalid";
  }
  return "unknown";
}

// One sentence on what the code means, without the particulars of one fault.
constexpr std::string_view describe(errc code) noexcept {
  switch (code) {
    case errc::table_too_small: return "the table is smaller than its 16-byte header";
    case errc::unsupported_version: return "the table's version is not 1";
    case errc::header_reserved_nonzero: return "a reserved word of the table header is not 0";
    case errc::offsets_truncated: return "the entry offset array does not fit in the table";
    case errc::entry_offset_out_of_bounds: return "an entry's type word lies outside the table";
    case errc::entry_truncated: return "an entry's fixed body does not fit in the table";
    case errc::vdev_truncated: return "a vdev's vrings and config space do not fit in the table";
    case errc::entry_reserved_nonzero: return "a reserved field of an entry is not 0";
    case errc::vdev_too_many_vrings: return "a vdev declares more than 2 vrings";
    case errc::vring_invalid: return "a vring has num 0 or align 0";
    case errc::unknown_resource_type: return "an entry has an unknown resource type";
    case errc::elf_too_small: return "the image is smaller than the ELF header of its class";
    case errc::elf_bad_magic: return "the image does not start with the ELF magic";
    case errc::elf_bad_class: return "EI_CLASS is neither 32-bit nor 64-bit";
    case errc::elf_bad_data: return "EI_DATA is neither little- nor big-endian";
    case errc::elf_bad_header: return "an ELF header size field does not match its class";
    case errc::elf_sections_out_of_bounds: return "the section header table lies outside the file";
    case errc::elf_segments_out_of_bounds: return "the program header table lies outside the file";
    case errc::elf_bad_string_table: return "the section name string table is invalid";
    case errc::elf_segment_out_of_bounds: return "a loadable segment lies outside the file";
    case errc::table_out_of_bounds: return "the .resource_table section lies outside the file";
    case errc::empty_table_section: return "the .resource_table section is empty: no table";
    case errc::elf_no_loadable_segments: return "the image has no loadable segment";
    case errc::segment_not_mapped: return "a segment does not translate to device memory";
    case errc::name_too_long: return "a resource name is longer than 32 bytes";
    case errc::table_too_large: return "the table does not fit in the space given";
    case errc::no_resource_table: return "the firmware has no resource table";
    case errc::table_not_mapped: return "the firmware's table address does not translate";
    case errc::devmem_unsupported: return "the platform cannot map device memory";
    case errc::trace_not_mapped: return "a trace buffer's address does not translate";
    case errc::vendor_resource_failed: return "the platform rejected a vendor resource";
    case errc::out_of_memory: return "the platform could not allocate memory";
    case errc::platform_failure: return "a platform operation failed";
    case errc::table_changed_by_remote: return "the remote changed its table while attached";
    case errc::clean_copy_too_small: return "the table is larger than the clean copy's capacity";
    case errc::invalid_state: return "the command is not valid in the current state";
    case errc::busy: return "the remote is busy in its current state";
    case errc::vendor_resource_ignored: return "the platform ignored a vendor resource";
    case errc::address_unavailable:
      return "the platform cannot place memory at the fixed address asked";
    case errc::entries_overlap:
      return "a field the host writes overlaps the header or another entry's type or size";
    case errc::remote_not_found: return "no such remote processor in the sysfs tree";
    case errc::attribute_missing: return "the remote has no such sysfs attribute";
    case errc::permission_denied: return "the kernel refused access to the attribute";
    case errc::unknown_state_word: return "the kernel reported a state rproc does not know";
    case errc::firmware_in_use: return "the firmware can be changed only while offline";
    case errc::firmware_not_found: return "the firmware file is not in the kernel's search path";
    case errc::boot_failed: return "the kernel could not boot or attach to the remote";
    case errc::system_error: return "the system refused the operation";
    case errc::remote_crashed: return "the remote crashed";
    case errc::state_not_reached: return "the remote did not reach the state in time";
    case errc::byte_order_mismatch: return "the image's byte order is not the kernel's";
    case errc::bad_firmware_name: return "a firmware name must be a plain file name";
    case errc::firmware_exists: return "a different file of that name is already installed";
    case errc::firmware_shadowed:
      return "a file of that name earlier in the search path would be loaded instead";
    case errc::too_many_resources:
      return "the table needs more bookkeeping slots than the host's limits hold";
    case errc::vring_too_large: return "a vring's size does not fit in 32 bits";
    case errc::raw_standard_type:
      return "a raw entry has a standard type: describe it with its own builder";
    case errc::unknown_command: return "the command is not one of start, stop and detach";
    case errc::no_image: return "there is no firmware image to start";
    case errc::coredump_too_large:
      return "the coredump does not fit in its ELF class (an ELF32 core holds 4 GiB)";
    case errc::coredump_sink_failed: return "the coredump's sink did not take the bytes given";
    case errc::vring_layout_invalid: return "a vring's num, align or memory cannot be used";
    case errc::descriptor_out_of_bounds:
      return "a descriptor's buffer lies outside the shared memory";
    case errc::descriptor_id_invalid: return "a descriptor id is not below the vring's num";
    case errc::descriptor_state_invalid:
      return "a ring names a descriptor that is not in the state its use needs";
    case errc::descriptor_flags_invalid:
      return "a descriptor's flags are not supported or not right for its use";
    case errc::descriptor_chain_loop: return "a descriptor chain comes back to itself";
    case errc::descriptor_chain_invalid:
      return "a descriptor chain is empty, too long, or readable after writable";
    case errc::used_length_too_large:
      return "a used length is larger than the buffer";
    case errc::ring_index_jump: return "a ring index moved by more than the ring can hold";
    case errc::virtqueue_full: return "too few free descriptors in the vring";
    case errc::window_too_small: return "the file behind a window of device memory is too small";
    case errc::windows_overlap: return "two windows of device memory overlap";
    case errc::live_table_differs: return "the live table is not the image's";
    case errc::not_acknowledged: return "the remote did not acknowledge the message in time";
    case errc::rpmsg_buffer_too_small: return "an rpmsg buffer cannot hold the message";
    case errc::rpmsg_header_invalid:
      return "an rpmsg header's length exceeds the bytes of its buffer";
    case errc::rpmsg_no_buffer: return "no rpmsg buffer is free to send with";
    case errc::rpmsg_no_endpoint: return "no endpoint is bound at the message's destination";
    case errc::rpmsg_address_unavailable: return "the rpmsg address is reserved or in use";
    case errc::rpmsg_no_endpoint_slot: return "every endpoint or channel slot is in use";
    case errc::rpmsg_announcement_invalid:
      return "a name service message is not 40 bytes or its flags are not 0 or 1";
  }
  return "unknown error";
}

}  // namespace rproc
