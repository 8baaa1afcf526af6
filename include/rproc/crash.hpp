// Why a remote crashed, in Linux's words and numbers, what the host does about it (the recovery
// mode of Linux's sysfs), and the crash report a firmware may keep in its resource table.
//
// The crash report is AMD's (Xilinx R5 remoteproc, "add crash detection mechanism", v3, posted
// to linux-remoteproc in February 2026; not in a released kernel as of this writing): a vendor
// entry of type 128 (RSC_VENDOR_START) whose body is two u32 in the table's byte order,
// crash_state (non-zero: the firmware crashed) and crash_reason (Linux's numbering below). It is
// read only for a platform that declares it (`static constexpr std::uint32_t crash_report_type
// = rproc::amd_crash_report_type;`): the vendor range means something else to other vendors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "entries.hpp"
#include "table.hpp"

namespace rproc {

// Linux's enum rproc_crash_type, same values. A firmware may report any other value, which
// Linux, and rproc, call "unknown".
enum class crash_reason : std::uint32_t { mmu_fault = 0, watchdog = 1, fatal_error = 2 };

// The words of Linux's crash message ("crash detected in ...: type %s").
constexpr std::string_view to_string(crash_reason reason) noexcept {
  switch (reason) {
    case crash_reason::mmu_fault: return "mmufault";
    case crash_reason::watchdog: return "watchdog";
    case crash_reason::fatal_error: return "fatal error";
  }
  return "unknown";
}

// What the host does when a remote crashes (Linux's sysfs `recovery`): recover at once, or leave
// it crashed until told (Linux's "recover" written to that file: one recovery, the mode kept).
enum class recovery_mode : std::uint8_t { enabled, disabled };

constexpr std::string_view to_string(recovery_mode mode) noexcept {
  return mode == recovery_mode::enabled ? "enabled" : "disabled";
}

inline constexpr std::uint32_t amd_crash_report_type = 128;

// The firmware's crash report, as found in its table.
struct crash_report {
  std::uint32_t offset = 0;       // of the entry in the table
  std::uint32_t entry = 0;        // its index
  std::uint32_t crash_state = 0;  // non-zero: the firmware says it crashed
  std::uint32_t reason_word = 0;  // crash_reason's number, as written
  constexpr bool crashed() const noexcept { return crash_state != 0; }
  constexpr crash_reason reason() const noexcept { return crash_reason{reason_word}; }
};
inline constexpr std::size_t crash_report_body_size = 8;  // crash_state, crash_reason

// A vendor entry read as a crash report: nothing when its body does not fit in the table.
template <class Byte>
constexpr std::optional<crash_report> read_crash_report(
    const basic_vendor_entry<Byte>& entry) noexcept {
  const auto body = entry.body();
  const auto state = body.u32(0);
  const auto reason = body.u32(4);
  if (!state || !reason) return std::nullopt;
  return crash_report{entry.offset(), entry.index(), *state, *reason};
}

// The first entry of type `type` in `table` read as a crash report.
template <class Byte>
constexpr std::optional<crash_report> find_crash_report(
    const basic_table_view<Byte>& table, std::uint32_t type = amd_crash_report_type) noexcept {
  for (const auto e : table) {
    if (e.type_id() != type) continue;
    const auto vendor = e.template as<basic_vendor_entry<Byte>>();
    return vendor ? read_crash_report(*vendor) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace rproc
