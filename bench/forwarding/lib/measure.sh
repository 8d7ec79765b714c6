# shellcheck shell=bash disable=SC2034,SC2153
# (SC2034: the results are read by lib/report.sh; SC2153: the settings come from run.sh.)
# Throughput trials, the rate search, and latency runs. Sourced by run.sh; uses its settings
# (LOADGEN, FLOWS, TRIAL_S, LOSS_LIMIT, MAX_STEPS, REPEAT, PING_*, *_CPU) and lib/topology.sh.

# Results, keyed by PATH/SIZE (throughput) or PATH (latency); lib/report.sh prints them.
declare -gA PPS LOSS TARGET TRIALS CONVERGED CPU_US LIMIT MAX_LOSS UNSTABLE ALL
declare -gA LAT_RUNS P50 P99 MEAN LOST

pin() { if [[ -n $1 ]]; then echo "taskset -c $1"; fi; }   # "taskset -c N", or nothing

# The sink keeps the TUNNELs of a trial and checks their tags after it, so that checking (as
# costly as sealing) does not take dmuxd's CPU while it is measured: room for 320k pps over the
# trial, at most 1.5 GiB (what does not fit is checked as it arrives). SINK_CHECK=inline: 0.
check_later_mb() {  # SIZE
  [[ ${SINK_CHECK:-later} == inline ]] && { echo 0; return; }
  calc "int(320000 * ($TRIAL_S + 1) * ($1 + 40) / 1048576 + 1) < 1536 ? int(320000 * ($TRIAL_S + 1) * ($1 + 40) / 1048576 + 1) : 1536"
}

# Resolves ARP on both legs (and creates conntrack state) before anything is measured.
warm_up() {
  # shellcheck disable=SC2046
  in_ns "$NS_SND" "$(path_loadgen "$1")" send $(path_send_args "$1") --flows "$FLOWS" --size 64 --rate 2000 \
    --duration 0.2 >/dev/null
}

cpu_busy_pct() {  # SECONDS: share of all CPUs' time not idle over that interval, in percent
  local a b total=0 i idle
  read -ra a < <(head -1 /proc/stat); sleep "$1"; read -ra b < <(head -1 /proc/stat)
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$((b[4] + b[5] - a[4] - a[5]))
  echo $((total > 0 ? 100 - 100 * idle / total : 0))
}

udp_rcvbuf_errors() {  # NS: datagrams the namespace's UDP sockets dropped for a full receive buffer
  # shellcheck disable=SC2016  # an awk program
  in_ns "$1" awk '/^Udp:/ { if (!col) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") col = i }
                            else print $col }' /proc/net/snmp
}

cpu_ticks() {  # PID: utime+stime of a process, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# One throughput trial: PATH SIZE RATE (0 = as fast as possible). Sets T_SENT T_RECV T_ELAPSED
# T_LOSS T_DELIVERED T_CPU_US (the forwarding process's CPU per delivered packet, dmuxd and the
# baseline), and T_DROP_MID / T_DROP_RCV:
# datagrams dropped at full socket buffers in the middle (dmuxd's socket) and at the sink.
trial() {
  local path=$1 size=$2 rate=$3 mid ticks0=0 mid0 rcv0 sink_pid check=(--expect any) pid
  # On the dmuxd path every datagram must be a TUNNEL whose tag is right under the router's key.
  [[ $path == dmuxd ]] && check=(--expect tunnel --tunnel-key "$KEY_FILE"
                                 --check-later-mb "$(check_later_mb "$size")")
  # Every path's sink receives with UDP_GRO, as a router agent does (SINK_GRO=off: one by one).
  [[ ${SINK_GRO:-on} == off ]] || check+=(--gro)
  mid=$(path_middle "$path")
  # shellcheck disable=SC2046
  ip netns exec "$NS_RCV" $(pin "$SINK_CPU") "$LOADGEN" sink --listen "$(path_receiver "$path")" \
    "${check[@]}" --idle 0.3 --duration "$(calc "$TRIAL_S + 3")" >"$TMP/sink.json" &
  sink_pid=$!
  BG_PIDS+=("$sink_pid")
  wait_udp_port "$NS_RCV" "$RCV_PORT"
  pid=$(path_pid "$path")
  [[ -z $pid ]] || ticks0=$(cpu_ticks "$pid")
  mid0=$(udp_rcvbuf_errors "$mid"); rcv0=$(udp_rcvbuf_errors "$NS_RCV")
  # shellcheck disable=SC2046
  in_ns "$NS_SND" $(pin "$SENDER_CPU") "$(path_loadgen "$path")" send $(path_send_args "$path") --flows "$FLOWS" \
    --size "$size" --rate "$rate" --duration "$TRIAL_S" >"$TMP/send.json"
  wait "$sink_pid" || die "sink failed (a wrong TUNNEL tag fails it): $(cat "$TMP/sink.json")"
  BG_PIDS=("${BG_PIDS[@]/$sink_pid}")
  T_DROP_MID=$(($(udp_rcvbuf_errors "$mid") - mid0))
  T_DROP_RCV=$(($(udp_rcvbuf_errors "$NS_RCV") - rcv0))
  T_SENT=$(jnum "$TMP/send.json" packets)
  T_ELAPSED=$(jnum "$TMP/send.json" elapsed_s)
  T_RECV=$(jnum "$TMP/sink.json" packets)
  T_LOSS=$(calc "$T_SENT > 0 ? ($T_SENT - $T_RECV) / $T_SENT : 1")
  T_DELIVERED=$(calc "int($T_RECV / $T_ELAPSED)")
  T_CPU_US=0
  if [[ -n $pid ]]; then
    T_CPU_US=$(calc "$T_RECV > 0 ? ($(cpu_ticks "$pid") - $ticks0) * 1e6 / $(getconf CLK_TCK) / $T_RECV : 0")
  fi
  local invalid
  invalid=$(jnum "$TMP/sink.json" invalid)
  ((invalid == 0)) || die "$path: the sink saw $invalid datagrams that were not well-formed TUNNELs"
  if [[ $path == dmuxd ]] && ! grep -q '"tags_checked":true' "$TMP/sink.json"; then
    die "dmuxd: the sink did not check the TUNNEL tags"
  fi
  log "  $path ${size}B rate=$([[ $rate == 0 ]] && echo max || echo "$rate") sent=$T_SENT" \
      "delivered=$T_RECV loss=$(calc "$T_LOSS * 100")% -> $T_DELIVERED pps" \
      "$( ((T_DROP_MID + T_DROP_RCV == 0)) ||
          echo "(socket drops: middle $T_DROP_MID, sink $T_DROP_RCV)")"
}

# Rate search: PATH SIZE. A max-rate trial gives the ceiling; then step down from what was
# delivered until loss <= LOSS_LIMIT. Sets R_PPS R_LOSS R_TARGET R_TRIALS R_CONVERGED R_CPU_US
# R_MAX_LOSS; R_LIMIT: "sender" if even the max-rate trial lost nothing (the middle kept up with
# all the sender could offer), "sink" if the sink's socket dropped most of it (a measurement
# problem), else "middle"; R_UNSTABLE=1 if loss rose as the rate fell (other load on the CPUs).
rate_search() {
  local path=$1 size=$2 rate=0 step prev_loss=0 ok
  R_TRIALS=0; R_CONVERGED=0; R_UNSTABLE=0
  for ((step = 0; step <= MAX_STEPS; step++)); do
    trial "$path" "$size" "$rate"
    R_TRIALS=$((R_TRIALS + 1))
    R_PPS=$T_DELIVERED; R_LOSS=$T_LOSS; R_TARGET=$rate; R_CPU_US=$T_CPU_US
    ok=$(calc "$T_LOSS <= $LOSS_LIMIT")
    if ((step == 0)); then
      R_MAX_LOSS=$T_LOSS
      if ((ok)); then R_LIMIT=sender
      elif ((T_DROP_RCV > T_DROP_MID)); then R_LIMIT=sink
      else R_LIMIT=middle; fi
    elif [[ $(calc "$T_LOSS > $prev_loss + 0.01") == 1 ]]; then
      R_UNSTABLE=1
      log "  warning: loss rose as the rate fell; something else is probably using the CPUs"
    fi
    prev_loss=$T_LOSS
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

# Throughput of every path in TPUT_PATHS at one size: REPEAT searches each, alternating dmuxd,
# DNAT (and the baseline) so slow drifts of the VM hit all alike; records the search with the
# median delivered rate per path.
measure_throughput() {  # SIZE
  local size=$1 i p
  declare -A runs=()
  for ((i = 0; i < REPEAT; i++)); do
    for p in "${TPUT_PATHS[@]}"; do
      rate_search "$p" "$size"
      runs[$p]+="$R_PPS $R_LOSS $R_TARGET $R_TRIALS $R_CONVERGED $R_CPU_US $R_LIMIT $R_MAX_LOSS"
      runs[$p]+=" $R_UNSTABLE"$'\n'
    done
  done
  for p in "${TPUT_PATHS[@]}"; do
    local k=$p/$size
    ALL[$k]=$(cut -d' ' -f1 <<<"${runs[$p]}" | grep . | paste -sd, -)
    read -r "PPS[$k]" "LOSS[$k]" "TARGET[$k]" "TRIALS[$k]" "CONVERGED[$k]" "CPU_US[$k]" \
      "LIMIT[$k]" "MAX_LOSS[$k]" "UNSTABLE[$k]" < <(grep . <<<"${runs[$p]}" | sort -n -k1,1 |
                                     sed -n "$(((REPEAT + 1) / 2))p")
    ((REPEAT == 1)) || log "  $p ${size}B: median of $REPEAT searches ${PPS[$k]} pps (all ${ALL[$k]})"
  done
}

# One latency run: PATH. Pinger and echo pinned to LATENCY_CPU (dmuxd is moved there by the
# caller). Appends "p50 p99 mean lost" to LAT_RUNS[PATH].
latency_run() {
  local path=$1 mode=raw echo_pid
  [[ $path == dmuxd ]] && mode=tunnel
  ip netns exec "$NS_RCV" taskset -c "$LATENCY_CPU" "$LOADGEN" echo \
    --listen "$(path_receiver "$path")" --mode $mode >/dev/null &
  echo_pid=$!
  BG_PIDS+=("$echo_pid")
  wait_udp_port "$NS_RCV" "$RCV_PORT"
  # shellcheck disable=SC2046
  in_ns "$NS_SND" taskset -c "$LATENCY_CPU" "$LOADGEN" ping $(path_send_args "$path") --size 64 \
    --count "$PING_COUNT" --warmup "$PING_WARMUP" >"$TMP/ping.json"
  kill "$echo_pid"; wait "$echo_pid" || true
  BG_PIDS=("${BG_PIDS[@]/$echo_pid}")
  local p50 p99 mean lost
  p50=$(jnum "$TMP/ping.json" p50); p99=$(jnum "$TMP/ping.json" p99)
  mean=$(jnum "$TMP/ping.json" mean); lost=$(jnum "$TMP/ping.json" lost)
  LAT_RUNS[$path]+="$p50 $p99 $mean $lost"$'\n'
  log "  $path: RTT p50 $p50 us, p99 $p99 us, mean $mean us, lost $lost"
}

# Latency of all three paths, REPEAT rounds of routed, DNAT, dmuxd in turn; each statistic is then
# the median over a path's runs (sets P50 P99 MEAN LOST per path).
measure_latency() {
  local i p col
  for ((i = 0; i < REPEAT; i++)); do
    for p in routed dnat dmuxd; do latency_run "$p"; done
  done
  for p in routed dnat dmuxd; do
    local runs mid
    runs=$(grep . <<<"${LAT_RUNS[$p]}")
    mid=$((($(wc -l <<<"$runs") + 1) / 2))
    for col in 1 2 3; do
      local v
      v=$(cut -d' ' -f$col <<<"$runs" | sort -g | sed -n "${mid}p")
      case $col in 1) P50[$p]=$v ;; 2) P99[$p]=$v ;; 3) MEAN[$p]=$v ;; esac
    done
    LOST[$p]=$(awk '{ s += $4 } END { print s + 0 }' <<<"$runs")
  done
}
