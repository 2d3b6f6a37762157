#!/usr/bin/env bash
# rum-kvs driven by the real redis-cli (run under with_cluster.sh): --pipe mass
# insertion of 100k keys of every type, verified key by key through a command file and
# by redis-cli's own --bigkeys/--scan walks; pipelined inline commands; aggregates
# beyond the cache; then a command file fed to redis-cli on
# stdin, its output compared line by line with what redis-server answers to the same
# file (redis-server on PORT+1).
set -u
port=$1
rport=$((port + 1))
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/servers.sh"
cli() { redis-cli -p "$port" "$@"; }
expect() { local want=$1; shift; local got; got=$(cli "$@"); [[ $got == "$want" ]] || fail "$* -> '$got', want '$want'"; }
kvs_setup cli
start_kvs cli "$port" 16

# 100k keys: 60k strings, 10k hashes of 5 fields, 10k lists of 4, 10k sets of 3,
# 10k sorted sets of 3; plus one big list, hash, set and sorted set of 20k each.
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
def cmd(*a):
    a = [x.encode() if isinstance(x, str) else x for x in a]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
out, n = [], 0
for i in range(60000):
    out.append(cmd("SET", "str:%d" % i, "value:%d" % i)); n += 1
for i in range(10000):
    out.append(cmd("HSET", "hash:%d" % i, *[v for j in range(5) for v in ("f%d" % j, "%d" % (i * j))])); n += 1
    out.append(cmd("RPUSH", "list:%d" % i, *["e%d.%d" % (i, j) for j in range(4)])); n += 1
    out.append(cmd("SADD", "set:%d" % i, "a%d" % i, "b%d" % i, "c%d" % i)); n += 1
    out.append(cmd("ZADD", "zset:%d" % i, "1", "x", "2.5", "y", str(i), "z")); n += 1
    if i % 100 == 0:
        out.append(cmd("EXPIRE", "hash:%d" % i, "1000")); n += 1
for i in range(0, 20000, 1000):
    out.append(cmd("RPUSH", "biglist", *["%d" % j for j in range(i, i + 1000)])); n += 1
    out.append(cmd("HSET", "bighash", *[v for j in range(i, i + 1000) for v in ("k%d" % j, "v%d" % j)])); n += 1
    out.append(cmd("SADD", "bigset", *["m%d" % j for j in range(i, i + 1000)])); n += 1
    out.append(cmd("ZADD", "bigzset", *[v for j in range(i, i + 1000) for v in (str(j), "m%d" % j)])); n += 1
open(d + "/load.resp", "wb").write(b"".join(out))
open(d + "/load.n", "w").write(str(n))
# The check file: one read per key, as lines redis-cli sends one by one; the replies
# must be exactly these.
line = lambda *a: (" ".join(a) + "\n").encode()
q, want = [], []
for i in range(0, 60000, 30):
    q.append(line("GET", "str:%d" % i)); want.append("value:%d" % i)
for i in range(0, 10000, 10):
    q.append(line("HGET", "hash:%d" % i, "f3")); want.append("%d" % (i * 3))
    q.append(line("LINDEX", "list:%d" % i, "-1")); want.append("e%d.3" % i)
    q.append(line("SISMEMBER", "set:%d" % i, "b%d" % i)); want.append("1")
    q.append(line("ZSCORE", "zset:%d" % i, "y")); want.append("2.5")
    q.append(line("ZRANK", "zset:%d" % i, "z")); want.append("2" if i > 2 else "1" if i >= 1 else "0")
open(d + "/check.cmds", "wb").write(b"".join(q))
open(d + "/check.want", "w").write("\n".join(want) + "\n")
PY
n=$(cat "$dir/load.n")
out=$(cli --pipe < "$dir/load.resp" 2>&1)
[[ $out == *"errors: 0, replies: $n"* ]] || fail "--pipe load: $out"
echo "cli.sh: --pipe load done after ${SECONDS}s"; expect 100004 dbsize
expect 20000 llen biglist
expect 20000 hlen bighash
expect 20000 scard bigset
expect 20000 zcard bigzset
expect "m19999" zrange bigzset -1 -1
expect 10000 zcount bigzset 5000 "(15000"
expect "19999" lindex biglist -1
expect "v12345" hget bighash k12345
ttl=$(cli ttl hash:500); [[ $ttl -ge 990 && $ttl -le 1000 ]] || fail "ttl hash:500 = $ttl"
# redis-cli prints one reply per line, in order.
cli < "$dir/check.cmds" > "$dir/check.got" 2>&1 || fail "redis-cli check run failed"
cmp -s "$dir/check.got" "$dir/check.want" || fail "check replies differ: $(diff "$dir/check.got" "$dir/check.want" | head -5)"
# redis-cli's own walks of the keyspace: SCAN with TYPE and the per-type sizes.
big=$(cli --bigkeys 2>&1); echo "cli.sh: --bigkeys done after ${SECONDS}s"
for want in "Biggest   list found '\"biglist\"' has 20000 items" "Biggest   hash found '\"bighash\"' has 20000 fields" \
            "Biggest    set found '\"bigset\"' has 20000 members" "Biggest   zset found '\"bigzset\"' has 20000 members" \
            "10001 lists with 60000 items" "10001 hashs with 70000 fields" "60000 strings with"; do
  [[ $big == *"$want"* ]] || fail "--bigkeys lacks '$want': $big"
done
[[ $(cli --scan --pattern 'zset:*' | wc -l) -eq 10000 ]] || fail "--scan --pattern zset:*"
[[ $(cli --scan --pattern 'bigset' | wc -l) -eq 1 ]] || fail "--scan bigset"
[[ $(cli sscan bigset 0 count 100000 | wc -l) -eq 20001 ]] || fail "sscan in one go"
# Random picks: distinct members of the set, as many as asked (both of SRANDMEMBER's
# ways: most of the set, and a few of it), and SPOP removes what it returns.
for n in 15000 100; do
  [[ $(cli srandmember bigset $n | grep -E '^m[0-9]+$' | sort -u | wc -l) -eq $n ]] || fail "srandmember bigset $n"
done
[[ $(cli srandmember bigset -30000 | grep -cE '^m[0-9]+$') -eq 30000 ]] || fail "srandmember bigset -30000"
cli spop bigset 500 > "$dir/popped"
[[ $(sort -u "$dir/popped" | wc -l) -eq 500 ]] || fail "spop 500 distinct"
expect 19500 scard bigset
[[ $(sed 's/^/SISMEMBER bigset /' "$dir/popped" | cli | grep -c '^0$') -eq 500 ]] || fail "popped members still there"

# Pipelined inline commands (text lines, not RESP) through --pipe: 10k of them in
# one stream, every aggregate type, then read back.
for i in $(seq 0 2499); do
  printf 'RPUSH iq %d\r\nHSET ih f%d %d\r\nSADD is m%d\r\nZADD iz %d m%d\r\n' "$i" "$i" "$i" "$i" "$i" "$i"
done > "$dir/inline.txt"
out=$(cli --pipe < "$dir/inline.txt" 2>&1)
[[ $out == *"errors: 0, replies: 10000"* ]] || fail "--pipe inline: $out"
expect 2500 llen iq
expect $'0\n1\n2' lrange iq 0 2
expect 1234 hget ih f1234
expect 2500 scard is
expect $'m2498\n2498\nm2499\n2499' zrange iz -2 -1 withscores
expect 2 del iq ih
expect 2 del is iz

# Aggregates beyond the 16 MiB cache (the data set becomes several times the cache): a
# list of 300k elements (20 MiB on its own) and a sorted set of 50k members with
# scores out of insertion order, read back at ranks, positions and ranges across them.
# (A skip list thrashes once it is itself several times the cache: 200k members in a
# 16 MiB cache take ~3 page fetches a ZADD, ~70 s for the load.)
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
def cmd(*a):
    a = [x.encode() for x in a]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
out = []
for i in range(0, 50000, 1000):
    # Scores out of order (j*7919 mod 50000), members with 40-byte names.
    out.append(cmd("ZADD", "hugez", *[v for j in range(i, i + 1000) for v in (str(j * 7919 % 50000), "member-%034d" % j)]))
for i in range(0, 300000, 1000):
    out.append(cmd("RPUSH", "hugel", *["element-%032d" % j for j in range(i, i + 1000)]))
open(d + "/huge.resp", "wb").write(b"".join(out))
PY
out=$(cli --pipe < "$dir/huge.resp" 2>&1)
[[ $out == *"errors: 0, replies: 350"* ]] || fail "--pipe huge load: $out"
heap=$(cli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
(( heap > 48 << 20 )) || fail "the data set ($heap bytes) should be several times the 16 MiB cache"
expect 50000 zcard hugez
# score s belongs to member j with j*7919 = s (mod 50000); 7919^-1 mod 50000 = 17679
for s in 0 1 9999 23456 49999; do
  j=$(( s * 17679 % 50000 ))
  expect "$(printf 'member-%034d\n%d' "$j" "$s")" zrange hugez "$s" "$s" withscores
  expect "$(printf 'member-%034d' "$j")" zrange hugez "$s" "$s" byscore
  expect "$s" zrank hugez "$(printf 'member-%034d' "$j")"
done
expect 1000 zcount hugez 5000 "(6000"
expect "$(printf 'member-%034d' $(( 49999 * 17679 % 50000 )))" zrevrange hugez 0 0
expect 300000 llen hugel
for i in 0 1 149999 299999; do expect "$(printf 'element-%032d' "$i")" lindex hugel "$i"; done
expect "$(printf 'element-%032d\nelement-%032d' 200000 200001)" lrange hugel 200000 200001
expect "$(printf 'member-%034d\n%d' $(( 0 )) 0)" zpopmin hugez
expect 49999 zcard hugez
echo "cli.sh: aggregates beyond the cache checked after ${SECONDS}s"

# A command file on stdin, to rum-kvs and to redis-server: the outputs must match.
command -v redis-server >/dev/null || { echo "SKIP: redis-server not installed; the --pipe part passed"; echo PASS; exit 0; }
start_redis "$rport"

cat > "$dir/script.txt" <<'CMDS'
flushall
hset user:1 name ada lang c year 1843
hincrby user:1 year 180
hmget user:1 name year nope
rpush queue job1 job2 job3 job4
lpop queue 2
lrange queue 0 -1
linsert queue before job3 job2b
lpos queue job4
sadd tags c redis rum
sismember tags rum
srem tags c
scard tags
zadd board 10 ada 20 bob 15 cy
zincrby board 7 ada
zrevrange board 0 -1 withscores
zrange board 12 18 byscore withscores
zrank board cy
zpopmax board
type board
rename board board2
zcard board2
hset user:1 name
lpush user:1 x
del user:1 queue tags board2
dbsize
CMDS
cli < "$dir/script.txt" > "$dir/kvs.out" 2>&1
redis-cli -p "$rport" < "$dir/script.txt" > "$dir/redis.out" 2>&1
diff "$dir/redis.out" "$dir/kvs.out" >&2 || fail "redis-cli script output differs from redis-server's"
kill -0 "$kpid" 2>/dev/null || fail "rum-kvs died"
echo PASS
