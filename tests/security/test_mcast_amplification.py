"""Issue 11, attack 4, against a real dmux-mcast behind a real dmuxd (needs root): memberships
cannot be created for an address that did not prove it receives there, so dmux-mcast cannot be
aimed at a victim, and one address holds at most a few memberships however many ports it uses.

1. 1,100 forged IGMP joins naming one victim address on 1,100 ports, sent through the real dmuxd
   from the attacker (its source spoofed as the victim, so dmuxd puts the victim in the TUNNEL),
   and 1,100 TUNNELs with forged client fields sent straight to the router: 0 memberships; a
   proven sender's group traffic then sends the victim nothing (factor 0).
2. TOKEN_REQUESTs spoofed as the victim: it receives 52 bytes per 84 the attacker sent.
3. Twenty real clients on one IPv4 address, each proven (TOKEN_REQUEST, then IGMP with its rt):
   the per-address cap (4) holds, so each group packet goes to that address at most 4 times.

    attacker 198.18.9.2 --+
    victim   198.18.8.2 --+                                  (198.18.0.1: dmuxd data port)
    sender   198.18.7.2 --+-- gw (dmuxd) ---- r1 198.18.2.2:5000 (dmux-mcast, static router)
    crowd    198.18.6.2 --+
    attacker 198.18.3.2 -------------------- 198.18.3.1 (a direct path to the router)

Bytes are UDP payload bytes, counted with packet sockets on the victim's and the crowd's links
(what the router sent toward them) and by the test (what the attacker sent). Each test prints
its figures. The Lab removes the namespaces, processes and files, also on failure."""
import os
import secrets
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import wire  # noqa: E402
from ipdmux.agent_lab import (DMUXD, LAB_ALLOWED, MCAST, Sniffer, igmpv2_report,  # noqa: E402
                              LabTestCase, raw_ipv4_socket, request_token, send_spoofed,
                              udp4_packet, udp_socket, unix_request, wait_for, wait_for_socket)

GW_IP = "198.18.0.1"
HOSTS = {"attacker": "198.18.9", "victim": "198.18.8", "sender": "198.18.7", "crowd": "198.18.6"}
ROUTER_IP, GW_ROUTER = "198.18.2.2", "198.18.2.1"
DATA_PORT, REG_PORT, ROUTER_PORT = 4500, 4501, 5000
PROVIDER_ID = 7
GROUP, GROUP_PORT = "239.1.1.1", 5001
JOINS = 1100
GROUP_PACKETS, GROUP_PAYLOAD = 50, 1372  # 1400-byte IPv4 packets
GROUP_FILL = b"." * 64  # in every group packet's payload
CAP = 4


def pace(i):
    """A pause every 50 datagrams: the attack is about counts, not rates, and a burst of hundreds
    would overflow a socket buffer on a loaded machine and lose some before they are counted."""
    if i % 50 == 49:
        time.sleep(0.002)


def host(role):
    return HOSTS[role] + ".2"


class McastAmplification(LabTestCase):
    PREFIX, ROLES, BINARIES = "dmuxsm-", tuple(HOSTS) + ("gw", "r1"), (DMUXD, MCAST)
    NEEDS = "network namespaces, raw sockets"

    @classmethod
    def build_lab(cls):
        cls._topology()
        cls._daemons()

    @classmethod
    def _topology(cls):
        lab = cls.lab
        lab.run("gw", "ip", "addr", "add", f"{GW_IP}/32", "dev", "lo")
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for conf in ("all", "default"):  # the attacker spoofs sources freely
            lab.run("gw", "sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0")
        for role, net in HOSTS.items():
            lab.link(role, "eth0", f"{net}.2/24", "gw", f"to{role}", f"{net}.1/24")
            lab.run("gw", "sysctl", "-qw", f"net.ipv4.conf.to{role}.rp_filter=0")
            lab.run(role, "ip", "route", "add", "default", "via", f"{net}.1")
            # Both ends learn each other's MAC now, so no burst toward a host waits on ARP.
            lab.run(role, "ping", "-c1", "-W2", "-q", f"{net}.1")
        lab.link("gw", "tor1", f"{GW_ROUTER}/24", "r1", "eth0", f"{ROUTER_IP}/24")
        lab.run("r1", "ip", "route", "add", "default", "via", GW_ROUTER)
        lab.link("attacker", "eth1", "198.18.3.2/24", "r1", "toattacker", "198.18.3.1/24")
        lab.run("attacker", "ip", "route", "add", f"{ROUTER_IP}/32", "via", "198.18.3.1")

    @classmethod
    def _daemons(cls):
        lab = cls.lab
        _, cert, key = lab.credentials(PROVIDER_ID, "ipv4-multicast")
        key_file, _ = lab.tunnel_key()
        cls.gw_sock, cls.r1_sock = lab.path("dmuxd.sock"), lab.path("r1.sock")
        gw = lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{GW_IP}:{DATA_PORT}", "--workers", "1", "--static-router",
            f"ipv4-multicast {PROVIDER_ID} {ROUTER_IP}:{ROUTER_PORT} {key_file}",
            "--control-socket", cls.gw_sock, "--metrics-listen", "off"])
        if not wait_for_socket(cls.gw_sock, gw):
            raise RuntimeError("dmuxd did not start:\n" + lab.logs())
        r1 = lab.spawn("r1", "r1", [
            MCAST, "--gateway", f"{GW_ROUTER}:{REG_PORT}", "--listen", f"{ROUTER_IP}:{ROUTER_PORT}",
            "--cert", cert, "--key", key, "--static-tunnel-key", key_file,
            "--max-clients-per-address", CAP, "--allow-destination", LAB_ALLOWED,
            "--control-socket", cls.r1_sock])
        if not wait_for_socket(cls.r1_sock, r1):
            raise RuntimeError("dmux-mcast did not start:\n" + lab.logs())
        cls.raw = raw_ipv4_socket(lab.ns["attacker"])
        lab.closers.append(cls.raw.close)
        # A proven sender: it learns its rt and sends group traffic like dmux-client would.
        cls.sender = udp_socket(lab.ns["sender"], (host("sender"), 0))
        lab.closers.append(cls.sender.close)
        cls.sender_rt = request_token(cls.sender, (GW_IP, DATA_PORT), wire.IPV4_MCAST)[0]

    def setUp(self):
        self.sniffers = {role: Sniffer(self.lab.ns[role], "eth0") for role in ("victim", "crowd")}
        for s in self.sniffers.values():
            self.addCleanup(s.stop)

    # ---- helpers ------------------------------------------------------------------------------

    def status(self):
        return unix_request(self.r1_sock, "status")

    def toward(self, role, group_traffic_only=False):
        """(datagrams, UDP payload bytes) the router sent toward `role`'s address; only those that
        carry send_group_traffic()'s packets if asked (a late TOKEN_OFFER or query is not)."""
        got = self.sniffers[role].matching(lambda src, sport, dst, dport, payload:
                                           src == ROUTER_IP and dst == host(role) and
                                           (not group_traffic_only or GROUP_FILL in payload))
        return len(got), sum(len(p[4]) for p in got)

    def send_group_traffic(self, count=GROUP_PACKETS):
        before = self.status()["group_packets"]
        for i in range(count):
            packet = udp4_packet(host("sender"), GROUP, 40000, GROUP_PORT,
                                 (b"%06d" % i).ljust(GROUP_PAYLOAD, b"."), ttl=1)
            self.sender.sendto(wire.data(wire.IPV4_MCAST, 0, self.sender_rt, packet),
                               (GW_IP, DATA_PORT))
            time.sleep(0.002)
        self.assertTrue(wait_for(lambda: self.status()["group_packets"] >= before + count, 5))
        time.sleep(0.3)

    def wait_read(self, before, count, timeout=10):
        return wait_for(lambda: self.status()["tunnels_received"] >= before + count, timeout)

    # ---- tests --------------------------------------------------------------------------------

    def test_1_forged_joins_create_no_membership(self):
        st0 = self.status()
        sent_bytes = 0
        for i in range(JOINS):  # through dmuxd, as the victim (dmuxd sees the victim's address)
            d = wire.data(wire.IPV4_MCAST, 0, secrets.randbits(64), igmpv2_report(host("victim"),
                                                                                  GROUP))
            send_spoofed(self.raw, host("victim"), 20000 + i, GW_IP, DATA_PORT, d)
            sent_bytes += len(d)
            pace(i)
        for i in range(JOINS):  # forged TUNNELs naming the victim, straight at the router
            report = igmpv2_report(host("victim"), GROUP)
            t = wire.tunnel(wire.IPV4_MCAST, 0, wire.ip(host("victim")), 30000 + i,
                            wire.ip(GW_IP), secrets.randbits(64), 0, (1 << 64) - 1 - i, report,
                            key=os.urandom(32))
            send_spoofed(self.raw, GW_ROUTER, 40000, ROUTER_IP, ROUTER_PORT, t)
            sent_bytes += len(t)
            pace(i)
        self.assertTrue(self.wait_read(st0["tunnels_received"], 2 * JOINS), self.lab.logs())
        st1 = self.status()
        unproven = st1["drops"]["unproven"] - st0["drops"]["unproven"]
        bad_tag = st1["drops"]["bad_tag"] - st0["drops"]["bad_tag"]
        self.send_group_traffic()
        st2 = self.status()
        datagrams, victim_bytes = self.toward("victim")
        factor = victim_bytes / sent_bytes
        print(f"\nattack 4: {2 * JOINS} forged joins ({sent_bytes} bytes: {JOINS} through dmuxd "
              f"from the victim's address, {JOINS} forged TUNNELs) -> memberships "
              f"{st2['membership']['memberships']}, unproven {unproven}, bad_tag {bad_tag}; then "
              f"{GROUP_PACKETS} group packets of 1400 bytes: {datagrams} datagrams, "
              f"{victim_bytes} bytes toward the victim; factor {factor:.3f}", file=sys.stderr)
        self.assertEqual(st2["membership"]["memberships"], 0)
        self.assertEqual(unproven, JOINS)
        self.assertEqual(bad_tag, JOINS)
        self.assertEqual(victim_bytes, 0)
        self.assertEqual(st2["queries_sent"], 0)

    def test_2_token_requests_reflect_less_than_they_cost(self):
        n = 500
        before = self.status()["token_offers"]
        sent_bytes = 0
        for i in range(n):
            d = wire.data(wire.IPV4_MCAST, 0, secrets.randbits(64) | 1, wire.token_request(),
                          flags=wire.FLAG_CONTROL)
            send_spoofed(self.raw, host("victim"), 20000 + i, GW_IP, DATA_PORT, d)
            sent_bytes += len(d)
            pace(i)
        self.assertTrue(wait_for(lambda: self.status()["token_offers"] >= before + n, 10))
        self.assertTrue(wait_for(lambda: self.toward("victim")[0] >= n, 5),
                        f"{self.toward('victim')[0]} of {n} TOKEN_OFFERs seen toward the victim; "
                        f"the sniffer dropped {self.sniffers['victim'].drops()} frames")
        datagrams, victim_bytes = self.toward("victim")
        factor = victim_bytes / sent_bytes
        print(f"\nTOKEN_REQUESTs spoofed as the victim: {n} x {sent_bytes // n} bytes -> {datagrams} "
              f"TOKEN_OFFERs, {victim_bytes} bytes toward the victim; factor {factor:.3f}",
              file=sys.stderr)
        self.assertEqual(datagrams, n)
        self.assertLessEqual(factor, 52 / 84 + 1e-9)
        self.assertEqual(self.status()["membership"]["memberships"], 0)

    def test_3_many_proven_clients_on_one_address_are_capped(self):
        socks = [udp_socket(self.lab.ns["crowd"], (host("crowd"), 0)) for _ in range(20)]
        for s in socks:
            self.addCleanup(s.close)
        for s in socks:
            rt = request_token(s, (GW_IP, DATA_PORT), wire.IPV4_MCAST)[0]
            s.sendto(wire.data(wire.IPV4_MCAST, 0, rt, igmpv2_report(host("crowd"), GROUP)),
                     (GW_IP, DATA_PORT))
        self.assertTrue(wait_for(lambda: self.status()["membership"]["refusals"]
                                 ["clients_per_address"] >= len(socks) - CAP, 5),
                        self.status()["membership"])
        members = [m for m in self.status()["membership"]["members"].get(GROUP, [])
                   if m.startswith(host("crowd") + ":")]
        self.sniffers["crowd"].clear()  # count the group traffic only
        self.send_group_traffic()
        datagrams, crowd_bytes = self.toward("crowd", group_traffic_only=True)
        per_packet = datagrams / GROUP_PACKETS
        print(f"\n{len(socks)} proven clients on {host('crowd')}: {len(members)} members (cap "
              f"{CAP}); each 1400-byte group packet reached that address {per_packet:.1f} times "
              f"({crowd_bytes} bytes for {GROUP_PACKETS} packets)", file=sys.stderr)
        self.assertEqual(len(members), CAP)
        self.assertEqual(datagrams, CAP * GROUP_PACKETS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
