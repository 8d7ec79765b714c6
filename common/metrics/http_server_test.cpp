#include "common/metrics/http_server.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/net/unique_fd.h"

using namespace dmux;

namespace {

net::UniqueFd connect_to(const net::Endpoint& ep) {
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in sa = ep.to_sockaddr();
  REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
  const timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string get(const net::Endpoint& ep, const std::string& request) {
  auto fd = connect_to(ep);
  REQUIRE(::send(fd.get(), request.data(), request.size(), 0) ==
          static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  return out;
}

}  // namespace

TEST_CASE("GET /metrics is answered; other paths, methods and garbage are refused") {
  const metrics::HttpServer::Render render = [] { return std::string("dmux_up 1\n"); };
  CHECK(metrics::http_response("GET /metrics HTTP/1.1\r\nHost: x", render).find("200 OK") !=
        std::string::npos);
  CHECK(metrics::http_response("GET /metrics HTTP/1.1", render).ends_with("dmux_up 1\n"));
  CHECK(metrics::http_response("GET /other HTTP/1.1", render).find("404") != std::string::npos);
  CHECK(metrics::http_response("POST /metrics HTTP/1.1", render).find("405") != std::string::npos);
  CHECK(metrics::http_response("\x16\x03\x01 garbage", render).find("400") != std::string::npos);
}

TEST_CASE("a scrape is served while many idle and slow clients hold connections") {
  metrics::HttpServer server(
      net::Endpoint{0x7f000001, 0}, [] { return std::string("x 1\n"); },
      metrics::HttpLimits{std::chrono::milliseconds(500), 8});
  std::vector<net::UniqueFd> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(connect_to(server.endpoint()));
    ::send(idle.back().get(), "GET /met", 8, 0);  // never finishes its request
  }
  const std::string r = get(server.endpoint(), "GET /metrics HTTP/1.0\r\n\r\n");
  CHECK(r.find("200 OK") != std::string::npos);
  CHECK(r.ends_with("x 1\n"));
}
