// Shared memory for a host and a firmware in one process, laid out as a host lays it out for
// rpmsg: vring 0 at the first page, vring 1 at the second, then the host's buffers (vring 0's,
// then vring 1's), in one heap block of exactly that size (a byte outside is an ASan error).
#pragma once

#include <rproc/rpmsg.hpp>
#include <rproc/virtqueue.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace test {

class rpmsg_memory {
 public:
  static constexpr std::uint64_t da = 0x10040000;  // where the host placed it (STM32MP1's)
  static constexpr std::size_t page = 4096;

  explicit rpmsg_memory(std::uint32_t num = 8, std::uint32_t align = 16,
                        std::uint32_t buffer_size = rproc::rpmsg::default_buffer_size)
      : num_(num), align_(align), buffer_size_(buffer_size),
        rings_bytes_(2 * round_to_page(rproc::vring_size(num, align))),
        bytes_(rings_bytes_ + std::size_t{2} * buffers_per_ring() * buffer_size) {}

  std::span<std::byte> bytes() noexcept { return bytes_; }
  rproc::memory_window window() noexcept { return {da, bytes_}; }
  rproc::memory_window buffers() noexcept {
    return {da + rings_bytes_, std::span(bytes_).subspan(rings_bytes_)};
  }
  std::uint32_t buffers_per_ring() const noexcept {
    return num_ < rproc::rpmsg::max_buffers ? num_ : rproc::rpmsg::max_buffers;
  }
  std::uint32_t buffer_size() const noexcept { return buffer_size_; }

  rproc::vring_config vring(std::uint32_t index) const noexcept {
    return {index, da + index * rings_bytes_ / 2, num_, align_, index};
  }
  // The ring's bytes (both sides write them; tests read and corrupt them).
  std::span<std::byte> ring(std::uint32_t index) noexcept {
    return std::span(bytes_).subspan(index * rings_bytes_ / 2, rproc::vring_size(num_, align_));
  }
  rproc::vring_layout layout() const noexcept { return {num_, align_}; }

  rproc::rpmsg::bus_config config(rproc::endian order = rproc::endian::little,
                                  std::uint32_t features = rproc::rpmsg::feature_name_service) {
    return {{vring(0), vring(1)}, window(), buffers(), buffer_size_, features, order};
  }

 private:
  static std::size_t round_to_page(std::uint64_t n) {
    return static_cast<std::size_t>((n + page - 1) / page * page);
  }
  std::uint32_t num_, align_, buffer_size_;
  std::size_t rings_bytes_;
  std::vector<std::byte> bytes_;
};

// The platform's kick, counted per notify id.
struct counted_kicks {
  std::array<std::uint64_t, 4> by_notifyid{};
  rproc::result<void> kick(std::uint32_t notifyid) noexcept {
    if (notifyid < by_notifyid.size()) ++by_notifyid[notifyid];
    return {};
  }
};

// Payload bytes k of a message `n`: different for every message and every byte.
inline std::byte payload_byte(std::uint32_t n, std::size_t k) {
  return static_cast<std::byte>((n * 131u + k * 7u + 1u) & 0xFFu);
}
inline std::vector<std::byte> payload(std::uint32_t n, std::size_t length) {
  std::vector<std::byte> bytes(length);
  for (std::size_t k = 0; k < length; ++k) bytes[k] = payload_byte(n, k);
  return bytes;
}

}  // namespace test
