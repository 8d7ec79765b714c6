"""dmux-client for real, in network namespaces (needs root): capture by netfilter marks and policy
routing into the TUN device, return tokens, the address offer, unmodified ping and socat, every
packet size (ping -6 -s 8000, 1470-byte UDP, IPv4 fragments and DF), native IPv6 coming and going
(netlink), a NAT binding that moves, cleanup after SIGTERM and SIGKILL, bypass while the daemon is
dead or has no token, forged RETURNs.

ClientNetns runs the real dmux-client against an emulated gateway + provider router
(tests/pylib/ipdmux/client_lab.py, written from docs/protocol.md), so it tests the client alone:

    client (IPv4 only on eth0, dmux-client, dmuxc0) --- gw (emulator; emu0: the IPv6 server)
    198.18.1.2                                          198.18.1.1 | 2001:db8:1::2

ClientWithRealDaemons runs it once more against the real dmuxd and dmux-provider (and is the
topology bench/capture/run.py measures):

    client (IPv4 only on eth0) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    198.18.1.2               198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1   2001:db8:1::2

The client namespace has no IPv6 address or route until dmux-client's TUN device gets the address
the provider offers (2001:db8:7:c612:102:PORT:TAG). Namespaces, processes and files are removed in
tearDownClass and per-test cleanups, also on failure.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, DMUXD, main  # noqa: E402
from ipdmux import agent_lab, client_lab, wire  # noqa: E402
from ipdmux.client_lab import (  # noqa: E402
    CLIENT_IP, EXP_PROTO, GW_IP, PROVIDER_ID, SERVER_V6, inet6, sh, udp6_packet, udp_socket,
    wait_for)

CLIENT = os.path.join(BUILD_DIR, "client", "dmux-client")
PROVIDER = os.path.join(BUILD_DIR, "provider", "dmux-provider")
DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
CHAIN = "DMUX-CLIENT"
ROUTE_TABLE = 4467  # dmux-client's default --route-table (also its rules' preference)
NATIVE_V6, NATIVE_GW_V6 = "2001:db8:ffff::2", "2001:db8:ffff::1"
DF_DEST = "198.18.1.77"  # on the client's link, nobody there: DF datagrams never leave the host
BYPASS_PORT, TCP_PORT, LISTEN_PORT, ECHO_PORT = 9999, 7000, 6666, 7001
METRICS_PORT = 9751
# ClientWithRealDaemons' topology.
REAL_PREFIX = f"dmuxc-{os.getpid()}-"
REAL_NS = {role: REAL_PREFIX + role for role in ("client", "gw", "router", "server")}
GW_ROUTER_SIDE, ROUTER_IP, ROUTER_V6 = "198.18.2.1", "198.18.2.2", "2001:db8:1::1"
REAL_CLIENT_PREFIX = "2001:db8:7::/48"
DATA_PORT, REG_PORT, TUNNEL_PORT, IPERF_PORT = 4500, 4501, 5000, 5201


def need_root_and_tools(*binaries):
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (network namespaces, iptables, TUN devices)")
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} is not built")
    for tool in ("ping", "socat", "iptables", "ip6tables"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest(f"{tool} is not installed (scripts/install-deps.sh)")


def chain_rules(ns, family):
    tool = "ip6tables" if family == 6 else "iptables"
    out = sh(tool, "-w", "-t", "mangle", "-S", ns=ns).stdout
    return [line for line in out.splitlines() if CHAIN in line]


def routing_rules(ns):
    out = sh("ip", "-4", "rule", "show", ns=ns).stdout
    return [line for line in out.splitlines() if line.startswith(f"{ROUTE_TABLE}:")]


def tun_routes(ns):
    return sh("ip", "-6", "route", "show", "dev", "dmuxc0", ns=ns, check=False).stdout


def tun_exists(ns):
    return sh("ip", "link", "show", "dmuxc0", ns=ns, check=False).returncode == 0


class ClientNetns(unittest.TestCase):
    """The real dmux-client against the emulated gateway + router."""

    @classmethod
    def setUpClass(cls):
        need_root_and_tools(CLIENT)
        cls.dir = tempfile.mkdtemp(prefix="dmux-client-netns-")
        try:
            cls.lab = client_lab.Lab(f"dmuxce-{os.getpid()}-", CLIENT, cls.dir)
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.ns = cls.lab.client_ns
        cls.emu = cls.lab.provider
        # Refreshes every second: every test also runs across token refreshes.
        cls.emu.refresh_s = 1

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    # ---- per test: one dmux-client ------------------------------------------------------------

    def setUp(self):
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
        self.emu.answer_tokens = self.emu.answer_rs = True
        self.emu.nat_port = None
        if rc not in (0, -signal.SIGKILL):
            self.fail(f"dmux-client exited with {rc}:\n{self.client.read_log()[-3000:]}")
        sh(CLIENT, "--cleanup", ns=self.ns, check=False)  # after a failed test

    def start_client(self, wait=True):
        c = self.lab.start_client(
            "--capture", f"ipv6:provider={PROVIDER_ID}", "--capture",
            f"generic:proto=exp-0x8001,match=-p udp --dport {BYPASS_PORT}",
            "--solicit-interval-ms", "1000", "--metrics-listen", f"127.0.0.1:{METRICS_PORT}")
        if wait:
            c.wait_address()
        return c

    def status(self):
        return self.client.status()

    def run_in(self, *cmd, ns=None, timeout=30):
        return subprocess.run(["ip", "netns", "exec", ns or self.ns] + list(cmd),
                              capture_output=True, text=True, timeout=timeout)

    def listener(self, address):
        s = udp_socket(self.ns, (address, LISTEN_PORT), socket.AF_INET6)
        self.socks.append(s)
        return s

    def rt(self, proto):
        return self.emu.rt(proto, *self.client.binding())

    # ---- tests -------------------------------------------------------------------------------

    def test_tokens_then_address_then_ping6(self):
        st = self.status()
        self.assertTrue(st["address"].startswith("2001:db8:7:c612:102:"), st["address"])
        self.assertTrue(all(s["return_token"]["have_token"] for s in st["selectors"]), st)
        self.assertEqual(st["binding"], f"{CLIENT_IP}:{self.client.binding()[1]}")
        self.assertGreaterEqual(st["token_offers"], 2)
        # The RS carried the ipv6 rt, never the tag.
        self.assertEqual(self.emu.last_token[wire.IPV6], self.rt(wire.IPV6))
        unproven = self.emu.counts["unproven"]
        r = self.run_in("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", SERVER_V6)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.client.read_log())
        st = self.status()
        self.assertGreaterEqual(st["tunnelled"], 3)
        self.assertGreaterEqual(st["injected"], 3)
        self.assertEqual(st["drops"]["bad_token"], 0)
        self.assertEqual(self.emu.counts["unproven"], unproven, "DATA without the client's rt")

        def metrics_show_tokens():
            r = self.run_in("curl", "-s", f"http://127.0.0.1:{METRICS_PORT}/metrics")
            inj = re.search(r"^dmux_client_injected_packets_total (\d+)", r.stdout, re.M)
            off = re.search(r"^dmux_client_token_offers_total (\d+)", r.stdout, re.M)
            no_token = re.search(r'^dmux_client_dropped_packets_total\{reason="no_token"\}',
                                 r.stdout, re.M)
            return inj and int(inj.group(1)) >= 3 and off and int(off.group(1)) >= 2 and no_token
        if shutil.which("curl"):
            self.assertTrue(wait_for(metrics_show_tokens, timeout=5))

    def test_tcp_transfer_is_intact(self):
        src = os.path.join(self.dir, "send.bin")
        dst = os.path.join(self.dir, "recv.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(4 << 20))
        server = subprocess.Popen(["ip", "netns", "exec", self.lab.gw_ns, "socat", "-u",
                                   f"TCP6-LISTEN:{TCP_PORT},reuseaddr", f"CREATE:{dst}"])
        self.helpers.append(server)
        time.sleep(0.3)
        r = self.run_in("socat", "-u", f"FILE:{src}", f"TCP6:[{SERVER_V6}]:{TCP_PORT}",
                        timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr + self.client.read_log())
        server.wait(timeout=30)
        with open(src, "rb") as a, open(dst, "rb") as b:
            self.assertEqual(hashlib.sha256(a.read()).hexdigest(),
                             hashlib.sha256(b.read()).hexdigest())
        st = self.status()
        self.assertGreater(st["tunnelled_bytes"], 4 << 20)
        # The host's TCP super-packets (TSO through the TUN device) were cut by the client.
        self.assertGreater(st["offload"]["super_packets"], 0, st["offload"])
        self.assertTrue(st["offload"]["udp_gso"], st["offload"])

    def test_every_ipv6_size_works(self):
        # The TUN route's MTU makes the host's stack fragment what it sends (netfilter no longer
        # sees packets before fragmentation): nothing is oversize, every size gets its reply.
        for size in (1352, 1353, 1400, 1452, 4000, 8000):
            r = self.run_in("ping", "-6", "-c", "1", "-W", "3", "-s", str(size), SERVER_V6)
            self.assertEqual(r.returncode, 0, f"-s {size}: " + r.stdout + r.stderr +
                             self.client.read_log())
        self.assertEqual(self.status()["drops"]["oversize"], 0)
        # A UDP application with 1470-byte datagrams (socat): echoed back intact.
        echo = subprocess.Popen(["ip", "netns", "exec", self.lab.gw_ns, "socat", "-b", "65536",
                                 f"UDP6-LISTEN:{ECHO_PORT},bind=[{SERVER_V6}]", "PIPE"])
        self.helpers.append(echo)
        time.sleep(0.3)
        payload = os.urandom(1470)
        r = subprocess.run(["ip", "netns", "exec", self.ns, "socat", "-t", "3", "-b", "65536", "-",
                            f"UDP6:[{SERVER_V6}]:{ECHO_PORT}"], input=payload,
                           capture_output=True, timeout=30)
        self.assertEqual(r.stdout, payload, r.stderr.decode() + self.client.read_log())

    def test_ipv4_fragments_without_df_and_emsgsize_with_df(self):
        # The generic selector (UDP to BYPASS_PORT): a 1470-byte datagram without DF leaves the
        # TUN device as two fragments, each tunnelled; with DF the kernel refuses it locally
        # (fragmentation needed: EMSGSIZE, mtu 1400), as on any native path of that MTU.
        self.client.wait_tokens()
        self.assertTrue(wait_for(lambda: len(routing_rules(self.ns)) == 1, timeout=3))
        before = len(self.emu.received)
        r = subprocess.run(["ip", "netns", "exec", self.ns, "socat", "-u", "-b", "65536", "-",
                            f"UDP4-SENDTO:{GW_IP}:{BYPASS_PORT},ip-mtu-discover=0"],
                           input=b"x" * 1470, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(wait_for(lambda: len(self.emu.received) >= before + 2, timeout=3),
                        self.client.read_log())
        frags = [d for p, d in self.emu.received[before:] if p == EXP_PROTO]
        self.assertEqual(len(frags), 2, [len(d) for d in frags])
        self.assertTrue(all(len(d) <= 1400 for d in frags))
        self.assertEqual(sum(len(d) - 20 for d in frags), 8 + 1470)  # one UDP datagram
        # Not to GW_IP: the kernel's ICMP to itself also lowers the unmarked route's path MTU to
        # that address, which would make the tunnel's own datagrams to GW_IP fragment.
        r = subprocess.run(["ip", "netns", "exec", self.ns, "socat", "-u", "-b", "65536", "-",
                            f"UDP4-SENDTO:{DF_DEST}:{BYPASS_PORT},ip-mtu-discover=2"],
                           input=b"x" * 1470, capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Message too long", r.stderr.decode())
        self.assertEqual(self.status()["drops"]["oversize"], 0)

    def test_native_ipv6_coming_and_going_stops_and_resumes_capture(self):
        # Netlink: a native IPv6 default route appears (the laptop joins an IPv6 network): the
        # client stops routing IPv6 into its TUN device; it goes: capture resumes, ping6 works.
        self.assertIn("default", tun_routes(self.ns))
        self.addCleanup(self.remove_native_ipv6)
        self.run_in("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0")
        sh("ip", "-6", "addr", "add", f"{NATIVE_V6}/64", "dev", "eth0", "nodad", ns=self.ns)
        sh("ip", "-6", "route", "add", "default", "via", NATIVE_GW_V6, "dev", "eth0", "metric", "100",
           ns=self.ns)
        self.assertTrue(wait_for(lambda: not self.status()["ipv6_active"], timeout=3),
                        self.client.read_log())
        self.assertNotIn("default", tun_routes(self.ns))
        self.assertIn("the host has native IPv6", self.client.read_log())
        sh("ip", "-6", "route", "del", "default", "via", NATIVE_GW_V6, "dev", "eth0", ns=self.ns)
        self.assertTrue(wait_for(lambda: self.status()["ipv6_active"], timeout=3),
                        self.client.read_log())
        self.assertIn("default", tun_routes(self.ns))
        self.assertIn("no native IPv6 any more", self.client.read_log())
        r = self.run_in("ping", "-6", "-c", "1", "-W", "3", SERVER_V6)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.client.read_log())

    def remove_native_ipv6(self):
        sh("ip", "-6", "route", "del", "default", "via", NATIVE_GW_V6, "dev", "eth0", ns=self.ns,
           check=False)
        sh("ip", "-6", "addr", "del", f"{NATIVE_V6}/64", "dev", "eth0", ns=self.ns, check=False)
        sh("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", ns=self.ns)

    def test_sigterm_removes_rules_and_device(self):
        self.assert_rules_installed()
        self.assertEqual(self.client.stop(signal.SIGTERM), 0, self.client.read_log())
        self.assertEqual(chain_rules(self.ns, 4) + chain_rules(self.ns, 6), [])
        self.assertEqual(routing_rules(self.ns), [])
        self.assertFalse(tun_exists(self.ns))

    def assert_rules_installed(self):
        # IPv6: -N, the MSS clamp, the jump; IPv4: -N, MARK, the MSS clamp, the jump; one
        # routing rule for the generic selector's mark, once it has its token.
        self.assertEqual(len(chain_rules(self.ns, 6)), 3, chain_rules(self.ns, 6))
        self.assertEqual(len(chain_rules(self.ns, 4)), 4, chain_rules(self.ns, 4))
        self.client.wait_tokens()
        self.assertTrue(wait_for(lambda: len(routing_rules(self.ns)) == 1, timeout=3),
                        routing_rules(self.ns))

    def bypass_pair(self):
        sink = udp_socket(self.lab.gw_ns, (GW_IP, BYPASS_PORT))
        sink.settimeout(1)
        sender = udp_socket(self.ns, (CLIENT_IP, 0))
        self.socks += [sink, sender]
        return sink, sender

    def test_sigkill_bypass_and_restart(self):
        sink, sender = self.bypass_pair()
        # While the daemon runs (with its token), the generic selector captures this and tunnels it.
        self.client.wait_tokens()
        before = self.status()["tunnelled"]
        sender.sendto(b"captured", (GW_IP, BYPASS_PORT))
        with self.assertRaises(socket.timeout):
            sink.recvfrom(100)
        self.assertEqual(self.status()["tunnelled"], before + 1)
        self.assertTrue(any(p == EXP_PROTO and b"captured" in d for p, d in self.emu.received))
        self.client.stop(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not tun_exists(self.ns), timeout=3))
        # Marks and the routing rule are stale, but their table vanished with the TUN device:
        # traffic takes the host's own routes.
        self.assertNotEqual(chain_rules(self.ns, 4), [])
        self.assertNotEqual(routing_rules(self.ns), [])
        sender.sendto(b"bypassed", (GW_IP, BYPASS_PORT))
        self.assertEqual(sink.recvfrom(100)[0], b"bypassed")
        r = self.run_in("ping", "-c", "1", "-W", "2", GW_IP)  # and everything else too
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.client = self.start_client()  # removes the stale chain and rules first
        self.assert_rules_installed()
        self.assertIn("stale", self.client.read_log())
        self.assertEqual(self.client.stop(signal.SIGTERM), 0, self.client.read_log())
        self.assertEqual(chain_rules(self.ns, 4) + chain_rules(self.ns, 6), [])
        self.assertEqual(routing_rules(self.ns), [])
        self.assertFalse(tun_exists(self.ns))

    def test_without_a_token_packets_pass_uncaptured(self):
        # No router answers token requests: the generic selector's packets go out natively (not
        # black-holed: its routing rule waits for the token), and the log says what is wrong.
        self.client.stop(signal.SIGTERM)
        self.emu.answer_tokens = False
        self.client = self.start_client(wait=False)
        sink, sender = self.bypass_pair()
        self.assertTrue(wait_for(lambda: self.client.try_status() is not None, timeout=5))
        sender.sendto(b"uncaptured", (GW_IP, BYPASS_PORT))
        self.assertEqual(sink.recvfrom(100)[0], b"uncaptured")
        st = self.status()
        self.assertEqual(routing_rules(self.ns), [])
        self.assertEqual(st["tunnelled"], 0)
        self.assertEqual(st["address"], "")
        self.assertEqual(st["solicitations"], 0)  # the RS needs the ipv6 token
        self.assertTrue(wait_for(lambda: "no return token for exp-0x8001 after 3 requests"
                                 in self.client.read_log(), timeout=10), self.client.read_log())
        self.assertIn("no router of provider 7 answers", self.client.read_log())
        # A router appears: the next retry gets the tokens, then the address.
        self.emu.answer_tokens = True
        self.client.wait_address(timeout=20)
        self.client.wait_tokens()
        sender.sendto(b"captured", (GW_IP, BYPASS_PORT))
        with self.assertRaises(socket.timeout):
            sink.recvfrom(100)

    def test_unanswered_refreshes_of_a_valid_address_are_not_a_missing_provider(self):
        # Issue 17: the address works (valid 600 s); only the refreshes go unanswered.
        self.emu.answer_rs = False
        self.assertTrue(wait_for(lambda: self.status()["unanswered_solicitations"] >= 5,
                                 timeout=15), self.status())
        log = self.client.read_log()
        self.assertNotIn("no IPv6 address offer", log)
        self.assertNotIn("is a provider registered", log)
        self.assertGreater(self.status()["address_valid_seconds"], 500)
        r = self.run_in("ping", "-6", "-c", "1", "-W", "2", SERVER_V6)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_moved_nat_binding_renumbers_the_client(self):
        old = self.status()["address"]
        self.emu.nat_port = 31000  # from now on gateways see us at 198.18.1.2:31000
        self.assertTrue(wait_for(lambda: self.status()["address"] != old, timeout=10),
                        self.client.read_log())
        st = self.status()
        self.assertTrue(st["address"].startswith("2001:db8:7:c612:102:7918:"), st["address"])
        self.assertEqual(st["address"][-9:], old[-9:])  # same tag
        self.assertEqual(st["binding"], f"{CLIENT_IP}:31000")
        self.assertGreaterEqual(st["binding_changes"], 1)
        self.assertEqual(st["address_changes"], 1)
        self.assertIn("NAT binding moved", self.client.read_log())
        r = self.run_in("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", SERVER_V6)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.client.read_log())

    def test_forged_returns_are_not_injected(self):
        self.client.wait_tokens()
        st = self.status()
        me = inet6(st["address"])
        binding = self.client.binding()
        dest = (CLIENT_IP, binding[1])
        listener = self.listener(st["address"])
        forger = udp_socket(self.lab.gw_ns, (GW_IP, 0))
        self.socks.append(forger)
        packet = udp6_packet(inet6(SERVER_V6), me, 5555, LISTEN_PORT, b"forged")
        rt = self.rt(wire.IPV6)
        tag = int(st["tag"], 16)
        bad = (tag, tag << 32, 0, rt ^ 1, rt ^ (1 << 63), self.rt(EXP_PROTO))
        for token in bad:
            forger.sendto(wire.return_msg(wire.IPV6, PROVIDER_ID, token, packet), dest)
        forger.sendto(bytes.fromhex("020314"), dest)  # truncated
        v1 = wire.data(wire.IPV6, PROVIDER_ID, rt, packet, version=1, msg_type=wire.RETURN)
        forger.sendto(v1, dest)  # a version-1 router: counted, logged (naming it), never injected
        base = st["drops"]["bad_token"]
        self.assertTrue(wait_for(lambda: self.status()["drops"]["bad_token"] == base + len(bad),
                                 timeout=3), self.status())
        listener.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            listener.recvfrom(100)
        self.assertGreaterEqual(self.status()["drops"]["truncated"], 1)
        self.assertEqual(self.status()["drops"]["unsupported_version"], 1)
        self.assertIn(f"another protocol version, the newest from {GW_IP}:",
                      self.client.read_log())
        # Control: with the rt the same packet does arrive (the check is what stops it).
        forger.sendto(wire.return_msg(wire.IPV6, PROVIDER_ID, rt, packet), dest)
        listener.settimeout(3)
        self.assertEqual(listener.recvfrom(100)[0], b"forged")


class ClientWithRealDaemons(unittest.TestCase):
    """dmux-client through the real dmuxd and dmux-provider (one test: ping6). setUpClass leaves
    cls.lab (tests/pylib/ipdmux/agent_lab.Lab, namespaces REAL_NS) for bench/capture/run.py."""

    @classmethod
    def setUpClass(cls):
        need_root_and_tools(DMUXD, PROVIDER, DMUX_CA, CLIENT)
        cls.lab = agent_lab.Lab(REAL_PREFIX, ("client", "gw", "router", "server"))
        try:
            cls.make_topology(cls.lab)
            ca, cert, key = cls.lab.credentials(PROVIDER_ID, "ipv6")
            cls.prov_sock = cls.lab.path("provider.sock")
            cls.lab.spawn("dmuxd", "gw", [
                DMUXD, "--listen", f"{GW_IP}:{DATA_PORT}", "--workers", "1",
                "--registration-listen", f"{GW_ROUTER_SIDE}:{REG_PORT}", "--ca-cert", ca,
                "--keepalive-interval-ms", "500", "--control-socket", cls.lab.path("dmuxd.sock"),
                "--metrics-listen", "off"])
            cls.lab.spawn("provider", "router", [
                PROVIDER, "--gateway", f"{GW_ROUTER_SIDE}:{REG_PORT}",
                "--listen", f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", cert, "--key", key,
                "--client-prefix", REAL_CLIENT_PREFIX, "--allow-destination",
                agent_lab.LAB_ALLOWED, "--control-socket", cls.prov_sock])
            if not wait_for(cls.registered, timeout=10):
                raise RuntimeError("router never registered:\n" + cls.lab.logs())
        except BaseException:
            cls.lab.close()
            raise

    @staticmethod
    def make_topology(lab):
        for ns in lab.ns.values():
            sh("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", ns=ns)
        lab.link("client", "eth0", f"{CLIENT_IP}/24", "gw", "toclient", f"{GW_IP}/24")
        lab.link("gw", "torouter", f"{GW_ROUTER_SIDE}/24", "router", "eth0", f"{ROUTER_IP}/24")
        lab.link("router", "toserver", f"{ROUTER_V6}/64", "server", "eth0", f"{SERVER_V6}/64")
        lab.run("client", "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1")  # IPv4 only
        lab.run("client", "ip", "route", "add", "default", "via", GW_IP)
        lab.run("router", "ip", "route", "add", "default", "via", GW_ROUTER_SIDE)
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        lab.run("router", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        lab.run("server", "ip", "-6", "route", "add", REAL_CLIENT_PREFIX, "via", ROUTER_V6)

    @classmethod
    def registered(cls):
        try:
            st = cls.lab.status(cls.prov_sock)
        except (OSError, ValueError):
            return False
        return any(r.get("state") == "registered" for r in st.get("registrations", []))

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def test_ping6_through_dmuxd_and_dmux_provider(self):
        sock = self.lab.path("client.sock")
        client = self.lab.spawn("client", "client", [
            CLIENT, "--gateway", f"{GW_IP}:{DATA_PORT}", "--capture",
            f"ipv6:provider={PROVIDER_ID}", "--metrics-listen", "off", "--control-socket", sock])
        self.addCleanup(client.stop)

        def address():
            try:
                return self.lab.status(sock)["address"]
            except (OSError, ValueError):
                return ""
        self.assertTrue(wait_for(address, timeout=15), self.lab.logs())
        r = self.lab.run("client", "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", SERVER_V6,
                         check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.lab.logs())
        st = self.lab.status(sock)
        self.assertGreaterEqual(st["injected"], 3)
        self.assertEqual(st["drops"]["bad_token"], 0)
        self.every_size_and_tcp_both_ways()
        self.assertEqual(self.lab.status(sock)["drops"]["oversize"], 0)
        self.assertEqual(client.stop(signal.SIGTERM), 0, client.read_log())

    def every_size_and_tcp_both_ways(self):
        """ping -6 -s up to 8000, a 1470-byte UDP echo (socat) and iperf3 TCP up and down, all
        unmodified programs through dmux-client, dmuxd and dmux-provider."""
        for size in (1400, 1452, 8000):
            r = self.lab.run("client", "ping", "-6", "-c", "2", "-i", "0.2", "-W", "3", "-s",
                             str(size), SERVER_V6, check=False)
            self.assertEqual(r.returncode, 0, f"-s {size}: " + r.stdout + r.stderr +
                             self.lab.logs())
        echo = subprocess.Popen(["ip", "netns", "exec", REAL_NS["server"], "socat", "-b", "65536",
                                 f"UDP6-LISTEN:{ECHO_PORT},bind=[{SERVER_V6}]", "PIPE"])
        self.addCleanup(lambda: (echo.kill(), echo.wait()))
        time.sleep(0.3)
        payload = os.urandom(1470)
        r = subprocess.run(["ip", "netns", "exec", REAL_NS["client"], "socat", "-t", "3", "-b",
                            "65536", "-", f"UDP6:[{SERVER_V6}]:{ECHO_PORT}"], input=payload,
                           capture_output=True, timeout=30)
        self.assertEqual(r.stdout, payload, r.stderr.decode() + self.lab.logs())
        if shutil.which("iperf3") is None:
            return
        server = subprocess.Popen(["ip", "netns", "exec", REAL_NS["server"], "iperf3", "-s", "-1",
                                   "-B", SERVER_V6, "-p", str(IPERF_PORT)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (server.kill(), server.wait()))
        time.sleep(0.5)
        for reverse in ([], ["-R"]):
            r = sh("iperf3", "-6", "-c", SERVER_V6, "-p", IPERF_PORT, "-t", "2", "-J", *reverse,
                   ns=REAL_NS["client"], check=False, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr + self.lab.logs())
            bps = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
            print(f"iperf3 TCP {'down' if reverse else 'up'}: {bps / 1e6:.0f} Mbit/s",
                  file=sys.stderr)
            self.assertGreater(bps, 1e6)
            if not reverse:
                server.wait(timeout=10)
                server = subprocess.Popen(["ip", "netns", "exec", REAL_NS["server"], "iperf3",
                                           "-s", "-1", "-B", SERVER_V6, "-p", str(IPERF_PORT)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self.addCleanup(lambda s=server: (s.kill(), s.wait()))
                time.sleep(0.5)


if __name__ == "__main__":
    main()
