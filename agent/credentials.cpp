#include "agent/credentials.h"

#include <algorithm>

#include "common/util/config_error.h"
#include "common/util/log.h"
#include "common/wire/protocols.h"

namespace dmux::agent {
namespace {

std::string utc_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

crypto::Certificate load_certificate(const std::string& path) {
  try {
    return crypto::Certificate::load_pem(path);
  } catch (const crypto::CryptoError& e) {
    throw ConfigError(opt::kCert, e.what());
  }
}

crypto::SigningKey load_key(const std::string& path) {
  try {
    return crypto::SigningKey::load_pem(path);
  } catch (const crypto::CryptoError& e) {
    throw ConfigError(opt::kKey, e.what());
  }
}

void check_validity(const crypto::CertInfo& info, std::time_t now) {
  if (now < info.not_before) {
    throw ConfigError(
        opt::kCert, "not valid before " + utc_date(info.not_before) + " (check this host's clock)");
  }
  if (now > info.not_after) throw ConfigError(opt::kCert, "expired on " + utc_date(info.not_after));
  constexpr std::time_t kWeek = 7 * 24 * 3600;
  if (info.not_after - now < kWeek) {
    LOG_WARN("certificate %s expires on %s; issue a new one with dmux-ca", info.common_name.c_str(),
             utc_date(info.not_after).c_str());
  }
}

}  // namespace

Credentials load_credentials(const CredentialsConfig& config, std::time_t now) {
  const crypto::Certificate cert = load_certificate(config.cert_file);
  crypto::CertInfo info;
  try {
    info = cert.info();
  } catch (const crypto::CryptoError& e) {
    throw ConfigError(opt::kCert, config.cert_file + ": " + e.what());
  }
  if (info.role != crypto::Role::kProvider) {
    throw ConfigError(opt::kCert, config.cert_file + " is not a provider certificate");
  }
  check_validity(info, now);
  crypto::SigningKey key = load_key(config.key_file);
  if (key.public_key() != info.public_key) {
    throw ConfigError(opt::kKey, config.key_file + " is not the key of " + config.cert_file);
  }
  for (const std::uint16_t proto : config.protocols) {
    if (std::find(info.protocols.begin(), info.protocols.end(), proto) == info.protocols.end()) {
      throw ConfigError(config.protocol_option,
                        "the certificate of provider " + std::to_string(info.provider_id) +
                            " does not allow " + wire::protocol_name(proto));
    }
  }
  AgentSecrets secrets = load_secrets(config.agent, key);
  return Credentials{std::move(key), cert.der(), std::move(info), secrets};
}

}  // namespace dmux::agent
