// The order in which the host writes a live table (SPEC section 3): at attach every other field
// before `status` shows DRIVER_OK, the status last; at detach `status` 0 first, then the restore,
// also when the firmware changed its table and the policy restores anyway. The table lies alone
// on a read-only page of the simulated board: each store the host makes into it faults, is
// recorded (its address), and runs single-stepped with the page writable, so the record is the
// order of the machine's stores as compiled (this file is built with -O2), not of the source.
// x86-64 Linux only (the trap flag); not under sanitizers, which own SIGSEGV.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lifecycle_support.hpp"

namespace {

constexpr std::uint64_t table_da = 0x30000000;
constexpr std::size_t page_size = 4096;

// One store into the watched page: where, and the byte there after it.
struct store_record {
  std::size_t offset = 0;
  std::byte value{};
};

// State shared with the signal handlers (plain data: a handler may touch nothing else).
struct watch {
  std::byte* page = nullptr;
  std::array<store_record, 4096> stores{};
  std::size_t count = 0;
  std::size_t pending = 0;
  bool overflow = false;
};
watch watched;

void on_fault(int, siginfo_t* info, void* context) {
  auto* const at = static_cast<std::byte*>(info->si_addr);
  if (at < watched.page || at >= watched.page + page_size) {
    ::signal(SIGSEGV, SIG_DFL);  // not ours: fault again, and die of it
    return;
  }
  watched.pending = static_cast<std::size_t>(at - watched.page);
  ::mprotect(watched.page, page_size, PROT_READ | PROT_WRITE);
  // Trap after one instruction.
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_EFL] |= 0x100;
}

void on_step(int, siginfo_t*, void* context) {
  if (watched.count < watched.stores.size())
    watched.stores[watched.count++] = {watched.pending, watched.page[watched.pending]};
  else
    watched.overflow = true;
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_EFL] &= ~0x100LL;
  ::mprotect(watched.page, page_size, PROT_READ);
}

// Records the stores into `page` from construction to stop().
class store_recorder {
 public:
  explicit store_recorder(std::byte* page) {
    watched.page = page;
    watched.count = 0;
    watched.overflow = false;
    struct sigaction fault {}, step{};
    fault.sa_sigaction = on_fault;
    fault.sa_flags = SA_SIGINFO;
    step.sa_sigaction = on_step;
    step.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSEGV, &fault, &old_fault_);
    ::sigaction(SIGTRAP, &step, &old_step_);
    ::mprotect(page, page_size, PROT_READ);
  }
  ~store_recorder() { stop(); }
  std::span<const store_record> stop() {
    if (!stopped_) {
      ::mprotect(watched.page, page_size, PROT_READ | PROT_WRITE);
      ::sigaction(SIGSEGV, &old_fault_, nullptr);
      ::sigaction(SIGTRAP, &old_step_, nullptr);
      stopped_ = true;
    }
    REQUIRE_FALSE(watched.overflow);
    return std::span(watched.stores).first(watched.count);
  }

 private:
  struct sigaction old_fault_ {}, old_step_{};
  bool stopped_ = false;
};

// The simulated board with the hooks a platform may have around a publication: each records the
// status the live table shows when it is called.
struct observed_platform : rproc::sim::platform {
  const std::byte* status = nullptr;
  std::vector<std::byte> doorbells, table_cleans;
  rproc::result<void> ring_doorbell() {
    doorbells.push_back(*status);
    return {};
  }
  void clean_cache(std::span<const std::byte> bytes) noexcept {
    if (bytes.data() <= status && status < bytes.data() + bytes.size()) table_cleans.push_back(*status);
  }
};

struct page_deleter {
  void operator()(std::byte* p) const { ::munmap(p, page_size); }
};

// A simulated board whose firmware keeps the Zephyr-like table alone on a page of its own.
struct board {
  std::unique_ptr<observed_platform> platform = std::make_unique<observed_platform>();
  std::unique_ptr<std::byte, page_deleter> page{static_cast<std::byte*>(
      ::mmap(nullptr, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))};
  std::size_t status_at = 0;

  board() {
    REQUIRE(page.get() != MAP_FAILED);
    REQUIRE(platform->add_window({.da = table_da, .len = page_size,
                                  .backing = std::span(page.get(), page_size),
                                  .allocatable = false}));
    REQUIRE(platform->boot_loader_start(test::zephyr_table.bytes, table_da));
    const auto table = rproc::parse_table(std::span(page.get(), test::zephyr_table.size()));
    for (const auto entry : *table)
      if (entry.as<rproc::vdev_entry>()) status_at = entry.offset() + rproc::layout::vdev::status.offset;
    REQUIRE(status_at != 0);
    platform->status = page.get() + status_at;
  }
};

}  // namespace

TEST_CASE("live table write order: an attach writes status DRIVER_OK last; a detach writes status 0 first") {
  board b;
  rproc::processor<observed_platform> proc(*b.platform);
  auto detached = proc.claim<rproc::detached>().value();

  store_recorder attach_stores(b.page.get());
  auto attaching = std::move(detached).attach();
  const auto attach_order = attach_stores.stop();
  REQUIRE(attaching);
  REQUIRE(attach_order.size() >= 6);  // notify ids, carveout, vring da, gfeatures, status
  CHECK(attach_order.back().offset == b.status_at);
  CHECK(attach_order.back().value == std::byte{0xf});
  for (const auto& s : attach_order.first(attach_order.size() - 1))
    CHECK((s.offset != b.status_at || (std::to_integer<int>(s.value) & 0x4) == 0));
  // The table cleaned from the caches before DRIVER_OK and after; the doorbell rung after.
  CHECK(b.platform->table_cleans == std::vector{std::byte{0xb}, std::byte{0xf}});
  CHECK(b.platform->doorbells == std::vector{std::byte{0xf}});

  store_recorder detach_stores(b.page.get());
  auto detaching = std::move(attaching).value().detach();
  const auto detach_order = detach_stores.stop();
  REQUIRE(detaching);
  REQUIRE(detach_order.size() >= 2);
  CHECK(detach_order.front().offset == b.status_at);
  CHECK(detach_order.front().value == std::byte{0});
  // Cleaned after the reset (status 0), and after the restore.
  CHECK(b.platform->table_cleans.size() == 4);
  CHECK(b.platform->table_cleans[2] == std::byte{0});
}

TEST_CASE("live table write order: a detach that restores a table the firmware changed writes status 0 first") {
  board b;
  rproc::processor<observed_platform> proc(*b.platform);
  auto attached = proc.claim<rproc::detached>().value().attach().value();
  // The firmware renames its trace buffer while attached: bytes the host never writes.
  const auto trace = rproc::parse_table(std::span(b.page.get(), test::zephyr_table.size()))
                         ->operator[](2);
  b.page.get()[trace.offset() + rproc::layout::trace::name.offset] = std::byte{'z'};

  store_recorder detach_stores(b.page.get());
  auto detaching = std::move(attached).detach({rproc::on_remote_change::restore_anyway});
  const auto detach_order = detach_stores.stop();
  REQUIRE(detaching);
  REQUIRE(detach_order.size() >= 2);
  CHECK(detach_order.front().offset == b.status_at);
  CHECK(detach_order.front().value == std::byte{0});
  CHECK(std::ranges::equal(std::span(b.page.get(), test::zephyr_table.size()),
                           test::zephyr_table.bytes));
}
