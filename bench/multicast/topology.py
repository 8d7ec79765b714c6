"""bench/multicast's topology (see run.py): the namespaces and veth links, the credentials, the
daemons (dmuxd in gw; dmux-mcast and dmux-provider in r1 and r2; dmux-client in every client), and
the helper processes started in the namespaces. Everything made here is removed by cleanup()."""
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux import proc  # noqa: E402  (path set just above)

HELPERS = os.path.join(HERE, "helpers.py")  # run in the namespaces

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


class Topology:
    """The namespaces, links, credentials and daemons of the bench, and the processes it starts
    in them; cleanup() removes all of it."""

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
            procs[role] = self.popen(role, sys.executable, HELPERS, "_recv",
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
            proc.delete_namespace(ns)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
