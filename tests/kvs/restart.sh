#!/usr/bin/env bash
# rum-kvs on a real cluster (run under with_cluster.sh): strings and TTLs written by
# one rum-kvs are read back by a second one started on the same store after SIGTERM;
# a rum-kvs started on a store in use is refused; Redis's error texts come back.
set -u
port=$1
bin=$RUM_BIN_DIR
pid=
fail() { echo "FAIL: $*" >&2; [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; exit 1; }
trap '[[ -n $pid ]] && kill -KILL $pid 2>/dev/null' EXIT
cli() { redis-cli -p "$port" "$@"; }
expect() { local want=$1; shift; local got; got=$(cli "$@"); [[ $got == "$want" ]] || fail "$* -> '$got', want '$want'"; }
start() {
  "$bin/rum-kvs" --store restart --port "$port" --cache-mb 4 &
  pid=$!
  for _ in $(seq 100); do cli ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "rum-kvs did not answer"
}
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; [[ $rc -eq 0 ]] || fail "rum-kvs exit $rc"; }

start
expect OK set a 1
expect 2 incr a
expect OK set b hello EX 100
expect 100 ttl b
expect "" get nope
expect "ERR unknown command 'foo', with args beginning with: 'bar' " foo bar
expect "ERR wrong number of arguments for 'get' command" get
expect "ERR value is not an integer or out of range" incrby a x
expect OK mset x 1 y 2
expect 9 append b " you"
for i in $(seq 1 2000); do printf '*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n' $((4 + ${#i})) "$i" $((6 + ${#i})) "$i"; done |
  cli --pipe | grep -q "errors: 0, replies: 2000" || fail "redis-cli --pipe"
# A 1 GB bulk length gets Redis's error and the connection is dropped; the server stays up.
exec 3<>/dev/tcp/127.0.0.1/$port
printf '*2\r\n$3\r\nGET\r\n$1073741824\r\n' >&3
IFS= read -r -t 5 line <&3
[[ $line == $'-ERR Protocol error: invalid bulk length\r' ]] || fail "huge bulk: '$line'"
exec 3<&-
expect PONG ping
stop
start
expect 2 get a
expect "hello you" get b
ttl=$(cli ttl b); [[ $ttl -ge 95 && $ttl -le 100 ]] || fail "ttl after restart $ttl"
expect 2004 dbsize
expect value:1234 get key:1234
out=$("$bin/rum-kvs" --store restart --port $((port + 1)) 2>&1) && fail "second rum-kvs was not refused"
[[ $out == *"is in use by rum-kvs pid $pid"* ]] || fail "refusal message: $out"
stop
echo PASS
