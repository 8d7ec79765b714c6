#!/usr/bin/env bash
# The README's first command: install dependencies, build, and run the demo.
# Today: one dmuxd on loopback with test routers and clients (tools/demo/loopback_demo.py).
# The multi-PoP lab with real FRR replaces it when it lands (issue 6).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target dmuxd dmuxctl
echo
DMUX_BUILD_DIR="$PWD/build" python3 tools/demo/loopback_demo.py "$@"
