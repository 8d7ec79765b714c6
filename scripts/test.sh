#!/usr/bin/env bash
# The whole IPdmux test suite, as CI runs it (.ci/run calls this). Run as root on Debian 12:
# installs dependencies, builds, runs unit and integration tests, the unit and integration tests
# again under ASan+UBSan, a short fuzz run of every fuzz target, and a benchmark smoke run.
# The sanitizer build is clang's, with libFuzzer's coverage instrumentation: the same build runs
# the tests under ASan+UBSan and drives the fuzz targets, so the code compiles twice, not three
# times.
# Its budget is 20 minutes on an idle 2-core machine (CI): the tests and benchmark smoke runs
# (which mostly wait on timers and sockets) run while the next builds compile at the lowest CPU
# priority, and a table of every phase's wall and CPU time ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's own python3 (with the packages install-deps.sh installs) before any other on PATH.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
TEST_JOBS=${TEST_JOBS:-2}        # ctest -j: 4 is faster, but timing-bound tests flake beside a build
FUZZ_SECONDS=${FUZZ_SECONDS:-10} # per target; long fuzzing runs stay out of CI
FUZZ_JOBS=${FUZZ_JOBS:-$JOBS}    # fuzz targets run at the same time
BUILD_NICE=${BUILD_NICE:-19}     # of the background builds (0 on a machine others load)
LOGS=$(mktemp -d /tmp/dmux-test.XXXXXX)
stop_builds() {
  local pidfile
  for pidfile in "$LOGS"/*.pid; do
    [[ -e $pidfile && ! -e ${pidfile%.pid}.rc ]] || continue
    kill -- "-$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap 'stop_builds; rm -rf "$LOGS"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# CI builds: line tables only (-g1: enough for sanitizer and crash stack traces; full -g costs
# ~15% more compile time and much more link time) and lld, the fast linker (install-deps.sh).
CI_CMAKE=(-DDMUX_LINKER=lld)
RELEASE_CMAKE=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
# Debug keeps the assertions. -O0: clang compiles it with ASan, UBSan and the coverage
# instrumentation in 0.85x the CPU of gcc -O0 with ASan+UBSan alone (-O1: 1.4x).
SAN_CMAKE=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" -DDMUX_SANITIZE=ON
           -DDMUX_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++)
FUZZ_TARGETS=(tests/fuzz/fuzz_datagram common/crypto/fuzz_certificate provider/fuzz_provider_packet_path
              client/fuzz_client_return_path multicast/fuzz_mcast_router
              agent/fuzz_agent_tunnel_receiver registry/fuzz_registration_handler
              agent/fuzz_registration_reply tests/fuzz/fuzz_mesh_frames common/fuzz_offload
              sdk/fuzz_sdk_peer_channel examples/rendezvous/fuzz_rendezvous registry/fuzz_icmp_quote)

# Per-phase wall and CPU time (user+sys of everything the phase ran), printed at the end.
phase_rows=()
phase_name=""
cpu_ticks() {  # utime stime cutime cstime of a process (this shell by default), in 1/100 s
  local s
  read -r s <"/proc/${1:-$$}/stat"
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $((${12} + ${13} + ${14} + ${15}))
}
row() { printf '%-66s %7.1f %8.1f' "$1" "$(($2 / 1000000))e-3" "$3e-2"; }
phase_end() {
  [[ -n $phase_name ]] || return 0
  local t1 c1
  t1=$(date +%s%N) c1=$(cpu_ticks)
  phase_rows+=("$(row "$phase_name" $((t1 - phase_t0)) $((c1 - phase_c0)))")
  phase_name=""
}
phase() {
  phase_end
  phase_name=$1 phase_t0=$(date +%s%N) phase_c0=$(cpu_ticks)
  echo; echo "=== $* ==="
}
suite_t0=$(date +%s%N) suite_c0=$(cpu_ticks)

phase "install the build's dependencies (scripts/install-deps.sh --build)"
bash scripts/install-deps.sh --build
# The rest (test tools, FRR, clang for the fuzz build, benchmark peers) while the build compiles.
bash scripts/install-deps.sh >"$LOGS/deps.log" 2>&1 &
deps_pid=$!

passed=0
failed=0
failed_names=()

# Runs ctest in a build dir (its output also goes to the log file named).
run_ctest() {
  local dir=$1 log=$2
  shift 2
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j"$TEST_JOBS" "$@") 2>&1 | tee "$log" || true
}
# Adds the counts of a ctest log to the totals.
count_ctest() {
  local log=$1 label=$2 line nfail total
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1 || true)
  if [[ -z $line ]]; then
    failed=$((failed + 1)); failed_names+=("$label: ctest did not finish")
  else
    nfail=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nfail)); failed=$((failed + nfail))
    ((nfail == 0)) || failed_names+=("$label: $nfail failed")
  fi
}
# The sanitizer build compiles in the background at the lowest CPU priority while the release
# build's tests and benchmarks run (they mostly wait on timers and sockets; the compiler takes the
# CPU they leave). Each build leaves NAME.rc, its log
# NAME.log and its wall and CPU time NAME.time in $LOGS; wait_build stops the suite if it failed.
# Each build runs in its own process group (NAME.pid), which stop_builds ends if the suite stops
# before it is done.
background_build() {
  local name=$1
  shift
  setsid nice -n "$BUILD_NICE" "$@" >"$LOGS/$name.log" 2>&1 &
  echo $! >"$LOGS/$name.pid"
  wait $!
}
background_builds() {
  local me=$BASHPID name t0 c0 rc
  for name in "$@"; do
    kill -0 "$suite_pid" 2>/dev/null || break
    t0=$(date +%s%N) c0=$(cpu_ticks "$me") rc=0
    case $name in
      san) background_build san cmake --build build-san -j"$JOBS" || rc=$? ;;
    esac
    echo "$(($(date +%s%N) - t0)) $(($(cpu_ticks "$me") - c0))" >"$LOGS/$name.time"
    echo "$rc" >"$LOGS/$name.rc"
    ((rc == 0)) || break
  done
}
wait_build() {
  local name=$1 what=$2
  while [[ ! -e $LOGS/$name.rc ]]; do sleep 1; done
  local wall cpu
  read -r wall cpu <"$LOGS/$name.time"
  build_rows+=("$(row "$what (background, nice $BUILD_NICE)" "$wall" "$cpu")")
  build_cpu=$((build_cpu + cpu))
  if [[ $(cat "$LOGS/$name.rc") != 0 ]]; then
    cat "$LOGS/$name.log"; echo "$what FAILED"; exit 1
  fi
  echo "$what: done ($(grep -c 'Building CXX' "$LOGS/$name.log" || true) files compiled)"
}
build_rows=()
build_cpu=0
# Benchmark smoke runs: each script end to end in its quick mode (figures are not judged here).
smoke() {
  local name=$1
  shift
  phase "benchmark smoke run ($name)"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
  fi
}

# Layering, sizes, clang-format, root files, READMEs.
phase "structure check (scripts/check_structure.py)"
if python3 scripts/check_structure.py; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failed_names+=("structure check")
fi

phase "build (RelWithDebInfo at -g1, warnings are errors)"
cmake -S . -B build "${RELEASE_CMAKE[@]}" "${CI_CMAKE[@]}" >/dev/null
cmake --build build -j"$JOBS"

phase "waiting for the other dependencies (scripts/install-deps.sh)"
if ! wait "$deps_pid"; then cat "$LOGS/deps.log"; echo "install-deps.sh FAILED"; exit 1; fi
cat "$LOGS/deps.log"

phase "configure the sanitizer build (clang, ASan+UBSan, fuzz targets), start it"
# The release build again too: its tests that need a tool installed meanwhile (promtool) appear.
cmake -S . -B build >/dev/null
cmake -S . -B build-san "${SAN_CMAKE[@]}" "${CI_CMAKE[@]}" >/dev/null
# Not a child of this shell: its CPU time is not counted in the phases it overlaps.
suite_pid=$$
(background_builds san </dev/null >/dev/null 2>&1 &)

phase "unit and integration tests (ctest -j$TEST_JOBS)"
run_ctest build "$LOGS/tests.log"
count_ctest "$LOGS/tests.log" "tests"

smoke "bench/forwarding --quick" env BUILD_DIR=build bash bench/forwarding/run.sh --quick
smoke "bench/mesh --quick" env BUILD_DIR=build python3 bench/mesh/run.py --quick
smoke "bench/mesh/control_thread --quick" python3 bench/mesh/control_thread.py --quick --build-dir build
smoke "bench/capture --quick" env BUILD_DIR=build DMUX_BUILD_DIR="$ROOT/build" python3 bench/capture/run.py --quick
smoke "bench/registration --quick" bash bench/registration/run.sh --quick 300
smoke "bench/multicast --quick" python3 bench/multicast/run.py --quick --build-dir build
smoke "bench/failover --quick" python3 bench/failover/run.py --quick --build-dir build

phase "waiting for the sanitizer build (clang, Debug at -O0 -g1)"
wait_build san "sanitizer build (ASan+UBSan, libFuzzer)"

# Seeded with the spec's test vectors. The fuzz targets run beside the sanitizer tests, at the
# background builds' priority: they are CPU-bound for a fixed time, the tests mostly wait.
fuzz_one() {
  local target=$1 name=${1##*/} corpus rc=0
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/* "$corpus"/
  nice -n "$BUILD_NICE" "build-san/$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
    "$corpus" >"build-san/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$LOGS/fuzz-$name.rc"
  rm -rf "$corpus"
}
fuzz_all() {
  local running=0 target
  for target in "${FUZZ_TARGETS[@]}"; do
    if ((running >= FUZZ_JOBS)); then wait -n || true; running=$((running - 1)); fi
    fuzz_one "$target" &
    running=$((running + 1))
  done
  wait
}
fuzz_all </dev/null &
fuzz_pid=$!

phase "ASan+UBSan tests (ctest -j$TEST_JOBS), fuzzing beside them (${FUZZ_SECONDS}s per target, $FUZZ_JOBS at a time)"
# The lab test (label "lab": real FRR, ~1 min) runs once, above; its daemons' code paths run under
# the sanitizers in the other integration tests. The promtool rules and the Python protocol
# vectors run no program of ours, so once is enough too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-san "$LOGS/sanitizers.log" -LE lab -E '^(dashboards[.]rules|unit[.]pylib_vectors)$'
count_ctest "$LOGS/sanitizers.log" "sanitizers"

phase "fuzzing: the rest of it"
wait "$fuzz_pid" || true
for target in "${FUZZ_TARGETS[@]}"; do
  name=${target##*/}
  if [[ $(cat "$LOGS/fuzz-$name.rc" 2>/dev/null) == 0 ]]; then
    passed=$((passed + 1)); echo "$name: $(grep -E '^Done' "build-san/$name.log")"
  else
    failed=$((failed + 1)); failed_names+=("$name"); tail -40 "build-san/$name.log"
  fi
done
phase_end

echo
printf '%-66s %7s %8s\n' "phase (the background builds overlap the phases after the build)" "wall s" "CPU s"
printf '%s\n' "${phase_rows[@]}" "${build_rows[@]}"
suite_t1=$(date +%s%N) suite_c1=$(cpu_ticks)
row "total" $((suite_t1 - suite_t0)) $((suite_c1 - suite_c0 + build_cpu)); echo
echo
for n in "${failed_names[@]}"; do echo "FAILED: $n"; done
echo "summary: $passed passed, $failed failed"
((failed == 0))
