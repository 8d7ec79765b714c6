#!/usr/bin/env python3
"""bench/multicast: dmux-mcast fan-out throughput and multicast ping RTT, each next to a unicast
reference through the same gateway, measured in the same run (needs root).

    snd  198.18.20.x --+                        +-- r1 198.18.2.2 (dmux-mcast :5000,
    m01  198.18.21.x --+                        |      dmux-provider :5001, 2001:db8:2::2)
    ...                +-- gw (dmuxd) ----------+        | peers (IPv4 and IPv6 through gw)
    m16  198.18.36.x --+   198.18.0.1:4500/4501 +-- r2 198.18.3.2 (the same, 2001:db8:3::2)

Every client is an IPv4-only namespace running the real dmux-client with --capture ipv4-multicast;
snd, m01 and m02 also capture ipv6 (addresses from the provider's offer, in 2001:db8:7::/48).
Client addresses are chosen so that dmuxd's rendezvous hashing (protocol.md 8) pins snd and the
odd receivers to r1, the even receivers to r2, for both protocols.

Fan-out: one UDP sender in snd (64-byte payloads) at a ladder of offered rates, N = 1, 4, 16
member sockets (m01..mN: N=1 on r1 only, the same path as the reference; N=4 2+2; N=16 8+8, so
the r1 -> r2 exchange carries half the members). Per N the point of the ladder with the highest
total delivered rate is reported, and the best point with loss below 1%. Reference: the same
sender to one receiver (m01) over unicast IPv6/UDP through the same gateway and router r1
(dmux-provider). Ratios: total delivered at N / reference. CPU time per component and the packet
counters of every stage (dmux-client, dmuxd, routers) are recorded per point (--json).

RTT: tools/mping/mping.py between snd (r1) and m02 (r2), against ping -6 between the same two
clients through IPdmux; for the unicast probes host routes send r1 -> gw -> r2 (and back), so they
cross the same router-to-router hop the multicast exchange does. A third series, a Python UDP echo
over the same unicast path, separates the cost of mping's user-space echoer from that of the
overlay. Rounds alternate.

Exit status: 0; 1 if some series delivered nothing or any duplicate arrived; 2 bad environment;
130 interrupted. Everything it creates (namespaces dmuxb-<pid>-*, processes, temp directory; the
iptables chains and TUN devices live in those namespaces) is removed on exit, Ctrl-C or SIGTERM.

Usage: sudo bench/multicast/run.py [--quick] [--build-dir build] [--json FILE] [--verbose]
"""
import argparse
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux.stats import percentile  # noqa: E402  (path set just above)
MPING = os.path.join(REPO, "tools", "mping", "mping.py")

MAGIC = b"DMXB"
HDR = struct.Struct("!IQ")  # after MAGIC: run id, sequence number
PAYLOAD = 64  # UDP payload bytes of every fan-out datagram

# ---- helpers run inside the namespaces (same file, hidden sub-commands) -------------------------


def helper_recv(family, group, port):
    """A member socket counting datagrams per run; answers `report RUN` lines on stdin with one
    JSON line: unique, dups, first/last arrival (monotonic)."""
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: we are root
    if family == 4:
        s.bind((group, port))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
    else:
        s.bind(("::", port))
    runs = {}  # run -> [bitmap, unique, dups, first, last]

    def reporter():
        for line in sys.stdin:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "report":
                st = runs.get(int(parts[1]))
                out = ({"unique": st[1], "dups": st[2], "first": st[3], "last": st[4]} if st
                       else {"unique": 0, "dups": 0, "first": None, "last": None})
                print(json.dumps(out), flush=True)
        os._exit(0)  # stdin closed: the bench is done with us

    threading.Thread(target=reporter, daemon=True).start()
    print("ready", flush=True)
    buf = bytearray(2048)
    view = memoryview(buf)
    while True:
        n = s.recv_into(buf)
        if n < 4 + HDR.size or view[:4] != MAGIC:
            continue
        run, seq = HDR.unpack_from(buf, 4)
        now = time.monotonic()
        st = runs.get(run)
        if st is None:
            st = runs[run] = [bytearray(1 << 16), 0, 0, now, now]
        bm = st[0]
        if seq >= len(bm):
            if seq > 1 << 28:
                continue  # not ours
            bm.extend(bytes(max(seq + 1 - len(bm), len(bm))))
        if bm[seq]:
            st[2] += 1
        else:
            bm[seq] = 1
            st[1] += 1
        st[4] = now


def helper_send(family, dest, port, rate, seconds, run):
    """An ordinary UDP sender: `rate` datagrams/s (0: as fast as it can) for `seconds`; prints
    one JSON line: sent, errors, seconds."""
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if family == 4:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.connect((dest, port))  # as iperf does (dmux-client captures connected senders too)
    payload = bytearray(PAYLOAD)
    payload[:4] = MAGIC
    send, pack = s.send, HDR.pack_into
    seq = errors = 0
    start = time.monotonic()
    end = start + seconds
    now = start
    while now < end:
        target = int((now - start) * rate) if rate else seq + 64
        target = min(target, seq + 512)
        while seq < target:
            pack(payload, 4, run, seq)
            seq += 1
            try:
                send(payload)
            except OSError:  # ENOBUFS and the like: not offered
                errors += 1
        if rate:
            time.sleep(0.0005)
        now = time.monotonic()
    t = os.times()
    print(json.dumps({"sent": seq - errors, "errors": errors, "seconds": now - start,
                      "cpu": t.user + t.system}), flush=True)


def helper_uecho(port):
    """A unicast IPv6 UDP echo in Python: the user-space counterpart of `mping.py echo`."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", port))
    print("ready", flush=True)
    while True:
        data, src = s.recvfrom(2048)
        s.sendto(data, src)


def helper_uping(dest, port, count, interval):
    """Probes `dest` like `mping.py ping` does a group (same probe size, same output lines)."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.connect((dest, port))
    pad = bytes(PAYLOAD - 4 - HDR.size)
    run, seen, dups = secrets.randbits(32), set(), 0
    start = time.monotonic()
    for seq in range(count + 1):
        due = start + seq * interval + (1.0 if seq == count else 0.0)  # 1 s for the last
        while True:
            wait = due - time.monotonic()
            if wait <= 0:
                break
            s.settimeout(wait)
            try:
                data = s.recv(2048)
            except socket.timeout:
                break
            now = time.monotonic_ns()
            if data[:4] != MAGIC or len(data) < 4 + HDR.size:
                continue
            r, sent = HDR.unpack_from(data, 4)
            seqno = int.from_bytes(data[16:20], "big")
            if r != run:
                continue
            if seqno in seen:
                dups += 1
                continue
            seen.add(seqno)
            print(f"reply seq={seqno} rtt={(now - sent) / 1e6:.3f} ms", flush=True)
        if seq < count:
            s.send(MAGIC + HDR.pack(run, time.monotonic_ns()) + seq.to_bytes(4, "big") + pad[4:])
    print(f"{count} sent, {len(seen)} received, {dups} duplicates", flush=True)


def run_helper(argv):
    try:
        if argv[0] == "_recv":
            helper_recv(int(argv[1]), argv[2], int(argv[3]))
        elif argv[0] == "_send":
            helper_send(int(argv[1]), argv[2], int(argv[3]), float(argv[4]), float(argv[5]),
                        int(argv[6]))
        elif argv[0] == "_uecho":
            helper_uecho(int(argv[1]))
        else:
            helper_uping(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    return 0


# ---- topology ---------------------------------------------------------------------------------

PREFIX = f"dmuxb-{os.getpid()}-"
GW_IP = "198.18.0.1"
DATA_PORT, REG_PORT, MCAST_PORT, V6_PORT = 4500, 4501, 5000, 5001
# router: (gw side v4, router v4, gw side v6, router v6)
ROUTERS = {"r1": ("198.18.2.1", "198.18.2.2", "2001:db8:2::1", "2001:db8:2::2"),
           "r2": ("198.18.3.1", "198.18.3.2", "2001:db8:3::1", "2001:db8:3::2")}
CLIENT_PREFIX = "2001:db8:7::/48"
PROVIDER_ID = 7
APP_PORT = 9500  # fan-out datagrams
GROUP_OF_N = "239.77.0.{}"  # one group per N, so a lingering membership never counts twice
RTT_A, RTT_B, MPING_PORT = "239.77.1.1", "239.77.1.2", 9400
V6_CLIENTS = ("snd", "m01", "m02")  # capture ipv6 too (unicast reference and ping -6)
RTT_PAIR = ("snd", "m02")  # r1 and r2

FLOOR_PPS = 10000  # a sweep starts at the first rate giving at least this many deliveries/s
LOSSLESS = 0.01  # "lossless" point: loss below this

def router_for(client_ip, port):
    """The router dmuxd picks (protocol.md 8) among ROUTERS registered on `port`."""
    from ipdmux.gateway_harness import rendezvous_choice  # tests/pylib is on sys.path
    return rendezvous_choice(client_ip, {n: (r[1], port) for n, r in ROUTERS.items()},
                             PROVIDER_ID)




class Bench:
    def __init__(self, args, lib):
        self.args, self.lib = args, lib
        b = args.build_dir
        self.bin = {"dmuxd": os.path.join(b, "gateway", "dmuxd"),
                    "mcast": os.path.join(b, "multicast", "dmux-mcast"),
                    "provider": os.path.join(b, "provider", "dmux-provider"),
                    "client": os.path.join(b, "client", "dmux-client"),
                    "ca": os.path.join(b, "tools", "ca", "dmux-ca")}
        for path in self.bin.values():
            if not os.access(path, os.X_OK):
                raise SystemExit(f"bench/multicast: {path} is not built (--build-dir)")
        nrecv = max(args.sizes)
        self.receivers = [f"m{i:02d}" for i in range(1, nrecv + 1)]
        self.clients = ["snd"] + self.receivers
        self.wanted = {"snd": "r1"}
        for i, m in enumerate(self.receivers):
            self.wanted[m] = "r1" if i % 2 == 0 else "r2"  # m01 r1, m02 r2, ...
        self.subnet = {c: f"198.18.{20 + i}" for i, c in enumerate(self.clients)}
        self.ip = {c: self.pick_address(c) for c in self.clients}
        self.ns = {role: PREFIX + role for role in ["gw", "r1", "r2"] + self.clients}
        self.dir = None
        self.procs, self.helpers = {}, []
        self.made_ns = []

    def pick_address(self, c):
        for host in range(2, 255):
            ip = f"{self.subnet[c]}.{host}"
            if router_for(ip, MCAST_PORT) == self.wanted[c] == router_for(ip, V6_PORT):
                return ip
        raise RuntimeError(f"no address in {self.subnet[c]}.0/24 hashes to {self.wanted[c]}")

    def log(self, msg):
        if self.args.verbose:
            print(f"  [{time.monotonic() - self.t0:6.1f} s] {msg}", flush=True)

    def sh(self, *args, ns=None, check=True):
        return self.lib.sh(*args, ns=self.ns[ns] if ns else None, check=check)

    # ---- set-up ------------------------------------------------------------------------------

    def setup(self):
        self.dir = tempfile.mkdtemp(prefix="dmuxb-mcast-")
        self.make_topology()
        self.log("namespaces up")
        self.make_credentials()
        self.start_daemons()
        self.log("daemons up")

    def make_topology(self):
        for role, ns in self.ns.items():
            self.lib.sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            self.sh("ip", "link", "set", "lo", "up", ns=role)
            self.sh("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", ns=role)
        self.sh("ip", "addr", "add", f"{GW_IP}/32", "dev", "lo", ns="gw")
        self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns="gw")
        self.sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns="gw")
        for r, (gw4, r4, gw6, r6) in ROUTERS.items():
            self.veth(r, gw4, r4)
            self.sh("ip", "addr", "add", f"{gw6}/64", "dev", f"to{r}", "nodad", ns="gw")
            self.sh("ip", "addr", "add", f"{r6}/64", "dev", "eth0", "nodad", ns=r)
            self.sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=r)
        for c in self.clients:
            if c in V6_CLIENTS:  # IPv4 only on the wire; the TUN device gets the offered address
                self.sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=0", ns=c)
            else:
                self.sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=c)
            self.veth(c, f"{self.subnet[c]}.1", self.ip[c])
            if c in V6_CLIENTS:
                self.sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", ns=c)

    def veth(self, role, gw_side, addr):
        self.lib.sh("ip", "link", "add", "eth0", "netns", self.ns[role], "type", "veth", "peer",
                    "name", f"to{role}", "netns", self.ns["gw"])
        self.sh("ip", "addr", "add", f"{gw_side}/24", "dev", f"to{role}", ns="gw")
        self.sh("ip", "link", "set", f"to{role}", "up", ns="gw")
        self.sh("ip", "addr", "add", f"{addr}/24", "dev", "eth0", ns=role)
        self.sh("ip", "link", "set", "eth0", "up", ns=role)
        self.sh("ip", "route", "add", "default", "via", gw_side, ns=role)

    def make_credentials(self):
        ca = os.path.join(self.dir, "ca")
        self.lib.sh(self.bin["ca"], "init", "--dir", ca)
        self.lib.sh(self.bin["ca"], "issue-provider", "--dir", ca, "--provider-id", PROVIDER_ID,
                    "--protocols", "ipv6,ipv4-multicast", "--out", os.path.join(ca, "prov"))
        self.peer_key = os.path.join(self.dir, "peer.key")
        with open(self.peer_key, "w") as f:
            f.write(secrets.token_hex(32) + "\n")

    def sock(self, name):
        return os.path.join(self.dir, f"{name}.sock")

    def status(self, name):
        return self.lib.unix_request(self.sock(name), "status")

    def start(self, name, ns, cmd):
        self.procs[name] = self.lib.NsProcess(name, self.ns[ns], cmd, self.dir)

    def start_daemons(self):
        ca = os.path.join(self.dir, "ca")
        cert, key = os.path.join(ca, "prov.crt"), os.path.join(ca, "prov.key")
        self.start("dmuxd", "gw", [
            self.bin["dmuxd"], "--listen", f"{GW_IP}:{DATA_PORT}", "--workers", "1",
            "--registration-listen", f"{GW_IP}:{REG_PORT}", "--ca-cert",
            os.path.join(ca, "ca.crt"), "--control-socket", self.sock("dmuxd"),
            "--metrics-listen", "off"])
        for r, (_, r4, _, _) in ROUTERS.items():
            other = ROUTERS["r2" if r == "r1" else "r1"][1]
            self.start(f"mcast-{r}", r, [
                self.bin["mcast"], "--gateway", f"{GW_IP}:{REG_PORT}", "--listen",
                f"{r4}:{MCAST_PORT}", "--cert", cert, "--key", key, "--peer",
                f"{other}:{MCAST_PORT}", "--peer-key", self.peer_key,
                "--allow-destination", self.lib.LAB_ALLOWED,
                "--control-socket", self.sock(f"mcast-{r}")] + (
                    ["--summary-interval-ms", str(self.args.summary_interval_ms)]
                    if self.args.summary_interval_ms else []))
            self.start(f"prov-{r}", r, [
                self.bin["provider"], "--gateway", f"{GW_IP}:{REG_PORT}", "--listen",
                f"{r4}:{V6_PORT}", "--cert", cert, "--key", key, "--client-prefix",
                CLIENT_PREFIX, "--allow-destination", self.lib.LAB_ALLOWED,
                "--control-socket", self.sock(f"prov-{r}")])
        for c in self.clients:
            cmd = [self.bin["client"], "--gateway", f"{GW_IP}:{DATA_PORT}", "--capture",
                   "ipv4-multicast", "--control-socket", self.sock(c), "--metrics-listen", "off"]
            if c in V6_CLIENTS:
                cmd += ["--capture", "ipv6"]
            self.start(c, c, cmd)
        agents = [f"{k}-{r}" for k in ("mcast", "prov") for r in ROUTERS]
        self.wait(lambda: all(self.registered(a) for a in agents), 15, "router registrations")
        self.wait(lambda: all(self.client_up(c) for c in self.clients), 20, "dmux-client start")
        # A client tunnels a protocol (and joins groups) only once it holds its return token.
        self.wait(lambda: all(self.have_tokens(c) for c in self.clients), 20, "return tokens")
        self.wait(lambda: all(self.safe(lambda: self.status(f"mcast-{r}")["peers"][0]["alive"])
                              for r in ROUTERS), 10, "routers to see each other")
        self.wait(lambda: all(self.address(c) for c in V6_CLIENTS), 15, "IPv6 address offers")
        self.addr6 = {c: self.address(c) for c in V6_CLIENTS}

    def safe(self, f):
        try:
            return f()
        except (OSError, ValueError, KeyError, IndexError):
            return False

    def registered(self, agent):
        return self.safe(lambda: self.status(agent)["registrations"][0]["state"] == "registered")

    def client_up(self, c):
        return self.safe(lambda: self.status(c)["tun"] == "dmuxc0")

    def have_tokens(self, c):
        return self.safe(lambda: all(s["return_token"]["have_token"]
                                     for s in self.status(c)["selectors"]))

    def address(self, c):
        return self.safe(lambda: self.status(c)["address"]) or ""

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for name, p in self.procs.items():
                if not p.alive():
                    raise RuntimeError(f"{name} exited while waiting for {what}:\n" +
                                       p.read_log()[-2000:])
            if pred():
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}:\n" + self.logs())

    def logs(self):
        return "".join(f"--- {n}\n{p.read_log()[-1500:]}" for n, p in self.procs.items())

    # ---- processes inside the namespaces ---------------------------------------------------------

    def popen(self, role, *cmd, stdin=None):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[role]] + list(cmd), stdin=stdin,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
        self.helpers.append(p)
        return p

    def readline(self, p, timeout, what):
        r, _, _ = select.select([p.stdout], [], [], timeout)
        line = p.stdout.readline() if r else ""
        if not line:
            raise RuntimeError(f"no answer from {what}")
        return line.strip()

    def start_receivers(self, roles, family, group):
        procs = {}
        for role in roles:
            procs[role] = self.popen(role, sys.executable, os.path.abspath(__file__), "_recv",
                                     str(family), group, str(APP_PORT), stdin=subprocess.PIPE)
        for role, p in procs.items():
            if self.readline(p, 10, f"receiver in {role}") != "ready":
                raise RuntimeError(f"receiver in {role} did not start")
        return procs

    def stop(self, procs):
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout):
                if f:
                    f.close()
            self.helpers.remove(p)

    def members(self, group):
        """{router: [member endpoints]} as the routers report them."""
        return {r: self.status(f"mcast-{r}")["membership"]["members"].get(group, [])
                for r in ROUTERS}

    def peer_has(self, r, group):
        return group in self.status(f"mcast-{r}")["peers"][0]["groups"]

    # ---- fan-out ----------------------------------------------------------------------------

    def cpu_groups(self, receivers, kind):
        """pids per component of the data path, for CPU accounting."""
        pid = lambda name: self.procs[name].proc.pid  # noqa: E731  (ip netns exec execs)
        return {"snd_client": [pid("snd")], "dmuxd": [pid("dmuxd")],
                "routers": [pid(f"{kind}-{r}") for r in ROUTERS],
                "member_clients": [pid(role) for role in receivers],
                "member_sockets": [p.pid for p in receivers.values()]}

    @staticmethod
    def cpu_seconds(pids):
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def path_counters(self, receivers, kind):
        """Packets counted at each stage of the path (also counts the little control traffic
        of the same moment: keepalives, queries, solicitations)."""
        snd = self.status("snd")
        gw = self.status("dmuxd")
        out = {"snd_captured": snd["captured"], "snd_tunnelled": snd["tunnelled"],
               "gw_received": gw["received_packets"], "gw_forwarded": gw["forwarded_packets"]}
        keys = (("group_packets", "delivered", "forwarded", "from_peers", "peer_deaths",
                 "adopted", "moved_to_peer", "summaries_sent", "summaries_received",
                 "dropped_packets") if kind == "mcast" else
                ("tunnels_received", "tun_packets_read", "returned"))
        for r in ROUTERS:
            st = self.status(f"{kind}-{r}")
            for k in keys:
                out[f"{r}_{k}"] = st[k]
        for k in ("returns_received", "injected"):
            out[f"members_{k}"] = sum(self.status(role)[k] for role in receivers)
        return out

    def one_point(self, receivers, family, dest, rate, seconds):
        run = secrets.randbits(32)
        kind = "mcast" if family == 4 else "prov"
        path0 = self.path_counters(receivers, kind)
        groups = self.cpu_groups(receivers, kind)
        cpu0 = {k: self.cpu_seconds(v) for k, v in groups.items()}
        t0 = time.monotonic()
        sender = self.popen("snd", sys.executable, os.path.abspath(__file__), "_send",
                            str(family), dest, str(APP_PORT), str(rate), str(seconds), str(run))
        out = json.loads(self.readline(sender, seconds + 20, "the sender"))
        wall = time.monotonic() - t0
        cpu = {k: (self.cpu_seconds(v) - cpu0[k]) / wall for k, v in groups.items()}
        cpu["sender"] = out["cpu"] / wall
        self.stop([sender])
        time.sleep(self.args.drain)  # what is in flight arrives
        per = []
        for role, p in receivers.items():
            p.stdin.write(f"report {run}\n")
            p.stdin.flush()
            per.append(json.loads(self.readline(p, 10, f"receiver in {role}")))
        dur = out["seconds"]
        rates = []
        for r in per:
            window = (r["last"] - r["first"]) if r["unique"] > 1 else 0.0
            rates.append(r["unique"] / max(dur, window))  # conservative: the longer window
        path1 = self.path_counters(receivers, kind)
        path = {k: path1[k] - path0[k] for k in path0}
        sent = out["sent"]
        unique = sum(r["unique"] for r in per)
        dups = sum(r["dups"] for r in per)
        if dups:
            self.log(f"duplicates: {dups}; counters along the path (sent {sent}, "
                     f"received {unique + dups}): {path}")
        return {"rate_asked": rate, "offered_pps": sent / dur, "sent": sent,
                "send_errors": out["errors"], "seconds": dur,
                "member_pps": sorted(rates), "member_min_pps": min(rates),
                "member_median_pps": statistics.median(rates), "total_pps": sum(rates),
                "loss": 1 - unique / (sent * len(per)) if sent else 1.0,
                "duplicates": dups, "path": path,
                "cpu_cores": {k: round(v, 3) for k, v in cpu.items()}}

    def sweep(self, label, receivers, family, dest):
        """The ladder from the first rate giving >= FLOOR_PPS in total, up past the knee."""
        n = len(receivers)
        rates = [r for r in self.args.rates if r == 0 or r * n >= FLOOR_PPS] or self.args.rates
        points, best = [], None
        for rate in rates:
            pt = self.one_point(receivers, family, dest, rate, self.args.seconds)
            points.append(pt)
            self.log(f"{label}: asked {rate:>7.0f}/s offered {pt['offered_pps']:8.0f}/s "
                     f"member min {pt['member_min_pps']:8.0f} median "
                     f"{pt['member_median_pps']:8.0f} total {pt['total_pps']:8.0f} loss "
                     f"{pt['loss'] * 100:5.1f}% dups {pt['duplicates']}")
            if best is None or pt["total_pps"] > best["total_pps"]:
                best = pt
            # Past the knee: more offered load only costs delivered packets.
            if pt["loss"] > 0.25 or pt["total_pps"] < 0.9 * best["total_pps"]:
                break
        clean = [p for p in points if p["loss"] < LOSSLESS]
        return {"best": best, "points": points,
                "lossless": max(clean, key=lambda p: p["total_pps"]) if clean else None,
                # The unpaced sender itself was the limit: the path took all it could send.
                "sender_bound": best["rate_asked"] == 0 and best["loss"] < LOSSLESS,
                "duplicates": sum(p["duplicates"] for p in points)}

    def fanout(self):
        results = {}
        for n in self.args.sizes:
            group = GROUP_OF_N.format(n)
            roles = self.receivers[:n]
            procs = self.start_receivers(roles, 4, group)
            try:
                def joined():
                    m = self.members(group)
                    if sum(len(v) for v in m.values()) != n:
                        return False
                    return not m["r2"] or self.peer_has("r1", group)
                self.wait(joined, 15, f"{n} members of {group}")
                m = self.members(group)
                split = {r: len(v) for r, v in m.items()}
                self.log(f"N={n}: members per router {split}")
                time.sleep(0.3)
                res = self.sweep(f"N={n:2d}", procs, 4, group)
                res["members_per_router"] = split
                results[n] = res
            finally:
                self.stop(list(procs.values()))
        return results

    def reference(self):
        dst = self.addr6["m01"]
        procs = self.start_receivers(["m01"], 6, dst)
        try:
            # One datagram to warm up neighbour state along the way (none expected, but cheap).
            self.one_point(procs, 6, dst, 100, 0.2)
            return self.sweep("unicast", procs, 6, dst)
        finally:
            self.stop(list(procs.values()))

    # ---- RTT --------------------------------------------------------------------------------

    def route_pair_through_gw(self):
        """Host routes so that ping -6 between the pair crosses r1 -> gw -> r2 like the exchange."""
        a, b = RTT_PAIR
        ra, rb = self.wanted[a], self.wanted[b]
        for x, rx, ry in ((b, ra, rb), (a, rb, ra)):
            # x's address: from rx's kernel to gw, from gw to ry, whose TUN route takes it.
            self.sh("ip", "-6", "route", "add", f"{self.addr6[x]}/128", "via", ROUTERS[rx][2],
                    ns=rx)
            self.sh("ip", "-6", "route", "add", f"{self.addr6[x]}/128", "via", ROUTERS[ry][3],
                    ns="gw")

    def mping_round(self, count):
        a, _ = RTT_PAIR
        p = self.popen(a, sys.executable, MPING, "ping", "--join", RTT_A, "--send", RTT_B,
                       "--port", str(MPING_PORT), "-c", str(count), "-i",
                       str(self.args.interval), "--settle", "1.0", "--timeout", "1.0")
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"^reply seq=\d+ rtt=([\d.]+) ms", out, re.M)]
        m = re.search(r"(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def ping6_round(self, count):
        a, b = RTT_PAIR
        p = self.popen(a, "ping", "-6", "-n", "-c", str(count), "-i", str(self.args.interval),
                       "-W", "1", "-s", str(PAYLOAD - 8), self.addr6[b])
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"time=([\d.]+) ms", out)]
        m = re.search(r"\+(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def uping_round(self, count):
        a, b = RTT_PAIR
        p = self.popen(a, sys.executable, os.path.abspath(__file__), "_uping", self.addr6[b],
                       str(MPING_PORT + 1), str(count), str(self.args.interval))
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"^reply seq=\d+ rtt=([\d.]+) ms", out, re.M)]
        m = re.search(r"(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def counters(self):
        gw = self.sh("cat", "/proc/net/snmp6", ns="gw").stdout.split()
        r1 = self.status("mcast-r1")
        r2 = self.status("mcast-r2")
        return {"gw_ip6_forwarded": int(gw[gw.index("Ip6OutForwDatagrams") + 1]),
                "mcast_forwarded": r1["forwarded"] + r2["forwarded"],
                "mcast_from_peers": r1["from_peers"] + r2["from_peers"]}

    def rtt(self):
        a, b = RTT_PAIR
        self.route_pair_through_gw()
        echo = self.popen(b, sys.executable, MPING, "echo", "--join", RTT_B, "--send", RTT_A,
                          "--port", str(MPING_PORT))
        uecho = self.popen(b, sys.executable, os.path.abspath(__file__), "_uecho",
                           str(MPING_PORT + 1))
        try:
            self.readline(echo, 10, "mping echo")
            self.readline(uecho, 10, "UDP echo")
            self.wait(lambda: any(m.startswith(self.ip[b] + ":")
                                  for m in self.members(RTT_B)[self.wanted[b]])
                      and self.peer_has(self.wanted[a], RTT_B), 10, "the echoer's membership")
            self.ping6_round(3)  # warm-up, not counted
            kinds = (("multicast", self.mping_round), ("unicast", self.ping6_round),
                     ("unicast_udp", self.uping_round))
            res = {name: {"rtts": [], "dups": 0} for name, _ in kinds}
            hops = {name: 0 for name, _ in kinds}
            for i in range(self.args.rounds):
                for name, fn in (kinds if i % 2 == 0 else kinds[::-1]):
                    before = self.counters()
                    rtts, dups = fn(self.args.probes)
                    after = self.counters()
                    key = "gw_ip6_forwarded" if name != "multicast" else "mcast_from_peers"
                    hops[name] += after[key] - before[key]
                    res[name]["rtts"] += rtts
                    res[name]["dups"] += dups
                    self.log(f"rtt round {i + 1} {name}: {len(rtts)}/{self.args.probes} replies, "
                             f"p50 {percentile(rtts, 50)}")
        finally:
            self.stop([echo, uecho])
        sent = self.args.rounds * self.args.probes
        for name, r in res.items():
            # hop_packets: packets that crossed r1 <-> r2 (gw's IPv6 forwarding for unicast,
            # router-to-router deliveries for multicast): about 2 per probe.
            r.update(sent=sent, received=len(r["rtts"]), p50_ms=percentile(r["rtts"], 50),
                     p99_ms=percentile(r["rtts"], 99), loss=1 - len(r["rtts"]) / sent,
                     hop_packets=hops[name])
        return res

    # ---- clean-up ---------------------------------------------------------------------------

    def cleanup(self):
        for p in list(self.helpers):
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # dmux-client removes its iptables chain and TUN device on SIGTERM; the agents
        # deregister. Whatever is left dies with its namespace.
        for p in self.procs.values():
            p.stop(signal.SIGTERM, timeout=5)
        for ns in self.made_ns:
            for pid in self.lib.sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.lib.sh("ip", "netns", "del", ns, check=False)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def fmt(x, spec=".0f"):
    return "-" if x is None else format(x, spec)


def report(fan, ref, rtt, args):
    refp = ref["best"]["total_pps"]
    refl = ref["lossless"]["total_pps"] if ref["lossless"] else None
    print(f"\nbench/multicast ({'quick' if args.quick else 'full'}): fan-out of {PAYLOAD}-byte UDP "
          f"payloads from snd (r1); {args.seconds:g} s per point; ladder "
          f"{', '.join(f'{r:g}' for r in args.rates)} pkt/s (0 = unpaced)")
    print(f"  {'':16s} {'--- highest total delivered ---':^56s}   {'-- loss < 1% --':^19s}")
    print(f"  {'members (r1+r2)':16s} {'offered':>8s} {'member min':>10s} {'median':>7s} "
          f"{'total':>8s} {'loss':>6s} {'dups':>4s} {'vs ref':>7s}   {'total':>8s} {'vs ref':>8s}")
    rows = [("unicast ref (1)", ref)] + [
        (f"N={n} ({r['members_per_router']['r1']}+{r['members_per_router']['r2']})", r)
        for n, r in fan.items()]
    for label, r in rows:
        b, c = r["best"], r["lossless"]
        mark = ">=" if r["sender_bound"] else ""
        ratio = f"{b['total_pps'] / refp:.2f}x" if refp else "-"
        cl = f"{c['total_pps']:.0f}" if c else "-"
        cl_ratio = f"{c['total_pps'] / refl:.2f}x" if c and refl else "-"
        print(f"  {label:16s} {b['offered_pps']:8.0f} {b['member_min_pps']:10.0f} "
              f"{b['member_median_pps']:7.0f} {mark + format(b['total_pps'], '.0f'):>8s} "
              f"{b['loss'] * 100:5.1f}% {r['duplicates']:4d} {ratio:>7s}   {cl:>8s} "
              f"{cl_ratio:>8s}")
    if any(r["sender_bound"] for _, r in rows):
        print("  >= : the unpaced sender was the limit (everything it sent arrived)")
    keys = ("sender", "snd_client", "dmuxd", "routers", "member_clients", "member_sockets")
    print(f"\n  CPU at the highest point, in cores (the host has {os.cpu_count()}; routers = "
          f"dmux-mcast r1+r2, for the reference dmux-provider r1+r2)")
    print(f"  {'members (r1+r2)':16s} " + " ".join(f"{k:>14s}" for k in keys) + f" {'sum':>6s}")
    for label, r in rows:
        c = r["best"]["cpu_cores"]
        print(f"  {label:16s} " + " ".join(f"{c[k]:14.2f}" for k in keys) +
              f" {sum(c[k] for k in keys):6.2f}")
    if rtt:
        print(f"\n  RTT snd (r1) <-> m02 (r2): {args.rounds} interleaved rounds of {args.probes} "
              f"probes each, {args.interval * 1000:.0f} ms apart, {PAYLOAD}-byte probes")
        print(f"  {'':30s} {'replies':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'dups':>5s} "
              f"{'r1<->r2 pkts':>12s}")
        labels = {"multicast": "multicast (mping.py)", "unicast": "unicast (ping -6)",
                  "unicast_udp": "unicast (Python UDP echo)"}
        for name, label in labels.items():
            r = rtt[name]
            print(f"  {label:30s} {r['received']:4d}/{r['sent']:<4d} {fmt(r['p50_ms'], '.3f'):>8s}"
                  f" {fmt(r['p99_ms'], '.3f'):>8s} {r['dups']:5d} {r['hop_packets']:12d}")
        m = rtt["multicast"]
        for name in ("unicast", "unicast_udp"):
            u = rtt[name]
            if m["p50_ms"] and u["p50_ms"]:
                print(f"  {'multicast / ' + labels[name]:44s} p50 {m['p50_ms'] / u['p50_ms']:.2f}x"
                      f"  p99 {m['p99_ms'] / u['p99_ms']:.2f}x")


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("_recv", "_send", "_uecho", "_uping"):
        return run_helper(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke run: N in 1 and 4, 2 s per point, 20 probes (< 60 s)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--rates", help="offered rates to try, packets/s, comma-separated, "
                    "ascending; the sweep stops past the knee (0: as fast as the sender can)")
    ap.add_argument("--seconds", type=float, help="seconds per point (default 3; quick 2)")
    ap.add_argument("--summary-interval-ms", type=int,
                    help="dmux-mcast --summary-interval-ms (default: its default, 1000; peers "
                    "are declared dead after 3.5 intervals; see README, known issue)")
    ap.add_argument("--json", help="also write every point and probe to this file")
    ap.add_argument("--verbose", "-v", action="store_true", help="print progress and each point")
    args = ap.parse_args()
    args.sizes = (1, 4) if args.quick else (1, 4, 16)
    if args.rates:
        args.rates = [float(r) for r in args.rates.split(",")]
    else:
        args.rates = ([10000, 20000, 40000, 0] if args.quick else
                      [2500, 3500, 5000, 7000, 10000, 14000, 20000, 28000, 40000, 56000, 0])
    args.seconds = args.seconds or (2.0 if args.quick else 3.0)
    args.drain = 0.5
    args.rounds, args.probes = (2, 10) if args.quick else (5, 20)
    args.interval = 0.05
    if os.geteuid() != 0:
        print("bench/multicast: needs root (network namespaces, iptables, TUN devices)",
              file=sys.stderr)
        return 2
    for tool in ("ip", "iptables", "ip6tables", "ping"):
        if shutil.which(tool) is None:
            print(f"bench/multicast: {tool} is not installed", file=sys.stderr)
            return 2

    os.environ["DMUX_BUILD_DIR"] = args.build_dir
    from ipdmux import agent_lab as lib  # noqa: E402  (sh, NsProcess, unix_request, LAB_ALLOWED)

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)  # also when started with SIGINT ignored (`cmd &`)

    bench = Bench(args, lib)
    bench.t0 = time.monotonic()
    fan = ref = rtt = None
    try:
        print(f"bench/multicast: {len(bench.ns)} namespaces {PREFIX}*, "
              f"{len(bench.receivers)} receivers ...", flush=True)
        bench.setup()
        ref = bench.reference()
        fan = bench.fanout()
        rtt = bench.rtt()
    except KeyboardInterrupt:
        print("bench/multicast: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.cleanup()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    report(fan, ref, rtt, args)
    print(f"  (total {time.monotonic() - bench.t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"fanout": fan, "reference": ref, "rtt": rtt,
                       "addresses": bench.ip, "ipv6": bench.addr6}, f, indent=1)
    failed = []
    for label, r in [("unicast", ref)] + [(f"N={n}", x) for n, x in fan.items()]:
        if r["best"]["total_pps"] == 0:
            failed.append(f"{label}: nothing delivered")
        if r["duplicates"]:
            deaths = sum(p["path"].get(f"{x}_peer_deaths", 0) for p in r["points"]
                         for x in ROUTERS)
            failed.append(f"{label}: {r['duplicates']} duplicates" +
                          (f" (a router declared its peer dead {deaths} time(s) meanwhile: "
                           "see README, known issue)" if deaths else ""))
    for name, r in rtt.items():
        if not r["received"]:
            failed.append(f"rtt {name}: no replies")
        if r["dups"]:
            failed.append(f"rtt {name}: {r['dups']} duplicates")
    if failed:
        print("bench/multicast: FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
