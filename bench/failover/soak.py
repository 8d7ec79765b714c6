"""The soak of bench/failover (issue 17): every fault on every daemon, one after the other, while
the streams run; afterwards the liveness events the gateways logged, and how many were false.

Faults, each on g1..g3's dmuxd, r1, r2's dmux-provider and m1, m2's dmux-mcast in turn:
  kill -9   the process dies; it is restarted after `gap` seconds
  SIGSTOP   the process freezes for `stop` seconds, then SIGCONT
  drain     dmuxd: `dmuxctl drain`, undrain after `gap`; an agent: SIGTERM (it deregisters),
            restarted after `gap`
A suspicion or expiry is false when a keepalive or a re-registration undoes it within 100 ms
(logs.liveness_events); dmux-healthcheck withdrawing a gateway that was not frozen is false too.
"""
import os
import signal
import time

import daemons as D
from logs import healthcheck_withdrawals, liveness_events

DAEMONS = [("g1", "dmuxd"), ("g2", "dmuxd"), ("g3", "dmuxd"), ("r1", "provider"),
           ("r2", "provider"), ("m1", "mcast"), ("m2", "mcast")]
FAULTS = ("kill", "stop", "drain")


def _restart(lab, node, name):
    if name == "dmuxd":
        lab.start_gateway(int(node[1]))
    elif name == "provider":
        lab.start_router(node)
    else:
        lab.start_mcast_router(node)


def _settled(lab):
    """Everything is back: every dmuxd announces, the mesh is full, every router registered."""
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if lab.mesh_full() and lab.routers_registered() and \
                    all(lab.ctl(g)["announce"]["state"] == "announced" for g in lab.gateways):
                return True
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    return False


def fault(lab, node, name, kind, gap, stop):
    """One fault and its repair. Returns (wall time of the fault, True if it was a freeze of a
    dmuxd, which dmux-healthcheck is right to withdraw)."""
    t = time.time()
    if kind == "kill":
        os.kill(D.pid_of(node, name), signal.SIGKILL)
        time.sleep(gap)
        D.stop(node, name)  # reap
        _restart(lab, node, name)
    elif kind == "stop":
        pid = D.pid_of(node, name)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(stop)
        finally:
            os.kill(pid, signal.SIGCONT)
    elif name == "dmuxd":
        lab.ctl(node, "drain")
        time.sleep(gap)
        lab.ctl(node, "undrain")
    else:
        D.stop(node, name, sig=signal.SIGTERM)
        time.sleep(gap)
        _restart(lab, node, name)
    return t, kind == "stop" and name == "dmuxd"


def run(lab, gap=3.0, stop=3.0, log=print):
    """The whole sequence; a dict of counts for the report."""
    since = time.time()
    hangs, faults = [], 0
    for kind in FAULTS:
        for node, name in DAEMONS:
            t, hang = fault(lab, node, name, kind, gap, stop)
            faults += 1
            if hang:
                hangs.append((node, t, t + stop + 1.0))
            settled = _settled(lab)
            log(f"  soak: {kind:5s} {node} {name:8s} {'settled' if settled else 'NOT SETTLED'}")
            time.sleep(gap)
    ev = liveness_events(lab, since)
    withdrawals = healthcheck_withdrawals(lab, since)
    false_hc = sum(1 for node, t in withdrawals
                   if not any(n == node and a <= t <= b for n, a, b in hangs))
    return {"faults": faults, "seconds": time.time() - since, **ev,
            "healthcheck_withdrawals": len(withdrawals), "healthcheck_false": false_hc}
