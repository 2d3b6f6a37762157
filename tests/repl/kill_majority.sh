#!/usr/bin/env bash
# kill_majority.sh: under with_cluster.sh (3 nodes, replication=3): run repl_load and
# SIGKILL two of the three nodes (the leader and one other) during it. With no majority
# left no write can be decided, so a rum_sync must fail with an error (after the
# client's re-route window) instead of succeeding, and repl_load must stop well before
# its SECONDS run out.
#
#   kill_majority.sh REPL_LOAD PAGES SECONDS KILL_AFTER_S
set -uo pipefail
[[ $# -eq 4 ]] || { echo "usage: kill_majority.sh REPL_LOAD PAGES SECONDS KILL_AFTER_S" >&2; exit 2; }
load=$1 pages=$2 seconds=$3 kill_after=$4
dir=${RUM_CLUSTER_DIR:?run under with_cluster.sh}
out=$dir/load.err

"$load" "$pages" "$seconds" 2>"$out" &
load_pid=$!
sleep "$kill_after"
killed=0
for pidfile in "$dir"/node-1.pid "$dir"/node-2.pid; do
  kill -KILL "$(cat "$pidfile")" && killed=$((killed + 1))
done
echo "kill_majority.sh: SIGKILLed nodes 1 and 2 after $kill_after s"
start=$SECONDS
wait "$load_pid"
status=$?
took=$((SECONDS - start))
cat "$out" >&2
if [[ $killed -ne 2 ]]; then
  echo "kill_majority.sh: could not kill two nodes" >&2
  exit 1
fi
if [[ $status -eq 0 ]]; then
  echo "kill_majority.sh: FAILED: writes kept succeeding with one node of three" >&2
  exit 1
fi
if ! grep -q 'rum_sync of round [0-9]* failed' "$out"; then
  echo "kill_majority.sh: FAILED: repl_load stopped (status $status) without a failed rum_sync" >&2
  exit 1
fi
echo "kill_majority.sh: rum_sync failed cleanly ${took} s after the kill"
exit 0
