"""What `lab.py status` and `lab.py demo` print, and the data behind it."""
import re
import time

import daemons as D
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
    return address


def status(lab, out=True):
    st = {"build_dir": lab.bins.build_dir,
          "pops": {}, "clients": {}, "routers": {}}
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
    for c in T.CLIENTS:
        st["clients"][c] = {"ipv4": T.client_v4(c), "ipv6": lab.client_address(c),
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
    print("Clients:")
    for c, x in st["clients"].items():
        print(f"  {c} {x['ipv4']:<12} IPv6 {x['ipv6'] or '(none yet)'}; "
              f"its traffic enters at {x['entry_pop'] or '?'}")


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
    b = lab.bins.build_dir
    print(f"""
Replies go from a router straight to the client, not through a PoP. Explore:
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
        raise RuntimeError("ping failed: " + "; ".join(f"{r['client']} -> {r['dest']}"
                                                       for r in failed))
    return results
