"""package.install: the Debian packages, built from this build tree, installed into a fresh root
and run there the way their systemd units run them.

1. `cpack -G DEB` makes the five packages; lintian must report no error (warnings are listed).
2. Their contents: programs in /usr/sbin and /usr/bin, man pages, conffiles, units, FRR
   templates, dashboards; shlibdeps filled in Depends; frr recommended by the gateway package.
3. In a private mount namespace, an overlay of / (upper layer in a tmpfs, gone afterwards) is the
   fresh root: `dpkg -i` every package there (the postinst makes the ipdmux user and the
   ipdmuxctl group), make credentials with the installed dmux-ca at the paths the example
   configurations name, and for each unit: `systemd-analyze verify`, `systemd-analyze security`
   (exposure at most 3.0; printed), its ExecStartPre (--check-config against the shipped example
   configuration) and its ExecStart, both under the unit's User, Group, SupplementaryGroups,
   AmbientCapabilities, CapabilityBoundingSet and NoNewPrivileges (setpriv) on a read-only root,
   in a network namespace with the example configurations' addresses. Each daemon must come up:
   its control socket answers `dmuxctl status` run by an unprivileged member of ipdmuxctl, and
   its metrics endpoint serves dmux_build_info. Then SIGTERM (and the client's ExecStopPost).

Needs root. Nothing outside the namespaces and the temporary directory is touched."""
import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "o15-pkg"
PACKAGES = ["ipdmux-common", "ipdmux-gateway", "ipdmux-provider", "ipdmux-client", "ipdmux-ca"]
UNITS = {  # unit -> (control socket, metrics port) of the example configuration
    "dmuxd": ("/run/ipdmux/dmuxd.sock", 9750),
    "dmux-provider": ("/run/ipdmux/provider.sock", 9752),
    "dmux-mcast": ("/run/ipdmux/mcast.sock", 9753),
    "dmux-client": ("/run/ipdmux/client.sock", 9751),
}
# The example configurations' local addresses (deploy/*.conf).
ADDRESSES = ["198.18.100.1", "198.18.0.1", "198.18.2.2", "198.18.3.2"]
MAX_EXPOSURE = 3.0
failures = []


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


def expect(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def build_packages(build_dir, out):
    run(["cpack", "-G", "DEB", "-B", out], cwd=build_dir)
    debs = sorted(glob.glob(os.path.join(out, "*.deb")))
    names = {run(["dpkg-deb", "-f", d, "Package"]).stdout.strip(): d for d in debs}
    expect(sorted(names) == sorted(PACKAGES), f"packages built: {sorted(names)}")
    return names


def check_lintian(debs):
    if not shutil.which("lintian"):
        expect(False, "lintian installed (scripts/install-deps.sh)")
        return
    r = run(["lintian", "--no-tag-display-limit", *debs], check=False)
    lines = [l for l in r.stdout.splitlines() if re.match(r"^[EWIXP]: ", l)]
    errors = [l for l in lines if l.startswith("E: ")]
    warnings = [l for l in lines if l.startswith("W: ")]
    for l in errors + warnings:
        print("  lintian " + l)
    expect(not errors, f"lintian: {len(errors)} errors, {len(warnings)} warnings")


def check_contents(names):
    files = {p: run(["dpkg-deb", "-c", d]).stdout for p, d in names.items()}
    want = {
        "ipdmux-common": ["./usr/bin/dmuxctl", "./usr/share/man/man1/dmuxctl.1.gz",
                          "./usr/share/ipdmux/dashboards/prometheus-rules.yml",
                          "./usr/share/ipdmux/dashboards/grafana/ipdmux-gateway-fleet.json",
                          "./usr/share/ipdmux/dashboards/provisioning/dashboards.yml",
                          "./usr/share/doc/ipdmux-common/copyright"],
        "ipdmux-gateway": ["./usr/sbin/dmuxd", "./etc/ipdmux/dmuxd.conf",
                           "./lib/systemd/system/dmuxd.service", "./usr/share/man/man8/dmuxd.8.gz",
                           "./usr/share/ipdmux/frr/gateway.conf.in",
                           "./usr/share/doc/ipdmux-gateway/operations.md"],
        "ipdmux-provider": ["./usr/sbin/dmux-provider", "./usr/sbin/dmux-mcast",
                            "./etc/ipdmux/dmux-provider.conf", "./etc/ipdmux/dmux-mcast.conf",
                            "./lib/systemd/system/dmux-provider.service",
                            "./lib/systemd/system/dmux-mcast.service",
                            "./usr/share/man/man8/dmux-mcast.8.gz"],
        "ipdmux-client": ["./usr/sbin/dmux-client", "./etc/ipdmux/dmux-client.conf",
                          "./lib/systemd/system/dmux-client.service",
                          "./usr/share/man/man8/dmux-client.8.gz"],
        "ipdmux-ca": ["./usr/bin/dmux-ca", "./usr/share/man/man1/dmux-ca.1.gz"],
    }
    for pkg, paths in want.items():
        listed = {line.split()[-1] for line in files.get(pkg, "").splitlines()}
        missing = [p for p in paths if p not in listed]
        expect(not missing, f"{pkg} contains {len(paths)} expected files {missing or ''}")
    for pkg in ("ipdmux-gateway", "ipdmux-provider", "ipdmux-client"):
        conffiles = run(["dpkg-deb", "--info", names[pkg], "conffiles"], check=False).stdout.split()
        etc = [l.split()[-1][1:] for l in files[pkg].splitlines() if " ./etc/ipdmux/" in l
               and not l.split()[-1].endswith("/")]
        expect(sorted(conffiles) == sorted(etc), f"{pkg}: conffiles {conffiles}")
        depends = run(["dpkg-deb", "-f", names[pkg], "Depends"]).stdout
        expect("libc6" in depends, f"{pkg}: shlibdeps in Depends ({depends.strip()})")
    recommends = run(["dpkg-deb", "-f", names["ipdmux-gateway"], "Recommends"]).stdout
    expect("frr" in recommends, "ipdmux-gateway recommends frr")


def unit_settings(path):
    """The [Service] settings of a unit file; repeated keys become lists."""
    out = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def setpriv_prefix(s):
    """setpriv arguments giving a command the unit's user, groups and capabilities."""
    def caps(key):
        names = " ".join(s.get(key, [""])).split()
        return ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in names])
    cmd = ["setpriv", f"--reuid={s['User'][0]}", f"--regid={s['Group'][0]}"]
    groups = " ".join(s.get("SupplementaryGroups", [])).split()
    cmd += [f"--groups={','.join(groups)}"] if groups else ["--clear-groups"]
    cmd += [f"--inh-caps={caps('AmbientCapabilities')}",
            f"--ambient-caps={caps('AmbientCapabilities')}",
            f"--bounding-set={caps('CapabilityBoundingSet')}"]
    if s.get("NoNewPrivileges", ["no"])[0] == "yes":
        cmd.append("--no-new-privs")
    return cmd + ["--"]


class Root:
    """The fresh root (an overlay of /) and a read-only view of it for the daemons."""

    def __init__(self, work):
        self.rw = os.path.join(work, "root")
        self.ro = os.path.join(work, "ro")
        layers = os.path.join(work, "layers")
        for d in (self.rw, self.ro, layers):
            os.makedirs(d)
        run(["mount", "-t", "tmpfs", "tmpfs", layers])
        os.makedirs(f"{layers}/upper")
        os.makedirs(f"{layers}/work")
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir=/,upperdir={layers}/upper,workdir={layers}/work", self.rw])
        run(["mount", "--rbind", "/dev", f"{self.rw}/dev"])
        run(["mount", "--rbind", "/sys", f"{self.rw}/sys"])
        run(["mount", "-t", "proc", "proc", f"{self.rw}/proc"])
        for d in ("run", "tmp"):
            run(["mount", "-t", "tmpfs", "tmpfs", f"{self.rw}/{d}"])
        run(["mount", "--rbind", self.rw, self.ro])
        run(["mount", "-o", "remount,bind,ro", self.ro])  # ProtectSystem=strict, roughly

    def sh(self, script, check=True, ro=False, ns=None):
        cmd = (["ip", "netns", "exec", ns] if ns else []) + ["chroot", self.ro if ro else self.rw,
                                                             "/bin/sh", "-c", script]
        return run(cmd, check=check, timeout=120)


def make_credentials(root):
    root.sh("set -e; dmux-ca init --dir /etc/ipdmux/ca >/dev/null;"
            " dmux-ca issue-provider --dir /etc/ipdmux/ca --provider-id 7 --protocols ipv6"
            "   --out /etc/ipdmux/provider >/dev/null;"
            " dmux-ca issue-provider --dir /etc/ipdmux/ca --provider-id 9"
            "   --protocols ipv4-multicast --out /etc/ipdmux/mcast >/dev/null;"
            " chown ipdmux /etc/ipdmux/provider.key /etc/ipdmux/mcast.key")


def check_unit_files(root):
    for unit in UNITS:
        path = f"/lib/systemd/system/{unit}.service"
        r = root.sh(f"systemd-analyze verify {path}", check=False)
        ours = [l for l in (r.stdout + r.stderr).splitlines() if unit in l]  # not the host's units
        expect(r.returncode == 0 and not ours, f"systemd-analyze verify {unit}.service {ours}")
        r = root.sh(f"systemd-analyze security --offline=yes {path}", check=False)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout)
        score = float(m.group(1)) if m else 99
        expect(score <= MAX_EXPOSURE,
               f"systemd-analyze security {unit}.service: {m.group(1) + ' ' + m.group(2) if m else r.stderr}")


def start_daemons(root):
    run(["ip", "netns", "add", NS])
    run(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"])
    for a in ADDRESSES:
        run(["ip", "netns", "exec", NS, "ip", "addr", "add", f"{a}/32", "dev", "lo"])
    # RuntimeDirectory=ipdmux, RuntimeDirectoryMode=0755, owned by the unit's user.
    root.sh("install -d -m 0755 -o ipdmux -g ipdmux /run/ipdmux")
    procs = {}
    for unit, (sock, port) in UNITS.items():
        s = unit_settings(os.path.join(root.rw, "lib/systemd/system", f"{unit}.service"))
        prefix = " ".join(shlex.quote(a) for a in setpriv_prefix(s))
        for pre in s.get("ExecStartPre", []):
            r = root.sh(f"{prefix} {pre}", check=False, ro=True, ns=NS)
            expect(r.returncode == 0, f"{unit}: ExecStartPre as the unit: {r.stdout.strip()}"
                                      f"{r.stderr.strip()}")
        log = open(os.path.join(root.rw, "tmp", f"{unit}.log"), "w")
        procs[unit] = (subprocess.Popen(
            ["ip", "netns", "exec", NS, "chroot", root.ro, "/bin/sh", "-c",
             f"exec {prefix} {s['ExecStart'][0]}"], stdout=log, stderr=subprocess.STDOUT), s)
    return procs


def check_daemons(root, procs):
    operator = "setpriv --reuid=nobody --regid=nogroup --groups=ipdmuxctl --"
    for unit, (sock, port) in UNITS.items():
        proc, _ = procs[unit]
        deadline = time.time() + 15
        status = None
        while time.time() < deadline and proc.poll() is None:
            status = root.sh(f"{operator} dmuxctl --socket {sock} status", check=False, ro=True, ns=NS)
            if status.returncode == 0:
                break
            time.sleep(0.3)
        log = open(os.path.join(root.rw, "tmp", f"{unit}.log")).read()
        expect(proc.poll() is None and status is not None and status.returncode == 0,
               f"{unit} runs under its unit's settings; an ipdmuxctl member's dmuxctl status:\n"
               + "\n".join("      " + l for l in ((status.stdout if status else "") + log).splitlines()[:6]))
        page = run(["ip", "netns", "exec", NS, "curl", "-sf", f"http://127.0.0.1:{port}/metrics"],
                   check=False).stdout
        expect("dmux_build_info{" in page, f"{unit} serves metrics on 127.0.0.1:{port}")


def stop_daemons(root, procs):
    for unit, (proc, s) in procs.items():
        if proc.poll() is None:
            # ip netns exec, chroot, sh -c "exec ..." and setpriv all exec: proc is the daemon.
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for post in s.get("ExecStopPost", []):
            prefix = " ".join(shlex.quote(a) for a in setpriv_prefix(s))
            r = root.sh(f"{prefix} {post}", check=False, ro=True, ns=NS)
            expect(r.returncode == 0, f"{unit}: ExecStopPost {r.stdout.strip()}{r.stderr.strip()}")


def inside(work, debs):
    root = Root(work)
    debdir = os.path.join(root.rw, "tmp", "debs")
    os.makedirs(debdir)
    for d in debs:
        shutil.copy(d, debdir)
    r = root.sh("DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb", check=False)
    expect(r.returncode == 0, f"dpkg -i of every package in a fresh root {r.stderr[-2000:]}")
    if r.returncode != 0:
        return
    ids = root.sh("id ipdmux").stdout.strip()
    expect("ipdmuxctl" in ids, f"postinst made the service user: {ids}")
    make_credentials(root)
    check_unit_files(root)
    procs = {}
    try:
        procs = start_daemons(root)
        check_daemons(root, procs)
    finally:
        stop_daemons(root, procs)
        for pid in run(["ip", "netns", "pids", NS], check=False).stdout.split():
            run(["kill", "-9", pid], check=False)
        run(["ip", "netns", "del", NS], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--inside", help=argparse.SUPPRESS)  # the work dir, in the mount namespace
    args = ap.parse_args()
    if args.inside:
        inside(args.inside, sorted(glob.glob(os.path.join(args.inside, "debs", "*.deb"))))
        return 1 if failures else 0
    if os.geteuid() != 0:
        print("package.install needs root: skipped")
        return 0
    work = tempfile.mkdtemp(prefix="o15-pkg-")
    try:
        names = build_packages(os.path.abspath(args.build_dir), os.path.join(work, "debs"))
        debs = [names[p] for p in PACKAGES if p in names]
        check_lintian(debs)
        check_contents(names)
        # Its own mount namespace: every mount of the fresh root vanishes with it.
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                            os.path.abspath(__file__), "--build-dir", args.build_dir,
                            "--inside", work])
        expect(r.returncode == 0, "fresh-root install and start")
    finally:
        run(["ip", "netns", "del", NS], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print("package.install: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
