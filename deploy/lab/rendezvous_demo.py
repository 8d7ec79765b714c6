"""The rendezvous part of `lab.py status` and `lab.py demo`: the third protocol (exp-0x8001,
examples/rendezvous) between the two IPv4-only clients, through triggers. c2 inserts a private
trigger (a random id) and c1 sends to it; then the other way round. Each client's traffic enters
at its nearest PoP and goes to the rendezvous router nearest that PoP (v1 for c1, v2 for c2), so
every message meets its receiver's trigger at the other router, which learnt it over the peer
channel."""
import os
import secrets
import subprocess
import time

import daemons as D
import topology as T

RV_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                         "rendezvous", "rv_client.py")
GATEWAY = f"{T.ANYCAST_DATA}:{T.DATA_PORT}"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-cryptography (scripts/install-deps.sh)


def _try(f, default=None):
    try:
        return f()
    except (OSError, ValueError, KeyError, IndexError):
        return default


def status(lab):
    """{v: {state, gateway, triggers, peers_alive}} of the rendezvous routers."""
    out = {}
    for v in T.RV_ROUTERS:
        s = _try(lambda: lab.ctl(v), {})
        reg = (s.get("registrations") or [{}])[0]
        out[v] = {"state": reg.get("state", "down"), "gateway_id": reg.get("gateway_id", ""),
                  "triggers": s.get("app", {}).get("triggers", 0),
                  "peers_alive": sum(1 for p in s.get("peers", []) if p.get("alive"))}
    return out


def print_status(st, gateway_name):
    print(f"Rendezvous routers (provider {T.RV_PROVIDER_ID}, rendezvous-router on the SDK, "
          f"exp-{T.RV_PROTO}):")
    for v, x in st.items():
        print(f"  {v} {T.rv_v4(v)}:{T.ROUTER_PORT} {x['state']} at {gateway_name(x['gateway_id'])}; "
              f"{x['triggers']} trigger(s); {x['peers_alive']} peer router(s) alive")


def _counts(lab):
    c = {}
    for v in T.RV_ROUTERS:
        app = _try(lambda: lab.ctl(v)["app"], {})
        c[v + ".sends"] = app.get("sends", 0)
        c[v + ".inserted"] = app.get("inserted", 0) + app.get("refreshed", 0)
    return c


def exchange(lab, sender, receiver, count):
    """`receiver` runs rv_client.py recv on a fresh private trigger, `sender` sends `count`
    messages to it. Returns (lines received, counter deltas)."""
    tid = secrets.token_hex(16)
    before = _counts(lab)
    rx = lab.popen(receiver, PYTHON, "-u", RV_CLIENT, "recv", "--gateway", GATEWAY,
                   "--id", tid, "--count", count, "--timeout", 15, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True)
    try:
        ready = rx.stdout.readline()
        if not ready.startswith("ready"):
            return [ready.strip()], {}
        time.sleep(0.3)  # the trigger reaches the other router
        lab.run(sender, PYTHON, RV_CLIENT, "send", "--gateway", GATEWAY, "--id", tid,
                "--message", f"hello from {sender}", "--count", count, "--interval", 0.1,
                timeout=30)
        out, _ = rx.communicate(timeout=20)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    after = _counts(lab)
    lines = [line.split(" ", 1)[1] for line in out.strip().splitlines() if " " in line]
    return lines, {k: after[k] - before.get(k, 0) for k in after}


def demo(lab, count=3):
    c1, c2 = T.CLIENTS
    print(f"\nRendezvous (i3-like triggers, exp-{T.RV_PROTO}) between the IPv4-only clients, "
          f"through provider {T.RV_PROVIDER_ID}'s routers v1, v2 (no gateway change)")
    results = []
    for sender, receiver in ((c1, c2), (c2, c1)):
        lines, d = exchange(lab, sender, receiver, count)
        ok = sum(f"hello from {sender}" in line for line in lines) >= count
        results.append({"client": sender, "dest": f"{receiver} (trigger)", "ok": ok})
        ins = [v for v in T.RV_ROUTERS if d.get(v + ".inserted", 0) > 0]
        snd = [v for v in T.RV_ROUTERS if d.get(v + ".sends", 0) >= count]
        print(f"  {receiver} inserted a private trigger (at {', '.join(ins) or '-'}); {sender} "
              f"sent {count} messages to it (at {', '.join(snd) or '-'}): {receiver} received "
              f"{len(lines)}{' (' + lines[0] + ')' if lines else ''}")
    print(f"  try: ip netns exec dl-c2 {RV_CLIENT} recv --gateway {GATEWAY} --id NAME\n"
          f"       ip netns exec dl-c1 {RV_CLIENT} send --gateway {GATEWAY} --id NAME --message hi\n"
          f"       {D.control_socket('v1')}: the router's status (dmuxctl --socket ... --json "
          f"status)")
    return results
