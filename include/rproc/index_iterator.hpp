// The random-access iterator of rproc's views: the entries of a table, the vrings of a vdev.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>  // the iterator tags, without the cost of <iterator>

namespace rproc {

// A random-access iterator over anything indexable by position that yields values: the table's
// entries, a vdev's vrings. It holds a copy of the (small) view, so the view is a borrowed range.
template <class View, class Value>
class index_iterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::random_access_iterator_tag;
  using iterator_category = std::input_iterator_tag;  // yields values, not references

  constexpr index_iterator() = default;
  constexpr index_iterator(View view, std::uint32_t at) noexcept : view_(view), at_(at) {}

  constexpr Value operator*() const noexcept { return view_[at_]; }
  constexpr Value operator[](difference_type n) const noexcept {
    return view_[static_cast<std::uint32_t>(static_cast<difference_type>(at_) + n)];
  }
  constexpr index_iterator& operator++() noexcept { ++at_; return *this; }
  constexpr index_iterator operator++(int) noexcept { auto t = *this; ++at_; return t; }
  constexpr index_iterator& operator--() noexcept { --at_; return *this; }
  constexpr index_iterator operator--(int) noexcept { auto t = *this; --at_; return t; }
  constexpr index_iterator& operator+=(difference_type n) noexcept {
    at_ = static_cast<std::uint32_t>(static_cast<difference_type>(at_) + n);
    return *this;
  }
  constexpr index_iterator& operator-=(difference_type n) noexcept { return *this += -n; }
  friend constexpr index_iterator operator+(index_iterator i, difference_type n) noexcept {
    return i += n;
  }
  friend constexpr index_iterator operator+(difference_type n, index_iterator i) noexcept {
    return i += n;
  }
  friend constexpr index_iterator operator-(index_iterator i, difference_type n) noexcept {
    return i -= n;
  }
  friend constexpr difference_type operator-(const index_iterator& a,
                                             const index_iterator& b) noexcept {
    return static_cast<difference_type>(a.at_) - static_cast<difference_type>(b.at_);
  }
  friend constexpr bool operator==(const index_iterator& a, const index_iterator& b) noexcept {
    return a.at_ == b.at_;
  }
  friend constexpr auto operator<=>(const index_iterator& a, const index_iterator& b) noexcept {
    return a.at_ <=> b.at_;
  }

 private:
  View view_{};
  std::uint32_t at_ = 0;
};

}  // namespace rproc
