#!/usr/bin/env bash
# kvs_bench.sh: rum-kvs against the real thing, on this machine, in one run.
#
#   bench/kvs_bench.sh [--quick]        (RUM_BUILD_DIR: the build, default build/)
#
# Starts a 3-node RUM cluster (tests/integration/with_cluster.sh), rum-kvs, Debian's
# redis-server and Debian's memcached, and measures:
#  1. redis-benchmark -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,zadd,mset -c 50,
#     with -P 16 and without, against rum-kvs and redis-server with the same flags:
#     requests/s, p50 and p99 per command, and the ratio rum-kvs / redis-server. A
#     command rum-kvs does not implement yet is reported as such and skipped.
#  2. GET and SET with a data set 10x rum-kvs's cache (--cache-mb), same for Redis.
#  3. Node memory per key (rumctl status --json) against redis-server's used_memory
#     per key, for 100-byte values.
#  4. The memcached port against memcached, with bench/kvs/mc_load.c (Debian has no
#     memtier_benchmark), with a pipeline of 16 and of 1.
# Every figure is a JSON line on stdout (with the same-run baseline and the ratio);
# a table follows on stderr. Ports: $KVS_BENCH_PORT (default 25700) .. +20.
# KVS_BENCH_ONLY=10x runs steps 3 and 2 only (the 10x-cache figures, quicker).
# KVS_BENCH_KVS_ARGS: more rum-kvs options, e.g. "--journal-mb 0" or "--sync always".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${RUM_BUILD_DIR:-$root/build}
base=${KVS_BENCH_PORT:-25700}

if [[ ${1:-} != --inner ]]; then
  for tool in redis-benchmark redis-server redis-cli memcached cc python3; do
    command -v "$tool" >/dev/null || { echo "kvs_bench: $tool is missing (scripts/deps.sh)" >&2; exit 2; }
  done
  [[ -x $build/bin/rum-kvs ]] || { echo "kvs_bench: no $build/bin/rum-kvs (scripts/build.sh)" >&2; exit 2; }
  export RUM_BIN_DIR=$build/bin
  exec "$root/tests/integration/with_cluster.sh" --nodes 3 --base-port "$base" --memory-mb 1024 \
    -- "$0" --inner "$@"
fi
shift
quick=0
[[ ${1:-} == --quick ]] && quick=1
bin=$RUM_BIN_DIR
kvs_port=$((base + 10)) mc_port=$((base + 11)) redis_port=$((base + 12)) memcached_port=$((base + 13))
n_pipe=$((quick ? 100000 : 1000000)) n_plain=$((quick ? 20000 : 200000))
mc_seconds=$((quick ? 2 : 5))
reps=$((quick ? 1 : 3))
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvs_bench.XXXXXX")
results=$tmp/results.jsonl
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

emit() { echo "$1" | tee -a "$results"; }
progress() { echo "kvs_bench: $*" >&2; }
wait_port() {
  for _ in $(seq 150); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "kvs_bench: nothing answers on port $1" >&2
  exit 1
}
kvs_pid=
start_kvs() { # start_kvs CACHE_MB
  "$bin/rum-kvs" --store kvsbench --port $kvs_port --memcached-port $mc_port --cache-mb "$1" \
    ${KVS_BENCH_KVS_ARGS:-} >>"$tmp/rum-kvs.log" 2>&1 &
  kvs_pid=$!
  pids+=("$kvs_pid")
  wait_port $kvs_port
}
stop_kvs() {
  kill -TERM "$kvs_pid"
  wait "$kvs_pid"
}

cc -O2 -o "$tmp/mc_load" "$here/kvs/mc_load.c" || exit 1
redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  >"$tmp/redis.log" 2>&1 &
pids+=($!)
mc_user=()
[[ $(id -u) -eq 0 ]] && mc_user=(-u nobody)
memcached -p $memcached_port -l 127.0.0.1 -U 0 -m 2048 "${mc_user[@]}" >"$tmp/memcached.log" 2>&1 &
pids+=($!)
start_kvs 1024
wait_port $redis_port

# Which commands rum-kvs answers today (another change adds the hash/list/set/zset ones).
declare -A probe=([set]="SET p v" [get]="GET p" [incr]="INCR pc" [lpush]="LPUSH pl a" [rpush]="RPUSH pl a"
  [lpop]="LPOP pl" [rpop]="RPOP pl" [sadd]="SADD ps a" [hset]="HSET ph f v" [zadd]="ZADD pz 1 a"
  [mset]="MSET p1 1 p2 2")
tests=(set get incr lpush rpush lpop rpop sadd hset zadd mset)

# redis-benchmark --csv -> "rps p50 p99" of its one test.
rb() { # rb PORT TEST N EXTRA...
  local port=$1 t=$2 n=$3
  shift 3
  redis-benchmark -p "$port" -t "$t" -n "$n" -c 50 "$@" --csv 2>/dev/null |
    awk -F, 'NR > 1 { gsub(/"/, ""); print $2, $5, $7; exit }'
}

# The run of median requests/s among "rps p50 p99" lines.
median() { sort -n | awk '{ l[NR] = $0 } END { if (NR) print l[int((NR + 1) / 2)] }'; }

compare() { # compare SCENARIO TEST PIPELINE N EXTRA...
  local scen=$1 t=$2 pipe=$3 n=$4
  shift 4
  local k r ks=() rs=()
  # Alternate the two servers and keep each one's median run: this machine is shared.
  for _ in $(seq $reps); do
    ks+=("$(rb $kvs_port "$t" "$n" -P "$pipe" "$@")")
    rs+=("$(rb $redis_port "$t" "$n" -P "$pipe" "$@")")
  done
  k=$(printf '%s\n' "${ks[@]}" | grep . | median)
  r=$(printf '%s\n' "${rs[@]}" | grep . | median)
  if [[ -z $k || -z $r ]]; then
    emit "{\"scenario\":\"$scen\",\"test\":\"$t\",\"pipeline\":$pipe,\"status\":\"no result (rum-kvs '$k', redis '$r')\"}"
    return
  fi
  read -r krps kp50 kp99 <<<"$k"
  read -r rrps rp50 rp99 <<<"$r"
  emit "$(python3 -c "import json,sys; a=sys.argv[1:]; print(json.dumps({'scenario': a[0], 'test': a[1].upper(),
 'pipeline': int(a[2]), 'clients': 50, 'requests': int(a[3]), 'rum_kvs_rps': float(a[4]), 'rum_kvs_p50_ms': float(a[5]),
 'rum_kvs_p99_ms': float(a[6]), 'redis_rps': float(a[7]), 'redis_p50_ms': float(a[8]), 'redis_p99_ms': float(a[9]),
 'runs': int(a[10]), 'ratio': round(float(a[4]) / float(a[7]), 3)}))" "$scen" "$t" "$pipe" "$n" $krps $kp50 $kp99 $rrps $rp50 $rp99 $reps)"
}

only=${KVS_BENCH_ONLY:-}
[[ -z $only || $only == 10x ]] || { echo "kvs_bench: KVS_BENCH_ONLY must be 10x or empty" >&2; exit 2; }
# 1. redis-benchmark, everything in cache.
for pipe in 16 1; do
  [[ $only == 10x ]] && break
  n=$n_pipe
  [[ $pipe -eq 1 ]] && n=$n_plain
  for t in "${tests[@]}"; do
    # shellcheck disable=SC2086
    answer=$(redis-cli -p $kvs_port ${probe[$t]} 2>&1)
    if [[ $answer == *"unknown command"* ]]; then
      emit "{\"scenario\":\"redis_benchmark\",\"test\":\"${t^^}\",\"pipeline\":$pipe,\"status\":\"rum-kvs answers unknown command\"}"
      continue
    fi
    progress "redis-benchmark -t $t -P $pipe -n $n"
    compare redis_benchmark "$t" "$pipe" "$n"
  done
done
redis-cli -p $kvs_port flushall >/dev/null
redis-cli -p $redis_port flushall >/dev/null

# 3. Memory per key, 100-byte values: node memory (sum over nodes) against used_memory.
node_used() { "$bin/rumctl" status --json | python3 -c "import json,sys; print(sum(n['memory_used'] for n in json.load(sys.stdin)['nodes']))"; }
redis_used() { redis-cli -p $redis_port info memory | awk -F: '/^used_memory:/ { print $2 + 0 }'; }
nkeys=$((quick ? 100000 : 500000))
gen_keys() { python3 -c "
import sys
v = b'v' * 100
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    k = b'key:%012d' % i
    out.write(b'*3\r\n\$3\r\nSET\r\n\$%d\r\n%s\r\n\$100\r\n%s\r\n' % (len(k), k, v))" "$1"; }
progress "memory per key: $nkeys keys of 100 bytes"
redis-cli -p $kvs_port save >/dev/null
kvs_before=$(node_used) redis_before=$(redis_used)
gen_keys $nkeys | redis-cli -p $kvs_port --pipe >/dev/null
gen_keys $nkeys | redis-cli -p $redis_port --pipe >/dev/null
redis-cli -p $kvs_port save >/dev/null
kvs_after=$(node_used) redis_after=$(redis_used)
emit "$(python3 -c "import json,sys; k0,k1,r0,r1,n=map(int,sys.argv[1:]); kp=(k1-k0)/n; rp=(r1-r0)/n
print(json.dumps({'scenario': 'memory_per_key', 'keys': n, 'value_bytes': 100, 'rum_kvs_node_bytes_per_key': round(kp, 1),
 'redis_used_memory_per_key': round(rp, 1), 'ratio': round(kp / rp, 3)}))" "$kvs_before" "$kvs_after" "$redis_before" "$redis_after" $nkeys)"

# 2. GET/SET with a data set 10x the cache. The keys of step 3 stay; more are added
# until node memory is 10x --cache-mb, then redis-benchmark draws keys from that set.
cache_mb=$((quick ? 8 : 32))
per_key=$(python3 -c "import sys; print(max(1, (int(sys.argv[2]) - int(sys.argv[1])) // int(sys.argv[3])))" \
  "$kvs_before" "$kvs_after" $nkeys)
big_keys=$(( (10 * cache_mb * 1048576) / per_key ))
[[ $big_keys -lt $nkeys ]] && big_keys=$nkeys
progress "10x cache: $big_keys keys, rum-kvs --cache-mb $cache_mb"
if [[ $big_keys -gt $nkeys ]]; then
  gen_keys $big_keys | redis-cli -p $kvs_port --pipe >/dev/null
  gen_keys $big_keys | redis-cli -p $redis_port --pipe >/dev/null
fi
stop_kvs
start_kvs $cache_mb
for pipe in 16 1; do
  n=$n_pipe
  [[ $pipe -eq 1 ]] && n=$n_plain
  for t in get set; do
    progress "10x cache: redis-benchmark -t $t -P $pipe -r $big_keys -d 100"
    reps=1 compare "redis_benchmark_10x_cache_${cache_mb}mb_${big_keys}keys" "$t" "$pipe" $((n / 10)) \
      -r "$big_keys" -d 100
  done
done
stop_kvs
start_kvs 1024
redis-cli -p $kvs_port flushall >/dev/null

# 4. memcached: rum-kvs's memcached port against memcached.
for pipe in 16 1; do
  [[ $only == 10x ]] && break
  for op in set get; do
    progress "mc_load --op $op --pipeline $pipe"
    k=$("$tmp/mc_load" --port $mc_port --op $op --conns 50 --pipeline $pipe --seconds $mc_seconds --keys 100000 --prefill)
    m=$("$tmp/mc_load" --port $memcached_port --op $op --conns 50 --pipeline $pipe --seconds $mc_seconds --keys 100000 --prefill)
    emit "$(python3 -c "import json,sys; k=json.loads(sys.argv[1]); m=json.loads(sys.argv[2])
print(json.dumps({'scenario': 'memcached', 'test': k['op'].upper(), 'pipeline': k['pipeline'], 'clients': k['conns'],
 'value_bytes': k['value_size'], 'rum_kvs_rps': k['rps'], 'rum_kvs_p50_us': k['p50_us'], 'rum_kvs_p99_us': k['p99_us'],
 'memcached_rps': m['rps'], 'memcached_p50_us': m['p50_us'], 'memcached_p99_us': m['p99_us'],
 'ratio': round(k['rps'] / m['rps'], 3)}))" "$k" "$m")"
  done
done

python3 - "$results" >&2 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n%-44s %-6s %3s %12s %12s %6s %16s %16s" % ("scenario", "test", "P", "rum-kvs/s", "baseline/s", "ratio",
                                                     "p50/p99 rum-kvs", "p50/p99 base"))
for r in rows:
    if "status" in r:
        print("%-44s %-6s %3s %s" % (r["scenario"], r["test"], r["pipeline"], r["status"]))
    elif r["scenario"] == "memory_per_key":
        print("%-44s %d keys: rum-kvs %.1f B/key on the nodes, redis %.1f B/key used_memory, ratio %.2f" % (
            r["scenario"], r["keys"], r["rum_kvs_node_bytes_per_key"], r["redis_used_memory_per_key"], r["ratio"]))
    elif r["scenario"] == "memcached":
        print("%-44s %-6s %3d %12.0f %12.0f %6.2f %16s %16s" % ("memcached (us)", r["test"], r["pipeline"],
              r["rum_kvs_rps"], r["memcached_rps"], r["ratio"], "%d/%d" % (r["rum_kvs_p50_us"], r["rum_kvs_p99_us"]),
              "%d/%d" % (r["memcached_p50_us"], r["memcached_p99_us"])))
    else:
        print("%-44s %-6s %3d %12.0f %12.0f %6.2f %16s %16s" % (r["scenario"] + " (ms)", r["test"], r["pipeline"],
              r["rum_kvs_rps"], r["redis_rps"], r["ratio"], "%.3f/%.3f" % (r["rum_kvs_p50_ms"], r["rum_kvs_p99_ms"]),
              "%.3f/%.3f" % (r["redis_p50_ms"], r["redis_p99_ms"])))
EOF
