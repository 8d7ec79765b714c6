// TLS 1.3 between two in-process sessions over a socketpair, with gateway certificates.
#include "common/crypto/tls.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/crypto/crypto.h"

using namespace dmux::crypto;

namespace {

struct Dir {
  std::filesystem::path path;
  Dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dmux-tls-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  [[nodiscard]] std::string file(const std::string& n) const { return (path / n).string(); }
};

void write_gateway(const Dir& d, const std::string& name, const Certificate& ca_cert,
                   const SigningKey& ca_key, std::uint32_t id) {
  const auto key = SigningKey::generate();
  IssueRequest r;
  r.info.role = Role::kGateway;
  r.info.gateway_id = id;
  r.info.common_name = name;
  r.subject_key = key.public_key();
  issue(ca_cert, ca_key, r).save_pem(d.file(name + ".crt"));
  key.save_pem(d.file(name + ".key"));
}

bool drive(TlsSession& a, TlsSession& b) {
  for (int i = 0; i < 100; ++i) {
    const auto sa = a.handshake();
    const auto sb = b.handshake();
    if (sa == TlsStatus::kOk && sb == TlsStatus::kOk) return true;
    if (sa == TlsStatus::kError || sb == TlsStatus::kError) return false;
  }
  return false;
}

}  // namespace

TEST_CASE("mutual TLS: both ends see the other's certificate and share exported keys") {
  Dir d;
  const auto ca_key = SigningKey::generate();
  const auto ca = make_ca(ca_key, "test CA", 10);
  write_gateway(d, "a", ca, ca_key, 1);
  write_gateway(d, "b", ca, ca_key, 2);
  TlsContext ca_ctx(d.file("a.crt"), d.file("a.key"));
  TlsContext cb_ctx(d.file("b.crt"), d.file("b.key"));
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  {
    TlsSession client(ca_ctx, sv[0], false);
    TlsSession server(cb_ctx, sv[1], true);
    REQUIRE(drive(client, server));
    CertVerifier v(ca);
    CertInfo info;
    CHECK(v.verify(server.peer_certificate_der(), Role::kGateway, std::time(nullptr), info) ==
          VerifyResult::kOk);
    CHECK(info.gateway_id == 1);
    CHECK(v.verify(client.peer_certificate_der(), Role::kGateway, std::time(nullptr), info) ==
          VerifyResult::kOk);
    CHECK(info.gateway_id == 2);
    std::array<std::byte, 32> ka{}, kb{};
    CHECK(client.export_keying_material("ipdmux-test", ka));
    CHECK(server.export_keying_material("ipdmux-test", kb));
    CHECK(ka == kb);
    const std::array<std::byte, 3> msg{std::byte{1}, std::byte{2}, std::byte{3}};
    std::size_t n = 0;
    REQUIRE(client.write(msg, n) == TlsStatus::kOk);
    CHECK(n == 3);
    std::array<std::byte, 16> buf{};
    TlsStatus s = TlsStatus::kWantRead;
    for (int i = 0; i < 10 && s == TlsStatus::kWantRead; ++i) s = server.read(buf, n);
    REQUIRE(s == TlsStatus::kOk);
    CHECK(n == 3);
    client.shutdown();
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("a certificate from another CA completes TLS but fails CertVerifier") {
  Dir d;
  const auto ca_key = SigningKey::generate();
  const auto ca = make_ca(ca_key, "test CA", 10);
  const auto evil_key = SigningKey::generate();
  const auto evil = make_ca(evil_key, "evil CA", 10);
  write_gateway(d, "a", ca, ca_key, 1);
  write_gateway(d, "x", evil, evil_key, 9);
  TlsContext good(d.file("a.crt"), d.file("a.key"));
  TlsContext bad(d.file("x.crt"), d.file("x.key"));
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  {
    TlsSession client(bad, sv[0], false);
    TlsSession server(good, sv[1], true);
    REQUIRE(drive(client, server));
    CertVerifier v(ca);
    CertInfo info;
    CHECK(v.verify(server.peer_certificate_der(), Role::kGateway, std::time(nullptr), info) ==
          VerifyResult::kUntrusted);
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("garbage instead of a ClientHello is a TLS error, not a crash") {
  Dir d;
  const auto ca_key = SigningKey::generate();
  const auto ca = make_ca(ca_key, "test CA", 10);
  write_gateway(d, "a", ca, ca_key, 1);
  TlsContext ctx(d.file("a.crt"), d.file("a.key"));
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  {
    TlsSession server(ctx, sv[1], true);
    const char junk[] = "GET / HTTP/1.0\r\n\r\n";
    REQUIRE(::write(sv[0], junk, sizeof junk) > 0);
    CHECK(server.handshake() == TlsStatus::kError);
    CHECK_FALSE(server.error().empty());
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("a missing key file is a start-up error naming it") {
  CHECK_THROWS_AS(TlsContext("/nonexistent.crt", "/nonexistent.key"), CryptoError);
}
