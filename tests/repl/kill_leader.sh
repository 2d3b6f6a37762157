#!/usr/bin/env bash
# kill_leader.sh: under with_cluster.sh (replication=3): run repl_load and SIGKILL the
# replica group's leader during it; repl_load checks that every rum_sync succeeded and
# every acknowledged page reads back afterwards.
#
#   kill_leader.sh REPL_LOAD PAGES SECONDS KILL_AFTER_S
set -uo pipefail
[[ $# -eq 4 ]] || { echo "usage: kill_leader.sh REPL_LOAD PAGES SECONDS KILL_AFTER_S" >&2; exit 2; }
load=$1 pages=$2 seconds=$3 kill_after=$4
dir=${RUM_CLUSTER_DIR:?run under with_cluster.sh}

# The node whose own log says it leads: "group G: leader is node N (...), this node"
# (not counting node $1: the one killed).
leader() {
  local log id
  for log in "$dir"/node-*.log; do
    id=${log##*/node-}
    id=${id%.log}
    [[ $id == "${1:-}" ]] && continue
    if grep 'leader is node' "$log" | tail -n 1 | grep -q 'this node'; then
      echo "$id"
      return 0
    fi
  done
  return 1
}

# A leader before the load starts (the group elects one within a second or so).
for _ in $(seq 50); do leader >/dev/null && break; sleep 0.1; done
first=$(leader) || { echo "kill_leader.sh: no node says it leads" >&2; exit 1; }
echo "kill_leader.sh: leader before the load: node $first"

"$load" "$pages" "$seconds" &
load_pid=$!
sleep "$kill_after"
victim=$(leader) || victim=$first
pid=$(cat "$dir/node-$victim.pid")
echo "kill_leader.sh: SIGKILL node $victim (pid $pid) during the load"
kill -KILL "$pid"
wait "$load_pid"
status=$?
now=$(leader "$victim") || now=none
echo "kill_leader.sh: leader after the load: node $now"
if [[ $status -eq 0 && $now == none ]]; then
  echo "kill_leader.sh: no new leader took over" >&2
  status=1
fi
exit "$status"
