#!/usr/bin/env bash
# The differential suite (run under with_cluster.sh): a real redis-server and rum-kvs
# on the local cluster get the same commands from kvs_diff.py; every reply must match.
#   diff.sh PORT [kvs_diff.py args...]   (rum-kvs on PORT, redis-server on PORT+1)
# KVS_DIFF_SEEDS="1 2" replays given seeds; otherwise one fixed seed and one random one.
set -u
port=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$RUM_BIN_DIR
rport=$((port + 1))
kpid= rpid=
dir=$(mktemp -d "${TMPDIR:-/tmp}/kvs-diff.XXXXXX")
cleanup() {
  [[ -n $kpid ]] && kill -TERM "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
  [[ -n $rpid ]] && kill -TERM "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "SKIP: redis-server is not installed (scripts/deps.sh)"; exit 0; }

redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
  --logfile "$dir/redis.log" &
rpid=$!
"$bin/rum-kvs" --store diff --port "$port" --cache-mb 8 2>"$dir/kvs.log" &
kpid=$!
# Each port must be answered by the process started here, not by a leftover.
for pp in "$port:$kpid" "$rport:$rpid"; do
  p=${pp%%:*} want=${pp##*:}
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  got=$(redis-cli -p "$p" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
  [[ $got == "$want" ]] || fail "port $p is answered by pid '$got', not by the server started here ($want)"
done
seeds=()
for s in ${KVS_DIFF_SEEDS:-20261204 $RANDOM$RANDOM}; do seeds+=(--seed "$s"); done
python3 "$here/kvs_diff.py" --redis "$rport" --kvs "$port" --cases "$here/diff_cases.txt" "${seeds[@]}" "$@"
rc=$?
kill -0 "$kpid" 2>/dev/null || { cat "$dir/kvs.log" >&2; fail "rum-kvs died"; }
[[ $rc -eq 0 ]] || fail "replies differ"
echo PASS
