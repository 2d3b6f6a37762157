#!/usr/bin/env bash
# The differential suite (run under with_cluster.sh): a real redis-server and rum-kvs
# on the local cluster get the same commands from kvs_diff.py; every reply must match.
#   diff.sh PORT [kvs_diff.py args...]   (rum-kvs on PORT, redis-server on PORT+1)
# KVS_DIFF_SEEDS="1 2" replays given seeds; otherwise one fixed seed and one random one.
set -u
port=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rport=$((port + 1))
. "$here/servers.sh"
command -v redis-server >/dev/null || { echo "SKIP: redis-server is not installed (scripts/deps.sh)"; exit 0; }
kvs_setup diff
start_redis "$rport"
start_kvs diff "$port" 8
seeds=()
for s in ${KVS_DIFF_SEEDS:-20261204 $RANDOM$RANDOM}; do seeds+=(--seed "$s"); done
python3 "$here/kvs_diff.py" --redis "$rport" --kvs "$port" --cases "$here/diff_cases.txt" "${seeds[@]}" "$@"
rc=$?
kill -0 "$kpid" 2>/dev/null || { cat "$dir/kvs.log" >&2; fail "rum-kvs died"; }
[[ $rc -eq 0 ]] || fail "replies differ"
echo PASS
