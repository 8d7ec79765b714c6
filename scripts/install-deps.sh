#!/usr/bin/env bash
# Installs every Debian 12 package IPdmux needs to build, test, benchmark and run its demo.
# Idempotent; run as root. Skips apt entirely when everything is already present.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config git lld
  # libraries the daemons link against
  libevent-dev libboost-program-options-dev libssl-dev prometheus-cpp-dev
  nlohmann-json3-dev libmnl-dev libsystemd-dev libsodium-dev
  # tests
  doctest-dev python3 python3-cryptography clang libclang-rt-14-dev prometheus
  # the structure check (scripts/check_structure.py)
  clang-format
  # integration tests, lab and benchmarks
  iproute2 iptables frr socat iperf3 curl procps util-linux iputils-ping
  # packaging (man pages, package checks) and the dashboards' tests
  help2man lintian python3-yaml file
  # bench/capture's peers and its egress check (miredo and miredo-server are only ever started
  # with the bench's own configuration files; the services stay stopped, see below)
  iperf wireguard-go wireguard-tools miredo miredo-server tcpdump ethtool
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start services here: miredo's would contact the public Teredo server its
  # packaged /etc/miredo.conf names. A policy-rc.d that denies every start, unless one exists.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packaged services stay stopped and disabled, also after a reboot (installing enables them).
for unit in miredo miredo-server; do
  dpkg-query -W -f='${Status}' "$unit" 2>/dev/null | grep -q "install ok installed" || continue
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  elif command -v systemctl >/dev/null; then
    systemctl disable "$unit" >/dev/null 2>&1 || true
  fi
  [[ ! -e /etc/init.d/$unit ]] || update-rc.d "$unit" disable >/dev/null 2>&1 || true
done
echo "install-deps: all ${#PACKAGES[@]} packages present"
