#include "common/control/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "common/util/log.h"

namespace dmux::control {
namespace {

constexpr std::size_t kMaxCommandBytes = 4096;
constexpr std::size_t kMaxConnections = 32;

sockaddr_un make_addr(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("control socket path too long");
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

bool someone_listening(const sockaddr_un& sa) {
  net::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
}

void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away, or is too slow (SO_SNDTIMEO): give up
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

ControlServer::ControlServer(evloop::EventLoop& loop, std::string path, Handler handler)
    : loop_(loop), path_(std::move(path)), handler_(std::move(handler)) {
  const sockaddr_un sa = make_addr(path_);
  const auto dir = std::filesystem::path(path_).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  if (std::filesystem::exists(path_)) {
    if (someone_listening(sa)) {
      throw std::runtime_error("control socket " + path_ + " is in use by another process");
    }
    ::unlink(path_.c_str());
  }
  listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid() ||
      ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listen_fd_.get(), 16) != 0) {
    throw std::system_error(errno, std::generic_category(), "control socket " + path_);
  }
  ::chmod(path_.c_str(), 0660);
  accept_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, listen_fd_.get(), [this] { on_accept(); });
}

ControlServer::~ControlServer() {
  accept_watcher_.reset();
  connections_.clear();
  ::unlink(path_.c_str());
}

void ControlServer::on_accept() noexcept {
  net::UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!fd.valid()) return;
  if (connections_.size() >= kMaxConnections) return;  // closes it
  const timeval send_timeout{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  const int raw = fd.get();
  auto& c = connections_[raw];
  c.fd = std::move(fd);
  c.watcher = std::make_unique<evloop::IoWatcher>(loop_, raw, [this, raw] { on_data(raw); });
}

void ControlServer::on_data(int fd) noexcept {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  char buf[512];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) c.buffer.append(buf, static_cast<std::size_t>(n));
  const auto nl = c.buffer.find('\n');
  if (nl != std::string::npos || n == 0) {
    respond(c,
            std::string_view(c.buffer).substr(0, nl == std::string::npos ? c.buffer.size() : nl));
  } else if (c.buffer.size() <= kMaxCommandBytes && n > 0) {
    return;  // wait for the rest of the line
  }
  connections_.erase(it);
}

void ControlServer::respond(Connection& c, std::string_view line) noexcept {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return;
  std::string reply;
  try {
    reply = handler_(line);
  } catch (const std::exception& e) {
    LOG_WARN("control: command '%.*s' failed: %s", static_cast<int>(line.size()), line.data(),
             e.what());
    reply = std::string("{\"error\":\"internal error\"}");
  }
  reply.push_back('\n');
  const int fd = c.fd.get();
  // The reply is small; with the socket set blocking and a send timeout, a stuck client costs
  // the control thread at most a second.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  write_all(fd, reply);
}

}  // namespace dmux::control
