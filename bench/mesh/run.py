#!/usr/bin/env python3
"""Scale benchmark of the gateway mesh (issue 5): N real dmuxd processes on loopback in a full mesh.

For each size N (default 8, 16, 32) it starts N meshed gateways (127.0.1.1 .. 127.0.1.N, each
with its own dmux-ca gateway credential, all seeded with gateway 1 only), then measures

  * convergence: a REGISTER for a new router is sent to a random gateway, and every gateway's
    forwarding table (`dmuxctl --json routers`) is polled until the router is there; the time
    until *every* gateway has it is the convergence time (p50/p99 over many registrations);
  * the reference, measured in the same loop on the same registrations: the time until the
    *origin* gateway itself shows the router (local registration latency, same poller, so the
    ratio convergence/local is what the mesh adds, in units of what a registration costs anyway);
  * mesh traffic per gateway (`dmuxctl --json peers`, counters.bytes_in/bytes_out) at rest and
    under churn (new registrations at random gateways at --churn-rate per second).

It fits per-gateway bytes/s and convergence time against N and extrapolates to 500 PoPs.
Only the CLIs (dmuxd, dmuxctl, dmux-ca), the control socket and REGISTER datagrams are used; no
KEEPALIVE is ever sent (the hold time is long enough for the whole run). Every process and
temporary directory is removed on any exit.

  BUILD_DIR=build python3 bench/mesh/run.py [--sizes 8,16,32] [--quick] [--json FILE]
"""
import argparse
import ctypes
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(REPO, "build")))
DMUXD = os.path.join(BUILD_DIR, "gateway", "dmuxd")
DMUXCTL = os.path.join(BUILD_DIR, "dmuxctl", "dmuxctl")
DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux import control, crypto, proc, registration, wire  # noqa: E402
from ipdmux.stats import percentile  # noqa: E402  (path set just above)

PROVIDER_ID = 7
IPV6 = 1
ROUTER_BASE = (127 << 24) | (9 << 16)  # routers are named 127.9.x.y:port; only their registrations come from them
PDEATHSIG = 1  # PR_SET_PDEATHSIG


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _die_with_parent():
    """In the child before exec: get SIGKILL if the benchmark itself is killed (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass




def ctl_raw(sock_path, command, timeout=5.0):
    """One control request, as `dmuxctl --json COMMAND` makes it: the raw reply. Used for the hot
    polling loop, where starting a dmuxctl process per query (~5-10 ms on this machine) would
    dominate."""
    return control.request(sock_path, command, timeout)


def dmuxctl_json(sock_path, command):
    r = subprocess.run([DMUXCTL, "--socket", sock_path, "--json", command], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError(f"dmuxctl {command}: {r.stderr.strip()}")
    return json.loads(r.stdout)


# ---------------------------------------------------------------- REGISTER (protocol.md 9)

class Registrar:
    """Registers routers the way an agent does (COOKIE_REQUEST -> COOKIE -> REGISTER, protocol.md
    9), with tests/pylib's independent implementation. A REGISTER names its source address, so each
    router's socket is bound to the router's own 127.9.x.y:port. The cookie round trip and the
    signature happen before any timer starts; only the REGISTER is timed."""

    backend = "python-cryptography"

    def __init__(self, cred_prefix):
        self.provider = registration.Provider(cred_prefix)

    def prepare(self, gateway, ip, port):
        """(agent, REGISTER bytes) for router ip:port at `gateway`, or None when the name is taken
        or the gateway gave no cookie. The caller closes agent."""
        addr = wire.ip_str(ip)
        try:
            agent = registration.Agent((gateway.addr, gateway.reg_port), self.provider,
                                       bind=(addr, port), provider_id=PROVIDER_ID, timeout=2.0)
        except OSError:
            return None
        cookie = agent.cookie()
        if cookie is None:
            agent.close()
            return None
        return agent, agent.register_msg(cookie, crypto.X25519())


def ack_accepted(reply):
    return (len(reply) >= 2 and reply[1] == wire.REGISTER_ACK
            and wire.parse_register_ack(reply)["result"] == 0)


class RouterNames:
    """A fresh (address, port) per registration, so replay protection never interferes."""

    def __init__(self):
        self.n = 0

    def next(self):
        i = self.n
        self.n += 1
        ip = ROUTER_BASE + 1 + i // 60000
        port = 1024 + i % 60000
        return ip, port, f'"{wire.ip_str(ip)}:{port}"'.encode()


# ---------------------------------------------------------------- processes and cleanup

class Gateway:
    def __init__(self, index, ca_dir, cred_prefix, workdir, probe_ms):
        self.index = index
        self.addr = f"127.0.1.{index + 1}"
        self.gateway_id = self.addr
        self.reg_port = proc.free_udp_port(self.addr)
        self.mesh_port = proc.free_tcp_port(self.addr)
        self.data_port = proc.free_udp_port(self.addr)
        self.control = os.path.join(workdir, f"gw{index + 1}.sock")
        self.log_path = os.path.join(workdir, f"gw{index + 1}.log")
        self.args = [
            DMUXD, "--workers", "1", "--metrics-listen", "off", "--control-socket", self.control,
            "--log-level", "warn",
            "--listen", f"{self.addr}:{self.data_port}", "--gateway-id", self.gateway_id,
            "--registration-listen", f"{self.addr}:{self.reg_port}",
            "--ca-cert", os.path.join(ca_dir, "ca.crt"),
            "--registration-rate", "100000", "--registration-burst", "100000",
            "--max-routers", "1000000", "--max-routers-per-provider", "1000000",
            "--hold-time-ms", "600000", "--keepalive-interval-ms", "300000",
            "--mesh-listen", f"{self.addr}:{self.mesh_port}",
            "--mesh-cert", cred_prefix + ".crt", "--mesh-key", cred_prefix + ".key",
            "--mesh-probe-interval-ms", str(probe_ms)]
        self.proc = None
        self.logf = None

    @property
    def mesh_endpoint(self):
        return f"{self.addr}:{self.mesh_port}"

    def start(self, seeds):
        self.logf = open(self.log_path, "w")
        args = list(self.args)
        for s in seeds:
            args += ["--mesh-peer", s]
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)

    def log_tail(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"dmuxd {self.addr} exited with {self.proc.returncode}:\n"
                               + self.log_tail())
        if not os.path.exists(self.control):
            return False
        try:
            ctl_raw(self.control, "status", timeout=1)
            return True
        except OSError:
            return False

    def up_peers(self):
        doc = json.loads(ctl_raw(self.control, "peers"))
        return sum(1 for p in doc["peers"] if p["state"] == "up")


class Processes:
    """Every process and directory this run made; stop_all() is idempotent and runs on any exit."""

    def __init__(self):
        self.gateways = []
        self.dirs = []

    def stop_gateways(self):
        gws, self.gateways = self.gateways, []
        for g in gws:
            if g.proc is not None and g.proc.poll() is None:
                g.proc.terminate()
        deadline = time.time() + 5
        for g in gws:
            if g.proc is None:
                continue
            try:
                g.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                g.proc.kill()
                g.proc.wait()
            if g.logf:
                g.logf.close()

    def stop_all(self):
        self.stop_gateways()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.dirs = []


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------- measurements



def mesh_bytes(gws):
    """(time, bytes_in, bytes_out) per gateway, each read with `dmuxctl --json peers`."""
    out = []
    for g in gws:
        c = dmuxctl_json(g.control, "peers")["counters"]
        out.append((time.monotonic(), c["bytes_in"], c["bytes_out"]))
    return out


def rates(before, after):
    """Per gateway (in+out bytes/s, out bytes/s), each over its own read interval."""
    res = []
    for (t0, i0, o0), (t1, i1, o1) in zip(before, after):
        dt = t1 - t0
        res.append(((i1 - i0 + o1 - o0) / dt, (o1 - o0) / dt))
    return res


def wait_full_mesh(gws, timeout):
    n = len(gws)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(g.up_peers() == n - 1 for g in gws):
            return True
        time.sleep(0.1)
    return False


def measure_convergence(gws, registrar, names, count, rng, timeout=10.0):
    local, full, acks, rounds, queries, query_time = [], [], [], 0, 0, 0.0
    n = len(gws)
    failures = 0
    for _ in range(count):
        origin = rng.randrange(n)
        ip, port, needle = names.next()
        prepared = registrar.prepare(gws[origin], ip, port)
        if prepared is None:
            failures += 1
            log(f"  router {needle.decode()}: no cookie from gateway {origin + 1} (or name taken)")
            continue
        agent, msg = prepared
        sock = agent.sock
        sock.setblocking(False)
        # The origin alone until it shows the router (resolution: one query), then rounds over the
        # others in a shuffled order, each round visiting every gateway that has not shown it yet
        # (resolution: one round, reported). The mesh UPDATE leaves the origin only once the
        # registration is accepted there, so nothing is missed while the origin is polled alone.
        others = [i for i in range(n) if i != origin]
        rng.shuffle(others)
        pending = [origin]
        seen = {}
        ack_at = None
        t0 = time.perf_counter()
        sock.sendto(msg, agent.gateway)
        while (pending or others) and time.perf_counter() - t0 < timeout:
            if not pending:
                pending, others = others, []
            still = []
            for i in pending:
                q0 = time.perf_counter()
                reply = ctl_raw(gws[i].control, "routers")
                q1 = time.perf_counter()
                queries += 1
                query_time += q1 - q0
                if needle in reply:
                    seen[i] = q1 - t0
                else:
                    still.append(i)
            pending = still
            rounds += 1
            if ack_at is None:
                try:
                    ack = sock.recv(2048)
                    ack_at = time.perf_counter() - t0
                    if not ack_accepted(ack):
                        raise RuntimeError(f"REGISTER refused: {ack[:8].hex()}")
                except BlockingIOError:
                    pass
        agent.close()
        if pending or others:
            failures += 1
            log(f"  router {needle.decode()} missing at {len(pending) + len(others)} gateways "
                f"after {timeout}s")
            continue
        local.append(seen[origin])
        full.append(max(seen.values()))
        if ack_at is not None:
            acks.append(ack_at)
        time.sleep(0.02 + rng.random() * 0.03)  # let the mesh go quiet between registrations
    return {"local_s": local, "all_s": full, "ack_s": acks, "failures": failures,
            "mean_query_s": query_time / max(1, queries),
            "mean_round_all_gateways_s": query_time / max(1, queries) * n}


def churn(gws, registrar, names, rate, stop, counter, rng):
    """New registrations at random gateways, `rate` per second, until `stop` is set. Each costs
    a cookie round trip before its REGISTER, as for a real agent."""
    t_next = time.monotonic()
    while not stop.is_set():
        g = gws[rng.randrange(len(gws))]
        ip, port, _ = names.next()
        prepared = registrar.prepare(g, ip, port)
        if prepared is not None:
            agent, msg = prepared
            agent.sock.sendto(msg, agent.gateway)
            counter[0] += 1
            agent.close()  # the ACK is not needed; the mesh traffic it causes is what is measured
        t_next += 1.0 / rate
        delay = t_next - time.monotonic()
        if delay > 0:
            stop.wait(delay)


def run_size(n, args, procs, ca_dir, creds, registrar, names, rng):
    workdir = tempfile.mkdtemp(prefix=f"dmux-bench-mesh-{n}-")
    procs.dirs.append(workdir)
    gws = [Gateway(i, ca_dir, creds[i], workdir, args.probe_interval_ms) for i in range(n)]
    procs.gateways = gws
    t_start = time.monotonic()
    # One at a time, each after the previous answers its control socket plus --stagger-ms.
    deadline = time.monotonic() + 60
    for g in gws:
        g.start([gws[0].mesh_endpoint] if g is not gws[0] else [])
        while not g.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dmuxd {g.addr} not ready:\n{g.log_tail()}")
            time.sleep(0.02)
        time.sleep(args.stagger_ms / 1000)
    for g in gws:
        while not g.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dmuxd {g.addr} not ready:\n{g.log_tail()}")
            time.sleep(0.05)
    if not wait_full_mesh(gws, 60):
        raise RuntimeError("no full mesh: " + ", ".join(f"{g.addr}={g.up_peers()}" for g in gws))
    t_mesh = time.monotonic() - t_start
    log(f"[{n}] full mesh ({n * (n - 1) // 2} links) {t_mesh:.1f} s after start")
    time.sleep(args.settle)

    before = mesh_bytes(gws)
    time.sleep(args.rest_seconds)
    rest = rates(before, mesh_bytes(gws))
    log(f"[{n}] at rest: {statistics.mean(r[0] for r in rest):.0f} B/s per gateway (in+out)")

    conv = measure_convergence(gws, registrar, names, args.registrations, rng)
    log(f"[{n}] convergence p50 {percentile(conv['all_s'], 50) * 1e3:.1f} ms, "
        f"local p50 {percentile(conv['local_s'], 50) * 1e3:.1f} ms")

    stop = threading.Event()
    sent = [0]
    th = threading.Thread(target=churn, args=(gws, registrar, names, args.churn_rate, stop, sent,
                                              random.Random(rng.random())), daemon=True)
    th.start()
    time.sleep(1.0)
    sent0 = sent[0]
    before = mesh_bytes(gws)
    t0 = time.monotonic()
    time.sleep(args.churn_seconds)
    after = mesh_bytes(gws)
    achieved = (sent[0] - sent0) / (time.monotonic() - t0)
    stop.set()
    th.join()
    under = rates(before, after)
    log(f"[{n}] churn at {achieved:.1f} reg/s: {statistics.mean(r[0] for r in under):.0f} B/s "
        f"per gateway (in+out)")
    procs.stop_gateways()

    def ms(xs, p):
        return percentile(xs, p) * 1e3

    rest_io = [r[0] for r in rest]
    churn_io = [r[0] for r in under]
    return {
        "gateways": n, "links": n * (n - 1) // 2, "mesh_formed_s": t_mesh,
        "registrations": len(conv["all_s"]), "failures": conv["failures"],
        "all_p50_ms": ms(conv["all_s"], 50), "all_p99_ms": ms(conv["all_s"], 99),
        "local_p50_ms": ms(conv["local_s"], 50), "local_p99_ms": ms(conv["local_s"], 99),
        "ack_p50_ms": ms(conv["ack_s"], 50),
        "ratio_p50": percentile(conv["all_s"], 50) / percentile(conv["local_s"], 50),
        "ratio_p99": percentile(conv["all_s"], 99) / percentile(conv["local_s"], 99),
        "poll_query_ms": conv["mean_query_s"] * 1e3,
        "poll_round_ms": conv["mean_round_all_gateways_s"] * 1e3,
        "rest_Bps_per_gw": statistics.mean(rest_io), "rest_Bps_per_gw_max": max(rest_io),
        "rest_out_Bps_per_gw": statistics.mean(r[1] for r in rest),
        "churn_rate": achieved,
        "churn_Bps_per_gw": statistics.mean(churn_io), "churn_Bps_per_gw_max": max(churn_io),
        "churn_out_Bps_per_gw": statistics.mean(r[1] for r in under),
        "churn_extra_B_per_reg_per_gw": (statistics.mean(churn_io) - statistics.mean(rest_io))
        / achieved if achieved > 0 else float("nan"),
        "rest_Bps_total": sum(r[1] for r in rest),
    }


# ---------------------------------------------------------------- fits

def linfit(xs, ys):
    """Least squares y = a + b x."""
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b


def predict(results, pops):
    xs = [r["gateways"] for r in results]
    out = {}
    if len(set(xs)) < 2:
        return out
    for key in ("all_p50_ms", "all_p99_ms", "ratio_p50", "rest_Bps_per_gw", "churn_Bps_per_gw",
                "churn_extra_B_per_reg_per_gw"):
        a, b = linfit(xs, [r[key] for r in results])
        out[key] = {"a": a, "b_per_gateway": b, "at": pops, "predicted": a + b * pops}
    # Per-gateway rest traffic is linear in the number of peers (N-1 links, one probe and one reply
    # each way per interval), so the whole mesh's is quadratic: N * (a + b N).
    a, b = out["rest_Bps_per_gw"]["a"], out["rest_Bps_per_gw"]["b_per_gateway"]
    out["rest_Bps_total"] = {"model": "N*(a+b*N)", "at": pops, "predicted": pops * (a + b * pops)}
    # Per peer link, per direction: what one link costs at rest.
    per_link = [r["rest_out_Bps_per_gw"] / (r["gateways"] - 1) for r in results]
    out["rest_out_Bps_per_link"] = statistics.mean(per_link)
    return out


def print_table(results, pred, pops, probe_ms, backend):
    print()
    print(f"Gateway mesh scale benchmark (probe interval {probe_ms} ms, 1 worker per dmuxd, "
          f"signatures: {backend})")
    print("convergence = REGISTER sent -> router in the table of EVERY gateway; "
          "reference = -> router in the table of the origin gateway (same poller, same run)")
    hdr = (f"{'N':>3} {'links':>5} {'regs':>4} {'all p50':>8} {'all p99':>8} {'orig p50':>8} "
           f"{'orig p99':>8} {'x p50':>6} {'x p99':>6} {'poll/q':>6} {'round':>6} "
           f"{'rest B/s':>9} {'churn/s':>7} {'churn B/s':>9} {'B/reg':>6}")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        print(f"{r['gateways']:>3} {r['links']:>5} {r['registrations']:>4} "
              f"{r['all_p50_ms']:>6.1f}ms {r['all_p99_ms']:>6.1f}ms {r['local_p50_ms']:>6.1f}ms "
              f"{r['local_p99_ms']:>6.1f}ms {r['ratio_p50']:>5.1f}x {r['ratio_p99']:>5.1f}x "
              f"{r['poll_query_ms']:>4.2f}ms {r['poll_round_ms']:>4.1f}ms "
              f"{r['rest_Bps_per_gw']:>9.0f} {r['churn_rate']:>7.1f} {r['churn_Bps_per_gw']:>9.0f} "
              f"{r['churn_extra_B_per_reg_per_gw']:>6.0f}")
    print("(B/s = mesh frame bytes in+out per gateway, mean over gateways, from dmuxctl peers "
          "counters.bytes_in/bytes_out, i.e. above TLS; B/reg = extra bytes per gateway per "
          "registration under churn; poll/q = one control-socket query; round = one poll of all N)")
    if not pred:
        return
    print()
    print(f"Linear fits y = a + b*N and the prediction for N = {pops} PoPs:")
    labels = {"all_p50_ms": "convergence p50 (ms)", "all_p99_ms": "convergence p99 (ms)",
              "ratio_p50": "convergence/local p50 (x)", "rest_Bps_per_gw": "rest B/s per gateway",
              "churn_Bps_per_gw": "churn B/s per gateway",
              "churn_extra_B_per_reg_per_gw": "bytes per registration per gateway"}
    for k, lab in labels.items():
        p = pred[k]
        print(f"  {lab:<36} a={p['a']:>10.2f} b={p['b_per_gateway']:>9.3f}/gw  "
              f"-> {p['predicted']:>12.1f}")
    print(f"  {'rest B/s whole mesh (N*(a+bN))':<36} {'':>26}  -> "
          f"{pred['rest_Bps_total']['predicted']:>12.0f}")
    print(f"  rest: {pred['rest_out_Bps_per_link']:.0f} B/s out per peer link "
          f"(probe + reply each way per interval)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="8,16,32")
    ap.add_argument("--registrations", type=int, default=120, help="per size, for p50/p99")
    ap.add_argument("--rest-seconds", type=float, default=5.0)
    ap.add_argument("--churn-seconds", type=float, default=5.0)
    ap.add_argument("--churn-rate", type=float, default=20.0, help="registrations per second")
    ap.add_argument("--probe-interval-ms", type=int, default=1000, help="dmuxd's default")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after the mesh is full")
    ap.add_argument("--stagger-ms", type=float, default=150, help="between gateway starts")
    ap.add_argument("--pops", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="8 gateways, few registrations (CI)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.registrations = "8", 20
        args.rest_seconds = args.churn_seconds = 3.0
        args.settle = 1.0
    sizes = [int(s) for s in args.sizes.split(",")]
    if max(sizes) > 254 or min(sizes) < 2:
        ap.error("--sizes: each between 2 and 254")
    for b in (DMUXD, DMUXCTL, DMUX_CA):
        if not os.access(b, os.X_OK):
            sys.exit(f"missing {b}: build it (see bench/mesh/README.md) or set BUILD_DIR")

    procs = Processes()
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, _raise_exit)
    results = []
    try:
        cred_dir = tempfile.mkdtemp(prefix="dmux-bench-mesh-ca-")
        procs.dirs.append(cred_dir)
        ca_dir = os.path.join(cred_dir, "ca")
        proc.sh(DMUX_CA, "init", "--dir", ca_dir)
        prov = os.path.join(cred_dir, "provider")
        proc.sh(DMUX_CA, "issue-provider", "--dir", ca_dir, "--provider-id", str(PROVIDER_ID),
                "--protocols", "ipv6", "--out", prov)
        creds = []
        for i in range(max(sizes)):
            out = os.path.join(cred_dir, f"gw{i + 1}")
            proc.sh(DMUX_CA, "issue-gateway", "--dir", ca_dir, "--gateway-id",
                    f"127.0.1.{i + 1}", "--out", out)
            creds.append(out)
        registrar = Registrar(prov)
        names = RouterNames()
        rng = random.Random(args.seed)
        for n in sizes:
            results.append(run_size(n, args, procs, ca_dir, creds, registrar, names, rng))
        pred = predict(results, args.pops)
        print_table(results, pred, args.pops, args.probe_interval_ms, registrar.backend)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"sizes": results, "prediction": pred, "pops": args.pops,
                           "probe_interval_ms": args.probe_interval_ms,
                           "churn_rate_target": args.churn_rate,
                           "signature_backend": registrar.backend,
                           "reference": "local registration latency: REGISTER sent -> router in "
                                        "the origin gateway's table, same poller"}, f, indent=2)
    finally:
        procs.stop_all()
    failures = sum(r["failures"] for r in results)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
