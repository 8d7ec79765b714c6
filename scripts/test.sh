#!/usr/bin/env bash
# The whole IPdmux test suite, as CI runs it (.ci/run calls this). Run as root on Debian 12:
# installs dependencies, builds, runs unit and integration tests, the unit and integration tests
# again under ASan+UBSan, a short fuzz run of every fuzz target, and a benchmark smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's own python3 (with the packages install-deps.sh installs) before any other on PATH.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}  # per target; long fuzzing runs stay out of CI

bash scripts/install-deps.sh

passed=0
failed=0
failed_names=()

# Runs ctest in a build dir and adds its counts to the totals.
run_ctest() {
  local dir=$1 label=$2
  shift 2
  local log
  log=$(mktemp)
  if (cd "$dir" && ctest --output-on-failure --timeout 300 "$@") 2>&1 | tee "$log"; then :; fi
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1 || true)
  if [[ -z $line ]]; then
    failed=$((failed + 1)); failed_names+=("$label: ctest did not finish")
  else
    local nfail total
    nfail=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nfail)); failed=$((failed + nfail))
    ((nfail == 0)) || failed_names+=("$label: $nfail failed")
  fi
  rm -f "$log"
}

step() { echo; echo "=== $* ==="; }

step "structure check (layering, sizes, clang-format, root files, READMEs: scripts/check_structure.py)"
if python3 scripts/check_structure.py; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failed_names+=("structure check")
fi

step "build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"

step "unit and integration tests"
run_ctest build "tests"

step "ASan+UBSan build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDMUX_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
# The lab test (label "lab": real FRR, ~30 s) runs once, above; its daemons' code paths run under
# the sanitizers in the other integration tests.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan "sanitizers" -LE lab

step "fuzzing (${FUZZ_SECONDS}s per target, seeded with the spec's test vectors)"
cmake -S . -B build-fuzz -DDMUX_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
FUZZ_TARGETS=(tests/fuzz/fuzz_datagram common/crypto/fuzz_certificate provider/fuzz_provider_packet_path
              client/fuzz_client_return_path multicast/fuzz_mcast_router
              agent/fuzz_agent_tunnel_receiver registry/fuzz_registration_handler
              agent/fuzz_registration_reply tests/fuzz/fuzz_mesh_frames common/fuzz_offload
              sdk/fuzz_sdk_peer_channel examples/rendezvous/fuzz_rendezvous registry/fuzz_icmp_quote)
cmake --build build-fuzz -j"$JOBS" --target "${FUZZ_TARGETS[@]##*/}"
for target in "${FUZZ_TARGETS[@]}"; do
  name=${target##*/}
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/* "$corpus"/
  if "build-fuzz/$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" \
      > "build-fuzz/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "$name: $(grep -E '^Done' "build-fuzz/$name.log")"
  else
    failed=$((failed + 1)); failed_names+=("$name"); tail -40 "build-fuzz/$name.log"
  fi
  rm -rf "$corpus"
done

# Benchmark smoke runs: each script end to end in its quick mode (figures are not judged here).
smoke() {
  local name=$1
  shift
  step "benchmark smoke run ($name)"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
  fi
}
smoke "bench/forwarding --quick" env BUILD_DIR=build bash bench/forwarding/run.sh --quick
smoke "bench/mesh --quick" env BUILD_DIR=build python3 bench/mesh/run.py --quick
smoke "bench/mesh/control_thread --quick" python3 bench/mesh/control_thread.py --quick --build-dir build
smoke "bench/capture --quick" env BUILD_DIR=build DMUX_BUILD_DIR="$ROOT/build" python3 bench/capture/run.py --quick
smoke "bench/registration --quick" bash bench/registration/run.sh --quick 300
smoke "bench/multicast --quick" python3 bench/multicast/run.py --quick --build-dir build
smoke "bench/failover --quick" python3 bench/failover/run.py --quick --build-dir build

echo
for n in "${failed_names[@]}"; do echo "FAILED: $n"; done
echo "summary: $passed passed, $failed failed"
((failed == 0))
