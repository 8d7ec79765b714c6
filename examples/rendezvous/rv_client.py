#!/usr/bin/python3
"""The rendezvous protocol's client programs (README.md), in the manner of i3's
recv-private-trigger and send-private-trigger. They speak the protocol themselves through the
SDK's client helper (ipdmux_sdk.Client: TOKEN_REQUEST, DATA with the return token, RETURNs checked
against it) straight to a gateway's data address: no dmux-client, TUN device or root needed.

  rv_client.py recv   --gateway 198.18.0.1:4500 --id NAME [--lifetime 30] [--count N]
                      [--timeout S] [--no-refresh]     insert a trigger, print what arrives
  rv_client.py send   --gateway 198.18.0.1:4500 --id NAME --message TEXT [--count N]
                      [--interval S]                   send to an id
  rv_client.py insert --gateway ... --id NAME [--lifetime 30]   insert once, print the ACK
  rv_client.py remove --gateway ... --id NAME                  remove this socket's trigger

NAME is 32 hex digits (a private trigger: choose it at random and tell it only to your peers) or
any text, whose SHA-256 gives the id (a public trigger). `recv` prints "ready <granted s>" once
its trigger is in, then "<unix time> <data>" per delivery; exit status 1 if it timed out before
receiving --count messages."""
import argparse
import hashlib
import os
import re
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk",
                                "python"))
from ipdmux_sdk import Client  # noqa: E402

PROTO = 0x8001
VERSION, INSERT, REMOVE, SEND, DELIVER, ACK = 1, 1, 2, 3, 4, 5
ACK_STATUS = {0: "inserted", 1: "removed", 2: "refused"}


def trigger_id(name):
    return bytes.fromhex(name) if re.fullmatch(r"[0-9a-fA-F]{32}", name) else \
        hashlib.sha256(name.encode()).digest()[:16]


def control(msg_type, tid, lifetime=0):
    return struct.pack("!BBH16sBBH", VERSION, msg_type, 0, tid, 0, 0, lifetime)


def send_msg(tid, data):
    return struct.pack("!BBH16s", VERSION, SEND, 0, tid) + data


def parse(payload):
    """(type, id, rest) of a router's message, or None."""
    if len(payload) < 20 or payload[0] != VERSION:
        return None
    return payload[1], payload[4:20], payload[20:]


class RendezvousClient:
    def __init__(self, gateway, proto=PROTO, bind=("0.0.0.0", 0)):
        self.c = Client(gateway, proto, bind=bind)
        self.c.request_token()
        self.pending = []  # DELIVERs that arrived while waiting for an ACK

    def close(self):
        self.c.close()

    def trigger(self, tid, msg_type, lifetime=0, timeout=3.0):
        """INSERT or REMOVE, retried until its ACK: (status name, granted lifetime s)."""
        for _ in range(3):
            self.c.send(control(msg_type, tid, lifetime))
            deadline = time.monotonic() + timeout / 3
            while (left := deadline - time.monotonic()) > 0:
                m = self.next(left)
                if m and m[0] == ACK and m[1] == tid:
                    status, _, granted = struct.unpack("!BBH", m[2][:4])
                    return ACK_STATUS.get(status, str(status)), granted
                if m and m[0] == DELIVER:
                    self.pending.append(m)
        raise TimeoutError("no ACK from the rendezvous router")

    def next(self, timeout):
        if self.pending:
            return self.pending.pop(0)
        p = self.c.recv(timeout)
        return parse(p) if p is not None else None

    def send(self, tid, data):
        self.c.send(send_msg(tid, data))


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def recv(o, rc, tid):
    status, granted = rc.trigger(tid, INSERT, o.lifetime)
    if status != "inserted":
        print(status, flush=True)
        return 1
    print(f"ready {granted}", flush=True)
    got, end = 0, time.monotonic() + o.timeout
    refresh = time.monotonic() + max(granted / 3, 0.5)
    while got < o.count and time.monotonic() < end:
        if not o.no_refresh and time.monotonic() >= refresh:
            rc.c.send(control(INSERT, tid, o.lifetime))  # its ACK is skipped below
            refresh = time.monotonic() + max(granted / 3, 0.5)
        m = rc.next(min(0.2, max(end - time.monotonic(), 0.001)))
        if m and m[0] == DELIVER and m[1] == tid:
            print(f"{time.time():.6f} {m[2].decode(errors='replace')}", flush=True)
            got += 1
    return 0 if got >= o.count else 1


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("command", choices=("recv", "send", "insert", "remove"))
    a.add_argument("--gateway", type=endpoint, required=True)
    a.add_argument("--id", required=True)
    a.add_argument("--proto", type=lambda s: int(s, 0), default=PROTO)
    a.add_argument("--lifetime", type=int, default=30)
    a.add_argument("--count", type=int, default=1 << 62)
    a.add_argument("--timeout", type=float, default=float("inf"))
    a.add_argument("--no-refresh", action="store_true")
    a.add_argument("--message", default="hello")
    a.add_argument("--interval", type=float, default=0.2)
    o = a.parse_args()
    tid = trigger_id(o.id)
    rc = RendezvousClient(o.gateway, o.proto)
    try:
        if o.command == "recv":
            return recv(o, rc, tid)
        if o.command in ("insert", "remove"):
            status, granted = rc.trigger(tid, INSERT if o.command == "insert" else REMOVE, o.lifetime)
            print(status, granted, flush=True)
            return 0 if status != "refused" else 1
        count = 1 if o.count == 1 << 62 else o.count
        for i in range(count):
            rc.send(tid, f"{o.message} {i}".encode() if count > 1 else o.message.encode())
            if i + 1 < count:
                time.sleep(o.interval)
        return 0
    finally:
        rc.close()


if __name__ == "__main__":
    sys.exit(main())
