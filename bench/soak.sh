#!/usr/bin/env bash
# A bounded soak: mem_test in a loop against a local 3-node cluster with 5% of every
# process's sent frames dropped, one node restarted half-way, and the resident memory
# of every rumd and of the running mem_test sampled every few seconds.
#
# Usage: bench/soak.sh --minutes N [--out DIR] [--sample-s S] [--base-port P] [--drop P]
#
# Every mem_test run checks every byte it wrote; any failed run fails the soak. The node
# is restarted between two runs: without replication a restart loses the node's pages,
# so a run in flight would (rightly) stop with a message, which is not what this
# measures. Writes DIR/rss.tsv (seconds, then one RSS column in KiB per process),
# DIR/runs.tsv (run, seed, seconds, status), DIR/memory.png (gnuplot, when installed)
# and prints one JSON line: runs, failures, and each node's RSS after warm-up (the
# first run), at the end and at most. Not part of the test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${RUM_BIN_DIR:-$root/build/bin}"
minutes="" out="" sample_s=3 base_port=27400 drop=0.05
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sample-s) sample_s=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --drop) drop=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[[ $minutes =~ ^[0-9]+$ && $minutes -gt 0 ]] || { echo "soak.sh: --minutes N (a whole number > 0) is required" >&2; exit 2; }
[[ $sample_s =~ ^[0-9]+$ && $sample_s -gt 0 ]] || { echo "soak.sh: --sample-s wants a whole number > 0" >&2; exit 2; }
[ -x "$bin/rumd" ] && [ -x "$bin/mem_test" ] || { echo "soak.sh: build first (scripts/build.sh): no $bin/rumd or mem_test" >&2; exit 2; }
out=${out:-$root/build/soak}
mkdir -p "$out"
rm -f "$out"/failed-run-*.log
dir=$(mktemp -d /tmp/rum-soak.XXXXXX)
sampler="" runner=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$runner" ] && kill "$runner" 2>/dev/null || true
  "$root/scripts/rum-cluster" stop --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export RUM_FAULT_INJECT="drop=$drop"
RUM_BIN_DIR="$bin" "$root/scripts/rum-cluster" start --nodes 3 --base-port "$base_port" --dir "$dir" --memory-mb 512 >/dev/null
export RUM_MACHINES=$dir/machines.csv

rss_of() { # KiB resident of a pid, 0 if gone
  awk '/^VmRSS:/ {print $2; found=1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0
}
node_pid() { cat "$dir/node-$1.pid" 2>/dev/null || echo 0; }

duration=$((minutes * 60))
start=$SECONDS
printf 'seconds\tnode1\tnode2\tnode3\tmem_test\n' >"$out/rss.tsv"
(
  while :; do
    t=$((SECONDS - start))
    client=$(cat "$dir/client.pid" 2>/dev/null || echo 0)
    printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$(rss_of "$(node_pid 1)")" "$(rss_of "$(node_pid 2)")" \
      "$(rss_of "$(node_pid 3)")" "$(rss_of "$client")" >>"$out/rss.tsv"
    sleep "$sample_s"
  done
) &
sampler=$!

printf 'run\tseed\tseconds\tstatus\n' >"$out/runs.tsv"
runs=0 failures=0 restarted=0
while [ $((SECONDS - start)) -lt "$duration" ]; do
  if [ $restarted -eq 0 ] && [ $((SECONDS - start)) -ge $((duration / 2)) ]; then
    pid=$(node_pid 2)
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    "$bin/rumd" --machines "$dir/machines.csv" --id 2 --memory-mb 512 --pid-file "$dir/node-2.pid" \
      </dev/null >>"$dir/node-2.log" 2>&1 &
    for _ in $(seq 100); do [ -s "$dir/node-2.pid" ] && [ "$(node_pid 2)" != "$pid" ] && break; sleep 0.1; done
    restarted=1
    echo "soak: node 2 restarted at $((SECONDS - start)) s" >&2
  fi
  runs=$((runs + 1))
  seed=$((1000 + runs))
  t0=$SECONDS
  "$bin/mem_test" --quick --seed "$seed" --cache-mb 4 >"$dir/run.log" 2>&1 &
  runner=$!
  echo "$runner" >"$dir/client.pid"
  status=pass
  wait "$runner" || status=fail
  runner=""
  rm -f "$dir/client.pid"
  printf '%s\t%s\t%s\t%s\n' "$runs" "$seed" "$((SECONDS - t0))" "$status" >>"$out/runs.tsv"
  if [ $status = fail ]; then
    failures=$((failures + 1))
    cp "$dir/run.log" "$out/failed-run-$runs.log"
    echo "soak: run $runs (seed $seed) failed; log in $out/failed-run-$runs.log" >&2
  fi
  printf '\rsoak: %d runs, %d failed, %d of %d s' "$runs" "$failures" "$((SECONDS - start))" "$duration" >&2
done
echo >&2
kill "$sampler" 2>/dev/null || true
sampler=""

# RSS after warm-up (the first sample after the first run, which brings every node to
# its working size) and at the end, per node.
warm=$(awk -F'\t' 'NR == 2 {print $3}' "$out/runs.tsv")
summary=$(awk -F'\t' -v warm="${warm:-0}" 'NR > 1 {
    for (i = 2; i <= 4; i++) { if (!(i in w) && $1 >= warm) w[i] = $i; if ($i > 0) last[i] = $i; if ($i > max[i]) max[i] = $i }
  } END {
    printf "\"rss_kib\":{"
    for (i = 2; i <= 4; i++) printf "%s\"node%d\":{\"after_warmup\":%d,\"end\":%d,\"max\":%d}", (i > 2 ? "," : ""), i - 1, w[i], last[i], max[i]
    printf "}"
  }' "$out/rss.tsv")
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF
set terminal pngcairo size 900,500 noenhanced
set output "$out/memory.png"
set title "RUM soak: resident memory, mem_test loop, ${drop} drop, node 2 restarted half-way"
set xlabel "seconds"
set ylabel "RSS (MiB)"
set key outside
plot for [c=2:5] "$out/rss.tsv" using 1:(column(c)/1024.0) with lines title columnheader(c)
EOF
fi
printf '{"scenario":"soak","minutes":%s,"drop":%s,"runs":%s,"failures":%s,"node_restarted":%s,%s,"out":"%s"}\n' \
  "$minutes" "$drop" "$runs" "$failures" "$restarted" "$summary" "$out"
[ "$failures" -eq 0 ]
