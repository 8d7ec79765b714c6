#include "rv_wire.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/wire/test_bytes.h"

namespace rendezvous {
namespace {

using dmux::wire::testing::hex;
using Bytes = std::vector<std::byte>;

Id test_id() {
  Id id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::byte>(0xa0 + i);
  return id;
}

Bytes write(const Message& m) {
  Bytes out(kHeaderLen + kMaxData);
  out.resize(write_message(out, m));
  return out;
}

// The README's vectors V1-V3.
TEST_CASE("rendezvous wire: INSERT, SEND and ACK vectors") {
  CHECK(write(Message{.type = Type::kInsert, .id = test_id(), .lifetime_s = 30}) ==
        hex("01 01 00 00 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 00 00 00 1e"));
  const Bytes hi = hex("68 69");
  CHECK(write(Message{.type = Type::kSend, .id = test_id(), .data = hi}) ==
        hex("01 03 00 00 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 68 69"));
  CHECK(
      write(Message{
          .type = Type::kAck, .id = test_id(), .lifetime_s = 30, .status = AckStatus::kInserted}) ==
      hex("01 05 00 00 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 00 00 00 1e"));
  Message m;
  const Bytes send = hex("01 03 00 00 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 68 69");
  REQUIRE(parse_message(send, m) == Parse::kOk);
  CHECK(m.type == Type::kSend);
  CHECK(m.id == test_id());
  CHECK(Bytes(m.data.begin(), m.data.end()) == hi);
  const Bytes empty_send = hex("01 03 00 00 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af");
  CHECK(parse_message(empty_send, m) == Parse::kOk);
  CHECK(m.data.empty());
}

TEST_CASE("rendezvous wire: typed failures and exact lengths") {
  Message m;
  CHECK(parse_message({}, m) == Parse::kTruncated);
  CHECK(parse_message(hex("02 01 00 00"), m) == Parse::kUnsupportedVersion);
  CHECK(parse_message(hex("01 01 00"), m) == Parse::kTruncated);
  CHECK(parse_message(hex("01 09 00 00"), m) == Parse::kUnknownType);
  CHECK(parse_message(hex("01 10 00 01"), m) == Parse::kUnknownType);  // TRIGGERS: peers only
  Bytes insert = write(Message{.type = Type::kInsert, .id = test_id(), .lifetime_s = 30});
  CHECK(parse_message(std::span(insert).first(23), m) == Parse::kTruncated);
  insert.push_back(std::byte{0});
  CHECK(parse_message(insert, m) == Parse::kMalformed);
  CHECK(parse_message(write(Message{.type = Type::kInsert, .id = test_id(), .lifetime_s = 0}), m) ==
        Parse::kMalformed);
  CHECK(parse_message(hex("01 03 00 00 a0 a1"), m) == Parse::kTruncated);
  Bytes big(kHeaderLen + kMaxData + 1);
  CHECK(write_message(
            big, Message{.type = Type::kSend, .data = std::span(big).first(kMaxData + 1)}) == 0);
  big[0] = std::byte{1}, big[1] = std::byte{3};
  CHECK(parse_message(big, m) == Parse::kMalformed);
}

TEST_CASE("rendezvous wire: TRIGGERS vector V4 and its checks") {
  const TriggerEntry e{.id = test_id(),
                       .client_ipv4 = 0xc6120b02,
                       .client_port = 40000,
                       .token = 0x21f600be122c4524ull,
                       .remaining_ms = 30000};
  Bytes out(4 + kEntryLen);
  REQUIRE(write_triggers_header(out, 1) == 4);
  REQUIRE(write_trigger_entry(std::span(out).subspan(4), e) == kEntryLen);
  CHECK(out == hex("01 10 00 01 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"
                   "c6 12 0b 02 9c 40 00 00 21 f6 00 be 12 2c 45 24 00 00 75 30"));
  TriggersReader r;
  REQUIRE(r.init(out) == Parse::kOk);
  TriggerEntry got;
  REQUIRE(r.next(got));
  CHECK(got.client_port == 40000);
  CHECK(got.token == e.token);
  CHECK(got.remaining_ms == 30000);
  CHECK_FALSE(r.next(got));
  CHECK(r.init(std::span(out).first(39)) == Parse::kTruncated);
  out.push_back(std::byte{0});
  CHECK(r.init(out) == Parse::kMalformed);
  CHECK(r.init(hex("01 10 00 00")) == Parse::kMalformed);     // no entries
  CHECK(r.init(hex("01 10 ff ff")) == Parse::kMalformed);     // more than fit
  CHECK(r.init(hex("01 10 00 02 00")) == Parse::kTruncated);  // count beyond the bytes
  CHECK(r.init(hex("01 01 00 01")) == Parse::kUnknownType);
}

}  // namespace
}  // namespace rendezvous
