"""bench/capture's rows: each sets up one way for the client to reach the server over the shared
topology (topology.py), and names the tunnel daemons whose CPU time the bench charges to it.

  direct        plain IPv6 routing client -> gw -> router -> server; no daemon
  ipdmux        dmux-client (client) -> dmuxd (gw) -> dmux-provider (router), started the way a user
                runs them (docs/client.md; flags as tests/integration/test_client_netns.py's
                ClientWithRealDaemons)
  wireguard-go  wireguard-go on the client and on the router, configured with `wg`
  teredo        miredo as a Teredo client (client), miredo-server (gw), miredo as a relay (router),
                each from a configuration file written here that names only lab addresses; the
                packaged /etc/miredo.conf, which names a public server, is never read

A row's start() raises RowError when its path does not come up; Unavailable when a program it
needs is not installed (scripts/install-deps.sh installs them).
"""
import os
import shutil
import subprocess
import time

from ipdmux.agent_lab import CLIENT, DMUX_CA, DMUXD, PROVIDER, unix_request, wait_for

import topology as t

PROVIDER_ID = 7
DATA_PORT, REG_PORT, TUNNEL_PORT = 4500, 4501, 5000
DMUX_CLIENT_PREFIX = "2001:db8:7::/48"
WG_PORT, TEREDO_RELAY_PORT = 51820, 3545
WG_CLIENT_V6, WG_ROUTER_V6 = "2001:db8:20::2", "2001:db8:20::1"


class RowError(RuntimeError):
    pass


class Unavailable(RuntimeError):
    pass


class Row:
    name = ""
    programs = ()  # what must be installed

    def __init__(self, lab):
        self.lab = lab
        self.dest = t.ROW_DEST[self.name]
        self.daemons = []  # NsProcess of every tunnel daemon (their CPU time is the row's)
        self.device = ""   # the client's device toward dest

    @classmethod
    def check_installed(cls):
        missing = [p for p in cls.programs if shutil.which(p) is None and not os.access(p, os.X_OK)]
        if missing:
            raise Unavailable(f"{cls.name}: not installed: {' '.join(missing)} "
                              "(scripts/install-deps.sh; the dmux programs: cmake --build)")

    def start(self):
        raise NotImplementedError

    def spawn(self, name, role, cmd):
        p = self.lab.spawn(f"{self.name}-{name}", role, cmd)
        self.daemons.append(p)
        return p

    def pids(self):
        return [p.proc.pid for p in self.daemons if p.alive()]

    def check_alive(self):
        dead = [p.name for p in self.daemons if not p.alive()]
        if dead:
            raise RowError(f"{self.name}: exited: {', '.join(dead)}\n{self.lab.logs()}")


class Direct(Row):
    name = "direct"

    def start(self):
        self.device = "eth0"


class IPdmux(Row):
    name = "ipdmux"
    programs = (DMUXD, PROVIDER, CLIENT, DMUX_CA)
    dmuxd_args = ()  # extra dmuxd arguments (run.py --dmuxd-args), e.g. ("--gro", "off")

    def start(self):
        lab = self.lab
        ca, cert, key = lab.credentials(PROVIDER_ID, "ipv6")
        prov_sock = lab.path("provider.sock")
        self.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{t.GW_IP}:{DATA_PORT}", "--workers", "1",
            "--registration-listen", f"{t.GW_ROUTER_SIDE}:{REG_PORT}", "--ca-cert", ca,
            "--keepalive-interval-ms", "500", "--control-socket", lab.path("dmuxd.sock"),
            "--metrics-listen", "off", *self.dmuxd_args])
        self.spawn("provider", "router", [
            PROVIDER, "--gateway", f"{t.GW_ROUTER_SIDE}:{REG_PORT}",
            "--listen", f"{t.ROUTER_IP}:{TUNNEL_PORT}", "--cert", cert, "--key", key,
            "--client-prefix", DMUX_CLIENT_PREFIX, "--allow-destination", t.LAB_NETS_V4[0],
            "--control-socket", prov_sock, "--metrics-listen", "off"])
        if not wait_for(lambda: registered(prov_sock), timeout=10):
            raise RowError("ipdmux: the router never registered\n" + lab.logs())
        sock = lab.path("client.sock")
        # --route: only the row's destination goes into the TUN device (the other rows' server
        # addresses have routes of their own); --phase-out off: the client has native IPv6 for
        # the direct row, which would otherwise switch capture off.
        self.spawn("client", "client", [
            CLIENT, "--gateway", f"{t.GW_IP}:{DATA_PORT}", "--capture",
            f"ipv6:provider={PROVIDER_ID}", "--route", self.dest.rsplit("::", 1)[0] + "::/64",
            "--phase-out", "off", "--metrics-listen", "off", "--control-socket", sock])
        if not wait_for(lambda: status_field(sock, "address"), timeout=15):
            raise RowError("ipdmux: dmux-client got no address\n" + lab.logs())
        self.device = "dmuxc0"
        self.client_sock = sock

    def client_status(self):
        st = unix_request(self.client_sock, "status")
        keys = ("captured", "segmented", "tunnelled", "injected", "dropped_packets")
        return {k: st[k] for k in keys if k in st}


class WireGuardGo(Row):
    name = "wireguard-go"
    programs = ("wireguard-go", "wg")

    def start(self):
        lab = self.lab
        # wireguard-go's control socket is /var/run/wireguard/NAME.sock, outside the namespace:
        # the device names must be unique on the machine.
        tag = str(os.getpid())[-8:]
        self.ifs = {"client": f"wgc{tag}", "router": f"wgr{tag}"}
        keys = {}
        for role in ("client", "router"):
            priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                                  check=True).stdout
            pub = subprocess.run(["wg", "pubkey"], input=priv, capture_output=True, text=True,
                                 check=True).stdout.strip()
            path = lab.path(f"wg-{role}.key")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(priv)
            keys[role] = (path, pub)
            self.spawn(role, role, ["wireguard-go", "--foreground", self.ifs[role]])
            lab.closers.append(lambda n=self.ifs[role]: remove_file(f"/var/run/wireguard/{n}.sock"))
        for role in ("client", "router"):
            if not wait_for(lambda r=role: link_exists(lab, r, self.ifs[r]), timeout=5):
                raise RowError(f"wireguard-go: no {self.ifs[role]} in {role}\n{lab.logs()}")
        c, r = self.ifs["client"], self.ifs["router"]
        lab.run("client", "wg", "set", c, "private-key", keys["client"][0], "peer",
                keys["router"][1], "endpoint", f"{t.ROUTER_IP}:{WG_PORT}", "allowed-ips",
                self.dest.rsplit("::", 1)[0] + "::/64")
        lab.run("router", "wg", "set", r, "private-key", keys["router"][0], "listen-port",
                str(WG_PORT), "peer", keys["client"][1], "allowed-ips", f"{WG_CLIENT_V6}/128")
        for role, dev, addr in (("client", c, WG_CLIENT_V6), ("router", r, WG_ROUTER_V6)):
            lab.run(role, "ip", "addr", "add", f"{addr}/64", "dev", dev, "nodad")
            lab.run(role, "ip", "link", "set", dev, "up")
        lab.run("client", "ip", "-6", "route", "add", self.dest.rsplit("::", 1)[0] + "::/64",
                "dev", c)
        self.device = c


class Teredo(Row):
    name = "teredo"
    programs = ("miredo", "miredo-server")

    def start(self):
        lab = self.lab
        tag = str(os.getpid())[-8:]
        self.ifs = {"client": f"tdc{tag}", "router": f"tdr{tag}"}
        srv, srv2 = t.TEREDO_SERVER_IPS
        confs = {
            "server": f"ServerBindAddress {srv}\nServerBindAddress2 {srv2}\n"
                      f"Prefix {t.TEREDO_PREFIX}\n",
            "relay": f"RelayType cone\nPrefix {t.TEREDO_PREFIX}\n"
                     f"InterfaceName {self.ifs['router']}\nBindAddress {t.ROUTER_IP}\n"
                     f"BindPort {TEREDO_RELAY_PORT}\n",
            "client": f"RelayType client\nServerAddress {srv}\nServerAddress2 {srv2}\n"
                      f"InterfaceName {self.ifs['client']}\nBindAddress {t.CLIENT_IP}\n",
        }
        paths = {}
        for name, text in confs.items():
            paths[name] = lab.path(f"miredo-{name}.conf")
            with open(paths[name], "w") as f:
                f.write("# bench/capture: lab addresses only (never /etc/miredo.conf)\n" + text)
        # -f: in the foreground, so the Lab stops it; -c: our file, never the packaged one.
        self.spawn("server", "gw", ["miredo-server", "-f", "-c", paths["server"], "-p",
                                    lab.path("miredo-server.pid")])
        self.spawn("relay", "router", ["miredo", "-f", "-c", paths["relay"], "-p",
                                       lab.path("miredo-relay.pid")])
        if not wait_for(lambda: link_exists(lab, "router", self.ifs["router"]), timeout=10):
            raise RowError("teredo: the relay made no interface\n" + lab.logs())
        self.spawn("client", "client", ["miredo", "-f", "-c", paths["client"], "-p",
                                        lab.path("miredo-client.pid")])
        c = self.ifs["client"]
        if not wait_for(lambda: global_address(lab, "client", c), timeout=15):
            raise RowError("teredo: the client never qualified\n" + lab.logs())
        # The client's default route through Teredo has metric 1029; the row's destination gets a
        # route of its own like every other row's.
        lab.run("client", "ip", "-6", "route", "add", self.dest.rsplit("::", 1)[0] + "::/64",
                "dev", c)
        self.device = c


ALL = (Direct, IPdmux, WireGuardGo, Teredo)


def registered(sock):
    try:
        st = unix_request(sock, "status")
    except (OSError, ValueError):
        return False
    return any(r.get("state") == "registered" for r in st.get("registrations", []))


def status_field(sock, key):
    try:
        return unix_request(sock, "status").get(key)
    except (OSError, ValueError):
        return None


def link_exists(lab, role, dev):
    return lab.run(role, "ip", "link", "show", dev, check=False).returncode == 0


def global_address(lab, role, dev):
    out = lab.run(role, "ip", "-6", "addr", "show", "dev", dev, "scope", "global",
                  check=False).stdout
    return "inet6" in out


def remove_file(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def wait_reachable(lab, dest, timeout=15.0):
    """Pings dest from the client until one answer (Teredo finds its relay on the first ones)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = lab.run("client", "ping", "-6", "-n", "-c", "1", "-W", "1", dest, check=False)
        if r.returncode == 0:
            return True
        time.sleep(0.2)
    return False
