"""bench/capture's measurements, one row at a time: round trips with ping -6, TCP with iperf3, the
tunnel daemons' CPU time from /proc/PID/stat, and which packet sizes get through.

Everything runs real programs in the lab's namespaces (ping, iperf3) or sockets opened inside them
(the 1470-byte UDP probe); no function here asserts a timing, they return figures.
"""
import json
import os
import re
import select
import socket
import subprocess
import threading
import time

from ipdmux.client_lab import in_netns, wait_for
from ipdmux import proc
from ipdmux.stats import nearest_rank

UDP_ECHO_PORT = 7777
UDP_PROBE_BYTES, UDP_PROBE_COUNT = 1470, 20


def ping_rtts(lab, dest, count, cpu=None, data_bytes=None, interval="0.005"):
    """Round trips in µs of `count` pings from the client (one in flight), optionally run on
    CPU `cpu`."""
    cmd = ["ip", "netns", "exec", lab.ns["client"]]
    if cpu is not None:
        cmd += ["taskset", "-c", str(cpu)]
    cmd += ["ping", "-6", "-n", "-c", str(count), "-i", interval, "-W", "1"]
    if data_bytes is not None:
        cmd += ["-s", str(data_bytes)]
    r = subprocess.run(cmd + [dest], capture_output=True, text=True, timeout=count + 60)
    return [float(m) * 1000 for m in re.findall(r"time=([\d.]+) ms", r.stdout)]


pct = nearest_rank  # p50/p99 of the RTT samples, as this bench has always reported them


class IperfServer:
    """iperf3 -s in the server namespace for the whole run."""

    def __init__(self, lab):
        self.proc = lab.spawn("iperf3-server", "server", ["iperf3", "-s"])
        def listening():
            return lab.run("server", "ss", "-Htln", "sport = :5201").stdout.strip()
        if not wait_for(listening, timeout=5):
            raise RuntimeError("iperf3 -s is not listening:\n" + self.proc.read_log())

    def stop(self):
        self.proc.stop()


def tcp_run(lab, dest, seconds, reverse):
    """One iperf3 run from the client: (Mbit/s received, bytes received). reverse: server sends.
    A run iperf3 reports no result for is tried once more (the server may still be finishing the
    last one); (0, 0) if that fails too."""
    cmd = ["iperf3", "-c", dest, "-t", str(seconds), "-J"] + (["-R"] if reverse else [])
    for _ in range(2):
        r = subprocess.run(["ip", "netns", "exec", lab.ns["client"]] + cmd, capture_output=True,
                           text=True, timeout=seconds + 30)
        try:
            s = json.loads(r.stdout)["end"]["sum_received"]
            return s["bits_per_second"] / 1e6, s["bytes"]
        except (ValueError, KeyError):
            time.sleep(0.5)
    return 0.0, 0


def process_tree(pids):
    """`pids` and all their descendants (miredo works in a child of the process started)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pids):
    """user + system CPU seconds of `pids` and their descendants, all threads (10 ms grain)."""
    return proc.cpu_seconds(process_tree(pids))


def set_affinity(pids, cpus):
    """Every thread of `pids` and their descendants onto `cpus` (a taskset list, e.g. "0")."""
    for p in process_tree(pids):
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(p)], capture_output=True)


class UdpEcho:
    """UDP echo sockets on port UDP_ECHO_PORT of each of `addresses` in the server namespace,
    answered by a thread. One socket an address, so that each answer comes from the address the
    probe was sent to (WireGuard drops a packet whose source its peer is not allowed to use)."""

    def __init__(self, lab, addresses):
        def make(addr):
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind((addr, UDP_ECHO_PORT))
            return s
        self.socks = [in_netns(lab.ns["server"], lambda a=a: make(a)) for a in addresses]
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            ready, _, _ = select.select(self.socks, [], [], 0.2)
            for s in ready:
                try:
                    d, src = s.recvfrom(65535)
                    s.sendto(d, src)
                except OSError:
                    return

    def stop(self):
        self.running = False
        self.thread.join()
        for s in self.socks:
            s.close()


def udp_probe(lab, dest):
    """How many of UDP_PROBE_COUNT datagrams of UDP_PROBE_BYTES bytes come back whole from the
    server's echo (each goes both ways through the row's path)."""
    def make():
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        return s
    s = in_netns(lab.ns["client"], make)
    back = 0
    try:
        for i in range(UDP_PROBE_COUNT):
            payload = bytes([i]) * UDP_PROBE_BYTES
            s.sendto(payload, (dest, UDP_ECHO_PORT))
            try:
                while True:
                    d, _ = s.recvfrom(65535)
                    if d == payload:
                        back += 1
                        break
            except socket.timeout:
                pass
    finally:
        s.close()
    return back


def sizes(lab, dest):
    """Which sizes get through: ping -6 -s 1400 and -s 8000 (answers of 5) and the UDP probe."""
    out = {}
    for data in (1400, 8000):
        got = len(ping_rtts(lab, dest, 5, data_bytes=data, interval="0.05"))
        out[f"ping_s{data}"] = {"answered": got, "of": 5, "works": got >= 4}
    got = udp_probe(lab, dest)
    out[f"udp_{UDP_PROBE_BYTES}"] = {"answered": got, "of": UDP_PROBE_COUNT,
                                     "works": got >= UDP_PROBE_COUNT - 1}
    return out
