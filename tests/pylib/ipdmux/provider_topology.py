"""The provider tests' topology (tests/integration/test_provider_netns.py, test_provider_sizes.py),
in namespaces an agent_lab.Lab made:

    client (IPv4 only) --- gw (dmuxd) --- router (dmux-provider) --- server (IPv6 only)
    198.18.1.2        198.18.1.1 | 198.18.2.1   198.18.2.2 | 2001:db8:1::1   2001:db8:1::2

The client prefix 2001:db8:7::/48 is routed by the server to the router."""
from .agent_lab import inet6

CLIENT_IP, GW_CLIENT_SIDE = "198.18.1.2", "198.18.1.1"
GW_ROUTER_SIDE, ROUTER_IP = "198.18.2.1", "198.18.2.2"
ROUTER_V6, SERVER_V6 = "2001:db8:1::1", "2001:db8:1::2"
CLIENT_PREFIX = "2001:db8:7::/48"
PREFIX_BYTES = inet6("2001:db8:7::")[:6]
DATA_PORT, REG_PORT, TUNNEL_PORT = 4500, 4501, 5000
PROVIDER_ID = 7
KEEPALIVE_MS, HOLD_MS = 300, 10000  # hold long, so a removal within it proves DEREGISTER worked


def icmp6_in_echos(lab):
    """Echo requests that reached the server's kernel."""
    lines = lab.run("server", "cat", "/proc/net/snmp6").stdout.splitlines()
    return int(dict(line.split() for line in lines if line.strip())["Icmp6InEchos"])


def make_topology(lab):
    for role in lab.ns:
        # Links created below inherit "default": no duplicate address detection delays.
        lab.run(role, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
    lab.run("client", "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    lab.link("client", "eth0", f"{CLIENT_IP}/24", "gw", "toclient", f"{GW_CLIENT_SIDE}/24")
    lab.link("gw", "torouter", f"{GW_ROUTER_SIDE}/24", "router", "eth0", f"{ROUTER_IP}/24")
    lab.link("router", "toserver", f"{ROUTER_V6}/64", "server", "eth0", f"{SERVER_V6}/64")
    lab.run("client", "ip", "route", "add", "default", "via", GW_CLIENT_SIDE)
    lab.run("router", "ip", "route", "add", "default", "via", GW_ROUTER_SIDE)
    lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
    lab.run("router", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    lab.run("server", "ip", "-6", "route", "add", CLIENT_PREFIX, "via", ROUTER_V6)
