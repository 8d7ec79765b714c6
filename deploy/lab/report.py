"""What `lab.py status` and `lab.py demo` print, and the data behind it."""
import os
import re
import subprocess
import sys
import time

import daemons as D
import rendezvous_demo
import topology as T


def _try(f, default=None):
    try:
        return f()
    except (OSError, ValueError, KeyError, IndexError, RuntimeError):
        return default


def gateway_name(gateway_id):
    for i in T.INDEXES:
        if T.gateway_unicast(i) == gateway_id:
            return f"g{i}"
    return gateway_id or "?"


def router_name(address):
    for r in T.ROUTERS:
        if address == f"{T.router_v4(r)}:{T.ROUTER_PORT}":
            return r
    for m in T.MCAST_ROUTERS:
        if address == f"{T.mcast_v4(m)}:{T.ROUTER_PORT}":
            return m
    for v in T.RV_ROUTERS:
        if address == f"{T.rv_v4(v)}:{T.ROUTER_PORT}":
            return v
    return address


MPING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "mping",
                     "mping.py")


def status(lab, out=True):
    st = {"build_dir": lab.bins.build_dir,
          "pops": {}, "clients": {}, "routers": {}, "mcast_routers": {}}
    for i, g in enumerate(T.GATEWAYS, start=1):
        u = T.UPSTREAMS[i - 1]
        path = lab.best_path(u)
        routers = _try(lambda: lab.ctl(g, "routers")["routers"], [])
        peers = _try(lambda: lab.ctl(g, "peers")["peers"], [])
        st["pops"][g] = {
            "alive": lab.gateway_alive(i),
            "announces": lab.announces(i),
            "upstream_best": path,
            "routers": sorted(({"router": router_name(r["address"]), "origin": r["origin"],
                                "via": gateway_name(r.get("origin_gateway", ""))}
                               for r in routers), key=lambda r: r["router"]),
            "peers": [{"peer": gateway_name(p.get("gateway_id")), "state": p["state"],
                       "rtt_ms": p.get("rtt_ms")} for p in peers],
        }
    for r in T.ROUTERS:
        reg = _try(lambda: lab.ctl(r)["registrations"][0], {})
        st["routers"][r] = {"state": reg.get("state", "down"),
                            "gateway": gateway_name(reg.get("gateway_id", "")),
                            "rtt_us": reg.get("gateway_rtt_us", 0)}
    for m in T.MCAST_ROUTERS:
        s = _try(lambda: lab.ctl(m), {})
        reg = (s.get("registrations") or [{}])[0]
        st["mcast_routers"][m] = {
            "state": reg.get("state", "down"), "gateway": gateway_name(reg.get("gateway_id", "")),
            "members": s.get("membership", {}).get("memberships", 0),
            "peers_alive": sum(1 for p in s.get("peers", []) if p.get("alive"))}
    if lab.rv_routers():
        st["rendezvous_routers"] = rendezvous_demo.status(lab)
    for c in T.CLIENTS:
        st["clients"][c] = {"ipv4": T.client_v4(c), "ipv6": lab.client_address(c),
                            "return_tokens": lab.client_tokens(c),
                            "entry_pop": _try(lambda: lab.entry_pop(c))}
    if out:
        print_status(st)
    return st


def print_status(st):
    print(f"IPdmux lab (binaries from {st['build_dir']})")
    print("PoPs:")
    for i, (g, p) in enumerate(st["pops"].items(), start=1):
        u = T.UPSTREAMS[i - 1]
        ann = "announces " + T.DMUX_PREFIX if p["announces"] else "NOT announcing"
        if not p["alive"]:
            ann += " (dmuxd down)"
        best = p["upstream_best"]
        via = f"{u} best path: AS {best['aspath']}" if best else f"{u}: no route"
        regs = ", ".join(f"{r['router']} (" + ("local" if r["origin"] == "registered" else
                                               "via " + r["via"]) + ")"
                         for r in p["routers"]) or "none"
        peers = ", ".join(f"{x['peer']} {x['state']}" +
                          (f" {x['rtt_ms']:.2f} ms" if x["rtt_ms"] is not None else "")
                          for x in p["peers"]) or "none"
        print(f"  {g} {T.gateway_unicast(i):<11} {ann}; {via}")
        print(f"     routers: {regs}; peers: {peers}")
    print("Routers (provider 7, client prefix " + T.CLIENT_PREFIX + "):")
    for r, x in st["routers"].items():
        rtt = f", rtt {x['rtt_us'] / 1000:.2f} ms" if x["rtt_us"] else ""
        print(f"  {r} {T.router_v4(r)}:{T.ROUTER_PORT} {x['state']} at {x['gateway']}{rtt}")
    print(f"Multicast routers (provider {T.MCAST_PROVIDER_ID}, dmux-mcast, ipv4-multicast):")
    for m, x in st["mcast_routers"].items():
        print(f"  {m} {T.mcast_v4(m)}:{T.ROUTER_PORT} {x['state']} at {x['gateway']}; "
              f"{x['members']} group memberships; {x['peers_alive']} peer router(s) alive")
    if "rendezvous_routers" in st:
        rendezvous_demo.print_status(st["rendezvous_routers"], gateway_name)
    print("Clients:")
    for c, x in st["clients"].items():
        tokens = ", ".join(p for p, have in x["return_tokens"].items() if have) or "none yet"
        print(f"  {c} {x['ipv4']:<12} IPv6 {x['ipv6'] or '(none yet)'}; "
              f"its traffic enters at {x['entry_pop'] or '?'}; return tokens: {tokens}")


# ---- demo ---------------------------------------------------------------------------------------

def counters(lab):
    c = {}
    for g in T.GATEWAYS:
        s = _try(lambda: lab.ctl(g), {})
        c[g] = s.get("received_packets", 0)
    for r in T.ROUTERS:
        s = _try(lambda: lab.ctl(r), {})
        c[r + ".in"] = s.get("tunnels_received", 0)
        c[r + ".out"] = s.get("returned", 0)
    for m in T.MCAST_ROUTERS:
        s = _try(lambda: lab.ctl(m), {})
        c[m + ".in"] = s.get("group_packets", 0)
        c[m + ".out"] = s.get("delivered", 0)
        c[m + ".peer"] = s.get("from_peers", 0)
    return c


def ping(lab, client, dest, count):
    before = counters(lab)
    t = time.time()
    r = lab.run(client, "ping", "-6", "-c", count, "-i", "0.2", "-W", "2", dest,
                timeout=count * 3 + 10)
    after = counters(lab)
    delta = {k: after[k] - before[k] for k in after}
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    rtt = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
    return {"client": client, "dest": dest, "sent": int(m.group(1)) if m else count,
            "received": int(m.group(2)) if m else 0, "rtt_avg_ms": float(rtt.group(1)) if rtt
            else None, "ok": r.returncode == 0, "seconds": time.time() - t, "delta": delta,
            "output": r.stdout + r.stderr}


def used(delta, keys, count):
    """Nodes whose counter moved by at least half the pings (client solicitations are noise)."""
    return [f"{k.split('.')[0]} ({delta[k]})" for k in keys if delta[k] >= max(1, count // 2)]


def demo(lab, count=5):
    c1, c2 = T.CLIENTS
    paths = [(c1, T.SERVER_V6, "s6"), (c2, T.SERVER_V6, "s6"),
             (c1, lab.client_address(c2), "c2")]
    results = []
    print(f"ping -6 from the IPv4-only clients ({count} each); in brackets: packets counted at "
          "each PoP (dmuxd) and router (dmux-provider)")
    for client, dest, name in paths:
        res = ping(lab, client, dest, count)
        d = res["delta"]
        res["gateways"] = used(d, T.GATEWAYS, count)
        res["routers_in"] = used(d, [r + ".in" for r in T.ROUTERS], count)
        res["routers_out"] = used(d, [r + ".out" for r in T.ROUTERS], count)
        results.append(res)
        rtt = f", avg rtt {res['rtt_avg_ms']:.2f} ms" if res["rtt_avg_ms"] is not None else ""
        print(f"  {client} -> {name} ({dest}): {res['received']}/{res['sent']} replies{rtt}")
        print(f"    entered at {', '.join(res['gateways']) or '-'}; "
              f"tunnelled to {', '.join(res['routers_in']) or '-'}; "
              f"returned by {', '.join(res['routers_out']) or '-'}")
    results += multicast_demo(lab, count)
    if lab.rv_routers():
        results += rendezvous_demo.demo(lab, 3)
    b = lab.bins.build_dir
    g1, g2 = T.MCAST_GROUPS
    print(f"""
Replies go from a router straight to the client, not through a PoP. Explore:
  ip netns exec dl-c2 socat -u UDP4-RECV:5001,reuseaddr,ip-add-membership={g1}:dmuxc0 -   # a receiver
  echo hi | ip netns exec dl-c1 socat -u - UDP4-DATAGRAM:{g1}:5001                        # a sender
  {b}/dmuxctl/dmuxctl --socket {D.control_socket('m1')} --json status      # a multicast router
  ip netns exec dl-g1 {b}/dmuxctl/dmuxctl --socket {D.control_socket('g1')} status|routers|peers
  {b}/dmuxctl/dmuxctl --socket {D.control_socket('r1')} --json status      # a provider router
  {b}/dmuxctl/dmuxctl --socket {D.control_socket('c1')} --json status      # a client
  vtysh -N dl-u1 -c 'show bgp ipv4 unicast'          # who announces {T.DMUX_PREFIX}
  ip netns exec dl-g1 curl -s 127.0.0.1:{T.METRICS_PORT}/metrics   # gateway metrics
  ip netns exec dl-c1 curl -s 127.0.0.1:{T.CLIENT_METRICS_PORT}/metrics   # client metrics
  ip netns exec dl-c1 ping -6 {T.SERVER_V6}
  logs and configs: {T.STATE_DIR}/<node>/
Tear down: python3 deploy/lab/lab.py down""")
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise RuntimeError("failed: " + "; ".join(f"{r['client']} -> {r['dest']}"
                                                  for r in failed))
    return results


def socat_exchange(lab, sender, receiver, group, port=5001):
    """An unmodified socat joins `group` on `receiver`; socat on `sender` sends one line to it.
    Returns what the receiver printed."""
    rx = lab.popen(receiver, "socat", "-u",
                   f"UDP4-RECV:{port},reuseaddr,ip-add-membership={group}:dmuxc0", "-",
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(1.0)  # the kernel's IGMP report reaches the receiver's multicast router
        for _ in range(3):
            lab.run(sender, "sh", "-c", f"echo 'hello {group} from {sender}' | "
                    f"socat -u - UDP4-DATAGRAM:{group}:{port}")
            time.sleep(0.3)
    finally:
        time.sleep(0.5)
        rx.terminate()
        out, _ = rx.communicate(timeout=5)
    return out.strip().splitlines()


def mping(lab, pinger, echoer, count):
    """The paper's multicast ping: `pinger` joins group 1 and sends to group 2, `echoer` joins
    group 2 and sends back to group 1."""
    g1, g2 = T.MCAST_GROUPS
    echo = lab.popen(echoer, sys.executable, MPING, "echo", "--join", g2, "--send", g1,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        r = lab.run(pinger, sys.executable, MPING, "ping", "--join", g1, "--send", g2, "-c",
                    str(count), "-i", "0.2", "--settle", "1", "--json", timeout=count + 30)
    finally:
        echo.terminate()
        echo.wait(timeout=5)
    try:
        import json
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"sent": count, "received": 0, "error": r.stdout + r.stderr}


def multicast_demo(lab, count):
    c1, c2 = T.CLIENTS
    g1, _ = T.MCAST_GROUPS
    print(f"\nIPv4 multicast between the IPv4-only clients, through the overlay of provider "
          f"{T.MCAST_PROVIDER_ID} (dmux-mcast on m1, m2)")
    results = []
    before = counters(lab)
    lines = socat_exchange(lab, c1, c2, g1)
    d = {k: v - before[k] for k, v in counters(lab).items()}
    ok = any(f"from {c1}" in line for line in lines)
    results.append({"client": c1, "dest": f"{g1} (socat)", "ok": ok})
    print(f"  socat: {c2} joined {g1}, {c1} sent 3 lines: {c2} received {len(lines)}"
          f"{' (' + lines[0] + ')' if lines else ''}")
    print(f"    DATA (group packets, IGMP) entered at {', '.join(used(d, T.GATEWAYS, 2)) or '-'}; "
          f"multicast router {', '.join(used(d, [m + '.in' for m in T.MCAST_ROUTERS], 3)) or '-'}"
          f" -> peer -> {', '.join(used(d, [m + '.peer' for m in T.MCAST_ROUTERS], 3)) or '-'}"
          f" delivered to {c2}")
    before = counters(lab)
    res = mping(lab, c1, c2, count)
    d = {k: v - before[k] for k, v in counters(lab).items()}
    ok = res.get("received", 0) > 0 and res.get("duplicates", 0) == 0
    results.append({"client": c1, "dest": "mping", "ok": ok})
    rtt = (f", rtt min/p50/max {res['min_ms']:.2f}/{res['p50_ms']:.2f}/{res['max_ms']:.2f} ms"
           if "p50_ms" in res else "")
    print(f"  mping (paper style): {c1} joins {T.MCAST_GROUPS[0]} and sends to "
          f"{T.MCAST_GROUPS[1]}; {c2} joins {T.MCAST_GROUPS[1]} and echoes: "
          f"{res.get('received', 0)}/{res.get('sent', count)} replies, "
          f"{res.get('duplicates', 0)} duplicates{rtt}")
    print(f"    group packets entered at {', '.join(used(d, T.GATEWAYS, count)) or '-'}; handled "
          f"by {', '.join(used(d, [m + '.in' for m in T.MCAST_ROUTERS], count)) or '-'}")
    return results
