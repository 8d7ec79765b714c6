#!/usr/bin/env bash
# Forwarding benchmark: dmuxd against the kernel's own DNAT forwarding, side by side, same run.
#
#   sender ns --veth-- middle ns --veth-- receiver ns
#   198.18.1.2         198.18.1.1 | 198.18.2.1         198.18.2.2
#
# Measures, for (a) dmuxd in the middle and (b) iptables DNAT in the middle:
#   - delivered packets/s at <= 0.1% loss, 64 flows, 64 B and 1400 B datagrams (rate search);
#   - round-trip latency with one packet in flight, everything pinned to one CPU, next to a plain
#     routed round trip through the same middle namespace (so "added" latency is the difference).
# See README.md beside this script for how to read the results.
#
# Run as root from anywhere:  bench/forwarding/run.sh [--quick] [--json FILE] [--trial SECONDS]
# Binaries come from $BUILD_DIR (default: build, relative to the repo root); DMUXD and LOADGEN
# override each one.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/forwarding/run.sh [--quick] [--json FILE] [--trial SECONDS]

  --quick          smoke test: 0.5 s trials, 64 B only, short latency runs (< 60 s)
  --json FILE      also write the results as JSON to FILE
  --trial SECONDS  length of each throughput trial (default 2; --quick: 0.5)

Environment:
  BUILD_DIR        build tree holding gateway/dmuxd and tools/loadgen/dmux-loadgen (default: build,
                   relative to the repo root)
  DMUXD, LOADGEN   paths of the two binaries (override BUILD_DIR)
  SENDER_CPU       CPU the sender is pinned to during throughput trials (default 0)
  MIDDLE_CPU       CPU dmuxd is pinned to during throughput trials (default 1)
  SINK_CPU         CPU the sink is pinned to (default: not pinned)
  LATENCY_CPU      the one CPU every process is pinned to for latency (default 0)
EOF
}

# ---------------------------------------------------------------------------------------------
# Settings
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$REPO_ROOT/$BUILD_DIR
DMUXD=${DMUXD:-$BUILD_DIR/gateway/dmuxd}
LOADGEN=${LOADGEN:-$BUILD_DIR/tools/loadgen/dmux-loadgen}

QUICK=0
JSON_OUT=""
TRIAL_S=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --json) [[ $# -ge 2 ]] || { echo "run.sh: --json needs a FILE" >&2; exit 2; }
            JSON_OUT=$2; shift ;;
    --trial) [[ $# -ge 2 && $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
               { echo "run.sh: --trial needs SECONDS" >&2; exit 2; }
             TRIAL_S=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

FLOWS=64
LOSS_LIMIT=0.001        # 0.1%
if ((QUICK)); then
  TRIAL_S=${TRIAL_S:-0.5}; SIZES=(64); PING_COUNT=1000; MAX_STEPS=4
else
  TRIAL_S=${TRIAL_S:-2}; SIZES=(64 1400); PING_COUNT=5000; MAX_STEPS=8
fi
PING_WARMUP=200
NCPU=$(nproc)
SENDER_CPU=${SENDER_CPU:-0}
MIDDLE_CPU=${MIDDLE_CPU:-$((NCPU > 1 ? 1 : 0))}
SINK_CPU=${SINK_CPU:-}
LATENCY_CPU=${LATENCY_CPU:-0}

RUN=$$
NS_SND=dmuxbench-$RUN-snd
NS_MID=dmuxbench-$RUN-mid
NS_RCV=dmuxbench-$RUN-rcv
SND_IP=198.18.1.2
MID_IN=198.18.1.1
MID_OUT=198.18.2.1
RCV_IP=198.18.2.2
DMUX_PORT=4500          # dmuxd listens here for DATA
DNAT_PORT=4600          # DNAT'd to the receiver
RCV_PORT=5000           # sink / echo (the "router")
PROVIDER=7
DNAT_RULE=(PREROUTING -d $MID_IN -p udp --dport $DNAT_PORT -j DNAT --to-destination $RCV_IP:$RCV_PORT)

TMP=$(mktemp -d /tmp/dmuxbench.XXXXXX)
CONTROL_SOCKET=$TMP/dmuxd.sock
DMUXD_PID=""
DNAT_ADDED=0
BG_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Cleanup: runs on every exit (normal, error, Ctrl-C). Only touches what this run created.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}" $DMUXD_PID; do
    kill "$pid" 2>/dev/null || true
  done
  if ((DNAT_ADDED)); then
    ip netns exec "$NS_MID" iptables -t nat -D "${DNAT_RULE[@]}" 2>/dev/null || true
  fi
  for ns in "$NS_SND" "$NS_MID" "$NS_RCV"; do
    if ip netns list | grep -qw "$ns"; then
      # Anything still running inside our own namespaces was started by this run.
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Helpers
# Foreground only: a backgrounded function would be a subshell and $! its pid, so background
# processes are started with "ip netns exec" directly (it execs, so $! is the program's pid).
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
pin() { [[ -n $1 ]] && echo "taskset -c $1" || true; }   # "taskset -c N", or nothing

# Numeric field of a one-line JSON object (dmux-loadgen's output).
jnum() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.eE+-]*\).*/\1/p" "$1"; }
calc() { awk "BEGIN { print ($*) }"; }

wait_udp_port() {  # NS PORT: until something is bound to PORT in NS (3 s at most)
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -n $(in_ns "$1" ss -Hlun "sport = :$2") ]] && return 0
    sleep 0.01
  done
  die "nothing bound to UDP port $2 in $1 after 3 s"
}

check_prerequisites() {
  [[ $EUID -eq 0 ]] || die "must run as root (network namespaces, iptables)"
  [[ -x $DMUXD ]] || die "dmuxd not found at $DMUXD (build it, or set BUILD_DIR or DMUXD)"
  [[ -x $LOADGEN ]] || die "dmux-loadgen not found at $LOADGEN (build it, or set BUILD_DIR or LOADGEN)"
  local tool
  for tool in ip iptables taskset ss awk; do
    command -v $tool >/dev/null || die "$tool is required"
  done
}

setup_topology() {
  ip netns add "$NS_SND"; ip netns add "$NS_MID"; ip netns add "$NS_RCV"
  # Both ends of each veth are created directly inside the namespaces: nothing in the root one.
  ip link add snd0 netns "$NS_SND" type veth peer name mid0 netns "$NS_MID"
  ip link add mid1 netns "$NS_MID" type veth peer name rcv0 netns "$NS_RCV"
  in_ns "$NS_SND" ip addr add $SND_IP/24 dev snd0
  in_ns "$NS_MID" ip addr add $MID_IN/24 dev mid0
  in_ns "$NS_MID" ip addr add $MID_OUT/24 dev mid1
  in_ns "$NS_RCV" ip addr add $RCV_IP/24 dev rcv0
  local ns
  for ns in "$NS_SND" "$NS_MID" "$NS_RCV"; do in_ns "$ns" ip link set lo up; done
  in_ns "$NS_SND" ip link set snd0 up
  in_ns "$NS_MID" ip link set mid0 up
  in_ns "$NS_MID" ip link set mid1 up
  in_ns "$NS_RCV" ip link set rcv0 up
  in_ns "$NS_SND" ip route add default via $MID_IN
  in_ns "$NS_RCV" ip route add default via $MID_OUT
  in_ns "$NS_MID" sysctl -qw net.ipv4.ip_forward=1
}

start_dmuxd() {
  ip netns exec "$NS_MID" $(pin "$MIDDLE_CPU") "$DMUXD" --listen $MID_IN:$DMUX_PORT --gateway-id $MID_IN \
    --static-router "ipv6 $PROVIDER $RCV_IP:$RCV_PORT" --workers 1 --metrics-listen off \
    --control-socket "$CONTROL_SOCKET" --tunnel-source $MID_OUT --log-level warn \
    >"$TMP/dmuxd.log" 2>&1 &
  DMUXD_PID=$!
  wait_udp_port "$NS_MID" $DMUX_PORT
  kill -0 "$DMUXD_PID" 2>/dev/null || die "dmuxd exited: $(cat "$TMP/dmuxd.log")"
}

# Sender arguments for a path: where to send and whether to add the DATA shim.
path_target() {
  case $1 in
    dmuxd) echo "--target $MID_IN:$DMUX_PORT --shim ipv6,$PROVIDER" ;;
    dnat) echo "--target $MID_IN:$DNAT_PORT" ;;
    routed) echo "--target $RCV_IP:$RCV_PORT" ;;
  esac
}

# Resolves ARP on both legs and creates conntrack state before anything is measured.
warm_up() {
  in_ns "$NS_SND" "$LOADGEN" send $(path_target "$1") --flows $FLOWS --size 64 --rate 2000 \
    --duration 0.2 >/dev/null
}

cpu_busy_pct() {  # SECONDS: share of all CPUs' time not idle over that interval, in percent
  local a b
  read -ra a < <(head -1 /proc/stat); sleep "$1"; read -ra b < <(head -1 /proc/stat)
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  local idle=$((b[4] + b[5] - a[4] - a[5]))
  echo $((total > 0 ? 100 - 100 * idle / total : 0))
}

cpu_ticks() {  # utime+stime of a process, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# One throughput trial. Sets T_SENT T_RECV T_ELAPSED T_INVALID T_LOSS T_DELIVERED T_CPU_US.
trial() {
  local path=$1 size=$2 rate=$3 expect=any
  [[ $path == dmuxd ]] && expect=tunnel
  ip netns exec "$NS_RCV" $(pin "$SINK_CPU") "$LOADGEN" sink --listen $RCV_IP:$RCV_PORT --expect $expect \
    --idle 0.3 --duration "$(calc "$TRIAL_S + 3")" >"$TMP/sink.json" &
  local sink_pid=$!
  BG_PIDS+=("$sink_pid")
  wait_udp_port "$NS_RCV" $RCV_PORT
  local ticks0=0
  [[ $path == dmuxd ]] && ticks0=$(cpu_ticks "$DMUXD_PID")
  in_ns "$NS_SND" $(pin "$SENDER_CPU") "$LOADGEN" send $(path_target "$path") --flows $FLOWS \
    --size "$size" --rate "$rate" --duration "$TRIAL_S" >"$TMP/send.json"
  T_CPU_US=0
  wait "$sink_pid" || die "sink failed"
  BG_PIDS=("${BG_PIDS[@]/$sink_pid}")
  T_SENT=$(jnum "$TMP/send.json" packets)
  T_ELAPSED=$(jnum "$TMP/send.json" elapsed_s)
  T_RECV=$(jnum "$TMP/sink.json" packets)
  T_INVALID=$(jnum "$TMP/sink.json" invalid)
  T_LOSS=$(calc "$T_SENT > 0 ? ($T_SENT - $T_RECV) / $T_SENT : 1")
  T_DELIVERED=$(calc "int($T_RECV / $T_ELAPSED)")
  if [[ $path == dmuxd ]]; then
    local ticks1 hz
    ticks1=$(cpu_ticks "$DMUXD_PID"); hz=$(getconf CLK_TCK)
    T_CPU_US=$(calc "$T_RECV > 0 ? ($ticks1 - $ticks0) * 1e6 / $hz / $T_RECV : 0")
  fi
  ((T_INVALID == 0)) || die "$path: the sink saw $T_INVALID invalid datagrams"
  log "  $path ${size}B rate=$([[ $rate == 0 ]] && echo max || echo "$rate") sent=$T_SENT" \
      "delivered=$T_RECV loss=$(calc "$T_LOSS * 100")% -> $T_DELIVERED pps"
}

# Rate search: a max-rate trial gives the ceiling; then step down from what was delivered until
# loss <= LOSS_LIMIT. Sets R_PPS R_LOSS R_TARGET R_TRIALS R_CONVERGED R_CPU_US, and R_LIMIT: "sender"
# if even the max-rate trial lost nothing (the middle kept up with all the sender could offer), else
# "middle".
rate_search() {
  local path=$1 size=$2 rate=0 step
  R_TRIALS=0; R_CONVERGED=0
  for ((step = 0; step <= MAX_STEPS; step++)); do
    trial "$path" "$size" "$rate"
    R_TRIALS=$((R_TRIALS + 1))
    R_PPS=$T_DELIVERED; R_LOSS=$T_LOSS; R_TARGET=$rate; R_CPU_US=$T_CPU_US
    local ok
    ok=$(calc "$T_LOSS <= $LOSS_LIMIT")
    if ((step == 0)); then
      R_MAX_LOSS=$T_LOSS
      ((ok)) && R_LIMIT=sender || R_LIMIT=middle
    fi
    if ((ok)); then R_CONVERGED=1; return; fi
    # Next: the rate that was delivered, then 8% lower each time (and below what got through).
    if ((rate == 0)); then
      rate=$T_DELIVERED
    else
      rate=$(calc "int(($rate * 0.92 < $T_DELIVERED * 0.97) ? $rate * 0.92 : $T_DELIVERED * 0.97)")
    fi
    ((rate > 0)) || break
  done
  log "  $path ${size}B: loss never got below $(calc "$LOSS_LIMIT * 100")%; reporting the last trial"
}

# Round trips with one packet in flight, pinger + echo (+ dmuxd) all on LATENCY_CPU.
# Sets L_P50 L_P99 L_MEAN L_LOST.
latency() {
  local path=$1 mode=raw
  [[ $path == dmuxd ]] && mode=tunnel
  ip netns exec "$NS_RCV" taskset -c "$LATENCY_CPU" "$LOADGEN" echo --listen $RCV_IP:$RCV_PORT \
    --mode $mode >"$TMP/echo.json" &
  local echo_pid=$!
  BG_PIDS+=("$echo_pid")
  wait_udp_port "$NS_RCV" $RCV_PORT
  in_ns "$NS_SND" taskset -c "$LATENCY_CPU" "$LOADGEN" ping $(path_target "$path") --size 64 \
    --count $PING_COUNT --warmup $PING_WARMUP >"$TMP/ping.json"
  kill "$echo_pid"; wait "$echo_pid" || true
  BG_PIDS=("${BG_PIDS[@]/$echo_pid}")
  L_P50=$(jnum "$TMP/ping.json" p50)
  L_P99=$(jnum "$TMP/ping.json" p99)
  L_MEAN=$(jnum "$TMP/ping.json" mean)
  L_LOST=$(jnum "$TMP/ping.json" lost)
  log "  $path: RTT p50 ${L_P50} us, p99 ${L_P99} us, mean ${L_MEAN} us, lost $L_LOST"
}

# ---------------------------------------------------------------------------------------------
# Measurements. Order matters: the routed baseline and dmuxd run before any iptables rule exists
# in the middle namespace, so conntrack is not loaded there and does not tax them.
check_prerequisites
BUSY=$(cpu_busy_pct 1)
if ((BUSY > 10)); then
  log "warning: the CPUs were ${BUSY}% busy before the run; other work distorts both paths' figures"
fi
START=$(date +%s)
log "topology: $NS_SND -> $NS_MID -> $NS_RCV; trials ${TRIAL_S}s, $FLOWS flows, sizes ${SIZES[*]} B"
setup_topology

declare -A PPS LOSS TARGET TRIALS CONVERGED CPU_US LIMIT MAX_LOSS P50 P99 MEAN LOST
record_latency() { P50[$1]=$L_P50; P99[$1]=$L_P99; MEAN[$1]=$L_MEAN; LOST[$1]=$L_LOST; }
record_rate() {
  PPS[$1]=$R_PPS; LOSS[$1]=$R_LOSS; TARGET[$1]=$R_TARGET; TRIALS[$1]=$R_TRIALS
  CONVERGED[$1]=$R_CONVERGED; CPU_US[$1]=$R_CPU_US; LIMIT[$1]=$R_LIMIT; MAX_LOSS[$1]=$R_MAX_LOSS
}

log "latency, routed baseline (pinned to CPU $LATENCY_CPU)"
warm_up routed
latency routed; record_latency routed

log "dmuxd"
start_dmuxd
warm_up dmuxd
for size in "${SIZES[@]}"; do rate_search dmuxd "$size"; record_rate "dmuxd/$size"; done
taskset -a -p -c "$LATENCY_CPU" "$DMUXD_PID" >/dev/null
latency dmuxd; record_latency dmuxd
kill "$DMUXD_PID"; wait "$DMUXD_PID" || true; DMUXD_PID=""

log "kernel DNAT"
in_ns "$NS_MID" iptables -t nat -A "${DNAT_RULE[@]}"; DNAT_ADDED=1
warm_up dnat
for size in "${SIZES[@]}"; do rate_search dnat "$size"; record_rate "dnat/$size"; done
latency dnat; record_latency dnat

ELAPSED=$(( $(date +%s) - START ))

# ---------------------------------------------------------------------------------------------
# Report
ratio() { calc "($2 > 0) ? sprintf(\"%.2f\", $1 / $2) : \"n/a\""; }
f1() { calc "sprintf(\"%.1f\", $1)"; }

echo
echo "IPdmux forwarding benchmark: dmuxd vs kernel DNAT (same run, same veth topology)"
echo "throughput: delivered packets/s at <= $(calc "$LOSS_LIMIT * 100")% loss, $FLOWS flows," \
     "${TRIAL_S}s trials (sender CPU ${SENDER_CPU:-any}, dmuxd CPU ${MIDDLE_CPU:-any})"
printf '  %-8s %12s %12s %11s %17s %15s\n' size dmuxd DNAT dmuxd/DNAT "dmuxd CPU us/pkt" \
  "limited by d/N"
for size in "${SIZES[@]}"; do
  d=dmuxd/$size n=dnat/$size
  note=""
  ((CONVERGED[$d] && CONVERGED[$n])) || note="  (loss limit not reached)"
  printf '  %-8s %12s %12s %11s %17s %15s%s\n' "${size} B" "${PPS[$d]}" "${PPS[$n]}" \
    "$(ratio "${PPS[$d]}" "${PPS[$n]}")" "$(calc "sprintf(\"%.2f\", ${CPU_US[$d]})")" \
    "${LIMIT[$d]}/${LIMIT[$n]}" "$note"
done
echo "latency: round trip, one packet in flight, 64 B, everything pinned to CPU $LATENCY_CPU" \
     "($PING_COUNT samples)"
printf '  %-8s %9s %9s %9s %12s %12s\n' path p50_us p99_us mean_us added_p50 added_p99
for p in routed dnat dmuxd; do
  if [[ $p == routed ]]; then a50="-"; a99="-"; else
    a50=$(f1 "${P50[$p]} - ${P50[routed]}"); a99=$(f1 "${P99[$p]} - ${P99[routed]}"); fi
  printf '  %-8s %9s %9s %9s %12s %12s\n' "$p" "$(f1 "${P50[$p]}")" "$(f1 "${P99[$p]}")" \
    "$(f1 "${MEAN[$p]}")" "$a50" "$a99"
done
ADD_D=$(calc "${P50[dmuxd]} - ${P50[routed]}")
ADD_N=$(calc "${P50[dnat]} - ${P50[routed]}")
echo "  dmuxd - DNAT: p50 $(f1 "${P50[dmuxd]} - ${P50[dnat]}") us," \
     "p99 $(f1 "${P99[dmuxd]} - ${P99[dnat]}") us;" \
     "RTT ratio dmuxd/DNAT p50 $(ratio "${P50[dmuxd]}" "${P50[dnat]}")," \
     "p99 $(ratio "${P99[dmuxd]}" "${P99[dnat]}")"
echo "finished in ${ELAPSED}s"

if [[ -n $JSON_OUT ]]; then
  {
    printf '{"benchmark":"forwarding","quick":%s,"flows":%d,"trial_s":%s,"loss_limit":%s,' \
      "$([[ $QUICK == 1 ]] && echo true || echo false)" $FLOWS "$TRIAL_S" "$LOSS_LIMIT"
    printf '"cpus":{"sender":%s,"dmuxd":%s,"sink":%s,"latency":%s},"busy_before_pct":%d,' \
      "${SENDER_CPU:-null}" "${MIDDLE_CPU:-null}" "${SINK_CPU:-null}" "$LATENCY_CPU" "$BUSY"
    printf '"throughput":['
    sep=""
    for size in "${SIZES[@]}"; do
      for p in dmuxd dnat; do
        k=$p/$size
        printf '%s{"path":"%s","datagram_bytes":%d,"delivered_pps":%s,"loss":%s,"target_pps":%s,' \
          "$sep" "$p" "$size" "${PPS[$k]}" "${LOSS[$k]}" "${TARGET[$k]}"
        printf '"max_rate_loss":%s,"limited_by":"%s",' "${MAX_LOSS[$k]}" "${LIMIT[$k]}"
        printf '"trials":%s,"converged":%s,"process_cpu_us_per_packet":%s}' "${TRIALS[$k]}" \
          "$([[ ${CONVERGED[$k]} == 1 ]] && echo true || echo false)" \
          "$([[ $p == dmuxd ]] && echo "${CPU_US[$k]}" || echo null)"
        sep=","
      done
    done
    printf '],"latency_us":{'
    sep=""
    for p in routed dnat dmuxd; do
      printf '%s"%s":{"p50":%s,"p99":%s,"mean":%s,"lost":%s}' "$sep" "$p" "${P50[$p]}" \
        "${P99[$p]}" "${MEAN[$p]}" "${LOST[$p]}"
      sep=","
    done
    printf '},"ratios":{'
    sep=""
    for size in "${SIZES[@]}"; do
      printf '%s"pps_dmuxd_over_dnat_%d":%s' "$sep" "$size" \
        "$(ratio "${PPS[dmuxd/$size]}" "${PPS[dnat/$size]}" | sed 's/n\/a/null/')"
      sep=","
    done
    printf ',"rtt_p50_dmuxd_over_dnat":%s,"rtt_p99_dmuxd_over_dnat":%s' \
      "$(ratio "${P50[dmuxd]}" "${P50[dnat]}")" "$(ratio "${P99[dmuxd]}" "${P99[dnat]}")"
    printf ',"added_p50_us":{"dmuxd":%s,"dnat":%s}}' "$ADD_D" "$ADD_N"
    printf ',"elapsed_s":%d}\n' "$ELAPSED"
  } >"$JSON_OUT"
  log "wrote $JSON_OUT"
fi
