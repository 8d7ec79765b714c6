#include "common/crypto/data_path_mac.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto/crypto.h"

namespace dmux::crypto {
namespace {

std::vector<std::byte> from_hex(std::string_view h) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string hex(std::span<const std::byte> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (const std::byte x : b) {
    s += kDigits[static_cast<unsigned>(x) >> 4];
    s += kDigits[static_cast<unsigned>(x) & 0xf];
  }
  return s;
}

TunnelKeyBytes key_of(std::string_view h) {
  TunnelKeyBytes k{};
  const auto b = from_hex(h);
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

}  // namespace

TEST_CASE("AES-256-GCM with an empty plaintext matches the GCM specification's test case 13") {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 13: K = 0^256, IV = 0^96,
  // no plaintext, no AAD.
  const TunnelKeyBytes zero{};
  const TunnelKey key(zero);
  CHECK(hex(key.tag(0, 0, {})) == "530f8afbc74536b9a963b4f1c4cb738b");
  CHECK(hex(TunnelKey::reference_tag(zero, 0, 0, {})) == "530f8afbc74536b9a963b4f1c4cb738b");
}

TEST_CASE("tunnel tags: the accelerated and the OpenSSL path agree, and any change is caught") {
  const auto raw = key_of("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const TunnelKey key(raw);
  std::vector<std::byte> message(1400 + 56);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::byte>(i * 7);
  for (const std::size_t len : {std::size_t{1}, std::size_t{57}, std::size_t{120}, std::size_t{255},
                                std::size_t{256}, std::size_t{1000}, message.size()}) {
    const std::span<const std::byte> m(message.data(), len);
    const TunnelTag t = key.tag(0xc6120001, 42, m);
    CHECK(t == TunnelKey::reference_tag(raw, 0xc6120001, 42, m));
    CHECK(key.verify(0xc6120001, 42, m, t));
    CHECK_FALSE(key.verify(0xc6120001, 43, m, t));  // another counter
    CHECK_FALSE(key.verify(0xc6120002, 42, m, t));  // another gateway
    TunnelTag bad = t;
    bad[15] ^= std::byte{1};
    CHECK_FALSE(key.verify(0xc6120001, 42, m, bad));
    std::vector<std::byte> changed(m.begin(), m.end());
    changed[len / 2] ^= std::byte{0x80};
    CHECK_FALSE(key.verify(0xc6120001, 42, changed, t));
  }
  CHECK(TunnelKey(key_of("01")).tag(1, 1, message) != key.tag(1, 1, message));
}

TEST_CASE("tunnel tags stay right with many threads on one key (its OpenSSL context is shared)") {
  const auto raw = key_of("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");
  const TunnelKey key(raw);
  std::vector<std::byte> message(1456);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::byte>(i * 13);
  std::vector<TunnelTag> want;
  for (std::uint64_t c = 0; c < 64; ++c)
    want.push_back(TunnelKey::reference_tag(raw, 9, c, message));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        for (std::uint64_t c = 0; c < 64; ++c) {
          if (key.tag(9, c, message) != want[c] || !key.verify(9, c, message, want[c])) ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("SipHash-2-4 matches the reference vectors") {
  // Aumasson & Bernstein's reference: key 00..0f, message 00..0e -> a129ca6149be45e5; the
  // 128-bit variant, message 00..0e -> 5493e99933b0a8117e08ec0f97cfc3d9 (vectors.h,
  // vectors_sip128).
  ReturnKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(i);
  std::vector<std::byte> m(15);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::byte>(i);
  CHECK(hex(keyed_hash128(std::span<const std::byte, 16>(k), m)) ==
        "5493e99933b0a8117e08ec0f97cfc3d9");
  // return_token is SipHash over 12 bytes; its reference value is in docs/protocol.md 6.4 and is
  // checked by common/wire/shim_test.cpp. Here: it depends on every input.
  const std::uint64_t rt = return_token(k, 1, 7, 0xc6120102, 40000);
  CHECK(rt != return_token(k, 2, 7, 0xc6120102, 40000));
  CHECK(rt != return_token(k, 1, 8, 0xc6120102, 40000));
  CHECK(rt != return_token(k, 1, 7, 0xc6120103, 40000));
  CHECK(rt != return_token(k, 1, 7, 0xc6120102, 40001));
  CHECK(rt == return_token(k, 1, 7, 0xc6120102, 40000));
}

TEST_CASE("the return key is derived from a seed, and the same from a provider key every time") {
  const auto seed = from_hex("00112233445566778899aabbccddeeff");
  const ReturnKey a = derive_return_key(seed);
  CHECK(a == derive_return_key(seed));
  const auto provider = SigningKey::generate();
  CHECK(derive_return_key(provider) == derive_return_key(provider));
  CHECK(derive_return_key(provider) != derive_return_key(SigningKey::generate()));
  CHECK(equal_u64_constant_time(5, 5));
  CHECK_FALSE(equal_u64_constant_time(5, 5 | (1ULL << 63)));
}

}  // namespace dmux::crypto
