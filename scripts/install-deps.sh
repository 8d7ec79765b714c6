#!/usr/bin/env bash
# Installs every Debian 12 package IPdmux needs to build, test, benchmark and run its demo.
# Idempotent; run as root. Skips apt entirely when everything is already present.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config git
  # libraries the daemons link against
  libevent-dev libboost-program-options-dev libssl-dev prometheus-cpp-dev
  nlohmann-json3-dev libnetfilter-queue-dev libmnl-dev libsystemd-dev libsodium-dev
  # tests
  doctest-dev python3 python3-cryptography clang libclang-rt-14-dev prometheus
  # integration tests, lab and benchmarks
  iproute2 iptables frr socat iperf3 curl procps util-linux iputils-ping
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all ${#PACKAGES[@]} packages present"
