// Bounds-checked big-endian reader over untrusted bytes.
//
// Contract: this is the only place in IPdmux that turns received bytes into integers. Every read
// checks the remaining length first; a failed read leaves the reader unchanged and returns false,
// so callers can report "truncated" without any exception. Never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::wire {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }

  [[nodiscard]] bool read_u8(std::uint8_t& out) noexcept { return read_be(out); }
  [[nodiscard]] bool read_u16(std::uint16_t& out) noexcept { return read_be(out); }
  [[nodiscard]] bool read_u32(std::uint32_t& out) noexcept { return read_be(out); }
  [[nodiscard]] bool read_u64(std::uint64_t& out) noexcept { return read_be(out); }

  // A strong id (ids.h) in its wire width: the reader yields the typed value, never the integer.
  template <typename IdT, typename Rep = typename IdT::Value>
  [[nodiscard]] bool read_id(IdT& out) noexcept {
    Rep v = 0;
    if (!read_be(v)) return false;
    out = IdT{v};
    return true;
  }

  // Views the next n bytes without copying; fails if fewer than n remain.
  [[nodiscard]] bool read_bytes(std::size_t n, std::span<const std::byte>& out) noexcept {
    if (n > remaining()) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

  [[nodiscard]] bool skip(std::size_t n) noexcept {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }

  // Everything not yet read.
  [[nodiscard]] std::span<const std::byte> rest() const noexcept { return bytes_.subspan(pos_); }

 private:
  template <typename T>
  bool read_be(T& out) noexcept {
    if (sizeof(T) > remaining()) return false;
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      v = static_cast<T>((v << 8) |
                         static_cast<T>(std::to_integer<std::uint8_t>(bytes_[pos_ + i])));
    }
    pos_ += sizeof(T);
    out = v;
    return true;
  }

  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace dmux::wire
