#!/usr/bin/env bash
# The dpdk transport next to kernel UDP, in one run: JSON lines of rum-bench (stdout),
# then one "ratio" line per goal; progress on stderr.
#   bench/dpdk_bench.sh [rtt] [afpacket] [cluster]        (default: all three)
#   rtt       rum-bench rtt --transport udp (loopback) and --transport dpdk over
#             net_memif (the two processes of rum-bench share one memif link)
#   afpacket  rum-bench rtt --transport dpdk over net_af_packet: a veth pair inside a
#             network namespace made for the run, one end per process (needs root)
#   cluster   rum-bench fault and seq against a 3-node udp cluster, then against a
#             3-node dpdk/net_memif cluster (scripts/rum-cluster --transport
#             dpdk-memif), with RUM_TRANSPORT and RUM_DPDK_ARGS for the client
# Goals checked on the ratio lines: RPC round trip over memif <= 2 us (median), a cold
# page fault over memif <= 0.25x the UDP one, a sequential scan over memif >= 3x UDP.
# Environment: RUM_BUILD_DIR (default build/), ITERATIONS (rtt, 50000), BACKENDS
# (fault backends, uffd), MEMIF_BSIZE (memif buffer of the cluster, 9216: jumbo
# frames, two pages a frame; 2048 for the default 2006-byte MTU), FAULT_CACHE_MB (256),
# SEQ_CACHE_MB (32). Needs DPDK in the build and, for memif and af_packet here, root.
# The machine should be quiet: every endpoint busy-polls, and a local cluster has more
# pollers than this machine has cores. Ports: 20600-20699.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${RUM_BUILD_DIR:-$root/build}"
export RUM_BIN_DIR="$build/bin"
bench="$build/bench/rum-bench"
rum_cluster="$root/scripts/rum-cluster"
iterations=${ITERATIONS:-50000}
backends=${BACKENDS:-uffd}
bsize=${MEMIF_BSIZE:-9216}
fault_cache=${FAULT_CACHE_MB:-256}
seq_cache=${SEQ_CACHE_MB:-32}
eal="--no-huge --no-pci -m 256"
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(rtt afpacket cluster)

tmp=$(mktemp -d /tmp/rumdpdk-bench.XXXXXX) || exit 1
netns=""
clusters=()
results=$tmp/results.jsonl
: >"$results"

sweep_runtime() { # DPDK runtime folders of processes that are gone (rum-bench kills its child)
  local d pid
  for d in /var/run/dpdk/rum-* "${XDG_RUNTIME_DIR:-/tmp}"/dpdk/rum-*; do
    [[ -d $d ]] || continue
    pid=${d##*/rum-}
    [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$d"
  done
}
cleanup() {
  local c
  for c in ${clusters[@]+"${clusters[@]}"}; do "$rum_cluster" stop --dir "$c" >/dev/null 2>&1; done
  [[ -n $netns ]] && ip netns del "$netns" 2>/dev/null
  sweep_runtime
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "dpdk_bench: $*" >&2; }
[[ -x $bench ]] || { say "no $bench (build first: scripts/build.sh, or set RUM_BUILD_DIR)"; exit 2; }

# emit LABEL: a rum-bench JSON line from stdin, tagged, to stdout and the results.
emit() {
  local line
  while IFS= read -r line; do
    [[ $line == \{* ]] || continue
    line="{\"label\":\"$1\",${line#\{}"
    echo "$line"
    echo "$line" >>"$results"
  done
}

# field LABEL SCENARIO BACKEND NAME: a number from a stored line.
field() {
  grep "\"label\":\"$1\"" "$results" | grep "\"scenario\":\"$2\"" |
    { if [[ -n $3 ]]; then grep "\"fault_backend\":\"$3\""; else cat; fi; } |
    head -n1 | sed -n "s/.*\"$4\":\([-0-9.e]*\).*/\1/p"
}

# ratio WHAT A_LABEL B_LABEL SCENARIO BACKEND NAME GOAL_OP GOAL: one ratio line (A / B).
ratio() {
  local what=$1 a=$2 b=$3 scenario=$4 backend=$5 name=$6 op=$7 goal=$8 va vb
  va=$(field "$a" "$scenario" "$backend" "$name")
  vb=$(field "$b" "$scenario" "$backend" "$name")
  if [[ -z $va || -z $vb ]]; then
    echo "{\"scenario\":\"ratio\",\"what\":\"$what\",\"missing\":true}"
    return
  fi
  awk -v w="$what" -v a="$a" -v b="$b" -v n="$name" -v be="$backend" -v va="$va" -v vb="$vb" \
    -v op="$op" -v g="$goal" 'BEGIN {
      r = vb != 0 ? va / vb : 0
      met = (op == "max") ? (r <= g) : (r >= g)
      printf "{\"scenario\":\"ratio\",\"what\":\"%s\",\"field\":\"%s\",%s\"%s\":%s,\"%s\":%s,\"ratio\":%.3f,\"goal_ratio_%s\":%s,\"met\":%s}\n",
        w, n, be != "" ? "\"fault_backend\":\"" be "\"," : "", a, va, b, vb, r, op, g, met ? "true" : "false"
    }'
}

rtt_memif() {
  say "rtt over dpdk/net_memif ($iterations round trips)"
  timeout 300 "$bench" rtt --transport dpdk --iterations "$iterations" --port 20602 \
    --server-ip 10.77.0.1 --client-ip 10.77.0.2 \
    --server-dpdk-args "$eal --vdev=net_memif0,role=server,socket=$tmp/rtt.sock" \
    --client-dpdk-args "$eal --vdev=net_memif0,role=client,socket=$tmp/rtt.sock" | emit dpdk-memif
  sweep_runtime
}

rtt_udp() {
  say "rtt over udp loopback ($iterations round trips)"
  timeout 300 "$bench" rtt --transport udp --iterations "$iterations" --port 20600 | emit udp
}

rtt_afpacket() {
  [[ $(id -u) -eq 0 ]] || { say "af_packet: needs root for a network namespace; skipped"; return 0; }
  netns=rumdpdk-bench-$$
  ip netns add "$netns" || { netns=""; say "af_packet: no network namespace; skipped"; return 0; }
  # Both processes are in this namespace: DPDK's af_packet names its PACKET_FANOUT
  # group pid ^ ifindex, and a parent and its child (pids p, p+1) on ifindexes 2 and 3
  # can get the same group, which the kernel then refuses for the second interface.
  # Indexes 1000 and 2000 collide only for pids that differ in 1448 = 1000 ^ 2000.
  ip -n "$netns" link add rdk0 index 1000 type veth peer name rdk1 index 2000 &&
    ip -n "$netns" link set rdk0 up && ip -n "$netns" link set rdk1 up && ip -n "$netns" link set lo up ||
    { say "af_packet: cannot make the veth pair"; return 1; }
  ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
  say "rtt over dpdk/net_af_packet on a veth pair ($iterations round trips)"
  ip netns exec "$netns" timeout 300 "$bench" rtt --transport dpdk --iterations "$iterations" --port 20604 \
    --server-ip 10.78.0.1 --client-ip 10.78.0.2 \
    --server-dpdk-args "$eal --vdev=net_af_packet0,iface=rdk0" \
    --client-dpdk-args "$eal --vdev=net_af_packet0,iface=rdk1" | emit dpdk-af_packet
  ip netns del "$netns"
  netns=""
  sweep_runtime
}

# cluster LABEL [rum-cluster start args]: fault and seq against a fresh 3-node cluster.
cluster() {
  local label=$1
  shift
  local dir=$tmp/cluster-$label
  mkdir -p "$dir"
  clusters+=("$dir")
  say "cluster $label: 3 nodes ($*)"
  "$rum_cluster" start --nodes 3 --dir "$dir" --memory-mb 4096 "$@" >&2 || return 1
  (
    export RUM_MACHINES=$dir/machines.csv
    if [[ -f $dir/dpdk-memif.conf ]]; then
      export RUM_TRANSPORT=dpdk
      RUM_DPDK_ARGS=$("$rum_cluster" dpdk-args --dir "$dir" --client auto) && export RUM_DPDK_ARGS
    else
      export RUM_TRANSPORT=udp
    fi
    say "  fault (cache $fault_cache MiB, backends $backends)"
    timeout 300 "$bench" fault --machines "$dir/machines.csv" --backends "$backends" --cache-mb "$fault_cache" | emit "$label"
    say "  seq (cache $seq_cache MiB, backends $backends)"
    timeout 300 "$bench" seq --machines "$dir/machines.csv" --backends "$backends" --cache-mb "$seq_cache" | emit "$label"
  )
  "$rum_cluster" stop --dir "$dir" >&2
  sweep_runtime
}

for part in "${parts[@]}"; do
  case $part in
    rtt) rtt_udp; rtt_memif ;;
    afpacket) rtt_afpacket ;;
    cluster)
      cluster udp --base-port 20610
      cluster dpdk-memif --base-port 20620 --transport dpdk-memif --memif-clients 2 --memif-bsize "$bsize"
      ;;
    *) say "unknown part '$part' (rtt, afpacket, cluster)"; exit 2 ;;
  esac
done

# The goals, on what ran.
if grep -q '"label":"dpdk-memif","scenario":"rtt"' "$results"; then
  ratio rtt_rpc_median dpdk-memif udp rtt "" rpc_median_us max 1
  awk -v v="$(field dpdk-memif rtt "" rpc_median_us)" 'BEGIN {
    printf "{\"scenario\":\"goal\",\"what\":\"rtt_rpc_median_memif_us\",\"value\":%s,\"goal_max\":2,\"met\":%s}\n", v, v <= 2 ? "true" : "false" }'
fi
if grep -q '"label":"dpdk-af_packet","scenario":"rtt"' "$results"; then
  ratio rtt_rpc_median_af_packet dpdk-af_packet udp rtt "" rpc_median_us max 1
fi
if grep -q '"label":"dpdk-memif","scenario":"fault"' "$results"; then
  for b in ${backends//,/ }; do
    ratio cold_fault_median dpdk-memif udp fault "$b" cold_fault_median_us max 0.25
    ratio raw_rpc_read_median dpdk-memif udp fault "$b" raw_rpc_read_median_us max 1
    ratio seq_scan dpdk-memif udp seq "$b" scan_gbs min 3
  done
fi
