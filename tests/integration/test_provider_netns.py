"""dmux-provider for real, in network namespaces (needs root): registration with a real dmuxd,
de-tunnelling into a real TUN device, a server's kernel answering ping, the reply sent as RETURN.

    client (IPv4 only) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    198.18.1.2        198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1   2001:db8:1::2

The client prefix 2001:db8:7::/48 is routed by the server to the router, and by the router (the
agent adds the route) into its TUN device. Every namespace, process and temporary directory is
removed by the test's cleanups and tearDownClass, also when a test or its setUp fails.
"""
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dmuxlib import BUILD_DIR, DMUXCTL, DMUXD, IPV6, RETURN, data_msg, main, wait_for

PROVIDER = os.path.join(BUILD_DIR, "provider", "dmux-provider")
DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")

PREFIX = f"dmuxt-{os.getpid()}-"
NS = {role: PREFIX + role for role in ("client", "gw", "router", "server")}
CLIENT_IP, GW_CLIENT_SIDE = "198.18.1.2", "198.18.1.1"
GW_ROUTER_SIDE, ROUTER_IP = "198.18.2.1", "198.18.2.2"
ROUTER_V6, SERVER_V6 = "2001:db8:1::1", "2001:db8:1::2"
CLIENT_PREFIX = "2001:db8:7::/48"
DATA_PORT, REG_PORT, TUNNEL_PORT = 4500, 4501, 5000
PROVIDER_ID = 7
KEEPALIVE_MS, HOLD_MS = 300, 10000  # hold long, so a removal within it proves DEREGISTER worked

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return r


def udp_socket_in(ns, bind):
    """A UDP socket living in namespace `ns`: created by a thread that joined it (setns is per
    thread), usable from any thread afterwards."""
    out = {}

    def worker():
        try:
            with open(f"/run/netns/{ns}") as f:
                if _libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(bind)
            out["sock"] = s
        except Exception as e:  # reported in the caller's thread
            out["error"] = e

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


# ---- IPv6 / ICMPv6 packets -------------------------------------------------------------------

def inet6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def embedded_address(ipv4, port, tag):
    """protocol.md section 11: prefix(48) | client_ipv4(32) | client_port(16) | tag(32)."""
    return inet6("2001:db8:7::")[:6] + socket.inet_aton(ipv4) + struct.pack("!HI", port, tag)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp6_checksum(src, dst, icmp):
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    return checksum(pseudo + icmp)


def echo_request(src, dst, ident, seq, data):
    icmp = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
    icmp = icmp[:2] + struct.pack("!H", icmp6_checksum(src, dst, icmp)) + icmp[4:]
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + src + dst + icmp


def parse_ipv6(p):
    vtf, plen, nh, _ = struct.unpack("!IHBB", p[:8])
    return dict(version=vtf >> 28, payload_len=plen, next_header=nh, src=p[8:24], dst=p[24:40],
                payload=p[40:])


def parse_return(d):
    version, mtype, hdr_len, _, proto, _, provider, token = struct.unpack("!BBBBHHIQ", d[:20])
    return dict(version=version, type=mtype, hdr_len=hdr_len, proto_id=proto,
                provider_id=provider, token=token, payload=d[hdr_len:])


def icmp6_in_echos(ns):
    """Echo requests that reached the kernel of namespace `ns`."""
    lines = sh("cat", "/proc/net/snmp6", ns=ns).stdout.splitlines()
    return int(dict(line.split() for line in lines if line.strip())["Icmp6InEchos"])


# ---- processes in namespaces -----------------------------------------------------------------

class NsProcess:
    def __init__(self, name, ns, cmd, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.log_path, "w") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log,
                                         stderr=subprocess.STDOUT)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

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


def unix_request(path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        return json.loads(s.makefile("rb").read())


class ProviderNetns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (network namespaces, TUN devices)")
        for binary in (DMUXD, PROVIDER, DMUX_CA, DMUXCTL):
            if not os.access(binary, os.X_OK):
                raise RuntimeError(f"{binary} is not built")
        cls.dir = tempfile.mkdtemp(prefix="dmux-provider-netns-")
        try:
            cls._make_namespaces()
            cls._make_credentials()
        except BaseException:
            cls._cleanup_class()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._cleanup_class()

    @classmethod
    def _cleanup_class(cls):
        for ns in NS.values():
            # Anything still running in our namespaces was started by this test.
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _make_namespaces(cls):
        for ns in NS.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            # Links created below inherit "default": no duplicate address detection delays.
            sh("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", ns=ns)
        c, g, r, s = NS["client"], NS["gw"], NS["router"], NS["server"]
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=c)
        for a, a_dev, b, b_dev in ((c, "eth0", g, "toclient"), (g, "torouter", r, "eth0"),
                                   (r, "toserver", s, "eth0")):
            sh("ip", "link", "add", a_dev, "netns", a, "type", "veth", "peer", "name", b_dev,
               "netns", b)
        addresses = ((c, "eth0", f"{CLIENT_IP}/24"), (g, "toclient", f"{GW_CLIENT_SIDE}/24"),
                     (g, "torouter", f"{GW_ROUTER_SIDE}/24"), (r, "eth0", f"{ROUTER_IP}/24"),
                     (r, "toserver", f"{ROUTER_V6}/64"), (s, "eth0", f"{SERVER_V6}/64"))
        for ns, dev, addr in addresses:
            sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "route", "add", "default", "via", GW_CLIENT_SIDE, ns=c)
        sh("ip", "route", "add", "default", "via", GW_ROUTER_SIDE, ns=r)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=g)
        sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=r)
        sh("ip", "-6", "route", "add", CLIENT_PREFIX, "via", ROUTER_V6, ns=s)

    @classmethod
    def _make_credentials(cls):
        ca = os.path.join(cls.dir, "ca")
        sh(DMUX_CA, "init", "--dir", ca)
        sh(DMUX_CA, "issue-provider", "--dir", ca, "--provider-id", PROVIDER_ID, "--protocols",
           "ipv6", "--out", os.path.join(ca, "prov"))
        cls.ca_cert = os.path.join(ca, "ca.crt")
        cls.prov_cert = os.path.join(ca, "prov.crt")
        cls.prov_key = os.path.join(ca, "prov.key")

    # ---- per test: a gateway and an agent -------------------------------------------------

    def setUp(self):
        self.procs, self.socks = [], []
        self.gw_sock = os.path.join(self.dir, "dmuxd.sock")
        self.prov_sock = os.path.join(self.dir, "provider.sock")
        self.addCleanup(self.stop_everything)  # runs even if the rest of setUp fails
        self.dmuxd = self.start_dmuxd()
        self.provider = self.start_provider()
        self.assertTrue(wait_for(self.router_registered, timeout=10),
                        "router never registered:\n" + self.provider.read_log() +
                        self.dmuxd.read_log())

    def stop_everything(self):
        # The agent must exit cleanly on SIGTERM (under the sanitizer build this is where leaks
        # and late memory errors show).
        unclean = None
        for p in reversed(self.procs):
            if p.alive() and p.stop(signal.SIGTERM) != 0 and p.name == "provider":
                unclean = f"dmux-provider exited with {p.proc.returncode}:\n{p.read_log()[-3000:]}"
        for s in self.socks:
            s.close()
        for path in (self.gw_sock, self.prov_sock):
            if os.path.exists(path):
                os.unlink(path)
        if unclean:
            self.fail(unclean)

    def spawn(self, name, ns, cmd):
        p = NsProcess(name, ns, cmd, self.dir)
        self.procs.append(p)
        return p

    def start_dmuxd(self):
        p = self.spawn("dmuxd", NS["gw"], [
            DMUXD, "--listen", f"{GW_CLIENT_SIDE}:{DATA_PORT}", "--workers", "1",
            "--registration-listen", f"{GW_ROUTER_SIDE}:{REG_PORT}", "--ca-cert", self.ca_cert,
            "--keepalive-interval-ms", str(KEEPALIVE_MS), "--hold-time-ms", str(HOLD_MS),
            "--control-socket", self.gw_sock, "--metrics-listen", "off"])
        self.assertTrue(wait_for(lambda: os.path.exists(self.gw_sock) or not p.alive(), 10))
        self.assertTrue(p.alive(), "dmuxd exited:\n" + p.read_log())
        return p

    def start_provider(self):
        p = self.spawn("provider", NS["router"], [
            PROVIDER, "--gateway", f"{GW_ROUTER_SIDE}:{REG_PORT}",
            "--listen", f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", self.prov_cert, "--key",
            self.prov_key, "--client-prefix", CLIENT_PREFIX, "--control-socket", self.prov_sock])
        self.assertTrue(wait_for(lambda: os.path.exists(self.prov_sock) or not p.alive(), 10))
        self.assertTrue(p.alive(), "dmux-provider exited:\n" + p.read_log())
        return p

    def gateway_routers(self):
        r = subprocess.run([DMUXCTL, "--socket", self.gw_sock, "--json", "routers"],
                           capture_output=True, text=True, timeout=10)
        return json.loads(r.stdout)["routers"] if r.returncode == 0 else []

    def router_registered(self):
        return any(r["provider_id"] == PROVIDER_ID and r["address"] == f"{ROUTER_IP}:{TUNNEL_PORT}"
                   and r["origin"] == "registered" and r["state"] == "up"
                   for r in self.gateway_routers())

    def provider_status(self):
        return unix_request(self.prov_sock, "status")

    def client_socket(self):
        s = udp_socket_in(NS["client"], (CLIENT_IP, 0))
        s.settimeout(3)
        self.socks.append(s)
        return s

    def tun_exists(self):
        return sh("ip", "link", "show", "dmuxp0", ns=NS["router"], check=False).returncode == 0

    def prefix_route(self):
        return sh("ip", "-6", "route", "show", CLIENT_PREFIX, ns=NS["router"]).stdout.strip()

    def send_echo(self, sock, src, tag, ident=0x1d, seq=1, data=b"ipdmux-provider-test"):
        packet = echo_request(src, inet6(SERVER_V6), ident, seq, data)
        sock.sendto(data_msg(IPV6, PROVIDER_ID, tag, packet), (GW_CLIENT_SIDE, DATA_PORT))
        return packet

    def test_registration_is_visible_on_both_sides(self):
        st = self.provider_status()
        self.assertEqual(st["provider_id"], PROVIDER_ID)
        reg = st["registrations"][0]
        self.assertEqual(reg["protocol"], "ipv6")
        self.assertEqual(reg["state"], "registered")
        self.assertEqual(reg["gateway_id"], GW_CLIENT_SIDE)
        self.assertEqual(reg["keepalive_interval_ms"], KEEPALIVE_MS)
        self.assertTrue(wait_for(  # keepalives flow and are answered
            lambda: self.provider_status()["registrations"][0]["keepalive_acks"] >= 2, timeout=5))
        # The agent measures its RTT from those exchanges and reports it in its next KEEPALIVE.
        self.assertGreater(self.provider_status()["registrations"][0]["gateway_rtt_us"], 0)
        self.assertTrue(wait_for(lambda: any(
            r.get("router_rtt_us", 0) > 0 for r in self.gateway_routers()
            if r["origin"] == "registered"), timeout=5))

    def test_ping_through_gateway_and_provider(self):
        sock = self.client_socket()
        port = sock.getsockname()[1]
        tag = secrets.randbits(32)
        me = embedded_address(CLIENT_IP, port, tag)
        echos_before = icmp6_in_echos(NS["server"])
        sent = self.send_echo(sock, me, tag)
        data, src = sock.recvfrom(65535)
        self.assertEqual(src, (ROUTER_IP, TUNNEL_PORT))  # straight from the router
        ret = parse_return(data)
        payload = ret.pop("payload")
        self.assertEqual(ret, dict(version=1, type=RETURN, hdr_len=20, proto_id=IPV6,
                                   provider_id=PROVIDER_ID, token=tag))
        ip = parse_ipv6(payload)
        icmp = ip.pop("payload")
        self.assertEqual(ip, dict(version=6, payload_len=len(icmp), next_header=58,
                                  src=inet6(SERVER_V6), dst=me))
        self.assertEqual(icmp[0], 129)  # echo reply
        self.assertEqual(icmp[4:], sent[40 + 4:])  # same id, seq and data
        self.assertEqual(icmp6_checksum(inet6(SERVER_V6), me, icmp), 0)
        self.assertEqual(icmp6_in_echos(NS["server"]), echos_before + 1)
        st = self.provider_status()
        self.assertEqual(st["delivered_to_tun"], 1)
        self.assertEqual(st["returned"], 1)
        # Nothing dropped but the kernel's own MLD reports into the new TUN device.
        self.assertEqual(st["dropped_packets"], st["drops"]["multicast"], json.dumps(st))

    def test_spoofed_sources_are_dropped_before_the_server(self):
        sock = self.client_socket()
        port = sock.getsockname()[1]
        tag = secrets.randbits(32)
        echos_before = icmp6_in_echos(NS["server"])
        # Another client's address (port differs), a wrong tag, and an address outside the prefix.
        self.send_echo(sock, embedded_address(CLIENT_IP, port ^ 1, tag), tag)
        self.send_echo(sock, embedded_address(CLIENT_IP, port, tag ^ 1), tag)
        self.send_echo(sock, inet6("2001:db8:1::99"), tag)
        self.assertTrue(wait_for(
            lambda: self.provider_status()["drops"]["spoofed_source"] == 3, timeout=5),
            json.dumps(self.provider_status()))
        sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            sock.recvfrom(65535)
        st = self.provider_status()
        self.assertEqual(st["tunnels_received"], 3)
        self.assertEqual(st["delivered_to_tun"], 0)
        self.assertEqual(icmp6_in_echos(NS["server"]), echos_before)

    def test_sigterm_deregisters_and_removes_tun_and_route(self):
        self.assertTrue(self.prefix_route().startswith(f"{CLIENT_PREFIX} dev dmuxp0 "))
        started = time.monotonic()
        self.assertEqual(self.provider.stop(signal.SIGTERM), 0, self.provider.read_log())
        # Gone at once (DEREGISTER), well before the hold time would have expired it.
        self.assertTrue(wait_for(lambda: not self.router_registered(), timeout=3),
                        self.provider.read_log() + self.dmuxd.read_log())
        self.assertLess(time.monotonic() - started, HOLD_MS / 1000 / 2)
        self.assertFalse(self.tun_exists())
        self.assertEqual(self.prefix_route(), "")

    def test_sigkill_leaves_no_tun_device(self):
        self.provider.stop(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not self.tun_exists(), timeout=3))
        self.assertEqual(self.prefix_route(), "")

    def test_reregisters_with_a_restarted_gateway(self):
        self.assertEqual(self.dmuxd.stop(signal.SIGTERM), 0, self.dmuxd.read_log())
        self.dmuxd = self.start_dmuxd()  # knows nothing of the old session
        self.assertTrue(wait_for(self.router_registered, timeout=10), self.provider.read_log())
        reg = self.provider_status()["registrations"][0]
        self.assertEqual(reg["state"], "registered")
        self.assertGreaterEqual(reg["reregistrations"], 1)
        self.assertIn("re-registering", self.provider.read_log())


if __name__ == "__main__":
    main()
