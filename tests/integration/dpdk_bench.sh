#!/bin/sh
# Round-trip figures of the dpdk transport against kernel UDP, as JSON lines from
# dpdk_pingpong --bench (one line per scenario and frame size). Not a CTest test:
# run it by hand on a quiet machine, e.g.
#   tests/integration/dpdk_bench.sh build/tests/dpdk_pingpong
# Environment: N round trips per line (5000); GAPS, microseconds of pause before
# each request, so the server has gone idle ("0 100 1000"); AFPACKET=0 skips the
# af_packet runs (they need root for the namespaces).
# Scenarios: dpdk over net_memif (two processes, shared memory), udp over loopback
# (the kernel baseline), dpdk over net_af_packet on a veth pair between two network
# namespaces.
set -u
bin=${1:?dpdk_pingpong binary}
n=${N:-5000}
gaps=${GAPS:-0 100 1000}
tag=rumdpdk-$$
tmp=$(mktemp -d /tmp/$tag.XXXXXX) || exit 1
eal="--no-huge --no-pci -m 128"
spid=""
namespaces=""
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  for ns in $namespaces; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp" /var/run/dpdk/$tag-* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# bench NS_SERVER NS_CLIENT SERVER_ARGS CLIENT_ARGS (namespace prefixes may be empty)
bench() {
  eval "exec $1 timeout 120 $bin server $3 --idle-ms 10 --timeout 110" >"$tmp/server.log" 2>&1 &
  spid=$!
  i=0
  until grep -q "server: listening" "$tmp/server.log" 2>/dev/null; do
    if ! kill -0 "$spid" 2>/dev/null || [ $i -ge 100 ]; then cat "$tmp/server.log"; return 1; fi
    sleep 0.1
    i=$((i + 1))
  done
  eval "$2 timeout 120 $bin client $4 --count 5 --bench $n --gap-us $gap --timeout 110" | grep '"scenario"'
  wait "$spid"
  spid=""
}

for gap in $gaps; do
  bench "" "" \
    "--eal '$eal --file-prefix=$tag-s --vdev=net_memif0,role=server,socket=$tmp/memif' --ip 10.77.0.1" \
    "--eal '$eal --file-prefix=$tag-c --vdev=net_memif0,role=client,socket=$tmp/memif' --ip 10.77.0.2 --peer 10.77.0.1:20001"
  bench "" "" "--kind udp --ip 127.0.0.1 --port 20061" \
    "--kind udp --ip 127.0.0.1 --port 20062 --peer 127.0.0.1:20061"
done

if [ "${AFPACKET:-1}" != 0 ] && [ "$(id -u)" = 0 ]; then
  ip netns add "$tag-a" && namespaces="$tag-a" && ip netns add "$tag-b" && namespaces="$tag-a $tag-b" &&
    ip -n "$tag-a" link add rdk0 type veth peer name rdk1 netns "$tag-b" &&
    ip -n "$tag-a" link set rdk0 up && ip -n "$tag-b" link set rdk1 up || exit 1
  for gap in $gaps; do
    bench "ip netns exec $tag-a" "ip netns exec $tag-b" \
      "--eal '$eal --file-prefix=$tag-s --vdev=net_af_packet0,iface=rdk0' --ip 10.78.0.1" \
      "--eal '$eal --file-prefix=$tag-c --vdev=net_af_packet0,iface=rdk1' --ip 10.78.0.2 --peer 10.78.0.1:20001"
  done
fi
