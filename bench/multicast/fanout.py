"""bench/multicast's fan-out measurement (see run.py): one sender in snd at a ladder of offered
rates to N member sockets, and the unicast reference over the same gateway and router."""
import json
import secrets
import statistics
import sys
import time

from topology import APP_PORT, FLOOR_PPS, GROUP_OF_N, HELPERS, LOSSLESS, ROUTERS
from ipdmux import proc  # noqa: E402  (topology put tests/pylib on sys.path)


class FanOut:
    """Mixed into the bench (topology.Topology): per-point counters, CPU and the sweeps."""

    def cpu_groups(self, receivers, kind):
        """pids per component of the data path, for CPU accounting."""
        pid = lambda name: self.procs[name].proc.pid  # noqa: E731  (ip netns exec execs)
        return {"snd_client": [pid("snd")], "dmuxd": [pid("dmuxd")],
                "routers": [pid(f"{kind}-{r}") for r in ROUTERS],
                "member_clients": [pid(role) for role in receivers],
                "member_sockets": [p.pid for p in receivers.values()]}

    cpu_seconds = staticmethod(proc.cpu_seconds)

    def path_counters(self, receivers, kind):
        """Packets counted at each stage of the path (also counts the little control traffic
        of the same moment: keepalives, queries, solicitations)."""
        snd = self.status("snd")
        gw = self.status("dmuxd")
        out = {"snd_captured": snd["captured"], "snd_tunnelled": snd["tunnelled"],
               "gw_received": gw["received_packets"], "gw_forwarded": gw["forwarded_packets"]}
        keys = (("group_packets", "delivered", "forwarded", "from_peers", "peer_deaths",
                 "adopted", "moved_to_peer", "summaries_sent", "summaries_received",
                 "dropped_packets") if kind == "mcast" else
                ("tunnels_received", "tun_packets_read", "returned"))
        for r in ROUTERS:
            st = self.status(f"{kind}-{r}")
            for k in keys:
                out[f"{r}_{k}"] = st[k]
        for k in ("returns_received", "injected"):
            out[f"members_{k}"] = sum(self.status(role)[k] for role in receivers)
        return out

    def one_point(self, receivers, family, dest, rate, seconds):
        run = secrets.randbits(32)
        kind = "mcast" if family == 4 else "prov"
        path0 = self.path_counters(receivers, kind)
        groups = self.cpu_groups(receivers, kind)
        cpu0 = {k: self.cpu_seconds(v) for k, v in groups.items()}
        t0 = time.monotonic()
        sender = self.popen("snd", sys.executable, HELPERS, "_send",
                            str(family), dest, str(APP_PORT), str(rate), str(seconds), str(run))
        out = json.loads(self.readline(sender, seconds + 20, "the sender"))
        wall = time.monotonic() - t0
        cpu = {k: (self.cpu_seconds(v) - cpu0[k]) / wall for k, v in groups.items()}
        cpu["sender"] = out["cpu"] / wall
        self.stop([sender])
        time.sleep(self.args.drain)  # what is in flight arrives
        per = []
        for role, p in receivers.items():
            p.stdin.write(f"report {run}\n")
            p.stdin.flush()
            per.append(json.loads(self.readline(p, 10, f"receiver in {role}")))
        dur = out["seconds"]
        rates = []
        for r in per:
            window = (r["last"] - r["first"]) if r["unique"] > 1 else 0.0
            rates.append(r["unique"] / max(dur, window))  # conservative: the longer window
        path1 = self.path_counters(receivers, kind)
        path = {k: path1[k] - path0[k] for k in path0}
        sent = out["sent"]
        unique = sum(r["unique"] for r in per)
        dups = sum(r["dups"] for r in per)
        if dups:
            self.log(f"duplicates: {dups}; counters along the path (sent {sent}, "
                     f"received {unique + dups}): {path}")
        return {"rate_asked": rate, "offered_pps": sent / dur, "sent": sent,
                "send_errors": out["errors"], "seconds": dur,
                "member_pps": sorted(rates), "member_min_pps": min(rates),
                "member_median_pps": statistics.median(rates), "total_pps": sum(rates),
                "loss": 1 - unique / (sent * len(per)) if sent else 1.0,
                "duplicates": dups, "path": path,
                "cpu_cores": {k: round(v, 3) for k, v in cpu.items()}}

    def sweep(self, label, receivers, family, dest):
        """The ladder from the first rate giving >= FLOOR_PPS in total, up past the knee."""
        n = len(receivers)
        rates = [r for r in self.args.rates if r == 0 or r * n >= FLOOR_PPS] or self.args.rates
        points, best = [], None
        for rate in rates:
            pt = self.one_point(receivers, family, dest, rate, self.args.seconds)
            points.append(pt)
            self.log(f"{label}: asked {rate:>7.0f}/s offered {pt['offered_pps']:8.0f}/s "
                     f"member min {pt['member_min_pps']:8.0f} median "
                     f"{pt['member_median_pps']:8.0f} total {pt['total_pps']:8.0f} loss "
                     f"{pt['loss'] * 100:5.1f}% dups {pt['duplicates']}")
            if best is None or pt["total_pps"] > best["total_pps"]:
                best = pt
            # Past the knee: more offered load only costs delivered packets.
            if pt["loss"] > 0.25 or pt["total_pps"] < 0.9 * best["total_pps"]:
                break
        clean = [p for p in points if p["loss"] < LOSSLESS]
        return {"best": best, "points": points,
                "lossless": max(clean, key=lambda p: p["total_pps"]) if clean else None,
                # The unpaced sender itself was the limit: the path took all it could send.
                "sender_bound": best["rate_asked"] == 0 and best["loss"] < LOSSLESS,
                "duplicates": sum(p["duplicates"] for p in points)}

    def fanout(self):
        results = {}
        for n in self.args.sizes:
            group = GROUP_OF_N.format(n)
            roles = self.receivers[:n]
            procs = self.start_receivers(roles, 4, group)
            try:
                def joined():
                    m = self.members(group)
                    if sum(len(v) for v in m.values()) != n:
                        return False
                    return not m["r2"] or self.peer_has("r1", group)
                self.wait(joined, 15, f"{n} members of {group}")
                m = self.members(group)
                split = {r: len(v) for r, v in m.items()}
                self.log(f"N={n}: members per router {split}")
                time.sleep(0.3)
                res = self.sweep(f"N={n:2d}", procs, 4, group)
                res["members_per_router"] = split
                results[n] = res
            finally:
                self.stop(list(procs.values()))
        return results

    def reference(self):
        dst = self.addr6["m01"]
        procs = self.start_receivers(["m01"], 6, dst)
        try:
            # One datagram to warm up neighbour state along the way (none expected, but cheap).
            self.one_point(procs, 6, dst, 100, 0.2)
            return self.sweep("unicast", procs, 6, dst)
        finally:
            self.stop(list(procs.values()))
