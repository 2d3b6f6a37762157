#!/usr/bin/env bash
# Node memory follows what is live: alloc_churn allocates and frees TOTAL MiB with at
# most LIVE MiB alive; while it holds its live blocks, the nodes' committed memory
# (rumctl status --json, summed over the nodes) must come down to within
#   2 x LIVE + 16 MiB per node
# within 15 s (the heap DISCARDs pages free for a second and trims decayed tops).
# Run under with_cluster.sh (RUM_MACHINES set). Usage: alloc_churn.sh BIN_DIR TOTAL_MB LIVE_MB
set -uo pipefail
bin=$1 total=$2 live=$3
work=$(mktemp -d /tmp/alloc-churn.XXXXXX)
churn_pid=
cleanup() {
  touch "$work/release"
  [ -n "$churn_pid" ] && wait "$churn_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/alloc_churn" --total-mb "$total" --live-mb "$live" --hold "$work/release" >"$work/out" &
churn_pid=$!
for _ in $(seq 1 3000); do
  grep -q '^ready' "$work/out" 2>/dev/null && break
  kill -0 "$churn_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^ready' "$work/out" || { echo "alloc_churn.sh: the churn did not finish"; cat "$work/out"; exit 1; }
read -r _ live_bytes _ allocated <"$work/out"
nodes=$(grep -c '^[0-9]' "$RUM_MACHINES")
limit=$(( 2 * live_bytes + nodes * 16 * 1048576 ))
used=
for _ in $(seq 1 30); do
  used=$("$bin/rumctl" --json status | python3 -c 'import json,sys; print(sum(n["memory_used"] for n in json.load(sys.stdin)["nodes"]))')
  [ -n "$used" ] && [ "$used" -le "$limit" ] && break
  sleep 0.5
done
echo "alloc_churn.sh: allocated $allocated bytes in all; live $live_bytes; nodes' memory $used (limit $limit)"
[ -n "$used" ] && [ "$used" -le "$limit" ] || { echo "alloc_churn.sh: node memory did not come down to the live size"; exit 1; }
touch "$work/release"
wait "$churn_pid"; status=$?
churn_pid=
[ "$status" -eq 0 ] || { echo "alloc_churn.sh: alloc_churn failed ($status)"; exit 1; }
echo "alloc_churn.sh: PASS"
