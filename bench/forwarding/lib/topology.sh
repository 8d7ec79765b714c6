# shellcheck shell=bash
# The benchmark's network: four namespaces, two parallel middles, nothing in the root namespace.
#
#              .-- gw ns:  dmuxd        (198.18.1.1 | 198.18.2.1) --.
#   snd ns  --+                                                    +-- rcv ns
#              '-- nat ns: iptables DNAT (198.18.3.1 | 198.18.4.1) --'
#
# snd has 198.18.1.2 (towards gw) and 198.18.3.2 (towards nat); rcv has 198.18.2.2 and 198.18.4.2.
# Each path has a middle of its own, so conntrack (loaded by the DNAT rule) never touches the dmuxd
# or routed paths, and all paths can be measured interleaved instead of one after the other.
# Sourced by run.sh; uses its NS_* and DMUXD* settings.

SND_GW_IP=198.18.1.2; GW_IN=198.18.1.1; GW_OUT=198.18.2.1; RCV_GW_IP=198.18.2.2
SND_NAT_IP=198.18.3.2; NAT_IN=198.18.3.1; NAT_OUT=198.18.4.1; RCV_NAT_IP=198.18.4.2
DMUX_PORT=4500          # dmuxd listens here for DATA
V1_PORT=4501            # the version-1 baseline dmuxd (BASELINE_BUILD_DIR) listens here
DNAT_PORT=4600          # DNAT'd to the receiver
RCV_PORT=5000           # sink / echo: the "router"
PROVIDER=7
DNAT_RULE=(PREROUTING -d "$NAT_IN" -p udp --dport "$DNAT_PORT"
           -j DNAT --to-destination "$RCV_NAT_IP:$RCV_PORT")
DNAT_ADDED=0
DMUXD_PID=""
V1_PID=""

# Foreground only: a backgrounded function would be a subshell and $! its pid, so background
# processes are started with "ip netns exec" directly (it execs, so $! is the program's pid).
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# veth pair between two namespaces, both ends created inside them: NS_A IF_A ADDR_A NS_B IF_B ADDR_B
veth_link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  in_ns "$1" ip addr add "$3/24" dev "$2"
  in_ns "$4" ip addr add "$6/24" dev "$5"
  in_ns "$1" ip link set "$2" up
  in_ns "$4" ip link set "$5" up
  if [[ $VETH_GRO == on ]]; then  # every veth of every path alike: NAPI GRO on receive
    in_ns "$1" ethtool -K "$2" gro on >/dev/null
    in_ns "$4" ethtool -K "$5" gro on >/dev/null
  fi
}

setup_topology() {
  local ns
  [[ $VETH_GRO == off ]] || command -v ethtool >/dev/null ||
    die "VETH_GRO=on needs ethtool (scripts/install-deps.sh), or run with VETH_GRO=off"
  for ns in "$NS_SND" "$NS_GW" "$NS_NAT" "$NS_RCV"; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
  done
  veth_link "$NS_SND" snd0 $SND_GW_IP "$NS_GW" gw0 $GW_IN
  veth_link "$NS_GW" gw1 $GW_OUT "$NS_RCV" rcv0 $RCV_GW_IP
  veth_link "$NS_SND" snd1 $SND_NAT_IP "$NS_NAT" nat0 $NAT_IN
  veth_link "$NS_NAT" nat1 $NAT_OUT "$NS_RCV" rcv1 $RCV_NAT_IP
  in_ns "$NS_SND" ip route add ${RCV_GW_IP%.*}.0/24 via $GW_IN
  in_ns "$NS_SND" ip route add ${RCV_NAT_IP%.*}.0/24 via $NAT_IN
  in_ns "$NS_RCV" ip route add ${SND_GW_IP%.*}.0/24 via $GW_OUT
  in_ns "$NS_RCV" ip route add ${SND_NAT_IP%.*}.0/24 via $NAT_OUT
  in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$NS_NAT" iptables -t nat -A "${DNAT_RULE[@]}"
  DNAT_ADDED=1
}

teardown_topology() {
  local ns pid
  if ((DNAT_ADDED)); then
    in_ns "$NS_NAT" iptables -t nat -D "${DNAT_RULE[@]}" 2>/dev/null || true
    DNAT_ADDED=0
  fi
  for ns in "$NS_SND" "$NS_GW" "$NS_NAT" "$NS_RCV"; do
    ip netns list | grep -qw "$ns" || continue
    # Anything still running inside our own namespaces was started by this run.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# The router's tunnel key: dmuxd seals every TUNNEL with it, the sink checks every tag with it.
make_tunnel_key() {
  KEY_FILE=$TMP/router.tunnel-key
  (umask 077; od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$KEY_FILE"; echo >>"$KEY_FILE")
}

# Starts a gateway in the gw namespace with the benchmark's static router: CPU BINARY PORT NAME
# [KEYFILE]. Sets LAUNCHED_PID.
launch_gateway() {
  local cpu=$1 binary=$2 port=$3 name=$4 key=${5:-}
  # shellcheck disable=SC2086  # DMUXD_ARGS is split on purpose
  ip netns exec "$NS_GW" taskset -c "$cpu" "$binary" --listen $GW_IN:$port --gateway-id $GW_IN \
    --static-router "ipv6 $PROVIDER $RCV_GW_IP:$RCV_PORT${key:+ $key}" --workers 1 \
    --metrics-listen off --control-socket "$TMP/$name.sock" --tunnel-source $GW_OUT \
    --log-level warn ${DMUXD_ARGS:-} >"$TMP/$name.log" 2>&1 &
  LAUNCHED_PID=$!
  wait_udp_port "$NS_GW" "$port"
  kill -0 "$LAUNCHED_PID" 2>/dev/null || die "$name exited: $(cat "$TMP/$name.log")"
}

start_dmuxd() {  # CPU
  launch_gateway "$1" "$DMUXD" $DMUX_PORT dmuxd "$KEY_FILE"
  DMUXD_PID=$LAUNCHED_PID
}

# The baseline: a version-1 dmuxd (no tags, 28-byte TUNNEL, no key file) beside it in the gw
# namespace, with the same settings. Only with BASELINE_BUILD_DIR.
start_v1_dmuxd() {  # CPU
  launch_gateway "$1" "$DMUXD_V1" $V1_PORT dmuxd-v1
  V1_PID=$LAUNCHED_PID
}

pin_dmuxd() {  # CPU: moves every thread of dmuxd (and of the baseline, if running)
  local pid
  for pid in "$DMUXD_PID" "$V1_PID"; do
    [[ -z $pid ]] || taskset -a -p -c "$1" "$pid" >/dev/null
  done
}

wait_udp_port() {  # NS PORT: until something is bound to PORT in NS (3 s at most)
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -n $(in_ns "$1" ss -Hlun "sport = :$2") ]] && return 0
    sleep 0.01
  done
  die "nothing bound to UDP port $2 in $1 after 3 s"
}

# Per-path addresses. routed goes through the gw middle without touching dmuxd.
path_send_args() {  # dmux-loadgen send/ping arguments: source, target, shim
  case $1 in
    dmuxd) echo "--source $SND_GW_IP --target $GW_IN:$DMUX_PORT --shim ipv6,$PROVIDER" ;;
    v1) echo "--source $SND_GW_IP --target $GW_IN:$V1_PORT --shim ipv6,$PROVIDER" ;;
    dnat) echo "--source $SND_NAT_IP --target $NAT_IN:$DNAT_PORT" ;;
    routed) echo "--source $SND_GW_IP --target $RCV_GW_IP:$RCV_PORT" ;;
  esac
}
path_receiver() {  # where the sink or echo listens
  case $1 in
    dnat) echo "$RCV_NAT_IP:$RCV_PORT" ;;
    *) echo "$RCV_GW_IP:$RCV_PORT" ;;
  esac
}
path_loadgen() {  # the sender for a path: the baseline speaks version 1, so its own loadgen
  case $1 in
    v1) echo "$LOADGEN_V1" ;;
    *) echo "$LOADGEN" ;;
  esac
}
path_pid() {  # the forwarding process whose CPU time a trial reports, if any
  case $1 in
    dmuxd) echo "$DMUXD_PID" ;;
    v1) echo "$V1_PID" ;;
  esac
}
path_middle() {  # the middle namespace
  case $1 in
    dnat) echo "$NS_NAT" ;;
    *) echo "$NS_GW" ;;
  esac
}
