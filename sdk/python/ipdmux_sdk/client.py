"""The client side of an experimental protocol, for programs that speak it themselves (no TUN, no
capture, no root): learn the return token with a TOKEN_REQUEST (docs/protocol.md 15), send DATA
carrying it, and accept only RETURNs that carry it (6.3), compared in constant time."""
import hmac
import secrets
import socket
import struct
import time

from ipdmux import wire


class Client:
    """One UDP socket talking to a gateway's data address `gateway` (host, port) for `proto`.
    `provider` 0 lets the gateway choose any provider of the protocol."""

    def __init__(self, gateway, proto, provider=0, bind=("0.0.0.0", 0)):
        self.gateway, self.proto, self.provider = gateway, proto, provider
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.rt = None
        self.offer = None
        self.refresh_at = 0.0
        self.dropped = 0  # datagrams that were not RETURNs for us

    def close(self):
        self.sock.close()

    def request_token(self, timeout=3.0, tries=3):
        """TOKEN_REQUEST until a TOKEN_OFFER echoing the nonce arrives; returns the rt."""
        for _ in range(tries):
            nonce = secrets.randbits(64) | 1
            self.sock.sendto(wire.data(self.proto, self.provider, nonce, wire.token_request(),
                                       flags=wire.FLAG_CONTROL), self.gateway)
            deadline = time.monotonic() + timeout / tries
            while (left := deadline - time.monotonic()) > 0:
                r = self._receive(left)
                if r and r["flags"] & wire.FLAG_CONTROL and r["token"] == nonce:
                    self.offer = wire.parse_token_offer(r["payload"])
                    self.rt = self.offer["return_token"]
                    self.refresh_at = time.monotonic() + self.offer["refresh_s"]
                    return self.rt
        raise TimeoutError(f"no TOKEN_OFFER for proto {self.proto:#x} through {self.gateway}")

    def send(self, payload):
        """One DATA datagram carrying `payload` and our return token (asked for if due)."""
        if self.rt is None or time.monotonic() >= self.refresh_at:
            self.request_token()
        self.sock.sendto(wire.data(self.proto, self.provider, self.rt, payload), self.gateway)

    def recv(self, timeout=1.0):
        """The payload of the next RETURN for us (not CTRL, our protocol, our rt), or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            r = self._receive(left)
            if r is None or r["flags"] & wire.FLAG_CONTROL:
                continue
            if self.rt is not None and r["proto_id"] == self.proto and hmac.compare_digest(
                    struct.pack("!Q", r["token"]), struct.pack("!Q", self.rt)):
                return r["payload"]
            self.dropped += 1
        return None

    def _receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            d, _ = self.sock.recvfrom(65535)
        except (socket.timeout, BlockingIOError):
            return None
        try:
            return wire.parse_shim(d, wire.RETURN)
        except ValueError:
            self.dropped += 1
            return None
