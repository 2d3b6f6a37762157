#!/usr/bin/env bash
# dpdk_netns.sh: two test hosts (network namespaces) on a veth pair, one speaking the
# dpdk transport on net_af_packet, the other the kernel's UDP; a 3-node cluster on
# one, mem_test --quick on the other, optionally with packet loss.
#
#   dpdk_netns.sh dpdk-nodes|dpdk-client BIN_DIR BASE_PORT [--loss]
#
#   dpdk-nodes   host A: three rumd on the dpdk transport, all on one af_packet port
#                (the veth end rdk0, no kernel address on it), one IPv4 address
#                10.79.0.1 and UDP ports BASE_PORT..+2: each process gets a copy of
#                every frame and keeps its own port's; DPDK answers ARP.
#                host B: mem_test on kernel UDP from 10.79.0.2.
#   dpdk-client  host A: three rumd on kernel UDP on 10.79.0.1 (rdk0).
#                host B: mem_test on the dpdk transport, af_packet on rdk1 (no kernel
#                address), 10.79.0.2; the second process mem_test starts shares the
#                port, the address and the MAC (another UDP port).
#   --loss       iptables -A INPUT -m statistic --mode random --probability 0.1 -j DROP
#                on the kernel-UDP host (netfilter sees only what the kernel receives;
#                the DPDK side bypasses it): 10% of the frames towards the kernel side
#                are lost, the RPC layer's retransmissions must recover.
# Frames are Ethernet-sized (machines.csv mtu=1472): af_packet carries no more and the
# DPDK side takes no IP fragments.
# Exit 0 pass, 1 fail, 77 skipped (not root, no `ip netns`, no veth, no iptables).
# Every process runs under `timeout`; the nodes, both namespaces and the DPDK runtime
# folders are removed on every exit.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rum_cluster=$here/../../scripts/rum-cluster
case_name=${1:?case}
bin_dir=${2:?bin dir}
base_port=${3:?base port}
loss=0
[[ ${4:-} == --loss ]] && loss=1
tag=rumns-$$
ns_a=$tag-a
ns_b=$tag-b
namespaces=""
work=""
client_pid=""
eal="--no-huge --no-pci -m 256"

skip() {
  echo "SKIP: $*"
  status=77
  exit 77
}

cleanup() {
  trap - EXIT INT TERM HUP
  [[ -n $client_pid ]] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
  if [[ -n $work && -f $work/machines.csv ]]; then
    "$rum_cluster" stop --dir "$work" >/dev/null 2>&1
    if [[ ${status:-1} -ne 0 ]]; then
      for log in "$work"/node-*.log; do
        [[ -f $log ]] && { echo "---- last lines of $(basename "$log") ----"; tail -n 15 "$log"; }
      done
    fi
  fi
  for ns in $namespaces; do ip netns del "$ns" 2>/dev/null; done
  # DPDK runtime folders (rum-PID) of processes that are gone.
  for d in /var/run/dpdk/rum-*; do
    [[ -d $d ]] || continue
    pid=${d##*/rum-}
    [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$d"
  done
  [[ -n $work ]] && rm -rf "$work"
  exit "${status:-1}"
}
trap cleanup EXIT
trap 'status=1; cleanup' INT TERM HUP

# Namespaces an earlier run left when it was killed outright.
sweep_stale() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^rumns-[0-9]*-[ab]$'); do
    pid=$(echo "$ns" | cut -d- -f2)
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
  done
}

[[ $(id -u) -eq 0 ]] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip command"
[[ $loss -eq 0 ]] || command -v iptables >/dev/null 2>&1 || skip "no iptables for the loss variant"
[[ -x $bin_dir/rumd && -x $bin_dir/mem_test ]] || { echo "no rumd or mem_test in $bin_dir"; status=1; exit 1; }
sweep_stale
ip netns add "$ns_a" 2>/dev/null || skip "ip netns add failed (no network namespaces here?)"
namespaces=$ns_a
ip netns add "$ns_b" 2>/dev/null || skip "ip netns add failed"
namespaces="$ns_a $ns_b"
ip -n "$ns_a" link add rdk0 type veth peer name rdk1 netns "$ns_b" 2>/dev/null || skip "cannot create a veth pair"
for ns in $ns_a $ns_b; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
  ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set rdk0 up && ip -n "$ns_b" link set rdk1 up || { status=1; exit 1; }
work=$(mktemp -d /tmp/$tag.XXXXXX) || { status=1; exit 1; }
export RUM_BIN_DIR=$bin_dir

# start_nodes [rumd args]: three rumd in host A on 10.79.0.1.
start_nodes() {
  ip netns exec "$ns_a" "$rum_cluster" start --nodes 3 --host 10.79.0.1 --base-port "$base_port" \
    --dir "$work" --memory-mb 256 --set mtu=1472 --timeout 20 -- "$@"
}

# run_client NS [VAR=value...]: mem_test --quick in NS against the cluster.
run_client() {
  local ns=$1
  shift
  echo "== mem_test --quick in $ns ($*)"
  env RUM_MACHINES="$work/machines.csv" RUM_CACHE_MB=2 RUM_FAULT=uffd "$@" \
    ip netns exec "$ns" timeout 60 "$bin_dir/mem_test" --quick --seed 1001 &
  client_pid=$!
  wait "$client_pid"
  local rc=$?
  client_pid=""
  return $rc
}

status=1
case $case_name in
  dpdk-nodes)
    echo "host A ($ns_a): 3 rumd on dpdk/af_packet rdk0 10.79.0.1; host B ($ns_b): kernel UDP 10.79.0.2"
    ip -n "$ns_b" addr add 10.79.0.2/24 dev rdk1 || exit 1
    start_nodes --transport dpdk --dpdk-args "$eal --vdev=net_af_packet0,iface=rdk0" || exit 1
    kernel_ns=$ns_b
    [[ $loss -eq 1 ]] && { ip netns exec "$ns_b" iptables -A INPUT -m statistic --mode random \
      --probability 0.1 -j DROP || skip "iptables statistic match unavailable"; }
    run_client "$ns_b" RUM_TRANSPORT=udp
    status=$?
    ;;
  dpdk-client)
    echo "host A ($ns_a): 3 rumd on kernel UDP 10.79.0.1; host B ($ns_b): dpdk/af_packet rdk1 10.79.0.2"
    ip -n "$ns_a" addr add 10.79.0.1/24 dev rdk0 || exit 1
    start_nodes --transport udp || exit 1
    kernel_ns=$ns_a
    [[ $loss -eq 1 ]] && { ip netns exec "$ns_a" iptables -A INPUT -m statistic --mode random \
      --probability 0.1 -j DROP || skip "iptables statistic match unavailable"; }
    run_client "$ns_b" RUM_TRANSPORT=dpdk "RUM_DPDK_ARGS=ip=10.79.0.2 $eal --vdev=net_af_packet0,iface=rdk1"
    status=$?
    ;;
  *) echo "unknown case $case_name"; status=2; exit 2 ;;
esac
if [[ $loss -eq 1 ]]; then
  dropped=$(ip netns exec "$kernel_ns" iptables -L INPUT -v -n -x | awk '/statistic/ {print $1}')
  echo "iptables dropped ${dropped:-?} packets in $kernel_ns"
  [[ ${dropped:-0} -gt 0 ]] || { echo "the loss rule dropped nothing"; status=1; }
fi
[[ $status -eq 0 ]] && echo "PASS: $case_name${4:+ $4}" || echo "FAIL: $case_name${4:+ $4} ($status)"
exit $status
