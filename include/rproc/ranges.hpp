// Optional range-v3 integration (Debian librange-v3-dev): rproc's ranges (a table's entries, a
// vdev's vrings, a table's warnings, an ELF image's segments and sections) are cheap,
// non-owning views, so range-v3 pipelines take them by value, temporaries included:
//
//   auto vdevs = table | ranges::views::filter([](auto e) { return e.kind() == rproc::entry_kind::vdev; });
//
// The core never includes this header.
#pragma once

#if __has_include(<range/v3/range/concepts.hpp>)

#include <range/v3/range/concepts.hpp>

#include "elf.hpp"
#include "entries.hpp"
#include "table.hpp"

namespace ranges {

template <class Byte>
inline constexpr bool enable_view<rproc::basic_table_view<Byte>> = true;
template <class Byte>
inline constexpr bool enable_borrowed_range<rproc::basic_table_view<Byte>> = true;

template <class Byte>
inline constexpr bool enable_view<rproc::basic_vring_range<Byte>> = true;
template <class Byte>
inline constexpr bool enable_borrowed_range<rproc::basic_vring_range<Byte>> = true;

template <class Byte>
inline constexpr bool enable_view<rproc::warning_range<Byte>> = true;
template <class Byte>
inline constexpr bool enable_borrowed_range<rproc::warning_range<Byte>> = true;

template <class Value>
inline constexpr bool enable_view<rproc::elf_header_range<Value>> = true;
template <class Value>
inline constexpr bool enable_borrowed_range<rproc::elf_header_range<Value>> = true;

}  // namespace ranges

#else
#error "rproc/ranges.hpp needs range-v3 (Debian: librange-v3-dev)"
#endif
