// The lifecycle (SPEC section 4) on the simulated platform with any table: a boot loader starts
// the firmware with the input as its table, and the host attaches, detaches and attaches again,
// up to 4 cycles, while the platform fails one of its operations and the firmware may change a
// byte of its table while the host holds it. Invariants (abort on violation):
// - no read or write outside the table: it lives in a heap block of exactly its size;
// - an attach writes only the fields of SPEC section 3, keeps a clean copy of the table as found,
//   holds memory for exactly the carveouts and vrings it recorded, and gives the same result on
//   every cycle while the firmware's table is the same;
// - after every detach the firmware's table is its own bytes again, or, where the firmware
//   changed one byte outside the host's fields, the documented result of the policy: fail
//   (table_changed_by_remote at that byte, nothing written), restore_anyway (the clean copy),
//   keep_remote_changes (the clean copy with the firmware's byte);
// - a failed attach leaves the remote detached, the table untouched, nothing held; a failed
//   detach leaves it attached with the table as the host had it and its memory still held;
//   detached, nothing is allocated or mapped and every prepare has its unprepare;
// - destroying the processor releases it: an attached remote is detached (the clean copy
//   written back) or, if the platform refuses, stopped; nothing is left allocated.
// Tables that do not parse or that the lifecycle refuses are fine outcomes; the board has device
// memory at every address the table fixes, so that most tables attach.
//
// Input: the table. Its last 6 bytes (padding in a padded table) also choose, c[0..5]:
//   c[0] bits 0-1  byte order: little-endian (0, 3), big-endian (1), or the byte-swapped twin
//                  of the table read little-endian, read big-endian (2)
//        bits 2-3  detach policy: fail (0, 3), restore_anyway (1), keep_remote_changes (2)
//        bits 4-5  cycles - 1
//        bit 6     the firmware writes byte c[4] at offset c[2] + 256 c[3] (modulo the size)
//        bit 7     drive the remote through rproc::machine rather than typed handles
//   c[1]           the platform's operation that fails, counted from the first attach (0: none)
//   c[5] bit 0     the firmware looks at its table (run_firmware) while attached
//        bit 1     the last cycle ends attached: the processor's destruction releases it
//        bits 2-3  the cycle (modulo the cycles) in which the firmware writes
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>
#include <rproc/table.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using fuzz::require;
using board_t = rproc::sim::platform;
using proc_t = rproc::processor<board_t>;

// Above every address a 32-bit table can name (da + len < 2^33): no fixed vring, whose memory
// the host zeroes, can land on the table.
constexpr std::uint64_t table_da = std::uint64_t{1} << 36;
constexpr std::size_t max_backed_window = 32 * 1024;
constexpr std::size_t max_backing = 96 * 1024;

struct controls {
  enum class order_choice { little, big, big_twin } order = order_choice::little;
  rproc::on_remote_change policy = rproc::on_remote_change::fail;
  unsigned cycles = 1;
  bool firmware_writes = false;
  bool machine = false;
  std::uint8_t fault = 0;
  std::size_t write_offset = 0;
  std::byte write_value{};
  bool run_firmware = false;
  bool end_attached = false;
  unsigned write_cycle = 0;

  static controls from(std::span<const std::byte> input) {
    std::uint8_t c[6] = {};
    const std::size_t n = std::min<std::size_t>(input.size(), 6);
    for (std::size_t i = 0; i < n; ++i)
      c[6 - n + i] = std::to_integer<std::uint8_t>(input[input.size() - n + i]);
    controls k;
    k.order = (c[0] & 3) == 1   ? order_choice::big
              : (c[0] & 3) == 2 ? order_choice::big_twin
                                : order_choice::little;
    k.policy = (c[0] >> 2 & 3) == 1   ? rproc::on_remote_change::restore_anyway
               : (c[0] >> 2 & 3) == 2 ? rproc::on_remote_change::keep_remote_changes
                                      : rproc::on_remote_change::fail;
    k.cycles = (c[0] >> 4 & 3) + 1u;
    k.firmware_writes = (c[0] & 0x40) != 0;
    k.machine = (c[0] & 0x80) != 0;
    k.fault = c[1];
    k.write_offset = std::size_t{c[2]} | std::size_t{c[3]} << 8;
    k.write_value = std::byte{c[4]};
    k.run_firmware = (c[5] & 1) != 0;
    k.end_attached = (c[5] & 2) != 0;
    k.write_cycle = (c[5] >> 2 & 3) % k.cycles;
    return k;
  }
};

// The bytes a host writes in `table` (SPEC section 3), as layout.hpp describes them.
std::vector<bool> host_bytes(const rproc::table_view& table) {
  std::vector<bool> mask(table.size_bytes(), false);
  rproc::for_each_host_field(table, [&](const rproc::host_field& f) {
    for (std::size_t i = f.offset; i < f.end() && i < mask.size(); ++i) mask[i] = true;
  });
  return mask;
}

struct range {
  std::uint64_t begin = 0, end = 0;
  bool translated = false;  // a trace buffer: the host must reach its bytes
};

// Device memory at every address the table fixes: trace buffers, fixed carveouts and vrings.
// Overlapping ranges are one window; beyond the board's windows, the closest are merged. A
// window is backed by host memory when small enough (a larger trace is then not mapped).
void add_windows(board_t& board, const rproc::table_view& table,
                 std::vector<std::vector<std::byte>>& backing, std::size_t windows_left) {
  std::vector<range> ranges;
  rproc::sim::for_each_fixed_range(table, [&](const rproc::sim::fixed_range& r) {
    ranges.push_back({r.da, r.da + std::max<std::uint64_t>(r.len, 1), r.is_trace});
  });
  std::ranges::sort(ranges, {}, &range::begin);
  std::vector<range> merged;
  for (const range& r : ranges) {
    if (!merged.empty() && r.begin <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
      merged.back().translated = merged.back().translated || r.translated;
    } else {
      merged.push_back(r);
    }
  }
  while (merged.size() > windows_left) {
    std::size_t closest = 0;
    for (std::size_t i = 1; i + 1 < merged.size(); ++i)
      if (merged[i + 1].begin - merged[i].end < merged[closest + 1].begin - merged[closest].end)
        closest = i;
    merged[closest].end = std::max(merged[closest].end, merged[closest + 1].end);
    merged[closest].translated = merged[closest].translated || merged[closest + 1].translated;
    merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(closest) + 1);
  }
  std::size_t backed = 0;
  for (const range& r : merged) {
    const auto len = static_cast<std::size_t>(r.end - r.begin);
    std::span<std::byte> bytes;
    if (len <= max_backed_window && backed + len <= max_backing) {
      bytes = backing.emplace_back(len);
      backed += len;
    }
    require(board.add_window({r.begin, len, bytes, true}), "the board takes the window");
  }
}

// The remote through typed handles: the one handle held is the state.
class typed_driver {
 public:
  explicit typed_driver(board_t& board) {
    processor_.emplace(board);
    require(processor_->current_state() == rproc::state::detached,
            "a remote a boot loader started is found detached");
    detached_.emplace(processor_->claim<rproc::detached>().value());
  }
  rproc::result<void> attach() {
    auto t = std::move(*detached_).attach();
    detached_.reset();
    if (!t) {
      const rproc::error e = t.error();
      detached_.emplace(std::move(t).previous());
      return e;
    }
    attached_.emplace(std::move(t).value());
    return {};
  }
  rproc::result<void> detach(rproc::detach_options options) {
    auto t = std::move(*attached_).detach(options);
    attached_.reset();
    if (!t) {
      const rproc::error e = t.error();
      attached_.emplace(std::move(t).previous());
      return e;
    }
    detached_.emplace(std::move(t).value());
    return {};
  }
  const proc_t& processor() const { return *processor_; }
  // The handles go first (they point at the processor), then the processor.
  void destroy() {
    detached_.reset();
    attached_.reset();
    processor_.reset();
  }

 private:
  std::optional<proc_t> processor_;
  std::optional<rproc::remote<board_t, rproc::detached>> detached_;
  std::optional<rproc::remote<board_t, rproc::attached>> attached_;
};

// The same through rproc::machine's commands.
class machine_driver {
 public:
  explicit machine_driver(board_t& board) { machine_.emplace(board); }
  rproc::result<void> attach() { return machine_->start(); }
  rproc::result<void> detach(rproc::detach_options options) { return machine_->detach(options); }
  const proc_t& processor() const { return machine_->processor(); }
  void destroy() { machine_.reset(); }

 private:
  std::optional<rproc::machine<board_t>> machine_;
};

// The board for this input. Its 320 KiB are always the same: allocated anew, they would be
// mapped and faulted in on every run (ASan serves blocks over 128 KiB straight from mmap).
board_t* fresh_board() {
  alignas(board_t) static std::byte storage[sizeof(board_t)];
  static board_t* board = nullptr;
  if (board != nullptr) board->~board_t();
  board = new (storage) board_t;
  return board;
}

std::vector<std::byte> copy_of(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

class run {
 public:
  run(board_t& board, const controls& k, std::span<const std::byte> table, rproc::endian order)
      : board_(board),
        k_(k),
        order_(order),
        firmware_(copy_of(table)),
        board_original_(copy_of(table)) {}

  template <class Driver>
  void go(Driver& driver) {
    if (k_.fault != 0) board_.fail_operation(k_.fault);
    bool attached = false;
    for (unsigned cycle = 0; cycle < k_.cycles; ++cycle) {
      attached = attach(driver);
      if (!attached) break;
      if (k_.run_firmware) board_.run_firmware();
      if (k_.firmware_writes && cycle == k_.write_cycle) firmware_write();
      if (cycle + 1 == k_.cycles && k_.end_attached) break;
      detach(driver);
      attached = false;
    }
    release(driver, attached);
  }

 private:
  std::span<std::byte> live() { return board_.firmware_table(); }
  bool live_is(std::span<const std::byte> bytes) { return std::ranges::equal(live(), bytes); }

  template <class Driver>
  void require_detached(const Driver& driver) {
    const proc_t& proc = driver.processor();
    const auto& stats = board_.stats();
    require(proc.current_state() == rproc::state::detached, "detached");
    require(stats.outstanding_allocations == 0 && stats.outstanding_bytes == 0,
            "detached, nothing allocated");
    require(stats.outstanding_devmem == 0, "detached, nothing mapped");
    require(stats.prepares == stats.unprepares, "detached, every prepare undone");
    require(proc.resources().empty() && proc.resources().notify_ids_in_use() == 0,
            "detached, no resource recorded");
    require(proc.clean_copy() == nullptr, "detached, no clean copy kept");
    require(board_.is_running(), "the core keeps running");
  }

  // Attaches, once more after an injected fault; false when the table is refused.
  template <class Driver>
  bool attach(Driver& driver) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const auto faults = board_.stats().faults_injected;
      const auto before = copy_of(live());
      require(std::ranges::equal(before, firmware_), "the firmware's table is its own");
      const auto attached = driver.attach();
      if (attached) {
        require_attached(driver, before);
        return true;
      }
      require_detached(driver);
      require(live_is(before), "a failed attach leaves the table untouched");
      if (board_.stats().faults_injected == faults) {
        // Refused on its own: only a table no attach took yet, or one the firmware changed.
        require(!first_live_ || firmware_ != first_firmware_,
                "the same table attaches the same way every time");
        return false;
      }
    }
    return false;
  }

  template <class Driver>
  void require_attached(const Driver& driver, const std::vector<std::byte>& before) {
    const proc_t& proc = driver.processor();
    const auto& stats = board_.stats();
    require(proc.current_state() == rproc::state::attached, "attached");
    require(proc.clean_copy() != nullptr && std::ranges::equal(proc.clean_copy()->bytes(), before),
            "the clean copy is the table as found");
    const auto table = rproc::parse_table(before, order_);
    require(table.has_value(), "an attached table parsed");
    const auto host = host_bytes(*table);
    const auto now = live();
    for (std::size_t i = 0; i < now.size(); ++i)
      require(now[i] == before[i] || host[i], "an attach writes only the host's fields");
    const auto& r = proc.resources();
    require(stats.outstanding_allocations == r.carveouts().size() + r.vrings().size(),
            "memory held for exactly the carveouts and vrings recorded");
    require(stats.outstanding_devmem == r.devmems().size(), "devmem mapped as recorded");
    require(stats.prepares == stats.unprepares + 1, "prepared once");
    if (!first_live_) {
      first_live_ = copy_of(now);
      first_firmware_ = before;
    } else if (before == first_firmware_) {
      require(std::ranges::equal(now, *first_live_), "every attach of a table writes the same");
    }
    at_attach_ = before;
    host_ = host;
  }

  void firmware_write() {
    const std::size_t at = k_.write_offset % live().size();
    board_.firmware_writes(at, k_.write_value);
    board_original_[at] = k_.write_value;
    if (!host_[at] && k_.write_value != at_attach_[at]) change_ = at;
  }

  // What a detach with `policy` leaves in the firmware's table.
  std::vector<std::byte> expected_after(rproc::on_remote_change policy) const {
    auto expected = at_attach_;
    if (change_ && policy == rproc::on_remote_change::keep_remote_changes)
      expected[*change_] = k_.write_value;
    return expected;
  }

  template <class Driver>
  void detach(Driver& driver) {
    auto policy = k_.policy;
    for (int attempt = 0;; ++attempt) {
      require(attempt < 3, "a detach succeeds once the fault is spent and the policy allows");
      const auto faults = board_.stats().faults_injected;
      const auto held = copy_of(live());
      const auto allocations = board_.stats().outstanding_allocations;
      const auto detached = driver.detach({policy});
      if (detached) break;
      const proc_t& proc = driver.processor();
      require(proc.current_state() == rproc::state::attached, "a failed detach stays attached");
      require(live_is(held), "a failed detach leaves the table as the host had it");
      require(board_.stats().outstanding_allocations == allocations,
              "a failed detach keeps the memory");
      if (detached.error().code == rproc::errc::table_changed_by_remote) {
        require(policy == rproc::on_remote_change::fail && change_.has_value() &&
                    detached.error().offset == *change_,
                "table_changed_by_remote only for the firmware's change, at its byte");
        policy = rproc::on_remote_change::restore_anyway;
      } else {
        require(board_.stats().faults_injected == faults + 1,
                "a detach fails only when told to or by the platform");
      }
    }
    require_detached(driver);
    require(driver.processor().last_restore().remote_changed == change_.has_value(),
            "the restore says whether the firmware changed its table");
    const auto expected = expected_after(policy);
    require(live_is(expected), "a detach gives the firmware back its table");
    require(board_.table_is_original() == (expected == board_original_),
            "the board agrees on what the firmware wrote");
    firmware_ = expected;
    change_.reset();
  }

  template <class Driver>
  void release(Driver& driver, bool attached) {
    driver.destroy();
    const auto& stats = board_.stats();
    require(stats.outstanding_allocations == 0 && stats.outstanding_bytes == 0,
            "released, nothing allocated");
    require(stats.outstanding_devmem == 0, "released, nothing mapped");
    require(stats.prepares == stats.unprepares, "released, every prepare undone");
    if (!attached) {
      require(board_.is_running() && live_is(firmware_), "a detached remote is left as it was");
    } else if (board_.is_running()) {
      require(live_is(expected_after(rproc::on_remote_change::restore_anyway)),
              "released by a detach: the clean copy is back");
    } else {
      require(stats.stops == 1 && stats.faults_injected == 1,
              "released by a stop only when the platform refused the detach");
    }
  }

  board_t& board_;
  const controls& k_;
  rproc::endian order_;
  std::vector<std::byte> firmware_;  // the firmware's table, as the harness expects it
  std::vector<std::byte> at_attach_;
  std::vector<bool> host_;
  std::optional<std::size_t> change_;  // the firmware's change outside the host's fields
  std::vector<std::byte> board_original_;  // what the board calls the firmware's own bytes
  std::optional<std::vector<std::byte>> first_live_;
  std::vector<std::byte> first_firmware_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > board_t::max_table_size) return 0;
  const auto input = fuzz::as_bytes(data, size);
  const controls k = controls::from(input);
  auto table = fuzz::exact_copy(input);
  rproc::endian order = k.order == controls::order_choice::little ? rproc::endian::little
                                                                  : rproc::endian::big;
  if (k.order == controls::order_choice::big_twin) {
    const auto parsed = rproc::parse_table(table, rproc::endian::little);
    const std::uint32_t read = parsed                 ? parsed->num()
                               : parsed.error().entry ? *parsed.error().entry + 1
                                                      : 0;
    const fuzz::field_map fields(table, rproc::endian::little, read);
    if (!fields.ambiguous()) table = fields.swapped();
  }

  board_t* board = fresh_board();
  auto memory = std::vector<std::byte>(table.size());  // the firmware's table, exactly its size
  require(board->add_window({table_da, memory.size(), memory, false}), "the table's window");
  std::vector<std::vector<std::byte>> backing;
  if (const auto parsed = rproc::parse_table(table, order))
    add_windows(*board, *parsed, backing, board_t::max_windows - 1);
  require(board->boot_loader_start(table, table_da, order).has_value(), "the boot loader starts");
  require(std::ranges::equal(board->firmware_table(), table), "the firmware's table is the input");

  run r(*board, k, table, order);
  if (k.machine) {
    machine_driver driver(*board);
    r.go(driver);
  } else {
    typed_driver driver(*board);
    r.go(driver);
  }
  return 0;
}
