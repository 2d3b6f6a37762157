#!/usr/bin/env bash
# rum-lua against the stock lua5.4, in one run, on the classic programs of
# bench/lua/. rum-lua runs against a local 3-node cluster (with_cluster.sh), twice
# per program: with a page cache that holds the whole heap, and with one of 10% of
# the heap. Prints one JSON line per program and cache size:
#   {"scenario":"lua.binary-trees","params":"16","reps":5,"heap_mb":44,
#    "cache_mb":96,"cache_fits_heap":true,"lua54_s":1.78,"rumlua_s":1.90,
#    "ratio":1.07,"lua54_max_s":..,"rumlua_max_s":..,"same_output":true}
# lua54_s and rumlua_s are medians of the repetitions; *_max_s the slowest run.
# The heap size is the peak resident size of lua5.4 running the program, less that
# of an empty lua5.4.
#
# usage: bench/lua_bench.sh [--rum-lua PATH] [--reps N] [--base-port P] [--quick]
#   --rum-lua    the binary (default: build*/bin/rum-lua, newest first)
#   --reps       repetitions per measurement (default 5)
#   --base-port  first UDP port of the cluster (default 21900; rum-lua helper's range)
#   --quick      smaller problem sizes (a smoke run of a few seconds)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rum_lua=
reps=5
base_port=21900
quick=0
inner=0

while [ $# -gt 0 ]; do
  case "$1" in
    --rum-lua) rum_lua=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --inner) inner=1; shift ;;
    *) echo "lua_bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

if [ -z "$rum_lua" ]; then
  rum_lua=$(ls -t "$root"/build*/bin/rum-lua 2>/dev/null | head -1)
fi
[ -n "$rum_lua" ] && [ -x "$rum_lua" ] || { echo "lua_bench.sh: rum-lua not found; build it or pass --rum-lua" >&2; exit 2; }
command -v lua5.4 >/dev/null || { echo "lua_bench.sh: lua5.4 not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "lua_bench.sh: /usr/bin/time is needed for the heap size" >&2; exit 2; }

# program and argument, normal and quick.
programs=(binary-trees n-body spectral-norm fannkuch-redux string-builder)
declare -A params=([binary-trees]=16 [n-body]=500000 [spectral-norm]=1000 [fannkuch-redux]=10 [string-builder]=300000)
declare -A quick_params=([binary-trees]=12 [n-body]=50000 [spectral-norm]=200 [fannkuch-redux]=8 [string-builder]=30000)

if [ "$inner" = 0 ]; then
  # Start the cluster once; this script runs again inside it.
  exec "$root/tests/integration/with_cluster.sh" --nodes 3 --base-port "$base_port" --memory-mb 1024 -- \
    "$0" --inner --rum-lua "$rum_lua" --reps "$reps" --base-port "$base_port" \
    $([ "$quick" = 1 ] && echo --quick)
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/lua-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
progress() { [ -t 2 ] && printf '\r\033[K%s' "$*" >&2; }

# Seconds (with decimals) one run of "$@" takes; stdout to $scratch/out.
time_run() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$scratch/out" 2>"$scratch/err" || { echo "lua_bench.sh: failed: $*" >&2; cat "$scratch/err" >&2; return 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maximum() { sort -g | tail -1; }

peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
empty_kb=$(peak_kb lua5.4 -e '')

for prog in "${programs[@]}"; do
  arg=${params[$prog]}
  [ "$quick" = 1 ] && arg=${quick_params[$prog]}
  file="$here/lua/$prog.lua"

  prog_kb=$(peak_kb lua5.4 "$file" "$arg")
  heap_mb=$(( (prog_kb - empty_kb + 1023) / 1024 ))
  [ "$heap_mb" -lt 1 ] && heap_mb=1

  : >"$scratch/lua54.times"
  for ((r = 1; r <= reps; r++)); do
    progress "lua.$prog: lua5.4 run $r/$reps"
    time_run lua5.4 "$file" "$arg" >>"$scratch/lua54.times" || exit 1
  done
  cp "$scratch/out" "$scratch/lua54.out"
  lua54_s=$(median <"$scratch/lua54.times")
  lua54_max=$(maximum <"$scratch/lua54.times")

  # A cache of twice the heap plus slack holds it all; then 10% of the heap.
  fit_mb=$(( heap_mb * 2 + 16 ))
  tenth_mb=$(( (heap_mb + 9) / 10 ))
  for cache_mb in "$fit_mb" "$tenth_mb"; do
    fits=true
    [ "$cache_mb" = "$tenth_mb" ] && fits=false
    : >"$scratch/rum.times"
    same=true
    for ((r = 1; r <= reps; r++)); do
      progress "lua.$prog: rum-lua --cache-mb $cache_mb run $r/$reps"
      time_run "$rum_lua" --cache-mb "$cache_mb" "$file" "$arg" >>"$scratch/rum.times" || exit 1
      cmp -s "$scratch/out" "$scratch/lua54.out" || same=false
    done
    rum_s=$(median <"$scratch/rum.times")
    rum_max=$(maximum <"$scratch/rum.times")
    progress ""
    awk -v s="lua.$prog" -v p="$arg" -v reps="$reps" -v heap="$heap_mb" -v cache="$cache_mb" \
        -v fits="$fits" -v l="$lua54_s" -v lm="$lua54_max" -v r="$rum_s" -v rm="$rum_max" -v same="$same" \
      'BEGIN { printf "{\"scenario\":\"%s\",\"params\":\"%s\",\"reps\":%d,\"heap_mb\":%d,\"cache_mb\":%d,\"cache_fits_heap\":%s,\"lua54_s\":%.3f,\"rumlua_s\":%.3f,\"ratio\":%.3f,\"lua54_max_s\":%.3f,\"rumlua_max_s\":%.3f,\"same_output\":%s}\n", s, p, reps, heap, cache, fits, l, r, (l > 0 ? r / l : 0), lm, rm, same }'
  done
done
