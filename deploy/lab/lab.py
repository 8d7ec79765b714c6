#!/usr/bin/env python3
"""The IPdmux multi-PoP lab: three upstream ISPs and three gateway PoPs running real FRR (BGP +
BFD) and dmuxd in network namespaces, two IPv4-only clients running dmux-client, an IPv6 provider
with two routers running dmux-provider, and a native IPv6 server. See README.md.

    python3 deploy/lab/lab.py up|status|demo|down [--build-dir DIR]      (as root)

As a module (tests, benchmarks):

    sys.path.insert(0, "deploy/lab"); from lab import Lab
    lab = Lab("build"); lab.up(); lab.kill_gateway(1); ...; lab.down()
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemons as D  # noqa: E402
import frr  # noqa: E402
import netns  # noqa: E402
import report  # noqa: E402
import topology as T  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if not predicate():
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


class Lab:
    """The lab. Node names are 'u1'..'u3', 'g1'..'g3', 'c1', 'c2', 'r1', 'r2', 's6'; gateway
    methods take the index i in 1..3."""

    # names and addresses, for tests
    topology = T
    upstreams, gateways, clients, routers, server = (T.UPSTREAMS, T.GATEWAYS, T.CLIENTS,
                                                      T.ROUTERS, T.SERVER)
    state_dir = T.STATE_DIR
    dmux_prefix, anycast_data, anycast_reg = T.DMUX_PREFIX, T.ANYCAST_DATA, T.ANYCAST_REG
    server_v6, client_prefix = T.SERVER_V6, T.CLIENT_PREFIX

    def __init__(self, build_dir=None, verbose=True):
        build_dir = build_dir or os.path.join(REPO, "build")
        if not os.path.isabs(build_dir) and not os.path.isdir(build_dir):
            build_dir = os.path.join(REPO, build_dir)
        self.bins = D.Binaries(build_dir)
        self.verbose = verbose
        self.ca_dir = os.path.join(T.STATE_DIR, "ca")
        self._t0 = None

    # ---- names --------------------------------------------------------------------------------

    @staticmethod
    def ns(node):
        """Namespace name of a node: ns('g1') == 'dl-g1'."""
        return T.ns(node)

    @staticmethod
    def gateway_unicast(i):
        return T.gateway_unicast(i)

    @staticmethod
    def addr(node, peer):
        """Address of `node` on its link to `peer`."""
        return T.addr(node, peer)

    def control_socket(self, node):
        return D.control_socket(node)


    def log(self, msg):
        if self.verbose:
            t = f"[{time.time() - self._t0:4.1f} s] " if self._t0 else ""
            print(t + msg, flush=True)

    # ---- life cycle ---------------------------------------------------------------------------

    def up(self, timeout=60):
        """Build the lab and wait until it works; if it is already up and healthy, just print
        the status; a half-up lab is torn down first. Returns the seconds it took."""
        if os.geteuid() != 0:
            raise SystemExit("the lab needs root (network namespaces, FRR, TUN devices)")
        self.bins.check()
        if self.healthy():
            self.log("lab is already up")
            self.status(out=self.verbose)
            return 0.0
        if netns.existing() or os.path.exists(T.STATE_DIR):
            self.log("tearing down a half-up lab first")
            self.down(quiet=True)
        start = self._t0 = time.time()
        try:
            os.makedirs(T.STATE_DIR)
            os.chmod(T.STATE_DIR, 0o755)  # FRR (user frr) reads its configs below it
            with open(os.path.join(T.STATE_DIR, "build-dir"), "w") as f:
                f.write(self.bins.build_dir)
            self.log("namespaces and links ...")
            netns.create()
            self._make_credentials()
            self.log("FRR (zebra, bgpd, bfdd) in " + ", ".join(T.UPSTREAMS + T.GATEWAYS) + " ...")
            self._parallel(self.start_frr, T.UPSTREAMS + T.GATEWAYS + T.PROVIDER_FRR)
            wait_for(self.bgp_established, timeout, "BGP sessions to be Established")
            # dmuxd dials its mesh peers at start: start it once their addresses are routed.
            wait_for(self.unicast_routed, timeout, "routes to every gateway's unicast address")
            self.log("dmuxd at g1, g2, g3 (announcing the dmux-prefix once healthy) ...")
            for i in T.INDEXES:
                self.start_gateway(i)
            wait_for(self.prefix_announced_everywhere, timeout, "the dmux-prefix at every upstream")
            wait_for(self.mesh_full, timeout, "the gateway mesh")
            self.log("dmux-provider at r1, r2 ...")
            for r in T.ROUTERS:
                self.start_router(r)
            self.log("dmux-mcast at m1, m2 ...")
            for m in T.MCAST_ROUTERS:
                self.start_mcast_router(m)
            if self.bins.has_rendezvous:
                self.log("rendezvous-router at v1, v2 ...")
                for v in T.RV_ROUTERS:
                    self.start_rv_router(v)
            wait_for(self.routers_registered, timeout, "all routers registered at all gateways")
            wait_for(lambda: self.return_router() == T.ROUTERS[0], timeout,
                     f"s6 to route the client prefix to {T.ROUTERS[0]} (BGP)")
            self.log("dmux-client at c1, c2 ...")
            for c in T.CLIENTS:
                self.start_client(c)
            wait_for(lambda: all(self.client_ready(c) for c in T.CLIENTS), timeout,
                     "both clients to get their return tokens and an IPv6 address")
        except BaseException as e:
            self.log(f"lab up failed: {e}\n  logs: {T.STATE_DIR}/*/*.log  (tear down: "
                     f"python3 deploy/lab/lab.py down)")
            raise
        took = time.time() - start
        self._t0 = None
        self.log(f"lab up in {took:.1f} s\n")
        self.status(out=self.verbose)
        return took

    def down(self, quiet=False):
        """Stop everything and remove namespaces, FRR run dirs and the state directory.
        Idempotent."""
        procs = [(n, name) for n in T.NODES
                 for name in ("client", "provider", "mcast", "rendezvous", "healthcheck", "dmuxd")]
        self._parallel(lambda f: f(), [lambda: D.stop_many(procs, timeout=5),
                                       lambda: frr.stop([T.ns(n) for n in T.UPSTREAMS +
                                                         T.GATEWAYS + T.PROVIDER_FRR])])
        for ns in netns.existing():
            netns.delete(ns)
            shutil.rmtree(frr.run_dir(ns), ignore_errors=True)
        shutil.rmtree(T.STATE_DIR, ignore_errors=True)
        if not quiet:
            self.log("lab is down")

    def healthy(self):
        """True if every namespace and every process of the lab exists and runs."""
        if sorted(netns.existing()) != sorted(T.ns(n) for n in T.NODES):
            return False
        if not all(frr.alive(T.ns(n)) for n in T.UPSTREAMS + T.GATEWAYS + T.PROVIDER_FRR):
            return False
        procs = [(g, "dmuxd") for g in T.GATEWAYS] + [(r, "provider") for r in T.ROUTERS] + \
                [(m, "mcast") for m in T.MCAST_ROUTERS] + [(c, "client") for c in T.CLIENTS] + \
                [(v, "rendezvous") for v in self.rv_routers()]
        return all(D.alive(n, name) for n, name in procs)

    @staticmethod
    def _parallel(f, args):
        """f(a) for each a in threads; re-raises the first error."""
        errors = []

        def call(a):
            try:
                f(a)
            except BaseException as e:  # reported below, in the caller's thread
                errors.append(e)
        threads = [threading.Thread(target=call, args=(a,)) for a in args]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def _make_credentials(self):
        ca = self.bins.ca
        netns.sh(ca, "init", "--dir", self.ca_dir, "--name", "IPdmux lab CA")
        netns.sh(ca, "issue-provider", "--dir", self.ca_dir, "--provider-id", T.PROVIDER_ID,
                 "--protocols", "ipv6", "--out", os.path.join(self.ca_dir, "provider"))
        netns.sh(ca, "issue-provider", "--dir", self.ca_dir, "--provider-id",
                 T.MCAST_PROVIDER_ID, "--protocols", "ipv4-multicast",
                 "--out", os.path.join(self.ca_dir, "mcast"))
        with open(os.path.join(self.ca_dir, "mcast-peer.key"), "w") as f:
            f.write(os.urandom(32).hex() + "\n")  # the multicast provider's shared secret
        netns.sh(ca, "issue-provider", "--dir", self.ca_dir, "--provider-id", T.RV_PROVIDER_ID,
                 "--protocols", T.RV_PROTO, "--out", os.path.join(self.ca_dir, "rendezvous"))
        with open(os.path.join(self.ca_dir, "rendezvous-peer.key"), "w") as f:
            f.write(os.urandom(32).hex() + "\n")  # the rendezvous provider's shared secret
        with open(os.path.join(self.ca_dir, "health.key"), "w") as f:
            f.write(os.urandom(32).hex() + "\n")  # dmuxd <-> dmux-healthcheck probes
        for i in T.INDEXES:
            netns.sh(ca, "issue-gateway", "--dir", self.ca_dir, "--gateway-id",
                     T.gateway_unicast(i), "--out", os.path.join(self.ca_dir, f"g{i}"))

    # ---- helpers for tests and benchmarks -----------------------------------------------------

    def run(self, node, *cmd, check=False, timeout=60):
        """Run a command in node's namespace; subprocess.CompletedProcess (text)."""
        return netns.sh(*cmd, node=node, check=check, timeout=timeout)

    def popen(self, node, *cmd, **kwargs):
        """Start a command in node's namespace without waiting (subprocess.Popen)."""
        return subprocess.Popen(["ip", "netns", "exec", T.ns(node)] + [str(c) for c in cmd],
                                **kwargs)

    def vtysh(self, node, command, json_out=False):
        """A vtysh command in an upstream's or gateway's FRR; parsed JSON if json_out."""
        return frr.vtysh(T.ns(node), command, json_out)

    def start_frr(self, node):
        log_file = os.path.join(T.STATE_DIR, "frr", node, "frr.log")
        if node in T.GATEWAYS:
            conf = frr.gateway_config(node, log_file)
        elif node in T.ROUTERS:
            conf = frr.provider_router_config(node, log_file)
        elif node == T.SERVER:
            conf = frr.provider_core_config(log_file)
        else:
            conf = frr.upstream_config(node, log_file)
        frr.start(T.ns(node), conf, os.path.dirname(log_file))

    def stop_frr(self, node):
        frr.stop(T.ns(node))

    def start_gateway(self, i, extra_args=(), wait=True):
        """Start dmuxd at gateway i (1..3). With
        `wait`, returns once its control socket answers. Returns the dmuxd pid."""
        g = f"g{i}"
        sock = D.control_socket(g)
        if os.path.exists(sock):
            os.unlink(sock)
        pid = D.start(g, "dmuxd", D.dmuxd_cmd(self.bins, i, self.ca_dir,
                                              extra_args))
        if not D.alive(g, "healthcheck"):  # outlives dmuxd restarts, like a separate unit
            D.start(g, "healthcheck", D.healthcheck_cmd(self.bins, i, self.ca_dir))
        if wait:
            wait_for(lambda: not D.alive(g, "dmuxd") or self._answers(sock), 10,
                     f"dmuxd at {g} to answer")
            if not D.alive(g, "dmuxd"):
                raise RuntimeError(f"dmuxd at {g} exited; see {D.node_dir(g)}/dmuxd.log")
        return pid

    @staticmethod
    def _answers(sock):
        try:
            D.request(sock, "status", timeout=1)
            return True
        except (OSError, ValueError):
            return False

    def kill_gateway(self, i, sig=signal.SIGKILL):
        """Signal dmuxd at gateway i (default SIGKILL) and wait until it is gone. Returns the
        time.time() at which the signal was sent."""
        g = f"g{i}"
        sent = D.stop(g, "dmuxd", sig=sig)
        return sent

    def restart_gateway(self, i, extra_args=()):
        self.kill_gateway(i, signal.SIGTERM)
        return self.start_gateway(i, extra_args)

    def gateway_alive(self, i):
        return D.alive(f"g{i}", "dmuxd")

    def start_router(self, r):
        return D.start(r, "provider", D.provider_cmd(self.bins, r, self.ca_dir))

    def stop_router(self, r, sig=signal.SIGTERM):
        return D.stop(r, "provider", sig=sig)

    def start_mcast_router(self, m):
        """Start dmux-mcast in m1 or m2 (returns its pid)."""
        return D.start(m, "mcast", D.mcast_cmd(self.bins, m, self.ca_dir))

    def stop_mcast_router(self, m, sig=signal.SIGTERM):
        return D.stop(m, "mcast", sig=sig)

    def rv_routers(self):
        """The rendezvous routers this lab runs: v1, v2 if rendezvous-router is built."""
        return T.RV_ROUTERS if self.bins.has_rendezvous else []

    def start_rv_router(self, v):
        """Start rendezvous-router in v1 or v2 (returns its pid)."""
        return D.start(v, "rendezvous", D.rendezvous_cmd(self.bins, v, self.ca_dir))

    def start_client(self, c):
        """Start dmux-client in c1 or c2 (returns its pid; the address comes a bit later)."""
        return D.start(c, "client", D.client_cmd(self.bins, c))

    def stop_client(self, c, sig=signal.SIGTERM):
        D.stop(c, "client", sig=sig)
        if sig == signal.SIGKILL:
            self.run(c, self.bins.client, "--cleanup")

    def ctl(self, node, command="status"):
        """The JSON reply of a control socket: dmuxd (g1..g3: status, routers, peers, drain,
        undrain), dmux-provider (r1, r2: status) or dmux-client (c1, c2: status)."""
        return D.request(D.control_socket(node), command)

    def dmuxctl(self, i, *args):
        """Run the real dmuxctl against gateway i; its stdout."""
        return subprocess.run([self.bins.dmuxctl, "--socket", D.control_socket(f"g{i}")] +
                              list(args), capture_output=True, text=True, timeout=10).stdout

    def client_address(self, c):
        """The IPv6 address dmux-client in c got from the provider, '' if none (yet)."""
        try:
            return self.ctl(c)["address"]
        except (OSError, ValueError, KeyError):
            return ""

    def client_tokens(self, c):
        """{protocol: True if dmux-client in c holds its return token for it} ({} if it does not
        answer). A client tunnels a protocol only once it has that protocol's token (and joins
        multicast groups only once it has the ipv4-multicast one)."""
        try:
            return {s["protocol"]: s["return_token"]["have_token"]
                    for s in self.ctl(c)["selectors"]}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def client_ready(self, c):
        """True once dmux-client in c has a return token for every protocol it captures and an
        IPv6 address: from then on its IPv6 and multicast traffic is tunnelled."""
        tokens = self.client_tokens(c)
        return bool(tokens) and all(tokens.values()) and bool(self.client_address(c))

    def best_path(self, node, prefix=T.DMUX_PREFIX):
        """Best BGP path at an upstream/gateway: {nexthop, aspath, community, locpref} or None."""
        return frr.best_path(T.ns(node), prefix)

    def fib_nexthop(self, node, dest=T.ANYCAST_DATA):
        """The next hop the kernel of `node` uses towards `dest` ('' if none)."""
        r = subprocess.run(["ip", "-n", T.ns(node), "route", "get", dest], capture_output=True,
                           text=True, timeout=10)
        words = r.stdout.split()
        return words[words.index("via") + 1] if "via" in words else ""

    def entry_pop(self, node):
        """The gateway at which traffic from `node` (an upstream, a client or a router) to the
        anycast addresses enters: follows the kernel's forwarding tables (what packets really
        do) hop by hop from the node's upstream. None if there is no route."""
        u = T.ATTACHED.get(node, node)
        owner = {a: n for link in T.LINKS for n, a in ((link[0], link[2]), (link[3], link[5]))}
        for _ in range(len(T.UPSTREAMS)):
            nxt = owner.get(self.fib_nexthop(u))
            if nxt in T.GATEWAYS or nxt is None:
                return nxt
            u = nxt
        return None

    # ---- readiness ----------------------------------------------------------------------------

    def bgp_established(self):
        for n, family in [(n, "ipv4") for n in T.UPSTREAMS + T.GATEWAYS] + \
                [(n, "ipv6") for n in T.PROVIDER_FRR]:
            up, total = frr.established(T.ns(n), family)
            if total == 0 or len(up) != total:
                return False
        return True

    def return_router(self):
        """The router s6's kernel sends replies to the client prefix through ('r1', 'r2'), or
        None if it has no route (no agent runs)."""
        r = subprocess.run(["ip", "-n", T.ns(T.SERVER), "-6", "route", "get",
                            T.CLIENT_PREFIX.split("/")[0] + "1"], capture_output=True, text=True,
                           timeout=10)
        words = r.stdout.split()  # the next hop may be the router's link-local address
        dev = words[words.index("dev") + 1] if "dev" in words else ""
        return next((x for x in T.ROUTERS if dev == T.dev(T.SERVER, x)), None)

    def unicast_routed(self):
        """Every upstream routes every gateway's unicast /32; every gateway has its default."""
        return all(self.best_path(u, T.gateway_unicast(j) + "/32")
                   for u in T.UPSTREAMS for j in T.INDEXES) and \
            all(self.best_path(g, "0.0.0.0/0") for g in T.GATEWAYS)

    def prefix_announced_everywhere(self):
        """Each upstream has its own gateway's path to the dmux-prefix, and forwards to it."""
        return all(self.announces(i) and self.entry_pop(T.UPSTREAMS[i - 1]) == T.GATEWAYS[i - 1]
                   for i in T.INDEXES)

    def announces(self, i):
        """True if upstream ui has a path to the dmux-prefix from gateway gi."""
        u, g = T.UPSTREAMS[i - 1], T.GATEWAYS[i - 1]
        try:
            r = self.vtysh(u, f"show bgp ipv4 unicast {T.DMUX_PREFIX}", json_out=True)
        except (RuntimeError, ValueError):
            return False
        return any(h.get("ip") == T.addr(g, u) for p in r.get("paths", [])
                   for h in p.get("nexthops", []))

    def mesh_full(self):
        try:
            return all(sum(p["state"] == "up" for p in self.ctl(g, "peers")["peers"]) == 2
                       for g in T.GATEWAYS)
        except (OSError, ValueError, KeyError):
            return False

    def routers_registered(self):
        try:
            for r in T.ROUTERS + T.MCAST_ROUTERS + self.rv_routers():
                reg = self.ctl(r)["registrations"][0]
                if reg["state"] != "registered":
                    return False
            want = {f"{T.router_v4(r)}:{T.ROUTER_PORT}" for r in T.ROUTERS} | \
                {f"{T.mcast_v4(m)}:{T.ROUTER_PORT}" for m in T.MCAST_ROUTERS} | \
                {f"{T.rv_v4(v)}:{T.ROUTER_PORT}" for v in self.rv_routers()}
            return all(want <= {x["address"] for x in self.ctl(g, "routers")["routers"]}
                       for g in T.GATEWAYS)
        except (OSError, ValueError, KeyError, IndexError):
            return False

    # ---- reports ------------------------------------------------------------------------------

    def status(self, out=True):
        """Print (if `out`) and return the lab's state as a dict (see report.py)."""
        return report.status(self, out)

    def demo(self, count=5):
        """ping6 c1->s6, c2->s6, c1->c2; print which PoP and router each used. Returns the
        results; raises if a ping failed."""
        wait_for(lambda: all(self.client_ready(c) for c in T.CLIENTS), 30,
                 "both clients to hold their return tokens and an IPv6 address")
        return report.demo(self, count)


def main():
    ap = argparse.ArgumentParser(description="IPdmux multi-PoP lab in network namespaces")
    ap.add_argument("command", choices=["up", "status", "demo", "down"])
    ap.add_argument("--build-dir", default=None,
                    help="build directory with the binaries (default: build at the repo root)")
    args = ap.parse_args()
    build_dir = args.build_dir
    if build_dir is None and args.command != "up":
        try:
            with open(os.path.join(T.STATE_DIR, "build-dir")) as f:
                build_dir = f.read().strip()
        except OSError:
            pass
    lab = Lab(build_dir)
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")
    if args.command == "up":
        lab.up()
    elif args.command == "down":
        lab.down()
    else:
        if not lab.healthy():
            raise SystemExit("the lab is not (fully) up: python3 deploy/lab/lab.py up")
        if args.command == "status":
            lab.status()
        else:
            lab.demo()


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        raise SystemExit(f"lab: {e}")
