#!/usr/bin/env bash
# The README's first command: install dependencies, build, bring up the multi-PoP lab (three
# gateway PoPs with real FRR, upstream ISPs, an IPv6 provider with two routers, a native IPv6
# server and two IPv4-only clients, all in network namespaces; deploy/lab/README.md) and show
# ping6 between IPv4-only hosts through it. The lab stays up for exploring; the last lines say
# how to look around and how to tear it down (python3 deploy/lab/lab.py down).
#   --down        tear the lab down at the end
#   --loopback    the old single-gateway loopback demo instead (tools/demo/loopback_demo.py)
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's own python3 (with the packages install-deps.sh installs) before any other on PATH.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
[[ $(id -u) == 0 ]] || { echo "demo.sh: run as root (network namespaces, FRR, TUN devices)" >&2; exit 1; }
down=0
for a in "$@"; do
  case $a in
    --down) down=1 ;;
    --loopback) loopback=1 ;;
    *) echo "demo.sh: unknown option $a (try --down or --loopback)" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target dmuxd dmuxctl dmux-provider dmux-client dmux-ca dmux-mcast \
  rendezvous-router dmux-healthcheck
echo
if [[ ${loopback:-0} == 1 ]]; then
  exec env DMUX_BUILD_DIR="$PWD/build" python3 tools/demo/loopback_demo.py
fi
python3 deploy/lab/lab.py up --build-dir build
echo
python3 deploy/lab/lab.py demo --build-dir build
if ((down)); then python3 deploy/lab/lab.py down; fi
