"""Registration (docs/protocol.md section 9) from the agent's side, for tests and benchmarks:
credentials from the real dmux-ca, and an Agent that does COOKIE_REQUEST -> COOKIE -> REGISTER ->
REGISTER_ACK -> KEEPALIVE / DEREGISTER with the wire and crypto modules of this package (an
implementation independent of the C++ one). Everything talks to loopback only."""
import os
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from . import crypto, wire


def _run(*args):
    subprocess.run(args, check=True, capture_output=True)


class Credentials:
    """A CA made by the real `dmux-ca` in a temporary directory, and credentials it issues.
    `provider()` and `gateway()` return a prefix: PREFIX.key and PREFIX.crt exist."""

    def __init__(self, dmux_ca, prefix="dmux-reg-"):
        self.dmux_ca = dmux_ca
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.ca = os.path.join(self.dir, "ca")
        _run(dmux_ca, "init", "--dir", self.ca)
        self._other_ca = None

    @property
    def ca_cert(self):
        return os.path.join(self.ca, "ca.crt")

    @property
    def other_ca(self):
        """A second, unrelated CA (for forged credentials)."""
        if self._other_ca is None:
            self._other_ca = os.path.join(self.dir, "other-ca")
            _run(self.dmux_ca, "init", "--dir", self._other_ca)
        return self._other_ca

    def provider(self, name, provider_id=7, protocols="ipv6", ca=None, extra=()):
        out = os.path.join(self.dir, name)
        _run(self.dmux_ca, "issue-provider", "--dir", ca or self.ca, "--provider-id",
             str(provider_id), "--protocols", protocols, "--out", out, *extra)
        return out

    def gateway(self, name, gateway_id="198.18.0.1"):
        out = os.path.join(self.dir, name)
        _run(self.dmux_ca, "issue-gateway", "--dir", self.ca, "--gateway-id", gateway_id,
             "--out", out)
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Provider:
    """A provider's credentials as an agent holds them: the Ed25519 key and the certificate DER."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.key = crypto.load_ed25519_private(prefix + ".key")
        self.der = crypto.pem_certificate_der(prefix + ".crt")


class Session:
    def __init__(self, ack, k, k_t):
        self.ack = ack
        self.session_id = ack["session_id"]
        self.key_id = ack["key_id"]
        self.gateway_id = ack["gateway_id"]
        self.k = k
        self.k_t = k_t
        self.counter = 0


class Agent:
    """One router agent: a UDP socket (its source address and port are the router's) that talks to
    one registration endpoint. Methods return the parsed reply, or None when nothing came. Pass
    `sock` to register from a socket that also receives the TUNNELs (it is not closed here)."""

    def __init__(self, gateway, provider, bind=("127.0.0.1", 0), proto=wire.IPV6, provider_id=7,
                 timeout=1.0, sock=None):
        self.gateway = gateway
        self.provider = provider
        self.proto = proto
        self.provider_id = provider_id
        self.own_sock = sock is None
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(bind)
        self.sock = sock
        self.timeout = timeout
        self.addr = self.sock.getsockname()
        self.last_ts = 0
        self.session = None

    @property
    def router_ipv4(self):
        return wire.ip(self.addr[0])

    def close(self):
        if self.own_sock:
            self.sock.close()

    def exchange(self, msg, want_type=None):
        """Sends `msg`, returns the first reply (of `want_type` if given) or None."""
        self.sock.sendto(msg, self.gateway)
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                return None
            reply = self.sock.recv(4096)
            if want_type is None or (len(reply) >= 2 and reply[1] == want_type):
                return reply

    def cookie(self):
        nonce = secrets.randbits(64) or 1
        reply = self.exchange(wire.cookie_request(nonce), wire.COOKIE)
        if reply is None:
            return None
        c = wire.parse_cookie(reply)
        if c["nonce"] != nonce:
            raise ValueError("COOKIE does not echo the nonce")
        return c

    def timestamp(self):
        self.last_ts = max(int(time.time() * 1e6), self.last_ts + 1)
        return self.last_ts

    def register_msg(self, cookie, x25519, timestamp_us=None, gateway_id=None, router_ipv4=None,
                     router_port=None, provider_id=None, proto=None, rtt_us=850, signer=None,
                     der=None):
        """A signed REGISTER; every field can be overridden to build a bad one."""
        return wire.register(
            signer or self.provider.key, proto or self.proto,
            self.addr[1] if router_port is None else router_port,
            provider_id or self.provider_id,
            self.router_ipv4 if router_ipv4 is None else router_ipv4,
            cookie["gateway_id"] if gateway_id is None else gateway_id,
            timestamp_us or self.timestamp(), cookie["cookie"], x25519.public, rtt_us,
            der or self.provider.der)

    def accept(self, reply, x25519, timestamp_us):
        """Checks an accepting REGISTER_ACK as the spec says (MAC under K); returns a Session."""
        ack = wire.parse_register_ack(reply)
        if ack["result"] != 0:
            return ack
        if ack["timestamp_us"] != timestamp_us:
            raise ValueError("REGISTER_ACK does not echo the timestamp")
        shared = x25519.shared_secret(ack["session_key"])
        k = crypto.session_key(shared, ack["session_id"], timestamp_us)
        if crypto.session_mac(k, reply[:76]) != ack["mac"]:
            raise ValueError("REGISTER_ACK MAC does not verify")
        return Session(ack, k, crypto.tunnel_key(shared, ack["session_id"], timestamp_us))

    def register(self, **overrides):
        """COOKIE then REGISTER. Returns a Session (accepted), the ACK dict (refused but answered)
        or None (no answer). Keeps the session for keepalive()."""
        c = self.cookie()
        if c is None:
            return None
        x = crypto.X25519()
        ts = overrides.pop("timestamp_us", None) or self.timestamp()
        reply = self.exchange(self.register_msg(c, x, timestamp_us=ts, **overrides),
                              wire.REGISTER_ACK)
        if reply is None:
            return None
        result = self.accept(reply, x, ts)
        if isinstance(result, Session):
            self.session = result
        return result

    def keepalive(self, msg_type=wire.KEEPALIVE, rtt_us=0):
        """KEEPALIVE (or DEREGISTER) of the current session; the parsed KEEPALIVE_ACK or None.
        A MAC'd answer is checked."""
        s = self.session
        s.counter += 1
        reply = self.exchange(wire.keepalive(s.k, s.session_id, s.counter, msg_type, rtt_us),
                              wire.KEEPALIVE_ACK)
        if reply is None:
            return None
        ack = wire.parse_keepalive_ack(reply)
        if ack["result"] != 1 and crypto.session_mac(s.k, reply[:28]) != ack["mac"]:
            raise ValueError("KEEPALIVE_ACK MAC does not verify")
        return ack

    def deregister(self):
        return self.keepalive(wire.DEREGISTER)



class BusyAgent(threading.Thread):
    """A legitimate agent under load, for attack tests and benchmarks: registers, then sends a
    KEEPALIVE every `interval` seconds and registers anew every `reregister` seconds, counting
    what was sent and what was answered (within the Agent's timeout), until `stop` is set."""

    KINDS = ("cookie", "register", "keepalive")

    def __init__(self, gateway, provider, addr, stop, interval=0.2, reregister=1.0):
        super().__init__(daemon=True)
        self.agent = Agent(gateway, provider, bind=(addr, 0), timeout=1.0)
        self.stop_event = stop
        self.interval = interval
        self.reregister = reregister
        self.sent = dict.fromkeys(self.KINDS, 0)
        self.answered = dict.fromkeys(self.KINDS, 0)
        self.error = None

    def register(self):
        self.sent["cookie"] += 1
        c = self.agent.cookie()
        if c is None:
            return
        self.answered["cookie"] += 1
        x = crypto.X25519()
        ts = self.agent.timestamp()
        self.sent["register"] += 1
        reply = self.agent.exchange(self.agent.register_msg(c, x, timestamp_us=ts),
                                    wire.REGISTER_ACK)
        if reply is not None:
            self.answered["register"] += 1
            self.agent.session = self.agent.accept(reply, x, ts)

    def run(self):
        try:
            next_register = 0.0
            while not self.stop_event.is_set():
                now = time.monotonic()
                if now >= next_register or self.agent.session is None:
                    self.register()
                    next_register = now + self.reregister
                else:
                    self.sent["keepalive"] += 1
                    if self.agent.keepalive() is not None:
                        self.answered["keepalive"] += 1
                self.stop_event.wait(self.interval)
        except Exception as e:  # reported by whoever reads the counts
            self.error = e
        finally:
            self.agent.close()


def totals(agents):
    """{kind: (answered, sent)} over BusyAgents."""
    return {k: (sum(a.answered[k] for a in agents), sum(a.sent[k] for a in agents))
            for k in BusyAgent.KINDS}
