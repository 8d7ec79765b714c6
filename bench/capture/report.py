"""bench/capture's table and issue 13's targets, from the figures run.py gathered."""

TCP_RATIO_TARGET = 0.33     # TCP through IPdmux, both ways, against direct
PINNED_ADDED_GOAL_US = 50.0  # added round trip, pinned
CPU_PER_GB_TARGET = 7.5     # half of the 15 s/GB measured before issue 13
SIZE_KEYS = ("ping_s1400", "ping_s8000", "udp_1470")


def fmt(v, spec):
    """v formatted, or "-" in the same width when there is no figure."""
    if v is not None:
        return format(v, spec)
    width = "".join(c for c in spec.split(".")[0] if c.isdigit())
    return format("-", f"{'<' if spec.startswith('<') else '>'}{width or 1}")


def added(rows, name, mode):
    """Row `name`'s round trip p50 minus direct's, in µs (None if either is missing)."""
    try:
        a, d = rows[name]["rtt_us"][mode]["p50"], rows["direct"]["rtt_us"][mode]["p50"]
    except KeyError:
        return None
    return a - d if a is not None and d is not None else None


def ratio(rows, name, direction):
    try:
        a, d = rows[name]["tcp_mbps"][direction], rows["direct"]["tcp_mbps"][direction]
    except KeyError:
        return None
    return a / d if a is not None and d else None


def print_table(results):
    rows = results["rows"]
    st = results["settings"]
    print()
    print(f"bench/capture: median of {st['rounds']} interleaved rounds; TCP {st['tcp_seconds']} s "
          f"each way (iperf3); RTT ping -6, {st['pings']} a run, pinned = ping and the row's "
          f"daemons on CPU {st['pin_cpu']}; CPU = all of the row's tunnel daemons")
    print(f"{'row':13s} {'TCP up':>7s} {'x':>5s} {'down':>7s} {'x':>5s} | "
          f"{'RTT unpinned p50/p99':>20s} {'added':>6s} | {'pinned p50/p99':>15s} {'added':>6s} |"
          f" {'CPU s/GB up/down':>16s} | -s 1400  -s 8000  UDP 1470")
    for name, r in rows.items():
        up, down = r["tcp_mbps"]["up"], r["tcp_mbps"]["down"]
        un, pi = r["rtt_us"]["unpinned"], r["rtt_us"]["pinned"]
        cpu = r["cpu_s_per_gb"]
        sizes = "  ".join(
            f"{'ok' if r['sizes'][k]['works'] else 'FAIL':4s} {r['sizes'][k]['answered']:>2d}/"
            f"{r['sizes'][k]['of']:<2d}" for k in SIZE_KEYS)
        print(f"{name:13s} {fmt(up, '7.0f')} {fmt(ratio(rows, name, 'up'), '5.2f')} "
              f"{fmt(down, '7.0f')} {fmt(ratio(rows, name, 'down'), '5.2f')} | "
              f"{fmt(un['p50'], '9.0f')}/{fmt(un['p99'], '<10.0f')} "
              f"{fmt(added(rows, name, 'unpinned'), '+6.0f')} | "
              f"{fmt(pi['p50'], '6.0f')}/{fmt(pi['p99'], '<8.0f')} "
              f"{fmt(added(rows, name, 'pinned'), '+6.0f')} | "
              f"{fmt(cpu['up'], '7.1f'):>7s}/{fmt(cpu['down'], '.1f'):<8s} | {sizes}")
    for name, r in rows.items():
        by = r.get("cpu_s_per_gb_by_daemon", {})
        if by.get("up"):
            parts = [f"{d} {by['up'][d]:.1f}/{by.get('down', {}).get(d, 0):.1f}" for d in by["up"]]
            print(f"  {name} CPU s/GB up/down by daemon: " + ", ".join(parts))
    if results.get("skipped_rows"):
        for name, why in results["skipped_rows"].items():
            print(f"{name:13s} skipped: {why}")
    st = rows.get("ipdmux", {}).get("client_status")
    if st:
        print("dmux-client:", st)


def targets(results):
    """Issue 13's targets for the ipdmux row: {name: {"met": bool|None, "detail": str}}."""
    rows = results["rows"]
    out = {}
    if "ipdmux" not in rows:
        return out
    r = {d: ratio(rows, "ipdmux", d) for d in ("up", "down")}
    out["tcp_ratio"] = {"met": all(v is not None and v >= TCP_RATIO_TARGET for v in r.values()),
                        "detail": f"up {fmt(r['up'], '.2f')}, down {fmt(r['down'], '.2f')} of "
                                  f"direct (target >= {TCP_RATIO_TARGET})"}
    for mode in ("unpinned", "pinned"):
        a, t = added(rows, "ipdmux", mode), added(rows, "teredo", mode)
        met = None if a is None or t is None else a <= t
        out[f"rtt_added_{mode}"] = {"met": met, "detail": f"added p50 {fmt(a, '.0f')} us, "
                                                          f"Teredo {fmt(t, '.0f')} us"}
    a = added(rows, "ipdmux", "pinned")
    out["rtt_added_pinned_goal"] = {"met": None if a is None else a <= PINNED_ADDED_GOAL_US,
                                    "detail": f"added p50 pinned {fmt(a, '.0f')} us "
                                              f"(goal <= {PINNED_ADDED_GOAL_US:.0f})"}
    cpu = rows["ipdmux"]["cpu_s_per_gb"]
    out["cpu_per_gb"] = {"met": all(v is not None and v <= CPU_PER_GB_TARGET for v in cpu.values()),
                         "detail": f"up {fmt(cpu['up'], '.1f')}, down {fmt(cpu['down'], '.1f')} "
                                   f"s/GB (target <= {CPU_PER_GB_TARGET})"}
    peers = [n for n in ("wireguard-go", "teredo") if n in rows]
    want = {k for k in SIZE_KEYS if any(rows[p]["sizes"][k]["works"] for p in peers)} \
        if peers else set(SIZE_KEYS)
    failing = sorted(k for k in want if not rows["ipdmux"]["sizes"][k]["works"])
    out["sizes"] = {"met": not failing,
                    "detail": "all sizes the peers pass work" if not failing
                    else "failing: " + ", ".join(failing)}
    return out


def print_targets(t):
    if not t:
        return
    print("issue 13 targets (ipdmux row):")
    for name, v in t.items():
        state = {True: "MET", False: "MISSED", None: "n/a"}[v["met"]]
        print(f"  {name:22s} {state:6s} {v['detail']}")
