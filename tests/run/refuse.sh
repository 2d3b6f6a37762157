#!/usr/bin/env bash
# refuse.sh RUM_RUN FORK: under rum-run with a small cache, a forked child that reads
# heap memory evicted before the fork is stopped with rum-run's message and status
# 125 (instead of reading zeros); the parent goes on.
set -uo pipefail
out=$("$1" --cache-mb 2 -- "$2" --refuse 2>err.$$)
status=$?
err=$(cat err.$$); rm -f err.$$
echo "$out"; echo "$err" >&2
[[ $status -eq 0 ]] || { echo "refuse.sh: FAIL: parent exited $status" >&2; exit 1; }
grep -q "child status 125" <<<"$out" || { echo "refuse.sh: FAIL: the child was not stopped" >&2; exit 1; }
grep -q "RUM cannot serve a forked child" <<<"$err" || { echo "refuse.sh: FAIL: no message" >&2; exit 1; }
echo "refuse.sh: PASS"
