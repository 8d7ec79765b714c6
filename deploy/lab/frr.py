"""FRR in the lab: render deploy/frr/*.conf.in, start zebra + bfdd + bgpd per namespace, query
them with vtysh, stop them by pid file."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import topology as T
from netns import signal_pid

FRR_BIN = "/usr/lib/frr"
DAEMONS = ("zebra", "bfdd", "bgpd")  # bfdd before bgpd: BGP sessions find BFD ready
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "frr")


def run_dir(ns):
    return f"/var/run/frr/{ns}"


def render(template, **values):
    """Fill in the {name} placeholders of a template; an unknown one is an error."""
    with open(os.path.join(TEMPLATES, template)) as f:
        text = f.read()
    missing = set(re.findall(r"\{(\w+)\}", text)) - set(values)
    if missing:
        raise KeyError(f"{template}: no value for {sorted(missing)}")
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)


def gateway_config(g, log_file):
    i = T.GATEWAYS.index(g) + 1
    u = T.UPSTREAMS[i - 1]
    return render("gateway.conf.in", hostname=T.ns(g), log_file=log_file, asn=T.GATEWAY_ASN,
                  unicast=T.gateway_unicast(i), dmux_prefix=T.DMUX_PREFIX,
                  upstream_addr=T.addr(u, g), upstream_asn=T.upstream_asn(i), upstream_name=u)


def upstream_config(u, log_file):
    i = T.UPSTREAMS.index(u) + 1
    g = T.GATEWAYS[i - 1]
    lines = []
    for a, asn, name in T.isp_neighbors(u):
        lines += [f" neighbor {a} remote-as {asn}", f" neighbor {a} description ISP {name}",
                  f" neighbor {a} timers connect 1", f" neighbor {a} advertisement-interval 0"]
    return render("upstream.conf.in", hostname=T.ns(u), log_file=log_file, asn=T.upstream_asn(i),
                  router_id=T.upstream_router_id(i), dmux_prefix=T.DMUX_PREFIX,
                  gateway_addr=T.addr(g, u), gateway_asn=T.GATEWAY_ASN, gateway_name=g,
                  gateway_unicast=T.gateway_unicast(i), isp_neighbors="\n".join(lines))


def provider_router_config(r, log_file):
    """r1 / r2: announce the agent's client-prefix route to s6 while it exists."""
    return render("provider-router.conf.in", hostname=T.ns(r), log_file=log_file,
                  asn=T.PROVIDER_ASN, router_id=T.router_v4(r), client_prefix=T.CLIENT_PREFIX,
                  core_addr=T.addr(T.SERVER, r), core_name=T.SERVER,
                  local_pref=T.ROUTER_LOCAL_PREF[r])


def provider_core_config(log_file):
    """s6: iBGP with each of the provider's routers."""
    neighbors, activations = [], []
    for r in T.ROUTERS:
        a = T.router_v6(r)
        neighbors += [f" neighbor {a} remote-as {T.PROVIDER_ASN}",
                      f" neighbor {a} description provider router {r}",
                      f" neighbor {a} bfd profile PROVIDER", f" neighbor {a} timers connect 1",
                      f" neighbor {a} advertisement-interval 0"]
        activations.append(f"  neighbor {a} activate")
    return render("provider-core.conf.in", hostname=T.ns(T.SERVER), log_file=log_file,
                  asn=T.PROVIDER_ASN, router_id=T.PROVIDER_CORE_ID,
                  router_neighbors="\n".join(neighbors),
                  router_activations="\n".join(activations))


# Top-level statements of the integrated config and the daemons that take them; anything else
# (frr version/defaults, hostname, log) goes to every daemon.
OWNERS = {"router bgp": ("bgpd",), "ip prefix-list": ("bgpd",), "ipv6 prefix-list": ("bgpd",),
          "route-map": ("bgpd",),
          "bfd": ("bfdd",), "interface": ("zebra",)}


def split(conf_text):
    """The integrated config, cut into one file per daemon (daemons complain about lines that
    belong to another daemon; vtysh -b would do this cut for /etc/frr/frr.conf)."""
    out = {d: [] for d in DAEMONS}
    owners = DAEMONS
    for line in conf_text.splitlines():
        if line.startswith("!") or not line.strip():
            continue
        if not line.startswith(" ") and line != "exit":
            owners = next((o for k, o in OWNERS.items() if line == k or line.startswith(k + " ")),
                          DAEMONS)
        for d in owners:
            out[d].append(line)
    return {d: "\n".join(lines) + "\n" for d, lines in out.items()}


def start(ns, conf_text, state_dir):
    """Write the config (the integrated frr.conf, and one file per daemon cut from it, readable
    by frr) and start zebra, bfdd, bgpd in namespace `ns`."""
    os.makedirs(state_dir, exist_ok=True)
    shutil.chown(state_dir, "frr", "frr")
    files = {"frr": conf_text, **split(conf_text)}
    for name, text in files.items():
        path = os.path.join(state_dir, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        shutil.chown(path, "frr", "frr")
    os.makedirs(run_dir(ns), exist_ok=True)
    shutil.chown(run_dir(ns), "frr", "frr")
    for d in DAEMONS:
        r = subprocess.run(["ip", "netns", "exec", ns, f"{FRR_BIN}/{d}", "-d", "-N", ns,
                            "-f", os.path.join(state_dir, d + ".conf"),
                            "-i", f"{run_dir(ns)}/{d}.pid"], capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"{d} in {ns} failed to start: {r.stderr.strip()}")


def pids(ns):
    out = {}
    for d in DAEMONS:
        try:
            with open(f"{run_dir(ns)}/{d}.pid") as f:
                out[d] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return out


def alive(ns):
    """True if all three daemons of `ns` run."""
    p = pids(ns)
    if len(p) != len(DAEMONS):
        return False
    try:
        for pid in p.values():
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(namespaces, timeout=5):
    """SIGTERM the daemons of each namespace (SIGKILL after `timeout`), remove their
    /var/run/frr/<ns>. `namespaces`: one name or a list."""
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    p = [pid for ns in namespaces for pid in pids(ns).values()]
    for pid in p:
        signal_pid(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and any(_exists(pid) for pid in p):
        time.sleep(0.05)
    for pid in p:
        signal_pid(pid, signal.SIGKILL)
    for ns in namespaces:
        shutil.rmtree(run_dir(ns), ignore_errors=True)


def vtysh(ns, command, json_out=False):
    """Run one vtysh command in namespace `ns` ('show ...'); parsed JSON if json_out."""
    r = subprocess.run(["vtysh", "-N", ns, "-c", command + (" json" if json_out else "")],
                       capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise RuntimeError(f"vtysh -N {ns} -c '{command}': {r.stdout.strip()} {r.stderr.strip()}")
    return json.loads(r.stdout or "{}") if json_out else r.stdout


def established(ns, family="ipv4"):
    """Names (descriptions) of BGP neighbours of `ns` that are Established, and all of them."""
    try:
        r = vtysh(ns, f"show bgp {family} unicast summary", json_out=True)
        peers = r.get(family + "Unicast", r).get("peers", {})
    except (RuntimeError, ValueError):
        return set(), 0
    return {a for a, p in peers.items() if p.get("state") == "Established"}, len(peers)


def best_path(ns, prefix):
    """The best path for `prefix` in namespace `ns`: dict(nexthop, aspath, community) or None."""
    family = "ipv6" if ":" in prefix else "ipv4"
    try:
        r = vtysh(ns, f"show bgp {family} unicast {prefix}", json_out=True)
    except (RuntimeError, ValueError):
        return None
    for p in r.get("paths", []):
        if p.get("bestpath", {}).get("overall"):
            hops = p.get("nexthops") or [{}]
            return {"nexthop": hops[0].get("ip", ""),
                    "aspath": p.get("aspath", {}).get("string", ""),
                    "community": p.get("community", {}).get("string", ""),
                    "locpref": p.get("locPrf", 100)}
    return None


def _exists(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
