#!/usr/bin/env bash
# with_cluster.sh: run a command against a fresh local RUM cluster, then tear it down.
#
#   with_cluster.sh --nodes N --base-port P [--memory-mb M] [--rumd-arg ARG]... [--set K=V]...
#                   [--transport udp|dpdk-memif [--memif-clients K]] -- COMMAND ARGS...
#
# Makes a temporary folder, starts N rumd nodes on 127.0.0.1:P..P+N-1 with
# scripts/rum-cluster, exports RUM_MACHINES=<folder>/machines.csv (and RUM_CLUSTER_DIR,
# where node-ID.pid and node-ID.log live), runs COMMAND, and always stops the cluster
# and removes the folder, also when interrupted. Exits with COMMAND's status (or 1
# when the cluster did not start, 2 for bad arguments). --rumd-arg passes one more
# argument to every rumd (e.g. --rumd-arg --lease-ms --rumd-arg 300); --set adds a
# setting to machines.csv (e.g. --set replication=3; rum-cluster start --set).
# --transport dpdk-memif starts the nodes on the dpdk transport over net_memif (see
# scripts/rum-cluster; K client interfaces per node, default 4) and exports for
# COMMAND RUM_TRANSPORT=dpdk and RUM_DPDK_ARGS from `rum-cluster dpdk-args --client
# auto` (each process takes a free client interface), plus RUM_CLUSTER_TRANSPORT.
# rumd is found in $RUM_BIN_DIR, else in bin/ of the build tree the command runs in
# (./bin or ../bin, as under CTest), else in ../../build/bin next to this script.
set -uo pipefail

prog=with_cluster.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rum_cluster=$here/../../scripts/rum-cluster

die() {
  echo "$prog: $*" >&2
  exit 2
}

nodes= base_port= memory_mb= transport= memif_clients=
rumd_args=() settings=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --nodes) [[ $# -ge 2 ]] || die "--nodes needs a value"; nodes=$2; shift 2 ;;
    --base-port) [[ $# -ge 2 ]] || die "--base-port needs a value"; base_port=$2; shift 2 ;;
    --memory-mb) [[ $# -ge 2 ]] || die "--memory-mb needs a value"; memory_mb=$2; shift 2 ;;
    --rumd-arg) [[ $# -ge 2 ]] || die "--rumd-arg needs a value"; rumd_args+=("$2"); shift 2 ;;
    --set) [[ $# -ge 2 ]] || die "--set needs NAME=VALUE"; settings+=(--set "$2"); shift 2 ;;
    --transport) [[ $# -ge 2 ]] || die "--transport needs a value"; transport=$2; shift 2 ;;
    --memif-clients) [[ $# -ge 2 ]] || die "--memif-clients needs a value"; memif_clients=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$1' (the command goes after --)" ;;
  esac
done
[[ -n $nodes && -n $base_port ]] || die "--nodes N and --base-port P are required"
[[ $# -ge 1 ]] || die "no command given after --"

# rumd: $RUM_BIN_DIR; else bin/ of the build tree we run in (CTest runs tests in the
# build tree: <build> or <build>/tests); else the default build folder.
if [[ -z ${RUM_BIN_DIR:-} ]]; then
  for candidate in "$PWD/bin" "$PWD/../bin" "$here/../../build/bin"; do
    if [[ -x $candidate/rumd ]]; then
      RUM_BIN_DIR=$(cd "$candidate" && pwd)
      break
    fi
  done
fi
export RUM_BIN_DIR=${RUM_BIN_DIR:-$here/../../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/rum-cluster.XXXXXX") || die "cannot make a temporary folder"
cmd_pid=
status=1

# DPDK runtime folders (automatic --file-prefix rum-PID) of processes that are gone:
# a client killed before its exit hook ran leaves one.
sweep_dpdk_runtime() {
  local d pid
  for d in /var/run/dpdk/rum-* "${XDG_RUNTIME_DIR:-/tmp}"/dpdk/rum-*; do
    [[ -d $d ]] || continue
    pid=${d##*/rum-}
    [[ $pid =~ ^[0-9]+$ ]] || continue
    kill -0 "$pid" 2>/dev/null || rm -rf "$d"
  done
}

cleanup() {
  trap - EXIT INT TERM
  if [[ -n $cmd_pid ]] && kill -0 "$cmd_pid" 2>/dev/null; then
    kill -TERM "$cmd_pid" 2>/dev/null
    wait "$cmd_pid" 2>/dev/null
  fi
  "$rum_cluster" stop --dir "$dir" 2>/dev/null
  [[ $transport == dpdk-memif ]] && sweep_dpdk_runtime
  if [[ $status -ne 0 ]]; then
    for log in "$dir"/node-*.log; do
      [[ -f $log ]] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      tail -n 15 "$log" >&2
    done
  fi
  rm -rf "$dir"
  exit "$status"
}
on_signal() {
  status=$1
  cleanup
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

start=(start --nodes "$nodes" --base-port "$base_port" --dir "$dir")
[[ -n $memory_mb ]] && start+=(--memory-mb "$memory_mb")
[[ -n $transport ]] && start+=(--transport "$transport")
[[ -n $memif_clients ]] && start+=(--memif-clients "$memif_clients")
[[ ${#settings[@]} -gt 0 ]] && start+=("${settings[@]}")
[[ ${#rumd_args[@]} -gt 0 ]] && start+=(-- "${rumd_args[@]}")
if ! "$rum_cluster" "${start[@]}"; then
  status=1
  exit 1
fi

# Killed outright (ctest's timeout kills without a signal a trap sees), we could not
# stop the nodes, and they would keep their ports from the next test: a watchdog in a
# session of its own stops them once we are gone (in the normal case there is nothing
# left to stop).
setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
                [[ -d $3 ]] && "$2" stop --dir "$3"; rm -rf "$3"' watchdog $$ "$rum_cluster" "$dir" \
  </dev/null >/dev/null 2>&1 &

export RUM_MACHINES=$dir/machines.csv
export RUM_CLUSTER_DIR=$dir
if [[ $transport == dpdk-memif ]]; then
  export RUM_CLUSTER_TRANSPORT=dpdk-memif RUM_TRANSPORT=dpdk
  RUM_DPDK_ARGS=$("$rum_cluster" dpdk-args --dir "$dir" --client auto) || { status=1; exit 1; }
  export RUM_DPDK_ARGS
fi
# In the background (stdin kept) so that a signal to us is handled at once, not after
# the command finishes.
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
status=$?
cmd_pid=
exit "$status"
