#!/usr/bin/env bash
# rum_run_bench.sh: unmodified programs plainly and under rum-run, in one run: with
# the working set in the cache, and with a cache of a tenth of it; the tenth next to
# the same program under Linux swap with the same memory limit (a cgroup limit and a
# swap file) where the machine allows it. Prints one JSON line per program:
#   {"scenario":"rum_run","program":P,"working_set_mb":W,"plain_s":...,"rum_in_cache_s":...,
#    "ratio_in_cache":...,"rum_tenth_s":...,"ratio_tenth":...,"swap_tenth_s":...,"ratio_swap_tenth":...}
# The working set is the program's peak resident size in the plain run; every run's
# output is checked against the plain one ("same_output").
#
#   bench/rum_run_bench.sh [--scale X] [--programs sort,python,...] [--timeout S] [--reps N] [--no-swap]
#
# --scale 1 (default) is the issue's sizes: sort of 200 MB, a million sqlite rows.
# --timeout: seconds each run may take (default 900; a run past it is reported as
# null); --reps: runs of each kind, the fastest counts (a shared machine is noisy).
# Programs: sort gzip xz python lua sqlite gxx cxx. Starts its own cluster
# (ports 26300-26302) unless RUM_MACHINES is set; needs bin/rum-run of a build
# ($RUM_BUILD_DIR, default build/).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$here/..
build=${RUM_BUILD_DIR:-$root/build}
scale=1 programs=sort,gzip,xz,python,lua,sqlite,gxx,cxx timeout_s=900 swap=1 reps=1
args=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --programs) programs=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --no-swap) swap=0; shift ;;
    --reps) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "rum_run_bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ -z ${RUM_MACHINES:-} ]]; then
  exec "$root/tests/integration/with_cluster.sh" --nodes 3 --base-port 26300 --memory-mb 8192 -- "$0" "${args[@]}"
fi
rr=$build/bin/rum-run
[[ -x $rr ]] || { echo "rum_run_bench.sh: $rr not built" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/rum-run-bench.XXXXXX")
cgroup= swapfile=
cleanup() {
  [[ -n $cgroup && -d $cgroup ]] && rmdir "$cgroup" 2>/dev/null
  if [[ -n $swapfile ]]; then swapoff "$swapfile" 2>/dev/null; rm -f "$swapfile"; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 2
log() { echo "rum_run_bench: $*" >&2; }
num() { awk -v s="$scale" -v n="$1" 'BEGIN { v = int(n * s); print v < 1 ? 1 : v }'; }

log "inputs (scale $scale)"
head -c "$(num 150000000)" /dev/urandom | base64 -w 76 >big.txt        # 200 MB at scale 1
head -c "$(num 15000000)" /dev/urandom | base64 -w 76 >medium.txt      # 20 MB
cp "$root/tests/run/containers.cpp" "$root/tests/run/dict_list.py" "$root/tests/run/tables.lua" "$root/tests/run/db.sql" .
g++ -O1 -o containers containers.cpp || exit 2
python=/usr/bin/python3

command_of() {
  case $1 in
    sort) echo "sort big.txt" ;;
    gzip) echo "gzip -6 -c big.txt" ;;
    xz) echo "xz -1 -T1 -c medium.txt" ;;
    python) echo "$python dict_list.py $(num 2000000)" ;;
    lua) echo "lua5.4 tables.lua $(num 1000000)" ;;
    sqlite) echo "sqlite3 :memory: -cmd '.parameter set :n $(num 1000000)' < db.sql" ;;
    gxx) echo "g++ -O2 -c -o /dev/null containers.cpp" ;;
    cxx) echo "./containers $(num 2000000)" ;;
    *) return 1 ;;
  esac
}

# run LABEL COMMAND [PREFIX...]: wall seconds on stdout ("null" past the timeout or
# on failure); the output's digest in digest.txt, the peak RSS (KiB) in rss.txt.
run_once() {
  local label=$1 cmd=$2; shift 2
  local t0 t1 status
  t0=$(date +%s.%N)
  timeout "$timeout_s" /usr/bin/time -f %M -o rss.txt "$@" bash -c "$cmd" </dev/null >out.bin 2>err.txt
  status=$?
  t1=$(date +%s.%N)
  md5sum <out.bin | cut -d' ' -f1 >digest.txt
  if [[ $status -eq 124 ]]; then
    log "$label: past the ${timeout_s}s timeout"
    echo null
  elif [[ $status -ne 0 ]]; then
    log "$label: exit status $status: $(tail -n 3 err.txt)"
    echo null
  else
    echo "$t1 - $t0" | bc -l | awk '{printf "%.3f", $1}'
  fi
}

run() {
  local best=null t i
  for ((i = 0; i < reps; i++)); do
    t=$(run_once "$@")
    [[ $t == null ]] && { echo null; return; }
    if [[ $best == null ]] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  echo "$best"
}

# Linux swap with a memory limit: cgroup v2 memory.max, else v1 memory.limit_in_bytes,
# and a swap file. Sets swap_why when it cannot.
swap_why=
setup_swap() {
  [[ $swap -eq 1 ]] || { swap_why="--no-swap"; return; }
  [[ $(id -u) -eq 0 ]] || { swap_why="needs root (cgroup and swapon)"; return; }
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cgroup=/sys/fs/cgroup/rum-run-bench-$$
    mkdir "$cgroup" 2>/dev/null || { swap_why="cannot create a cgroup v2 group"; cgroup=; return; }
    limit_file=memory.max
  elif [[ -d /sys/fs/cgroup/memory ]]; then
    cgroup=/sys/fs/cgroup/memory/rum-run-bench-$$
    mkdir "$cgroup" 2>/dev/null || { swap_why="cannot create a cgroup v1 memory group"; cgroup=; return; }
    limit_file=memory.limit_in_bytes
    echo 100 >"$cgroup/memory.swappiness" 2>/dev/null
  else
    swap_why="no memory cgroup"; return
  fi
  if ! grep -q '^/' /proc/swaps; then
    swapfile=$work/swapfile
    if ! { dd if=/dev/zero of="$swapfile" bs=1M count=2048 status=none && chmod 600 "$swapfile" &&
           mkswap "$swapfile" >/dev/null && swapon "$swapfile"; }; then
      rm -f "$swapfile"; swapfile=; swap_why="swapon refused a swap file"; return
    fi
  fi
}

# in_cgroup LIMIT_MB CMD: run CMD inside the limited group.
swap_run() {
  local mb=$1 cmd=$2
  echo $((mb * 1024 * 1024)) >"$cgroup/$limit_file" || return 1
  run "swap $mb MiB" "echo \$\$ > $cgroup/cgroup.procs && $cmd"
}

setup_swap
[[ -n $swap_why ]] && log "no swap comparison: $swap_why"
IFS=, read -ra list <<<"$programs"
for p in "${list[@]}"; do
  cmd=$(command_of "$p") || { log "unknown program $p"; continue; }
  log "$p: plain (a first run warms the file cache)"
  run warm "$cmd" >/dev/null
  rm -f rss.txt
  plain=$(run plain "$cmd"); ref=$(cat digest.txt)
  rss_kb=$(tail -n1 rss.txt 2>/dev/null | grep -E '^[0-9]+$' || echo 0); ws_mb=$(( (rss_kb + 1023) / 1024 ))
  [[ $plain == null ]] && continue
  in_mb=$(( ws_mb * 2 > 4 ? ws_mb * 2 : 4 )); tenth_mb=$(( ws_mb / 10 > 1 ? ws_mb / 10 : 1 ))
  log "$p: rum-run, cache $in_mb MiB (in cache)"
  rin=$(run rum_in "$cmd" "$rr" --cache-mb "$in_mb" --); same=$([[ $(cat digest.txt) == "$ref" ]] && echo true || echo false)
  log "$p: rum-run, cache $tenth_mb MiB (a tenth)"
  rm -f rss.txt
  rtenth=$(run rum_tenth "$cmd" "$rr" --cache-mb "$tenth_mb" --)
  [[ $rtenth != null && $(cat digest.txt) != "$ref" ]] && same=false
  # Swap gets the memory rum-run used locally with that cache: the cache plus the
  # program's text, libraries, stack and local blocks (its peak RSS).
  # (A run past the timeout has no RSS: then the cache plus 16 MiB.)
  local_kb=$(tail -n1 rss.txt 2>/dev/null | grep -E '^[0-9]+$' || echo 0); limit_mb=$(( (local_kb + 1023) / 1024 ))
  [[ $rtenth == null || $limit_mb -le $tenth_mb ]] && limit_mb=$(( tenth_mb + 16 ))
  sw=null
  if [[ -z $swap_why ]]; then
    log "$p: swap, limit $limit_mb MiB"
    sw=$(swap_run "$limit_mb" "$cmd")
    [[ $sw != null && $(cat digest.txt) != "$ref" ]] && same=false
  fi
  ratio() { [[ $1 == null ]] && echo null || echo "$1 / $plain" | bc -l | awk '{printf "%.2f", $1}'; }
  printf '{"scenario":"rum_run","program":"%s","scale":%s,"working_set_mb":%d,"plain_s":%s,"rum_in_cache_mb":%d,"rum_in_cache_s":%s,"ratio_in_cache":%s,"tenth_mb":%d,"rum_tenth_s":%s,"ratio_tenth":%s,"swap_limit_mb":%d,"swap_tenth_s":%s,"ratio_swap_tenth":%s,"swap":"%s","same_output":%s}\n' \
    "$p" "$scale" "$ws_mb" "$plain" "$in_mb" "$rin" "$(ratio "$rin")" "$tenth_mb" "$rtenth" "$(ratio "$rtenth")" \
    "$limit_mb" "$sw" "$(ratio "$sw")" "${swap_why:-cgroup $limit_file + swap file}" "$same"
done
