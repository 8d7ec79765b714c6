#!/usr/bin/env python3
"""bench/multicast: dmux-mcast fan-out throughput and multicast ping RTT, each next to a unicast
reference through the same gateway, measured in the same run (needs root).

    snd  198.18.20.x --+                        +-- r1 198.18.2.2 (dmux-mcast :5000,
    m01  198.18.21.x --+                        |      dmux-provider :5001, 2001:db8:2::2)
    ...                +-- gw (dmuxd) ----------+        | peers (IPv4 and IPv6 through gw)
    m16  198.18.36.x --+   198.18.0.1:4500/4501 +-- r2 198.18.3.2 (the same, 2001:db8:3::2)

Every client is an IPv4-only namespace running the real dmux-client with --capture ipv4-multicast;
snd, m01 and m02 also capture ipv6 (addresses from the provider's offer, in 2001:db8:7::/48).
Client addresses are chosen so that dmuxd's rendezvous hashing (protocol.md 8) pins snd and the
odd receivers to r1, the even receivers to r2, for both protocols.

Fan-out: one UDP sender in snd (64-byte payloads) at a ladder of offered rates, N = 1, 4, 16
member sockets (m01..mN: N=1 on r1 only, the same path as the reference; N=4 2+2; N=16 8+8, so
the r1 -> r2 exchange carries half the members). Per N the point of the ladder with the highest
total delivered rate is reported, and the best point with loss below 1%. Reference: the same
sender to one receiver (m01) over unicast IPv6/UDP through the same gateway and router r1
(dmux-provider). Ratios: total delivered at N / reference. CPU time per component and the packet
counters of every stage (dmux-client, dmuxd, routers) are recorded per point (--json).

RTT: tools/mping/mping.py between snd (r1) and m02 (r2), against ping -6 between the same two
clients through IPdmux; for the unicast probes host routes send r1 -> gw -> r2 (and back), so they
cross the same router-to-router hop the multicast exchange does. A third series, a Python UDP echo
over the same unicast path, separates the cost of mping's user-space echoer from that of the
overlay. Rounds alternate.

Exit status: 0; 1 if some series delivered nothing or any duplicate arrived; 2 bad environment;
130 interrupted. Everything it creates (namespaces dmuxb-<pid>-*, processes, temp directory; the
iptables chains and TUN devices live in those namespaces) is removed on exit, Ctrl-C or SIGTERM.

Usage: sudo bench/multicast/run.py [--quick] [--build-dir build] [--json FILE] [--verbose]

Files: run.py (this: options, the run, the exit status), topology.py (namespaces, daemons, helper
processes, clean-up), fanout.py and rtt.py (the two measurements), report.py (the tables),
helpers.py (what runs inside the namespaces).
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time

from fanout import FanOut
from helpers import COMMANDS, run_helper
from report import failures, report
from rtt import Rtt
from topology import PREFIX, REPO, ROUTERS, Topology


class Bench(Topology, FanOut, Rtt):
    pass


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke run: N in 1 and 4, 2 s per point, 20 probes (< 60 s)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--rates", help="offered rates to try, packets/s, comma-separated, "
                    "ascending; the sweep stops past the knee (0: as fast as the sender can)")
    ap.add_argument("--seconds", type=float, help="seconds per point (default 3; quick 2)")
    ap.add_argument("--summary-interval-ms", type=int,
                    help="dmux-mcast --summary-interval-ms (default: its default, 1000; peers "
                    "are declared dead after 3.5 intervals; see README, known issue)")
    ap.add_argument("--json", help="also write every point and probe to this file")
    ap.add_argument("--verbose", "-v", action="store_true", help="print progress and each point")
    args = ap.parse_args()
    args.sizes = (1, 4) if args.quick else (1, 4, 16)
    if args.rates:
        args.rates = [float(r) for r in args.rates.split(",")]
    else:
        args.rates = ([10000, 20000, 40000, 0] if args.quick else
                      [2500, 3500, 5000, 7000, 10000, 14000, 20000, 28000, 40000, 56000, 0])
    args.seconds = args.seconds or (2.0 if args.quick else 3.0)
    args.drain = 0.5
    args.rounds, args.probes = (2, 10) if args.quick else (5, 20)
    args.interval = 0.05
    return args


def environment_problem():
    """Why the bench cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, iptables, TUN devices)"
    for tool in ("ip", "iptables", "ip6tables", "ping"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def measure(bench):
    """(fan-out, reference, rtt); None if interrupted. Cleans up in any case."""
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)  # also when started with SIGINT ignored (`cmd &`)
    try:
        print(f"bench/multicast: {len(bench.ns)} namespaces {PREFIX}*, "
              f"{len(bench.receivers)} receivers ...", flush=True)
        bench.setup()
        ref = bench.reference()
        fan = bench.fanout()
        rtt = bench.rtt()
        return fan, ref, rtt
    except KeyboardInterrupt:
        print("bench/multicast: interrupted, cleaning up", file=sys.stderr)
        return None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.cleanup()
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:  # the helpers' old entry point
        return run_helper(sys.argv[1:])
    args = parse_args()
    problem = environment_problem()
    if problem:
        print(f"bench/multicast: {problem}", file=sys.stderr)
        return 2
    os.environ["DMUX_BUILD_DIR"] = args.build_dir
    from ipdmux import agent_lab as lib  # noqa: E402  (sh, NsProcess, unix_request, LAB_ALLOWED)

    bench = Bench(args, lib)
    bench.t0 = time.monotonic()
    results = measure(bench)
    if results is None:
        return 130
    fan, ref, rtt = results
    report(fan, ref, rtt, args)
    print(f"  (total {time.monotonic() - bench.t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"fanout": fan, "reference": ref, "rtt": rtt,
                       "addresses": bench.ip, "ipv6": bench.addr6}, f, indent=1)
    failed = failures(fan, ref, rtt, ROUTERS)
    if failed:
        print("bench/multicast: FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
