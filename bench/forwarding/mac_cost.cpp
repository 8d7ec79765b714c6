// bench_mac_cost: what each candidate TUNNEL tag construction costs per packet on this CPU
// (docs/protocol.md 5.5). One TUNNEL is a 56-byte header plus the payload, MACed whole; the
// sizes are 64 and 1400-byte payloads. Each construction runs with its key set up once (as a
// gateway holds a router's key) and a fresh nonce per packet; the figure is the median over
// several runs of the mean nanoseconds per packet, on one pinned CPU, timed in the thread's own CPU
// time (so that other processes sharing the CPU do not count).
//
// A benchmark of the libraries themselves, so it includes libsodium and OpenSSL directly (the
// project's code reaches them only through common/crypto). Usage:
//   bench_mac_cost [--cpu N] [--runs N] [--millis MS] [--json FILE]
// prints a table; --json also writes the figures to FILE as one JSON object.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sched.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/crypto/data_path_mac.h"

namespace {

// The calling thread's CPU time: what the MAC itself costs, not the time others held the CPU.
struct ThreadCpuClock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<ThreadCpuClock, duration>;
  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(duration(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec));
  }
};
using Clock = ThreadCpuClock;
using Bytes = std::vector<unsigned char>;

struct Options {
  int cpu = 0;
  int runs = 7;
  int millis = 200;  // per run and size
  std::string json;  // file to write the figures to, "" = none
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_mac_cost: %s\n", what);
  std::exit(1);
}

// One construction: `mac(message, counter)` computes a 16-byte tag into `out`.
struct Construction {
  const char* name;
  std::function<void(const Bytes& message, std::uint64_t counter, unsigned char* out)> mac;
};

void nonce12(std::uint64_t counter, unsigned char* n) {
  const std::uint32_t gateway_id = 0xc6120001u;
  for (int i = 0; i < 4; ++i) n[i] = static_cast<unsigned char>(gateway_id >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<unsigned char>(counter >> (56 - 8 * i));
}

const unsigned char kKey[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

Construction sodium_aes_gcm() {
  if (crypto_aead_aes256gcm_is_available() != 1) return {"AES-256-GCM (libsodium)", nullptr};
  auto* state =
      static_cast<crypto_aead_aes256gcm_state*>(sodium_malloc(sizeof(crypto_aead_aes256gcm_state)));
  crypto_aead_aes256gcm_beforenm(state, kKey);
  return {"AES-256-GCM (libsodium)", [state](const Bytes& m, std::uint64_t c, unsigned char* out) {
            unsigned char n[12], none = 0;
            unsigned long long len = 0;
            nonce12(c, n);
            crypto_aead_aes256gcm_encrypt_detached_afternm(&none, out, &len, nullptr, 0, m.data(),
                                                           m.size(), nullptr, n, state);
          }};
}

Construction openssl_aes_gcm() {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, kKey, nullptr) != 1) die("EVP GCM");
  return {"AES-256-GCM (OpenSSL EVP, key set once)",
          [ctx](const Bytes& m, std::uint64_t c, unsigned char* out) {
            unsigned char n[12];
            int len = 0;
            nonce12(c, n);
            EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, n);  // same key, new nonce
            EVP_EncryptUpdate(ctx, nullptr, &len, m.data(), static_cast<int>(m.size()));
            EVP_EncryptFinal_ex(ctx, nullptr, &len);
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out);
          }};
}

Construction project_tunnel_key() {
  dmux::crypto::TunnelKeyBytes k{};
  std::memcpy(k.data(), kKey, k.size());
  auto key = std::make_shared<const dmux::crypto::TunnelKey>(k);
  return {"TunnelKey::tag (dmuxd)", [key](const Bytes& m, std::uint64_t c, unsigned char* out) {
            const auto tag = key->tag(
                0xc6120001u, c, std::span(reinterpret_cast<const std::byte*>(m.data()), m.size()));
            std::memcpy(out, tag.data(), tag.size());
          }};
}

Construction siphash128() {
  return {"SipHash-2-4-128 (libsodium)", [](const Bytes& m, std::uint64_t, unsigned char* out) {
            crypto_shorthash_siphashx24(out, m.data(), m.size(), kKey);
          }};
}

Construction chacha_poly() {
  return {"ChaCha20-Poly1305 (libsodium)", [](const Bytes& m, std::uint64_t c, unsigned char* out) {
            unsigned char n[12], none = 0;
            unsigned long long len = 0;
            nonce12(c, n);
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                &none, out, &len, nullptr, 0, m.data(), m.size(), nullptr, n, kKey);
          }};
}

// An OpenSSL EVP_MAC keyed once; per packet re-initialised with the same key (NULL key).
Construction evp_mac(const char* name, const char* algorithm, const char* digest,
                     std::size_t out_len) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, algorithm, nullptr);
  if (mac == nullptr) return {name, nullptr};
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  std::vector<OSSL_PARAM> params;
  if (digest != nullptr) {
    params.push_back(
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0));
  } else {
    static std::size_t size = 16;
    size = out_len;
    params.push_back(OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size));
  }
  params.push_back(OSSL_PARAM_construct_end());
  if (EVP_MAC_init(ctx, kKey, sizeof kKey, params.data()) != 1) die(name);
  return {name, [ctx](const Bytes& m, std::uint64_t, unsigned char* out) {
            unsigned char full[EVP_MAX_MD_SIZE];
            std::size_t len = 0;
            EVP_MAC_init(ctx, nullptr, 0, nullptr);
            EVP_MAC_update(ctx, m.data(), m.size());
            EVP_MAC_final(ctx, full, &len, sizeof full);
            std::memcpy(out, full, 16);
          }};
}

// Median over runs of the mean ns per call.
double measure(const Construction& c, const Bytes& message, const Options& o) {
  unsigned char tag[16] = {};
  std::uint64_t counter = 1, fold = 0;
  for (int i = 0; i < 2000; ++i) c.mac(message, counter++, tag);  // warm caches and clocks
  std::vector<double> per_run;
  for (int r = 0; r < o.runs; ++r) {
    const auto end = Clock::now() + std::chrono::milliseconds(o.millis);
    std::uint64_t n = 0;
    const auto t0 = Clock::now();
    Clock::time_point t1;
    do {
      for (int i = 0; i < 256; ++i) {
        c.mac(message, counter++, tag);
        fold += tag[0];
      }
      n += 256;
      t1 = Clock::now();
    } while (t1 < end);
    per_run.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                      static_cast<double>(n));
  }
  if (fold == 0x123456789) std::puts("");  // keeps the tags observable
  std::sort(per_run.begin(), per_run.end());
  return per_run[per_run.size() / 2];
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) die(("missing value for " + a).c_str());
      return std::atoi(argv[++i]);
    };
    if (a == "--cpu") {
      o.cpu = next();
    } else if (a == "--runs") {
      o.runs = std::max(1, next());
    } else if (a == "--millis") {
      o.millis = std::max(1, next());
    } else if (a == "--json" && i + 1 < argc) {
      o.json = argv[++i];
    } else {
      die("usage: bench_mac_cost [--cpu N] [--runs N] [--millis MS] [--json FILE]");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (sodium_init() < 0) die("sodium_init");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(o.cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("cannot pin to the CPU (--cpu)");

  const std::vector<Construction> all = {
      sodium_aes_gcm(),
      openssl_aes_gcm(),
      project_tunnel_key(),
      siphash128(),
      chacha_poly(),
      evp_mac("HMAC-SHA256 (OpenSSL EVP_MAC)", "HMAC", "SHA256", 32),
      evp_mac("BLAKE2s keyed (OpenSSL BLAKE2SMAC)", "BLAKE2SMAC", nullptr, 16),
  };
  const std::size_t payloads[] = {64, 1400};
  std::string json =
      "{\"benchmark\":\"mac_cost\",\"header_bytes\":56,\"cpu\":" + std::to_string(o.cpu) +
      ",\"runs\":" + std::to_string(o.runs) +
      ",\"aes_ni\":" + (crypto_aead_aes256gcm_is_available() ? "true" : "false") +
      ",\"ns_per_packet\":{";
  std::printf(
      "tag constructions: ns per packet (56-byte header + payload), median of %d runs, "
      "CPU %d\n",
      o.runs, o.cpu);
  std::printf("  %-40s %10s %12s\n", "construction", "64 B", "1400 B");
  const char* sep = "";
  for (const auto& c : all) {
    if (!c.mac) {
      std::printf("  %-40s %10s %12s\n", c.name, "n/a", "n/a");
      continue;
    }
    double ns[2];
    for (int k = 0; k < 2; ++k) ns[k] = measure(c, Bytes(56 + payloads[k], 0xa5), o);
    std::printf("  %-40s %10.0f %12.0f\n", c.name, ns[0], ns[1]);
    std::fflush(stdout);
    char entry[160];
    std::snprintf(entry, sizeof entry, "%s\"%s\":{\"64\":%.1f,\"1400\":%.1f}", sep, c.name, ns[0],
                  ns[1]);
    json += entry;
    sep = ",";
  }
  json += "}}";
  if (!o.json.empty()) {
    std::FILE* f = std::fopen(o.json.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%s\n", json.c_str()) < 0 || std::fclose(f) != 0) {
      die("cannot write the --json file");
    }
  }
  return 0;
}
