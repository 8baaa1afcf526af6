// A mailbox in memory both processors map: the notifications a host and its remote exchange
// (attach, detach, a kick naming a vring's notify id) where the board has no mailbox hardware, as
// under QEMU. Two channels, one per direction; each a ring of 8 messages and two free-running
// counters, `posted` written only by the sender and `taken` only by the receiver, so each word has
// one writer. A message is acknowledged when the receiver has handled it and counted it taken: a
// host's detach is complete only then. Freestanding (the firmware uses it too): no heap, and
// __atomic builtins, which both g++ and arm-none-eabi-g++ provide without <atomic>.
//
// Layout (native 32-bit words, both sides of the same byte order, 4-byte aligned; 176 bytes):
//   0   magic: shared_mailbox::ready once the remote has set its end up
//   4   boots: how many times the remote has set it up
//   16  channel host -> remote: posted, taken, 2 reserved words, 8 slots of {kind, value}
//   96  channel remote -> host: the same
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rproc {

enum class notification_kind : std::uint32_t {
  attach = 1,  // the host attached (DRIVER_OK is visible)
  detach = 2,  // the host detached: its table is restored, stop using the vrings
  kick = 3,    // the vring with notify id `value` has news
};

struct notification {
  notification_kind kind = notification_kind::kick;
  std::uint32_t value = 0;
};

class shared_mailbox {
 public:
  static constexpr std::size_t size = 176;
  static constexpr std::uint32_t ready = 0x424D5052u;  // "RPMB" in a little-endian dump
  static constexpr std::uint32_t slots = 8;

  enum class direction : std::size_t { host_to_remote = 16, remote_to_host = 96 };

  // `memory`: at least `size` bytes, 4-byte aligned, shared with the other processor.
  explicit shared_mailbox(std::span<std::byte> memory) noexcept
      : words_(reinterpret_cast<std::uint32_t*>(memory.data())) {}

  // The remote's start-up: both channels emptied, then `ready` published.
  void set_up_remote_end() noexcept {
    store(magic_word, 0, __ATOMIC_RELAXED);
    for (std::size_t w = 2; w < size / 4; ++w) store(w, 0, __ATOMIC_RELAXED);
    store(boots_word, load(boots_word, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    store(magic_word, ready, __ATOMIC_RELEASE);
  }
  bool remote_ready() const noexcept { return load(magic_word, __ATOMIC_ACQUIRE) == ready; }
  std::uint32_t boots() const noexcept { return load(boots_word, __ATOMIC_ACQUIRE); }

  // Sender's side: the message's sequence number (from 1), or nothing while the ring is full.
  std::optional<std::uint32_t> post(direction d, notification n) noexcept {
    const std::size_t c = channel(d);
    const std::uint32_t posted = load(c + posted_word, __ATOMIC_RELAXED);
    if (posted - load(c + taken_word, __ATOMIC_ACQUIRE) >= slots) return std::nullopt;
    const std::size_t slot = c + first_slot + 2 * (posted % slots);
    store(slot, static_cast<std::uint32_t>(n.kind), __ATOMIC_RELAXED);
    store(slot + 1, n.value, __ATOMIC_RELAXED);
    store(c + posted_word, posted + 1, __ATOMIC_RELEASE);  // publishes the slot
    return posted + 1;
  }
  // Whether the receiver has handled the message numbered `sequence`.
  bool acknowledged(direction d, std::uint32_t sequence) const noexcept {
    const std::uint32_t taken = load(channel(d) + taken_word, __ATOMIC_ACQUIRE);
    return static_cast<std::int32_t>(taken - sequence) >= 0;
  }

  // Receiver's side: the oldest message not yet acknowledged, if any.
  std::optional<notification> peek(direction d) const noexcept {
    const std::size_t c = channel(d);
    const std::uint32_t taken = load(c + taken_word, __ATOMIC_RELAXED);
    if (load(c + posted_word, __ATOMIC_ACQUIRE) == taken) return std::nullopt;
    const std::size_t slot = c + first_slot + 2 * (taken % slots);
    return notification{static_cast<notification_kind>(load(slot, __ATOMIC_RELAXED)),
                        load(slot + 1, __ATOMIC_RELAXED)};
  }
  // The message peek() gave is handled: everything done before this is visible to the sender.
  void acknowledge(direction d) noexcept {
    const std::size_t c = channel(d);
    store(c + taken_word, load(c + taken_word, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
  }

 private:
  static constexpr std::size_t magic_word = 0, boots_word = 1;
  static constexpr std::size_t posted_word = 0, taken_word = 1, first_slot = 4;
  static constexpr std::size_t channel(direction d) noexcept {
    return static_cast<std::size_t>(d) / 4;
  }
  std::uint32_t load(std::size_t word, int order) const noexcept {
    return __atomic_load_n(words_ + word, order);
  }
  void store(std::size_t word, std::uint32_t value, int order) noexcept {
    __atomic_store_n(words_ + word, value, order);
  }

  std::uint32_t* words_;
};

}  // namespace rproc
