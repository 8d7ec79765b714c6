#!/usr/bin/env bash
# Forwarding benchmark: dmuxd against the kernel's own DNAT forwarding, side by side in one run.
#
# Measures, for (a) dmuxd and (b) iptables DNAT, each in a middle namespace between a sender and a
# receiver namespace (lib/topology.sh draws the network):
#   - delivered packets/s at <= 0.1% loss, 64 flows, 64 B and 1400 B datagrams (rate search),
#     and dmuxd's CPU time per packet; dmuxd seals every TUNNEL under a static router key and the
#     sink checks every tag (a wrong one fails the run);
#   - round-trip latency with one packet in flight, everything pinned to one CPU, next to a plain
#     routed round trip through the same kind of middle (so "added" latency is the difference);
#   - full mode: the per-packet cost of each tag construction docs/protocol.md 5.5 weighs
#     (bench_mac_cost, pinned to dmuxd's CPU).
# README.md beside this script says how to read the results.
#
# Run as root from anywhere: bench/forwarding/run.sh [--quick] [--json FILE] [--trial S] [--repeat N]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/forwarding/run.sh [--quick] [--json FILE] [--trial SECONDS] [--repeat N]

  --quick          smoke test: 0.5 s trials, one search per path, no MAC micro-benchmark (< 60 s)
  --json FILE      also write the results as JSON to FILE
  --trial SECONDS  length of each throughput trial (default 2; --quick: 0.5)
  --repeat N       rate searches and latency runs per path; medians are reported
                   (default 3; --quick: 1)

Environment:
  BUILD_DIR        build tree with gateway/dmuxd and tools/loadgen/dmux-loadgen (default: build,
                   relative to the repo root)
  DMUXD, LOADGEN   paths of the two binaries (override BUILD_DIR)
  MAC_COST         path of bench_mac_cost (default BUILD_DIR/bench/forwarding/bench_mac_cost;
                   skipped with a warning if missing)
  DMUXD_ARGS       extra dmuxd arguments, e.g. "--gso off" (split on spaces)
  SENDER_CPU       CPU the sender is pinned to in throughput trials (default 0)
  MIDDLE_CPU       CPU dmuxd is pinned to in throughput trials (default 1)
  SINK_CPU         CPU the sink is pinned to (default: MIDDLE_CPU; set empty to leave it unpinned)
  BASELINE_BUILD_DIR  a build tree of the version-1 gateway (git archive 0e3f536: dmuxd without
                   tags, and its loadgen); if set, it is measured as path "v1" beside dmuxd
  LATENCY_CPU      the one CPU every process is pinned to for latency (default 0)
  SINK_GRO         "on" (default): every path's sink receives with UDP_GRO, as a router agent does;
                   "off": one datagram per slot
  VETH_GRO         "on": GRO on every veth of every path alike (ethtool -K DEV gro on), for
                   dmuxd's DATA sockets (UDP_GRO) and the sinks; "off" (default): the kernel's
                   veth default (the loadgen's datagrams arrive one by one either way, README.md)
  SINK_CHECK       "later" (default): the sink checks the trial's TUNNEL tags after the trial;
                   "inline": as they arrive, on the sink's CPU (dmuxd's), while measuring
EOF
}

# ---------------------------------------------------------------------------------------------
# Settings
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$REPO_ROOT/$BUILD_DIR
DMUXD=${DMUXD:-$BUILD_DIR/gateway/dmuxd}
LOADGEN=${LOADGEN:-$BUILD_DIR/tools/loadgen/dmux-loadgen}
MAC_COST=${MAC_COST:-$BUILD_DIR/bench/forwarding/bench_mac_cost}
TPUT_PATHS=(dmuxd dnat)
if [[ -n ${BASELINE_BUILD_DIR:-} ]]; then
  DMUXD_V1=$BASELINE_BUILD_DIR/gateway/dmuxd
  LOADGEN_V1=$BASELINE_BUILD_DIR/tools/loadgen/dmux-loadgen
  TPUT_PATHS+=(v1)
fi

QUICK=0 JSON_OUT="" REPEAT="" TRIAL_S=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --json)
      [[ $# -ge 2 ]] || { echo "run.sh: --json needs a FILE" >&2; exit 2; }
      JSON_OUT=$2; shift ;;
    --trial)
      [[ $# -ge 2 && $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "run.sh: --trial needs SECONDS" >&2; exit 2; }
      TRIAL_S=$2; shift ;;
    --repeat)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repeat needs a count" >&2; exit 2; }
      REPEAT=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

FLOWS=64
LOSS_LIMIT=0.001        # 0.1%
PING_WARMUP=200
if ((QUICK)); then
  TRIAL_S=${TRIAL_S:-0.5}; SIZES=(64 1400); PING_COUNT=5000; MAX_STEPS=4; REPEAT=${REPEAT:-1}
else
  TRIAL_S=${TRIAL_S:-2}; SIZES=(64 1400); PING_COUNT=20000; MAX_STEPS=8; REPEAT=${REPEAT:-3}
fi
NCPU=$(nproc)
SENDER_CPU=${SENDER_CPU:-0}
MIDDLE_CPU=${MIDDLE_CPU:-$((NCPU > 1 ? 1 : 0))}
SINK_CPU=${SINK_CPU-$MIDDLE_CPU}
LATENCY_CPU=${LATENCY_CPU:-0}
VETH_GRO=${VETH_GRO:-off}
[[ $VETH_GRO == on || $VETH_GRO == off ]] || { echo "run.sh: VETH_GRO must be on or off" >&2; exit 2; }

NS_SND=dmuxbench-$$-snd
NS_GW=dmuxbench-$$-gw
NS_NAT=dmuxbench-$$-nat
NS_RCV=dmuxbench-$$-rcv
TMP=$(mktemp -d /tmp/dmuxbench.XXXXXX)
BG_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }
calc() { awk "BEGIN { print ($*) }"; }
# Numeric field of a one-line JSON object (dmux-loadgen's output; keys are unique per line).
jnum() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.eE+-]*\).*/\1/p" "$1"; }

# shellcheck source=lib/topology.sh
source "$HERE/lib/topology.sh"
# shellcheck source=lib/measure.sh
source "$HERE/lib/measure.sh"
# shellcheck source=lib/report.sh
source "$HERE/lib/report.sh"

# ---------------------------------------------------------------------------------------------
# Cleanup on every exit (normal, error, Ctrl-C): only what this run created.
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}" "$DMUXD_PID" "$V1_PID"; do
    if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  done
  teardown_topology
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $EUID -eq 0 ]] || die "must run as root (network namespaces, iptables)"
[[ -x $DMUXD ]] || die "dmuxd not found at $DMUXD (build it, or set BUILD_DIR or DMUXD)"
[[ -x $LOADGEN ]] || die "dmux-loadgen not found at $LOADGEN (build it, or set BUILD_DIR or LOADGEN)"
if [[ -n ${BASELINE_BUILD_DIR:-} ]]; then
  [[ -x $DMUXD_V1 && -x $LOADGEN_V1 ]] || die "BASELINE_BUILD_DIR has no gateway/dmuxd and tools/loadgen/dmux-loadgen"
fi
for tool in ip iptables taskset ss awk; do
  command -v $tool >/dev/null || die "$tool is required"
done

# ---------------------------------------------------------------------------------------------
# Measurements

BUSY=$(cpu_busy_pct 1)
((BUSY <= 10)) || log "warning: the CPUs were ${BUSY}% busy before the run; other work distorts the figures"
START=$(date +%s)
log "namespaces dmuxbench-$$-{snd,gw,nat,rcv}; ${TRIAL_S}s trials, $FLOWS flows, sizes ${SIZES[*]} B"
[[ -z ${DMUXD_ARGS:-} ]] || log "extra dmuxd arguments: $DMUXD_ARGS"
setup_topology
make_tunnel_key
start_dmuxd "$LATENCY_CPU"
[[ -z ${BASELINE_BUILD_DIR:-} ]] || start_v1_dmuxd "$LATENCY_CPU"
for p in routed "${TPUT_PATHS[@]}"; do warm_up "$p"; done

log "latency (pinned to CPU $LATENCY_CPU)"
measure_latency

log "throughput"
pin_dmuxd "$MIDDLE_CPU"
for size in "${SIZES[@]}"; do measure_throughput "$size"; done

MAC_JSON=null MAC_TABLE=""
if ((!QUICK)); then
  if [[ -x $MAC_COST ]]; then
    log "tag constructions (bench_mac_cost, CPU $MIDDLE_CPU)"
    MAC_TABLE=$("$MAC_COST" --cpu "$MIDDLE_CPU" --json "$TMP/mac.json") || die "bench_mac_cost failed"
    MAC_JSON=$(cat "$TMP/mac.json")
  else
    log "warning: $MAC_COST not found (cmake --build ... --target bench_mac_cost); skipping"
  fi
fi

ELAPSED=$(($(date +%s) - START))
print_report
if [[ -n $JSON_OUT ]]; then
  write_json "$JSON_OUT"
  log "wrote $JSON_OUT"
fi

# A path that forwarded nothing, or answered no ping, is broken, not slow: fail (CI runs --quick).
for size in "${SIZES[@]}"; do
  for p in "${TPUT_PATHS[@]}"; do
    ((PPS[$p/$size] > 0)) || die "$p delivered nothing at ${size} B"
  done
done
for p in routed dnat dmuxd; do
  [[ $(calc "${P50[$p]:-0} > 0") == 1 ]] || die "$p answered no ping"
done
