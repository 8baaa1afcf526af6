// Errors as values: a code (the names of SPEC section 2 are the API), the byte offset of the
// faulty field, the entry at fault when there is one, and a message made without a heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "errc.hpp"
#include "text_buffer.hpp"

namespace rproc {

// A fault: what (code), where (byte offset of the faulty field from the start of the input that
// was given: the table for parse_table, the file for the ELF reader), in which entry, and the
// value found there when one was read.
struct error {
  errc code{};
  std::size_t offset = 0;
  std::optional<std::uint32_t> entry{};
  std::uint64_t value = 0;

  friend constexpr bool operator==(const error&, const error&) = default;
};

// A warning has the same shape as an error; it does not stop anything.
using warning = error;

using message_text = text_buffer<160>;

// "entry 2: vring_invalid at offset 0x5c: a vring has num 0 or align 0 (found 0x0)"
constexpr message_text message(const error& e) noexcept {
  message_text text;
  if (e.entry)
    text.append(names_a_vring(e.code) ? "vring " : "entry ").append_decimal(*e.entry).append(": ");
  text.append(to_string(e.code)).append(" at offset ").append_hex(e.offset).append(": ");
  text.append(describe(e.code));
  switch (e.code) {
    case errc::table_too_small:
    case errc::elf_too_small:
      text.append(" (size ").append_decimal(e.value).append(")");
      break;
    case errc::unsupported_version:
      text.append(" (ver is ").append_decimal(e.value).append(")");
      break;
    case errc::offsets_truncated:
      text.append(" (num is ").append_decimal(e.value).append(")");
      break;
    case errc::vdev_too_many_vrings:
      text.append(" (num_of_vrings is ").append_decimal(e.value).append(")");
      break;
    case errc::unknown_resource_type:
    case errc::raw_standard_type:
    case errc::vendor_resource_ignored:
    case errc::vendor_resource_failed:
      text.append(" (type ").append_decimal(e.value).append(")");
      break;
    case errc::out_of_memory:
      text.append(" (").append_hex(e.value).append(" bytes asked)");
      break;
    case errc::too_many_resources:
      text.append(" (limit ").append_decimal(e.value).append(")");
      break;
    case errc::vring_too_large:
      text.append(" (num is ").append_decimal(e.value).append(")");
      break;
    case errc::permission_denied:
    case errc::firmware_in_use:
    case errc::firmware_not_found:
    case errc::boot_failed:
    case errc::system_error:
    case errc::attribute_missing:
      text.append(" (errno ").append_decimal(e.value).append(")");
      break;
    case errc::remote_not_found:
      text.append(" (remoteproc").append_decimal(e.value).append(")");
      break;
    case errc::state_not_reached:
    case errc::remote_crashed:
      text.append(" (state ").append_decimal(e.value).append(")");
      break;
    case errc::segment_not_mapped:
    case errc::address_unavailable:
    case errc::table_not_mapped:
    case errc::trace_not_mapped:
    case errc::devmem_unsupported:
    case errc::windows_overlap:
    case errc::rpmsg_address_unavailable:
      text.append(" (address ").append_hex(e.value).append(")");
      break;
    case errc::window_too_small:
      text.append(" (file size ").append_hex(e.value).append(")");
      break;
    case errc::not_acknowledged:
      text.append(" (message ").append_decimal(e.value).append(")");
      break;
    default:
      text.append(" (found ").append_hex(e.value).append(")");
      break;
  }
  return text;
}

namespace detail {
[[noreturn]] inline void bad_result_access() noexcept { __builtin_trap(); }
}  // namespace detail

// Either a T or an rproc::error (std::expected is C++23). Accessing the absent alternative traps
// at run time and does not compile in a constant expression.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T> && !std::is_same_v<std::remove_cv_t<T>, rproc::error>);

 public:
  using value_type = T;

  constexpr result(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
      : value_(v), ok_(true) {}
  constexpr result(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(v)), ok_(true) {}
  // Member by member: a copy of the whole struct compiles to wide loads of narrower stores just
  // made, which stall the store buffer on every failed parse (benchmarks/README.md).
  constexpr result(const rproc::error& e) noexcept
      : error_{e.code, e.offset, e.entry, e.value}, ok_(false) {}

  constexpr result(const result& other)
    requires std::is_trivially_copy_constructible_v<T>
  = default;
  // Values that are not trivially copyable (lifecycle handles) are only built at run time.
  result(const result& other)
    requires(std::is_copy_constructible_v<T> && !std::is_trivially_copy_constructible_v<T>)
      : ok_(other.ok_) {
    if (ok_) ::new (static_cast<void*>(&value_)) T(other.value_);
    else ::new (static_cast<void*>(&error_)) rproc::error(other.error_);
  }
  constexpr result(result&& other) noexcept
    requires std::is_trivially_move_constructible_v<T>
  = default;
  result(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
    requires(!std::is_trivially_move_constructible_v<T>)
      : ok_(other.ok_) {
    if (ok_) ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    else ::new (static_cast<void*>(&error_)) rproc::error(other.error_);
  }
  result& operator=(const result&) = delete;
  result& operator=(result&&) = delete;

  constexpr ~result()
    requires std::is_trivially_destructible_v<T>
  = default;
  constexpr ~result()
    requires(!std::is_trivially_destructible_v<T>)
  {
    if (ok_) value_.~T();
  }

  constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }

  constexpr T& value() & noexcept {
    if (!ok_) detail::bad_result_access();
    return value_;
  }
  constexpr const T& value() const& noexcept {
    if (!ok_) detail::bad_result_access();
    return value_;
  }
  constexpr T&& value() && noexcept {
    if (!ok_) detail::bad_result_access();
    return std::move(value_);
  }
  constexpr const rproc::error& error() const noexcept {
    if (ok_) detail::bad_result_access();
    return error_;
  }
  constexpr T value_or(T fallback) const& { return ok_ ? value_ : fallback; }

  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T&& operator*() && noexcept { return std::move(*this).value(); }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }

 private:
  union {
    T value_;
    rproc::error error_;
  };
  bool ok_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  constexpr result() noexcept = default;
  constexpr result(const rproc::error& e) noexcept : error_(e), ok_(false) {}

  constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }
  constexpr void value() const noexcept {
    if (!ok_) detail::bad_result_access();
  }
  constexpr const rproc::error& error() const noexcept {
    if (ok_) detail::bad_result_access();
    return error_;
  }

 private:
  rproc::error error_{};
  bool ok_ = true;
};

}  // namespace rproc
