"""The cryptography of docs/protocol.md, from the spec alone, on the `cryptography` package
(Debian python3-cryptography) and the standard library.

- AES-256-GCM tags of TUNNEL (5.2), SipHash-2-4 return tokens (6.2), HMAC-SHA256 session keys
  (9.2), X25519 and Ed25519 (9.1), SHA-256 certificate hashes (12.2)."""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASK64 = (1 << 64) - 1


def hmac_sha256(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def sha256(data):
    return hashlib.sha256(data).digest()


# --- TUNNEL tags (5.2) -------------------------------------------------------------------------

def tunnel_tag(key, gateway_id, counter, message):
    """AES-256-GCM with an empty plaintext over `message` (tag field zero), nonce gw || counter."""
    nonce = struct.pack("!IQ", gateway_id, counter)
    return AESGCM(key).encrypt(nonce, b"", message)  # = the 16-byte tag


# --- SipHash-2-4 (Aumasson & Bernstein) --------------------------------------------------------

def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def _sipround(v0, v1, v2, v3):
    v0 = (v0 + v1) & MASK64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & MASK64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key, message, out128=False):
    """SipHash-2-4 of `message` under a 16-byte key; an int (64-bit), or 16 bytes with out128."""
    k0, k1 = struct.unpack("<QQ", key)
    v0 = 0x736F6D6570736575 ^ k0
    v1 = 0x646F72616E646F6D ^ k1
    v2 = 0x6C7967656E657261 ^ k0
    v3 = 0x7465646279746573 ^ k1
    if out128:
        v1 ^= 0xEE
    n = len(message)
    end = n - n % 8
    for i in range(0, end, 8):
        (m,) = struct.unpack("<Q", message[i:i + 8])
        v3 ^= m
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0 ^= m
    b = (n << 56) & MASK64
    for i, c in enumerate(message[end:]):
        b |= c << (8 * i)
    v3 ^= b
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xEE if out128 else 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    first = v0 ^ v1 ^ v2 ^ v3
    if not out128:
        return first
    v1 ^= 0xDD
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    second = v0 ^ v1 ^ v2 ^ v3
    return struct.pack("<QQ", first, second)


# --- return tokens (6.2) -----------------------------------------------------------------------

def return_key(seed):
    """K_r = HMAC-SHA256(seed, "ipdmux-v2-return-key")[0:16]."""
    return hmac_sha256(seed, b"ipdmux-v2-return-key")[:16]


def return_key_of_provider(ed25519_private_key):
    raw = ed25519_private_key.private_bytes(serialization.Encoding.Raw,
                                            serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption())
    return return_key(raw)


def return_token(k_r, proto_id, provider_id, client_ipv4, client_port):
    """rt = SipHash-2-4(K_r, proto_id u16 || client_port u16 || client_ipv4 u32 || provider u32)."""
    return siphash24(k_r, struct.pack("!HHII", proto_id, client_port, client_ipv4, provider_id))


# --- registration session (9.2) ----------------------------------------------------------------

def session_key(shared, session_id, timestamp_us):
    return hmac_sha256(shared, b"ipdmux-v2-session" + struct.pack("!QQ", session_id, timestamp_us))


def tunnel_key(shared, session_id, timestamp_us):
    return hmac_sha256(shared, b"ipdmux-v2-tunnel" + struct.pack("!QQ", session_id, timestamp_us))


def session_mac(key, covered):
    return hmac_sha256(key, covered)[:16]


class X25519:
    def __init__(self):
        self.private = X25519PrivateKey.generate()
        self.public = self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                             serialization.PublicFormat.Raw)

    def shared_secret(self, peer_public):
        return self.private.exchange(X25519PublicKey.from_public_bytes(peer_public))


def load_ed25519_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def ed25519_sign(private_key, message):
    return private_key.sign(message)


def ed25519_verify(public_raw, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
        return True
    except Exception:
        return False


def ed25519_from_seed(seed):
    return Ed25519PrivateKey.from_private_bytes(seed)


def certificate_der(pem_path):
    """The DER of a dmux-ca certificate (see pem_certificate_der)."""
    return pem_certificate_der(pem_path)


def pem_certificate_der(pem_path):
    """The DER inside a PEM certificate file, without parsing it: python3-cryptography's X.509
    parser refuses dmux-ca certificates (the IPdmux extension's OID has an arc above 2^64), so
    certificate_der() cannot read them."""
    import base64
    with open(pem_path) as f:
        lines = f.read().splitlines()
    begin = lines.index("-----BEGIN CERTIFICATE-----")
    end = lines.index("-----END CERTIFICATE-----", begin)
    return base64.b64decode("".join(lines[begin + 1:end]))
