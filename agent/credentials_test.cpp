#include "agent/credentials.h"

#include <doctest/doctest.h>

#include <ctime>
#include <string>

#include "common/util/config_error.h"
#include "tests/temp_dir.h"

namespace dmux::agent {
namespace {

// A CA, a provider key and its certificate for protocols 1 and 2, saved as PEM files.
struct Files {
  testing::TempDir dir{"dmux-agent-credentials"};
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "test CA", 1);
  crypto::SigningKey key = crypto::SigningKey::generate();

  Files() {
    crypto::IssueRequest r;
    r.info.role = crypto::Role::kProvider;
    r.info.provider_id = 7;
    r.info.protocols = {1, 2};
    r.info.common_name = "provider 7";
    r.subject_key = key.public_key();
    crypto::issue(ca, ca_key, r).save_pem(dir.file("p.crt"));
    key.save_pem(dir.file("p.key"));
    crypto::SigningKey::generate().save_pem(dir.file("other.key"));
  }
  [[nodiscard]] CredentialsConfig config(std::vector<std::uint16_t> protocols) const {
    CredentialsConfig c;
    c.cert_file = dir.file("p.crt");
    c.key_file = dir.file("p.key");
    c.protocols = std::move(protocols);
    return c;
  }
};

// The option a failed load names.
std::string blamed(const CredentialsConfig& c) {
  try {
    (void)load_credentials(c, std::time(nullptr));
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "";
}

TEST_CASE("credentials load and are checked against the configuration") {
  const Files f;
  const Credentials c = load_credentials(f.config({2}), std::time(nullptr));
  CHECK(c.info.provider_id == 7);
  CHECK(c.key.public_key() == f.key.public_key());
  CHECK_FALSE(c.certificate_der.empty());

  CHECK(blamed(f.config({3})) == "protocol");  // a protocol the certificate does not list
  CredentialsConfig own = f.config({3});
  own.protocol_option = opt::kCert;  // a program whose protocol is its own (dmux-mcast)
  CHECK(blamed(own) == "cert");

  CredentialsConfig wrong_key = f.config({1});
  wrong_key.key_file = f.dir.file("other.key");
  CHECK(blamed(wrong_key) == "key");
  CredentialsConfig missing = f.config({1});
  missing.cert_file = f.dir.file("missing.crt");
  CHECK(blamed(missing) == "cert");
  CredentialsConfig not_provider = f.config({1});
  f.ca.save_pem(f.dir.file("ca.crt"));
  not_provider.cert_file = f.dir.file("ca.crt");  // a CA certificate, not a provider's
  CHECK(blamed(not_provider) == "cert");
}

}  // namespace
}  // namespace dmux::agent
