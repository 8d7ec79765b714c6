#!/usr/bin/env python3
"""IPdmux on loopback: one real dmuxd, three test routers of two providers, three test clients.

Protocol version 2 end to end (docs/protocol.md). Each router is a static router of the gateway
with its own tunnel key in a key file (`--static-router "PROTO PROVIDER ADDR:PORT KEYFILE"`), and
checks the tag of every TUNNEL under that key before looking at it (5.3). Each client first asks
for its return token (TOKEN_REQUEST through the gateway; the router answers with a TOKEN_OFFER
straight to the client, 15), then sends IPv6 packets in DATA datagrams carrying that token; the
gateway picks a router and re-tunnels them (TUNNEL); the router accepts only packets whose token
is the client's rt and answers straight to the client (RETURN with rt), never through the
gateway. The demo prints what went through, then dmuxctl's view.
"""
import argparse
import os
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "pylib"))
from ipdmux.gateway_harness import DMUXCTL, Dmuxd, data_msg, free_udp_port  # noqa: E402
from ipdmux import crypto, wire  # noqa: E402
from ipdmux.agent_lab import request_token  # noqa: E402
from ipdmux.gateway_router import BadTunnel, KeyedRouter  # noqa: E402

IPV6 = wire.IPV6
REFRESH_S = 25


def ipv6_packet(src, dst, payload):
    """A minimal IPv6 header + UDP-looking payload (next header 17), enough to show the bytes."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), 17, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


class TestRouter(threading.Thread):
    """A router of `provider` holding a static tunnel key: checks every TUNNEL's tag, answers
    TOKEN_REQUESTs with the client's rt, and answers each IPv6 packet from a client that shows
    its rt with a RETURN straight to the client."""

    def __init__(self, name, provider, return_key):
        super().__init__(daemon=True)
        self.name, self.provider, self.return_key = name, provider, return_key
        self.keyed = KeyedRouter("127.0.0.1")
        self.keyed.sock.settimeout(0.2)
        self.endpoint = self.keyed.endpoint
        self.counts = dict.fromkeys(("tunnels", "bad_tunnel", "token_offers", "unproven",
                                     "returned"), 0)
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                d, _ = self.keyed.sock.recvfrom(65535)
            except socket.timeout:
                continue
            try:
                t = self.keyed.check(d)  # tag under our key, fresh nonce: nothing before that
            except BadTunnel:
                self.counts["bad_tunnel"] += 1
                continue
            self.counts["tunnels"] += 1
            client = (wire.ip_str(t["client_ipv4"]), t["client_port"])
            rt = crypto.return_token(self.return_key, t["proto_id"], self.provider,
                                     t["client_ipv4"], t["client_port"])
            if t["flags"] & wire.FLAG_CONTROL:
                if t["payload"][:1] == bytes([wire.TOKEN_REQUEST]) and \
                        len(t["payload"]) == wire.TOKEN_REQUEST_LEN:
                    offer = wire.token_offer(rt, t["client_ipv4"], t["client_port"], REFRESH_S)
                    self.send(client, t["proto_id"], t["token"], offer, wire.FLAG_CONTROL)
                    self.counts["token_offers"] += 1
                continue
            if t["token"] != rt:
                self.counts["unproven"] += 1  # no rt, no answer (return routability)
                continue
            pkt = t["payload"]
            # Swap IPv6 source and destination: the "server" answers.
            reply = pkt[:8] + pkt[24:40] + pkt[8:24] + b"pong from " + self.name.encode()
            self.send(client, t["proto_id"], rt, reply)
            self.counts["returned"] += 1

    def send(self, client, proto, token, payload, flags=0):
        self.keyed.sock.sendto(wire.return_msg(proto, self.provider, token, payload, flags),
                               client)

    def close(self):
        self.stop = True
        self.join(timeout=2)
        self.keyed.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true",
                    help="leave dmuxd running afterwards for exploring with dmuxctl and curl")
    args = ap.parse_args()

    # Every router of a provider derives the same return key K_r (6.2).
    return_keys = {7: crypto.return_key(secrets.token_bytes(32)),
                   9: crypto.return_key(secrets.token_bytes(32))}
    routers = [TestRouter("router-A", 7, return_keys[7]), TestRouter("router-B", 7, return_keys[7]),
               TestRouter("router-C", 9, return_keys[9])]
    for r in routers:
        r.start()
    port = free_udp_port()
    conf = "".join(f"static-router = {r.keyed.static_router('ipv6', r.provider)}\n"
                   for r in routers)
    gw = Dmuxd(["--listen", f"127.0.0.1:{port}", "--gateway-id", "198.18.0.1",
                "--log-level", "warn"], config_text=conf)
    gateway = ("127.0.0.1", port)
    print(f"dmuxd up: DATA on 127.0.0.1:{port}, control {gw.control}, "
          f"metrics http://127.0.0.1:{gw.metrics_port}/metrics")
    for r in routers:
        print(f"  {r.name}: provider {r.provider}, listening on {r.endpoint}, "
              f"tunnel key {r.keyed.key_file}")
    print()

    ok = True
    clients = []
    for i, (addr, provider) in enumerate([("127.0.1.1", 0), ("127.0.1.2", 0), ("127.0.1.3", 9)]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.settimeout(1.0)
        try:
            rt, offer, _ = request_token(s, gateway, IPV6, provider)
        except TimeoutError:
            print(f"{'%s:%d' % s.getsockname():<22}no TOKEN_OFFER!")
            ok = False
            continue
        seen = (wire.ip_str(offer["client_ipv4"]), offer["client_port"])
        print(f"{'%s:%d' % s.getsockname():<22}return token {rt:016x} (gateway saw it as "
              f"{seen[0]}:{seen[1]})")
        ok &= seen == s.getsockname()
        clients.append((s, rt, provider, f"2001:db8:c::{i + 1}"))
    print()

    print(f"{'client':<22}{'asks for':<12}{'gateway chose':<16}{'reply':<28}{'rt ok'}")
    for s, rt, provider, v6 in clients:
        for n in range(3):
            pkt = ipv6_packet(v6, "2001:db8:5::1", b"ping %d" % n)
            s.sendto(data_msg(IPV6, provider, rt, pkt), gateway)
            try:
                d, src = s.recvfrom(65535)
            except socket.timeout:
                print(f"{'%s:%d' % s.getsockname():<22}no reply!")
                ok = False
                continue
            r = wire.parse_shim(d, wire.RETURN)
            chosen = next(x.name for x in routers if x.endpoint == "%s:%d" % src)
            text = r["payload"][40:].decode(errors="replace")
            print(f"{'%s:%d' % s.getsockname():<22}"
                  f"{'any' if provider == 0 else 'provider %d' % provider:<12}"
                  f"{chosen:<16}{text:<28}{'yes' if r['token'] == rt else 'NO'}")
            ok &= r["token"] == rt

    # A client that never asked for its token: the gateway forwards, the router stays silent.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.1.4", 0))
    s.settimeout(0.5)
    s.sendto(data_msg(IPV6, 0, secrets.randbits(64),
                      ipv6_packet("2001:db8:c::4", "2001:db8:5::1", b"guess")), gateway)
    try:
        s.recvfrom(65535)
        print("\na client with a made-up token got an answer!")
        ok = False
    except socket.timeout:
        print("\na client with a made-up token: tunnelled, but no router answered it")
    s.close()
    time.sleep(0.2)
    print()
    for r in routers:
        c = r.counts
        print(f"{r.name}: {c['tunnels']} TUNNELs with a valid tag ({c['bad_tunnel']} refused), "
              f"{c['token_offers']} token offers, {c['returned']} RETURNs, "
              f"{c['unproven']} dropped without rt")
        ok &= c["bad_tunnel"] == 0
    print()
    print("$ dmuxctl status")
    print(subprocess.run([DMUXCTL, "--socket", gw.control, "status"], capture_output=True,
                         text=True).stdout)
    print("$ dmuxctl routers")
    print(subprocess.run([DMUXCTL, "--socket", gw.control, "routers"], capture_output=True,
                         text=True).stdout)

    for s, *_ in clients:
        s.close()
    if args.keep:
        print(f"dmuxd (pid {gw.proc.pid}) keeps running. Explore:\n"
              f"  {DMUXCTL} --socket {gw.control} status --json\n"
              f"  curl -s http://127.0.0.1:{gw.metrics_port}/metrics | grep ^dmux_\n"
              f"Stop it with: kill {gw.proc.pid}")
        gw.log.close()
    else:
        gw.stop()
        print("dmuxd stopped (run with --keep to leave it running).")
    for r in routers:
        r.close()
    print("demo:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
