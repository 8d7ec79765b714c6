#!/usr/bin/python3
"""The tutorial's router in Python (docs/sdk.md): serves an experimental protocol by sending
every packet a client tunnels back to that client.
  echo_router.py --proto 0x8001 --listen 198.18.2.2:5000 --gateway 198.18.0.1:4501 \\
                 --cert provider.crt --key provider.key --provider-id 7 [--allow 198.18.0.0/15]"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipdmux_sdk import Router  # noqa: E402


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--proto", type=lambda s: int(s, 0), required=True)
    a.add_argument("--listen", type=endpoint, required=True)
    a.add_argument("--gateway", type=endpoint, action="append", default=[])
    a.add_argument("--cert", required=True)
    a.add_argument("--key", required=True)
    a.add_argument("--provider-id", type=int, required=True)
    a.add_argument("--allow", action="append", default=[])
    o = a.parse_args()
    router = Router(o.proto, o.listen, o.gateway, o.cert, o.key, o.provider_id, allow=o.allow)
    router.on_packet = lambda p: router.send(p.client, p.payload)
    signal.signal(signal.SIGTERM, lambda *_: router.stop())
    signal.signal(signal.SIGINT, lambda *_: router.stop())
    router.run()  # until SIGTERM or SIGINT; deregisters


if __name__ == "__main__":
    main()
