"""A lab for the router agents' tests (dmux-provider, dmux-mcast; needs root): network namespaces
with a name prefix of the test's own, the real daemons in them, sockets and packet sniffers inside
them, spoofed IPv4 sources, and the client side of return routability (docs/protocol.md 6.2, 15):
a TOKEN_REQUEST through a real gateway, answered by a TOKEN_OFFER carrying the client's rt.

Used by tests/integration/test_provider_netns.py, test_multicast.py and
tests/security/test_provider_injection.py, test_mcast_amplification.py. Everything a Lab made
(namespaces and with them their links, processes, files) is removed by Lab.close(), also when a
test fails half-way."""
import os
import secrets
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import unittest

from . import wire
from .client_lab import (NsProcess, delete_namespace, in_netns, sh, udp4_packet, udp6_packet, udp_socket,
                         unix_request, wait_for)
from .gateway_router import write_key_file
from .packets import echo_request, igmpv2_report, inet6, parse_ipv6  # noqa: F401  (re-exported)

__all__ = ["NsProcess", "in_netns", "sh", "udp4_packet", "udp6_packet", "udp_socket",
           "unix_request", "wait_for"]

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD_DIR = os.environ.get("DMUX_BUILD_DIR", os.path.join(REPO, "build"))
DMUXD = os.path.join(BUILD_DIR, "gateway", "dmuxd")
DMUXCTL = os.path.join(BUILD_DIR, "dmuxctl", "dmuxctl")
PROVIDER = os.path.join(BUILD_DIR, "provider", "dmux-provider")
MCAST = os.path.join(BUILD_DIR, "multicast", "dmux-mcast")
DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
CLIENT = os.path.join(BUILD_DIR, "client", "dmux-client")

LAB_ALLOWED = "198.18.0.0/15"  # the only special-purpose range lab daemons may send RETURNs to


def ip(a):
    return wire.ip(a)


# ---- packets ----------------------------------------------------------------------------------

def token_request_data(proto, nonce, provider=0):
    """Section 15.1: a DATA with CTRL holding a TOKEN_REQUEST (84 bytes)."""
    return wire.data(proto, provider, nonce, wire.token_request(), flags=wire.FLAG_CONTROL)


def parse_return(d):
    return wire.parse_shim(d, wire.RETURN)


def request_token(sock, gateway, proto, provider=0, timeout=3.0, tries=3):
    """Asks for this socket's return token through the gateway at `gateway` (addr, port): sends a
    TOKEN_REQUEST and waits for the TOKEN_OFFER echoing its nonce (6.3). Returns (rt, offer,
    the RETURN datagram). Other datagrams arriving meanwhile are ignored."""
    old = sock.gettimeout()
    try:
        for _ in range(tries):
            nonce = secrets.randbits(64) | 1
            sock.sendto(token_request_data(proto, nonce, provider), gateway)
            deadline = time.monotonic() + timeout / tries
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    d, _ = sock.recvfrom(65535)
                except socket.timeout:
                    break
                try:
                    r = parse_return(d)
                except ValueError:
                    continue
                if r["flags"] & wire.FLAG_CONTROL and r["token"] == nonce:
                    offer = wire.parse_token_offer(r["payload"])
                    return offer["return_token"], offer, d
        raise TimeoutError(f"no TOKEN_OFFER through {gateway}")
    finally:
        sock.settimeout(old)


# ---- sockets in namespaces ----------------------------------------------------------------------

def raw_ipv4_socket(ns):
    """A raw IPv4 socket in `ns` that sends whole packets (IP_HDRINCL): any source address."""
    return in_netns(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))


def send_spoofed(raw, src, sport, dst, dport, payload):
    """One UDP datagram from `src`:`sport` (any address) to `dst`:`dport` through a raw socket."""
    raw.sendto(udp4_packet(src, dst, sport, dport, payload), (dst, 0))


class Sniffer:
    """Every IPv4 UDP datagram on one interface of a namespace (AF_PACKET, both directions), as
    (src, sport, dst, dport, payload), collected by a thread until stop()."""

    ETH_P_ALL = 0x0003
    SO_RCVBUFFORCE, SOL_PACKET, PACKET_STATISTICS = 33, 263, 6
    RCVBUF = 16 << 20  # a burst of hundreds of frames while the test's own thread holds the GIL

    def __init__(self, ns, ifname):
        self.sock = in_netns(ns, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                       socket.htons(self.ETH_P_ALL)))
        self.sock.setsockopt(socket.SOL_SOCKET, self.SO_RCVBUFFORCE, self.RCVBUF)
        self.sock.bind((ifname, 0))
        self.dropped = 0
        self.sock.settimeout(0.1)
        self.packets, self.lock, self.running = [], threading.Lock(), True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                frame = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(frame) < 14 + 28 or frame[12:14] != b"\x08\x00":
                continue
            p = frame[14:]
            ihl = (p[0] & 0x0F) * 4
            if p[0] >> 4 != 4 or p[9] != 17 or len(p) < ihl + 8:
                continue
            total = struct.unpack("!H", p[2:4])[0]
            sport, dport = struct.unpack("!HH", p[ihl:ihl + 4])
            with self.lock:
                self.packets.append((socket.inet_ntoa(p[12:16]), sport, socket.inet_ntoa(p[16:20]),
                                     dport, p[ihl + 8:total]))

    def matching(self, pred):
        with self.lock:
            return [x for x in self.packets if pred(*x)]

    def drops(self):
        """Frames the kernel dropped because this socket's buffer was full (since the start)."""
        try:
            _, drops = struct.unpack("II", self.sock.getsockopt(self.SOL_PACKET,
                                                                self.PACKET_STATISTICS, 8))
        except OSError:
            return self.dropped
        self.dropped += drops  # reading the statistics resets them
        return self.dropped

    def clear(self):
        with self.lock:
            self.packets.clear()

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


# ---- processes ----------------------------------------------------------------------------------

class Lab:
    """Namespaces `prefix + role`, a work directory, and the processes started in them."""

    def __init__(self, prefix, roles):
        self.prefix = prefix
        self.ns = {role: prefix + role for role in roles}
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.procs, self.closers = [], []
        try:
            for ns in self.ns.values():
                sh("ip", "netns", "add", ns)
                sh("ip", "link", "set", "lo", "up", ns=ns)
        except BaseException:
            self.close()
            raise

    def link(self, a, a_dev, a_addr, b, b_dev, b_addr):
        """A veth pair between namespaces `a` and `b` (roles), addresses "A.B.C.D/N" (or None)."""
        sh("ip", "link", "add", a_dev, "netns", self.ns[a], "type", "veth", "peer", "name", b_dev,
           "netns", self.ns[b])
        for role, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
            if addr:
                sh("ip", "addr", "add", addr, "dev", dev, ns=self.ns[role])
            sh("ip", "link", "set", dev, "up", ns=self.ns[role])

    def run(self, role, *args, check=True):
        return sh(*args, ns=self.ns[role], check=check)

    def spawn(self, name, role, cmd):
        p = NsProcess(name, self.ns[role], cmd, self.dir)
        self.procs.append(p)
        return p

    def path(self, name):
        return os.path.join(self.dir, name)

    def tunnel_key(self, name="tunnel.key"):
        """A random 32-byte tunnel key in a file (hex), for dmuxd's --static-router and the
        agent's --static-tunnel-key. Returns (path, key)."""
        key = secrets.token_bytes(32)
        path = self.path(name)
        write_key_file(path, key)
        return path, key

    def credentials(self, provider_id, protocols):
        """A CA made by the real dmux-ca and a provider certificate: (ca.crt, prov.crt, prov.key)."""
        ca = self.path("ca")
        sh(DMUX_CA, "init", "--dir", ca)
        out = os.path.join(ca, f"prov{provider_id}")
        sh(DMUX_CA, "issue-provider", "--dir", ca, "--provider-id", provider_id, "--protocols",
           protocols, "--out", out)
        return os.path.join(ca, "ca.crt"), out + ".crt", out + ".key"

    def status(self, control_socket):
        return unix_request(control_socket, "status")

    def close(self):
        for c in reversed(self.closers):
            try:
                c()
            except Exception:
                pass
        for p in reversed(self.procs):
            p.stop(signal.SIGTERM)
        for ns in self.ns.values():
            delete_namespace(ns)
        shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self, tail=2500):
        return "".join(f"--- {p.name}\n{p.read_log()[-tail:]}" for p in self.procs)


def open_lab(prefix, roles, binaries, build, needs="network namespaces"):
    """For a test class's setUpClass: skips unless root, refuses a missing binary, makes the Lab
    and runs build(lab) on it, closing the Lab again if anything fails. Returns the Lab."""
    if os.geteuid() != 0:
        raise unittest.SkipTest(f"needs root ({needs})")
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} is not built")
    lab = Lab(prefix, roles)
    try:
        build(lab)
    except BaseException:
        lab.close()
        raise
    return lab


class LabTestCase(unittest.TestCase):
    """A test class with one Lab for all its tests: PREFIX (plus the pid), ROLES, BINARIES and NEEDS
    say which; the class's build_lab() (cls.lab set) fills it. The Lab is closed after the class,
    or at once if building it fails."""

    PREFIX, ROLES, BINARIES, NEEDS = "dmuxlab-", (), (), "network namespaces"

    @classmethod
    def setUpClass(cls):
        def build(lab):
            cls.lab = lab
            cls.build_lab()
        open_lab(f"{cls.PREFIX}{os.getpid()}-", cls.ROLES, cls.BINARIES, build, cls.NEEDS)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    @classmethod
    def build_lab(cls):
        raise NotImplementedError


def wait_for_socket(path, proc, timeout=10):
    """True once `path` exists (a daemon's control socket), False if `proc` died first."""
    return wait_for(lambda: os.path.exists(path) or not proc.alive(), timeout) and proc.alive()
