// The replay window of one (key_id, gateway_id) pair (docs/protocol.md 5.3): a sliding bitmap over
// the highest counter accepted and the kWindow counters below it, like IPsec's and WireGuard's.
// Pure logic: no clock, no allocation, noexcept. Counters come from authenticated TUNNELs only for
// accept(); may_accept() may be asked about any counter (it changes nothing).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dmux::agent {

class ReplayWindow {
 public:
  // Counters within kWindow below the highest accepted one are still accepted once each; older
  // ones are refused. The spec asks for at least 2048; the bitmap has one spare block so that a
  // whole kWindow stays addressable while the window slides.
  static constexpr std::uint64_t kWindow = 4096;

  // False if `counter` is below the window or was accepted before (step 3 of 5.3, before the tag).
  [[nodiscard]] bool may_accept(std::uint64_t counter) const noexcept;
  // Records `counter` as accepted and slides the window (step 5, after the tag). False, and
  // nothing changes, if may_accept(counter) is false.
  bool accept(std::uint64_t counter) noexcept;

  [[nodiscard]] bool empty() const noexcept { return !any_; }
  [[nodiscard]] std::uint64_t highest() const noexcept { return highest_; }

 private:
  static constexpr std::size_t kBlockBits = 64;
  static constexpr std::size_t kBlocks = kWindow / kBlockBits + 1;

  [[nodiscard]] static std::size_t block_of(std::uint64_t counter) noexcept {
    return static_cast<std::size_t>((counter / kBlockBits) % kBlocks);
  }
  [[nodiscard]] static std::uint64_t bit_of(std::uint64_t counter) noexcept {
    return std::uint64_t{1} << (counter % kBlockBits);
  }

  std::array<std::uint64_t, kBlocks> bitmap_{};
  std::uint64_t highest_ = 0;
  bool any_ = false;
};

}  // namespace dmux::agent
