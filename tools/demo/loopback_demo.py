#!/usr/bin/env python3
"""IPdmux on loopback: one real dmuxd, two test routers of two providers, three test clients.

Each client sends IPv6 packets in DATA datagrams to the gateway; the gateway picks a router and
re-tunnels them (TUNNEL); each router answers straight to the client (RETURN) with the client's
token, never through the gateway. The demo prints what went through, then dmuxctl's view.
"""
import argparse
import os
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from dmuxlib import DMUXCTL, Dmuxd, data_msg, free_udp_port, parse_tunnel  # noqa: E402

IPV6 = 1


def ipv6_packet(src, dst, payload):
    """A minimal IPv6 header + UDP-looking payload (next header 17), enough to show the bytes."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), 17, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


class TestRouter(threading.Thread):
    """Receives TUNNEL, answers each packet with a RETURN straight to the client."""

    def __init__(self, name, provider):
        super().__init__(daemon=True)
        self.name, self.provider = name, provider
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.endpoint = "%s:%d" % self.sock.getsockname()
        self.seen = []
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                d, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            t = parse_tunnel(d)
            self.seen.append(t)
            pkt = t["payload"]
            # Swap IPv6 source and destination: the "server" answers.
            reply = pkt[:8] + pkt[24:40] + pkt[8:24] + b"pong from " + self.name.encode()
            ret = struct.pack("!BBBBHHIQ", 1, 3, 20, 0, t["proto_id"], 0, self.provider,
                              t["token"]) + reply
            client = (socket.inet_ntoa(struct.pack("!I", t["client_ipv4"])), t["client_port"])
            self.sock.sendto(ret, client)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true",
                    help="leave dmuxd running afterwards for exploring with dmuxctl and curl")
    args = ap.parse_args()

    routers = [TestRouter("router-A", 7), TestRouter("router-B", 7), TestRouter("router-C", 9)]
    for r in routers:
        r.start()
    port = free_udp_port()
    conf = "".join(f"static-router = ipv6 {r.provider} {r.endpoint}\n" for r in routers)
    gw = Dmuxd(["--listen", f"127.0.0.1:{port}", "--gateway-id", "198.18.0.1",
                "--log-level", "warn"], config_text=conf)
    print(f"dmuxd up: DATA on 127.0.0.1:{port}, control {gw.control}, "
          f"metrics http://127.0.0.1:{gw.metrics_port}/metrics")
    for r in routers:
        print(f"  {r.name}: provider {r.provider}, listening on {r.endpoint}")
    print()

    clients = []
    for i, (addr, provider) in enumerate([("127.0.1.1", 0), ("127.0.1.2", 0), ("127.0.1.3", 9)]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.settimeout(1.0)
        clients.append((s, secrets.randbits(64), provider, f"2001:db8:c::{i + 1}"))

    ok = True
    print(f"{'client':<22}{'asks for':<12}{'gateway chose':<16}{'reply':<28}{'token ok'}")
    for s, token, provider, v6 in clients:
        for n in range(3):
            pkt = ipv6_packet(v6, "2001:db8:5::1", b"ping %d" % n)
            s.sendto(data_msg(IPV6, provider, token, pkt), ("127.0.0.1", port))
            try:
                d, src = s.recvfrom(65535)
            except socket.timeout:
                print(f"{'%s:%d' % s.getsockname():<22}no reply!")
                ok = False
                continue
            rtoken = struct.unpack("!Q", d[12:20])[0]
            chosen = next(r.name for r in routers if r.endpoint == "%s:%d" % src)
            text = d[20 + 40:].decode(errors="replace")
            print(f"{'%s:%d' % s.getsockname():<22}{'any' if provider == 0 else 'provider %d' % provider:<12}"
                  f"{chosen:<16}{text:<28}{'yes' if rtoken == token else 'NO'}")
            ok &= rtoken == token
    time.sleep(0.2)
    print()
    print("$ dmuxctl status")
    print(subprocess.run([DMUXCTL, "--socket", gw.control, "status"], capture_output=True,
                         text=True).stdout)
    print("$ dmuxctl routers")
    print(subprocess.run([DMUXCTL, "--socket", gw.control, "routers"], capture_output=True,
                         text=True).stdout)

    for r in routers:
        r.stop = True
    if args.keep:
        print(f"dmuxd (pid {gw.proc.pid}) keeps running. Explore:\n"
              f"  {DMUXCTL} --socket {gw.control} status --json\n"
              f"  curl -s http://127.0.0.1:{gw.metrics_port}/metrics | grep ^dmux_\n"
              f"Stop it with: kill {gw.proc.pid}")
        gw.log.close()
    else:
        gw.stop()
        print("dmuxd stopped (run with --keep to leave it running).")
    print("demo:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
