#!/usr/bin/env bash
# Scenario (node heartbeats): every node sees its peers up; a node killed with SIGKILL
# is shown down by rumctl (exit 1) and by its peers' failure detectors.
# Runs under with_cluster.sh (RUM_MACHINES, RUM_CLUSTER_DIR set).
set -euo pipefail
bin=$1
peers_up() { "$bin/rumctl" --json status | python3 -c "
import json,sys
d=json.load(sys.stdin)
print(' '.join('%d:%s' % (n['id'], ','.join(str(p['id']) for p in n.get('peers',[]) if p['up'])) for n in d['nodes'] if n['up']))"; }
deadline=$((SECONDS + 10))
until [ "$(peers_up)" = "1:2,3 2:1,3 3:1,2" ]; do
  [ $SECONDS -lt $deadline ] || { echo "FAIL: peers not all up: $(peers_up)"; exit 1; }
  sleep 0.2
done
echo "all up: $(peers_up)"
kill -9 "$(cat "$RUM_CLUSTER_DIR/node-2.pid")"
deadline=$((SECONDS + 10))
until [ "$(peers_up)" = "1:3 3:1" ]; do
  [ $SECONDS -lt $deadline ] || { echo "FAIL: node 2 not seen down: $(peers_up)"; exit 1; }
  sleep 0.2
done
echo "after killing node 2: $(peers_up)"
set +e
"$bin/rumctl" --timeout-ms 300 status
rc=$?
set -e
[ $rc -eq 1 ] || { echo "FAIL: rumctl status exit $rc with a node down, want 1"; exit 1; }
echo "PASS"
