"""What the lab's daemons logged and used, for bench/failover: liveness events at the gateways,
dmux-healthcheck's withdrawals, a process's CPU time. Log lines start with an ISO time in UTC
(common/util/log)."""
import datetime
import glob
import os
import re

import daemons as D

LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z")


COUNT_LINE = re.compile(r"registration: (\d+) router\(s\) registered")


ROUTER_LINE = re.compile(r"registration: router (\S+) (suspect|heard again|expired) after")
TOLERATED_LINE = re.compile(r"registration: (\d+) keepalive\(s\) after .* tolerated")


def _events(path, since):
    """[(time, kind, detail)] of one dmuxd log after wall time `since`."""
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_TIME.match(line)
            if not m:
                continue
            t = datetime.datetime.fromisoformat(m.group(1)).replace(
                tzinfo=datetime.timezone.utc).timestamp()
            if t < since:
                continue
            if "router(s) expired" in line:
                events.append((t, "expired", None))
            elif "router(s) suspect" in line:
                events.append((t, "suspect", None))
            elif r := ROUTER_LINE.search(line):
                events.append((t, "router " + r.group(2), r.group(1)))
            elif "heard again" in line:
                events.append((t, "back", None))
            elif c := COUNT_LINE.search(line):
                events.append((t, "count", int(c.group(1))))
            elif k := TOLERATED_LINE.search(line):
                events.append((t, "tolerated", int(k.group(1))))
    return events


def liveness_events(lab, since):
    """From every dmuxd log, after wall time `since`: hold-time expiries and suspicions, and how
    many of them were false: undone within 100 ms at the same gateway, by a keepalive of the
    suspect ("heard again") or by the number of registered routers rising again (conservative:
    another router registering counts too); `false_same_router`: a suspicion or expiry of a router
    that the same gateway heard again within 100 ms (per-router log lines); `tolerated`: late
    keepalives that the adaptive detect time did not suspect."""
    out = {"expired": 0, "suspect": 0, "false": 0, "false_same_router": 0, "tolerated": 0}
    for path in glob.glob(os.path.join(lab.state_dir, "g*", "dmuxd.log")):
        events = _events(path, since)
        for i, (t, what, detail) in enumerate(events):
            after = [e for e in events[i + 1:] if e[0] - t <= 0.1]
            if what == "tolerated":
                out["tolerated"] += detail
            elif what in ("router suspect", "router expired"):
                if any(w == "router heard again" and d == detail for _, w, d in after):
                    out["false_same_router"] += 1
            elif what in ("expired", "suspect"):
                out[what] += 1
                counts = [n for _, w, n in after if w == "count"]
                if any(w in ("back", "router heard again") for _, w, _ in after) or \
                        (len(counts) >= 2 and max(counts[1:]) > counts[0]):
                    out["false"] += 1
    return out


def healthcheck_withdrawn_after(lab, since, node="g1"):
    """Seconds from wall time `since` to `node`'s dmux-healthcheck logging its withdrawal
    (None if it did not)."""
    ts = [t for n, t in healthcheck_withdrawals(lab, since) if n == node]
    return min(ts) - since if ts else None


def healthcheck_withdrawals(lab, since):
    """[(gateway, wall time)] of every dmux-healthcheck withdrawal after wall time `since`."""
    out = []
    for path in glob.glob(os.path.join(lab.state_dir, "g*", "healthcheck.log")):
        node = os.path.basename(os.path.dirname(path))
        with open(path, errors="replace") as f:
            for line in f:
                m = LOG_TIME.match(line)
                if m and "withdrawn, device down" in line:
                    t = datetime.datetime.fromisoformat(m.group(1)).replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                    if t >= since:
                        out.append((node, t))
    return out


def cpu_share(node, name):
    """(CPU seconds, seconds alive) of a lab process, from /proc; None if it does not run."""
    pid = D.pid_of(node, name)
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, TypeError):
        return None
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck, uptime - int(fields[19]) / tck
