// Bytes at the start of a page of their own. Every table and every copy a benchmark times then
// sits at the same address modulo 4096: no run is slower than another because its buffer happens
// to alias the stack's or another buffer's (loads wrongly held behind stores 4 KiB away:
// benchmarks/README.md says what it did to two identical tables).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <span>

namespace rproc_bench {

inline constexpr std::align_val_t page{4096};

class page_bytes {
 public:
  explicit page_bytes(std::span<const std::byte> from)
      : size_(from.size()),
        data_(static_cast<std::byte*>(::operator new(std::max<std::size_t>(size_, 1), page))) {
    std::ranges::copy(from, data_.get());
  }
  std::span<std::byte> span() const noexcept { return {data_.get(), size_}; }

 private:
  struct release {
    void operator()(std::byte* p) const noexcept { ::operator delete(p, page); }
  };
  std::size_t size_;
  std::unique_ptr<std::byte, release> data_;
};

}  // namespace rproc_bench
