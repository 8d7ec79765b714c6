"""A router as a gateway's data plane sees it, for tests of dmuxd's forwarding: a UDP socket on
loopback (or any address of a namespace the test made) with a static tunnel key in a key file.

Every TUNNEL it receives is parsed with `wire.parse_tunnel` and its tag checked with the key
(docs/protocol.md 5.2-5.3); nothing is trusted before that. It also remembers every
(gateway_id, counter) it has seen, so a test can show that no nonce ever repeats."""
import os
import secrets
import socket
import tempfile

from . import wire


def write_key_file(path, key, separator="\n"):
    """Writes a 32-byte tunnel key as hex, the way `openssl rand -hex 32` does."""
    with open(path, "w") as f:
        f.write(key.hex() + separator)
    os.chmod(path, 0o600)


class BadTunnel(AssertionError):
    """A datagram that a router must refuse: not a TUNNEL, a wrong tag, or a repeated nonce."""


class KeyedRouter:
    def __init__(self, addr="127.0.0.1", key=None, rcvbuf=4 << 20):
        self.key = key if key is not None else secrets.token_bytes(32)
        self.dir = tempfile.mkdtemp(prefix="dmux-router-key-")
        self.key_file = os.path.join(self.dir, "tunnel.key")
        write_key_file(self.key_file, self.key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((addr, 0))
        self.addr = self.sock.getsockname()
        self.nonces = set()  # (gateway_id, counter) of every TUNNEL accepted

    @property
    def endpoint(self):
        return f"{self.addr[0]}:{self.addr[1]}"

    def static_router(self, proto, provider):
        """The value of dmuxd's --static-router for this router."""
        return f"{proto} {provider} {self.endpoint} {self.key_file}"

    def rekey(self, key=None):
        """A new key in the same file (the old one stays usable by `check` only if given)."""
        self.key = key if key is not None else secrets.token_bytes(32)
        write_key_file(self.key_file, self.key)

    def check(self, datagram, key=None):
        """The parsed TUNNEL if its tag is right under the router's key and its nonce is new;
        raises BadTunnel otherwise."""
        try:
            t = wire.parse_tunnel(datagram)
        except ValueError as e:
            raise BadTunnel(f"not a TUNNEL ({e}): {datagram[:64].hex()}") from None
        if not wire.tunnel_tag_ok(datagram, key or self.key):
            raise BadTunnel(f"wrong tag: {datagram[:64].hex()}")
        nonce = (t["gateway_id"], t["counter"])
        if nonce in self.nonces:
            raise BadTunnel(f"nonce repeated: gateway {t['gateway_id']:#x} counter {t['counter']}")
        self.nonces.add(nonce)
        return t

    def recv_raw(self, timeout=0.5):
        """Every datagram (bytes, source) until `timeout` seconds pass with nothing new."""
        out = []
        self.sock.settimeout(timeout)
        try:
            while True:
                out.append(self.sock.recvfrom(65535))
        except socket.timeout:
            pass
        return out

    def recv_tunnels(self, timeout=0.5):
        """Every TUNNEL until `timeout` seconds of silence, each checked (BadTunnel otherwise)."""
        return [self.check(d) for d, _ in self.recv_raw(timeout)]

    def close(self):
        self.sock.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)
