"""The control socket of every IPdmux daemon (common/control): one command line, one JSON answer."""
import json
import socket


def request(path, line, timeout=10.0):
    """Sends `line` and returns the raw answer (bytes, until the daemon closes): exactly what
    `dmuxctl --json LINE` sends and prints, without starting a process."""
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
    return b"".join(chunks)


def command(path, line, timeout=10.0, parse=True):
    """Sends `line` and returns the parsed JSON answer (or the raw text with parse=False)."""
    text = request(path, line, timeout).decode()
    return json.loads(text) if parse else text
