// The clean copy: the firmware's table as it was at attach, before any host write, written back
// at detach so that a re-attach finds the table exactly as the firmware wrote it (SPEC section 4,
// Linux 5.13). The restore writes only the bytes that differ, and first checks that the bytes the
// host never writes are still those of the clean copy: if the firmware changed its table while
// the host held it, the caller decides instead of having the firmware's change silently
// overwritten.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "bytes.hpp"
#include "entries.hpp"
#include "error.hpp"
#include "table.hpp"

namespace rproc {

// What to do when the firmware changed bytes of its table that the host never writes.
enum class on_remote_change : std::uint8_t {
  fail,                 // write nothing; the caller gets table_changed_by_remote and decides
  restore_anyway,       // write the whole clean copy back, the firmware's change included
  keep_remote_changes,  // write back only the host's fields; keep what the firmware changed
};

struct restore_report {
  std::size_t bytes_written = 0;
  bool remote_changed = false;
};

// A clean copy of a table of up to Capacity bytes, in its own buffer (no heap); clean_copy<> (the
// capacity std::dynamic_extent) keeps it in a caller's buffer instead, as std::span does.
template <std::size_t Capacity = std::dynamic_extent>
class clean_copy {
  static constexpr bool in_callers_buffer = Capacity == std::dynamic_extent;
  using storage_type =
      std::conditional_t<in_callers_buffer, std::span<std::byte>, std::array<std::byte, Capacity>>;
  // The types below, named so that they are instantiated with this class (see detail::dependent).
  using view_type = detail::dependent_t<table_view, storage_type>;
  using report_type = detail::dependent_t<restore_report, storage_type>;
  using byte_span = detail::dependent_t<std::span<const std::byte>, storage_type>;

 public:
  constexpr clean_copy() noexcept
    requires(!in_callers_buffer)
  = default;
  constexpr explicit clean_copy(std::span<std::byte> storage) noexcept
    requires in_callers_buffer
      : storage_(storage) {}

  // Copies a live table, which must be valid; nothing is kept on failure.
  constexpr result<detail::dependent_t<void, storage_type>> take(byte_span live, endian order,
                              parse_options options = {}) noexcept {
    clear();
    if (live.size() > storage_.size())
      return error{errc::clean_copy_too_small, 0, std::nullopt, live.size()};
    if (const auto parsed = parse_table(live, order, options); !parsed)
      return parsed.error();
    detail::copy_into(storage_, live);
    size_ = live.size();
    order_ = order;
    taken_ = true;
    return {};
  }

  constexpr bool has_value() const noexcept { return taken_; }
  constexpr void clear() noexcept {
    taken_ = false;
    size_ = 0;
  }
  constexpr byte_span bytes() const noexcept {
    return byte_span(storage_).first(size_);
  }
  constexpr endian order() const noexcept { return order_; }
  // The clean copy as a table (it was valid when taken).
  constexpr view_type view() const noexcept {
    return parse_table(bytes(), order_).value_or(view_type{});
  }

  // The first byte, outside the host's fields, where `live` differs from the clean copy.
  constexpr std::optional<detail::dependent_t<std::size_t, storage_type>> first_remote_change(
      byte_span live) const noexcept {
    if (!taken_) return std::nullopt;
    if (live.size() != size_) return live.size() < size_ ? live.size() : size_;
    // The host's fields, gathered in one walk of the clean copy when a first byte differs; a
    // table with more fields than this holds is walked again for each difference instead.
    struct field {
      std::size_t begin = 0, end = 0;
    };
    std::array<field, 24> fields{};
    std::size_t count = 0;
    std::optional<view_type> clean;
    for (std::size_t i = detail::first_difference(live, bytes(), 0); i < size_;) {
      if (!clean) {
        clean = view();
        for (const auto entry : *clean)
          detail::for_each_host_run_of(entry, [&](std::size_t at, std::size_t length) {
            if (count < fields.size()) fields[count] = {at, at + length};
            ++count;
          });
      }
      std::size_t end = i;
      if (count <= fields.size()) {
        for (std::size_t k = 0; k < count; ++k)
          if (i >= fields[k].begin && i < fields[k].end && fields[k].end > end) end = fields[k].end;
      } else {
        end = host_field_end(*clean, i);
      }
      if (end == i) return i;
      i = detail::first_difference(live, bytes(), end);  // the rest of the field is the host's
    }
    return std::nullopt;
  }

  // Writes the clean copy back over `live`, only where they differ. With on_remote_change::fail,
  // a change by the remote outside the host's fields writes nothing and is
  // table_changed_by_remote (offset: the first changed byte).
  constexpr result<report_type> restore(std::span<std::byte> live,
                                        on_remote_change policy) const noexcept {
    if (!taken_) return error{errc::invalid_state, 0, std::nullopt, 0};
    if (live.size() != size_)
      return error{errc::table_changed_by_remote, live.size() < size_ ? live.size() : size_,
                   std::nullopt, live.size()};
    report_type report{};
    if (const auto changed = first_remote_change(live)) {
      report.remote_changed = true;
      if (policy == on_remote_change::fail)
        return error{errc::table_changed_by_remote, *changed, std::nullopt,
                     std::to_integer<std::uint64_t>(live[*changed])};
    }
    if (!report.remote_changed || policy != on_remote_change::keep_remote_changes) {
      report.bytes_written = detail::copy_differing(bytes(), live);
      return report;
    }
    const view_type clean = view();  // only the host's fields are written back
    for (std::size_t i = detail::first_difference(live, bytes(), 0); i < size_;
         i = detail::first_difference(live, bytes(), i + 1)) {
      if (!is_host_byte(clean, i)) continue;
      live[i] = storage_[i];
      ++report.bytes_written;
    }
    return report;
  }

 private:
  // Asked only for bytes that differ, which are few (the host's writes), so walking the entries
  // each time costs less than keeping a mask of the whole table.
  static constexpr bool is_host_byte(const view_type& clean, std::size_t i) noexcept {
    return host_field_end(clean, i) != i;
  }
  // The end of the host's fields that hold byte i (the furthest, where fields overlap), or i
  // when no host field holds it.
  static constexpr std::size_t host_field_end(const view_type& clean, std::size_t i) noexcept {
    std::size_t end = i;
    for (const auto entry : clean)
      detail::for_each_host_run_of(entry, [&](std::size_t at, std::size_t length) {
        if (i >= at && i - at < length && at + length > end) end = at + length;
      });
    return end;
  }

  storage_type storage_{};
  std::size_t size_ = 0;
  endian order_ = endian::little;
  bool taken_ = false;
};

}  // namespace rproc
