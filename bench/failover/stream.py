#!/usr/bin/env python3
"""A steady numbered UDP stream for failover measurements (stdlib only).

  stream.py send --to [2001:db8:200::1]:9000 --rate 100 --seconds 60 --log sent.txt
  stream.py recv --listen [::]:9000 --log received.txt
  stream.py send --to 239.1.1.1:9001 ...              (IPv4 multicast)
  stream.py recv --listen 0.0.0.0:9001 --group 239.1.1.1 --iface dmuxc0 --log received.txt

Each datagram carries (sequence number, CLOCK_MONOTONIC send time in ns), as tests/pylib's
ipdmux.probe.stamped lays them out. Network namespaces share CLOCK_MONOTONIC, so the sender's and
the receiver's times compare directly. The sender logs
"seq send_ns" and the receiver "seq send_ns recv_ns", one line per datagram, flushed every second,
so a reader can follow a run while it happens. SIGTERM ends either side cleanly.
"""
import argparse
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "pylib"))
from ipdmux import packets, probe  # noqa: E402  (stdlib only, like this file)


def parse_endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def send(args):
    host, port = parse_endpoint(args.to)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    interval = 1.0 / args.rate
    start = time.monotonic()
    end = start + args.seconds if args.seconds > 0 else float("inf")
    seq = 0
    with open(args.log, "w") as log:
        last_flush = start
        while True:
            now = time.monotonic()
            if now >= end or stop_requested:
                break
            due = start + seq * interval
            if now < due:
                time.sleep(min(due - now, 0.05))
                continue
            t = time.monotonic_ns()
            try:
                s.sendto(probe.stamped(seq, t, args.size), (host, port))
            except OSError:
                pass  # no route for a moment counts as a lost packet, not an error
            log.write(f"{seq} {t}\n")
            seq += 1
            if now - last_flush > 1:
                log.flush()
                last_flush = now


def recv(args):
    host, port = parse_endpoint(args.listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    if args.group:
        ifindex = socket.if_nametoindex(args.iface) if args.iface else 0
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     packets.ip_mreqn(args.group, ifindex))
    s.settimeout(0.2)
    with open(args.log, "w") as log:
        last_flush = time.monotonic()
        while not stop_requested:
            try:
                data = s.recv(2048)
            except socket.timeout:
                data = None
            now = time.monotonic()
            stamp = probe.stamp_of(data) if data is not None else None
            if stamp is not None:
                seq, sent = stamp
                log.write(f"{seq} {sent} {time.monotonic_ns()}\n")
            if now - last_flush > 0.5:
                log.flush()
                last_flush = now


stop_requested = False


def on_term(_signo, _frame):
    global stop_requested
    stop_requested = True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("--to", required=True)
    ps.add_argument("--rate", type=float, default=100)
    ps.add_argument("--seconds", type=float, default=0, help="0 = until SIGTERM")
    ps.add_argument("--size", type=int, default=64)
    ps.add_argument("--log", required=True)
    pr = sub.add_parser("recv")
    pr.add_argument("--listen", required=True)
    pr.add_argument("--log", required=True)
    pr.add_argument("--group", help="join this IPv4 multicast group")
    pr.add_argument("--iface", help="... on this interface (e.g. the client's dmuxc0)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    send(args) if args.mode == "send" else recv(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
