"""A lab for dmux-client tests (needs root): network namespaces, the real dmux-client in one, and
an emulated IPdmux gateway + provider router in another, written from docs/protocol.md alone.

    client ns (198.18.1.2, IPv4 only)  ---veth---  gw ns (198.18.1.1: EmulatedProvider)
    dmux-client, dmuxc0                                 emu0 (TUN): the IPv6 network behind

EmulatedProvider does, in one UDP socket, what a gateway and a version-2 router agent do with a
client's DATA, statelessly (sections 6.2, 11, 13, 15): it answers TOKEN_REQUESTs with TOKEN_OFFERs
carrying rt = SipHash(K_r, proto, port, ipv4, provider), answers Router Solicitations with Router
Advertisements, checks that every other DATA carries the rt of its source (`unproven` otherwise)
and that IPv6 sources embed it, writes IPv6 into its TUN device (the gw namespace's kernel is the
IPv6 server), and sends what its kernel routes back to the client prefix as RETURNs with the rt of
the address embedded in the destination. Tests reach into it (counters, knobs, rt()) to forge
and to check. Every namespace, process and device is removed by Lab.close(), also on failure.
"""
import ctypes
import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time

from . import crypto, wire
from .packets import inet6, inet6_str, udp4_packet, udp6_packet  # noqa: F401  (re-exported)
from .proc import delete_namespace, sh, wait_for  # noqa: F401  (re-exported for the tests)

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
_libc = ctypes.CDLL(None, use_errno=True)

CLIENT_IP, GW_IP = "198.18.1.2", "198.18.1.1"
DATA_PORT = 4500
PROVIDER_ID = 7
CLIENT_PREFIX = bytes.fromhex("20010db80007")  # 2001:db8:7::/48
SERVER_V6 = "2001:db8:1::2"                    # the gw namespace's kernel, behind emu0
EXP_PROTO = 0x8001


def open_tun(name):
    """A TUN device `name` (no packet information), in the calling thread's namespace; its fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def in_netns(ns, fn):
    """Runs fn() in a thread that joined namespace `ns` (setns is per thread) and returns what it
    returns; sockets and devices it makes stay in `ns` and are usable from any thread."""
    out = {}

    def worker():
        try:
            with open(f"/run/netns/{ns}") as f:
                if _libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            out["value"] = fn()
        except BaseException as e:  # reported in the caller's thread
            out["error"] = e

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def udp_socket(ns, bind, family=socket.AF_INET):
    def make():
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind(bind)
        return s
    return in_netns(ns, make)


def unix_request(path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        return json.loads(s.makefile("rb").read())






class EmulatedProvider:
    """Gateway + router of provider PROVIDER_ID on (GW_IP, DATA_PORT) in namespace `ns`.

    Knobs (set from the test's thread at any time): answer_tokens, answer_rs (bools), refresh_s,
    nat_port (the port gateways claim to see, emulating a NAT that moved; None = the real one),
    lenient (answer an RS whatever its token, echoing it as a version-1 router did, so that a
    test also runs against a version-1 client). Counters in `counts`; the token of each protocol's
    last DATA other than a control message in `last_token`; DATA payloads of non-IPv6 protocols
    in `received`."""

    def __init__(self, ns, tun=True, seed=b"client-lab provider seed", mtu=1400):
        self.ns = ns
        self.k_r = crypto.return_key(seed)
        self.answer_tokens = True
        self.answer_rs = True
        self.refresh_s = 25
        self.nat_port = None
        self.lenient = False
        self.mtu = mtu
        self.counts = {k: 0 for k in ("token_requests", "token_offers", "solicitations", "adverts",
                                      "unproven", "spoofed_source", "to_tun", "from_tun",
                                      "returns", "other")}
        self.last_token = {}
        self.received = []
        self.peers = {}  # apparent (ipv4, port) -> real (ip text, port)
        self.lock = threading.Lock()
        self.sock = udp_socket(ns, (GW_IP, DATA_PORT))
        self.tun = in_netns(ns, lambda: open_tun("emu0")) if tun else None
        if tun:
            sh("ip", "link", "set", "emu0", "mtu", mtu, "up", ns=ns)
            sh("ip", "-6", "addr", "add", f"{SERVER_V6}/128", "dev", "emu0", "nodad", ns=ns)
            sh("ip", "-6", "route", "add", "2001:db8:7::/48", "dev", "emu0", ns=ns)
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def rt(self, proto, client_ipv4, client_port, provider=PROVIDER_ID):
        if isinstance(client_ipv4, str):
            client_ipv4 = wire.ip(client_ipv4)
        return crypto.return_token(self.k_r, proto, provider, client_ipv4, client_port)

    def apparent(self, src):
        """How "gateways" see a client at `src` (ip text, port): (ipv4 int, port)."""
        return wire.ip(src[0]), self.nat_port if self.nat_port is not None else src[1]

    def send_return(self, dest, proto, token, payload, flags=0, sock=None):
        (sock or self.sock).sendto(wire.return_msg(proto, PROVIDER_ID, token, payload, flags), dest)

    def close(self):
        os.write(self._stop_w, b"x")
        self.thread.join(timeout=5)
        for fd in (self._stop_r, self._stop_w) + ((self.tun,) if self.tun is not None else ()):
            os.close(fd)
        self.sock.close()

    def count(self, key):
        with self.lock:
            self.counts[key] += 1

    # ---- the loop --------------------------------------------------------------------------

    def _run(self):
        fds = [self.sock, self._stop_r] + ([self.tun] if self.tun is not None else [])
        while True:
            readable, _, _ = select.select(fds, [], [])
            if self._stop_r in readable:
                return
            if self.sock in readable:
                d, src = self.sock.recvfrom(65535)
                self._on_datagram(d, src)
            if self.tun is not None and self.tun in readable:
                self._on_tun(os.read(self.tun, 65535))

    def _on_datagram(self, d, src):
        try:
            h = wire.parse_shim(d, wire.DATA)
        except ValueError:
            self.count("other")
            return
        ipv4, port = self.apparent(src)
        with self.lock:
            self.peers[(ipv4, port)] = src
            if not h["flags"] & wire.FLAG_CONTROL:
                self.last_token[h["proto_id"]] = h["token"]
        rt = self.rt(h["proto_id"], ipv4, port)
        if h["flags"] & wire.FLAG_CONTROL:
            self._on_control(h, src, ipv4, port, rt)
        elif h["proto_id"] == wire.IPV6 and wire.is_router_solicitation(h["payload"]):
            self._on_solicitation(h, src, ipv4, port, rt)
        elif h["token"] != rt:
            self.count("unproven")
        elif h["proto_id"] == wire.IPV6:
            self._on_ipv6(h["payload"], ipv4, port)
        else:
            with self.lock:
                self.received.append((h["proto_id"], h["payload"]))

    def _on_control(self, h, src, ipv4, port, rt):
        if h["payload"][:1] != bytes([wire.TOKEN_REQUEST]) or len(h["payload"]) != 64:
            self.count("other")
            return
        self.count("token_requests")
        if not self.answer_tokens:
            return
        offer = wire.token_offer(rt, ipv4, port, self.refresh_s)
        self.send_return(src, h["proto_id"], h["token"], offer, flags=wire.FLAG_CONTROL)
        self.count("token_offers")

    def _on_solicitation(self, h, src, ipv4, port, rt):
        self.count("solicitations")
        if h["token"] != rt and not self.lenient:
            self.count("unproven")
            return
        if not self.answer_rs:
            return
        ra = wire.router_advert(CLIENT_PREFIX, ipv4, port, self.mtu)
        self.send_return(src, wire.IPV6, h["token"], ra)
        self.count("adverts")

    def _on_ipv6(self, packet, ipv4, port):
        if packet[8:14] != CLIENT_PREFIX or packet[14:20] != struct.pack("!IH", ipv4, port):
            self.count("spoofed_source")
            return
        if self.tun is not None:
            os.write(self.tun, packet)
            self.count("to_tun")

    def _on_tun(self, packet):
        """What the IPv6 network sends to the client prefix: a RETURN to the embedded binding."""
        if len(packet) < 40 or packet[0] >> 4 != 6 or packet[24:30] != CLIENT_PREFIX:
            return  # the kernel's own neighbour discovery and the like
        ipv4, port = struct.unpack("!IH", packet[30:36])
        self.count("from_tun")
        with self.lock:
            dest = self.peers.get((ipv4, port))
        if dest is None:
            return
        self.send_return(dest, wire.IPV6, self.rt(wire.IPV6, ipv4, port), packet)
        self.count("returns")


class Lab:
    """Two namespaces (names start with `prefix`), the emulator, and dmux-clients started in the
    client namespace. close() removes everything it made; it is safe to call twice."""

    def __init__(self, prefix, client_binary, workdir, tun=True):
        self.prefix = prefix
        self.client_binary = client_binary
        self.dir = workdir
        self.client_ns, self.gw_ns = prefix + "client", prefix + "gw"
        self.provider = None
        self.clients = []
        self._made = []
        try:
            self._make_namespaces()
            self.provider = EmulatedProvider(self.gw_ns, tun=tun)
        except BaseException:
            self.close()
            raise

    def _make_namespaces(self):
        for ns in (self.client_ns, self.gw_ns):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", ns=ns)
        sh("ip", "link", "add", "eth0", "netns", self.client_ns, "type", "veth", "peer", "name",
           "toclient", "netns", self.gw_ns)
        sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", ns=self.client_ns)
        for ns, dev, addr in ((self.client_ns, "eth0", f"{CLIENT_IP}/24"),
                              (self.gw_ns, "toclient", f"{GW_IP}/24")):
            sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "route", "add", "default", "via", GW_IP, ns=self.client_ns)

    def start_client(self, *args, name="client"):
        c = ClientProcess(self, name, list(args))
        self.clients.append(c)
        return c

    def close(self):
        for c in self.clients:
            c.stop(signal.SIGKILL)
        self.clients = []
        if self.provider is not None:
            self.provider.close()
            self.provider = None
        for ns in self._made:
            delete_namespace(ns)
        self._made = []


class NsProcess:
    """A process in namespace `ns`, its output in WORKDIR/NAME.log."""

    def __init__(self, name, ns, cmd, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.log_path, "w") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + [str(c) for c in cmd],
                                         stdout=log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the process and waits; returns its exit status (killed if it hangs)."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class ClientProcess(NsProcess):
    """A real dmux-client in the lab's client namespace, talking to the emulator, with its own
    control socket."""

    def __init__(self, lab, name, args):
        self.socket = os.path.join(lab.dir, f"{name}.sock")
        super().__init__(name, lab.client_ns, [lab.client_binary, "--gateway",
                                               f"{GW_IP}:{DATA_PORT}", "--control-socket",
                                               self.socket] + args, lab.dir)

    def status(self):
        return unix_request(self.socket, "status")

    def try_status(self):
        try:
            return self.status()
        except (OSError, ValueError):
            return None

    def wait_address(self, timeout=10):
        ok = wait_for(lambda: not self.alive() or (self.try_status() or {}).get("address"),
                      timeout=timeout)
        if not ok or not self.alive():
            raise AssertionError("no address offered:\n" + self.read_log())
        return self.status()["address"]

    def wait_tokens(self, timeout=10):
        def all_known():
            st = self.try_status()
            return st is not None and all(s["return_token"]["have_token"]
                                          for s in st["selectors"] if s["active"])
        if not wait_for(lambda: not self.alive() or all_known(), timeout=timeout) or \
                not self.alive():
            raise AssertionError("no return tokens:\n" + self.read_log())
        return self.status()

    def binding(self):
        """(ipv4 int, port) of the client's tunnel socket as the emulator sees it (no NAT)."""
        return wire.ip(CLIENT_IP), int(self.status()["local"].rsplit(":", 1)[1])
