#!/usr/bin/env bash
# Run one command line under the stock lua5.4 and under rum-lua (against a local
# 3-node cluster started by with_cluster.sh) and require the same stdout and the
# same exit status; with --stderr also the same stderr, once the program names are
# made equal and RUM's own log lines are left out.
#
# usage: compare.sh --rum-lua PATH --with-cluster PATH --base-port P
#                   [--lua54 PATH] [--cache-mb N] [--memory-mb M] [--stdin FILE]
#                   [--stderr] [--expect-status N] [--workdir DIR] -- ARGS...
# ARGS are given to both interpreters unchanged (rum-lua also gets --cache-mb).
# Environment variables reach both (set them with env or ctest's ENVIRONMENT).
set -u

lua54=lua5.4
rum_lua=
with_cluster=
base_port=
cache_mb=
memory_mb=
stdin_file=/dev/null
check_stderr=0
expect_status=
workdir=

die() { echo "compare.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --lua54) lua54=$2; shift 2 ;;
    --rum-lua) rum_lua=$2; shift 2 ;;
    --with-cluster) with_cluster=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --cache-mb) cache_mb=$2; shift 2 ;;
    --memory-mb) memory_mb=$2; shift 2 ;;
    --stdin) stdin_file=$2; shift 2 ;;
    --stderr) check_stderr=1; shift ;;
    --expect-status) expect_status=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option '$1'" ;;
  esac
done
[ -n "$rum_lua" ] && [ -x "$rum_lua" ] || die "--rum-lua must name the rum-lua binary"
[ -n "$with_cluster" ] && [ -x "$with_cluster" ] || die "--with-cluster must name with_cluster.sh"
[ -n "$base_port" ] || die "--base-port is required"
command -v "$lua54" >/dev/null || die "'$lua54' not found (apt-get install lua5.4)"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/rum-lua-compare.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$scratch"' EXIT
[ -n "$workdir" ] && { cd "$workdir" || die "cannot cd to $workdir"; }

# The reference run.
"$lua54" "$@" <"$stdin_file" >"$scratch/lua54.out" 2>"$scratch/lua54.err"
lua54_status=$?

# The rum-lua run: the inner shell sends rum-lua's streams to files so that the
# cluster's own messages (on with_cluster.sh's streams) stay apart.
rum_args=()
[ -n "$cache_mb" ] && rum_args+=(--cache-mb "$cache_mb")
cluster_args=(--nodes 3 --base-port "$base_port")
[ -n "$memory_mb" ] && cluster_args+=(--memory-mb "$memory_mb")
"$with_cluster" "${cluster_args[@]}" -- /bin/sh -c \
  'out=$1 err=$2 in=$3; shift 3; exec "$@" <"$in" >"$out" 2>"$err"' \
  inner "$scratch/rum.out" "$scratch/rum.err" "$stdin_file" \
  "$rum_lua" ${rum_args[@]+"${rum_args[@]}"} "$@" >"$scratch/cluster.log" 2>&1
rum_status=$?

failed=0
report() { echo "FAIL: $*"; failed=1; }

if [ "$lua54_status" != "$rum_status" ]; then
  report "exit status: lua5.4 $lua54_status, rum-lua $rum_status"
fi
if [ -n "$expect_status" ] && [ "$lua54_status" != "$expect_status" ]; then
  report "lua5.4 exited with $lua54_status, the test expects $expect_status"
fi
if ! cmp -s "$scratch/lua54.out" "$scratch/rum.out"; then
  report "stdout differs (< lua5.4, > rum-lua)"
  diff "$scratch/lua54.out" "$scratch/rum.out" | head -40
fi

# stderr: both program names become PROG; rum-lua's extra usage lines and RUM log
# lines ("HH:MM:SS.mmm prog[pid] level: ...") are not part of the comparison.
normalize() { # file program-name
  awk -v prog="$2" '
    /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] [^ ]+\[[0-9]+\] (error|warn|info|debug): / { next }
    /^RUM options:/ { skip = 1 }
    /^[^ ]/ && !/^RUM options:/ { skip = 0 }
    skip { next }
    {
      line = $0; out = ""
      while ((i = index(line, prog)) > 0) { out = out substr(line, 1, i - 1) "PROG"; line = substr(line, i + length(prog)) }
      print out line
    }' "$1"
}
if [ "$check_stderr" = 1 ]; then
  normalize "$scratch/lua54.err" "$lua54" >"$scratch/lua54.err.n"
  normalize "$scratch/rum.err" "$rum_lua" >"$scratch/rum.err.n"
  if ! cmp -s "$scratch/lua54.err.n" "$scratch/rum.err.n"; then
    report "stderr differs (< lua5.4, > rum-lua)"
    diff "$scratch/lua54.err.n" "$scratch/rum.err.n" | head -40
  fi
fi

if [ "$failed" = 1 ] || [ "${RUM_LUA_COMPARE_VERBOSE:-0}" = 1 ]; then
  echo "--- rum-lua stderr:"; head -40 "$scratch/rum.err"
  echo "--- cluster log:"; tail -20 "$scratch/cluster.log"
fi
if [ "$failed" = 1 ]; then
  exit 1
fi
echo "OK: same stdout ($(wc -c <"$scratch/rum.out") bytes) and exit status $rum_status"
exit 0
