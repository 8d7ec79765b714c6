#!/usr/bin/env python3
"""Failover of the anycast dmux-prefix, measured in the multi-PoP lab (deploy/lab) with real FRR.

A client (c1, IPv4-only, dmux-client) streams numbered IPv6 UDP datagrams to the native IPv6
server s6 at --rate packets/s; they enter the IPdmux service at PoP g1, the nearest. Each trial
takes g1 out one way, measures, and brings it back:

  crash      kill -9 of g1's dmuxd (its TUN-held route vanishes; FRR withdraws the prefix)
  drain      dmuxctl drain at g1 (graceful shutdown, RFC 8326, then withdrawal)
  reference  the whole PoP freezes (SIGSTOP of dmuxd, zebra, bgpd, bfdd): what plain BGP anycast
             without fate-sharing gets; the upstream notices through BFD (300 ms x 3)
  hang       only g1's dmuxd freezes (SIGSTOP): dmux-healthcheck beside it takes its
             announcement down (bgp-glue/README.md "Hangs")
  router-ipv6   kill -9 of dmux-provider at r1, the router c1's gateway uses while r2 is up;
                then its restart (row "router-ipv6 restart"). Both directions: c1 -> s6, and
                s6 -> c1's address (s6 routes replies by BGP from the agents' routes)
  router-mcast  kill -9 of dmux-mcast at m1 (c1's multicast stream to c2 enters there; c2 hears
                it from m2; c2's stream to c1 leaves through m1); then its restart

Router failover (docs/protocol.md 9.9): the gateway learns of a dead router from the ICMP port
unreachable its host returns to a TUNNEL, confirms with a probe, and rehashes the router's clients;
failing that, 3 missed keepalives (100 ms each in the lab).

Per trial (K = the moment of the event):
  recovery       K -> first datagram delivered that entered through another PoP
                 (crash/reference: first datagram sent after K and delivered; drain: first
                 datagram counted by g2 or g3)
  stabilisation  K -> the stream is clean and entirely on the new PoP: the later of the last lost
                 datagram and the last datagram g1 received
  lost           datagrams sent in [K - 1 s, K + settle] never delivered
  back           after g1 returns (restart / undrain / SIGCONT): datagrams lost while traffic
                 moves back to g1 (the restarted gateway must have re-announced and resynced)

Prints p50 and max per scenario, ratios against the reference run in the same invocation, and
against the paper's 4-28 s. Needs root. Usage:

  python3 bench/failover/run.py [--trials 10] [--rate 100] [--build-dir build] [--keep]
  python3 bench/failover/run.py --quick        # smoke: 1 trial of crash, hang, router-ipv6

The second table has one row per fault: packets lost (p50/max), outage (p50/max: the fault to
the first datagram sent after it and delivered; for a restart, the span of datagrams lost while
traffic returns) and the ratio of the outage to the PoP crash's (dmuxd kill -9) in the same run.
At the end: liveness events the gateways logged ("expired", "suspect") that a re-registration or
keepalive undid within 100 ms: false expiries; then the soak (soak.py: kill -9, SIGSTOP, drain of
every daemon) and its false expiries.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "deploy", "lab"))
sys.path.insert(0, HERE)
from lab import Lab  # noqa: E402
import daemons as D  # noqa: E402
from logs import cpu_share, healthcheck_withdrawn_after, liveness_events  # noqa: E402
import soak  # noqa: E402

STREAM = os.path.join(HERE, "stream.py")
PORTS = {"ipv6": 9000, "mcast": 9001, "mcast-return": 9002, "ipv6-return": 9003}
PAPER = (4.0, 28.0)  # seconds, the paper's measured anycast failover range


def now_ns():
    return time.monotonic_ns()


class CounterWatch:
    """Polls each gateway's received-datagram counter and remembers, per gateway, when it first
    and last moved after `since`. One thread per gateway: a frozen dmuxd (whose control socket
    answers nothing) must not delay the others' samples."""

    def __init__(self, lab, interval=0.01):
        self.lab, self.interval = lab, interval
        self.lock = threading.Lock()
        self.values = {}
        self.moves = {}  # gateway -> list of monotonic ns at which its counter grew
        self.stop_flag = False
        self.threads = [threading.Thread(target=self.poll, args=(i,), daemon=True)
                        for i in (1, 2, 3)]

    def start(self):
        for t in self.threads:
            t.start()

    def poll(self, i):
        while not self.stop_flag:
            try:
                st = D.request(D.control_socket(f"g{i}"), "status", timeout=0.5)
                # Client traffic only: dmux-healthcheck's probes (an experimental
                # protocol, slot "other") move every gateway's counter 10 times a second.
                v = st["received_packets"] - st["protocols"]["other"]["received_packets"]
            except (OSError, ValueError, KeyError, TypeError):
                time.sleep(self.interval)
                continue
            t = now_ns()
            with self.lock:
                if i in self.values and v > self.values[i]:
                    self.moves.setdefault(i, []).append(t)
                self.values[i] = v
            time.sleep(self.interval)

    def first_move_after(self, gws, t):
        with self.lock:
            ts = [x for g in gws for x in self.moves.get(g, []) if x > t]
        return min(ts) if ts else None

    def last_move(self, g):
        with self.lock:
            ts = self.moves.get(g, [])
            return ts[-1] if ts else None

    def moving(self, g, since):
        with self.lock:
            return any(x > since for x in self.moves.get(g, []))


class Stream:
    """One numbered stream, `kind` of:
      ipv6          c1 -> s6 (the client's traffic, through its PoP and router)
      ipv6-return   s6 -> c1's IPv6 address (the replies: s6 routes them to a router by BGP)
      mcast         c1 -> group 1, heard by c2 (enters at c1's multicast router)
      mcast-return  c2 -> group 2, heard by c1 (delivered to c1 by c1's multicast router)"""

    def __init__(self, lab, rate, run_dir, kind="ipv6"):
        self.lab, self.rate, self.kind = lab, rate, kind
        self.sent_log = os.path.join(run_dir, kind + "-sent.txt")
        self.recv_log = os.path.join(run_dir, kind + "-received.txt")
        port = PORTS[kind]
        if kind.startswith("mcast"):
            group = lab.topology.MCAST_GROUPS[0 if kind == "mcast" else 1]
            sender, receiver = ("c1", "c2") if kind == "mcast" else ("c2", "c1")
            self.recv = lab.popen(receiver, sys.executable, STREAM, "recv", "--listen",
                                  f"0.0.0.0:{port}", "--group", group, "--iface", "dmuxc0",
                                  "--log", self.recv_log)
            time.sleep(1.0)  # the IGMP report reaches the receiver's multicast router
            to = f"{group}:{port}"
        elif kind == "ipv6-return":
            sender = lab.server
            self.recv = lab.popen("c1", sys.executable, STREAM, "recv", "--listen",
                                  f"[::]:{port}", "--log", self.recv_log)
            time.sleep(0.3)
            to = f"[{lab.client_address('c1')}]:{port}"
        else:
            sender = "c1"
            self.recv = lab.popen(lab.server, sys.executable, STREAM, "recv", "--listen",
                                  f"[::]:{port}", "--log", self.recv_log)
            time.sleep(0.3)
            to = f"[{lab.server_v6}]:{port}"
        self.send = lab.popen(sender, sys.executable, STREAM, "send", "--to", to,
                              "--rate", str(rate), "--log", self.sent_log)

    def stop(self):
        for p in (self.send, self.recv):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()

    def read(self):
        sent, received = {}, {}
        for path, into in ((self.sent_log, sent), (self.recv_log, received)):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        into[int(parts[0])] = int(parts[1])
                    elif len(parts) == 3:
                        into[int(parts[0])] = int(parts[2])
        return sent, received


def analyse(stream, k, until, first_elsewhere=None, g1_last=None, wait=True):
    """Numbers for one event at monotonic ns k, looking at datagrams sent before `until`."""
    if wait:
        time.sleep(1.0)  # let the logs flush (both sides flush at least every second)
    sent, received = stream.read()
    window = {s: t for s, t in sent.items() if k - 1_000_000_000 <= t <= until}
    lost = sorted(s for s in window if s not in received)
    after = [received[s] for s, t in window.items() if t > k and s in received]
    recovery = None
    if first_elsewhere is not None:
        recovery = (first_elsewhere - k) / 1e9
    elif after:
        recovery = (min(after) - k) / 1e9
    ends = [k]
    if lost:
        ends.append(sent[lost[-1]] + int(1e9 / stream.rate))
    if g1_last is not None:
        ends.append(g1_last)
    if recovery is not None:
        ends.append(k + int(recovery * 1e9))
    return {"recovery_s": recovery, "stabilisation_s": (max(ends) - k) / 1e9, "lost": len(lost),
            "sent": len(window)}


def lost_between(stream, a, b):
    time.sleep(1.0)
    sent, received = stream.read()
    return sum(1 for s, t in sent.items() if a <= t <= b and s not in received)


def wait(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def steady_on_g1(lab, watch):
    """Traffic enters at g1 again and nowhere else for a while."""
    wait(lambda: lab.entry_pop("c1") == "g1", 30, "c1's upstream to prefer g1")
    t = now_ns()
    wait(lambda: watch.moving(1, t), 15, "traffic through g1")
    time.sleep(1.0)


def trial_crash(lab, streams, watch, settle):
    stream = streams["ipv6"]
    pid = D.pid_of("g1", "dmuxd")
    k = now_ns()
    os.kill(pid, signal.SIGKILL)
    time.sleep(settle)
    r = analyse(stream, k, k + int(settle * 1e9), g1_last=watch.last_move(1))
    lab.kill_gateway(1)  # reap
    t_back = now_ns()
    lab.start_gateway(1)
    steady_on_g1(lab, watch)
    r["back_lost"] = lost_between(stream, t_back, now_ns())
    return r


def trial_drain(lab, streams, watch, settle):
    stream = streams["ipv6"]
    k = now_ns()
    lab.ctl("g1", "drain")
    wait(lambda: lab.ctl("g1")["announce"]["state"] == "drained", 30, "g1 drained")
    time.sleep(settle)
    first = watch.first_move_after((2, 3), k)
    r = analyse(stream, k, now_ns() - int(0.5e9), first_elsewhere=first,
                g1_last=watch.last_move(1))
    t_back = now_ns()
    lab.ctl("g1", "undrain")
    steady_on_g1(lab, watch)
    r["back_lost"] = lost_between(stream, t_back, now_ns())
    return r


def pop_pids(lab):
    pids = [D.pid_of("g1", "dmuxd")]
    out = subprocess.run(["ip", "netns", "pids", lab.ns("g1")], capture_output=True, text=True)
    pids += [int(p) for p in out.stdout.split()]
    return sorted({p for p in pids if p})


def trial_reference(lab, streams, watch, settle):
    stream = streams["ipv6"]
    pids = pop_pids(lab)
    k = now_ns()
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        time.sleep(settle)
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    r = analyse(stream, k, k + int(settle * 1e9))
    t_back = now_ns()
    steady_on_g1(lab, watch)
    r["back_lost"] = lost_between(stream, t_back, now_ns())
    return r


def trial_hang(lab, streams, watch, settle):
    """Only dmuxd freezes; dmux-healthcheck withdraws it. Datagrams queued in the frozen dmuxd
    are delivered late on SIGCONT (not lost); the outage is the time to the first datagram that
    arrives while g1 is still frozen (it came through another PoP). `withdrawn_s`: when
    dmux-healthcheck logged that it took the device down (detection; the rest is BGP)."""
    stream = streams["ipv6"]
    pid = D.pid_of("g1", "dmuxd")
    k, k_wall = now_ns(), time.time()
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(settle)
    finally:
        thaw = now_ns()
        os.kill(pid, signal.SIGCONT)
    r = analyse(stream, k, k + int(settle * 1e9))
    sent, received = stream.read()
    early = [received[q] for q, t in sent.items() if t > k and q in received and
             received[q] < thaw]
    r["recovery_s"] = (min(early) - k) / 1e9 if early else None
    r["counter_recovery_s"] = ((watch.first_move_after((2, 3), k) or k) - k) / 1e9
    r["withdrawn_s"] = healthcheck_withdrawn_after(lab, k_wall)
    t_back = now_ns()
    steady_on_g1(lab, watch)
    r["back_lost"] = lost_between(stream, t_back, now_ns())
    return r


def router_trial(kind):
    """kill -9 of r1's dmux-provider (ipv6) or m1's dmux-mcast (mcast), then its restart; both
    directions measured: `streams[kind]` towards the router, `streams[kind + "-return"]` back."""
    node, name = ("r1", "provider") if kind == "ipv6" else ("m1", "mcast")

    def trial(lab, streams, _watch, settle):
        fwd, ret = streams[kind], streams.get(kind + "-return")
        k = now_ns()
        os.kill(D.pid_of(node, name), signal.SIGKILL)
        time.sleep(settle)
        until = k + int(settle * 1e9)
        r = analyse(fwd, k, until)
        if ret is not None:
            r["ret"] = analyse(ret, k, until, wait=False)
        D.stop(node, name)  # reap
        t_back = now_ns()
        (lab.start_router if kind == "ipv6" else lab.start_mcast_router)(node)
        wait(lambda: router_up_at(lab, node), 30, f"{node} registered again")
        if kind == "ipv6":
            wait(lambda: lab.return_router() == node, 30, f"s6 to route replies to {node}")
        time.sleep(settle)
        end = now_ns() - int(0.5e9)
        back = analyse(fwd, t_back, end)
        r["back_lost"] = back["lost"]
        r["back_outage_s"] = back["lost"] / fwd.rate
        if ret is not None:
            rb = analyse(ret, t_back, end, wait=False)
            r["ret"]["back_lost"] = rb["lost"]
            r["ret"]["back_outage_s"] = rb["lost"] / ret.rate
        return r
    return trial


def router_up_at(lab, node):
    """The router of `node` is up (in forwarding) at the gateway it registered with."""
    addr = lab.topology.router_v4(node) if node[0] == "r" else lab.topology.mcast_v4(node)
    for g in lab.gateways:
        try:
            routers = D.request(D.control_socket(g), "routers")["routers"]
        except (OSError, ValueError, KeyError):
            continue
        if any(x.get("origin") == "registered" and x["address"].startswith(addr + ":") and
               x["state"] == "up" for x in routers):
            return True
    return False


def mesh_updates(lab):
    """Mesh UPDATE frames sent so far, all gateways (a restarted gateway starts again at 0)."""
    n = 0
    for g in lab.gateways:
        try:
            n += D.request(D.control_socket(g), "status")["mesh"]["counters"]["updates_sent"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return n


def trial_extra(r):
    """The trial's other figures, for its progress line."""
    out = ""
    if "ret" in r:
        out += (f"  | back direction: recovery {fmt(r['ret']['recovery_s'])} lost "
                f"{r['ret']['lost']}/{r['ret']['sent']}, on return {r['ret']['back_lost']}")
    if r.get("withdrawn_s") is not None:
        out += f"  | healthcheck withdrew after {r['withdrawn_s']:.3f} s"
    return out


def summary(name, results):
    s = summary_of(name, results)
    rets = [r["ret"] for r in results if "ret" in r]
    if rets:
        s["return"] = summary_of(name + " (return)", rets)
    withdrawn = [r["withdrawn_s"] for r in results if r.get("withdrawn_s") is not None]
    if withdrawn:
        s["withdrawn_p50_s"], s["withdrawn_max_s"] = statistics.median(withdrawn), max(withdrawn)
    return s


def summary_of(name, results):
    rec = [r["recovery_s"] for r in results if r["recovery_s"] is not None]
    stab = [r["stabilisation_s"] for r in results]
    lost = [r["lost"] for r in results]
    back = [r["back_lost"] for r in results]
    return {"scenario": name, "trials": len(results),
            "recovery_p50_s": statistics.median(rec) if rec else None,
            "recovery_max_s": max(rec) if rec else None,
            "stabilisation_p50_s": statistics.median(stab), "stabilisation_max_s": max(stab),
            "lost_p50": statistics.median(lost), "lost_max": max(lost),
            "lost_on_return_max": max(back), "unrecovered": len(results) - len(rec),
            "back_lost_p50": statistics.median(back),
            "mesh_updates_p50": statistics.median(r.get("mesh_updates", 0) for r in results),
            "back_outage_p50_s": statistics.median(r.get("back_outage_s", 0) for r in results),
            "back_outage_max_s": max(r.get("back_outage_s", 0) for r in results)}


def fmt(x, unit="s"):
    return "-" if x is None else f"{x:.3f} {unit}"


SCENARIOS = {"crash": trial_crash, "drain": trial_drain, "reference": trial_reference,
             "hang": trial_hang, "router-ipv6": router_trial("ipv6"),
             "router-mcast": router_trial("mcast")}
QUICK = ("crash", "hang", "router-ipv6")
# Router crashes are measured both ways: (towards the router, back from it).
BOTH = {"router-ipv6": (" c1->s6", " s6->c1 (BGP at s6)"),
        "router-mcast": (" c1->c2", " c2->c1 (adoption by m2)")}


def print_classic(sums, trials, rate):
    ref = sums.get("reference")
    print(f"\nfailover over {trials} trials at {rate:.0f} packets/s "
          f"(reference: PoP frozen, BFD detection; paper: {PAPER[0]:.0f}-{PAPER[1]:.0f} s)")
    print(f"  {'scenario':12s} {'recovery p50':>13s} {'max':>9s} {'stabil. p50':>12s} {'max':>9s}"
          f" {'lost p50/max':>13s} {'vs reference p50':>17s} {'vs paper 4 s':>13s}")
    for name, s in sums.items():
        vs_ref = (s["recovery_p50_s"] / ref["recovery_p50_s"]
                  if ref and s["recovery_p50_s"] and ref["recovery_p50_s"] else None)
        vs_paper = s["recovery_p50_s"] / PAPER[0] if s["recovery_p50_s"] is not None else None
        print(f"  {name:12s} {fmt(s['recovery_p50_s']):>13s} {fmt(s['recovery_max_s']):>9s} "
              f"{fmt(s['stabilisation_p50_s']):>12s} {fmt(s['stabilisation_max_s']):>9s} "
              f"{s['lost_p50']:>6.0f}/{s['lost_max']:<6d} "
              f"{'-' if vs_ref is None else f'{vs_ref:.2f}x':>17s} "
              f"{'-' if vs_paper is None else f'{vs_paper:.3f}x':>13s}")
    print("  lost while traffic returned (restart+resync / undrain / thaw / router restart), max: " +
          ", ".join(f"{n} {s['lost_on_return_max']}" for n, s in sums.items()))


def print_faults(sums, rate):
    """fault | packets lost | outage | ratio to the PoP crash, all from this run."""
    crash = sums.get("crash", {}).get("recovery_p50_s")
    rows = []
    names = {"crash": "PoP crash (kill -9 dmuxd)", "drain": "PoP drain",
             "reference": "PoP frozen (BGP+BFD only)", "hang": "gateway hang (SIGSTOP dmuxd)",
             "router-ipv6": "router crash, ipv6", "router-mcast": "router crash, multicast"}
    for name, s in sums.items():
        label = names[name] + (BOTH[name][0] if name in BOTH else "")
        rows.append((label, f"{s['lost_p50']:.0f}/{s['lost_max']}", s["recovery_p50_s"],
                     s["recovery_max_s"], s["mesh_updates_p50"]))
        if "return" in s:
            b = s["return"]
            rows.append((names[name] + BOTH[name][1], f"{b['lost_p50']:.0f}/{b['lost_max']}",
                         b["recovery_p50_s"], b["recovery_max_s"], None))
        if name.startswith("router-"):
            rows.append((names[name].replace("crash", "restart"),
                         f"{s['back_lost_p50']:.0f}/{s['lost_on_return_max']}",
                         s["back_outage_p50_s"], s["back_outage_max_s"], None))
            if "return" in s:
                b = s["return"]
                rows.append((names[name].replace("crash", "restart") + BOTH[name][1],
                             f"{b['back_lost_p50']:.0f}/{b['lost_on_return_max']}",
                             b["back_outage_p50_s"], b["back_outage_max_s"], None))
    print(f"\nfaults at {rate:.0f} packets/s, against the PoP crash measured in this run")
    print(f"  {'fault':44s} {'lost p50/max':>13s} {'outage p50':>11s} {'max':>9s} "
          f"{'vs PoP crash':>13s} {'mesh UPDATEs':>13s}")
    for fault, lost, out, out_max, updates in rows:
        ratio = f"{out / crash:.2f}x" if crash and out is not None else "-"
        upd = "" if updates is None else f"{updates:.0f}"
        print(f"  {fault:44s} {lost:>13s} {fmt(out):>11s} {fmt(out_max):>9s} {ratio:>13s} "
              f"{upd:>13s}")
    print("  (mesh UPDATEs: frames sent by all gateways during the trial, fault and return)")
    hang = sums.get("hang", {})
    if "withdrawn_p50_s" in hang:
        print(f"  gateway hang: dmux-healthcheck withdrew {hang['withdrawn_p50_s']:.3f} s (p50), "
              f"{hang['withdrawn_max_s']:.3f} s (max) after the SIGSTOP; the rest of the outage "
              "is BGP (g1 -> u1 -> u1's kernel)")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--rate", type=float, default=100, help="packets/s of the probe stream")
    p.add_argument("--settle", type=float, default=3.0, help="seconds observed after each event")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help="comma-separated, of: " + ", ".join(SCENARIOS))
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 trial of " + ", ".join(QUICK) + ", settle 2 s")
    p.add_argument("--build-dir", default=os.environ.get("DMUX_BUILD_DIR",
                                                         os.path.join(REPO, "build")))
    p.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--soak", type=int, default=1, metavar="N",
                   help="after the trials, N rounds of the soak (every fault on every daemon, "
                        "soak.py) and its false liveness events; 0: none")
    p.add_argument("--soak-gap", type=float, default=3.0,
                   help="seconds between a soak fault and its repair, and after it")
    args = p.parse_args()
    names = list(QUICK) if args.quick else [n.strip() for n in args.scenarios.split(",")]
    if args.quick:
        args.trials, args.settle, args.soak = 1, 2.0, 0
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error("unknown scenario(s): " + ", ".join(unknown))
    return args, names



def print_liveness(lab, events, hc_cpu, soaks):
    """Liveness events of the trials, dmux-healthcheck's cost, the soak and its false expiries."""
    print(f"\nliveness at the gateways during the run: {events['expired']} hold-time expiries, "
          f"{events['suspect']} suspicions, {events['false']} false (undone within 100 ms; "
          f"{events['false_same_router']} by the same router heard again), "
          f"{events['tolerated']} late keepalives tolerated")
    cmd = D.healthcheck_cmd(lab.bins, 1, lab.ca_dir)
    hc_interval = float(cmd[cmd.index("--interval-ms") + 1])
    if hc_cpu:
        cpu, alive = max(hc_cpu, key=lambda c: c[0] / c[1])
        print(f"dmux-healthcheck (busiest of {len(hc_cpu)}): {cpu:.2f} s of CPU in {alive:.0f} s "
              f"({100 * cpu / alive:.3f} % of a core), {1000 / hc_interval:.0f} probes/s each way")
    for n, sk in enumerate(soaks):
        print(f"soak round {n + 1}: {sk['faults']} faults in {sk['seconds']:.0f} s; "
              f"{sk['expired']} hold-time expiries, {sk['suspect']} suspicions, "
              f"{sk['false']} false ({sk['false_same_router']} by the same router heard again), "
              f"{sk['tolerated']} late keepalives tolerated; dmux-healthcheck withdrew {sk['healthcheck_withdrawals']} "
              f"time(s), {sk['healthcheck_false']} of a gateway that was not frozen")
    print(f"false expiries (trials and soak): {events['false'] + sum(sk['false'] for sk in soaks)}"
          f" by the conservative count, "
          f"{events['false_same_router'] + sum(sk['false_same_router'] for sk in soaks)} by the "
          f"same router heard again; false withdrawals by dmux-healthcheck: "
          f"{sum(sk['healthcheck_false'] for sk in soaks)}")


def main():
    args, names = parse_args()
    lab = Lab(args.build_dir, verbose=False)
    print("failover: bringing up the lab ...", flush=True)
    lab.up()
    started = time.time()
    run_dir = os.path.join(lab.state_dir, "bench-failover")
    os.makedirs(run_dir, exist_ok=True)
    watch = CounterWatch(lab)
    watch.start()
    streams = {"ipv6": Stream(lab, args.rate, run_dir)}
    if "router-ipv6" in names:
        streams["ipv6-return"] = Stream(lab, args.rate, run_dir, "ipv6-return")
    if "router-mcast" in names:
        streams["mcast"] = Stream(lab, args.rate, run_dir, "mcast")
        streams["mcast-return"] = Stream(lab, args.rate, run_dir, "mcast-return")
    results = {n: [] for n in names}
    try:
        steady_on_g1(lab, watch)
        for n in range(args.trials):
            for name in names:
                updates = mesh_updates(lab)
                r = SCENARIOS[name](lab, streams, watch, args.settle)
                r["mesh_updates"] = max(0, mesh_updates(lab) - updates)
                results[name].append(r)
                print(f"  trial {n + 1:2d} {name:12s} recovery {fmt(r['recovery_s'])}  "
                      f"stabilisation {fmt(r['stabilisation_s'])}  lost {r['lost']}/{r['sent']}"
                      f"  lost on return {r['back_lost']}" + trial_extra(r), flush=True)
        events = liveness_events(lab, started)
        hc_cpu = [c for c in (cpu_share(g, "healthcheck") for g in lab.gateways) if c]
        soaks = []
        for n in range(args.soak):
            print(f"soak round {n + 1}: kill -9, SIGSTOP, drain on every daemon ...", flush=True)
            soaks.append(soak.run(lab, gap=args.soak_gap, stop=args.soak_gap))
    finally:
        watch.stop_flag = True
        for st in streams.values():
            st.stop()
        if not args.keep:
            lab.down(quiet=True)

    sums = {k: summary(k, v) for k, v in results.items()}
    print_classic(sums, args.trials, args.rate)
    print_faults(sums, args.rate)
    print_liveness(lab, events, hc_cpu, soaks)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": sums, "trials": results, "liveness": events, "soak": soaks},
                      f, indent=1)
    bad = [n for n in names if n != "reference" and sums[n]["unrecovered"]]
    if bad:
        print(f"failover: no recovery in some {', '.join(bad)} trials", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
