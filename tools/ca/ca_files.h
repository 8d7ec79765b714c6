// The files dmux-ca reads and writes: the CA directory (ca.key, ca.crt, issued.log) and the
// key/certificate pairs it issues.
#pragma once

#include <stdexcept>
#include <string>

#include "common/crypto/crypto.h"

namespace dmux::ca {

// An operator-facing failure (a file exists, cannot be read, ...). main prints what() on one line
// and exits 1.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CaFiles {
  explicit CaFiles(const std::string& dir);
  std::string dir;
  std::string key;         // dir/ca.key: the CA's Ed25519 private key, mode 0600
  std::string cert;        // dir/ca.crt: the trust anchor every gateway is given
  std::string log;         // dir/issued.log: one line per certificate issued
  std::string revoked;     // dir/revoked: one line per revoked certificate, serial (hex) first
  std::string crl_number;  // dir/crlnumber: the number of the last CRL signed
};

struct LoadedCa {
  crypto::SigningKey key;
  crypto::Certificate cert;
};

// Creates `dir` (mode 0700) if missing. Throws ToolError if a CA is already there.
void prepare_new_ca_dir(const CaFiles& files);
// Reads ca.key and ca.crt. Throws ToolError (or CryptoError) naming the file.
LoadedCa load_ca(const CaFiles& files);
// Throws ToolError if `path` exists: dmux-ca never overwrites a key or certificate.
void refuse_existing(const std::string& path);
// Appends one line to issued.log (created mode 0600).
void append_issued_log(const CaFiles& files, const std::string& line);

}  // namespace dmux::ca
