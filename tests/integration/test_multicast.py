"""dmux-mcast for real, in network namespaces (needs root), protocol version 2: one dmuxd, two
multicast routers of one provider peering with each other (registered with dmuxd, so each TUNNEL
carries a tag under the key of the router's registration), three IPv4-only clients running the
real dmux-client with `--capture ipv4-multicast` (which learns its return token with a
TOKEN_REQUEST), and unmodified Python socket programs joining groups (IP_ADD_MEMBERSHIP) and
sending to them.

    c1 198.18.11.x --+                      +-- r1 198.18.2.2:5000 (dmux-mcast)
    c2 198.18.12.x --+-- gw (dmuxd) --------+        | peers (through gw)
    c3 198.18.13.x --+   198.18.0.1:4500/4501 +-- r2 198.18.3.2:5000 (dmux-mcast)

dmuxd picks a client's router by rendezvous hashing of the client's address (protocol.md 8); the
test chooses each client's host address so that c1 and c3 use r1 and c2 uses r2. Checks: a member
receives group traffic from another client, a non-member receives nothing, leaving stops delivery,
a silent member expires, members behind different routers get each packet exactly once, and
delivery resumes after the router a receiver uses is killed (the gap is printed, not asserted
beyond a generous bound), a join made before the client holds its return token is reported once the
token arrives, senders connected to the group or bound to their address (iperf version 2 at its
default 1470-byte datagrams too) are captured, also after the host re-added its address, and a
client killed by SIGKILL leaves them sending natively and captures them again once restarted. Every namespace, process and file is removed in tearDownClass, also on
failure.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

PYLIB = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "pylib"))
sys.path.insert(0, PYLIB)
from ipdmux.gateway_harness import main, rendezvous_choice  # noqa: E402
from ipdmux import wire  # noqa: E402
from ipdmux.agent_lab import (CLIENT, DMUX_CA, DMUXCTL, DMUXD, LAB_ALLOWED, MCAST,  # noqa: E402
                              igmpv2_report, open_lab, request_token, sh, udp_socket,
                              unix_request, wait_for)

PREFIX = f"dmuxm-{os.getpid()}-"
NS = {role: PREFIX + role for role in ("gw", "r1", "r2", "c1", "c2", "c3")}
GW_IP = "198.18.0.1"
DATA_PORT, REG_PORT, ROUTER_PORT = 4500, 4501, 5000
ROUTERS = {"r1": ("198.18.2.1", "198.18.2.2"), "r2": ("198.18.3.1", "198.18.3.2")}
SUBNETS = {"c1": "198.18.11", "c2": "198.18.12", "c3": "198.18.13"}
WANTED = {"c1": "r1", "c2": "r2", "c3": "r1"}  # which router each client should use
PROVIDER_ID = 7
G1, G2, G3, G4, PORT = "239.1.1.1", "239.2.2.2", "239.3.3.3", "239.4.4.4", 5001
IPERF_PORT = 5002
MEMBERSHIP_MS, QUERY_MS, RESPONSE_MS, SUMMARY_MS = 6000, 1000, 500, 300
KEEPALIVE_MS, HOLD_MS = 300, 1500

RECEIVER = r"""
import socket, sys, time
group, port = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from ipdmux.packets import ip_mreq
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, ip_mreq(group))
print("joined", flush=True)
while True:
    data, _ = s.recvfrom(2048)
    print(f"{time.monotonic():.6f} {data.decode()}", flush=True)
"""

SENDER = r"""
import socket, sys, time
group, port, tag, count, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
mode, local = sys.argv[6], sys.argv[7]  # sendto (unconnected), connect, or bind to `local`
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "bind":
    s.bind((local, 0))
if mode == "connect":
    s.connect((group, port))
for i in range(count):
    if mode == "connect":
        s.send(f"{tag}:{i}".encode())
    else:
        s.sendto(f"{tag}:{i}".encode(), (group, port))
    time.sleep(interval)
"""

def gateway_choice(client_ip):
    """The router dmuxd picks for a client (protocol.md section 8)."""
    return rendezvous_choice(client_ip, {name: (addr, ROUTER_PORT)
                                         for name, (_, addr) in ROUTERS.items()}, PROVIDER_ID)


def client_address(client):
    for host in range(2, 255):
        ip = f"{SUBNETS[client]}.{host}"
        if gateway_choice(ip) == WANTED[client]:
            return ip
    raise RuntimeError("no address hashes to the wanted router")


CLIENT_IPS = {c: client_address(c) for c in SUBNETS}


def data_msg(token, packet):
    return wire.data(wire.IPV4_MCAST, 0, token, packet)


class Lines:
    """Collects the stdout lines of a process in a thread."""

    def __init__(self, proc):
        self.proc, self.lines, self.lock = proc, [], threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.strip())

    def received(self):
        """(time, payload) of every datagram received so far."""
        with self.lock:
            out = []
            for line in self.lines:
                if line != "joined":
                    t, payload = line.split(" ", 1)
                    out.append((float(t), payload))
            return out

    def joined(self):
        with self.lock:
            return "joined" in self.lines


class MulticastNetns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("iptables") is None:
            raise unittest.SkipTest("iptables is not installed (scripts/install-deps.sh)")
        cls.procs, cls.helpers, cls.socks = {}, [], []

        def build(lab):
            cls.lab, cls.dir = lab, lab.dir
            lab.closers.append(cls._stop_helpers)
            cls._make_topology()
            cls._make_credentials()
            cls._start_daemons()
        open_lab(PREFIX, tuple(NS), (DMUXD, MCAST, DMUX_CA, CLIENT), build,
                 "network namespaces, iptables, TUN devices")

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    @classmethod
    def _stop_helpers(cls):
        for h in cls.helpers:
            if h.poll() is None:
                h.kill()
                h.wait()
        for s in cls.socks:
            s.close()

    @classmethod
    def _make_topology(cls):
        lab = cls.lab
        for role in NS:
            lab.run(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        lab.run("gw", "ip", "addr", "add", f"{GW_IP}/32", "dev", "lo")
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        links = [(r, gw_side, addr) for r, (gw_side, addr) in ROUTERS.items()]
        links += [(c, f"{SUBNETS[c]}.1", CLIENT_IPS[c]) for c in SUBNETS]
        for role, gw_side, addr in links:
            lab.link(role, "eth0", f"{addr}/24", "gw", f"to{role}", f"{gw_side}/24")
            lab.run(role, "ip", "route", "add", "default", "via", gw_side)

    @classmethod
    def _make_credentials(cls):
        cls.ca_cert, cls.cert, cls.key = cls.lab.credentials(PROVIDER_ID, "ipv4-multicast")
        cls.peer_key = os.path.join(cls.dir, "peer.key")
        with open(cls.peer_key, "w") as f:
            f.write(secrets.token_hex(32) + "\n")

    @classmethod
    def _start_daemons(cls):
        cls.gw_sock = os.path.join(cls.dir, "dmuxd.sock")
        cls.procs["gw"] = cls.lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{GW_IP}:{DATA_PORT}", "--workers", "1",
            "--registration-listen", f"{GW_IP}:{REG_PORT}", "--ca-cert", cls.ca_cert,
            "--keepalive-interval-ms", str(KEEPALIVE_MS), "--hold-time-ms", str(HOLD_MS),
            "--control-socket", cls.gw_sock, "--metrics-listen", "off"])
        for r in ROUTERS:
            cls.start_router(r)
        for c in SUBNETS:
            cls.start_client(c)
        for r in ROUTERS:
            if not wait_for(lambda: cls.registered(r), timeout=10):
                raise RuntimeError(f"{r} never registered:\n" + cls.logs())
        for c in SUBNETS:
            if not wait_for(lambda: cls.client_up(c), timeout=10):
                raise RuntimeError(f"dmux-client {c} did not start:\n" + cls.logs())
        # Each router hears the other.
        if not wait_for(lambda: all(cls.status(r)["peers"][0]["alive"] for r in ROUTERS), 10):
            raise RuntimeError("routers do not see each other:\n" + cls.logs())

    @classmethod
    def start_client(cls, c, name=None):
        cls.procs[c] = cls.lab.spawn(name or c, c, [
            CLIENT, "--gateway", f"{GW_IP}:{DATA_PORT}", "--capture", "ipv4-multicast",
            "--control-socket", cls.sock(c), "--metrics-listen", "off"])

    @classmethod
    def start_router(cls, r):
        other = [o for o in ROUTERS if o != r][0]
        cls.procs[r] = cls.lab.spawn(r, r, [
            MCAST, "--gateway", f"{GW_IP}:{REG_PORT}", "--listen", f"{ROUTERS[r][1]}:{ROUTER_PORT}",
            "--cert", cls.cert, "--key", cls.key,
            "--peer", f"{ROUTERS[other][1]}:{ROUTER_PORT}", "--peer-key", cls.peer_key,
            "--membership-timeout-ms", str(MEMBERSHIP_MS), "--query-interval-ms", str(QUERY_MS),
            "--query-response-ms", str(RESPONSE_MS), "--summary-interval-ms", str(SUMMARY_MS),
            "--allow-destination", LAB_ALLOWED, "--control-socket", cls.sock(r)])

    @classmethod
    def logs(cls):
        return "".join(f"--- {n}\n{p.read_log()[-2000:]}" for n, p in cls.procs.items())

    @classmethod
    def sock(cls, role):
        return os.path.join(cls.dir, f"{role}.sock")

    @classmethod
    def status(cls, role):
        return unix_request(cls.sock(role), "status")

    @classmethod
    def registered(cls, r):
        try:
            return cls.status(r)["registrations"][0]["state"] == "registered"
        except (OSError, ValueError):
            return False

    @classmethod
    def client_up(cls, c, token=True):
        """Its TUN is up and (with `token`) it holds a return token. A join made before the token
        works too (test_6): the token's arrival makes dmux-client solicit the host's reports."""
        try:
            st = cls.status(c)
            return st["tun"] == "dmuxc0" and (not token or all(
                s["return_token"]["have_token"] for s in st["selectors"]))
        except (OSError, ValueError, KeyError):
            return False

    # ---- helpers -------------------------------------------------------------------------------

    def members(self, r, group):
        return self.status(r)["membership"]["members"].get(group, [])

    def is_member(self, r, c, group):
        return any(m.startswith(CLIENT_IPS[c] + ":") for m in self.members(r, group))

    def member_anywhere(self, c, group):
        """Whether a live router has `c` as a member of `group`."""
        for r in ROUTERS:
            if self.procs[r].alive() and self.is_member(r, c, group):
                return True
        return False

    def receiver(self, c, group):
        p = subprocess.Popen(["ip", "netns", "exec", NS[c], "python3", "-u", "-c", RECEIVER,
                              group, str(PORT), PYLIB], stdout=subprocess.PIPE, text=True)
        self.helpers.append(p)
        lines = Lines(p)
        self.assertTrue(wait_for(lines.joined, timeout=5), "receiver did not start")
        return p, lines

    def send(self, c, group, tag, count, interval=0.02, wait=True, mode="sendto"):
        p = subprocess.Popen(["ip", "netns", "exec", NS[c], "python3", "-c", SENDER, group,
                              str(PORT), tag, str(count), str(interval), mode, CLIENT_IPS[c]])
        self.helpers.append(p)
        if wait:
            self.assertEqual(p.wait(timeout=60), 0)
            time.sleep(0.5)  # let the last packets arrive
        return p

    @staticmethod
    def payloads(lines, tag):
        return [p for _, p in lines.received() if p.startswith(tag + ":")]

    def assert_exactly_once(self, lines, tag, count, who):
        got = self.payloads(lines, tag)
        self.assertEqual(sorted(got, key=lambda p: int(p.split(":")[1])),
                         [f"{tag}:{i}" for i in range(count)],
                         f"{who} did not get each of {count} packets exactly once: {got}\n" +
                         self.logs())

    # ---- tests (run in name order; they share the routers and clients) -------------------------

    def test_1_member_receives_and_non_member_does_not(self):
        out = sh(DMUXCTL, "--socket", self.sock("r1"), "--json", "status").stdout
        self.assertIn('"agent": "dmux-mcast"', out)
        self.assertEqual(self.status("r1")["listen"], f"{ROUTERS['r1'][1]}:{ROUTER_PORT}")
        _, c1 = self.receiver("c1", G1)
        self.assertTrue(wait_for(lambda: self.is_member("r1", "c1", G1), timeout=5),
                        str(self.status("r1")["membership"]) + self.logs())
        before_c2 = self.status("c2")["injected"]
        self.send("c3", G1, "t1", 10)
        self.assert_exactly_once(c1, "t1", 10, "c1")
        # c2 joined nothing: nothing came back to it but its TOKEN_OFFERs (not even a query).
        self.assertEqual(self.status("c2")["injected"], before_c2)
        self.assertEqual(self.members("r2", G1), [])
        st = self.status("r1")
        self.assertGreaterEqual(st["delivered"], 10)
        self.assertGreaterEqual(st["igmp_messages"], 1)
        # Every client proved its address with a TOKEN_REQUEST first (answered by either router:
        # they share the provider's return key); nothing was unproven.
        self.assertGreaterEqual(sum(self.status(r)["token_offers"] for r in ROUTERS), 3)
        self.assertEqual(st["drops"]["unproven"], 0, st["drops"])
        self.assertEqual(st["drops"]["bad_tag"] + st["drops"]["unknown_key"], 0, st["drops"])
        self.assertTrue(any(not k["static"] for k in st["tunnel_keys"]))
        self.__class__.c1_lines = c1

    def test_2_members_behind_two_routers_get_each_packet_once(self):
        c1 = self.c1_lines
        c2_proc, c2 = self.receiver("c2", G1)
        self.__class__.c2_proc = c2_proc
        self.assertTrue(wait_for(lambda: self.is_member("r2", "c2", G1), timeout=5), self.logs())
        self.assertTrue(wait_for(lambda: G1 in self.status("r1")["peers"][0]["groups"], 5))
        self.send("c3", G1, "t2", 20)  # from r1's client: c1 locally, c2 through r2
        self.assert_exactly_once(c1, "t2", 20, "c1")
        self.assert_exactly_once(c2, "t2", 20, "c2")
        self.send("c2", G1, "t2b", 20)  # from r2's client: c1 through r1
        self.assert_exactly_once(c1, "t2b", 20, "c1")
        # A router never echoes a packet to its sender: c2 hears its own packets exactly once,
        # from its kernel's loopback copy (IP_MULTICAST_LOOP), as on a native path (dmux-client
        # reads them from its TUN device, after the output path made that copy).
        self.assert_exactly_once(c2, "t2b", 20, "c2 (its own, looped back)")
        self.assertGreaterEqual(self.status("r1")["forwarded"], 20)
        self.assertGreaterEqual(self.status("r1")["from_peers"], 20)
        for r in ROUTERS:
            self.assertEqual(self.status(r)["drops"]["peer_bad_mac"], 0)

    def test_3_leave_stops_delivery(self):
        self.c2_proc.kill()  # the socket closes: the kernel sends an IGMPv3 leave (TO_IN {})
        self.c2_proc.wait()
        self.assertTrue(wait_for(lambda: not self.is_member("r2", "c2", G1), timeout=5),
                        str(self.status("r2")["membership"]))
        self.assertGreaterEqual(self.status("r2")["membership"]["leaves"], 1)
        self.assertTrue(wait_for(lambda: G1 not in self.status("r1")["peers"][0]["groups"], 5))
        before = self.status("c2")["injected"]
        self.send("c3", G1, "t3", 10)
        self.assert_exactly_once(self.c1_lines, "t3", 10, "c1")
        self.assertEqual(self.status("c2")["injected"], before)

    def test_4_silent_member_expires(self):
        # A member that joins with a hand-made IGMPv2 report and then never answers a query. It
        # proves its address first (section 15); a join with any other token would be unproven.
        s = udp_socket(NS["c3"], (CLIENT_IPS["c3"], 0))
        self.socks.append(s)
        token = request_token(s, (GW_IP, DATA_PORT), wire.IPV4_MCAST)[0]
        unproven_before = self.status("r1")["drops"]["unproven"]
        s.sendto(data_msg(token ^ 1, igmpv2_report(CLIENT_IPS["c3"], G2)), (GW_IP, DATA_PORT))
        self.assertTrue(wait_for(lambda: self.status("r1")["drops"]["unproven"] ==
                                 unproven_before + 1, timeout=5))
        s.sendto(data_msg(token, igmpv2_report(CLIENT_IPS["c3"], G2)), (GW_IP, DATA_PORT))
        port = s.getsockname()[1]
        me = f"{CLIENT_IPS['c3']}:{port}"
        self.assertTrue(wait_for(lambda: me in self.members("r1", G2), timeout=5), self.logs())
        joined_at = time.monotonic()
        self.send("c1", G2, "t4", 3)
        data = self.drain(s, token)
        self.assertEqual(sorted(data), [f"t4:{i}" for i in range(3)])
        self.assertTrue(wait_for(lambda: me not in self.members("r1", G2),
                                 timeout=MEMBERSHIP_MS / 1000 + 5))
        lifetime = time.monotonic() - joined_at
        print(f"\nsilent member expired after {lifetime:.2f} s (membership timeout "
              f"{MEMBERSHIP_MS / 1000:.1f} s)", file=sys.stderr)
        self.assertGreaterEqual(lifetime, MEMBERSHIP_MS / 1000 - 1)
        self.assertGreaterEqual(self.status("r1")["membership"]["expired"], 1)
        self.send("c1", G2, "t4b", 3)
        self.assertEqual(self.drain(s, token), [])

    def drain(self, s, token):
        """Payloads of the UDP group packets RETURNed to socket `s` (IGMP queries skipped)."""
        out = []
        s.settimeout(0.5)
        try:
            while True:
                d = s.recv(4096)
                m = wire.parse_shim(d, wire.RETURN)  # version 2, a RETURN, else ValueError
                self.assertEqual((m["proto_id"], m["provider_id"], m["token"]),
                                 (wire.IPV4_MCAST, PROVIDER_ID, token))
                ip = m["payload"]
                if ip[9] == 17:
                    out.append(ip[(ip[0] & 0x0F) * 4 + 8:].decode())
        except socket.timeout:
            pass
        return out

    def test_5_delivery_survives_the_death_of_the_receivers_router(self):
        c1 = self.c1_lines  # c1 is a member at r1; the sender c2 uses r2
        self.assertTrue(self.is_member("r1", "c1", G1))
        rate = 50
        sender = self.send("c2", G1, "t5", rate * 14, interval=1 / rate, wait=False)
        self.assertTrue(wait_for(lambda: len(self.payloads(c1, "t5")) >= rate, timeout=5),
                        self.logs())
        killed_at = time.monotonic()
        self.procs["r1"].stop(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: any(t > killed_at + 0.5 for t, p in c1.received()
                                             if p.startswith("t5:")), timeout=20),
                        "delivery did not resume:\n" + self.logs())
        sender.wait(timeout=30)
        time.sleep(0.5)
        times = [t for t, p in c1.received() if p.startswith("t5:")]
        gap = max(b - a for a, b in zip(times, times[1:]))
        seqs = [int(p.split(":")[1]) for p in self.payloads(c1, "t5")]
        lost = rate * 14 - len(set(seqs))
        dups = len(seqs) - len(set(seqs))
        st = self.status("r2")
        print(f"\nfailover: longest gap at the receiver {gap:.3f} s ({lost} of {rate * 14} packets "
              f"at {rate}/s lost, {dups} duplicates); peer dead after {SUMMARY_MS * 3.5:.0f} ms, "
              f"gateway hold {HOLD_MS} ms; r2 adopted {st['adopted']} client(s)",
              file=sys.stderr)
        self.assertLess(gap, 10)
        self.assertEqual(dups, 0)
        self.assertGreaterEqual(st["adopted"], 1)
        self.assertTrue(self.is_member("r2", "c1", G1))
        self.assertFalse(st["peers"][0]["alive"])
        # The membership lives on at r2: c1's reports reach it once dmuxd dropped r1.
        time.sleep((MEMBERSHIP_MS + QUERY_MS) / 1000)
        self.assertTrue(self.is_member("r2", "c1", G1), str(st["membership"]) + self.logs())

    def test_6_a_join_before_the_return_token_is_reported_once_it_arrives(self):
        # c3's dmux-client starts again while the gateway drops its datagrams, and a receiver joins
        # before any token is known: the kernel's unsolicited reports are dropped (no_token), and
        # routers query only their members. Once the token arrives, dmux-client injects a general
        # query into its TUN device, and the host reports the group at once.
        c = "c3"
        self.assertEqual(self.procs[c].stop(), 0)
        rule = ["INPUT", "-s", CLIENT_IPS[c], "-p", "udp", "--dport", str(DATA_PORT), "-j", "DROP"]
        self.lab.run("gw", "iptables", "-w", "-I", *rule)
        try:
            self.start_client(c, name=f"{c}-token-late")
            self.assertTrue(wait_for(lambda: self.client_up(c, token=False), timeout=10),
                            self.logs())
            self.receiver(c, G3)
            self.assertTrue(wait_for(lambda: self.status(c)["drops"]["no_token"] >= 1, timeout=5),
                            self.logs())
            time.sleep(2.5)  # the kernel's unsolicited reports (2, up to 1 s apart) are spent
            self.assertFalse(self.status(c)["selectors"][0]["return_token"]["have_token"])
            self.assertFalse(self.member_anywhere(c, G3))
        finally:
            self.lab.run("gw", "iptables", "-w", "-D", *rule, check=False)
        self.assertTrue(wait_for(lambda: self.client_up(c), timeout=15), self.logs())
        token_at = time.monotonic()
        self.assertTrue(wait_for(lambda: self.member_anywhere(c, G3), timeout=5),
                        "the join made before the token was never reported:\n" + self.logs())
        print(f"\njoin before the token: a member {time.monotonic() - token_at:.2f} s after the "
              f"token arrived", file=sys.stderr)

    def test_7_senders_connected_to_the_group_or_bound_to_their_address_are_captured(self):
        # For a group and a known source the kernel picks the device that holds the source
        # address, past the routes: dmux-client mirrors the host's addresses onto dmuxc0.
        out = self.lab.run("c3", "ip", "route", "get", G1, "from", CLIENT_IPS["c3"]).stdout
        self.assertIn("dev dmuxc0", out)
        self.assertTrue(self.member_anywhere("c1", G1))
        for mode in ("connect", "bind"):
            before = self.status("c3")["captured"]
            self.send("c3", G1, f"t7{mode}", 10, mode=mode)
            self.assert_exactly_once(self.c1_lines, f"t7{mode}", 10, f"c1 (a sender that did "
                                     f"{mode})")
            self.assertGreaterEqual(self.status("c3")["captured"] - before, 10)
        # The host removes its address and adds it again, as a DHCP client may: the kernel finds
        # eth0's (now newer) copy first, until dmux-client mirrors the address again (2 s).
        ip, gw_side = CLIENT_IPS["c3"], f"{SUBNETS['c3']}.1"
        self.lab.run("c3", "sh", "-c", f"ip addr del {ip}/24 dev eth0 && ip addr add {ip}/24 dev "
                     f"eth0 && ip route replace default via {gw_side}")
        self.assertTrue(wait_for(lambda: "dev dmuxc0" in self.lab.run(
            "c3", "ip", "route", "get", G1, "from", ip).stdout, timeout=8), self.logs())
        self.assertTrue(wait_for(lambda: self.client_up("c3"), timeout=10), self.logs())
        self.send("c3", G1, "t7again", 10, mode="connect")
        self.assert_exactly_once(self.c1_lines, "t7again", 10, "c1 (after the sender's address "
                                 "came back)")

    def test_8_iperf2_multicast_at_its_default_size(self):
        # iperf (version 2) connects its socket to the group and sends 1470-byte datagrams: the
        # kernel fragments them to dmuxc0's MTU, the receiver's host reassembles them.
        if shutil.which("iperf") is None:
            self.skipTest("iperf (version 2) is not installed (scripts/install-deps.sh)")
        server = subprocess.Popen(["ip", "netns", "exec", NS["c1"], "iperf", "-s", "-u", "-B", G4,
                                   "-p", str(IPERF_PORT)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        self.helpers.append(server)
        report = Lines(server)
        self.assertTrue(wait_for(lambda: self.member_anywhere("c1", G4), timeout=5), self.logs())
        captured = self.status("c3")["captured"]
        sh("iperf", "-c", G4, "-u", "-p", str(IPERF_PORT), "-t", "2", "-b", "1M", "-T", "8",
           ns=NS["c3"])

        def totals():
            with report.lock:
                found = [re.search(r"(\d+)/\s*(\d+) \(", line) for line in report.lines]
            found = [m for m in found if m]
            return (int(found[-1].group(1)), int(found[-1].group(2))) if found else None
        self.assertTrue(wait_for(lambda: totals() is not None, timeout=10),
                        "\n".join(report.lines) + self.logs())
        lost, total = totals()
        print(f"\niperf2 multicast, 1470-byte datagrams: {total - lost} of {total} received",
              file=sys.stderr)
        self.assertGreaterEqual(total, 100)
        self.assertLessEqual(lost, total // 50, "\n".join(report.lines))
        # Each datagram (1498 bytes of IPv4) crossed dmuxc0 as two fragments.
        self.assertGreaterEqual(self.status("c3")["captured"] - captured, 2 * (total - lost))

    def test_9_a_dead_client_blackholes_nothing_and_a_restart_captures_again(self):
        c = "c3"
        self.procs[c].stop(signal.SIGKILL)  # no clean-up: its TUN device vanishes, and the mirrors
        out = self.lab.run(c, "ip", "route", "get", G1, "from", CLIENT_IPS[c]).stdout
        self.assertIn("dev eth0", out)
        tx = "/sys/class/net/eth0/statistics/tx_packets"
        before = int(self.lab.run(c, "cat", tx).stdout)
        self.send(c, G1, "t9dead", 10, mode="connect")
        self.assertGreaterEqual(int(self.lab.run(c, "cat", tx).stdout) - before, 10)
        self.start_client(c, name=f"{c}-restarted")
        self.assertTrue(wait_for(lambda: self.client_up(c), timeout=15), self.logs())
        self.send(c, G1, "t9", 10, mode="connect")
        self.assert_exactly_once(self.c1_lines, "t9", 10, "c1 (after the sender's restart)")


if __name__ == "__main__":
    main()
