#!/usr/bin/python3
"""Round-trip time and throughput of the rendezvous path against unicast IPv6 over the same
namespaces, measured in the same run (needs root; run only one bench at a time on the 2-core VM).

    c1 --+                      +-- r1 (rendezvous-router)
         +-- gw (dmuxd; also the IPv6 router between c1 and c2)
    c2 --+                      +-- r2 (rendezvous-router)

  rendezvous: c1 -DATA-> gw -TUNNEL-> r1 -RETURN-> c2 (c1 hashes to r1, c2 to r2; r1 knows c2's
              trigger from r2), and back the same way to c1's trigger;
  reference:  the same two hosts over native IPv6, routed by the gw namespace's kernel.

Both sides of both paths are the same Python program (UDP sockets), so the ratio shows what the
rendezvous path adds: the gateway's and the router's user-space hops and their headers. Every
process runs pinned to one CPU (taskset), as the BRIEF asks for latency figures. Prints medians
(and p90) of --pings round trips and the delivered rate of a --seconds blast of --size-byte
messages, each as a ratio to IPv6. Cleans up everything it made, also on failure."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux.agent_lab import LAB_ALLOWED, Lab, sh, unix_request, wait_for  # noqa: E402
from ipdmux.gateway_harness import rendezvous_choice  # noqa: E402

GW_IP, DATA, REG, RPORT = "198.18.0.1", 4500, 4501, 5000
ROUTERS = {"r1": ("198.18.6.1", "198.18.6.2"), "r2": ("198.18.7.1", "198.18.7.2")}
SUBNETS = {"c1": ("198.18.31", "2001:db8:31::"), "c2": ("198.18.32", "2001:db8:32::")}
WANTED = {"c1": "r1", "c2": "r2"}

# One program for both paths: `rv` speaks rendezvous through the SDK client helper, `v6` plain
# UDP over IPv6. Roles: `echo` returns every message to the peer; `ping` measures round trips,
# `blast` sends for a while; `sink` counts. Prints one JSON line.
PEER = r"""
import json, os, socket, sys, time
sys.path.insert(0, os.path.join(sys.argv[1], "examples", "rendezvous"))
mode, role, arg = sys.argv[2], sys.argv[3], sys.argv[4:]
if mode == "rv":
    from rv_client import INSERT, RendezvousClient, DELIVER, trigger_id
    me, peer = trigger_id(arg[0]), trigger_id(arg[1])
    c = RendezvousClient((arg[2], int(arg[3])))
    assert c.trigger(me, INSERT, 600)[0] == "inserted"
    def send(b): c.send(peer, b)
    def recv(t):
        m = c.next(t)
        return m[2] if m and m[0] == DELIVER else None
    rest = arg[4:]
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", 7000))
    dst = (arg[0], 7000)
    def send(b): s.sendto(b, dst)
    def recv(t):
        s.settimeout(t)
        try: return s.recv(65535)
        except socket.timeout: return None
    rest = arg[1:]
print("ready", flush=True)
if role == "echo":
    while True:
        b = recv(1.0)
        if b is not None: send(b)
elif role == "ping":
    n, size, rtts = int(rest[0]), int(rest[1]), []
    for i in range(n):
        t0 = time.perf_counter(); send(i.to_bytes(4, "big") + bytes(size - 4))
        while True:
            b = recv(1.0)
            if b is None or int.from_bytes(b[:4], "big") == i: break
        if b is not None: rtts.append((time.perf_counter() - t0) * 1e6)
    print(json.dumps({"rtt_us": rtts, "lost": n - len(rtts)}), flush=True)
elif role == "sink":
    got, first, last = 0, None, None
    while True:
        b = recv(3.0 if got else 30.0)
        if b is None: break
        now = time.perf_counter(); first = first or now; last = now; got += 1
    print(json.dumps({"received": got, "seconds": (last - first) if got > 1 else 0}), flush=True)
elif role == "blast":
    seconds, size, sent = float(rest[0]), int(rest[1]), 0
    payload, end = bytes(size), time.perf_counter() + seconds
    while time.perf_counter() < end:
        send(payload); sent += 1
    print(json.dumps({"sent": sent}), flush=True)
"""


def client_address(c):
    routers = {n: (a, RPORT) for n, (_, a) in ROUTERS.items()}
    for host in range(2, 255):
        ip = f"{SUBNETS[c][0]}.{host}"
        if rendezvous_choice(ip, routers, 7) == WANTED[c]:
            return ip
    raise RuntimeError("no address")


class Bench:
    def __init__(self, build, cpu):
        self.build, self.cpu = build, cpu
        self.ips = {c: client_address(c) for c in SUBNETS}
        self.lab = Lab(f"dmuxrvb-{os.getpid()}-", ("gw", "r1", "r2", "c1", "c2"))

    def pin(self, cmd):
        pinned = ["taskset", "-c", str(self.cpu)] if self.cpu >= 0 else []
        return pinned + [str(c) for c in cmd]

    def up(self):
        lab = self.lab
        lab.run("gw", "ip", "addr", "add", f"{GW_IP}/32", "dev", "lo")
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        lab.run("gw", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        for r, (gw_side, addr) in ROUTERS.items():
            lab.link(r, "eth0", f"{addr}/24", "gw", f"to{r}", f"{gw_side}/24")
            lab.run(r, "ip", "route", "add", "default", "via", gw_side)
        for c, (v4, v6) in SUBNETS.items():
            lab.link(c, "eth0", f"{self.ips[c]}/24", "gw", f"to{c}", f"{v4}.1/24")
            lab.run(c, "ip", "route", "add", "default", "via", f"{v4}.1")
            lab.run("gw", "ip", "-6", "addr", "add", f"{v6}1/64", "dev", f"to{c}", "nodad")
            lab.run(c, "ip", "-6", "addr", "add", f"{v6}2/64", "dev", "eth0", "nodad")
            lab.run(c, "ip", "-6", "route", "add", "default", "via", f"{v6}1")
        ca, cert, key = lab.credentials(7, "0x8001")
        peer_key = lab.path("peer.key")
        with open(peer_key, "w") as f:
            f.write(os.urandom(32).hex())
        lab.spawn("dmuxd", "gw", self.pin([
            os.path.join(self.build, "gateway", "dmuxd"), "--listen", f"{GW_IP}:{DATA}",
            "--workers", "1", "--registration-listen", f"{GW_IP}:{REG}", "--ca-cert", ca,
            "--control-socket", lab.path("dmuxd.sock"), "--metrics-listen", "off"]))
        router = os.path.join(self.build, "examples", "rendezvous", "rendezvous-router")
        for r in ROUTERS:
            other = [o for o in ROUTERS if o != r][0]
            lab.spawn(r, r, self.pin([
                router, "--gateway", f"{GW_IP}:{REG}", "--listen", f"{ROUTERS[r][1]}:{RPORT}",
                "--cert", cert, "--key", key, "--peer", f"{ROUTERS[other][1]}:{RPORT}",
                "--peer-key", peer_key, "--allow", LAB_ALLOWED, "--control", lab.path(f"{r}.sock")]))

        def ready(r):
            try:
                s = unix_request(lab.path(f"{r}.sock"), "status")
                return s["registrations"][0]["state"] == "registered" and s["peers"][0]["alive"]
            except (OSError, ValueError, KeyError, IndexError):
                return False
        if not wait_for(lambda: all(ready(r) for r in ROUTERS), 15):
            raise RuntimeError("routers not up:\n" + lab.logs())
        time.sleep(1.0)  # IPv6 neighbours and routes settle

    def peer(self, name, c, mode, role, *args):
        p = self.lab.spawn(name, c, self.pin(["/usr/bin/python3", "-u", "-c", PEER, REPO, mode, role,
                                              *args]))
        if not wait_for(lambda: "ready" in p.read_log() or not p.alive(), 10):
            raise RuntimeError(p.read_log())
        return p

    def args(self, mode, me, other):
        if mode == "rv":
            return [me, other, GW_IP, DATA]
        return [SUBNETS[other][1] + "2"]

    def result(self, p, timeout=120):
        wait_for(lambda: not p.alive(), timeout)
        lines = [l for l in p.read_log().splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(p.read_log())
        return json.loads(lines[-1])

    def rtt(self, mode, pings, size):
        echo = self.peer(f"echo-{mode}", "c2", mode, "echo", *self.args(mode, "c2", "c1"))
        ping = self.peer(f"ping-{mode}", "c1", mode, "ping", *self.args(mode, "c1", "c2"), pings,
                         size)
        r = self.result(ping)
        echo.stop()
        return r

    def throughput(self, mode, seconds, size):
        sink = self.peer(f"sink-{mode}", "c2", mode, "sink", *self.args(mode, "c2", "c1"))
        blast = self.peer(f"blast-{mode}", "c1", mode, "blast", *self.args(mode, "c1", "c2"),
                          seconds, size)
        sent = self.result(blast)["sent"]
        got = self.result(sink, timeout=30)
        return sent, got

    def close(self):
        self.lab.close()


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--build-dir", default=os.environ.get("DMUX_BUILD_DIR", os.path.join(REPO, "build")))
    a.add_argument("--pings", type=int, default=2000)
    a.add_argument("--size", type=int, default=64, help="message bytes (round trips)")
    a.add_argument("--blast-size", type=int, default=1000, help="message bytes (throughput)")
    a.add_argument("--seconds", type=float, default=3.0)
    a.add_argument("--cpu", type=int, default=1, help="the CPU every process is pinned to (-1: not pinned)")
    o = a.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py: needs root (network namespaces)")
    b = Bench(o.build_dir, o.cpu)
    try:
        b.up()
        res = {}
        for mode in ("v6", "rv"):
            r = b.rtt(mode, o.pings, o.size)
            s = sorted(r["rtt_us"])
            sent, got = b.throughput(mode, o.seconds, o.blast_size)
            res[mode] = dict(median=statistics.median(s), p90=s[int(0.9 * (len(s) - 1))],
                             lost=r["lost"], sent=sent, received=got["received"],
                             rate=got["received"] / got["seconds"] if got["seconds"] else 0.0)
        v6, rv = res["v6"], res["rv"]
        print(f"{'pinned to CPU %d' % o.cpu if o.cpu >= 0 else 'not pinned'}; {o.pings} round trips of {o.size} B; "
              f"{o.seconds:.0f} s blast of {o.blast_size} B messages")
        print(f"{'path':<28}{'RTT median':>12}{'p90':>10}{'lost':>6}{'delivered/s':>13}{'loss':>8}")
        for name, r in (("unicast IPv6 (reference)", v6), ("rendezvous (gw + router)", rv)):
            loss = 1 - r["received"] / r["sent"] if r["sent"] else 0
            print(f"{name:<28}{r['median']:>10.1f}us{r['p90']:>8.1f}us{r['lost']:>6}"
                  f"{r['rate']:>13.0f}{loss:>8.1%}")
        print(f"ratio rendezvous/IPv6: RTT x{rv['median'] / v6['median']:.2f} (median), "
              f"throughput x{rv['rate'] / v6['rate']:.2f}" if v6["rate"] else "")
    finally:
        b.close()


if __name__ == "__main__":
    main()
