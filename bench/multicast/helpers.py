"""bench/multicast's helpers inside the namespaces: a member socket counting datagrams per run, an
ordinary UDP sender, and a unicast UDP echo and prober (run.py starts them with `ip netns exec`).
Stdlib and tests/pylib only. The probe format is the bench's own: MAGIC, then HDR (run id, then a sequence number
or, for the RTT probes, a send time in ns) and padding to PAYLOAD bytes.

  helpers.py _recv FAMILY GROUP PORT | _send FAMILY DEST PORT RATE SECONDS RUN | _uecho PORT |
             _uping DEST PORT COUNT INTERVAL
"""
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from ipdmux.packets import ip_mreq  # noqa: E402  (stdlib only, like this file)

MAGIC = b"DMXB"
HDR = struct.Struct("!IQ")  # after MAGIC: run id, sequence number
PAYLOAD = 64  # UDP payload bytes of every fan-out datagram
COMMANDS = ("_recv", "_send", "_uecho", "_uping")


def helper_recv(family, group, port):
    """A member socket counting datagrams per run; answers `report RUN` lines on stdin with one
    JSON line: unique, dups, first/last arrival (monotonic)."""
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: we are root
    if family == 4:
        s.bind((group, port))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, ip_mreq(group))
    else:
        s.bind(("::", port))
    runs = {}  # run -> [bitmap, unique, dups, first, last]

    def reporter():
        for line in sys.stdin:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "report":
                st = runs.get(int(parts[1]))
                out = ({"unique": st[1], "dups": st[2], "first": st[3], "last": st[4]} if st
                       else {"unique": 0, "dups": 0, "first": None, "last": None})
                print(json.dumps(out), flush=True)
        os._exit(0)  # stdin closed: the bench is done with us

    threading.Thread(target=reporter, daemon=True).start()
    print("ready", flush=True)
    buf = bytearray(2048)
    view = memoryview(buf)
    while True:
        n = s.recv_into(buf)
        if n < 4 + HDR.size or view[:4] != MAGIC:
            continue
        run, seq = HDR.unpack_from(buf, 4)
        now = time.monotonic()
        st = runs.get(run)
        if st is None:
            st = runs[run] = [bytearray(1 << 16), 0, 0, now, now]
        bm = st[0]
        if seq >= len(bm):
            if seq > 1 << 28:
                continue  # not ours
            bm.extend(bytes(max(seq + 1 - len(bm), len(bm))))
        if bm[seq]:
            st[2] += 1
        else:
            bm[seq] = 1
            st[1] += 1
        st[4] = now


def helper_send(family, dest, port, rate, seconds, run):
    """An ordinary UDP sender: `rate` datagrams/s (0: as fast as it can) for `seconds`; prints
    one JSON line: sent, errors, seconds."""
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if family == 4:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.connect((dest, port))  # as iperf does (dmux-client captures connected senders too)
    payload = bytearray(PAYLOAD)
    payload[:4] = MAGIC
    send, pack = s.send, HDR.pack_into
    seq = errors = 0
    start = time.monotonic()
    end = start + seconds
    now = start
    while now < end:
        target = int((now - start) * rate) if rate else seq + 64
        target = min(target, seq + 512)
        while seq < target:
            pack(payload, 4, run, seq)
            seq += 1
            try:
                send(payload)
            except OSError:  # ENOBUFS and the like: not offered
                errors += 1
        if rate:
            time.sleep(0.0005)
        now = time.monotonic()
    t = os.times()
    print(json.dumps({"sent": seq - errors, "errors": errors, "seconds": now - start,
                      "cpu": t.user + t.system}), flush=True)


def helper_uecho(port):
    """A unicast IPv6 UDP echo in Python: the user-space counterpart of `mping.py echo`."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", port))
    print("ready", flush=True)
    while True:
        data, src = s.recvfrom(2048)
        s.sendto(data, src)


def helper_uping(dest, port, count, interval):
    """Probes `dest` like `mping.py ping` does a group (same probe size, same output lines)."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.connect((dest, port))
    pad = bytes(PAYLOAD - 4 - HDR.size)
    run, seen, dups = secrets.randbits(32), set(), 0
    start = time.monotonic()
    for seq in range(count + 1):
        due = start + seq * interval + (1.0 if seq == count else 0.0)  # 1 s for the last
        while True:
            wait = due - time.monotonic()
            if wait <= 0:
                break
            s.settimeout(wait)
            try:
                data = s.recv(2048)
            except socket.timeout:
                break
            now = time.monotonic_ns()
            if data[:4] != MAGIC or len(data) < 4 + HDR.size:
                continue
            r, sent = HDR.unpack_from(data, 4)
            seqno = int.from_bytes(data[16:20], "big")
            if r != run:
                continue
            if seqno in seen:
                dups += 1
                continue
            seen.add(seqno)
            print(f"reply seq={seqno} rtt={(now - sent) / 1e6:.3f} ms", flush=True)
        if seq < count:
            s.send(MAGIC + HDR.pack(run, time.monotonic_ns()) + seq.to_bytes(4, "big") + pad[4:])
    print(f"{count} sent, {len(seen)} received, {dups} duplicates", flush=True)


def run_helper(argv):
    try:
        if argv[0] == "_recv":
            helper_recv(int(argv[1]), argv[2], int(argv[3]))
        elif argv[0] == "_send":
            helper_send(int(argv[1]), argv[2], int(argv[3]), float(argv[4]), float(argv[5]),
                        int(argv[6]))
        elif argv[0] == "_uecho":
            helper_uecho(int(argv[1]))
        else:
            helper_uping(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(run_helper(sys.argv[1:]))
