# shellcheck shell=bash
# The results table and the JSON file. Sourced by run.sh; reads the PPS, LOSS, ..., P50, P99
# arrays that lib/measure.sh fills.
# shellcheck disable=SC2004  # ${...} keys: the arrays are associative (declared in lib/measure.sh)

ratio() { calc "($2 > 0) ? sprintf(\"%.2f\", $1 / $2) : \"null\""; }
f1() { calc "sprintf(\"%.1f\", $1)"; }
f1s() { calc "sprintf(\"%+.1f\", $1)"; }   # with a sign: a difference
f2() { calc "sprintf(\"%.2f\", $1)"; }
bool() { [[ $1 == 1 ]] && echo true || echo false; }

print_report() {
  local size d n note p a50 a99
  echo
  echo "IPdmux forwarding benchmark: dmuxd vs kernel DNAT, interleaved in one run"
  echo "throughput: delivered packets/s at <= $(calc "$LOSS_LIMIT * 100")% loss, $FLOWS flows," \
       "median of $REPEAT searches, ${TRIAL_S}s trials" \
       "(CPUs: sender ${SENDER_CPU:-any}, dmuxd ${MIDDLE_CPU:-any}, sink ${SINK_CPU:-any})"
  echo "every TUNNEL sealed by dmuxd; the sink checked every tag" \
       "$([[ ${SINK_CHECK:-later} == inline ]] && echo "as it arrived" || echo "after each trial");" \
       "veth GRO $VETH_GRO, sink UDP_GRO ${SINK_GRO:-on}"
  printf '  %-8s %10s %10s %11s %17s %16s\n' size dmuxd DNAT dmuxd/DNAT "dmuxd CPU us/pkt" \
    "limit dmuxd/DNAT"
  for size in "${SIZES[@]}"; do
    d=dmuxd/$size n=dnat/$size note=""
    ((CONVERGED[$d] && CONVERGED[$n])) || note+="  (loss limit not reached)"
    ((UNSTABLE[$d] || UNSTABLE[$n])) && note+="  (unstable: other load on the CPUs?)"
    printf '  %-8s %10s %10s %11s %17s %16s%s\n' "${size} B" "${PPS[$d]}" "${PPS[$n]}" \
      "$(ratio "${PPS[$d]}" "${PPS[$n]}")" "$(f2 "${CPU_US[$d]}")" "${LIMIT[$d]}/${LIMIT[$n]}" \
      "$note"
  done
  if [[ -n ${BASELINE_BUILD_DIR:-} ]]; then
    echo "baseline: version-1 dmuxd (28-byte TUNNEL, no tag), same topology, interleaved"
    printf '  %-8s %10s %10s %11s %17s %12s\n' size v1 dmuxd dmuxd/v1 "v1 CPU us/pkt" \
      "tag cost us"
    for size in "${SIZES[@]}"; do
      printf '  %-8s %10s %10s %11s %17s %12s\n' "${size} B" "${PPS[v1/$size]}" \
        "${PPS[dmuxd/$size]}" "$(ratio "${PPS[dmuxd/$size]}" "${PPS[v1/$size]}")" \
        "$(f2 "${CPU_US[v1/$size]}")" "$(f2 "${CPU_US[dmuxd/$size]} - ${CPU_US[v1/$size]}")"
    done
  fi
  for size in "${SIZES[@]}"; do
    d=dmuxd/$size
    [[ ${LIMIT[$d]} == sender ]] || continue
    echo "  ${size} B: dmuxd lost nothing at the sender's full rate, so the sender's core was the" \
         "limit; at $(f2 "${CPU_US[$d]}") us/pkt one dmuxd core would carry about" \
         "$(calc "${CPU_US[$d]} > 0 ? int(1e6 / ${CPU_US[$d]}) : 0") pps"
  done
  echo "latency: round trip, one 64 B packet in flight, everything pinned to CPU $LATENCY_CPU" \
       "(median of $REPEAT runs of $PING_COUNT)"
  printf '  %-8s %9s %9s %9s %10s %10s\n' path p50_us p99_us mean_us added_p50 added_p99
  for p in routed dnat dmuxd; do
    a50="-"; a99="-"
    if [[ $p != routed ]]; then
      a50=$(f1s "${P50[$p]} - ${P50[routed]}"); a99=$(f1s "${P99[$p]} - ${P99[routed]}")
    fi
    printf '  %-8s %9s %9s %9s %10s %10s\n' "$p" "$(f1 "${P50[$p]}")" "$(f1 "${P99[$p]}")" \
      "$(f1 "${MEAN[$p]}")" "$a50" "$a99"
  done
  echo "  dmuxd vs DNAT: p50 $(f1s "${P50[dmuxd]} - ${P50[dnat]}") us," \
       "p99 $(f1s "${P99[dmuxd]} - ${P99[dnat]}") us; RTT ratio dmuxd/DNAT" \
       "p50 $(ratio "${P50[dmuxd]}" "${P50[dnat]}"), p99 $(ratio "${P99[dmuxd]}" "${P99[dnat]}")"
  [[ -z $MAC_TABLE ]] || echo "$MAC_TABLE"
  echo "finished in ${ELAPSED}s"
}

write_json() {  # FILE
  local size p k sep
  {
    printf '{"benchmark":"forwarding","quick":%s,"dmuxd_args":"%s",' "$(bool "$QUICK")" \
      "${DMUXD_ARGS:-}"
    printf '"flows":%d,"trial_s":%s,"repeat":%d,"loss_limit":%s,"ping_count":%d,' \
      "$FLOWS" "$TRIAL_S" "$REPEAT" "$LOSS_LIMIT" "$PING_COUNT"
    printf '"sink_tag_check":"%s","veth_gro":"%s","baseline":%s,' "${SINK_CHECK:-later}" "$VETH_GRO" \
      "$([[ -n ${BASELINE_BUILD_DIR:-} ]] && echo '"v1"' || echo null)"
    printf '"cpus":{"sender":%s,"dmuxd":%s,"sink":%s,"latency":%s},"busy_before_pct":%d,' \
      "${SENDER_CPU:-null}" "${MIDDLE_CPU:-null}" "${SINK_CPU:-null}" "$LATENCY_CPU" "$BUSY"
    printf '"throughput":['
    sep=""
    for size in "${SIZES[@]}"; do
      for p in "${TPUT_PATHS[@]}"; do
        k=$p/$size
        printf '%s{"path":"%s","datagram_bytes":%d,"delivered_pps":%s,"loss":%s,' \
          "$sep" "$p" "$size" "${PPS[$k]}" "${LOSS[$k]}"
        printf '"target_pps":%s,"max_rate_loss":%s,"limited_by":"%s",' \
          "${TARGET[$k]}" "${MAX_LOSS[$k]}" "${LIMIT[$k]}"
        printf '"all_searches_pps":[%s],"unstable":%s,"trials":%s,"converged":%s,' \
          "${ALL[$k]}" "$(bool "${UNSTABLE[$k]}")" "${TRIALS[$k]}" "$(bool "${CONVERGED[$k]}")"
        printf '"process_cpu_us_per_packet":%s}' \
          "$([[ $p != dnat ]] && echo "${CPU_US[$k]}" || echo null)"
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
    for size in "${SIZES[@]}"; do
      printf '"pps_dmuxd_over_dnat_%d":%s,' "$size" \
        "$(ratio "${PPS[dmuxd/$size]}" "${PPS[dnat/$size]}")"
    done
    printf '"rtt_p50_dmuxd_over_dnat":%s,"rtt_p99_dmuxd_over_dnat":%s},' \
      "$(ratio "${P50[dmuxd]}" "${P50[dnat]}")" "$(ratio "${P99[dmuxd]}" "${P99[dnat]}")"
    printf '"added_p50_us":{"dmuxd":%s,"dnat":%s},' \
      "$(calc "${P50[dmuxd]} - ${P50[routed]}")" "$(calc "${P50[dnat]} - ${P50[routed]}")"
    printf '"mac_cost":%s,"elapsed_s":%d}\n' "$MAC_JSON" "$ELAPSED"
  } >"$1"
}
