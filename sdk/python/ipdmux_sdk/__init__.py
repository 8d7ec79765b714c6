"""The IPdmux router-agent SDK for Python (docs/sdk.md): the same contract as the C++ library
<ipdmux/router.h>, reimplemented on tests/pylib/ipdmux, the project's independent implementation
of docs/protocol.md (wire formats and cryptography, checked against the document's vectors), so
that there is no third copy of the wire code.

  Router   a router agent: registration and keepalives, authenticated TUNNELs (tag, replay
           window), TOKEN_REQUEST answers, proven clients, RETURNs with the client's rt
  Client   the client side without dmux-client: TOKEN_REQUEST, DATA with the return token,
           RETURNs checked against it (for programs that speak an experimental protocol
           themselves, such as examples/rendezvous's clients)
"""
import os
import sys

_PYLIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "pylib")
if os.path.isdir(_PYLIB) and _PYLIB not in sys.path:
    sys.path.insert(0, os.path.abspath(_PYLIB))

from ipdmux import crypto, wire  # noqa: E402  (the shared implementation of the spec)

from .client import Client  # noqa: E402
from .router import Packet, Router  # noqa: E402

SDK_VERSION = 1
__all__ = ["Client", "Packet", "Router", "crypto", "wire", "SDK_VERSION"]
