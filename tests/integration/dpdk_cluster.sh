#!/usr/bin/env bash
# dpdk_cluster.sh: the cluster suites over the dpdk transport on net_memif: three rumd
# started by with_cluster.sh --transport dpdk-memif (scripts/rum-cluster), each
# serving several clients on memif interfaces of its own, and clients that reach all
# three through one memif interface per node.
#
#   dpdk_cluster.sh CASE BIN_DIR BASE_PORT [PROGRAM ARGS...]
#
# Cases:
#   rpc-roundtrip   rpc_client_test roundtrip as client 1, then as client 2 (each node
#                   answers on the interface the client came in on)
#   rpc-kill        rpc_client_test kill: node 2 SIGKILLed, its calls time out
#   app             PROGRAM ARGS (mem_test, hashtable) as a librum client: RUM_TRANSPORT
#                   and RUM_DPDK_ARGS come from with_cluster.sh; each process takes a
#                   free client interface (mem_test starts a second process)
# BIN_DIR holds rumd and the programs (PROGRAM is a path). Exit 0 pass, 1 fail, 77
# skipped (not root: the dpdk transport needs it here). Every program runs under
# `timeout`; with_cluster.sh stops the nodes and removes the folder, the DPDK runtime
# folders and the slot files on every exit.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proc_timeout=${DPDK_CLUSTER_TIMEOUT:-70}

if [[ ${1:-} != --inner ]]; then
  case_name=${1:?case}
  bin_dir=${2:?bin dir}
  base_port=${3:?base port}
  shift 3
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: the dpdk transport over memif needs root here"; exit 77; }
  [[ -x $bin_dir/rumd ]] || { echo "no rumd in $bin_dir"; exit 1; }
  export RUM_BIN_DIR=$bin_dir
  exec bash "$here/with_cluster.sh" --transport dpdk-memif --memif-clients 4 --nodes 3 \
    --base-port "$base_port" --memory-mb 256 -- bash "${BASH_SOURCE[0]}" --inner "$case_name" "$@"
fi
shift
case_name=$1
shift
rum_cluster=$here/../../scripts/rum-cluster
[[ -n ${RUM_CLUSTER_DIR:-} && ${RUM_CLUSTER_TRANSPORT:-} == dpdk-memif ]] || {
  echo "dpdk_cluster.sh: not under with_cluster.sh --transport dpdk-memif"
  exit 1
}

# client_args J: client J's EAL arguments; client_ip J: its address (their ip=).
client_args() { "$rum_cluster" dpdk-args --dir "$RUM_CLUSTER_DIR" --client "$1"; }
client_ip() { client_args "$1" | sed -n 's/^ip=\([0-9.]*\) .*/\1/p'; }

# rpc J SCENARIO PROGRAM [ARGS]: rpc_client_test as client J, UDP port base+90+J.
rpc() {
  local j=$1 scenario=$2 program=$3
  shift 3
  local args ip
  args=$(client_args "$j") && ip=$(client_ip "$j") || return 1
  echo "== $scenario as client $j ($ip)"
  timeout "$proc_timeout" "$program" "$scenario" --transport dpdk --bind "$ip" --dpdk-args "$args" \
    --port "$((20990 + j))" "$@"
}

# Nodes reach each other over their own memif links: heartbeats say so.
peers_up() {
  local id
  for id in 1 2 3; do
    grep -q "peer node" "$RUM_CLUSTER_DIR/node-$id.log" || { echo "node $id never saw a peer up"; return 1; }
  done
}

# Every node drove its memif ports and saw no malformed frame.
nodes_ok() {
  local log bad=0
  for log in "$RUM_CLUSTER_DIR"/node-*.log; do
    grep -q "on 6 port(s)" "$log" || { echo "$(basename "$log"): not on 4 client + 2 node ports"; bad=1; }
  done
  return $bad
}

status=0
case $case_name in
  rpc-roundtrip)
    program=${1:?rpc_client_test}
    rpc 1 roundtrip "$program" && rpc 2 roundtrip "$program" || status=1
    ;;
  rpc-kill)
    program=${1:?rpc_client_test}
    rpc 1 kill "$program" --timeout 500 || status=1
    ;;
  app)
    [[ $# -ge 1 ]] || { echo "app: no program"; exit 2; }
    echo "== $* over dpdk/net_memif (RUM_DPDK_ARGS=$RUM_DPDK_ARGS)"
    timeout "$proc_timeout" "$@" || status=$?
    [[ $status -eq 77 ]] && exit 77
    ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
if [[ $status -eq 0 && $case_name != rpc-kill ]]; then
  sleep 0.3 # one heartbeat round at least
  peers_up || status=1
fi
nodes_ok || status=1
[[ $status -eq 0 ]] && echo "PASS: $case_name" || echo "FAIL: $case_name"
exit $status
