#!/usr/bin/env bash
# The demo command: install what is missing, build, start a local cluster of 3 memory
# nodes on loopback, run the demo programs against it, show the cluster, stop it.
# No process is left behind, even on Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" RelWithDebInfo >/dev/null
bin="${RUM_BUILD_DIR:-$root/build}/bin"
export RUM_BIN_DIR="$bin"

dir="$(mktemp -d /tmp/rum-demo.XXXXXX)"
cleanup() {
  "$root/scripts/rum-cluster" stop --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "starting 3 memory nodes on 127.0.0.1 (ports 7101-7103, 1 GiB each)"
"$root/scripts/rum-cluster" start --nodes 3 --base-port 7101 --memory-mb 1024 --dir "$dir"
export RUM_MACHINES="$dir/machines.csv"
# A small client cache, so that the programs page to the nodes and back all the time.
export RUM_CACHE_MB=16
cat "$RUM_MACHINES"

status=0
run() {
  step "$*"
  if ! "$@"; then
    echo "demo: '$*' failed" >&2
    status=1
  fi
}

run "$bin/mem_test" --quick
run "$bin/hashtable" --ops 200000
if [ -x "$bin/rum-lua" ]; then
  run "$bin/rum-lua" -e 'local t = {} for i = 1, 200000 do t[i] = ("item %d"):format(i) end
print(("rum-lua: built a table of %d strings in grid memory, heap %.1f MiB, last = %s")
  :format(#t, collectgarbage("count") / 1024, t[#t]))'
fi
step "cluster status (rumctl status)"
"$bin/rumctl" status || status=1
step "named regions left on the nodes (rumctl regions --named)"
"$bin/rumctl" regions --named || status=1

step "stopping the nodes"
"$root/scripts/rum-cluster" stop --dir "$dir"
if [ "$status" -eq 0 ]; then echo "demo: all programs passed"; else echo "demo: some programs failed"; fi
exit "$status"
