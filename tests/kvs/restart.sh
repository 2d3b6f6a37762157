#!/usr/bin/env bash
# rum-kvs on a real cluster (run under with_cluster.sh): keys of every type and their
# TTLs written by one rum-kvs are read back by a second one started on the same store
# after SIGTERM (and changed again);
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
# Keys of every type, with TTLs, and aggregates big enough to span many heap blocks.
expect 3 hset rh a 1 b 2 c "x y"
expect 1 expire rh 100
expect 3 rpush rl x y z
expect 1 pexpire rl 200000
expect 3 sadd rs m1 m2 m3
expect 1 expire rs 300
expect 4 zadd rz 1 a 2.5 b -inf c 1e20 d
expect 1 expire rz 400
expect 2 zadd rz2 1 a 2 b
expect 1 pexpire rz2 300
for i in $(seq 0 999); do printf 'RPUSH bl e%d\r\nHSET bh f%d %d\r\nSADD bs s%d\r\nZADD bz %d z%d\r\n' "$i" "$i" "$i" "$i" "$i" "$i"; done |
  cli > /dev/null || fail "aggregate load"
# Deleting or replacing aggregates of more than 1024 elements frees them in the
# background: the reply comes at once and the heap shrinks back soon after.
mem() { cli info memory | tr -d '\r' | sed -n "s/^$1://p"; }
base=$(mem used_memory)
for i in $(seq 0 4999); do printf 'HSET gh f%d v%d\r\nRPUSH gl e%d\r\nSADD gs s%d\r\nZADD gz %d z%d\r\n' "$i" "$i" "$i" "$i" "$i" "$i"; done |
  cli --pipe | grep -q "errors: 0, replies: 20000" || fail "garbage load"
(( $(mem used_memory) > base + (1 << 20) )) || fail "the aggregates to delete take no memory"
expect 3 del gh gl gs
expect OK set gz replaced
expect 0 exists gh gl gs
expect replaced get gz
for _ in $(seq 50); do [[ $(mem lazyfree_pending_objects) == 0 ]] && break; sleep 0.1; done
[[ $(mem lazyfree_pending_objects) == 0 ]] || fail "lazy free never finished"
(( $(mem used_memory) <= base + (64 << 10) )) || fail "heap after lazy free $(mem used_memory), before $base"
expect 1 del gz
stop
start
expect hash type rh
expect "x y" hget rh c
expect 3 hlen rh
ttl=$(cli ttl rh); [[ $ttl -ge 95 && $ttl -le 100 ]] || fail "ttl rh after restart $ttl"
expect $'x\ny\nz' lrange rl 0 -1
ttl=$(cli ttl rl); [[ $ttl -ge 195 && $ttl -le 200 ]] || fail "ttl rl after restart $ttl"
got=$(cli smembers rs | sort | tr '\n' ' '); [[ $got == "m1 m2 m3 " ]] || fail "smembers rs after restart: $got"
ttl=$(cli ttl rs); [[ $ttl -ge 295 && $ttl -le 300 ]] || fail "ttl rs after restart $ttl"
expect $'c\n-inf\na\n1\nb\n2.5\nd\n1e+20' zrange rz 0 -1 withscores
ttl=$(cli ttl rz); [[ $ttl -ge 395 && $ttl -le 400 ]] || fail "ttl rz after restart $ttl"
sleep 0.3
expect 0 exists rz2
expect 2012 dbsize
expect 1000 llen bl
expect e999 lindex bl -1
expect 1000 hlen bh
expect 777 hget bh f777
expect 1000 scard bs
expect 1 sismember bs s500
expect 1000 zcard bz
expect z998 zrange bz -2 -2
expect 4 rpush rl w
expect 1 hdel rh a
expect 2 srem rs m1 m2
expect $'m3' smembers rs
expect 1 zrem rz c
expect 2 get a
expect "hello you" get b
ttl=$(cli ttl b); [[ $ttl -ge 80 && $ttl -le 100 ]] || fail "ttl after restart $ttl"
expect value:1234 get key:1234
out=$("$bin/rum-kvs" --store restart --port $((port + 1)) 2>&1) && fail "second rum-kvs was not refused"
[[ $out == *"is in use by rum-kvs pid $pid"* ]] || fail "refusal message: $out"
expect 1 srem rs m3
stop
# The changes made by the second rum-kvs are there for a third.
start
expect $'x\ny\nz\nw' lrange rl 0 -1
expect 0 exists rs
got=$(cli hkeys rh | sort | tr '\n' ' '); [[ $got == "b c " ]] || fail "hkeys rh after the second restart: $got"
expect 3 zcard rz
ttl=$(cli ttl rz); [[ $ttl -ge 390 && $ttl -le 400 ]] || fail "ttl rz after the second restart $ttl"
stop
echo PASS
