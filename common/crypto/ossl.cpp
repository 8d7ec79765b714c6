#include "common/crypto/ossl.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/crypto/crypto.h"

namespace dmux::crypto::detail {

void OpensslFree::operator()(void* p) const noexcept { OPENSSL_free(p); }

void throw_openssl(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) throw CryptoError(what);
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  throw CryptoError(what + ": " + buf);
}

void throw_open_failed(const std::string& path) {
  const int saved = errno;
  ERR_clear_error();
  throw CryptoError("cannot open " + path + ": " + std::strerror(saved));
}

void clear_errors() noexcept { ERR_clear_error(); }

void fatal(const char* what) noexcept {
  std::fprintf(stderr, "dmux crypto: fatal: %s failed inside OpenSSL\n", what);
  std::abort();
}

const unsigned char* bytes_of(const void* data) noexcept {
  static const unsigned char kNothing = 0;
  return data != nullptr ? static_cast<const unsigned char*>(data) : &kNothing;
}

void write_file(const std::string& path, const std::string& data, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw CryptoError("cannot write " + path + ": " + std::strerror(errno));
  // An existing file keeps its old mode through O_CREAT; set it explicitly (keys must be 0600).
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t done = 0;
  while (ok && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  if (::close(fd) != 0) ok = false;
  if (!ok) throw CryptoError("cannot write " + path + ": " + std::strerror(saved));
}

}  // namespace dmux::crypto::detail
