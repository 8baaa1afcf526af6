// How a loader reaches device memory: an address translation (a device address and a length to
// the host's writable view of that range), the same handed on without templates, and a cache that
// asks a translation once per range, so that a loader that checks every segment before writing
// any gets the same answer twice even from a translation that may fail at any call.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "bytes.hpp"

namespace rproc {

// Given a device address and a length, the writable host memory for that range, either as
// std::optional (std::nullopt: it does not translate) or as a span (shorter than the length, empty
// for instance: it does not translate).
template <class F>
concept address_translation = requires(F& f, std::uint64_t da, std::size_t length) {
  requires std::convertible_to<decltype(f(da, length)), std::optional<std::span<std::byte>>> ||
               std::convertible_to<decltype(f(da, length)), std::span<std::byte>>;
};

namespace detail {
// One answer of a translation as a span: empty where it does not translate.
template <class F>
constexpr std::span<std::byte> translate(F& f, std::uint64_t da, std::size_t length) {
  if constexpr (std::convertible_to<decltype(f(da, length)), std::optional<std::span<std::byte>>>) {
    const detail::dependent_t<std::optional<std::span<std::byte>>, F> target = f(da, length);
    return target ? *target : std::span<std::byte>{};
  } else {
    return std::span<std::byte>(f(da, length));
  }
}
}  // namespace detail

// An address translation handed to an image's loader, without templates or a heap; it refers to
// the translation it was made from.
class address_translator {
 public:
  template <class F>
    requires(address_translation<F> && !std::same_as<std::remove_cv_t<F>, address_translator>)
  explicit address_translator(F& f) noexcept
      : context_(&f), call_([](void* c, std::uint64_t da, std::size_t len) {
          return detail::translate(*static_cast<F*>(c), da, len);
        }) {}
  std::span<std::byte> operator()(std::uint64_t da, std::size_t len) const {
    return call_(context_, da, len);
  }

 private:
  void* context_;
  std::span<std::byte> (*call_)(void*, std::uint64_t, std::size_t);
};

// Asks `Translate` once per range (device address and length) for the first Capacity ranges, and
// gives the remembered answer when asked again; ranges past those are asked each time.
template <address_translation Translate, std::size_t Capacity>
class translation_cache {
 public:
  constexpr explicit translation_cache(Translate& translate) noexcept : translate_(&translate) {}

  constexpr std::span<std::byte> operator()(std::uint64_t da, std::size_t len) {
    for (std::size_t i = 0; i < count_; ++i)
      if (asked_[i].da == da && asked_[i].len == len) return asked_[i].target;
    const auto target = detail::translate(*translate_, da, len);
    if (count_ < Capacity) asked_[count_++] = {da, len, target};
    return target;
  }

 private:
  struct answer {
    std::uint64_t da = 0;
    std::size_t len = 0;
    std::span<std::byte> target{};
  };
  Translate* translate_;
  std::array<answer, Capacity> asked_{};
  std::size_t count_ = 0;
};

}  // namespace rproc
