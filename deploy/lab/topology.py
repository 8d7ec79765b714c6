"""The lab's address plan (see README.md for the picture). Everything here is data: names of
namespaces, links, addresses and AS numbers; nothing touches the system.

    c1 --- u1 ------ u2 ------ u3 --- c2          upstream ISPs u1..u3: AS 64501..64503
          /| \\       |       / |\\                 gateway PoPs g1..g3: AS 64500
        m1 g1  r1     g2     r2  g3 m2             r1, r2: the IPv6 provider's routers
               \\             /                    m1, m2: the multicast provider's routers
                `--- s6 ----'                     s6: native IPv6 server
"""

PREFIX = "dl-"
STATE_DIR = "/run/ipdmux-lab"

# Every IPv4 address of the lab is in the benchmarking block, an RFC 6890 special-purpose range
# that router agents refuse to send to unless allowed (--allow-destination).
LAB_SPACE = "198.18.0.0/15"

GATEWAY_ASN = 64500
DMUX_PREFIX = "198.18.0.0/24"
ANYCAST_DATA = "198.18.0.1"       # client DATA, port 4789
ANYCAST_REG = "198.18.0.2"        # router registration, port 4501
DATA_PORT, REG_PORT, MESH_PORT, ROUTER_PORT = 4789, 4501, 4600, 5000
METRICS_PORT, CLIENT_METRICS_PORT = 9750, 9751

PROVIDER_ID = 7
MCAST_PROVIDER_ID = 8             # the multicast overlay provider (dmux-mcast on m1, m2)
MCAST_GROUPS = ("239.1.1.1", "239.1.1.2")
RV_PROVIDER_ID = 9                # the rendezvous provider (rendezvous-router on v1, v2; SDK)
RV_PROTO = "0x8001"               # its experimental proto_id (examples/rendezvous)
CLIENT_PREFIX = "2001:db8:100::/48"
SERVER_V6 = "2001:db8:200::1"
SERVER_PREFIX = "2001:db8:200::/48"
# The IPv6 provider's own network (r1, r2, s6): iBGP in this AS carries the client prefix from
# each router whose agent runs to s6 (deploy/frr/provider-router.conf.in), r1 preferred.
PROVIDER_ASN = 64510
PROVIDER_CORE_ID = "198.18.3.1"   # s6's BGP router id (an id only, not an address of the lab)
ROUTER_LOCAL_PREF = {"r1": 200, "r2": 100}

INDEXES = (1, 2, 3)


def ns(name):
    """Namespace of a node: ns('g1') == 'dl-g1'."""
    return PREFIX + name


def upstream_asn(i):
    return 64500 + i


def upstream_router_id(i):
    return f"198.18.2.{i}"        # also on the upstream's lo (redistributed: handy to ping)


def gateway_unicast(i):
    return f"198.18.1.{i}"        # on lo: mesh, registration unicast, tunnel source, gateway id


# Links: (node_a, dev_a, addr_a, node_b, dev_b, addr_b, prefix_len). Device names say where the
# link leads. IPv4 /30s from 198.18.10.0/24 on; IPv6 /64s for the provider's network.
LINKS = [
    # ISP chain u1 -- u2 -- u3
    ("u1", "to-u2", "198.18.10.1", "u2", "to-u1", "198.18.10.2", 30),
    ("u2", "to-u3", "198.18.10.5", "u3", "to-u2", "198.18.10.6", 30),
    # PoPs: ui -- gi on 198.18.11.(4(i-1))/30, upstream .1, gateway .2
    ("u1", "to-g1", "198.18.11.1", "g1", "to-u1", "198.18.11.2", 30),
    ("u2", "to-g2", "198.18.11.5", "g2", "to-u2", "198.18.11.6", 30),
    ("u3", "to-g3", "198.18.11.9", "g3", "to-u3", "198.18.11.10", 30),
    # IPv4-only clients
    ("u1", "to-c1", "198.18.12.1", "c1", "to-u1", "198.18.12.2", 30),
    ("u3", "to-c2", "198.18.12.5", "c2", "to-u3", "198.18.12.6", 30),
    # the provider's routers, IPv4 side
    ("u1", "to-r1", "198.18.13.1", "r1", "to-u1", "198.18.13.2", 30),
    ("u3", "to-r2", "198.18.13.5", "r2", "to-u3", "198.18.13.6", 30),
    # the multicast provider's routers
    ("u1", "to-m1", "198.18.14.1", "m1", "to-u1", "198.18.14.2", 30),
    ("u3", "to-m2", "198.18.14.5", "m2", "to-u3", "198.18.14.6", 30),
    # the rendezvous provider's routers (examples/rendezvous, built on the SDK)
    ("u1", "to-v1", "198.18.15.1", "v1", "to-u1", "198.18.15.2", 30),
    ("u3", "to-v2", "198.18.15.5", "v2", "to-u3", "198.18.15.6", 30),
    # the provider's IPv6 network
    ("r1", "to-s6", "2001:db8:201::1", "s6", "to-r1", "2001:db8:201::2", 64),
    ("r2", "to-s6", "2001:db8:202::1", "s6", "to-r2", "2001:db8:202::2", 64),
]

UPSTREAMS = ["u1", "u2", "u3"]
GATEWAYS = ["g1", "g2", "g3"]
CLIENTS = ["c1", "c2"]
ROUTERS = ["r1", "r2"]
MCAST_ROUTERS = ["m1", "m2"]
RV_ROUTERS = ["v1", "v2"]
SERVER = "s6"
PROVIDER_FRR = ROUTERS + [SERVER]  # the provider's nodes that run FRR (the return direction)
NODES = UPSTREAMS + GATEWAYS + CLIENTS + ROUTERS + MCAST_ROUTERS + RV_ROUTERS + [SERVER]

# Which upstream each client / router hangs off.
ATTACHED = {"c1": "u1", "c2": "u3", "r1": "u1", "r2": "u3", "m1": "u1", "m2": "u3",
            "v1": "u1", "v2": "u3"}


def addr(node, peer):
    """Address of `node` on its link to `peer`."""
    for a, _, aa, b, _, ba, _ in LINKS:
        if (a, b) == (node, peer):
            return aa
        if (b, a) == (node, peer):
            return ba
    raise KeyError(f"no link {node}--{peer}")


def dev(node, peer):
    return "to-" + peer


def router_v4(r):
    return addr(r, ATTACHED[r])


def mcast_v4(m):
    return addr(m, ATTACHED[m])


def rv_v4(v):
    return addr(v, ATTACHED[v])


def router_v6(r):
    return addr(r, SERVER)


def client_v4(c):
    return addr(c, ATTACHED[c])


def isp_neighbors(u):
    """The other ISP routers next to upstream `u`: [(address, asn, name)]."""
    i = UPSTREAMS.index(u)
    return [(addr(v, u), upstream_asn(UPSTREAMS.index(v) + 1), v)
            for v in UPSTREAMS[max(0, i - 1):i + 2] if v != u]
