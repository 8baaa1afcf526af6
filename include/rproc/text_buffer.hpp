// Text built without a heap: the messages of errors, in firmware as on a host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rproc {

// Text built without a heap; `view()` is valid as long as the object lives.
template <std::size_t Capacity>
class text_buffer {
 public:
  constexpr std::string_view view() const noexcept { return {chars_, size_}; }
  constexpr const char* c_str() const noexcept { return chars_; }
  constexpr std::size_t size() const noexcept { return size_; }

  constexpr text_buffer& append(std::string_view s) noexcept {
    for (char c : s) put(c);
    return *this;
  }
  constexpr text_buffer& append_decimal(std::uint64_t v) noexcept {
    char digits[20]{};
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
    return *this;
  }
  constexpr text_buffer& append_hex(std::uint64_t v) noexcept {
    append("0x");
    char digits[16]{};
    std::size_t n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 0xF];
      v >>= 4;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
    return *this;
  }

 private:
  constexpr void put(char c) noexcept {
    if (size_ + 1 < Capacity) {
      chars_[size_++] = c;
      chars_[size_] = '\0';
    }
  }
  char chars_[Capacity]{};
  std::size_t size_ = 0;
};

}  // namespace rproc
