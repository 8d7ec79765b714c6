#include "common/control/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "common/control/socket_group.h"
#include "common/util/log.h"

namespace dmux::control {
namespace {

constexpr std::size_t kMaxCommandBytes = 4096;

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

}  // namespace

ControlServer::ControlServer(evloop::EventLoop& loop, std::string path, Handler handler,
                             ControlOptions limits)
    : loop_(loop),
      path_(std::move(path)),
      handler_(std::move(handler)),
      limits_(limits),
      sweeper_(loop, [this] { sweep(); }) {
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
  if (!limits_.group.empty()) give_socket_to_group(path_, limits_.group);
  accept_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, listen_fd_.get(), [this] { on_accept(); });
  sweeper_.start_periodic(std::chrono::milliseconds(250));
}

ControlServer::~ControlServer() {
  accept_watcher_.reset();
  connections_.clear();
  ::unlink(path_.c_str());
}

void ControlServer::close_oldest() noexcept {
  auto oldest = connections_.begin();
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->second.opened < oldest->second.opened) oldest = it;
  }
  if (oldest != connections_.end()) connections_.erase(oldest);
}

void ControlServer::on_accept() noexcept {
  for (int i = 0; i < 16; ++i) {
    net::UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;
    try {
      if (connections_.size() >= limits_.max_connections) close_oldest();
      const int raw = fd.get();
      auto& c = connections_[raw];
      c.fd = std::move(fd);
      c.opened = Clock::now();
      c.watcher = std::make_unique<evloop::IoWatcher>(
          loop_, raw, [this, raw] { on_readable(raw); }, [this, raw] { on_writable(raw); });
    } catch (const std::exception& e) {
      LOG_WARN("control: cannot take a connection: %s", e.what());
    }
  }
}

void ControlServer::on_readable(int fd) noexcept {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  if (!c.out.empty()) return;  // answered; waiting for the client to read
  char buf[512];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) c.in.append(buf, static_cast<std::size_t>(n));
  const auto nl = c.in.find('\n');
  if (nl != std::string::npos || n == 0) {
    const std::string line = c.in.substr(0, nl == std::string::npos ? c.in.size() : nl);
    respond(c, line);
    if (!c.out.empty() && !flush(c)) {
      c.watcher->want_write(true);
      return;
    }
  } else if (c.in.size() <= kMaxCommandBytes && n > 0) {
    return;  // wait for the rest of the line
  }
  connections_.erase(it);
}

void ControlServer::on_writable(int fd) noexcept {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  if (flush(it->second)) connections_.erase(it);
}

bool ControlServer::flush(Connection& c) noexcept {
  while (c.out_pos < c.out.size()) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n <= 0) return true;  // the client went away
    c.out_pos += static_cast<std::size_t>(n);
  }
  return true;
}

void ControlServer::sweep() noexcept {
  const auto now = Clock::now();
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (now - it->second.opened > limits_.idle_timeout) {
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void ControlServer::respond(Connection& c, std::string_view line) noexcept {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return;
  try {
    c.out = handler_(line);
  } catch (const std::exception& e) {
    LOG_WARN("control: command '%.*s' failed: %s", static_cast<int>(line.size()), line.data(),
             e.what());
    c.out = std::string("{\"error\":\"internal error\"}");
  }
  c.out.push_back('\n');
}

}  // namespace dmux::control
