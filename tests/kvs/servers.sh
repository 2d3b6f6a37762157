# Sourced by the kvs tests: a scratch folder, rum-kvs and redis-server started on given
# ports (each checked to be the process answering there), all stopped on exit.
#   kvs_setup NAME          scratch folder $dir, cleanup trap, fail()
#   start_kvs STORE PORT CACHE_MB [RUM-KVS ARGS...]   (sets kpid)
#   start_redis PORT                (sets rpid)
kpid= rpid= dir=
kvs_cleanup() {
  [[ -n $kpid ]] && kill -TERM "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
  [[ -n $rpid ]] && kill -TERM "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
  [[ -n $dir ]] && rm -rf "$dir"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
kvs_setup() {
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kvs-$1.XXXXXX") || fail "no scratch folder"
  trap kvs_cleanup EXIT
}
# The server on port $1 must be pid $2 (not a leftover of another run).
wait_owner() {
  local p=$1 want=$2 got
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  got=$(redis-cli -p "$p" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
  [[ $got == "$want" ]] || { echo "FAIL: port $p is answered by pid '$got', not by the server started here ($want)" >&2; return 1; }
}
start_kvs() {
  "$RUM_BIN_DIR/rum-kvs" --store "$1" --port "$2" --cache-mb "$3" "${@:4}" 2>"$dir/kvs.log" &
  kpid=$!
  wait_owner "$2" "$kpid" || { tail -5 "$dir/kvs.log" >&2; exit 1; }
}
start_redis() {
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
    --logfile "$dir/redis.log" &
  rpid=$!
  wait_owner "$1" "$rpid" || exit 1
}
