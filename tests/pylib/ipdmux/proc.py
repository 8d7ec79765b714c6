"""Processes, namespaces and ports for tests and benchmarks: the one copy of each helper (issue 14).
Only loopback and namespaces the caller made get traffic."""
import os
import signal
import socket
import subprocess
import time


def sh(*args, ns=None, check=True, timeout=30):
    """Runs a command (in namespace `ns` if given); the CompletedProcess, text output. Raises with
    the command and its stderr when `check` and it fails."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout).strip()}")
    return r


def wait_for(predicate, timeout=5.0, interval=0.02):
    """Polls `predicate` until it is true or `timeout` seconds passed; its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def free_udp_port(addr="127.0.0.1"):
    """A UDP port free on `addr` now (the kernel's pick; another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def free_tcp_port(addr="127.0.0.1"):
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def delete_namespace(ns):
    """Kills what still runs in `ns` (started by the test that made it) and deletes it."""
    for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    sh("ip", "netns", "del", ns, check=False)


def cpu_seconds(pids):
    """User + system CPU seconds so far of the processes `pids` (all their threads; 10 ms grain);
    a process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")
