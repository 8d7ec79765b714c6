"""A router agent in Python with the C++ SDK's contract (docs/sdk.md): register with gateways and
keep the registrations alive (docs/protocol.md 9), accept only TUNNELs whose tag verifies and whose
counter is new (5.3), answer TOKEN_REQUESTs (15), hand the program packets of proven clients
(6.2), and send RETURNs with the client's rt to addresses the destination filter allows. One
thread: run() is a select loop; callbacks run in it. What the C++ SDK has and this does not: the
peer channel between routers, metrics and the control socket (status() is a dict), GSO batching."""
import hmac
import ipaddress
import secrets
import select
import socket
import struct
import time
from dataclasses import dataclass

from ipdmux import crypto, wire

WINDOW = 4096  # replay window per (key_id, gateway_id), as the reference agent keeps
SPECIAL = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")]


@dataclass
class Packet:
    client: tuple  # (ipv4 text, port) as the gateway saw it
    token: int
    gateway_id: int
    payload: bytes


class _Registration:
    """Section 9 for one gateway, driven by on_reply() and tick(); never blocks."""

    def __init__(self, router, gateway):
        self.r, self.gateway = router, gateway
        self.state, self.next_at, self.retry = "cookie", 0.0, 1.0
        self.nonce = self.x = self.ts = self.session = None
        self.last_ts = self.counter = 0
        self.last_ack = 0.0

    def tick(self, now):
        if now < self.next_at:
            return
        if self.session and now - self.last_ack > 3 * self.interval:
            self.r._retire(self.session["key_id"], now)
            self.session, self.state = None, "cookie"  # the gateway fell silent
        if self.session:
            self.counter += 1
            self.r.sock.sendto(wire.keepalive(self.session["k"], self.session["session_id"],
                                              self.counter), self.gateway)
            self.next_at = now + self.interval
            return
        self.nonce = secrets.randbits(64) | 1
        self.state = "cookie"
        self.r.sock.sendto(wire.cookie_request(self.nonce), self.gateway)
        self.next_at, self.retry = now + self.retry, min(self.retry * 2, 30.0)

    def on_reply(self, d, now):
        t = d[1]
        if t == wire.COOKIE and self.state == "cookie":
            c = wire.parse_cookie(d)
            if c["nonce"] != self.nonce:
                return
            self.x, self.state = crypto.X25519(), "register"
            self.ts = self.last_ts = max(int(time.time() * 1e6), self.last_ts + 1)
            ip, port = self.r.listen
            self.r.sock.sendto(wire.register(
                self.r.key, self.r.proto, port, self.r.provider_id, wire.ip(ip), c["gateway_id"],
                self.ts, c["cookie"], self.x.public, 0, self.r.der), self.gateway)
        elif t == wire.REGISTER_ACK and self.state == "register":
            self._accept(d, now)
        elif t == wire.KEEPALIVE_ACK and self.session:
            ack = wire.parse_keepalive_ack(d)
            if ack["session_id"] != self.session["session_id"]:
                return
            if ack["result"] == 1 or not hmac.compare_digest(
                    crypto.session_mac(self.session["k"], d[:28]), ack["mac"]):
                return  # a hint (unauthenticated) or forged: silence decides
            self.last_ack = now

    def _accept(self, d, now):
        ack = wire.parse_register_ack(d)
        if ack["result"] != 0 or ack["timestamp_us"] != self.ts:
            return
        shared = self.x.shared_secret(ack["session_key"])
        k = crypto.session_key(shared, ack["session_id"], self.ts)
        if not hmac.compare_digest(crypto.session_mac(k, d[:76]), ack["mac"]):
            return
        self.session = dict(session_id=ack["session_id"], key_id=ack["key_id"], k=k)
        self.r.keys[ack["key_id"]] = crypto.tunnel_key(shared, ack["session_id"], self.ts)
        self.interval = max(ack["keepalive_interval_ms"], 100) / 1000
        self.state, self.retry, self.counter, self.last_ack = "registered", 1.0, 0, now
        self.next_at = now + self.interval

    def stop(self):
        if self.session:
            self.counter += 1
            self.r.sock.sendto(wire.keepalive(self.session["k"], self.session["session_id"],
                                              self.counter, wire.DEREGISTER), self.gateway)


class Router:
    """`gateways`: registration endpoints [(host, port)]; `listen` (host, port) a specific
    address; `cert`, `key`: dmux-ca's PEM files; `allow`: special-purpose prefixes RETURNs may
    reach (e.g. ["198.18.0.0/15"]); `static_key`: 32 bytes for key_id 0."""

    def __init__(self, proto, listen, gateways, cert, key, provider_id, allow=(), static_key=None,
                 return_key_seed=None):
        self.proto, self.provider_id = proto, provider_id
        self.key = crypto.load_ed25519_private(key)
        self.der = crypto.pem_certificate_der(cert)
        self.k_r = (crypto.return_key(return_key_seed) if return_key_seed
                    else crypto.return_key_of_provider(self.key))
        self.allow = [ipaddress.ip_network(a) for a in allow]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(listen)
        self.listen = self.sock.getsockname()
        self.keys = {0: static_key} if static_key else {}
        self.retired = {}  # key_id -> forget at
        self.windows = {}  # (key_id, gateway_id) -> (highest, set of recent counters)
        self.registrations = [_Registration(self, g) for g in gateways]
        self.on_packet = None
        self.running = False
        self.counts = dict(packets=0, returns=0, token_offers=0, bad_tag=0, unknown_key=0,
                           replayed=0, unproven=0, malformed=0, forbidden_destination=0)

    def rt(self, client):
        return crypto.return_token(self.k_r, self.proto, self.provider_id, wire.ip(client[0]),
                                   client[1])

    def may_send(self, client):
        a = ipaddress.ip_address(client[0])
        special = any(a in n for n in SPECIAL) and not any(a in n for n in self.allow)
        return client[1] != 0 and not special

    def send(self, client, payload, flags=0, token=None):
        """A RETURN of `payload` to `client` with its rt; False if the filter refuses it."""
        if not self.may_send(client):
            self.counts["forbidden_destination"] += 1
            return False
        self.sock.sendto(wire.return_msg(self.proto, self.provider_id,
                                         self.rt(client) if token is None else token, payload,
                                         flags), client)
        self.counts["returns"] += 1
        return True

    def registered(self):
        return sum(1 for r in self.registrations if r.session)

    def status(self):
        return dict(self.counts, registrations=self.registered(), listen="%s:%d" % self.listen)

    def stop(self):
        self.running = False

    def run(self):
        self.running = True
        try:
            while self.running:
                now = time.monotonic()
                for r in self.registrations:
                    r.tick(now)
                for k, at in list(self.retired.items()):
                    if now >= at:
                        self.keys.pop(k, None), self.retired.pop(k)
                if select.select([self.sock], [], [], 0.05)[0]:
                    d, src = self.sock.recvfrom(65535)
                    self._on_datagram(d, time.monotonic())
        finally:
            for r in self.registrations:
                r.stop()

    def _retire(self, key_id, now):
        self.retired[key_id] = now + 10.0

    def _on_datagram(self, d, now):
        if len(d) >= 2 and d[0] == wire.VERSION and d[1] in (wire.COOKIE, wire.REGISTER_ACK,
                                                              wire.KEEPALIVE_ACK):
            for r in self.registrations:
                try:
                    r.on_reply(d, now)
                except ValueError:
                    self.counts["malformed"] += 1
            return
        try:
            t = wire.parse_tunnel(d)
        except ValueError:
            self.counts["malformed"] += 1
            return
        if not self._authentic(d, t):
            return
        client = (wire.ip_str(t["client_ipv4"]), t["client_port"])
        if t["proto_id"] != self.proto or t["provider_id"] not in (0, self.provider_id):
            self.counts["malformed"] += 1
        elif t["flags"] & wire.FLAG_CONTROL:
            self._answer_control(t, client)
        elif not hmac.compare_digest(struct.pack("!Q", t["token"]), struct.pack("!Q", self.rt(client))):
            self.counts["unproven"] += 1
        elif self.may_send(client):
            self.counts["packets"] += 1
            if self.on_packet:
                self.on_packet(Packet(client, t["token"], t["gateway_id"], t["payload"]))

    def _authentic(self, d, t):
        """5.3 steps 2-5: key, window precheck, tag in constant time, window update."""
        key = self.keys.get(t["key_id"])
        if key is None:
            self.counts["unknown_key"] += 1
            return False
        highest, seen = self.windows.get((t["key_id"], t["gateway_id"]), (0, set()))
        c = t["counter"]
        if c + WINDOW <= highest or c in seen:
            self.counts["replayed"] += 1
            return False
        zeroed = d[:wire.TUNNEL_TAG_OFFSET] + bytes(16) + d[wire.TUNNEL_HDR:]
        if not hmac.compare_digest(crypto.tunnel_tag(key, t["gateway_id"], c, zeroed), t["tag"]):
            self.counts["bad_tag"] += 1
            return False
        seen.add(c)
        highest = max(highest, c)
        seen = {s for s in seen if s + WINDOW > highest} if len(seen) > 2 * WINDOW else seen
        self.windows[(t["key_id"], t["gateway_id"])] = (highest, seen)
        return True

    def _answer_control(self, t, client):
        p = t["payload"]
        if len(p) != wire.TOKEN_REQUEST_LEN or p[0] != wire.TOKEN_REQUEST or not self.may_send(client):
            self.counts["malformed"] += 1
            return
        offer = wire.token_offer(self.rt(client), t["client_ipv4"], t["client_port"], 25)
        self.send(client, offer, flags=wire.FLAG_CONTROL, token=t["token"])
        self.counts["token_offers"] += 1
