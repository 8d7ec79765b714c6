"""A gateway of the mesh written in Python from docs/protocol.md section 12 alone: TLS 1.3 with a
gateway certificate from the real dmux-ca, HELLO, frames, probes answered. Tests use it to be an
honest peer (records signed by a provider, the way a real registration makes them) or a
misbehaving one (forged records, RTT lies, PEERS floods) against a real dmuxd."""
import os
import socket
import ssl
import struct
import threading
import time

from . import crypto, wire


def make_router_record(provider_key, cert_der, proto, provider, addr, port, origin, key_id,
                       tunnel_key, router_rtt_us=0, signed_rtt_us=0, timestamp_us=None,
                       cookie=b"\x00" * 16, session_public=b"\x11" * 32, sign=True):
    """A 216-byte router record (12.2) whose proof is a REGISTER signed by `provider_key` for
    gateway `origin` (or a garbage signature with sign=False)."""
    ts = timestamp_us or int(time.time() * 1e6)
    unsigned = wire.register_unsigned(proto, port, provider, addr, origin, ts, cookie,
                                      session_public, signed_rtt_us, cert_der)
    signature = crypto.ed25519_sign(provider_key, unsigned) if sign else os.urandom(64)
    return wire.mesh_router(proto, port, provider, addr, router_rtt_us, key_id, tunnel_key, origin,
                            ts, cookie, session_public, signed_rtt_us, crypto.sha256(cert_der),
                            signature)


class MeshPeer:
    """One TLS link to a real dmuxd's mesh port, as gateway `gateway_id` (an int)."""

    def __init__(self, host, port, cert, key, gateway_id, listen=("0.0.0.0", 0), timeout=5,
                 source=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # dmuxd's certificate policy is not what is tested here
        ctx.load_cert_chain(cert, key)
        raw = socket.create_connection((host, port), timeout=timeout,
                                       source_address=(source, 0) if source else None)
        self.sock = ctx.wrap_socket(raw)
        self.gateway_id = gateway_id
        self.incarnation = int(time.time() * 1e6)
        self.seq = 1
        self.frames = []  # (type, body) received
        self.closed = False
        self._lock = threading.Lock()
        self._buf = b""
        self.send(wire.mesh_hello(gateway_id, wire.ip(listen[0]), listen[1], self.incarnation,
                                  self.seq))
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def next_version(self):
        self.seq += 1
        return self.incarnation, self.seq

    def send(self, data):
        with self._lock:
            self.sock.sendall(data)

    def _read_loop(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self._buf += chunk
                while len(self._buf) >= 8:
                    _, ftype, _, _, length = struct.unpack("!BBBBI", self._buf[:8])
                    if len(self._buf) < 8 + length:
                        break
                    body = self._buf[8:8 + length]
                    self._buf = self._buf[8 + length:]
                    if ftype == wire.MESH_PROBE:
                        self.send(wire.mesh_frame(wire.MESH_PROBE_REPLY, body))
                    self.frames.append((ftype, body))
        except (OSError, ssl.SSLError):
            pass
        self.closed = True

    def wait_for(self, ftype, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for t, b in list(self.frames):
                if t == ftype:
                    return b
            time.sleep(0.02)
        return None

    def send_certificate(self, der):
        self.send(wire.mesh_frame(wire.MESH_CERTIFICATE, der))

    def send_full_state(self, records, per_part=4096):
        inc, seq = self.next_version()
        parts = max(1, (len(records) + per_part - 1) // per_part)
        out = []
        for i in range(parts):
            out.append(wire.mesh_full_state(self.gateway_id, inc, seq,
                                            records[i * per_part:(i + 1) * per_part], i, parts))
        self.send(b"".join(out))

    def send_update(self, record):
        inc, seq = self.next_version()
        self.send(wire.mesh_update_add(self.gateway_id, inc, seq, record))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
