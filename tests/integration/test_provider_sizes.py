"""Every packet size, and TCP with offloads, through a real dmuxd and a real dmux-provider, in
network namespaces (needs root), with unmodified programs at both ends (ping, socat, iperf3).

    client (IPv4 only links) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    pyc0: TUN, MTU 1400       198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1  2001:db8:1::2

The client end is a minimal tunnel client in Python (a TUN device pyc0 in the client namespace
pumped to and from a UDP socket: TUN packet -> DATA with the rt, RETURN -> TUN), so that the
client host's own kernel fragments and segments at the tunnel MTU exactly as it would behind
dmux-client (whose end-to-end tests are tests/integration/test_client_netns.py). What is tested
here is the provider's side: large IPv6 both ways (the server's kernel learns the MTU from the
router's Packet Too Big and fragments to fit), 1470-byte UDP datagrams, Packet Too Big for what
does not fit toward a client, MSS clamping of SYNs in both directions, and TCP super-packets
cut into RETURNs (software TSO) and TUNNEL payloads coalesced into TUN writes (GRO). Every
namespace, process, device and socket is removed by the Lab, also when a test fails.
"""
import json
import os
import secrets
import select
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux import wire  # noqa: E402
from ipdmux.client_lab import open_tun  # noqa: E402
from ipdmux.agent_lab import (DMUX_CA, DMUXD, LAB_ALLOWED, MCAST, PROVIDER, LabTestCase,  # noqa: E402
                              in_netns, parse_return, request_token, udp_socket, unix_request,
                              wait_for, wait_for_socket)
from ipdmux.provider_topology import (CLIENT_IP, CLIENT_PREFIX, DATA_PORT, GW_CLIENT_SIDE,  # noqa: E402
                                 GW_ROUTER_SIDE, PREFIX_BYTES, PROVIDER_ID, ROUTER_IP, SERVER_V6,
                                 TUNNEL_PORT, make_topology)

TUN_MTU = 1400


class TunnelClient:
    """The client end: TUN pyc0 <-> DATA/RETURN over one UDP socket, in a thread. IPv6: packets
    from its client address; IPv4 multicast: every IPv4 packet (its host's address is the
    source)."""

    def __init__(self, ns, proto=wire.IPV6, client_ip=CLIENT_IP,
                 gateway=(GW_CLIENT_SIDE, DATA_PORT)):
        self.proto, self.gateway = proto, gateway
        self.sock = udp_socket(ns, (client_ip, 0))
        self.port = self.sock.getsockname()[1]
        self.rt = request_token(self.sock, gateway, proto, PROVIDER_ID)[0]
        self.address = wire.client_address(PREFIX_BYTES, wire.ip(client_ip), self.port,
                                           secrets.randbits(32))
        self.fd = in_netns(ns, lambda: open_tun("pyc0"))
        self.sent = self.received = 0
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _wanted(self, packet):
        if self.proto == wire.IPV6:
            return len(packet) >= 40 and packet[8:24] == self.address  # not fe80:: (MLD, RS)
        return len(packet) >= 20 and packet[0] >> 4 == 4

    def _run(self):
        while True:
            ready, _, _ = select.select([self.fd, self.sock, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            if self.fd in ready:
                packet = os.read(self.fd, 65535)
                if self._wanted(packet):
                    self.sock.sendto(wire.data(self.proto, PROVIDER_ID, self.rt, packet),
                                     self.gateway)
                    self.sent += 1
            if self.sock in ready:
                d, _ = self.sock.recvfrom(65535)
                try:
                    r = parse_return(d)
                except ValueError:
                    continue
                if r["flags"] == 0 and r["token"] == self.rt:
                    os.write(self.fd, r["payload"])
                    self.received += 1

    def close(self):
        os.write(self._stop_w, b"x")
        self.thread.join(5)
        for fd in (self.fd, self._stop_r, self._stop_w):
            os.close(fd)
        self.sock.close()


class ProviderSizes(LabTestCase):
    PREFIX = "dmuxpz-"
    ROLES = ("client", "gw", "router", "server")
    BINARIES, NEEDS = (DMUXD, PROVIDER, DMUX_CA), "network namespaces, TUN devices"

    @classmethod
    def build_lab(cls):
        lab = cls.lab
        make_topology(lab)  # test_provider_netns's, whose client has no IPv6: ours has, on pyc0
        lab.run("client", "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0")
        _, cert, key = lab.credentials(PROVIDER_ID, "ipv6")
        key_file, _ = lab.tunnel_key()
        gw_sock, cls.prov_sock = lab.path("dmuxd.sock"), lab.path("provider.sock")
        d = lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{GW_CLIENT_SIDE}:{DATA_PORT}", "--workers", "1",
            "--control-socket", gw_sock, "--metrics-listen", "off",
            "--static-router", f"ipv6 {PROVIDER_ID} {ROUTER_IP}:{TUNNEL_PORT} {key_file}"])
        if not wait_for_socket(gw_sock, d):
            raise RuntimeError("dmuxd exited:\n" + d.read_log())
        p = lab.spawn("provider", "router", [
            PROVIDER, "--gateway", f"{GW_ROUTER_SIDE}:4501", "--listen",
            f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", cert, "--key", key, "--client-prefix",
            CLIENT_PREFIX, "--control-socket", cls.prov_sock, "--allow-destination", LAB_ALLOWED,
            "--static-tunnel-key", key_file])
        if not wait_for_socket(cls.prov_sock, p):
            raise RuntimeError("dmux-provider exited:\n" + p.read_log())
        cls.provider = p
        cls.client = TunnelClient(lab.ns["client"])
        lab.closers.append(cls.client.close)
        cls.me = socket.inet_ntop(socket.AF_INET6, cls.client.address)
        lab.run("client", "ip", "link", "set", "pyc0", "mtu", str(TUN_MTU), "up")
        lab.run("client", "ip", "-6", "addr", "add", f"{cls.me}/128", "dev", "pyc0")
        lab.run("client", "ip", "-6", "route", "add", "2001:db8:1::/64", "dev", "pyc0")

    def status(self):
        return unix_request(self.prov_sock, "status")

    def too_bigs_sent(self):
        lines = self.lab.run("router", "cat", "/proc/net/snmp6").stdout.splitlines()
        return int(dict(line.split() for line in lines if line.strip())["Icmp6OutPktTooBigs"])

    def ping(self, role, *args):
        return self.lab.run(role, "ping", "-6", "-n", *args, check=False)

    def replies(self, out):
        return sum(1 for line in out.stdout.splitlines() if "bytes from" in line)

    def test_ping_of_every_size_up_to_8000(self):
        # The first reply larger than the tunnel is dropped by the router with Packet Too Big
        # toward the server, which fragments the next ones to fit (as on a native path).
        for size in (56, 1352, 1400, 1452, 4000, 8000):
            out = self.ping("client", "-c", "4", "-i", "0.2", "-W", "2", "-s", str(size), SERVER_V6)
            self.assertGreaterEqual(self.replies(out), 3, f"size {size}:\n{out.stdout}")

    def test_udp_datagrams_of_1470_bytes_echo(self):
        echo = self.lab.spawn("socat", "server", [
            "socat", "UDP6-RECVFROM:7007,fork,reuseaddr", "PIPE"])
        self.addCleanup(echo.stop, signal.SIGTERM)

        def exchange():
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.settimeout(2)
            try:
                payload = secrets.token_bytes(1470)
                got = 0
                for _ in range(5):
                    s.sendto(payload, (SERVER_V6, 7007))
                    try:
                        got += s.recvfrom(65535)[0] == payload
                    except socket.timeout:
                        pass
                return got
            finally:
                s.close()
        self.assertTrue(wait_for(lambda: self.lab.run("server", "ss", "-uln").stdout.count(":7007"),
                                 5))
        self.assertGreaterEqual(in_netns(self.lab.ns["client"], exchange), 4)

    def test_packet_too_big_for_what_does_not_fit_toward_a_client(self):
        out = self.ping("server", "-c", "1", "-W", "2", "-M", "do", "-s", "1452", self.me)
        self.assertIn("mtu=1400", out.stdout + out.stderr)
        self.assertEqual(self.replies(out), 0)

    def test_tcp_both_ways_with_tso_and_gro(self):
        server = self.lab.spawn("iperf3", "server", ["iperf3", "-s", "-B", SERVER_V6, "-1"])
        self.addCleanup(server.stop, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: ":5201" in self.lab.run("server", "ss", "-tln").stdout, 5))
        before, too_bigs = self.status(), self.too_bigs_sent()
        up = self.lab.run("client", "iperf3", "-6", "-c", SERVER_V6, "-t", "2", "-J", check=False)
        self.assertEqual(up.returncode, 0, up.stdout[-2000:] + up.stderr)
        server2 = self.lab.spawn("iperf3R", "server", ["iperf3", "-s", "-B", SERVER_V6, "-1"])
        self.addCleanup(server2.stop, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: ":5201" in self.lab.run("server", "ss", "-tln").stdout, 5))
        down = self.lab.run("client", "iperf3", "-6", "-c", SERVER_V6, "-t", "2", "-R", "-J",
                            check=False)
        self.assertEqual(down.returncode, 0, down.stdout[-2000:] + down.stderr)
        for name, run in (("up", up), ("down", down)):
            bps = json.loads(run.stdout)["end"]["sum_received"]["bits_per_second"]
            print(f"\n  TCP {name} through the Python client: {bps / 1e6:.0f} Mbit/s", end=" ")
        st = self.status()
        read = st["tun_packets_read"] - before["tun_packets_read"]
        returned = st["returned"] - before["returned"]
        # Super-packets from the TUN were cut into several RETURNs each (software TSO), sent as
        # UDP GSO runs; the client's segments were coalesced into fewer TUN writes (GRO).
        self.assertGreater(returned, read, st)
        off = st["offload"]
        self.assertTrue({"csum", "tso4", "tso6"} <= set(off["tun"]), off)
        self.assertTrue(off["udp_gro"] and off["udp_gso"], off)
        self.assertGreater(off["gso_sends"], before["offload"]["gso_sends"], off)
        self.assertGreater(off["coalesced_packets"], before["offload"]["coalesced_packets"], off)
        print(f"\n  offloads: {off}", end=" ")
        # Nothing dropped but the kernel's own MLD reports into the new TUN device.
        self.assertEqual(st["dropped_packets"], st["drops"]["multicast"], st)
        # Every segment fitted the tunnel: the router needed no Packet Too Big for TCP.
        self.assertEqual(self.too_bigs_sent(), too_bigs, "Packet Too Big during TCP")


class McastSizes(LabTestCase):
    """iperf (version 2) multicast at its default 1470-byte datagrams through dmux-mcast: the
    sender's host fragments each 1498-byte packet at its 1400-byte tunnel, the router carries the
    fragments, the receiver's host reassembles them.

        c1 198.18.11.2 --+-- gw (dmuxd, 198.18.0.1) --- r1 198.18.2.2:5000 (dmux-mcast)
        c2 198.18.12.2 --+
    """
    PREFIX = "dmuxmz-"
    ROLES = ("gw", "r1", "c1", "c2")
    BINARIES, NEEDS = (DMUXD, MCAST, DMUX_CA), "network namespaces, TUN devices"
    GW_IP = "198.18.0.1"
    GROUP = "239.1.1.1"

    @classmethod
    def build_lab(cls):
        lab = cls.lab
        lab.run("gw", "ip", "addr", "add", f"{cls.GW_IP}/32", "dev", "lo")
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for role, net in (("r1", "198.18.2"), ("c1", "198.18.11"), ("c2", "198.18.12")):
            lab.link(role, "eth0", f"{net}.2/24", "gw", f"to{role}", f"{net}.1/24")
            lab.run(role, "ip", "route", "add", "default", "via", f"{net}.1")
        ca, cert, key = lab.credentials(PROVIDER_ID, "ipv4-multicast")
        gw_sock, cls.r1_sock = lab.path("dmuxd.sock"), lab.path("r1.sock")
        d = lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{cls.GW_IP}:{DATA_PORT}", "--workers", "1",
            "--registration-listen", f"{cls.GW_IP}:4501", "--ca-cert", ca,
            "--control-socket", gw_sock, "--metrics-listen", "off"])
        if not wait_for_socket(gw_sock, d):
            raise RuntimeError("dmuxd exited:\n" + d.read_log())
        r = lab.spawn("r1", "r1", [
            MCAST, "--gateway", f"{cls.GW_IP}:4501", "--listen", "198.18.2.2:5000", "--cert", cert,
            "--key", key, "--allow-destination", LAB_ALLOWED, "--control-socket", cls.r1_sock])
        if not wait_for(lambda: cls.registered(), 10):
            raise RuntimeError("dmux-mcast never registered:\n" + lab.logs())
        for c, ip, own in (("c1", "198.18.11.2", "198.18.11.102"),
                           ("c2", "198.18.12.2", "198.18.12.102")):
            client = TunnelClient(lab.ns[c], wire.IPV4_MCAST, ip, (cls.GW_IP, DATA_PORT))
            lab.closers.append(client.close)
            lab.run(c, "ip", "link", "set", "pyc0", "mtu", str(TUN_MTU), "up")
            # An address of its own: a connected socket (iperf's) sends multicast out of the
            # device that owns its source address (dmux-client captures it wherever it goes).
            lab.run(c, "ip", "addr", "add", f"{own}/32", "dev", "pyc0")
            lab.run(c, "ip", "route", "add", "224.0.0.0/4", "dev", "pyc0")
        del r

    @classmethod
    def registered(cls):
        try:
            return unix_request(cls.r1_sock, "status")["registrations"][0]["state"] == "registered"
        except (OSError, ValueError, KeyError, IndexError):
            return False

    def test_iperf2_multicast_at_its_default_size(self):
        rx = self.lab.spawn("iperf-s", "c2", ["iperf", "-s", "-u", "-B", self.GROUP, "-i", "1"])
        self.addCleanup(rx.stop, signal.SIGTERM)
        status = lambda: unix_request(self.r1_sock, "status")  # noqa: E731
        self.assertTrue(wait_for(lambda: status()["membership"]["memberships"] >= 1, 10), status())
        tx = self.lab.run("c1", "iperf", "-c", self.GROUP, "-u", "-T", "4", "-t", "2", "-b",
                          "2M", check=False)
        self.assertEqual(tx.returncode, 0, tx.stdout + tx.stderr)
        self.assertIn("1470 byte datagrams", tx.stdout)
        # The receiver's interval lines: "... Mbits/sec  0.010 ms    0/  170 (0%)".
        def received():
            lines = [ln for ln in rx.read_log().splitlines() if "%)" in ln]
            got = 0
            for ln in lines:
                lost, total = ln.split("ms")[-1].split("(")[0].split("/")
                got += int(total) - int(lost)
            return got
        self.assertTrue(wait_for(lambda: received() >= 250, 5), rx.read_log() + str(status()))


if __name__ == "__main__":
    unittest.main()
