#!/usr/bin/env python3
"""bench/capture: the end user's path through IPdmux next to direct routing and the peers a user
would pick instead (wireguard-go, Teredo with miredo), in one run, on one topology (needs root).

    client --- gw --- router --- server      (topology.py; rows.py says what runs where)

Rows (rows.py): direct, ipdmux, wireguard-go, teredo. Interleaved (A B C D A B C D ...), so load
from elsewhere on the machine falls on all alike; each round gives every row: TCP client->server
and server->client (iperf3), ping -6 round trips unpinned and with ping and the row's daemons on
one CPU (taskset). Once per row, before timing: ping -6 -s 1400 and -s 8000 and a 1470-byte UDP
datagram echoed by the server. Figures: medians over the rounds; CPU seconds per GB are the row's
tunnel daemons' (all of them, from /proc) over its TCP runs. Targets (issue 13) are checked and
printed; a missed target does not fail the run, a row that does not work does.

Usage: sudo bench/capture/run.py [--quick] [--json FILE] [--rounds N] [--build-dir DIR]
--quick: seconds, for CI; a peer that is not installed is skipped with a note (the full mode fails).
"""
import argparse
import json
import os
import signal
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s TCP, 50 pings: a smoke test")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    ap.add_argument("--seconds", type=int, help="per TCP run (default 5, quick 1)")
    ap.add_argument("--pings", type=int, help="per round trip run (default 500, quick 50)")
    ap.add_argument("--pin-cpu", type=int, default=0, help="the CPU of the pinned runs")
    ap.add_argument("--rows", help="comma-separated subset of rows (default: all)")
    ap.add_argument("--dmuxd-args", default="", help='extra dmuxd arguments, e.g. "--gro off"')
    ap.add_argument("--build-dir", default=os.environ.get("DMUX_BUILD_DIR",
                                                          os.path.join(REPO, "build")))
    a = ap.parse_args()
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.seconds = a.seconds or (1 if a.quick else 5)
    a.pings = a.pings or (50 if a.quick else 500)
    return a


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/capture: needs root (network namespaces, NFQUEUE, TUN devices)")
    os.environ["DMUX_BUILD_DIR"] = os.path.abspath(args.build_dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/capture: terminated"))
    import report  # noqa: E402  (after DMUX_BUILD_DIR: the lab library reads it at import)
    import rows as rowlib  # noqa: E402
    import topology  # noqa: E402

    classes = [c for c in rowlib.ALL if not args.rows or c.name in args.rows.split(",")]
    rowlib.IPdmux.dmuxd_args = tuple(args.dmuxd_args.split())
    skipped = {}
    for cls in classes:
        try:
            cls.check_installed()
        except rowlib.Unavailable as e:
            if not args.quick or cls.name in ("direct", "ipdmux"):
                sys.exit(f"bench/capture: {e}")
            skipped[cls.name] = str(e)
            print(f"bench/capture --quick: skipping row {e}", flush=True)
    classes = [c for c in classes if c.name not in skipped]

    lab = topology.make_lab()
    try:
        results = run(args, lab, classes, rowlib, topology)
        results["skipped_rows"] = skipped
        results["targets"] = report.targets(results)
        report.print_table(results)
        report.print_targets(results["targets"])
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        broken = [n for n, r in results["rows"].items()
                  if not r["tcp_mbps"]["up"] or not r["tcp_mbps"]["down"]]
        if broken:
            sys.exit(f"bench/capture: no TCP through {', '.join(broken)}\n{lab.logs()}")
    except rowlib.RowError as e:
        sys.exit(f"bench/capture: {e}")
    finally:
        lab.close()


def run(args, lab, classes, rowlib, topology):
    import measure  # noqa: E402
    watch = topology.EgressWatch(lab)
    rows = [cls(lab) for cls in classes]
    for row in rows:
        print(f"starting {row.name}", flush=True)
        row.start()
    for row in rows:
        dev = topology.route_device(lab, row.dest)
        if dev != row.device:
            raise rowlib.RowError(f"{row.name}: {row.dest} is routed via {dev}, not {row.device}")
        if not rowlib.wait_reachable(lab, row.dest):
            raise rowlib.RowError(f"{row.name}: {row.dest} does not answer\n{lab.logs()}")
        row.check_alive()
    echo = measure.UdpEcho(lab, [row.dest for row in rows])
    sizes = {row.name: measure.sizes(lab, row.dest) for row in rows}
    echo.stop()
    caught = watch.stop()
    leaks = {role: lines for role, lines in caught.items() if lines}
    if leaks:
        raise rowlib.RowError(f"packets outside the lab's addresses: {json.dumps(leaks)[:3000]}")
    print("egress capture (every namespace, start-up and size probes): nothing outside the lab",
          flush=True)

    iperf = measure.IperfServer(lab)
    samples = {row.name: {"up": [], "down": [], "cpu": {"up": [0.0, 0], "down": [0.0, 0]},
                          "cpu_by_daemon": {}, "rtt": {"unpinned": [], "pinned": []}}
               for row in rows}
    try:
        for rnd in range(args.rounds):
            for row in rows:
                one_round(args, lab, row, samples[row.name], measure)
                row.check_alive()
            print(f"round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        iperf.stop()
    results = {"settings": {"quick": args.quick, "rounds": args.rounds,
                            "tcp_seconds": args.seconds, "pings": args.pings,
                            "pin_cpu": args.pin_cpu, "nproc": os.cpu_count(),
                            "dmuxd_args": args.dmuxd_args},
               "rows": {}, "egress_outside_lab": 0}
    for row in rows:
        results["rows"][row.name] = summarise(samples[row.name], sizes[row.name], bool(row.daemons))
        if hasattr(row, "client_status"):
            results["rows"][row.name]["client_status"] = row.client_status()
    return results


def one_round(args, lab, row, s, measure):
    for direction in ("up", "down"):
        daemons = [(p.name, [p.proc.pid]) for p in row.daemons if p.alive()]
        before = {name: measure.cpu_seconds(pids) for name, pids in daemons}
        mbps, nbytes = measure.tcp_run(lab, row.dest, args.seconds, reverse=direction == "down")
        for name, pids in daemons:
            spent = measure.cpu_seconds(pids) - before[name]
            s["cpu"][direction][0] += spent
            by = s["cpu_by_daemon"].setdefault(direction, {})
            by[name] = by.get(name, 0.0) + spent
        s["cpu"][direction][1] += nbytes
        s[direction].append(mbps)
        print(f"  {row.name:13s} TCP {direction:4s} {mbps:8.0f} Mbit/s", flush=True)
    for mode in ("unpinned", "pinned"):
        cpu = args.pin_cpu if mode == "pinned" else None
        if cpu is not None:
            measure.set_affinity(row.pids(), str(cpu))
        try:
            rtts = measure.ping_rtts(lab, row.dest, args.pings, cpu=cpu)
        finally:
            if cpu is not None:
                measure.set_affinity(row.pids(), f"0-{os.cpu_count() - 1}")
        if len(rtts) < args.pings * 0.9:
            print(f"  {row.name}: only {len(rtts)} of {args.pings} pings answered ({mode})")
        s["rtt"][mode].append((measure.pct(rtts, 50), measure.pct(rtts, 99), len(rtts)))
        p50, p99 = s["rtt"][mode][-1][:2]
        print(f"  {row.name:13s} RTT  {mode:8s} p50 {p50 or 0:6.1f} p99 {p99 or 0:6.1f} us",
              flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(s, sizes, has_daemons):
    out = {"tcp_mbps": {d: median(s[d]) for d in ("up", "down")},
           "tcp_mbps_runs": {d: s[d] for d in ("up", "down")}, "rtt_us": {}, "sizes": sizes,
           "cpu_s_per_gb": {}}
    for mode, runs in s["rtt"].items():
        out["rtt_us"][mode] = {"p50": median([r[0] for r in runs]),
                               "p99": median([r[1] for r in runs]),
                               "runs": [{"p50": r[0], "p99": r[1], "answered": r[2]}
                                        for r in runs]}
    out["cpu_s_per_gb_by_daemon"] = {}
    for d, (cpu, nbytes) in s["cpu"].items():
        out["cpu_s_per_gb"][d] = cpu / (nbytes / 1e9) if nbytes and has_daemons else None
        out["cpu_s_per_gb_by_daemon"][d] = {name: spent / (nbytes / 1e9) for name, spent in
                                            s["cpu_by_daemon"].get(d, {}).items() if nbytes}
    return out


if __name__ == "__main__":
    main()
