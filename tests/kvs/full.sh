#!/usr/bin/env bash
# rum-kvs when the memory nodes fill up (run under with_cluster.sh with small nodes):
# pushes into a list, hash, set and sorted set get -OOM once the heap cannot grow, the
# server keeps answering, every aggregate stays consistent (its walk returns as many
# elements as its count says), and after deleting them there is room again.
set -u
port=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/servers.sh"
kvs_setup full
# A small journal: the nodes hold 48 MiB in all, the default 64 MiB journal would not fit.
start_kvs full "$port" 64 --journal-mb 4
python3 - "$port" <<'PY' || fail "see above"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
f = s.makefile("rb")
def cmd(*a):
    a = [x if isinstance(x, bytes) else str(x).encode() for x in a]
    s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
    return reply()
def reply():
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-", b":"):
        return int(rest) if t == b":" else line[:-2].decode()
    if t == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*":
        return [reply() for _ in range(int(rest))]
    raise SystemExit("bad reply %r" % line)
def check(what, ok):
    if not ok:
        raise SystemExit("FAIL: " + what)
oom = 0
for i in range(4000):
    k, t = "k%d" % (i % 4), i % 4
    if t == 0:
        r = cmd("rpush", k, *[b"x" * 200] * 50)
    elif t == 1:
        r = cmd("hset", k, *[v for j in range(50) for v in ("f%d_%d" % (i, j), "y" * 200)])
    elif t == 2:
        r = cmd("sadd", k, *["m%d_%d_%s" % (i, j, "z" * 150) for j in range(50)])
    else:
        r = cmd("zadd", k, *[v for j in range(50) for v in (str(i + j / 64), "m%d_%d_%s" % (i, j, "w" * 150))])
    if isinstance(r, str) and r.startswith("-"):
        check("the error is Redis's OOM text: %s" % r, r.startswith("-OOM command not allowed"))
        oom += 1
        if oom >= 8:  # a refused allocation asks the nodes first: keep it short
            break
check("the nodes filled up (no -OOM in 4000 pushes)", oom > 0)
check("PING after OOM", cmd("ping") == "+PONG")
n = cmd("llen", "k0"); check("LRANGE walks LLEN elements", len(cmd("lrange", "k0", 0, -1)) == n)
n = cmd("hlen", "k1"); check("HGETALL walks HLEN fields", len(cmd("hgetall", "k1")) == 2 * n)
n = cmd("scard", "k2"); check("SMEMBERS walks SCARD members", len(cmd("smembers", "k2")) == n)
n = cmd("zcard", "k3"); z = cmd("zrange", "k3", 0, -1, "withscores")
check("ZRANGE walks ZCARD members", len(z) == 2 * n)
check("ZRANK of the last member", cmd("zrank", "k3", z[-2]) == n - 1)
check("sorted-set order", [float(x) for x in z[1::2]] == sorted(float(x) for x in z[1::2]))
check("DEL", cmd("del", "k0", "k1", "k2", "k3") == 4)
for _ in range(100):
    info = cmd("info", "memory").decode()
    if "lazyfree_pending_objects:0" in info:
        break
    time.sleep(0.1)
check("lazy free done", "lazyfree_pending_objects:0" in info)
r = cmd("rpush", "again", *[b"x" * 200] * 50)
check("room again after DEL: %r" % r, r == 50)
print("full.sh: %d pushes refused with -OOM; aggregates consistent" % oom)
PY
kill -TERM "$kpid"; wait "$kpid"; rc=$?; kpid=
[[ $rc -eq 0 ]] || fail "rum-kvs exit $rc"
echo PASS
