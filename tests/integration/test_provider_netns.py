"""dmux-provider for real, in network namespaces (needs root), protocol version 2: a real dmuxd
seals every TUNNEL with the router's tunnel key, the agent checks tag and replay window before
anything else, a client learns its return token with a TOKEN_REQUEST and uses it, the server's
kernel answers ping, and the reply comes back as a RETURN carrying the client's rt.

    client (IPv4 only) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    198.18.1.2        198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1   2001:db8:1::2

Two set-ups: StaticRouter (dmuxd --static-router with a key file, the agent --static-tunnel-key
with the same file and --return-key) and Registered (the agent registers with dmuxd and is handed
its tunnel key in the REGISTER_ACK). The client prefix 2001:db8:7::/48 is routed by the server to
the router, and by the router (the agent adds the route) into its TUN device. Every namespace,
process and file is removed by the Lab, also when a test or its set-up fails.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux import crypto, wire  # noqa: E402
from ipdmux.agent_lab import (DMUX_CA, DMUXCTL, DMUXD, LAB_ALLOWED, PROVIDER,  # noqa: E402
                              LabTestCase, echo_request, inet6, parse_ipv6, parse_return,
                              request_token, udp_socket, unix_request, wait_for, wait_for_socket)

from ipdmux.provider_topology import (CLIENT_IP, CLIENT_PREFIX, DATA_PORT, GW_CLIENT_SIDE,  # noqa: E402,F401
                                     GW_ROUTER_SIDE, HOLD_MS, KEEPALIVE_MS, PREFIX_BYTES,
                                     PROVIDER_ID, REG_PORT, ROUTER_IP, ROUTER_V6, SERVER_V6,
                                     TUNNEL_PORT, icmp6_in_echos, make_topology)


class ProviderLab(LabTestCase):
    """The topology, once per class; a dmuxd and an agent per test (subclasses say how)."""

    ROLES = ("client", "gw", "router", "server")
    BINARIES, NEEDS = (DMUXD, PROVIDER, DMUX_CA, DMUXCTL), "network namespaces, TUN devices"

    @classmethod
    def build_lab(cls):
        lab = cls.lab
        make_topology(lab)
        cls.ca_cert, cls.prov_cert, cls.prov_key = lab.credentials(PROVIDER_ID, "ipv6")
        cls.key_file, cls.tunnel_key = lab.tunnel_key()
        cls.return_seed = secrets.token_bytes(32)
        cls.return_key_file = lab.path("return.key")
        with open(cls.return_key_file, "wb") as f:
            f.write(cls.return_seed)

    def setUp(self):
        self.socks = []
        self.gw_sock = self.lab.path("dmuxd.sock")
        self.prov_sock = self.lab.path("provider.sock")
        self.addCleanup(self.stop_everything)  # runs even if the rest of setUp fails
        self.dmuxd = self.start_dmuxd()
        self.provider = self.start_provider()

    def stop_everything(self):
        # The agent must exit cleanly on SIGTERM (under the sanitizer build this is where leaks
        # and late memory errors show).
        unclean = None
        for p in reversed(self.lab.procs):
            if p.alive() and p.stop(signal.SIGTERM) != 0 and p.name == "provider":
                unclean = f"dmux-provider exited with {p.proc.returncode}:\n{p.read_log()[-3000:]}"
        self.lab.procs.clear()
        for s in self.socks:
            s.close()
        for path in (self.gw_sock, self.prov_sock):
            if os.path.exists(path):
                os.unlink(path)
        if unclean:
            self.fail(unclean)

    def dmuxd_args(self):
        raise NotImplementedError

    def provider_args(self):
        raise NotImplementedError

    def start_dmuxd(self):
        p = self.lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{GW_CLIENT_SIDE}:{DATA_PORT}", "--workers", "1",
            "--control-socket", self.gw_sock, "--metrics-listen", "off"] + self.dmuxd_args())
        self.assertTrue(wait_for_socket(self.gw_sock, p), "dmuxd exited:\n" + p.read_log())
        return p

    def start_provider(self):
        p = self.lab.spawn("provider", "router", [
            PROVIDER, "--gateway", f"{GW_ROUTER_SIDE}:{REG_PORT}",
            "--listen", f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", self.prov_cert, "--key",
            self.prov_key, "--client-prefix", CLIENT_PREFIX, "--control-socket", self.prov_sock,
            "--allow-destination", LAB_ALLOWED] + self.provider_args())
        self.assertTrue(wait_for_socket(self.prov_sock, p), "dmux-provider exited:\n" +
                        p.read_log())
        return p

    def provider_status(self):
        return unix_request(self.prov_sock, "status")

    def client_socket(self):
        s = udp_socket(self.lab.ns["client"], (CLIENT_IP, 0))
        s.settimeout(3)
        self.socks.append(s)
        return s

    def tun_exists(self):
        return self.lab.run("router", "ip", "link", "show", "dmuxp0", check=False).returncode == 0

    def prefix_route(self):
        return self.lab.run("router", "ip", "-6", "route", "show", CLIENT_PREFIX).stdout.strip()

    def token(self, sock):
        return request_token(sock, (GW_CLIENT_SIDE, DATA_PORT), wire.IPV6, PROVIDER_ID)[0]

    def send_echo(self, sock, src, token, ident=0x1d, seq=1, data=b"ipdmux-provider-test"):
        packet = echo_request(src, inet6(SERVER_V6), ident, seq, data)
        sock.sendto(wire.data(wire.IPV6, PROVIDER_ID, token, packet), (GW_CLIENT_SIDE, DATA_PORT))
        return packet

    def ping_once(self):
        """A proven client's echo through dmuxd, the agent and the server's kernel, and back."""
        sock = self.client_socket()
        port = sock.getsockname()[1]
        rt = self.token(sock)
        me = wire.client_address(PREFIX_BYTES, wire.ip(CLIENT_IP), port, secrets.randbits(32))
        echos_before = icmp6_in_echos(self.lab)
        sent = self.send_echo(sock, me, rt)
        data, src = sock.recvfrom(65535)
        self.assertEqual(src, (ROUTER_IP, TUNNEL_PORT))  # straight from the router
        ret = parse_return(data)
        payload = ret.pop("payload")
        self.assertEqual(ret, dict(flags=0, proto_id=wire.IPV6, provider_id=PROVIDER_ID, token=rt))
        ipv6 = parse_ipv6(payload)
        icmp = ipv6.pop("payload")
        self.assertEqual(ipv6, dict(version=6, payload_len=len(icmp), next_header=58,
                                    src=inet6(SERVER_V6), dst=me))
        self.assertEqual(icmp[0], 129)  # echo reply
        self.assertEqual(icmp[4:], sent[40 + 4:])  # same id, seq and data
        self.assertEqual(wire.ipv6_l4_checksum(inet6(SERVER_V6), me, 58, icmp), 0)
        self.assertEqual(icmp6_in_echos(self.lab), echos_before + 1)
        return sock, rt


class StaticRouter(ProviderLab):
    PREFIX = "dmuxps-"

    def dmuxd_args(self):
        return ["--static-router", f"ipv6 {PROVIDER_ID} {ROUTER_IP}:{TUNNEL_PORT} {self.key_file}"]

    def provider_args(self):
        return ["--static-tunnel-key", self.key_file, "--return-key", self.return_key_file]

    def test_token_offer_is_smaller_than_the_request_and_carries_the_rt(self):
        sock = self.client_socket()
        port = sock.getsockname()[1]
        rt, offer, datagram = request_token(sock, (GW_CLIENT_SIDE, DATA_PORT), wire.IPV6)
        # The Python implementation of 6.2 computes the same rt from the same --return-key file.
        want = crypto.return_token(crypto.return_key(self.return_seed), wire.IPV6, PROVIDER_ID,
                                   wire.ip(CLIENT_IP), port)
        self.assertEqual(rt, want)
        self.assertEqual((offer["client_ipv4"], offer["client_port"], offer["refresh_s"]),
                         (wire.ip(CLIENT_IP), port, 25))
        self.assertEqual(len(datagram), 52)
        self.assertLess(len(datagram), len(wire.data(1, 0, 1, wire.token_request())))  # 84
        self.assertEqual(self.provider_status()["token_offers"], 1)

    def test_address_offer_needs_the_rt(self):
        sock = self.client_socket()
        port = sock.getsockname()[1]
        rs = wire.data(wire.IPV6, PROVIDER_ID, secrets.randbits(64), wire.router_solicitation())
        sock.sendto(rs, (GW_CLIENT_SIDE, DATA_PORT))  # unproven: no answer
        self.assertTrue(wait_for(lambda: self.provider_status()["drops"]["unproven"] == 1, 5))
        rt = self.token(sock)
        sock.sendto(wire.data(wire.IPV6, PROVIDER_ID, rt, wire.router_solicitation()),
                    (GW_CLIENT_SIDE, DATA_PORT))
        ret = parse_return(sock.recvfrom(65535)[0])
        self.assertEqual(ret["token"], rt)
        self.assertEqual(ret["payload"], wire.router_advert(PREFIX_BYTES, wire.ip(CLIENT_IP), port,
                                                            1400))
        self.assertEqual(self.provider_status()["solicitations_answered"], 1)

    def test_ping_through_gateway_and_provider(self):
        self.ping_once()
        st = self.provider_status()
        self.assertEqual(st["delivered_to_tun"], 1)
        self.assertEqual(st["returned"], 1)
        self.assertEqual([k["key_id"] for k in st["tunnel_keys"]], [0])  # the static key
        self.assertEqual(st["replay_windows"], 1)  # (key 0, this gateway)
        self.assertEqual(st["allowed_destinations"], [LAB_ALLOWED])
        # Nothing dropped but the kernel's own MLD reports into the new TUN device.
        self.assertEqual(st["dropped_packets"], st["drops"]["multicast"], json.dumps(st))

    def test_spoofed_and_unproven_packets_are_dropped_before_the_server(self):
        sock = self.client_socket()
        port = sock.getsockname()[1]
        rt = self.token(sock)
        tag = secrets.randbits(32)
        echos_before = icmp6_in_echos(self.lab)
        me = wire.client_address(PREFIX_BYTES, wire.ip(CLIENT_IP), port, tag)
        # Another client's address (port differs), and an address outside the prefix: spoofed.
        self.send_echo(sock, wire.client_address(PREFIX_BYTES, wire.ip(CLIENT_IP), port ^ 1, tag),
                       rt)
        self.send_echo(sock, inet6("2001:db8:1::99"), rt)
        # Our own address, but the version-1 token (the tag) or another client's rt: unproven.
        self.send_echo(sock, me, tag)
        self.send_echo(sock, me, rt ^ 1)
        self.assertTrue(wait_for(lambda: self.provider_status()["drops"]["spoofed_source"] == 2
                                 and self.provider_status()["drops"]["unproven"] == 2, timeout=5),
                        json.dumps(self.provider_status()))
        sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            sock.recvfrom(65535)
        st = self.provider_status()
        self.assertEqual(st["delivered_to_tun"], 0)
        self.assertEqual(icmp6_in_echos(self.lab), echos_before)

    def test_sigterm_removes_tun_and_route(self):
        self.assertTrue(self.prefix_route().startswith(f"{CLIENT_PREFIX} dev dmuxp0 "))
        self.assertEqual(self.provider.stop(signal.SIGTERM), 0, self.provider.read_log())
        self.assertFalse(self.tun_exists())
        self.assertEqual(self.prefix_route(), "")

    def test_sigkill_leaves_no_tun_device(self):
        self.provider.stop(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not self.tun_exists(), timeout=3))
        self.assertEqual(self.prefix_route(), "")


class Registered(ProviderLab):
    PREFIX = "dmuxpr-"

    def setUp(self):
        super().setUp()
        self.assertTrue(wait_for(self.router_registered, timeout=10),
                        "router never registered:\n" + self.lab.logs())

    def dmuxd_args(self):
        return ["--registration-listen", f"{GW_ROUTER_SIDE}:{REG_PORT}", "--ca-cert", self.ca_cert,
                "--keepalive-interval-ms", str(KEEPALIVE_MS), "--hold-time-ms", str(HOLD_MS)]

    def provider_args(self):
        return []

    def gateway_routers(self):
        r = subprocess.run([DMUXCTL, "--socket", self.gw_sock, "--json", "routers"],
                           capture_output=True, text=True, timeout=10)
        return json.loads(r.stdout)["routers"] if r.returncode == 0 else []

    def router_registered(self):
        return any(r["provider_id"] == PROVIDER_ID and r["address"] == f"{ROUTER_IP}:{TUNNEL_PORT}"
                   and r["origin"] == "registered" and r["state"] == "up"
                   for r in self.gateway_routers())

    def registered_keys(self):
        return [k for k in self.provider_status()["tunnel_keys"] if not k["static"]]

    def test_registration_is_visible_on_both_sides(self):
        st = self.provider_status()
        self.assertEqual(st["provider_id"], PROVIDER_ID)
        reg = st["registrations"][0]
        self.assertEqual(reg["protocol"], "ipv6")
        self.assertEqual(reg["state"], "registered")
        self.assertEqual(reg["gateway_id"], GW_CLIENT_SIDE)
        self.assertEqual(reg["keepalive_interval_ms"], KEEPALIVE_MS)
        # The REGISTER_ACK's tunnel key went to the TUNNEL receiver.
        keys = self.registered_keys()
        self.assertEqual(len(keys), 1, json.dumps(st["tunnel_keys"]))
        self.assertNotEqual(keys[0]["key_id"], 0)
        self.assertFalse(keys[0]["retired"])
        self.assertTrue(wait_for(  # keepalives flow and are answered
            lambda: self.provider_status()["registrations"][0]["keepalive_acks"] >= 2, timeout=5))
        self.assertGreater(self.provider_status()["registrations"][0]["gateway_rtt_us"], 0)

    def test_ping_with_the_registered_key(self):
        self.ping_once()
        st = self.provider_status()
        self.assertGreaterEqual(st["tunnels_accepted"], 2)  # TOKEN_REQUEST and the echo
        self.assertEqual(st["drops"]["unknown_key"], 0)
        self.assertEqual(st["delivered_to_tun"], 1)

    def test_sigterm_deregisters_and_removes_tun_and_route(self):
        self.assertTrue(self.prefix_route().startswith(f"{CLIENT_PREFIX} dev dmuxp0 "))
        started = time.monotonic()
        self.assertEqual(self.provider.stop(signal.SIGTERM), 0, self.provider.read_log())
        # Gone at once (DEREGISTER), well before the hold time would have expired it.
        self.assertTrue(wait_for(lambda: not self.router_registered(), timeout=3),
                        self.lab.logs())
        self.assertLess(time.monotonic() - started, HOLD_MS / 1000 / 2)
        self.assertFalse(self.tun_exists())
        self.assertEqual(self.prefix_route(), "")

    def test_reregisters_with_a_restarted_gateway_and_takes_the_new_key(self):
        old = self.registered_keys()[0]["key_id"]
        self.assertEqual(self.dmuxd.stop(signal.SIGTERM), 0, self.dmuxd.read_log())
        self.lab.procs.remove(self.dmuxd)
        self.dmuxd = self.start_dmuxd()  # knows nothing of the old session
        self.assertTrue(wait_for(self.router_registered, timeout=10), self.provider.read_log())
        reg = self.provider_status()["registrations"][0]
        self.assertEqual(reg["state"], "registered")
        self.assertGreaterEqual(reg["reregistrations"], 1)
        self.assertIn("re-registering", self.provider.read_log())
        keys = {k["key_id"]: k for k in self.registered_keys()}
        new = [k for k in keys if k != old and not keys[k]["retired"]]
        self.assertEqual(len(new), 1, json.dumps(keys))
        self.assertTrue(old not in keys or keys[old]["retired"])  # held for a while, then gone
        self.ping_once()


if __name__ == "__main__":
    unittest.main(verbosity=2)
