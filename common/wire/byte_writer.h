// Bounds-checked big-endian writer into a caller-owned buffer.
//
// A write that does not fit sets the writer's failed flag and writes nothing; callers check ok()
// once at the end. Never allocates, never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace dmux::wire {

class ByteWriter {
 public:
  explicit ByteWriter(std::span<std::byte> out) noexcept : out_(out) {}

  void u8(std::uint8_t v) noexcept { write_be(v); }
  void u16(std::uint16_t v) noexcept { write_be(v); }
  void u32(std::uint32_t v) noexcept { write_be(v); }
  void u64(std::uint64_t v) noexcept { write_be(v); }
  // A strong id (ids.h) in its wire width.
  template <typename IdT, typename Rep = typename IdT::Value>
  void id(IdT v) noexcept {
    write_be(static_cast<Rep>(v.value()));
  }

  void bytes(std::span<const std::byte> b) noexcept {
    if (!reserve(b.size())) return;
    if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
  }

  void zeros(std::size_t n) noexcept {
    if (!reserve(n)) return;
    std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
  }

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t size() const noexcept { return pos_; }
  [[nodiscard]] std::span<const std::byte> written() const noexcept {
    return std::span<const std::byte>(out_.data(), pos_);
  }

 private:
  bool reserve(std::size_t n) noexcept {
    if (!ok_ || n > out_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  template <typename T>
  void write_be(T v) noexcept {
    if (!reserve(sizeof(T))) return;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out_[pos_ + i] = static_cast<std::byte>((v >> (8 * (sizeof(T) - 1 - i))) & 0xff);
    }
    pos_ += sizeof(T);
  }

  std::span<std::byte> out_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace dmux::wire
