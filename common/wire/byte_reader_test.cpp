#include "common/wire/byte_reader.h"

#include <doctest/doctest.h>

#include <array>

#include "common/wire/byte_writer.h"
#include "common/wire/test_bytes.h"

using namespace dmux::wire;

TEST_CASE("reader reads big-endian integers and stops at the end") {
  const auto b = testing::hex("01 0203 04050607 08090a0b0c0d0e0f");
  ByteReader r(b);
  std::uint8_t a = 0;
  std::uint16_t c = 0;
  std::uint32_t d = 0;
  std::uint64_t e = 0;
  REQUIRE(r.read_u8(a));
  REQUIRE(r.read_u16(c));
  REQUIRE(r.read_u32(d));
  REQUIRE(r.read_u64(e));
  CHECK(a == 0x01);
  CHECK(c == 0x0203);
  CHECK(d == 0x04050607u);
  CHECK(e == 0x08090a0b0c0d0e0fULL);
  CHECK(r.remaining() == 0);
  CHECK_FALSE(r.read_u8(a));
}

TEST_CASE("a failed read leaves the reader unchanged") {
  const auto b = testing::hex("aa bb cc");
  ByteReader r(b);
  std::uint32_t v = 7;
  CHECK_FALSE(r.read_u32(v));
  CHECK(v == 7);
  CHECK(r.remaining() == 3);
  std::span<const std::byte> s;
  CHECK_FALSE(r.read_bytes(4, s));
  CHECK(r.read_bytes(3, s));
  CHECK(s.size() == 3);
  CHECK_FALSE(r.skip(1));
}

TEST_CASE("writer refuses writes that do not fit and reports it") {
  std::array<std::byte, 5> buf{};
  ByteWriter w(buf);
  w.u32(0xdeadbeef);
  CHECK(w.ok());
  w.u16(1);
  CHECK_FALSE(w.ok());
  CHECK(w.size() == 4);
  CHECK(buf[0] == std::byte{0xde});
  CHECK(buf[3] == std::byte{0xef});
}
