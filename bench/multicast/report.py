"""bench/multicast's printed report (see run.py): the fan-out table against the unicast reference,
CPU per component at the highest point, and the RTT series."""
import os

from helpers import PAYLOAD


def fmt(x, spec=".0f"):
    return "-" if x is None else format(x, spec)


def report(fan, ref, rtt, args):
    rows = [("unicast ref (1)", ref)] + [
        (f"N={n} ({r['members_per_router']['r1']}+{r['members_per_router']['r2']})", r)
        for n, r in fan.items()]
    fanout_table(rows, ref, args)
    cpu_table(rows)
    if rtt:
        rtt_table(rtt, args)


def fanout_table(rows, ref, args):
    refp = ref["best"]["total_pps"]
    refl = ref["lossless"]["total_pps"] if ref["lossless"] else None
    print(f"\nbench/multicast ({'quick' if args.quick else 'full'}): fan-out of {PAYLOAD}-byte UDP "
          f"payloads from snd (r1); {args.seconds:g} s per point; ladder "
          f"{', '.join(f'{r:g}' for r in args.rates)} pkt/s (0 = unpaced)")
    print(f"  {'':16s} {'--- highest total delivered ---':^56s}   {'-- loss < 1% --':^19s}")
    print(f"  {'members (r1+r2)':16s} {'offered':>8s} {'member min':>10s} {'median':>7s} "
          f"{'total':>8s} {'loss':>6s} {'dups':>4s} {'vs ref':>7s}   {'total':>8s} {'vs ref':>8s}")
    for label, r in rows:
        b, c = r["best"], r["lossless"]
        mark = ">=" if r["sender_bound"] else ""
        ratio = f"{b['total_pps'] / refp:.2f}x" if refp else "-"
        cl = f"{c['total_pps']:.0f}" if c else "-"
        cl_ratio = f"{c['total_pps'] / refl:.2f}x" if c and refl else "-"
        print(f"  {label:16s} {b['offered_pps']:8.0f} {b['member_min_pps']:10.0f} "
              f"{b['member_median_pps']:7.0f} {mark + format(b['total_pps'], '.0f'):>8s} "
              f"{b['loss'] * 100:5.1f}% {r['duplicates']:4d} {ratio:>7s}   {cl:>8s} "
              f"{cl_ratio:>8s}")
    if any(r["sender_bound"] for _, r in rows):
        print("  >= : the unpaced sender was the limit (everything it sent arrived)")


def cpu_table(rows):
    keys = ("sender", "snd_client", "dmuxd", "routers", "member_clients", "member_sockets")
    print(f"\n  CPU at the highest point, in cores (the host has {os.cpu_count()}; routers = "
          f"dmux-mcast r1+r2, for the reference dmux-provider r1+r2)")
    print(f"  {'members (r1+r2)':16s} " + " ".join(f"{k:>14s}" for k in keys) + f" {'sum':>6s}")
    for label, r in rows:
        c = r["best"]["cpu_cores"]
        print(f"  {label:16s} " + " ".join(f"{c[k]:14.2f}" for k in keys) +
              f" {sum(c[k] for k in keys):6.2f}")


def rtt_table(rtt, args):
    print(f"\n  RTT snd (r1) <-> m02 (r2): {args.rounds} interleaved rounds of {args.probes} "
          f"probes each, {args.interval * 1000:.0f} ms apart, {PAYLOAD}-byte probes")
    print(f"  {'':30s} {'replies':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'dups':>5s} "
          f"{'r1<->r2 pkts':>12s}")
    labels = {"multicast": "multicast (mping.py)", "unicast": "unicast (ping -6)",
              "unicast_udp": "unicast (Python UDP echo)"}
    for name, label in labels.items():
        r = rtt[name]
        print(f"  {label:30s} {r['received']:4d}/{r['sent']:<4d} {fmt(r['p50_ms'], '.3f'):>8s}"
              f" {fmt(r['p99_ms'], '.3f'):>8s} {r['dups']:5d} {r['hop_packets']:12d}")
    m = rtt["multicast"]
    for name in ("unicast", "unicast_udp"):
        u = rtt[name]
        if m["p50_ms"] and u["p50_ms"]:
            print(f"  {'multicast / ' + labels[name]:44s} p50 {m['p50_ms'] / u['p50_ms']:.2f}x"
                  f"  p99 {m['p99_ms'] / u['p99_ms']:.2f}x")


def failures(fan, ref, rtt, routers):
    """What makes the run fail: a series that delivered nothing, any duplicate."""
    failed = []
    for label, r in [("unicast", ref)] + [(f"N={n}", x) for n, x in fan.items()]:
        if r["best"]["total_pps"] == 0:
            failed.append(f"{label}: nothing delivered")
        if r["duplicates"]:
            deaths = sum(p["path"].get(f"{x}_peer_deaths", 0) for p in r["points"]
                         for x in routers)
            failed.append(f"{label}: {r['duplicates']} duplicates" +
                          (f" (a router declared its peer dead {deaths} time(s) meanwhile: "
                           "see README, known issue)" if deaths else ""))
    for name, r in rtt.items():
        if not r["received"]:
            failed.append(f"rtt {name}: no replies")
        if r["dups"]:
            failed.append(f"rtt {name}: {r['dups']} duplicates")
    return failed
