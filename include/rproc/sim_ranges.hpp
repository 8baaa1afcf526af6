// The device memory a table fixes (fixed carveouts and vrings, trace buffers), so that a test
// can give its simulated board (sim.hpp) windows over exactly those ranges.
#pragma once

#include <cstddef>
#include <cstdint>

#include "entries.hpp"
#include "resources.hpp"
#include "table.hpp"

namespace rproc::sim {

// Device memory a table fixes, which a board needs for the table to attach: a trace buffer (the
// host must reach its bytes), or a carveout or vring at a fixed address (the host must allocate
// exactly there; a vring spans its split-ring size rounded up to whole pages).
struct fixed_range {
  std::uint64_t da = 0;
  std::uint64_t len = 0;
  bool is_trace = false;
};

// Calls f(fixed_range) for each, in entry order, so that a test can give its board windows over
// them (add_window), merged as its board allows.
template <class Byte, class F>
constexpr void for_each_fixed_range(const basic_table_view<Byte>& table, F&& f,
                                     std::size_t page_size = 4096) {
  for (const auto entry : table) {
    if (const auto c = entry.template as<basic_carveout_entry<Byte>>()) {
      if (c->da() != fw_rsc_addr_any && c->len() != 0) f(fixed_range{c->da(), c->len(), false});
    } else if (const auto t = entry.template as<basic_trace_entry<Byte>>()) {
      if (t->len() != 0) f(fixed_range{t->da(), t->len(), true});
    } else if (const auto v = entry.template as<basic_vdev_entry<Byte>>()) {
      for (const auto vring : v->vrings())
        if (vring.da() != fw_rsc_addr_any)
          f(fixed_range{vring.da(),
                        round_up(vring_size(vring.num(), vring.align()), page_size),
                        false});
    }
  }
}

}  // namespace rproc::sim
