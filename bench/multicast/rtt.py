"""bench/multicast's RTT measurement (see run.py): tools/mping/mping.py between snd (r1) and m02
(r2) against ping -6 and a Python UDP echo over the same unicast path, in alternating rounds."""
import os
import re
import sys

from helpers import PAYLOAD
from topology import HELPERS, MPING_PORT, REPO, ROUTERS, RTT_A, RTT_B, RTT_PAIR
from ipdmux.stats import percentile  # noqa: E402  (topology put tests/pylib on sys.path)

MPING = os.path.join(REPO, "tools", "mping", "mping.py")


class Rtt:
    """Mixed into the bench (topology.Topology): host routes for the pair, the three series."""

    def route_pair_through_gw(self):
        """Host routes so that ping -6 between the pair crosses r1 -> gw -> r2 like the exchange."""
        a, b = RTT_PAIR
        ra, rb = self.wanted[a], self.wanted[b]
        for x, rx, ry in ((b, ra, rb), (a, rb, ra)):
            # x's address: from rx's kernel to gw, from gw to ry, whose TUN route takes it.
            self.sh("ip", "-6", "route", "add", f"{self.addr6[x]}/128", "via", ROUTERS[rx][2],
                    ns=rx)
            self.sh("ip", "-6", "route", "add", f"{self.addr6[x]}/128", "via", ROUTERS[ry][3],
                    ns="gw")

    def mping_round(self, count):
        a, _ = RTT_PAIR
        p = self.popen(a, sys.executable, MPING, "ping", "--join", RTT_A, "--send", RTT_B,
                       "--port", str(MPING_PORT), "-c", str(count), "-i",
                       str(self.args.interval), "--settle", "1.0", "--timeout", "1.0")
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"^reply seq=\d+ rtt=([\d.]+) ms", out, re.M)]
        m = re.search(r"(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def ping6_round(self, count):
        a, b = RTT_PAIR
        p = self.popen(a, "ping", "-6", "-n", "-c", str(count), "-i", str(self.args.interval),
                       "-W", "1", "-s", str(PAYLOAD - 8), self.addr6[b])
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"time=([\d.]+) ms", out)]
        m = re.search(r"\+(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def uping_round(self, count):
        a, b = RTT_PAIR
        p = self.popen(a, sys.executable, HELPERS, "_uping", self.addr6[b],
                       str(MPING_PORT + 1), str(count), str(self.args.interval))
        out, _ = p.communicate(timeout=count * self.args.interval + 30)
        self.helpers.remove(p)
        rtts = [float(x) for x in re.findall(r"^reply seq=\d+ rtt=([\d.]+) ms", out, re.M)]
        m = re.search(r"(\d+) duplicates", out)
        return rtts, int(m.group(1)) if m else 0

    def counters(self):
        gw = self.sh("cat", "/proc/net/snmp6", ns="gw").stdout.split()
        r1 = self.status("mcast-r1")
        r2 = self.status("mcast-r2")
        return {"gw_ip6_forwarded": int(gw[gw.index("Ip6OutForwDatagrams") + 1]),
                "mcast_forwarded": r1["forwarded"] + r2["forwarded"],
                "mcast_from_peers": r1["from_peers"] + r2["from_peers"]}

    def rtt(self):
        a, b = RTT_PAIR
        self.route_pair_through_gw()
        echo = self.popen(b, sys.executable, MPING, "echo", "--join", RTT_B, "--send", RTT_A,
                          "--port", str(MPING_PORT))
        uecho = self.popen(b, sys.executable, HELPERS, "_uecho",
                           str(MPING_PORT + 1))
        try:
            self.readline(echo, 10, "mping echo")
            self.readline(uecho, 10, "UDP echo")
            self.wait(lambda: any(m.startswith(self.ip[b] + ":")
                                  for m in self.members(RTT_B)[self.wanted[b]])
                      and self.peer_has(self.wanted[a], RTT_B), 10, "the echoer's membership")
            self.ping6_round(3)  # warm-up, not counted
            kinds = (("multicast", self.mping_round), ("unicast", self.ping6_round),
                     ("unicast_udp", self.uping_round))
            res = {name: {"rtts": [], "dups": 0} for name, _ in kinds}
            hops = {name: 0 for name, _ in kinds}
            for i in range(self.args.rounds):
                for name, fn in (kinds if i % 2 == 0 else kinds[::-1]):
                    before = self.counters()
                    rtts, dups = fn(self.args.probes)
                    after = self.counters()
                    key = "gw_ip6_forwarded" if name != "multicast" else "mcast_from_peers"
                    hops[name] += after[key] - before[key]
                    res[name]["rtts"] += rtts
                    res[name]["dups"] += dups
                    self.log(f"rtt round {i + 1} {name}: {len(rtts)}/{self.args.probes} replies, "
                             f"p50 {percentile(rtts, 50)}")
        finally:
            self.stop([echo, uecho])
        sent = self.args.rounds * self.args.probes
        for name, r in res.items():
            # hop_packets: packets that crossed r1 <-> r2 (gw's IPv6 forwarding for unicast,
            # router-to-router deliveries for multicast): about 2 per probe.
            r.update(sent=sent, received=len(r["rtts"]), p50_ms=percentile(r["rtts"], 50),
                     p99_ms=percentile(r["rtts"], 99), loss=1 - len(r["rtts"]) / sent,
                     hop_packets=hops[name])
        return res
