"""The control socket of every IPdmux daemon (common/control): one command line, one JSON answer."""
import json
import socket


def command(path, line, timeout=10.0, parse=True):
    """Sends `line` and returns the parsed JSON answer (or the raw text with parse=False)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    text = b"".join(chunks).decode()
    return json.loads(text) if parse else text
