#!/usr/bin/env bash
# Scenario (issue: heartbeats and leases): a client holding leased and named regions
# is killed with SIGKILL. Within the lease timeout every node reclaims its leased
# regions and its memory use drops back (seen through rumctl); the named region
# survives and a second process reads back every byte.
# Runs under with_cluster.sh (RUM_MACHINES set, nodes started with a short lease).
set -euo pipefail
bin=$1
lease_ms=$2
name=lease-test-$$
out=$(mktemp)
json() { "$bin/rumctl" --json status; }
sum() { python3 -c "import json,sys; d=json.load(sys.stdin); print(sum(n.get('$1',0) for n in d['nodes']))"; }

base_used=$(json | sum memory_used)
"$bin/lease_client" --hold "$name" 24 > "$out" 2>&1 &
client=$!
trap 'kill -9 $client 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done
grep -q ready "$out" || { echo "client did not get ready:"; cat "$out"; exit 1; }

held=$(json | sum memory_used)
regions=$(json | sum regions)
echo "memory used before: $base_used bytes; with the client: $held bytes in $regions regions"
[ "$held" -ge $((base_used + 24 * 1024 * 1024)) ] || { echo "FAIL: the client's 24 MiB are not on the nodes"; exit 1; }

kill -9 "$client"
wait "$client" 2>/dev/null || true
killed=$(date +%s%N)
deadline=$((killed + (lease_ms * 3 + 3000) * 1000000))
while :; do
  used=$(json | sum memory_used)
  if [ "$used" -le $((base_used + 2 * 1024 * 1024)) ]; then break; fi
  if [ "$(date +%s%N)" -gt "$deadline" ]; then
    echo "FAIL: memory still $used bytes $(( (deadline - killed) / 1000000 )) ms after the kill"
    "$bin/rumctl" regions
    exit 1
  fi
  sleep 0.2
done
took=$(( ($(date +%s%N) - killed) / 1000000 ))
echo "reclaimed within $took ms (lease $lease_ms ms): memory used now $used bytes"
reclaims=$(for id in $(seq 1 3); do "$bin/rumctl" --json stats "$id"; done |
  python3 -c "import json,sys; print(sum(json.loads(l)['reclaims'] for l in sys.stdin))")
[ "$reclaims" -ge 1 ] || { echo "FAIL: no node counted a reclaim"; exit 1; }
"$bin/rumctl" regions --named | grep -q "$name" || { echo "FAIL: the named region is gone"; exit 1; }
"$bin/lease_client" --verify "$name" $((1 << 20))
echo "PASS: leased regions reclaimed ($reclaims), named region intact"
