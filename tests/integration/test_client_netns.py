"""dmux-client for real, in network namespaces (needs root): NFQUEUE capture, a real dmuxd and
dmux-provider, the address offer, unmodified ping and socat, cleanup after SIGTERM and SIGKILL,
bypass while the daemon is dead, forged RETURNs.

    client (IPv4 only on eth0) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    198.18.1.2               198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1   2001:db8:1::2

The client namespace has no IPv6 address or route until dmux-client's TUN device gets the address
the provider offers (2001:db8:7:c612:102:PORT:TAG). Namespaces, processes and files are removed in
tearDownClass and per-test cleanups, also on failure.
"""
import hashlib
import re
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dmuxlib import BUILD_DIR, DMUXD, RETURN, IPV6, data_msg, main, wait_for
from test_provider_netns import (DMUX_CA, PROVIDER, NsProcess, checksum, inet6, sh, udp_socket_in,
                                 unix_request)

CLIENT = os.path.join(BUILD_DIR, "client-capture", "dmux-client")
PREFIX = f"dmuxc-{os.getpid()}-"
NS = {role: PREFIX + role for role in ("client", "gw", "router", "server")}
CLIENT_IP, GW_CLIENT_SIDE = "198.18.1.2", "198.18.1.1"
GW_ROUTER_SIDE, ROUTER_IP = "198.18.2.1", "198.18.2.2"
ROUTER_V6, SERVER_V6 = "2001:db8:1::1", "2001:db8:1::2"
CLIENT_PREFIX = "2001:db8:7::/48"
DATA_PORT, REG_PORT, TUNNEL_PORT, BYPASS_PORT, TCP_PORT = 4500, 4501, 5000, 9999, 7000
PROVIDER_ID = 7
CHAIN = "DMUX-CLIENT"
METRICS_PORT = 9751


def make_topology():
    for ns in NS.values():
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", ns=ns)
    c, g, r, s = NS["client"], NS["gw"], NS["router"], NS["server"]
    for a, a_dev, b, b_dev in ((c, "eth0", g, "toclient"), (g, "torouter", r, "eth0"),
                               (r, "toserver", s, "eth0")):
        sh("ip", "link", "add", a_dev, "netns", a, "type", "veth", "peer", "name", b_dev,
           "netns", b)
    sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", ns=c)  # IPv4 only on the wire
    for ns, dev, addr in ((c, "eth0", f"{CLIENT_IP}/24"), (g, "toclient", f"{GW_CLIENT_SIDE}/24"),
                          (g, "torouter", f"{GW_ROUTER_SIDE}/24"), (r, "eth0", f"{ROUTER_IP}/24"),
                          (r, "toserver", f"{ROUTER_V6}/64"), (s, "eth0", f"{SERVER_V6}/64")):
        sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    sh("ip", "route", "add", "default", "via", GW_CLIENT_SIDE, ns=c)
    sh("ip", "route", "add", "default", "via", GW_ROUTER_SIDE, ns=r)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=g)
    sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=r)
    sh("ip", "-6", "route", "add", CLIENT_PREFIX, "via", ROUTER_V6, ns=s)


def chain_rules(family):
    tool = "ip6tables" if family == 6 else "iptables"
    out = sh(tool, "-w", "-S", ns=NS["client"]).stdout
    return [line for line in out.splitlines() if CHAIN in line]


def tun_exists():
    return sh("ip", "link", "show", "dmuxc0", ns=NS["client"], check=False).returncode == 0


def udp6_packet(src, dst, sport, dport, data):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = src + dst + struct.pack("!I3xB", len(udp), 17)
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    return struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + src + dst + udp


class ClientNetns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (network namespaces, NFQUEUE, TUN devices)")
        for binary in (DMUXD, PROVIDER, DMUX_CA, CLIENT):
            if not os.access(binary, os.X_OK):
                raise RuntimeError(f"{binary} is not built")
        for tool in ("ping", "socat", "iptables", "ip6tables"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is not installed (scripts/install-deps.sh)")
        cls.dir = tempfile.mkdtemp(prefix="dmux-client-netns-")
        cls.procs = []
        try:
            make_topology()
            ca = os.path.join(cls.dir, "ca")
            sh(DMUX_CA, "init", "--dir", ca)
            sh(DMUX_CA, "issue-provider", "--dir", ca, "--provider-id", PROVIDER_ID,
               "--protocols", "ipv6", "--out", os.path.join(ca, "prov"))
            cls.gw_sock = os.path.join(cls.dir, "dmuxd.sock")
            cls.prov_sock = os.path.join(cls.dir, "provider.sock")
            cls.procs.append(NsProcess("dmuxd", NS["gw"], [
                DMUXD, "--listen", f"{GW_CLIENT_SIDE}:{DATA_PORT}", "--workers", "1",
                "--registration-listen", f"{GW_ROUTER_SIDE}:{REG_PORT}", "--ca-cert",
                os.path.join(ca, "ca.crt"), "--keepalive-interval-ms", "500",
                "--control-socket", cls.gw_sock, "--metrics-listen", "off"], cls.dir))
            cls.procs.append(NsProcess("provider", NS["router"], [
                PROVIDER, "--gateway", f"{GW_ROUTER_SIDE}:{REG_PORT}",
                "--listen", f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", os.path.join(ca, "prov.crt"),
                "--key", os.path.join(ca, "prov.key"), "--client-prefix", CLIENT_PREFIX,
                "--control-socket", cls.prov_sock], cls.dir))
            if not wait_for(cls.registered, timeout=10):
                raise RuntimeError("router never registered:\n" +
                                   "".join(p.read_log() for p in cls.procs))
        except BaseException:
            cls._cleanup_class()
            raise

    @classmethod
    def registered(cls):
        try:
            st = unix_request(cls.prov_sock, "status")
        except OSError:
            return False
        return st["registrations"][0]["state"] == "registered"

    @classmethod
    def tearDownClass(cls):
        cls._cleanup_class()

    @classmethod
    def _cleanup_class(cls):
        for p in cls.procs:
            p.stop(signal.SIGTERM)
        for ns in NS.values():
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # ---- per test: one dmux-client ------------------------------------------------------------

    def setUp(self):
        self.sock_path = os.path.join(self.dir, "client.sock")
        self.socks, self.helpers = [], []
        self.addCleanup(self.cleanup)
        self.client = self.start_client()

    def cleanup(self):
        for h in self.helpers:
            if h.poll() is None:
                h.kill()
                h.wait()
        for s in self.socks:
            s.close()
        rc = self.client.stop(signal.SIGTERM)
        if rc not in (0, -signal.SIGKILL):
            self.fail(f"dmux-client exited with {rc}:\n{self.client.read_log()[-3000:]}")
        sh(CLIENT, "--cleanup", ns=NS["client"], check=False)  # after a failed test

    def start_client(self):
        p = NsProcess("client", NS["client"], [
            CLIENT, "--gateway", f"{GW_CLIENT_SIDE}:{DATA_PORT}", "--capture",
            f"ipv6:provider={PROVIDER_ID}", "--capture",
            f"generic:proto=exp-0x8001,match=-p udp --dport {BYPASS_PORT}",
            "--solicit-interval-ms", "1000", "--control-socket", self.sock_path], self.dir)
        ok = wait_for(lambda: not p.alive() or self.client_address(), timeout=10)
        self.assertTrue(ok and p.alive(), "no address offered:\n" + p.read_log())
        return p

    def status(self):
        return unix_request(self.sock_path, "status")

    def client_address(self):
        try:
            return self.status()["address"]
        except (OSError, ValueError):
            return ""

    def run_in(self, role, *cmd, timeout=30):
        return subprocess.run(["ip", "netns", "exec", NS[role]] + list(cmd), capture_output=True,
                              text=True, timeout=timeout)

    # ---- tests -------------------------------------------------------------------------------

    def test_ping6_reaches_the_ipv6_only_server(self):
        st = self.status()
        self.assertTrue(st["address"].startswith("2001:db8:7:c612:102:"), st["address"])
        r = self.run_in("client", "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", SERVER_V6)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.client.read_log())
        st = self.status()
        self.assertGreaterEqual(st["tunnelled"], 3)
        self.assertGreaterEqual(st["injected"], 3)
        self.assertEqual(st["drops"]["bad_token"], 0)
        # Prometheus metrics over HTTP inside the client namespace (refreshed every second).
        def injected_in_metrics():
            r = self.run_in("client", "curl", "-s", f"http://127.0.0.1:{METRICS_PORT}/metrics")
            m = re.search(r"^dmux_client_injected_packets_total (\d+)", r.stdout, re.M)
            return m is not None and int(m.group(1)) >= 3
        self.assertTrue(wait_for(injected_in_metrics, timeout=5))

    def test_tcp_transfer_is_intact(self):
        src = os.path.join(self.dir, "send.bin")
        dst = os.path.join(self.dir, "recv.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(4 << 20))
        server = subprocess.Popen(["ip", "netns", "exec", NS["server"], "socat", "-u",
                                   f"TCP6-LISTEN:{TCP_PORT},reuseaddr", f"CREATE:{dst}"])
        self.helpers.append(server)
        time.sleep(0.3)
        r = self.run_in("client", "socat", "-u", f"FILE:{src}",
                        f"TCP6:[{SERVER_V6}]:{TCP_PORT}", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr + self.client.read_log())
        server.wait(timeout=30)
        with open(src, "rb") as a, open(dst, "rb") as b:
            self.assertEqual(hashlib.sha256(a.read()).hexdigest(),
                             hashlib.sha256(b.read()).hexdigest())
        self.assertGreater(self.status()["tunnelled_bytes"], 4 << 20)

    def test_sigterm_removes_rules_and_device(self):
        self.assertEqual(len(chain_rules(6)), 5, chain_rules(6))  # -N, 3 rules, jump
        self.assertEqual(len(chain_rules(4)), 3, chain_rules(4))
        self.assertEqual(self.client.stop(signal.SIGTERM), 0, self.client.read_log())
        self.assertEqual(chain_rules(4) + chain_rules(6), [])
        self.assertFalse(tun_exists())

    def test_sigkill_bypass_and_restart(self):
        sink = udp_socket_in(NS["gw"], (GW_CLIENT_SIDE, BYPASS_PORT))
        sink.settimeout(1)
        self.socks.append(sink)
        sender = udp_socket_in(NS["client"], (CLIENT_IP, 0))
        self.socks.append(sender)
        # While the daemon runs, the generic selector captures this (and tunnels it).
        before = self.status()["tunnelled"]
        sender.sendto(b"captured", (GW_CLIENT_SIDE, BYPASS_PORT))
        with self.assertRaises(socket.timeout):
            sink.recvfrom(100)
        self.assertEqual(self.status()["tunnelled"], before + 1)
        self.client.stop(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not tun_exists(), timeout=3))
        self.assertNotEqual(chain_rules(4), [])  # stale, but bypassed: traffic still flows
        sender.sendto(b"bypassed", (GW_CLIENT_SIDE, BYPASS_PORT))
        self.assertEqual(sink.recvfrom(100)[0], b"bypassed")
        self.client = self.start_client()  # removes the stale chain first
        self.assertEqual(len(chain_rules(6)), 5, chain_rules(6))
        self.assertEqual(len(chain_rules(4)), 3, chain_rules(4))
        self.assertIn("stale", self.client.read_log())
        self.assertEqual(self.client.stop(signal.SIGTERM), 0, self.client.read_log())
        self.assertEqual(chain_rules(4) + chain_rules(6), [])
        self.assertFalse(tun_exists())

    def test_forged_returns_are_not_injected(self):
        st = self.status()
        me = inet6(st["address"])
        token = int(st["token"], 16)
        port = int(st["local"].split(":")[1])
        listener = self.helpers_udp6_listener(me)
        forger = udp_socket_in(NS["gw"], (GW_CLIENT_SIDE, 0))
        self.socks.append(forger)
        packet = udp6_packet(inet6(SERVER_V6), me, 5555, 6666, b"forged")
        for bad_token in (token ^ 1, token << 32, 0):
            forger.sendto(data_msg(IPV6, PROVIDER_ID, bad_token, packet, msg_type=RETURN),
                          (CLIENT_IP, port))
        forger.sendto(b"\x01\x03\x14", (CLIENT_IP, port))  # truncated
        self.assertTrue(wait_for(lambda: self.status()["drops"]["bad_token"] == 3, timeout=3),
                        json.dumps(self.status()))
        listener.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            listener.recvfrom(100)
        self.assertEqual(self.status()["drops"]["truncated"], 1)
        # Control: with the right token the same packet does arrive (the check is what stops it).
        forger.sendto(data_msg(IPV6, PROVIDER_ID, token, packet, msg_type=RETURN),
                      (CLIENT_IP, port))
        listener.settimeout(3)
        self.assertEqual(listener.recvfrom(100)[0], b"forged")

    def helpers_udp6_listener(self, address):
        import ctypes
        out = {}
        libc = ctypes.CDLL(None, use_errno=True)

        def worker():
            with open(f"/run/netns/{NS['client']}") as f:
                libc.setns(f.fileno(), 0x40000000)
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind((socket.inet_ntop(socket.AF_INET6, address), 6666))
            out["s"] = s
        import threading
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        self.socks.append(out["s"])
        return out["s"]


if __name__ == "__main__":
    main()
