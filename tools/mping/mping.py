#!/usr/bin/env python3
"""Multicast ping in the paper's manner: the pinger joins group A and sends to group B; the
echoer joins group B and sends every probe it hears back to group A. Both are ordinary multicast
programs (IP_ADD_MEMBERSHIP, sendto a group): run them on hosts where dmux-client captures
ipv4-multicast and they talk through IPdmux without knowing it.

  mping.py echo --join 239.1.1.2 --send 239.1.1.1            # on host C2
  mping.py ping --join 239.1.1.1 --send 239.1.1.2 -c 10      # on host C1: prints RTTs

Probes are UDP datagrams to --port (default 9400) carrying (magic, run id, seq, send time); the
pinger ignores anything else, duplicates included (counted). The last line of `ping` is a summary
like ping(8)'s; with --json it is one JSON object instead. Exit status of `ping`: 0 if at least
one reply came back, 1 otherwise.
"""
import argparse
import json
import os
import socket
import statistics
import struct
import sys
import time

MAGIC = b"DMXP"
PROBE = struct.Struct("!4sIIQ")  # magic, run id, seq, send time (ns, CLOCK_MONOTONIC)


def member_socket(group, port, iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((group, port))
    mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(iface))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return s


def sender_socket(ttl, iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    if iface != "0.0.0.0":
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    return s


def echo(args):
    rx = member_socket(args.join, args.port, args.iface)
    tx = sender_socket(args.ttl, args.iface)
    print(f"mping echo: member of {args.join}, echoing to {args.send}:{args.port}", flush=True)
    while True:
        data, _ = rx.recvfrom(2048)
        if len(data) >= PROBE.size and data[:4] == MAGIC:
            tx.sendto(data, (args.send, args.port))


def ping(args):
    rx = member_socket(args.join, args.port, args.iface)
    tx = sender_socket(args.ttl, args.iface)
    run = int.from_bytes(os.urandom(4), "big")
    pad = b"\0" * max(0, args.size - PROBE.size)
    time.sleep(args.settle)  # let the IGMP report reach the overlay before the first probe
    rtts, seen, dups = {}, set(), 0
    if not args.json:
        print(f"MPING {args.send} (replies via {args.join}): {args.count} probes", flush=True)
    start = time.monotonic()
    for seq in range(args.count):
        due = start + seq * args.interval
        while True:
            wait = due - time.monotonic()
            if wait <= 0:
                break
            rx.settimeout(wait)
            try:
                data = rx.recv(2048)
            except socket.timeout:
                break
            dups += take(data, run, rtts, seen, args.json)
        tx.sendto(PROBE.pack(MAGIC, run, seq, time.monotonic_ns()) + pad, (args.send, args.port))
    end = time.monotonic() + args.timeout
    while time.monotonic() < end and len(seen) < args.count:
        rx.settimeout(max(0.001, end - time.monotonic()))
        try:
            data = rx.recv(2048)
        except socket.timeout:
            break
        dups += take(data, run, rtts, seen, args.json)
    values = [rtts[s] for s in sorted(rtts)]
    summary = {"sent": args.count, "received": len(values), "duplicates": dups,
               "loss": 1 - len(values) / args.count if args.count else 0.0}
    if values:
        summary.update(min_ms=min(values), avg_ms=statistics.fmean(values),
                       p50_ms=statistics.median(values), max_ms=max(values))
    if args.json:
        print(json.dumps(summary))
    else:
        line = (f"--- {args.send} mping statistics: {args.count} sent, {len(values)} received, "
                f"{summary['loss'] * 100:.0f}% loss, {dups} duplicates")
        if values:
            line += (f"; rtt min/avg/p50/max = {summary['min_ms']:.3f}/{summary['avg_ms']:.3f}/"
                     f"{summary['p50_ms']:.3f}/{summary['max_ms']:.3f} ms")
        print(line)
    return 0 if values else 1


def take(data, run, rtts, seen, quiet):
    """Records a reply; returns 1 if it was a duplicate."""
    now = time.monotonic_ns()
    if len(data) < PROBE.size:
        return 0
    magic, r, seq, sent = PROBE.unpack_from(data)
    if magic != MAGIC or r != run:
        return 0
    if seq in seen:
        return 1
    seen.add(seq)
    rtts[seq] = (now - sent) / 1e6
    if not quiet:
        print(f"reply seq={seq} rtt={rtts[seq]:.3f} ms", flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("ping", "echo"):
        s = sub.add_parser(name)
        s.add_argument("--join", required=True, help="group to join (replies/probes arrive here)")
        s.add_argument("--send", required=True, help="group to send to")
        s.add_argument("--port", type=int, default=9400)
        s.add_argument("--iface", default="0.0.0.0",
                       help="local address of the interface to use (default: by route)")
        s.add_argument("--ttl", type=int, default=1)
    pp = sub.choices["ping"]
    pp.add_argument("-c", "--count", type=int, default=10)
    pp.add_argument("-i", "--interval", type=float, default=0.2, help="seconds between probes")
    pp.add_argument("-s", "--size", type=int, default=64, help="probe payload bytes")
    pp.add_argument("--timeout", type=float, default=2.0, help="seconds to wait after the last")
    pp.add_argument("--settle", type=float, default=0.5,
                    help="seconds between joining and the first probe")
    pp.add_argument("--json", action="store_true", help="print one JSON summary only")
    args = p.parse_args()
    try:
        return ping(args) if args.mode == "ping" else echo(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
