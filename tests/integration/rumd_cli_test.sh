#!/usr/bin/env bash
# rumd_cli_test.sh CASE BIN_DIR PORT [CLIENT]: checks of rumd's command line and life
# cycle. Cases: help, bad-flags, bad-machines, sigterm, require-key, with-cluster, and dpdk-memif
# (rumd on the dpdk transport over net_memif, driven by CLIENT = rpc_client_test on
# the other end; exits 77 to skip without root).
set -uo pipefail

case_name=$1
bin_dir=$2
port=$3
rumd=$bin_dir/rumd
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rumd-cli.XXXXXX")
pid=
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Run rumd with the given arguments; expect exit status $1 and stderr matching $2.
expect() {
  local want=$1 pattern=$2
  shift 2
  local out rc
  out=$("$rumd" "$@" 2>&1 </dev/null)
  rc=$?
  [[ $rc -eq $want ]] || fail "rumd $* exited $rc, want $want; said: $out"
  [[ $out =~ $pattern ]] || fail "rumd $* said '$out', want /$pattern/"
  echo "ok: rumd $* -> $rc: ${out%%$'\n'*}"
}

machines() {
  printf '# test cluster\n1,127.0.0.1,%s\n2,127.0.0.1,%s\n' "$port" "$((port + 1))" >"$work/machines.csv"
}

# Wait (up to 5 s) for a line matching $2 in file $1.
wait_for_line() {
  local i
  for ((i = 0; i < 250; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && return 1
    sleep 0.02
  done
  return 1
}

case $case_name in
  help)
    out=$("$rumd" --help) || fail "rumd --help exited $?"
    for flag in --machines --id --memory-mb --lease-ms --log-level --transport --dpdk-args --mtu \
      --key-file --require-key --client-quota-mb --pid-file --help; do
      grep -q -- "$flag" <<<"$out" || fail "--help does not document $flag"
    done
    echo "ok: --help documents every flag"
    ;;
  bad-flags)
    machines
    m=$work/machines.csv
    expect 2 "unknown option '--frobnicate'" --machines "$m" --id 1 --frobnicate
    expect 2 "--machines FILE is required" --id 1
    expect 2 "--id N is required" --machines "$m"
    expect 2 "--id needs a value" --machines "$m" --id
    expect 2 "--id wants a whole number" --machines "$m" --id abc
    expect 2 "--id wants a whole number" --machines "$m" --id 0
    expect 2 "--memory-mb wants a whole number" --machines "$m" --id 1 --memory-mb -5
    expect 2 "--memory-mb wants a whole number" --machines "$m" --id 1 --memory-mb 10M
    expect 2 "--lease-ms wants a whole number" --machines "$m" --id 1 --lease-ms 5
    expect 2 "--log-level wants error, warn, info or debug" --machines "$m" --id 1 --log-level loud
    expect 2 "--transport wants udp or dpdk" --machines "$m" --id 1 --transport tcp
    expect 2 "--mtu wants a whole number from 576" --machines "$m" --id 1 --mtu 100
    expect 2 "unexpected argument 'extra'" --machines "$m" --id 1 extra
    expect 2 "node id 9 is not in .*nodes: 1, 2" --machines "$m" --id 9
    expect 2 "cluster key: .*nokey" --machines "$m" --id 1 --key-file "$work/nokey"
    ;;
  bad-machines)
    printf '# nodes\n1,127.0.0.1,%s\n2,127.0.0.1,notaport\n' "$port" >"$work/bad.csv"
    expect 2 "bad.csv:3: field port" --machines "$work/bad.csv" --id 1
    printf '1,127.0.0.1,%s\n1,127.0.0.1,%s\n' "$port" "$((port + 1))" >"$work/dup.csv"
    expect 2 "dup.csv:2" --machines "$work/dup.csv" --id 1
    printf '1,127.0.0.1,%s\nlease_ms=soon\n' "$port" >"$work/setting.csv"
    expect 2 "setting.csv:2: field lease_ms" --machines "$work/setting.csv" --id 1
    expect 2 "missing.csv" --machines "$work/missing.csv" --id 1
    # Fewer nodes than replication=R (R = 3 itself runs in integration.repl.kill_leader).
    printf 'replication=3\n1,127.0.0.1,%s\n2,127.0.0.1,%s\n' "$port" "$((port + 1))" >"$work/repl.csv"
    expect 2 "repl.csv:1: field replication: 3 needs at least 3 memory nodes" --machines "$work/repl.csv" --id 1
    ;;
  sigterm)
    machines
    for sig in TERM INT; do
      "$rumd" --machines "$work/machines.csv" --id 1 --pid-file "$work/rumd.pid" --log-level warn \
        </dev/null >"$work/rumd-$sig.log" 2>&1 &
      pid=$!
      wait_for_line "$work/rumd-$sig.log" "listening on 127.0.0.1:$port" || fail "no 'listening' line: $(cat "$work/rumd-$sig.log")"
      [[ $(cat "$work/rumd.pid") == "$pid" ]] || fail "pid file holds $(cat "$work/rumd.pid"), not $pid"
      kill -"$sig" "$pid"
      wait "$pid"
      rc=$?
      pid=
      [[ $rc -eq 0 ]] || fail "SIG$sig: rumd exited $rc: $(cat "$work/rumd-$sig.log")"
      grep -q "stopping on" "$work/rumd-$sig.log" || fail "no summary line after SIG$sig: $(cat "$work/rumd-$sig.log")"
      [[ ! -e $work/rumd.pid ]] || fail "pid file left behind after SIG$sig"
      echo "ok: SIG$sig -> exit 0: $(grep 'stopping on' "$work/rumd-$sig.log" | sed 's/.*info: //')"
    done
    # A port that is taken is a start-up failure (exit 1) with a reason.
    "$rumd" --machines "$work/machines.csv" --id 1 </dev/null >"$work/first.log" 2>&1 &
    pid=$!
    wait_for_line "$work/first.log" "listening on" || fail "first node did not start"
    expect 1 "cannot open the .* transport on 127.0.0.1:$port" --machines "$work/machines.csv" --id 1
    ;;
  require-key)
    # Without a key: --require-key refuses to start; a node that starts warns.
    machines
    expect 2 "require-key: no cluster key" --machines "$work/machines.csv" --id 1 --require-key
    expect 2 "client-quota-mb wants a whole number" --machines "$work/machines.csv" --id 1 --client-quota-mb 0
    "$rumd" --machines "$work/machines.csv" --id 1 </dev/null >"$work/nokey.log" 2>&1 &
    pid=$!
    wait_for_line "$work/nokey.log" "listening on" || fail "no 'listening' line: $(cat "$work/nokey.log")"
    grep -q "no cluster key: anyone who can reach 127.0.0.1:$port can read and write" "$work/nokey.log" ||
      fail "no warning without a key: $(cat "$work/nokey.log")"
    kill "$pid"; wait "$pid"; pid=
    echo "ok: a node without a key warns"
    # With a key it starts, says frames are authenticated, and does not warn.
    printf '%064d\n' 7 >"$work/cluster.key"
    chmod 600 "$work/cluster.key"
    "$rumd" --machines "$work/machines.csv" --id 1 --require-key --key-file "$work/cluster.key" \
      </dev/null >"$work/key.log" 2>&1 &
    pid=$!
    wait_for_line "$work/key.log" "frames authenticated" || fail "keyed node did not start: $(cat "$work/key.log")"
    ! grep -q "no cluster key" "$work/key.log" || fail "a keyed node warned about a missing key"
    echo "ok: --require-key with a key starts"
    ;;
  with-cluster)
    # The command's status comes back, and nothing is left behind, even on failure.
    "$here/with_cluster.sh" --nodes 2 --base-port "$port" -- \
      bash -c 'echo "$RUM_CLUSTER_DIR" >"$0"; test -s "$RUM_MACHINES" || exit 99; exit 7' "$work/dir"
    rc=$?
    [[ $rc -eq 7 ]] || fail "with_cluster.sh returned $rc, want 7"
    dir=$(cat "$work/dir")
    [[ ! -e $dir ]] || fail "$dir was not removed"
    pgrep -f -- "--machines $dir/" >/dev/null && fail "rumd processes of $dir are still running"
    # Interrupted: the command and the nodes go away.
    "$here/with_cluster.sh" --nodes 2 --base-port "$port" -- \
      bash -c 'echo "$RUM_CLUSTER_DIR" >"$0"; exec sleep 60' "$work/dir2" &
    wc=$!
    for ((i = 0; i < 250; i++)); do [[ -s $work/dir2 ]] && break; sleep 0.02; done
    [[ -s $work/dir2 ]] || fail "the command never ran"
    kill -TERM "$wc"
    wait "$wc"
    rc=$?
    [[ $rc -eq 143 ]] || fail "interrupted with_cluster.sh returned $rc, want 143"
    dir=$(cat "$work/dir2")
    [[ ! -e $dir ]] || fail "$dir was not removed after SIGTERM"
    pgrep -f -- "--machines $dir/" >/dev/null && fail "rumd processes of $dir survived SIGTERM"
    pgrep -f -- "sleep 60" -P "$wc" >/dev/null && fail "the command survived"
    echo "ok: with_cluster.sh passes the status through and cleans up, also on SIGTERM"
    ;;
  dpdk-memif)
    client=${4:?rpc_client_test}
    [[ $(id -u) -eq 0 ]] || { echo "SKIP: the dpdk transport needs root here"; exit 77; }
    tag=rumdcli-$$
    printf '1,10.77.0.1,%s\n' "$port" >"$work/machines.csv"
    eal="--no-huge --no-pci -m 128 --vdev=net_memif0,role=server,socket=$work/memif.sock"
    timeout 60 "$rumd" --machines "$work/machines.csv" --id 1 --transport dpdk --pid-file "$work/rumd.pid" \
      --dpdk-args "$eal --file-prefix=$tag-s" </dev/null >"$work/rumd.log" 2>&1 &
    pid=$!
    wait_for_line "$work/rumd.log" "listening on" || fail "rumd on dpdk did not start: $(cat "$work/rumd.log")"
    RUM_MACHINES=$work/machines.csv timeout 60 "$client" roundtrip --port "$((port + 1))" --transport dpdk \
      --bind 10.77.0.2 --dpdk-args "${eal/role=server/role=client} --file-prefix=$tag-c"
    rc=$?
    kill -TERM "$pid"
    wait "$pid"
    node_rc=$?
    pid=
    rm -rf /var/run/dpdk/"$tag"-* 2>/dev/null
    [[ $rc -eq 0 ]] || fail "the client failed ($rc); node log: $(tail -n 20 "$work/rumd.log")"
    [[ $node_rc -eq 0 ]] || fail "rumd exited $node_rc: $(tail -n 20 "$work/rumd.log")"
    echo "ok: roundtrip over dpdk/net_memif"
    ;;
  *) fail "unknown case $case_name" ;;
esac
