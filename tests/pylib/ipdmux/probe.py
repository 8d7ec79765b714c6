"""Numbered payloads that tests and benchmarks put inside IPdmux traffic (not IPdmux formats: what
the applications on either end agree on). The one copy of each (issue 14)."""
import struct

_SEQ = struct.Struct("!I")
STAMP = struct.Struct("!QQ")  # bench/failover/stream.py: sequence number, CLOCK_MONOTONIC ns


def numbered(seq, size):
    """`size` bytes: `seq` as a big-endian u32, then zeros."""
    return _SEQ.pack(seq) + bytes(size - _SEQ.size)


def number_of(payload):
    """The sequence number of a `numbered` payload."""
    return _SEQ.unpack_from(payload)[0]


def stamped(seq, send_ns, size):
    """(seq u64, send time u64 ns), zero-padded to `size` bytes (never shorter than 16)."""
    return STAMP.pack(seq, send_ns) + bytes(max(0, size - STAMP.size))


def stamp_of(data):
    """(seq, send_ns) of a `stamped` datagram, or None if it is too short to be one."""
    return STAMP.unpack_from(data) if len(data) >= STAMP.size else None
