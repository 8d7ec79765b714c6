"""A spoofed-datagram flood for registration attack tests and benchmarks (loopback only).

`write_packets()` stores ready-made IPv4/UDP datagrams (any source address: raw sockets need no
binding) in a file; `python3 -m ipdmux.reg_flood FILE RATE SECONDS` sends them round-robin through
one raw socket (IP_HDRINCL, root) at RATE datagrams a second for SECONDS, paced in 5 ms slices, and
prints {"sent": N, "seconds": S, "errors": E} as JSON. The destination is in each packet; only
127.0.0.0/8 destinations are accepted."""
import json
import random
import socket
import struct
import sys
import time

from . import wire


def ipv4_udp(src, sport, dst, dport, payload):
    """An IPv4 header (checksum left to the kernel) and a UDP header (checksum 0: none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + udp


def spoofed_registers(der, gateway_id, dport, sources=16384, seed=11):
    """REGISTERs as a blind attacker sends them, one per source address in 127.64.0.0/10, to
    127.0.0.1:dport: the router fields name the (spoofed) source, the gateway and the genuine
    certificate `der` are right, the cookie, session key and signature are random."""
    rng = random.Random(seed)
    out = []
    for i in range(sources):
        src = f"127.{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"
        port = rng.randrange(1024, 65535)
        body = wire.register_unsigned(wire.IPV6, port, 7, wire.ip(src), gateway_id,
                                      int(time.time() * 1e6), rng.randbytes(16), rng.randbytes(32),
                                      850, der)
        out.append(ipv4_udp(src, port, "127.0.0.1", dport, body + b"\x00\x40" + rng.randbytes(64)))
    return out


def cookie_valid_registers(der, gateway_id, dport, sources):
    """REGISTERs from attackers that hold real addresses: `sources` is [(addr, port, cookie)] of
    cookies they fetched; the signatures are random. They pass the cookie and cost the gateway a
    per-source token, then a token of the signature budget and one Ed25519 check each."""
    rng = random.Random(12)
    out = []
    for addr, port, cookie in sources:
        body = wire.register_unsigned(wire.IPV6, port, 7, wire.ip(addr), gateway_id,
                                      int(time.time() * 1e6), cookie, rng.randbytes(32), 850, der)
        out.append(ipv4_udp(addr, port, "127.0.0.1", dport, body + b"\x00\x40" + rng.randbytes(64)))
    return out


def write_packets(path, packets):
    with open(path, "wb") as f:
        for p in packets:
            if p[16] != 127:
                raise ValueError("flood destinations must be on loopback")
            f.write(struct.pack("!H", len(p)) + p)


def read_packets(path):
    """(packet, destination) pairs."""
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack("!H", data[i:i + 2])
        p = data[i + 2:i + 2 + n]
        if p[16] != 127:
            raise ValueError("flood destinations must be on loopback")
        out.append((p, (socket.inet_ntoa(p[16:20]), 0)))
        i += 2 + n
    return out


def flood(packets, rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    slice_s = 0.005
    start = time.monotonic()
    sent = errors = i = 0
    while True:
        now = time.monotonic()
        elapsed = now - start
        if elapsed >= seconds:
            break
        due = min(int(rate * (elapsed + slice_s)), int(rate * seconds)) - sent
        for _ in range(max(0, due)):
            p, to = packets[i]
            i = (i + 1) % len(packets)
            try:
                s.sendto(p, to)
            except OSError:
                errors += 1
            sent += 1
        pause = start + (sent / rate) - time.monotonic()
        if pause > 0:
            time.sleep(min(pause, slice_s))
    s.close()
    return {"sent": sent, "seconds": time.monotonic() - start, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(flood(read_packets(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))))
