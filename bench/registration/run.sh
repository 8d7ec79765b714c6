#!/usr/bin/env bash
# Registration at a gateway (docs/protocol.md section 9), two parts (figures: README.md):
#  1. bench_registration: the handler's cost per REGISTER (certificate cached or not), per
#     KEEPALIVE, per spoofed REGISTER and per COOKIE_REQUEST, against raw Ed25519 and HMAC-SHA256
#     measured in the same run; in-process, one thread.
#  2. flood.py: a real dmuxd under 40,000 spoofed REGISTERs a second with legitimate agents
#     running: the fraction of their REGISTERs and keepalives answered (target >= 99%) and the
#     control thread's CPU time. Needs root (raw socket), loopback only.
# Usage: bench/registration/run.sh [--quick] [ROUTERS]   (BUILD_DIR defaults to build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
quick=()
if [[ ${1:-} == --quick ]]; then quick=(--quick); shift; fi
cmake --build "$BUILD_DIR" --target bench_registration dmuxd dmuxctl dmux-ca >/dev/null
"$BUILD_DIR/bench/registration/bench_registration" "${1:-2000}"
BUILD_DIR="$BUILD_DIR" /usr/bin/python3 bench/registration/flood.py "${quick[@]}"
