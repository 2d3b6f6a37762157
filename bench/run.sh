#!/usr/bin/env bash
# Run the benchmark scenarios against a fresh local 3-node cluster and print their
# JSON lines (stdout) with progress on stderr. Needs a build (scripts/build.sh).
#   bench/run.sh [rtt] [fault] [seq] [rand] [alloc]   (default: all)
# Environment: RUM_BUILD_DIR (default build/), RUM_TRANSPORT, BENCH_CACHE_MB (32).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${RUM_BUILD_DIR:-$root/build}"
export RUM_BIN_DIR="$build/bin"
bench="$build/bench/rum-bench"
cache="${BENCH_CACHE_MB:-32}"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(rtt fault seq rand alloc)

dir="$(mktemp -d /tmp/rum-bench.XXXXXX)"
trap '"$root/scripts/rum-cluster" stop --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$root/scripts/rum-cluster" start --nodes 3 --base-port 16401 --memory-mb 4096 --dir "$dir" >&2
export RUM_MACHINES="$dir/machines.csv"

for s in "${scenarios[@]}"; do
  echo "bench: $s" >&2
  case $s in
    rtt) "$bench" rtt --iterations 50000 --port 16450 ;;
    fault) "$bench" fault --cache-mb 256 --pages 20000 ;;
    seq) "$bench" seq --cache-mb "$cache" --pinned ;;
    rand) "$bench" rand --cache-mb "$cache" --iterations 20000 ;;
    alloc) "$bench" alloc --cache-mb 1024 --repeat 3 ;;
    *) echo "bench: unknown scenario $s" >&2; exit 2 ;;
  esac
done
