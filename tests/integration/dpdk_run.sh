#!/bin/sh
# Run one dpdk transport scenario with dpdk_pingpong processes.
#   dpdk_run.sh selftest|memif|memif_hub|afpacket|afpacket_kernel_udp|afpacket_bridge PATH/TO/dpdk_pingpong
# selftest: error paths, port claiming and re-open in one process (net_null ports).
# memif: two processes on one net_memif link (shared memory; server and client roles
#   on one socket in a temporary directory), at the default MTU and at a jumbo MTU.
# memif_hub: one server on two memif interfaces (one socket, id=0 and id=1) and two
#   clients at once, one on each: a transport driving several ports, replying to each
#   client on the port its frames came in on.
# afpacket: each process in its own network namespace, net_af_packet on the two ends
#   of a veth pair (no kernel IP address on either end: DPDK answers ARP).
# afpacket_kernel_udp: the server is the kernel UDP transport on an address of its
#   veth end, the client DPDK af_packet: checks the two talk to each other unchanged.
# afpacket_bridge: a server and two clients at once, on a bridge.
# Exit 0 pass, 1 fail, 77 skipped (not root, no `ip netns`). Every process runs under
# `timeout`; processes, namespaces, DPDK runtime directories and files are removed at
# exit, on failure too.
set -u
case_name=${1:?case}
bin=${2:?dpdk_pingpong binary}
tag=rumdpdk-$$
tmp=$(mktemp -d /tmp/$tag.XXXXXX) || exit 1
pids=""
namespaces=""
proc_timeout=45

cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  for ns in $namespaces; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp" /var/run/dpdk/$tag-* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

skip() {
  echo "SKIP: $*"
  exit 77
}

# Namespaces and runtime directories left by an earlier run that was killed outright.
sweep_stale() {
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^rumdpdk-[0-9]*-'); do
    pid=$(echo "$ns" | cut -d- -f2)
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
  done
  for dir in /var/run/dpdk/rumdpdk-*; do
    [ -d "$dir" ] || continue
    pid=$(basename "$dir" | cut -d- -f2)
    kill -0 "$pid" 2>/dev/null || rm -rf "$dir"
  done
}

# wait_for_line FILE TEXT PID: until FILE has TEXT, PID exits, or 10 s pass.
wait_for_line() {
  i=0
  while [ $i -lt 100 ]; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

eal_common="--no-huge --no-pci -m 128"

# run_pair LABEL SERVER_COMMAND CLIENT_COMMAND: the server in the background, the
# client in the foreground; both must pass.
run_pair() {
  label=$1
  server_cmd=$2
  client_cmd=$3
  echo "== $label"
  # The commands carry quoted --eal arguments: eval them; exec so $! is the server.
  eval "exec $server_cmd" >"$tmp/$label.server.log" 2>&1 &
  spid=$!
  pids="$pids $spid"
  if ! wait_for_line "$tmp/$label.server.log" "server: listening" "$spid"; then
    echo "server did not start:"
    cat "$tmp/$label.server.log"
    return 1
  fi
  eval "$client_cmd"
  crc=$?
  wait "$spid"
  src=$?
  pids=$(echo "$pids" | sed "s/ $spid\$//")
  sed 's/^/  [server] /' "$tmp/$label.server.log"
  echo "client exit $crc, server exit $src"
  [ $crc -eq 77 ] && skip "dpdk transport unavailable"
  [ $crc -eq 0 ] && [ $src -eq 0 ]
}

case_memif() {
  sock=$tmp/memif.sock
  # Default: 2048-byte memif buffers, mtu 2006. Jumbo: bsize=9216 buffers, mtu 8972.
  for mtu in 0 8972; do
    bsize=""
    [ $mtu -ne 0 ] && bsize=",bsize=9216"
    s_eal="$eal_common --file-prefix=$tag-s$mtu --vdev=net_memif0,role=server,socket=$sock$bsize"
    c_eal="$eal_common --file-prefix=$tag-c$mtu --vdev=net_memif0,role=client,socket=$sock$bsize"
    run_pair "memif-mtu$mtu" \
      "timeout $proc_timeout $bin server --eal '$s_eal' --ip 10.77.0.1 --port 20001 --mtu $mtu" \
      "timeout $proc_timeout $bin client --eal '$c_eal' --ip 10.77.0.2 --port 20002 --mtu $mtu --peer 10.77.0.1:20001 --cycles 2 --bench 5000" \
      || return 1
  done
}

case_memif_hub() {
  sock=$tmp/hub.sock
  s_eal="$eal_common --file-prefix=$tag-s --vdev=net_memif0,role=server,socket=$sock,id=0 --vdev=net_memif1,role=server,socket=$sock,id=1"
  timeout $proc_timeout "$bin" server --eal "$s_eal" --ip 10.77.1.1 --port 20001 --clients 2 \
    >"$tmp/hub.server.log" 2>&1 &
  spid=$!
  pids="$pids $spid"
  wait_for_line "$tmp/hub.server.log" "server: listening" "$spid" || { cat "$tmp/hub.server.log"; return 1; }
  for c in 0 1; do
    c_eal="$eal_common --file-prefix=$tag-c$c --vdev=net_memif0,role=client,socket=$sock,id=$c"
    timeout $proc_timeout "$bin" client --eal "$c_eal" --ip 10.77.1.1$c --port 2003$c \
      --peer 10.77.1.1:20001 --count 300 >"$tmp/hub.client$c.log" 2>&1 &
    eval "cpid$c=\$!"
    pids="$pids $!"
  done
  wait "$cpid0"; c0=$?
  wait "$cpid1"; c1=$?
  wait "$spid"; s=$?
  for f in client0 client1 server; do sed "s/^/  [$f] /" "$tmp/hub.$f.log"; done
  echo "client exits $c0 $c1, server exit $s"
  grep -q "server stats: 2 port(s)" "$tmp/hub.server.log" || { echo "the server did not drive both ports"; return 1; }
  [ $c0 -eq 0 ] && [ $c1 -eq 0 ] && [ $s -eq 0 ]
}

setup_veth() {
  [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
  command -v ip >/dev/null 2>&1 || skip "no ip command"
  sweep_stale
  ns_a=$tag-a
  ns_b=$tag-b
  ip netns add "$ns_a" 2>/dev/null || skip "ip netns add failed"
  namespaces="$ns_a"
  ip netns add "$ns_b" 2>/dev/null || skip "ip netns add failed"
  namespaces="$ns_a $ns_b"
  ip -n "$ns_a" link add rdk0 type veth peer name rdk1 netns "$ns_b" || skip "cannot create a veth pair"
  for ns in $ns_a $ns_b; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    ip -n "$ns" link set lo up
  done
  ip -n "$ns_a" link set rdk0 up && ip -n "$ns_b" link set rdk1 up || return 1
}

case_afpacket() {
  setup_veth || return 1
  s_eal="$eal_common --file-prefix=$tag-s --vdev=net_af_packet0,iface=rdk0"
  c_eal="$eal_common --file-prefix=$tag-c --vdev=net_af_packet0,iface=rdk1"
  run_pair afpacket \
    "ip netns exec $ns_a timeout $proc_timeout $bin server --eal '$s_eal' --ip 10.78.0.1 --port 20001" \
    "ip netns exec $ns_b timeout $proc_timeout $bin client --eal '$c_eal' --ip 10.78.0.2 --port 20002 --peer 10.78.0.1:20001 --bench 5000"
}

case_afpacket_kernel_udp() {
  setup_veth || return 1
  ip -n "$ns_a" addr add 10.78.0.1/24 dev rdk0 || return 1
  c_eal="$eal_common --file-prefix=$tag-c --vdev=net_af_packet0,iface=rdk1"
  run_pair afpacket-kernel-udp \
    "ip netns exec $ns_a timeout $proc_timeout $bin server --kind udp --ip 10.78.0.1 --port 20001 --mtu 1472" \
    "ip netns exec $ns_b timeout $proc_timeout $bin client --eal '$c_eal' --ip 10.78.0.2 --port 20002 --peer 10.78.0.1:20001 --bench 2000"
}

# Three DPDK processes on a bridge (a server and two clients at once, each in its
# own namespace): ARP among several peers, and progress with three busy pollers on
# two cores.
case_afpacket_bridge() {
  [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
  command -v ip >/dev/null 2>&1 || skip "no ip command"
  sweep_stale
  br=$tag-br
  ip netns add "$br" 2>/dev/null || skip "ip netns add failed"
  namespaces="$br"
  ip -n "$br" link add br0 type bridge && ip -n "$br" link set br0 up || skip "cannot create a bridge"
  for who in s c1 c2; do
    ns=$tag-$who
    ip netns add "$ns" || return 1
    namespaces="$namespaces $ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    ip -n "$br" link add "v$who" type veth peer name rdk0 netns "$ns" || return 1
    ip -n "$br" link set "v$who" master br0 up && ip -n "$ns" link set rdk0 up || return 1
  done
  s_eal="$eal_common --file-prefix=$tag-s --vdev=net_af_packet0,iface=rdk0"
  ip netns exec "$tag-s" timeout $proc_timeout "$bin" server --eal "$s_eal" --ip 10.79.1.1 \
    --clients 2 >"$tmp/bridge.server.log" 2>&1 &
  spid=$!
  pids="$pids $spid"
  wait_for_line "$tmp/bridge.server.log" "server: listening" "$spid" || { cat "$tmp/bridge.server.log"; return 1; }
  for c in 1 2; do
    c_eal="$eal_common --file-prefix=$tag-c$c --vdev=net_af_packet0,iface=rdk0"
    ip netns exec "$tag-c$c" timeout $proc_timeout "$bin" client --eal "$c_eal" --ip 10.79.1.1$c \
      --port 2002$c --peer 10.79.1.1:20001 --count 200 >"$tmp/bridge.client$c.log" 2>&1 &
    eval "cpid$c=\$!"
    pids="$pids $!"
  done
  wait "$cpid1"; c1=$?
  wait "$cpid2"; c2=$?
  wait "$spid"; s=$?
  for f in client1 client2 server; do sed "s/^/  [$f] /" "$tmp/bridge.$f.log"; done
  echo "client exits $c1 $c2, server exit $s"
  [ $c1 -eq 0 ] && [ $c2 -eq 0 ] && [ $s -eq 0 ]
}

# One process, net_null ports: errors, port claiming, re-open; a failing rte_eal_init.
case_selftest() {
  timeout $proc_timeout "$bin" selftest "$tag-st" && timeout $proc_timeout "$bin" bad-eal "$tag-be"
}

case "$case_name" in
selftest) case_selftest ;;
memif) case_memif ;;
memif_hub) case_memif_hub ;;
afpacket_bridge) case_afpacket_bridge ;;
afpacket) case_afpacket ;;
afpacket_kernel_udp) case_afpacket_kernel_udp ;;
*) echo "unknown case $case_name"; exit 2 ;;
esac
rc=$?
[ $rc -eq 0 ] && echo "PASS: $case_name" || echo "FAIL: $case_name"
exit $rc
