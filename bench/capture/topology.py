"""bench/capture's namespaces: one client host, one server host and the same veths for every row.

    client --- gw --- router --- server
    eth0       toclient | torouter   eth0 | toserver   eth0

  client  eth0      198.18.1.2/24           2001:db8:10::2/64  (IPv6 only for the direct row)
  gw      toclient  198.18.1.1/24, .10, .11  2001:db8:10::1/64
          torouter  198.18.2.1/24           2001:db8:11::1/64
  router  eth0      198.18.2.2/24           2001:db8:11::2/64
          toserver                          2001:db8:9::1/64
  server  eth0      2001:db8:9::2/64 and one address per row (ROW_DEST)

gw and router forward IPv4 and IPv6; every row's packets cross the same three veths. The server has
one address per row so that the client's routing table, not the measuring code, sends each row's
packets into its own tunnel (or none, for direct); check_routes() proves it before anything is
measured.

Nothing here may reach beyond these namespaces: they have no link to the root namespace, and
EgressWatch captures, in every namespace, any packet to or from an address outside the lab's
ranges (198.18.0.0/15, 2001:db8::/32, the Teredo lab prefix, link-local and link-scope multicast).
"""
import os
import signal
import subprocess

from ipdmux.agent_lab import Lab

PREFIX = f"dmuxcap-{os.getpid()}-"
ROLES = ("client", "gw", "router", "server")
CLIENT_IP, GW_IP, GW_ROUTER_SIDE, ROUTER_IP = "198.18.1.2", "198.18.1.1", "198.18.2.1", "198.18.2.2"
TEREDO_SERVER_IPS = ("198.18.1.10", "198.18.1.11")  # a Teredo server needs two consecutive ones
CLIENT_V6, GW_CLIENT_V6 = "2001:db8:10::2", "2001:db8:10::1"
GW_ROUTER_V6, ROUTER_GW_V6 = "2001:db8:11::1", "2001:db8:11::2"
ROUTER_SERVER_V6, SERVER_V6 = "2001:db8:9::1", "2001:db8:9::2"
# Each row's destination: an address of the server's, in a /64 of its own.
ROW_DEST = {"direct": "2001:db8:3::2", "ipdmux": "2001:db8:1::2",
            "wireguard-go": "2001:db8:4::2", "teredo": "2001:db8:5::2"}
# Teredo addresses embed the server's IPv4 address after a /32 prefix. Not 2001:db8::/32: a
# Teredo client takes every address under its prefix for a Teredo peer, so the lab's native
# server addresses could not be reached. A ULA prefix is never routed on the Internet either.
TEREDO_PREFIX = "fd54:6572::"
LAB_NETS_V4 = ("198.18.0.0/15",)
LAB_NETS_V6 = ("2001:db8::/32", TEREDO_PREFIX + "/32", "fe80::/10", "ff02::/16", "::/128")


def make_lab():
    """The namespaces, veths, addresses and routes above, in a Lab that removes them all."""
    lab = Lab(PREFIX, ROLES)
    try:
        for ns in lab.ns.values():
            for key in ("default.accept_dad", "all.accept_dad"):
                lab_sysctl(lab, ns, f"net.ipv6.conf.{key}=0")
        lab.link("client", "eth0", f"{CLIENT_IP}/24", "gw", "toclient", f"{GW_IP}/24")
        lab.link("gw", "torouter", f"{GW_ROUTER_SIDE}/24", "router", "eth0", f"{ROUTER_IP}/24")
        lab.link("router", "toserver", None, "server", "eth0", None)
        for a in TEREDO_SERVER_IPS:
            lab.run("gw", "ip", "addr", "add", f"{a}/24", "dev", "toclient")
        for role, dev, addr in (("client", "eth0", CLIENT_V6), ("gw", "toclient", GW_CLIENT_V6),
                                ("gw", "torouter", GW_ROUTER_V6),
                                ("router", "eth0", ROUTER_GW_V6),
                                ("router", "toserver", ROUTER_SERVER_V6),
                                ("server", "eth0", SERVER_V6)):
            lab.run(role, "ip", "addr", "add", f"{addr}/64", "dev", dev, "nodad")
        for dest in ROW_DEST.values():
            lab.run("server", "ip", "addr", "add", f"{dest}/64", "dev", "eth0", "nodad")
            net = dest.rsplit("::", 1)[0] + "::/64"
            lab.run("router", "ip", "-6", "route", "add", net, "via", SERVER_V6)
        for role in ("gw", "router"):
            lab_sysctl(lab, lab.ns[role], "net.ipv4.ip_forward=1")
            lab_sysctl(lab, lab.ns[role], "net.ipv6.conf.all.forwarding=1")
        lab.run("client", "ip", "route", "add", "default", "via", GW_IP)
        lab.run("client", "ip", "-6", "route", "add", "2001:db8:3::/64", "via", GW_CLIENT_V6)
        lab.run("gw", "ip", "-6", "route", "add", "default", "via", ROUTER_GW_V6)
        lab.run("router", "ip", "route", "add", "default", "via", GW_ROUTER_SIDE)
        lab.run("router", "ip", "-6", "route", "add", "2001:db8:10::/64", "via", GW_ROUTER_V6)
        lab.run("server", "ip", "-6", "route", "add", "default", "via", ROUTER_SERVER_V6)
    except BaseException:
        lab.close()
        raise
    return lab


def lab_sysctl(lab, ns, setting):
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", setting], check=True,
                   capture_output=True)


def route_device(lab, dest):
    """The device the client's kernel would send a packet for `dest` out of."""
    out = lab.run("client", "ip", "-6", "route", "get", dest).stdout.split()
    return out[out.index("dev") + 1] if "dev" in out else ""


class EgressWatch:
    """tcpdump in every namespace of the lab, keeping any packet with an address outside the lab's
    ranges. Started before any tunnel daemon, so a daemon's first contact is seen too."""

    def __init__(self, lab):
        self.lab = lab
        def inside(nets):
            src = " or ".join(f"src net {n}" for n in nets)
            dst = " or ".join(f"dst net {n}" for n in nets)
            return f"({src}) and ({dst})"
        expr = (f"(ip and not ({inside(LAB_NETS_V4)})) or "
                f"(ip6 and not ({inside(LAB_NETS_V6)}))")
        self.procs = {}
        for role, ns in lab.ns.items():
            path = lab.path(f"egress-{role}.pcap")
            self.procs[role] = (path, subprocess.Popen(
                ["ip", "netns", "exec", ns, "tcpdump", "-i", "any", "-n", "-U", "-Z", "root",
                 "-w", path, expr], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        lab.closers.append(self.stop)

    def stop(self):
        """Stops the captures; returns {role: [packet summary lines]} of what they caught."""
        caught = {}
        for role, (path, proc) in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if not os.path.exists(path):
                caught[role] = ["capture did not run: " + proc.stderr.read().decode()[-300:]]
                continue
            r = subprocess.run(["tcpdump", "-n", "-r", path], capture_output=True, text=True)
            caught[role] = [line for line in r.stdout.splitlines() if line.strip()]
        self.procs = {}
        return caught
