#!/usr/bin/env bash
# Installs every Debian 12 package IPdmux needs to build, test, benchmark and run its demo.
# Idempotent; run as root. Skips apt entirely when everything is already present.
# --build: only what the builds (and the structure check) need; scripts/test.sh installs those
# first and the rest while it compiles.
set -euo pipefail

BUILD_PACKAGES=(
  # build (help2man makes the man pages during the build)
  build-essential cmake pkg-config git lld help2man
  # libraries the daemons link against, and the unit tests' doctest
  libevent-dev libboost-program-options-dev libssl-dev prometheus-cpp-dev
  nlohmann-json3-dev libmnl-dev libsystemd-dev libsodium-dev doctest-dev
  # the structure check (scripts/check_structure.py)
  python3 clang-format
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  # tests (clang: the fuzz build)
  python3-cryptography clang libclang-rt-14-dev prometheus
  # integration tests, lab and benchmarks
  iproute2 iptables frr socat iperf3 curl procps util-linux iputils-ping
  # packaging (package checks) and the dashboards' tests
  lintian python3-yaml file
  # bench/capture's peers and its egress check (miredo and miredo-server are only ever started
  # with the bench's own configuration files; the services stay stopped, see below)
  iperf wireguard-go wireguard-tools miredo miredo-server tcpdump ethtool
)
if [[ ${1:-} == --build ]]; then
  PACKAGES=("${BUILD_PACKAGES[@]}")
elif (($#)); then
  echo "usage: install-deps.sh [--build]" >&2; exit 2
fi

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
