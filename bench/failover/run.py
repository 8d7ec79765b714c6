#!/usr/bin/env python3
"""Failover of the anycast dmux-prefix, measured in the multi-PoP lab (deploy/lab) with real FRR.

A client (c1, IPv4-only, dmux-client) streams numbered IPv6 UDP datagrams to the native IPv6
server s6 at --rate packets/s; they enter the IPdmux service at PoP g1, the nearest. Each trial
takes g1 out one way, measures, and brings it back:

  crash      kill -9 of g1's dmuxd (its TUN-held route vanishes; FRR withdraws the prefix)
  drain      dmuxctl drain at g1 (graceful shutdown, RFC 8326, then withdrawal)
  reference  the whole PoP freezes (SIGSTOP of dmuxd, zebra, bgpd, bfdd): what plain BGP anycast
             without fate-sharing gets; the upstream notices through BFD (300 ms x 3)

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
from lab import Lab  # noqa: E402
import daemons as D  # noqa: E402

STREAM = os.path.join(HERE, "stream.py")
PORT = 9000
PAPER = (4.0, 28.0)  # seconds, the paper's measured anycast failover range


def now_ns():
    return time.monotonic_ns()


class CounterWatch(threading.Thread):
    """Polls each gateway's received-datagram counter and remembers, per gateway, when it first
    and last moved after `since`."""

    def __init__(self, lab, interval=0.01):
        super().__init__(daemon=True)
        self.lab, self.interval = lab, interval
        self.lock = threading.Lock()
        self.values = {}
        self.moves = {}  # gateway -> list of monotonic ns at which its counter grew
        self.stop_flag = False

    def run(self):
        while not self.stop_flag:
            for i in (1, 2, 3):
                try:
                    v = D.request(D.control_socket(f"g{i}"), "status", timeout=0.5)[
                        "received_packets"]
                except (OSError, ValueError, KeyError):
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
    def __init__(self, lab, rate, run_dir):
        self.lab, self.rate = lab, rate
        self.sent_log = os.path.join(run_dir, "sent.txt")
        self.recv_log = os.path.join(run_dir, "received.txt")
        server = lab.server_v6
        self.recv = lab.popen(lab.server, sys.executable, STREAM, "recv", "--listen",
                              f"[::]:{PORT}", "--log", self.recv_log)
        time.sleep(0.3)
        self.send = lab.popen("c1", sys.executable, STREAM, "send", "--to", f"[{server}]:{PORT}",
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


def analyse(stream, k, until, first_elsewhere=None, g1_last=None):
    """Numbers for one event at monotonic ns k, looking at datagrams sent before `until`."""
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


def trial_crash(lab, stream, watch, settle):
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


def trial_drain(lab, stream, watch, settle):
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


def trial_reference(lab, stream, watch, settle):
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


def summary(name, results):
    rec = [r["recovery_s"] for r in results if r["recovery_s"] is not None]
    stab = [r["stabilisation_s"] for r in results]
    lost = [r["lost"] for r in results]
    back = [r["back_lost"] for r in results]
    return {"scenario": name, "trials": len(results),
            "recovery_p50_s": statistics.median(rec) if rec else None,
            "recovery_max_s": max(rec) if rec else None,
            "stabilisation_p50_s": statistics.median(stab), "stabilisation_max_s": max(stab),
            "lost_p50": statistics.median(lost), "lost_max": max(lost),
            "lost_on_return_max": max(back), "unrecovered": len(results) - len(rec)}


def fmt(x, unit="s"):
    return "-" if x is None else f"{x:.3f} {unit}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--rate", type=float, default=100, help="packets/s of the probe stream")
    p.add_argument("--settle", type=float, default=3.0, help="seconds observed after each event")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    p.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args()

    lab = Lab(args.build_dir, verbose=False)
    print("failover: bringing up the lab ...", flush=True)
    lab.up()
    run_dir = os.path.join(lab.state_dir, "bench-failover")
    os.makedirs(run_dir, exist_ok=True)
    watch = CounterWatch(lab)
    watch.start()
    stream = Stream(lab, args.rate, run_dir)
    results = {"crash": [], "drain": [], "reference": []}
    try:
        steady_on_g1(lab, watch)
        for n in range(args.trials):
            for name, fn in (("crash", trial_crash), ("drain", trial_drain),
                             ("reference", trial_reference)):
                r = fn(lab, stream, watch, args.settle)
                results[name].append(r)
                print(f"  trial {n + 1:2d} {name:9s} recovery {fmt(r['recovery_s'])}  "
                      f"stabilisation {fmt(r['stabilisation_s'])}  lost {r['lost']}/{r['sent']}"
                      f"  lost on return {r['back_lost']}", flush=True)
    finally:
        watch.stop_flag = True
        stream.stop()
        if not args.keep:
            lab.down(quiet=True)

    sums = {k: summary(k, v) for k, v in results.items()}
    ref = sums["reference"]
    print(f"\nfailover over {args.trials} trials at {args.rate:.0f} packets/s "
          f"(reference: PoP frozen, BFD detection; paper: {PAPER[0]:.0f}-{PAPER[1]:.0f} s)")
    print(f"  {'scenario':10s} {'recovery p50':>13s} {'max':>9s} {'stabil. p50':>12s} {'max':>9s}"
          f" {'lost p50/max':>13s} {'vs reference p50':>17s} {'vs paper 4 s':>13s}")
    for name in ("crash", "drain", "reference"):
        s = sums[name]
        vs_ref = (s["recovery_p50_s"] / ref["recovery_p50_s"]
                  if s["recovery_p50_s"] and ref["recovery_p50_s"] else None)
        vs_paper = s["recovery_p50_s"] / PAPER[0] if s["recovery_p50_s"] is not None else None
        print(f"  {name:10s} {fmt(s['recovery_p50_s']):>13s} {fmt(s['recovery_max_s']):>9s} "
              f"{fmt(s['stabilisation_p50_s']):>12s} {fmt(s['stabilisation_max_s']):>9s} "
              f"{s['lost_p50']:>6.0f}/{s['lost_max']:<6d} "
              f"{'-' if vs_ref is None else f'{vs_ref:.2f}x':>17s} "
              f"{'-' if vs_paper is None else f'{vs_paper:.3f}x':>13s}")
    print(f"  lost while traffic returned to g1 (restart+resync / undrain / thaw), max: "
          f"crash {sums['crash']['lost_on_return_max']}, drain {sums['drain']['lost_on_return_max']}"
          f", reference {ref['lost_on_return_max']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": sums, "trials": results}, f, indent=1)
    bad = [n for n in ("crash", "drain") if sums[n]["unrecovered"]]
    if bad:
        print(f"failover: no recovery in some {', '.join(bad)} trials", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
