#include "common/metrics/http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>

#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "common/util/log.h"

namespace dmux::metrics {
namespace {

constexpr std::size_t kMaxRequest = 8192;
using Clock = std::chrono::steady_clock;

std::string reply(std::string_view status, std::string_view type, std::string_view body) {
  std::string r = "HTTP/1.1 ";
  r += status;
  r += "\r\nContent-Type: ";
  r += type;
  r += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

}  // namespace

std::string http_response(std::string_view head, const HttpServer::Render& render) {
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0) {
    return reply("400 Bad Request", "text/plain", "bad request\n");
  }
  const auto method = line.substr(0, sp1);
  auto path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  if (method != "GET" && method != "HEAD") {
    return reply("405 Method Not Allowed", "text/plain", "only GET\n");
  }
  if (path != "/metrics" && path != "/")
    return reply("404 Not Found", "text/plain", "try /metrics\n");
  std::string body;
  try {
    body = render();
  } catch (const std::exception& e) {
    return reply("500 Internal Server Error", "text/plain", std::string(e.what()) + "\n");
  }
  std::string r = reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", body);
  if (method == "HEAD") r.resize(r.size() - body.size());
  return r;
}

struct HttpServer::Impl {
  struct Connection {
    net::UniqueFd fd;
    std::string in, out;
    std::size_t out_pos = 0;
    Clock::time_point opened;
    std::unique_ptr<evloop::IoWatcher> watcher;
  };

  Render render;
  HttpLimits limits;
  evloop::EventLoop loop;
  net::UniqueFd listen_fd;
  std::unique_ptr<evloop::IoWatcher> accept_watcher;
  std::map<int, Connection> connections;
  evloop::Timer sweeper{loop, [this] { sweep(); }};

  void on_accept() noexcept {
    for (int i = 0; i < 16; ++i) {
      net::UniqueFd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) return;
      try {
        if (connections.size() >= limits.max_connections) close_oldest();
        const int raw = fd.get();
        auto& c = connections[raw];
        c.fd = std::move(fd);
        c.opened = Clock::now();
        c.watcher = std::make_unique<evloop::IoWatcher>(
            loop, raw, [this, raw] { on_readable(raw); }, [this, raw] { on_writable(raw); });
      } catch (const std::exception&) {
        return;
      }
    }
  }

  void close_oldest() noexcept {
    auto oldest = connections.begin();
    for (auto it = connections.begin(); it != connections.end(); ++it) {
      if (it->second.opened < oldest->second.opened) oldest = it;
    }
    if (oldest != connections.end()) connections.erase(oldest);
  }

  void on_readable(int fd) noexcept {
    auto it = connections.find(fd);
    if (it == connections.end() || !it->second.out.empty()) return;
    Connection& c = it->second;
    char buf[2048];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      connections.erase(it);
      return;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    const auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.in.size() > kMaxRequest) connections.erase(it);
      return;
    }
    try {
      c.out = http_response(std::string_view(c.in).substr(0, end), render);
    } catch (const std::exception&) {
      connections.erase(it);
      return;
    }
    if (flush(c)) {
      connections.erase(it);
    } else {
      c.watcher->want_write(true);
    }
  }

  void on_writable(int fd) noexcept {
    auto it = connections.find(fd);
    if (it != connections.end() && flush(it->second)) connections.erase(it);
  }

  static bool flush(Connection& c) noexcept {
    while (c.out_pos < c.out.size()) {
      const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
      if (n <= 0) return true;
      c.out_pos += static_cast<std::size_t>(n);
    }
    return true;
  }

  void sweep() noexcept {
    const auto now = Clock::now();
    for (auto it = connections.begin(); it != connections.end();) {
      it = now - it->second.opened > limits.request_timeout ? connections.erase(it) : std::next(it);
    }
  }
};

HttpServer::HttpServer(const net::Endpoint& listen, Render render, HttpLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->render = std::move(render);
  impl_->limits = limits;
  impl_->listen_fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(impl_->listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in sa = listen.to_sockaddr();
  if (!impl_->listen_fd.valid() ||
      ::bind(impl_->listen_fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(impl_->listen_fd.get(), 64) != 0) {
    throw std::runtime_error("metrics endpoint " + listen.to_string() + ": " +
                             std::strerror(errno));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(impl_->listen_fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  bound_ = net::Endpoint::from_sockaddr(bound);
  Impl* impl = impl_.get();
  impl->accept_watcher = std::make_unique<evloop::IoWatcher>(impl->loop, impl->listen_fd.get(),
                                                             [impl] { impl->on_accept(); });
  impl->sweeper.start_periodic(std::chrono::milliseconds(250));
  thread_ = std::thread([impl] { impl->loop.run(); });
}

HttpServer::~HttpServer() {
  impl_->loop.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace dmux::metrics
