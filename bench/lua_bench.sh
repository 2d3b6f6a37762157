#!/usr/bin/env bash
# rum-lua against the stock lua5.4, in one run, on the classic programs of
# bench/lua/. rum-lua runs against a local 3-node cluster (with_cluster.sh), three
# times per program: with a page cache far larger than the heap (4x + 64 MiB: "in
# cache", goal <= 1.10x), with a cache of twice lua5.4's peak heap (goal <= 1.25x),
# and with one of 10% of the heap. Prints one JSON line per program and cache size:
#   {"scenario":"lua.binary-trees","params":"16","reps":5,"heap_mb":44,
#    "cache_mb":240,"cache":"in_cache","lua54_s":1.78,"rumlua_s":1.90,
#    "ratio":1.07,"lua54_max_s":..,"rumlua_max_s":..,"lua54_cpu_s":..,
#    "rumlua_cpu_s":..,"cpu_ratio":..,"same_output":true}
# lua54_s and rumlua_s are medians of the wall-clock times of the repetitions, *_max_s
# the slowest run, *_cpu_s the median user+system CPU time of the interpreter process
# (the rumd nodes not included), a steadier figure on a busy machine.
# The heap size is the peak resident size of lua5.4 running the program, less that
# of an empty lua5.4.
#
# usage: bench/lua_bench.sh [--rum-lua PATH] [--reps N] [--base-port P] [--quick]
#   --rum-lua    the binary (default: build*/bin/rum-lua, newest first)
#   --reps       repetitions per measurement (default 5)
#   --base-port  first UDP port of the cluster (default 21900; rum-lua helper's range)
#   --quick      smaller problem sizes (a smoke run of a few seconds)
#   --only LIST  only these programs (comma-separated, e.g. n-body,binary-trees)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rum_lua=
reps=5
base_port=21900
quick=0
only=
inner=0

while [ $# -gt 0 ]; do
  case "$1" in
    --rum-lua) rum_lua=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
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
    ${only:+--only "$only"} $([ "$quick" = 1 ] && echo --quick)
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/lua-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
progress() { [ -t 2 ] && printf '\r\033[K%s' "$*" >&2; }

# One run of "$@": prints "elapsed user+sys" in seconds; stdout to $scratch/out.
time_run() {
  if ! /usr/bin/time -f "%e %U %S" -o "$scratch/time" "$@" >"$scratch/out" 2>"$scratch/err"; then
    echo "lua_bench.sh: failed: $*" >&2
    cat "$scratch/err" >&2
    return 1
  fi
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$scratch/time"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maximum() { sort -g | tail -1; }
column() { awk -v c="$1" '{ print $c }' "$2"; }

peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
empty_kb=$(peak_kb lua5.4 -e '')

for prog in "${programs[@]}"; do
  case ",${only:-$prog}," in *",$prog,"*) ;; *) continue ;; esac
  arg=${params[$prog]}
  [ "$quick" = 1 ] && arg=${quick_params[$prog]}
  file="$here/lua/$prog.lua"

  prog_kb=$(peak_kb lua5.4 "$file" "$arg")
  heap_mb=$(( (prog_kb - empty_kb + 1023) / 1024 ))
  [ "$heap_mb" -lt 1 ] && heap_mb=1

  # Far more cache than heap; twice the heap; a tenth of it.
  declare -A cache_of=([in_cache]=$(( heap_mb * 4 + 64 )) [twice_heap]=$(( heap_mb * 2 )) [tenth]=$(( (heap_mb + 9) / 10 )))
  caches=(in_cache twice_heap tenth)

  # The runs are interleaved (lua5.4, then rum-lua with each cache, repeat) so that
  # a change in the machine's load hits all of them alike.
  : >"$scratch/lua54.times"
  declare -A same=()
  for which in "${caches[@]}"; do : >"$scratch/$which.times"; same[$which]=true; done
  for ((r = 1; r <= reps; r++)); do
    progress "lua.$prog: run $r/$reps: lua5.4"
    time_run lua5.4 "$file" "$arg" >>"$scratch/lua54.times" || exit 1
    cp "$scratch/out" "$scratch/lua54.out"
    for which in "${caches[@]}"; do
      progress "lua.$prog: run $r/$reps: rum-lua --cache-mb ${cache_of[$which]}"
      time_run "$rum_lua" --cache-mb "${cache_of[$which]}" "$file" "$arg" >>"$scratch/$which.times" || exit 1
      cmp -s "$scratch/out" "$scratch/lua54.out" || same[$which]=false
    done
  done
  progress ""
  lua54_s=$(column 1 "$scratch/lua54.times" | median)
  lua54_max=$(column 1 "$scratch/lua54.times" | maximum)
  lua54_cpu=$(column 2 "$scratch/lua54.times" | median)
  for which in "${caches[@]}"; do
    cache_mb=${cache_of[$which]}
    rum_s=$(column 1 "$scratch/$which.times" | median)
    rum_max=$(column 1 "$scratch/$which.times" | maximum)
    rum_cpu=$(column 2 "$scratch/$which.times" | median)
    awk -v s="lua.$prog" -v p="$arg" -v reps="$reps" -v heap="$heap_mb" -v cache="$cache_mb" \
        -v which="$which" -v l="$lua54_s" -v lm="$lua54_max" -v r="$rum_s" -v rm="$rum_max" \
        -v lc="$lua54_cpu" -v rc="$rum_cpu" -v same="${same[$which]}" \
      'BEGIN { printf "{\"scenario\":\"%s\",\"params\":\"%s\",\"reps\":%d,\"heap_mb\":%d,\"cache_mb\":%d,\"cache\":\"%s\",\"lua54_s\":%.3f,\"rumlua_s\":%.3f,\"ratio\":%.3f,\"lua54_max_s\":%.3f,\"rumlua_max_s\":%.3f,\"lua54_cpu_s\":%.3f,\"rumlua_cpu_s\":%.3f,\"cpu_ratio\":%.3f,\"same_output\":%s}\n", s, p, reps, heap, cache, which, l, r, (l > 0 ? r / l : 0), lm, rm, lc, rc, (lc > 0 ? rc / lc : 0), same }'
  done
done
