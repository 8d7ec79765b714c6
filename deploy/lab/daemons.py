"""Start and stop the IPdmux daemons of the lab (dmuxd, dmux-provider, dmux-mcast, dmux-client),
each in its namespace, with a pid file and a log under the state directory."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import topology as T
from netns import signal_pid

HERE = os.path.dirname(os.path.abspath(__file__))
_children = {}  # pid -> Popen, for processes this Python process started (so we can reap them)


class Binaries:
    """Paths of the programs in a build directory."""

    def __init__(self, build_dir):
        self.build_dir = os.path.abspath(build_dir)
        self.dmuxd = os.path.join(self.build_dir, "gateway", "dmuxd")
        self.dmuxctl = os.path.join(self.build_dir, "dmuxctl", "dmuxctl")
        self.provider = os.path.join(self.build_dir, "provider", "dmux-provider")
        self.client = os.path.join(self.build_dir, "client", "dmux-client")
        self.ca = os.path.join(self.build_dir, "tools", "ca", "dmux-ca")
        self.mcast = os.path.join(self.build_dir, "multicast", "dmux-mcast")
        self.healthcheck = os.path.join(self.build_dir, "bgp-glue", "dmux-healthcheck")
        self.rendezvous = os.path.join(self.build_dir, "examples", "rendezvous",
                                       "rendezvous-router")
        # The rendezvous provider (examples/rendezvous) runs when its router is built; a build
        # without it gives the lab without v1, v2's routers.
        self.has_rendezvous = os.access(self.rendezvous, os.X_OK)

    def check(self):
        missing = [p for p in (self.dmuxd, self.dmuxctl, self.provider, self.client, self.ca,
                               self.mcast, self.healthcheck)
                   if not os.access(p, os.X_OK)]
        if missing:
            b = self.build_dir
            raise SystemExit("not built: " + ", ".join(missing) +
                             f"\n  cmake -S . -B {b} && cmake --build {b}")



def node_dir(node):
    return os.path.join(T.STATE_DIR, node)


def pid_file(node, name):
    return os.path.join(node_dir(node), name + ".pid")


def start(node, name, cmd):
    """Start `cmd` in node's namespace, detached; log to <state>/<node>/<name>.log. Returns pid."""
    os.makedirs(node_dir(node), exist_ok=True)
    with open(os.path.join(node_dir(node), name + ".log"), "a") as log:
        log.write(f"--- {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n")
        log.flush()
        p = subprocess.Popen(["ip", "netns", "exec", T.ns(node)] + cmd, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _children[p.pid] = p
    with open(pid_file(node, name), "w") as f:
        f.write(str(p.pid))
    return p.pid


def pid_of(node, name):
    try:
        with open(pid_file(node, name)) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def alive(node, name):
    pid = pid_of(node, name)
    if pid is None:
        return False
    p = _children.get(pid)
    if p is not None:
        return p.poll() is None
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop(node, name, sig=signal.SIGTERM, timeout=5):
    """Signal the process and wait for it (SIGKILL after `timeout`); remove its pid file.
    Returns the time.time() at which the signal was sent."""
    return stop_many([(node, name)], sig, timeout)


def stop_many(procs, sig=signal.SIGTERM, timeout=5):
    """stop() for several (node, name) at once: signal all, then wait for all."""
    procs = [(n, name, pid_of(n, name)) for n, name in procs]
    sent = time.time()
    for n, name, pid in procs:
        if pid is not None and alive(n, name):
            signal_pid(pid, sig)
    deadline = time.time() + timeout
    while any(alive(n, name) for n, name, _ in procs) and time.time() < deadline:
        time.sleep(0.01)
    for n, name, pid in procs:
        if alive(n, name):
            signal_pid(pid, signal.SIGKILL)
            while alive(n, name):
                time.sleep(0.01)
        p = _children.pop(pid, None)
        if p is not None:
            p.wait()
        try:
            os.unlink(pid_file(n, name))
        except FileNotFoundError:
            pass
    return sent


def request(sock_path, command, timeout=5):
    """One request on a dmuxd / dmux-provider / dmux-client control socket: parsed JSON reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(command.encode() + b"\n")
        return json.loads(s.makefile("rb").read())


# ---- command lines --------------------------------------------------------------------------

def control_socket(node):
    return os.path.join(node_dir(node), {"g": "dmuxd", "r": "provider", "c": "client",
                                          "m": "mcast", "v": "rendezvous"}[node[0]] +
                        ".sock")


def dmuxd_cmd(bins, i, ca_dir, extra=()):
    g, uni = f"g{i}", T.gateway_unicast(i)
    cmd = [bins.dmuxd,
           "--listen", f"{T.ANYCAST_DATA}:{T.DATA_PORT}", "--listen", f"{uni}:{T.DATA_PORT}",
           "--gateway-id", uni, "--tunnel-source", uni, "--workers", "1",
           "--registration-listen", f"{T.ANYCAST_REG}:{T.REG_PORT}",
           "--registration-listen", f"{uni}:{T.REG_PORT}",
           "--ca-cert", os.path.join(ca_dir, "ca.crt"),
           # Keepalives every 100 ms: a router that misses 3 is out of the table (BFD-like,
           # docs/protocol.md 9.9); 5 s of silence ends its session.
           "--keepalive-interval-ms", "100", "--hold-time-ms", "5000",
           # Each router failure is a flap; the lab's fault sequences kill routers every ~30 s.
           "--dampening-half-life-s", "10",
           # The health protocol's static router: dmux-healthcheck (healthcheck_cmd) beside dmuxd.
           "--static-router",
           f"exp-0x{HEALTH_PROTO:04x} 1 {uni}:{HEALTH_PORT} {os.path.join(ca_dir, 'health.key')}",
           "--mesh-listen", f"{uni}:{T.MESH_PORT}",
           "--mesh-cert", os.path.join(ca_dir, f"{g}.crt"),
           "--mesh-key", os.path.join(ca_dir, f"{g}.key"),
           "--selection", "paper", "--selection-tolerance-us", "100",
           "--metrics-listen", f"127.0.0.1:{T.METRICS_PORT}",
           "--control-socket", control_socket(g)]
    for j in T.INDEXES:
        if j != i:
            cmd += ["--mesh-peer", f"{T.gateway_unicast(j)}:{T.MESH_PORT}"]
    cmd += ["--announce-prefix", T.DMUX_PREFIX, "--announce-device", "dmuxa0",
            "--announce-metric", "100", "--drain-metric", "1000",
            "--health-interval-ms", "200", "--health-rise", "2", "--health-fall", "2",
            "--drain-withdraw-ms", "2000"]
    return cmd + list(extra)


HEALTH_PROTO, HEALTH_PORT = 0xfffe, 4790


def healthcheck_cmd(bins, i, ca_dir):
    """dmux-healthcheck beside dmuxd at gi: a probe through the data port every 50 ms; 3 missed
    in a row take the announcement device down, 150-200 ms after dmuxd froze (then BGP withdraws
    in ~130 ms: the hang costs ~0.35 s; bench/failover "gateway hang")."""
    uni = T.gateway_unicast(i)
    return [bins.healthcheck, "--data", f"{uni}:{T.DATA_PORT}", "--listen", f"{uni}:{HEALTH_PORT}",
            "--key", os.path.join(ca_dir, "health.key"), "--proto", f"exp-0x{HEALTH_PROTO:04x}",
            "--device", "dmuxa0", "--interval-ms", "50", "--timeout-ms", "50", "--fall", "3"]


def provider_cmd(bins, r, ca_dir):
    return [bins.provider, "--gateway", f"{T.ANYCAST_REG}:{T.REG_PORT}",
            "--listen", f"{T.router_v4(r)}:{T.ROUTER_PORT}",
            "--cert", os.path.join(ca_dir, "provider.crt"),
            "--key", os.path.join(ca_dir, "provider.key"),
            "--client-prefix", T.CLIENT_PREFIX, "--control-socket", control_socket(r),
            "--allow-destination", T.LAB_SPACE]


def mcast_cmd(bins, m, ca_dir):
    """dmux-mcast with demo timings: summaries every 100 ms (a peer silent for 350 ms is dead
    and its members adopted: the return direction's failover, bench/failover), members queried
    every 5 s and expired after 20 s of silence (a real deployment keeps IGMP's 125 s / 260 s)."""
    peers = []
    for other in T.MCAST_ROUTERS:
        if other != m:
            peers += ["--peer", f"{T.mcast_v4(other)}:{T.ROUTER_PORT}"]
    return [bins.mcast, "--gateway", f"{T.ANYCAST_REG}:{T.REG_PORT}",
            "--listen", f"{T.mcast_v4(m)}:{T.ROUTER_PORT}",
            "--cert", os.path.join(ca_dir, "mcast.crt"), "--key", os.path.join(ca_dir, "mcast.key"),
            *peers, "--peer-key", os.path.join(ca_dir, "mcast-peer.key"),
            "--summary-interval-ms", "100", "--query-interval-ms", "5000",
            "--query-response-ms", "1000", "--membership-timeout-ms", "20000",
            "--control-socket", control_socket(m), "--allow-destination", T.LAB_SPACE]


def rendezvous_cmd(bins, v, ca_dir):
    """rendezvous-router (examples/rendezvous): registers through the anycast address like the
    other routers, shares its triggers with the other rendezvous router."""
    peers = []
    for other in T.RV_ROUTERS:
        if other != v:
            peers += ["--peer", f"{T.rv_v4(other)}:{T.ROUTER_PORT}"]
    return [bins.rendezvous, "--proto", T.RV_PROTO, "--gateway", f"{T.ANYCAST_REG}:{T.REG_PORT}",
            "--listen", f"{T.rv_v4(v)}:{T.ROUTER_PORT}",
            "--cert", os.path.join(ca_dir, "rendezvous.crt"),
            "--key", os.path.join(ca_dir, "rendezvous.key"),
            *peers, "--peer-key", os.path.join(ca_dir, "rendezvous-peer.key"),
            "--control", control_socket(v), "--allow", T.LAB_SPACE]


def client_cmd(bins, c):
    return [bins.client, "--gateway", f"{T.ANYCAST_DATA}:{T.DATA_PORT}", "--capture", "ipv6",
            "--capture", "ipv4-multicast",
            "--control-socket", control_socket(c),
            "--metrics-listen", f"127.0.0.1:{T.CLIENT_METRICS_PORT}"]
