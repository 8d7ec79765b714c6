#!/usr/bin/env bash
# Registration cost at a gateway against raw crypto references, measured in the same run.
# Usage: bench/registration/run.sh [ROUTERS]   (BUILD_DIR defaults to build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
cmake --build "$BUILD_DIR" --target bench_registration >/dev/null
exec "$BUILD_DIR/bench/registration/bench_registration" "${1:-2000}"
