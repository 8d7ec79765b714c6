"""Network namespaces, veth links, addresses and static routes of the lab (topology.py)."""
import os
import signal
import subprocess
import time

import topology as T


def sh(*args, node=None, check=True, timeout=30):
    """Run a command (in node's namespace if given); CompletedProcess with text output."""
    cmd = (["ip", "netns", "exec", T.ns(node)] if node else []) + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout).strip()}")
    return r


def existing():
    """Lab namespaces that exist now."""
    out = sh("ip", "netns", "list").stdout.split()
    return [n for n in out if n.startswith(T.PREFIX)]


def sysctl(node, key, value):
    sh("sysctl", "-qw", f"{key}={value}", node=node)


def create():
    for n in T.NODES:
        sh("ip", "netns", "add", T.ns(n))
        sh("ip", "link", "set", "lo", "up", node=n)
        for key, value in (("net.ipv4.conf.all.rp_filter", 0),
                           ("net.ipv4.conf.default.rp_filter", 0),
                           ("net.ipv6.conf.all.accept_dad", 0),
                           ("net.ipv6.conf.default.accept_dad", 0)):
            sysctl(n, key, value)
    for a, dev_a, addr_a, b, dev_b, addr_b, plen in T.LINKS:
        sh("ip", "link", "add", dev_a, "netns", T.ns(a), "type", "veth", "peer", "name", dev_b,
           "netns", T.ns(b))
        for node, dev, addr in ((a, dev_a, addr_a), (b, dev_b, addr_b)):
            if node in T.CLIENTS:  # IPv4 only on the wire (link-local stays off too)
                sysctl(node, f"net.ipv6.conf.{dev}.disable_ipv6", 1)
            extra = ["nodad"] if ":" in addr else []
            sh("ip", "addr", "add", f"{addr}/{plen}", "dev", dev, *extra, node=node)
            sh("ip", "link", "set", dev, "up", node=node)

    for i, u in enumerate(T.UPSTREAMS, start=1):
        sh("ip", "addr", "add", f"{T.upstream_router_id(i)}/32", "dev", "lo", node=u)
        sysctl(u, "net.ipv4.ip_forward", 1)
    for i, g in enumerate(T.GATEWAYS, start=1):
        for a in (T.gateway_unicast(i), T.ANYCAST_DATA, T.ANYCAST_REG):
            sh("ip", "addr", "add", f"{a}/32", "dev", "lo", node=g)
    for c in T.CLIENTS:
        sh("ip", "route", "add", "default", "via", T.addr(T.ATTACHED[c], c), node=c)
    for r in T.ROUTERS:
        sh("ip", "route", "add", "default", "via", T.addr(T.ATTACHED[r], r), node=r)
        sysctl(r, "net.ipv6.conf.all.forwarding", 1)
        sh("ip", "-6", "route", "add", T.SERVER_PREFIX, "via", T.addr(T.SERVER, r), node=r)
    for m in T.MCAST_ROUTERS + T.RV_ROUTERS:
        sh("ip", "route", "add", "default", "via", T.addr(T.ATTACHED[m], m), node=m)
    s = T.SERVER
    sh("ip", "addr", "add", f"{T.SERVER_V6}/128", "dev", "lo", node=s)
    # No route to the client prefix here: s6 learns it by BGP from each router whose agent runs
    # (frr.provider_router_config), so replies fail over with the agents.


def signal_pid(pid, sig):
    """os.kill that treats an already gone process as done."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_all_in(ns):
    """SIGKILL every process left in namespace `ns` (all of them were started by the lab)."""
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    pids = [int(p) for p in r.stdout.split()]
    for pid in pids:
        signal_pid(pid, signal.SIGKILL)
    deadline = time.time() + 3
    while pids and time.time() < deadline:
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
        time.sleep(0.02)


def delete(ns):
    kill_all_in(ns)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
