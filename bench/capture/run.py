#!/usr/bin/env python3
"""bench/capture: dmux-client's cost next to the direct path, in one run (needs root).

    client --(IPv4)-- gw (dmuxd) --(IPv4)-- router (dmux-provider) --(IPv6)-- server
       \\----------------- direct IPv6 link ------------------/

The server has two addresses: 2001:db8:1::2, which the client reaches through dmux-client (captured
by NFQUEUE, tunnelled to dmuxd, de-tunnelled by dmux-provider, replies injected through the TUN
device), and 2001:db8:3::2, which it reaches natively over a direct veth link to the same router.
Both paths are measured interleaved in the same run:

  * per-packet round trip of ping -6 (64-1400 B): p50 and p99 for each path; the difference of the
    medians is what capture + tunnel + injection add per round trip (two traversals of the client,
    one of the gateway and two of the provider);
  * TCP throughput client -> server with iperf3 (or socat when iperf3 is missing).

Usage: sudo bench/capture/run.py [--quick] [--json FILE]
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "pylib"))
os.environ.setdefault("DMUX_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
import test_client_netns as topo  # noqa: E402  (reuses the test's namespaces and daemons)
from ipdmux.client_lab import sh, unix_request  # noqa: E402

DIRECT_SERVER = "2001:db8:3::2"
SIZES = (64, 256, 512, 1024, 1400)


def add_direct_path():
    c, r, s = topo.REAL_NS["client"], topo.REAL_NS["router"], topo.REAL_NS["server"]
    sh("ip", "link", "add", "direct0", "netns", c, "type", "veth", "peer", "name", "toclient6",
       "netns", r)
    sh("sysctl", "-qw", "net.ipv6.conf.direct0.disable_ipv6=0", ns=c)
    sh("ip", "addr", "add", "2001:db8:2::2/64", "dev", "direct0", ns=c)
    sh("ip", "addr", "add", "2001:db8:2::1/64", "dev", "toclient6", ns=r)
    sh("ip", "addr", "add", f"{DIRECT_SERVER}/64", "dev", "eth0", ns=s)
    for ns, dev in ((c, "direct0"), (r, "toclient6")):
        sh("ip", "link", "set", dev, "up", ns=ns)
    sh("ip", "-6", "route", "add", "2001:db8:3::/64", "via", "2001:db8:2::1", ns=c)
    sh("ip", "-6", "route", "add", "2001:db8:2::/64", "via", topo.ROUTER_V6, ns=s)
    sh("ip", "-6", "route", "add", "2001:db8:3::/64", "via", topo.SERVER_V6, ns=r)
    time.sleep(1)


def ping_rtts(dest, size, count):
    # IPv6 payload = ICMPv6 header 8 + data; "size" is the IPv6 packet length.
    data = max(size - 48, 16)
    client_ns = topo.REAL_NS["client"]
    r = subprocess.run(["ip", "netns", "exec", client_ns, "ping", "-6", "-n", "-c",
                        str(count), "-i", "0.005", "-s", str(data), dest], capture_output=True,
                       text=True, timeout=120)
    return [float(m) * 1000 for m in re.findall(r"time=([\d.]+) ms", r.stdout)]


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def tcp_throughput(dest, seconds):
    server_ns = topo.REAL_NS["server"]
    server = subprocess.Popen(["ip", "netns", "exec", server_ns, "iperf3", "-s", "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        r = subprocess.run(["ip", "netns", "exec", topo.REAL_NS["client"], "iperf3", "-c", dest,
                            "-t", str(seconds), "-J"], capture_output=True, text=True,
                           timeout=seconds + 30)
        return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6
    finally:
        server.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few pings, 2 s TCP: a smoke test")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    count, seconds, rounds = (50, 2, 1) if args.quick else (400, 5, 3)

    cls = topo.ClientWithRealDaemons
    cls.setUpClass()  # namespaces, CA, dmuxd, dmux-provider
    client = None
    try:
        add_direct_path()
        sock = cls.lab.path("client.sock")
        client = cls.lab.spawn("client", "client", [
            topo.CLIENT, "--gateway", f"{topo.GW_IP}:{topo.DATA_PORT}", "--capture",
            f"ipv6:provider={topo.PROVIDER_ID}", "--phase-out", "off",
            "--control-socket", sock])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if unix_request(sock, "status")["address"]:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("no address offered:\n" + client.read_log())
        ping_rtts(topo.SERVER_V6, 64, 5)  # warm up neighbour caches
        ping_rtts(DIRECT_SERVER, 64, 5)
        results = {"latency_us": {}, "tcp_mbps": {}}
        for size in SIZES:
            tun, direct = [], []
            for _ in range(rounds):  # interleaved
                tun += ping_rtts(topo.SERVER_V6, size, count)
                direct += ping_rtts(DIRECT_SERVER, size, count)
            row = {"dmux_p50": pct(tun, 50), "dmux_p99": pct(tun, 99),
                   "direct_p50": pct(direct, 50), "direct_p99": pct(direct, 99)}
            row["added_p50"] = row["dmux_p50"] - row["direct_p50"]
            results["latency_us"][size] = row
            print(f"{size:5d} B  dmux p50 {row['dmux_p50']:7.1f} p99 {row['dmux_p99']:7.1f} us | "
                  f"direct p50 {row['direct_p50']:6.1f} p99 {row['direct_p99']:6.1f} us | "
                  f"added p50 {row['added_p50']:6.1f} us (round trip)", flush=True)
        tcp_t, tcp_d = [], []
        for _ in range(rounds):
            tcp_t.append(tcp_throughput(topo.SERVER_V6, seconds))
            tcp_d.append(tcp_throughput(DIRECT_SERVER, seconds))
        results["tcp_mbps"] = {"dmux": statistics.median(tcp_t), "direct": statistics.median(tcp_d)}
        results["tcp_ratio"] = results["tcp_mbps"]["dmux"] / results["tcp_mbps"]["direct"]
        print(f"TCP client->server: dmux {results['tcp_mbps']['dmux']:.0f} Mbit/s, direct "
              f"{results['tcp_mbps']['direct']:.0f} Mbit/s, ratio {results['tcp_ratio']:.2f} "
              f"(paper: 0.33)")
        st = unix_request(sock, "status")
        results["client_status"] = {k: st[k] for k in ("captured", "segmented", "tunnelled",
                                                       "injected", "dropped_packets")}
        print("dmux-client:", json.dumps(results["client_status"]))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        if client is not None:
            client.stop(signal.SIGTERM)
        cls.tearDownClass()


if __name__ == "__main__":
    main()
