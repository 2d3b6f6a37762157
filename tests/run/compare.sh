#!/usr/bin/env bash
# compare.sh: run a command plainly and under rum-run, compare stdout byte for byte
# and the exit status, and check that the heap really lived in RUM.
#
#   compare.sh --rum-run PATH [--cache-mb N] [--min-bytes B] [--setup 'SHELL'] [--stdin FILE]
#              [--min-evictions K] [--keep-going] -- COMMAND ARGS...
#
# Runs in a fresh temporary folder (removed at the end): first SETUP (a shell command
# making input files there), then COMMAND plainly, then under rum-run with
# RUM_RUN_STATS, each with stdin from FILE (relative to the folder) or /dev/null.
# Passes when both exit with the same status, write the same bytes, and the
# processes under rum-run evicted at least K pages in all (default 1: the cache was
# smaller than what the program allocated). Needs RUM_MACHINES (with_cluster.sh).
set -uo pipefail
die() { echo "compare.sh: $*" >&2; exit 2; }
rum_run= cache_mb=4 min_bytes= setup= stdin=/dev/null min_evictions=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --rum-run) rum_run=$2; shift 2 ;;
    --cache-mb) cache_mb=$2; shift 2 ;;
    --min-bytes) min_bytes=$2; shift 2 ;;
    --setup) setup=$2; shift 2 ;;
    --stdin) stdin=$2; shift 2 ;;
    --min-evictions) min_evictions=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ -x $rum_run && $# -ge 1 ]] || die "usage: compare.sh --rum-run PATH [options] -- COMMAND ARGS..."
[[ -n ${RUM_MACHINES:-} ]] || die "RUM_MACHINES is not set (run under with_cluster.sh)"
dir=$(mktemp -d "${TMPDIR:-/tmp}/rum-run-test.XXXXXX") || die "no temporary folder"
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 2
if [[ -n $setup ]]; then
  bash -c "$setup" || die "setup failed: $setup"
fi
# The plain run must not see the test's fault injection (it has no RUM anyway).
t0=$(date +%s.%N)
env -u RUM_FAULT_INJECT "$@" <"$stdin" >plain.out 2>plain.err
plain_status=$?
t1=$(date +%s.%N)
args=(--cache-mb "$cache_mb")
[[ -n $min_bytes ]] && args+=(--min-bytes "$min_bytes")
RUM_RUN_STATS=$dir/stats.jsonl "$rum_run" "${args[@]}" -- "$@" <"$stdin" >rum.out 2>rum.err
rum_status=$?
t2=$(date +%s.%N)
printf 'compare.sh: plain %.2f s, rum-run %.2f s (cache %s MiB)\n' "$(echo "$t1 - $t0" | bc)" \
  "$(echo "$t2 - $t1" | bc)" "$cache_mb"
failed=0
if [[ $plain_status -ne $rum_status ]]; then
  echo "compare.sh: FAIL: exit status $plain_status plainly, $rum_status under rum-run" >&2
  failed=1
fi
if ! cmp -s plain.out rum.out; then
  echo "compare.sh: FAIL: stdout differs ($(wc -c <plain.out) bytes plainly, $(wc -c <rum.out) under rum-run)" >&2
  diff <(head -c 2000 plain.out) <(head -c 2000 rum.out) | head -20 >&2
  failed=1
fi
if [[ ! -s stats.jsonl ]]; then
  echo "compare.sh: FAIL: no process wrote RUM statistics: did the program run under RUM?" >&2
  failed=1
else
  evictions=$(grep -o '"evictions":[0-9]*' stats.jsonl | cut -d: -f2 | paste -sd+ | bc)
  echo "compare.sh: $(wc -l <stats.jsonl) process(es) under RUM, $evictions pages evicted"
  if [[ $evictions -lt $min_evictions ]]; then
    echo "compare.sh: FAIL: only $evictions pages evicted (want >= $min_evictions): the heap fit the cache" >&2
    failed=1
  fi
fi
if [[ $failed -ne 0 ]]; then
  echo "---- stderr plainly ----" >&2; tail -n 20 plain.err >&2
  echo "---- stderr under rum-run ----" >&2; tail -n 20 rum.err >&2
  exit 1
fi
echo "compare.sh: PASS: $(wc -c <plain.out) bytes of output the same, status $plain_status"
