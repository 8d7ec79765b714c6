#!/usr/bin/python3
"""A spoofed REGISTER flood against a real dmuxd with legitimate agents running (docs/protocol.md
9.6, issue 11): RATE spoofed REGISTERs a second (a genuine provider certificate, random cookie and
signature, 16,384 source addresses through a raw socket) for SECONDS, while AGENTS legitimate
agents register every second and keep alive every 200 ms. First a quiet phase of the same length
(agents only) for reference; last, the same rate from 1024 addresses that fetched real cookies
(random signatures), which only the per-source rate and the signature budget hold back. Prints,
per phase, the fraction of legitimate COOKIE_REQUESTs, REGISTERs and KEEPALIVEs answered (target
>= 99% under the spoofed flood; under the cookie-valid one, for keepalives: new REGISTERs then
compete with the flood for the signature budget and are retried) and the control thread's CPU time (from /proc/PID/task/PID/stat: dmuxd's main thread
serves registration), and in the flood phases its cost per flood datagram. Loopback only; needs
root (raw socket).

Usage: flood.py [--rate 40000] [--seconds 10] [--agents 20] [--quick]   (BUILD_DIR: build)"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(REPO, "build")))
os.environ["DMUX_BUILD_DIR"] = BUILD_DIR
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux.gateway_harness import Dmuxd, free_udp_port  # noqa: E402
from ipdmux import reg_flood, wire  # noqa: E402
from ipdmux.registration import BusyAgent, Credentials, Provider, totals  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def phase(d, gw, provider, n_agents, seconds, flood_cmd=None):
    stop = threading.Event()
    agents = [BusyAgent(gw, provider, f"127.0.5.{i + 1}", stop) for i in range(n_agents)]
    before = d.ctl("status")["registration"]
    cpu0, t0 = thread_cpu_s(d.proc.pid, d.proc.pid), time.monotonic()
    flood = subprocess.Popen(flood_cmd, stdout=subprocess.PIPE,
                             cwd=os.path.join(REPO, "tests", "pylib")) if flood_cmd else None
    try:
        for a in agents:
            a.start()
        if flood:
            out, _ = flood.communicate(timeout=seconds + 60)
            result = json.loads(out)
        else:
            time.sleep(seconds)
            result = {"sent": 0, "seconds": seconds}
    finally:
        stop.set()
        if flood and flood.poll() is None:
            flood.kill()
            flood.wait()
        for a in agents:
            a.join(timeout=5)
    cpu, wall = thread_cpu_s(d.proc.pid, d.proc.pid) - cpu0, time.monotonic() - t0
    after = d.ctl("status")["registration"]
    return result, totals(agents), cpu, wall, before, after


def cookies_for(gw, n):
    """(addr, port, cookie) for n real sources in 127.0.8.0/22 that asked for a cookie."""
    out = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((f"127.0.{8 + (i >> 8)}.{i & 255}", 0))
            s.settimeout(1.0)
            s.sendto(wire.cookie_request(i + 1), gw)
            c = wire.parse_cookie(s.recv(64))
            out.append((s.getsockname()[0], s.getsockname()[1], c["cookie"]))
        finally:
            s.close()
    return out


def report(name, result, answered, cpu, wall, before, after):
    print(f"{name}:")
    if result["sent"]:
        print(f"  flood REGISTERs sent        {result['sent']} in {result['seconds']:.1f} s "
              f"({result['sent'] / result['seconds']:.0f}/s)")
        for reason in ("bad_cookie", "rate_limited", "overloaded", "bad_signature"):
            n = after["registers"][reason] - before["registers"][reason]
            print(f"  refused as {reason:<16} {n}")
    for kind, (ok, sent) in answered.items():
        print(f"  legitimate {kind + 's':<16} {ok}/{sent} answered ({100.0 * ok / max(sent, 1):.2f}%)")
    print(f"  control thread CPU          {cpu:.2f} s in {wall:.1f} s ({100 * cpu / wall:.1f}% of a core)")
    if result["sent"]:
        print(f"  per flood datagram          {1e6 * cpu / result['sent']:.2f} us of control-thread CPU "
              f"(upper bound: includes the legitimate traffic)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=40000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="2 s phases, 5 agents (smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.agents = 2, 5
    cred = Credentials(os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca"), prefix="dmux-bench-reg-")
    tmp = tempfile.mkdtemp(prefix="dmux-bench-reg-")
    packets = os.path.join(tmp, "flood.bin")
    d = None
    try:
        good = Provider(cred.provider("good"))
        reg_port = free_udp_port()
        d = Dmuxd(["--listen", f"127.0.0.1:{free_udp_port()}", "--registration-listen",
                   f"127.0.0.1:{reg_port}", "--ca-cert", cred.ca_cert, "--gateway-id",
                   "198.18.0.1", "--keepalive-interval-ms", "1000", "--hold-time-ms", "5000"],
                  workers=1)
        gw = ("127.0.0.1", reg_port)
        reg_flood.write_packets(packets, reg_flood.spoofed_registers(
            good.der, wire.ip("198.18.0.1"), reg_port))
        print(f"registration under a spoofed flood: {args.agents} legitimate agents, "
              f"{args.seconds:.0f} s per phase, dmuxd {BUILD_DIR}/gateway/dmuxd")
        report("quiet (agents only)", *phase(d, gw, good, args.agents, args.seconds))
        flood_cmd = [sys.executable, "-m", "ipdmux.reg_flood", packets, str(args.rate),
                     str(args.seconds)]
        result, answered, *rest = phase(d, gw, good, args.agents, args.seconds, flood_cmd)
        report(f"spoofed flood ({args.rate:.0f} REGISTERs/s, random cookies)", result, answered,
               *rest)
        worst = min(ok / max(sent, 1) for ok, sent in answered.values())
        reg_flood.write_packets(packets, reg_flood.cookie_valid_registers(
            good.der, wire.ip("198.18.0.1"), reg_port, cookies_for(gw, 1024)))
        result2, answered2, *rest2 = phase(d, gw, good, args.agents, args.seconds, flood_cmd)
        report(f"cookie-valid flood ({args.rate:.0f} REGISTERs/s from 1024 real addresses)",
               result2, answered2, *rest2)
        # There the budget is spent by the flood: new REGISTERs compete for it (and are retried
        # by their agents), keepalives never do.
        ok, sent = answered2["keepalive"]
        keepalives2 = ok / max(sent, 1)
        print(json.dumps({"rate": result["sent"] / result["seconds"], "worst_answered": worst,
                          "answered": answered, "cookie_valid_keepalives_answered": keepalives2,
                          "cookie_valid_answered": answered2}))
        return 0 if worst >= 0.99 and keepalives2 >= 0.99 else 1
    finally:
        if d:
            d.stop()
        cred.close()
        if os.path.exists(packets):
            os.unlink(packets)
        os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(main())
