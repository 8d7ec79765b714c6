// TUNNELs a sink keeps to check their tags once its run is over, so that checking costs the CPU it
// shares with the path under test nothing while that path is measured. Every kept datagram is
// checked; one that does not fit is left for the caller to check at once.
//
// The log is allocated, and its pages touched, in the constructor; add() never allocates.
// Threading: one thread, the sink's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/crypto/data_path_mac.h"

namespace dmux::loadgen {

class DeferredTagCheck {
 public:
  explicit DeferredTagCheck(std::size_t capacity_bytes);

  // Keeps a copy of `datagram` (a TUNNEL already parsed by the caller). False if it does not fit.
  [[nodiscard]] bool add(std::span<const std::byte> datagram) noexcept;

  // Checks the tag of every datagram kept since the last call under `key`; returns how many were
  // wrong, and empties the log.
  std::uint64_t check_all(const crypto::TunnelKey& key) noexcept;

  [[nodiscard]] std::uint64_t kept() const noexcept { return kept_; }  // since construction

 private:
  static constexpr std::size_t kLengthBytes = 2;  // each entry: u16 length, then the datagram
  std::vector<std::byte> log_;
  std::size_t used_ = 0;
  std::uint64_t kept_ = 0;
};

}  // namespace dmux::loadgen
