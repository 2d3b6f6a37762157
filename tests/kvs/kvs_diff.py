#!/usr/bin/env python3
"""Differential test: the same commands to a real redis-server and to rum-kvs, replies
compared byte for byte (order-free only where Redis leaves the order unspecified).

  kvs_diff.py --redis PORT --kvs PORT [--cases FILE] [--seed N] [--generated N]

Case file lines (tests/kvs/diff_cases.txt): one command per line, words split like a
shell (quotes; \\xNN, \\r, \\n escapes inside words), '#' comments. A prefix picks how
replies are compared:
  (none) exact bytes        ~ order-free (SMEMBERS, HGETALL, KEYS, ...)
  ? same reply type and element count only (SRANDMEMBER -n, PTTL, HELLO, ...)
  @ a SCAN-family command iterated to cursor 0 on each server; the sets of elements
    (pairs for HSCAN/ZSCAN) must match
  !sleep SECONDS     !cmdinfo NAME...  (COMMAND INFO: name, arity, flags, key positions,
                     ACL categories)
  !other COMMAND     the command on a second connection (a client touching WATCHed keys)
The generator (--seed, printed; a failing seed replays) draws commands over a few keys
shared by all types, so WRONGTYPE and empty-key paths come up too. Exit 1 on any
difference, printing the command and both replies."""
import argparse
import codecs
import os
import random
import shlex
import socket
import sys
import time


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = self.buf[self.pos:i]
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < self.pos + n + 2:
            self._fill()
        data = self.buf[self.pos:self.pos + n]
        self.pos += n + 2
        return data

    def _value(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
            return (t, rest)
        if t in (b"$", b"="):
            n = int(rest)
            return (t, None) if n < 0 else (t, self._exact(n))
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return (t, None) if n < 0 else (t, [self._value() for _ in range(n)])
        if t == b"%":
            n = int(rest)
            return (t, [(self._value(), self._value()) for _ in range(n)])
        raise ValueError("bad reply line %r" % line)

    def reply(self):
        """One reply: (raw bytes, parsed tree)."""
        self.pos = 0
        v = self._value()
        raw = self.buf[:self.pos]
        self.buf = self.buf[self.pos:]
        return raw, v

    def call(self, args):
        self.send(args)
        return self.reply()


def enc(v):
    """A canonical byte form of a parsed reply, for sorting and comparing."""
    t, x = v
    if x is None:
        return t + b"nil"
    if t == b"%":
        return t + b"{" + b"|".join(enc(k) + b"=" + enc(w) for k, w in x) + b"}"
    if isinstance(x, list):
        return t + b"[" + b"|".join(enc(e) for e in x) + b"]"
    return t + x


def unordered(v, pairs=False):
    t, x = v
    if t == b"%":
        return t + b"{" + b"|".join(sorted(enc(k) + b"=" + enc(w) for k, w in x)) + b"}"
    if not isinstance(x, list):
        return enc(v)
    items = [enc(e) for e in x]
    if pairs:
        items = [items[i] + b"=" + items[i + 1] for i in range(0, len(items) - 1, 2)]
    return t + b"[" + b"|".join(sorted(items)) + b"]"


def shape(v):
    t, x = v
    if t == b"-":
        return enc(v)
    return t + (b"%d" % len(x) if isinstance(x, list) else b"")


PAIRED = {b"hgetall"}


def word(tok):
    return codecs.escape_decode(tok.encode())[0] if "\\" in tok else tok.encode()


class Diff:
    def __init__(self, rport, kport, verbose):
        self.ports = (rport, kport)
        self.r, self.k = Conn(rport), Conn(kport)
        self.main = (self.r, self.k)
        self.other = None
        self.checked = 0
        self.failures = 0
        self.verbose = verbose

    def fail(self, where, args, a, b):
        self.failures += 1
        print("DIFF at %s: %s\n  redis:   %r\n  rum-kvs: %r" % (where, b" ".join(args), a, b), flush=True)

    def run(self, mode, args, where):
        ra, rv = self.r.call(args)
        ka, kv = self.k.call(args)
        self.checked += 1
        name = args[0].lower()
        if mode == "":
            same = ra == ka
        elif mode == "~":
            same = unordered(rv, name in PAIRED and rv[0] == b"*") == unordered(kv, name in PAIRED and kv[0] == b"*")
        else:
            same = shape(rv) == shape(kv)
        if not same:
            self.fail(where, args, ra, ka)
        elif self.verbose:
            print("ok %s: %s -> %r" % (where, b" ".join(args), ra[:80]))
        return rv, kv

    def run_exec(self, modes, where):
        """EXEC, each element of its array compared the way its command would be."""
        ra, rv = self.r.call([b"exec"])
        ka, kv = self.k.call([b"exec"])
        self.checked += 1
        same = ra == ka
        if not same and rv[0] == kv[0] == b"*" and rv[1] is not None and kv[1] is not None \
                and len(rv[1]) == len(kv[1]) == len(modes):
            same = True
            for (mode, name), x, y in zip(modes, rv[1], kv[1]):
                if mode == "~":
                    paired = name in PAIRED
                    same &= unordered(x, paired and x[0] == b"*") == unordered(y, paired and y[0] == b"*")
                elif mode == "?":
                    same &= shape(x) == shape(y)
                else:
                    same &= enc(x) == enc(y)
        if not same:
            self.fail(where, [b"exec"], ra, ka)

    def scan_all(self, conn, args):
        """Iterate a SCAN-family command to cursor 0; the set of elements (or pairs)."""
        ci = 1 if args[0].lower() == b"scan" else 2
        cursor, seen, err = b"0", set(), None
        for _ in range(100000):
            a = list(args)
            a[ci] = cursor
            raw, v = conn.call(a)
            if v[0] == b"-":
                return raw, None
            cursor = v[1][0][1]
            elems = [e[1] for e in v[1][1][1]]
            if args[0].lower() in (b"hscan", b"zscan"):
                elems = [elems[i] + b"=" + elems[i + 1] for i in range(0, len(elems), 2)]
            seen.update(elems)
            if cursor == b"0":
                return None, sorted(seen)
        return b"no end", None

    def scan(self, args, where):
        self.checked += 1
        re_, rs = self.scan_all(self.r, args)
        ke, ks = self.scan_all(self.k, args)
        if (re_, rs) != (ke, ks):
            self.fail(where, args, re_ or rs, ke or ks)

    def cmdinfo(self, names, where):
        for n in names:
            self.checked += 1
            _, rv = self.r.call([b"command", b"info", n])
            _, kv = self.k.call([b"command", b"info", n])

            def core(v):
                e = v[1][0][1]
                flags = sorted(f[1] for f in e[2][1])
                # ACL categories, but for @dangerous, which rum-kvs does not mark.
                cats = [x[1] for x in e[6][1] if x[1] != b"@dangerous"]
                return (e[0][1], e[1][1], flags, e[3][1], e[4][1], e[5][1], cats)

            if core(rv) != core(kv):
                self.fail(where, [b"command", b"info", n], core(rv), core(kv))


def on_other(d, mode, args, where):
    if d.other is None:
        d.other = (Conn(d.ports[0]), Conn(d.ports[1]))
    d.r, d.k = d.other
    try:
        d.run(mode, args, where)
    finally:
        d.r, d.k = d.main


def run_cases(d, path):
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            where = "%s:%d" % (os.path.basename(path), lineno)
            if line.startswith("!sleep"):
                time.sleep(float(line.split()[1]))
                continue
            if line.startswith("!cmdinfo"):
                d.cmdinfo([w.encode() for w in line.split()[1:]], where)
                continue
            other = line.startswith("!other ")
            if other:
                line = line[len("!other "):]
            mode = ""
            if line[0] in "~?@":
                mode, line = line[0], line[1:].strip()
            args = [word(t) for t in shlex.split(line, posix=True)]
            if other:
                on_other(d, mode, args, where)
            elif mode == "@":
                d.scan(args, where)
            else:
                d.run(mode, args, where)


FAMILY_KEYS = {"h": ["h0", "h1"], "l": ["l0", "l1"], "s": ["s0", "s1", "s2"], "z": ["z0", "z1"],
               "t": ["t0", "t1"]}
KEYS = sum(FAMILY_KEYS.values(), [])
STRING_CMDS = {"set", "get", "incr", "append", "strlen", "getrange"}
MULTI_KEY = {"sinter", "sunion", "sdiff", "exists", "rename", "renamenx"}
MEMBERS = ["m%d" % i for i in range(8)] + ["1", "2", "10", "-3", ""]
NUMS = ["0", "1", "-1", "2", "3", "-2", "10", "100", "x", "1.5", "-0", "+inf", "-inf", "9223372036854775807",
        "-9223372036854775808", "1e3", "(1", "(2", "[m3", "(m5", "-", "+", "nan"]


def gen_command(rnd):
    k = rnd.choice(KEYS)
    k2 = rnd.choice(KEYS)
    m = lambda: rnd.choice(MEMBERS)
    n = lambda: rnd.choice(NUMS)
    small = lambda: str(rnd.randint(-4, 6))
    ms = lambda lo=1, hi=4: [m() for _ in range(rnd.randint(lo, hi))]
    c = rnd.randrange(60)
    table = [
        ("", ["hset", k] + [v for _ in range(rnd.randint(1, 3)) for v in (m(), m())]),
        ("", ["hsetnx", k, m(), m()]), ("", ["hget", k, m()]), ("", ["hdel", k] + ms()),
        ("~", ["hgetall", k]), ("", ["hlen", k]), ("", ["hexists", k, m()]),
        ("", ["hincrby", k, m(), small()]), ("", ["hincrbyfloat", k, m(), n()]), ("~", ["hkeys", k]),
        ("~", ["hvals", k]), ("", ["hmget", k] + ms()), ("", ["hstrlen", k, m()]),
        ("", [rnd.choice(["lpush", "rpush", "lpushx", "rpushx"]), k] + ms()),
        ("", [rnd.choice(["lpop", "rpop"]), k] + ([small()] if rnd.random() < 0.5 else [])),
        ("", ["llen", k]), ("", ["lrange", k, small(), small()]), ("", ["lindex", k, small()]),
        ("", ["lset", k, small(), m()]), ("", ["lrem", k, small(), m()]), ("", ["ltrim", k, small(), small()]),
        ("", ["linsert", k, rnd.choice(["before", "after", "x"]), m(), m()]),
        ("", ["lpos", k, m()] + rnd.choice([[], ["rank", small()], ["count", small()], ["maxlen", small()],
                                             ["rank", small(), "count", "0"]])),
        ("", ["sadd", k] + ms()), ("", ["srem", k] + ms()), ("~", ["smembers", k]), ("", ["sismember", k, m()]),
        ("", ["smismember", k] + ms()), ("", ["scard", k]),
        ("~", [rnd.choice(["sinter", "sunion", "sdiff"]), k, k2] + ([rnd.choice(KEYS)] if rnd.random() < 0.3 else [])),
        ("", ["zadd", k] + [o for o in ["nx", "xx", "gt", "lt", "ch", "incr"] if rnd.random() < 0.15] +
         [v for _ in range(rnd.randint(1, 3)) for v in (n() if rnd.random() < 0.3 else small(), m())]),
        ("", ["zrem", k] + ms()), ("", ["zscore", k, m()]), ("", ["zmscore", k] + ms()), ("", ["zcard", k]),
        ("", ["zcount", k, n(), n()]),
        ("", ["zrange", k, small(), small()] + (["withscores"] if rnd.random() < 0.5 else []) +
         (["rev"] if rnd.random() < 0.3 else [])),
        ("", ["zrange", k, n(), n(), "byscore"] + (["rev"] if rnd.random() < 0.3 else []) +
         (["limit", small(), small()] if rnd.random() < 0.3 else []) + (["withscores"] if rnd.random() < 0.4 else [])),
        ("", ["zrevrange", k, small(), small()] + (["withscores"] if rnd.random() < 0.5 else [])),
        ("", ["zrangebyscore", k, n(), n()] + (["withscores"] if rnd.random() < 0.5 else []) +
         (["limit", small(), small()] if rnd.random() < 0.3 else [])),
        ("", ["zrank", k, m()]), ("", ["zrevrank", k, m()]), ("", ["zincrby", k, n(), m()]),
        ("", [rnd.choice(["zpopmin", "zpopmax"]), k] + ([small()] if rnd.random() < 0.5 else [])),
        ("", ["type", k]), ("", ["exists", k, k2]), ("", ["del", k]), ("", ["rename", k, k2]),
        ("", ["renamenx", k, k2]), ("", ["expire", k, "100"]), ("", ["ttl", k]), ("", ["persist", k]),
        ("", ["set", k, n()]), ("", ["get", k]), ("", ["incr", k]), ("", ["append", k, m()]),
        ("", ["strlen", k]), ("", ["getrange", k, small(), small()]), ("", ["dbsize"]),
        ("~", ["keys", "*"]), ("", ["spop", k, str(rnd.randint(13, 20))]),
        ("", ["srandmember", k, str(rnd.randint(13, 20))]),
        ("~", ["srandmember", k, str(rnd.randint(13, 20))]),
        ("", ["zadd", k, small(), m(), small(), m()]),
        ("", ["rpush", k, m(), m(), m()]),
        ("", ["sadd", k, m(), m(), m()]),
    ]
    mode, args = table[c % len(table)]
    # Most commands go to a key of their own type, so that they do more than WRONGTYPE.
    name = args[0]
    fam = "t" if name in STRING_CMDS else name[0] if name[0] in "hlsz" and name not in ("llen",) else None
    if name in ("rpush", "rpushx", "rpop", "llen"):
        fam = "l"
    if name in ("type", "del", "expire", "ttl", "persist", "exists", "rename", "renamenx", "dbsize", "keys"):
        fam = None
    if name in ("rename", "renamenx") and rnd.random() < 0.85:
        args[2] = rnd.choice(FAMILY_KEYS[args[1][0]])
    if fam is not None and rnd.random() < 0.9:
        args[1] = rnd.choice(FAMILY_KEYS[fam])
        if name in MULTI_KEY:
            for i in range(2, len(args)):
                args[i] = rnd.choice(FAMILY_KEYS[fam])
    # SPOP/SRANDMEMBER with a count above the set size are deterministic as sets.
    if args[0] in ("spop", "srandmember", "sinter", "sunion", "sdiff", "smembers"):
        mode = "~"
    return mode, args


def run_generated(d, seed, count):
    rnd = random.Random(seed)
    in_multi, queued, resp3 = 0, [], False
    for i in range(count):
        where = "seed %d #%d" % (seed, i)
        if i >= count // 2 and not resp3 and in_multi == 0:
            # The second half under RESP3: maps, sets, doubles and nulls.
            d.run("?", [b"hello", b"3"], where)
            resp3 = True
        if in_multi == 0 and rnd.random() < 0.03:
            # A few commands in a transaction: QUEUED each, then EXEC's array.
            d.run("", [b"multi"], where)
            in_multi, queued = rnd.randint(1, 4), []
        mode, args = gen_command(rnd)
        d.run(mode if in_multi == 0 else "", [a.encode() for a in args], where)
        if in_multi:
            queued.append((mode, args[0].encode()))
            in_multi -= 1
            if in_multi == 0:
                d.run_exec(queued, where)
        if d.failures > 20:
            break
    if in_multi:
        d.run_exec(queued, "seed %d end" % seed)
    d.run("?", [b"hello", b"2"], "seed %d end" % seed)
    # The whole state must agree at the end: every key's type, TTL and contents.
    for k in KEYS:
        _, t = d.r.call([b"type", k.encode()])
        dump = {b"string": [b"get"], b"list": [b"lrange", None, b"0", b"-1"], b"set": [b"smembers"],
                b"hash": [b"hgetall"], b"zset": [b"zrange", None, b"0", b"-1", b"withscores"]}.get(t[1])
        d.run("", [b"type", k.encode()], "seed %d final" % seed)
        d.run("", [b"ttl", k.encode()], "seed %d final" % seed)
        if dump:
            a = [x if x is not None else k.encode() for x in dump]
            if len(a) == 1:
                a.append(k.encode())
            d.run("~" if t[1] in (b"set", b"hash") else "", a, "seed %d final" % seed)


def run_big(d, seed):
    """Aggregates of thousands of elements: skip-list spans, ring wrap-around, dict
    resizes; the whole of each compared after random updates."""
    rnd = random.Random(seed ^ 0x5eed)
    where = "seed %d big" % seed
    b = lambda *a: [x if isinstance(x, bytes) else str(x).encode() for x in a]
    for _ in range(6):
        args = ["zadd", "bz"]
        for _ in range(500):
            args += [rnd.choice([str(rnd.randint(-50, 50)), "%.3f" % rnd.uniform(-100, 100)]), "m%d" % rnd.randint(0, 3000)]
        d.run("", b(*args), where)
        d.run("", b("zrem", "bz", *["m%d" % rnd.randint(0, 3000) for _ in range(100)]), where)
        d.run("", b("zincrby", "bz", rnd.randint(-5, 5), "m%d" % rnd.randint(0, 3000)), where)
        for _ in range(20):
            d.run("", b("zrank", "bz", "m%d" % rnd.randint(0, 3000)), where)
            d.run("", b("zrevrank", "bz", "m%d" % rnd.randint(0, 3000)), where)
            lo = rnd.randint(-60, 60)
            d.run("", b("zcount", "bz", lo, lo + rnd.randint(0, 30)), where)
            d.run("", b("zrange", "bz", lo, "(%d" % (lo + 10), "byscore", "limit", rnd.randint(0, 5), rnd.randint(-1, 20),
                        "withscores"), where)
            d.run("", b("zrange", "bz", lo + 20, lo, "byscore", "rev", "limit", rnd.randint(0, 5), 10), where)
            i = rnd.randint(-3000, 3000)
            d.run("", b("zrange", "bz", i, i + rnd.randint(0, 40), "withscores"), where)
            d.run("", b("zrevrange", "bz", i, i + rnd.randint(0, 40)), where)
        d.run("", b(rnd.choice(["zpopmin", "zpopmax"]), "bz", rnd.randint(1, 50)), where)
        d.run("", b("zrange", "bz", 0, -1, "withscores"), where)
        d.run("", b("zcard", "bz"), where)
        # A list pushed and popped at both ends (the ring wraps), edited in the middle.
        for _ in range(5):
            d.run("", b(rnd.choice(["lpush", "rpush"]), "bl", *["e%d" % rnd.randint(0, 50) for _ in range(200)]), where)
            d.run("", b(rnd.choice(["lpop", "rpop"]), "bl", rnd.randint(1, 150)), where)
        d.run("", b("lrem", "bl", rnd.randint(-5, 5), "e%d" % rnd.randint(0, 50)), where)
        d.run("", b("linsert", "bl", rnd.choice(["before", "after"]), "e%d" % rnd.randint(0, 50), "new"), where)
        d.run("", b("lset", "bl", rnd.randint(-100, 100), "set"), where)
        d.run("", b("ltrim", "bl", rnd.randint(0, 20), rnd.randint(-20, -1)), where)
        d.run("", b("lpos", "bl", "e%d" % rnd.randint(0, 50), "rank", rnd.choice([1, 2, -1, -3]), "count", 0), where)
        d.run("", b("lrange", "bl", 0, -1), where)
        # A hash and a set through resizes both ways.
        d.run("", b("hset", "bh", *[v for i in range(400) for v in ("f%d" % rnd.randint(0, 2000), "v%d" % i)]), where)
        d.run("", b("hdel", "bh", *["f%d" % rnd.randint(0, 2000) for _ in range(300)]), where)
        d.run("", b("sadd", "bs", *["s%d" % rnd.randint(0, 2000) for _ in range(400)]), where)
        d.run("", b("srem", "bs", *["s%d" % rnd.randint(0, 2000) for _ in range(300)]), where)
        d.run("~", b("hgetall", "bh"), where)
        d.run("~", b("smembers", "bs"), where)
        d.run("", b("hlen", "bh"), where)
        d.run("", b("scard", "bs"), where)
        d.scan(b("hscan", "bh", 0, "count", 50), where)
        d.scan(b("sscan", "bs", 0, "match", "s1*"), where)
        d.scan(b("zscan", "bz", 0, "count", 20), where)
        d.run("~", b("sinter", "bs", "bs"), where)
        d.run("~", b("sdiff", "bs", "nope"), where)
    # Large values freed in the background: the keys are gone at once and new ones of
    # the same names start empty.
    d.run("", b("zcard", "bz"), where)
    d.run("", b("del", "bz", "bh"), where)
    d.run("", b("set", "bs", "now a string"), where)
    d.run("", b("exists", "bz", "bh"), where)
    d.run("", b("zadd", "bz", 1, "a"), where)
    d.run("", b("hset", "bh", "f", "v"), where)
    time.sleep(0.3)
    d.run("", b("zrange", "bz", 0, -1, "withscores"), where)
    d.run("~", b("hgetall", "bh"), where)
    d.run("", b("get", "bs"), where)
    d.run("", b("del", "bz", "bh", "bs", "bl"), where)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", type=int, required=True)
    ap.add_argument("--kvs", type=int, required=True)
    ap.add_argument("--cases")
    ap.add_argument("--seed", type=int, action="append")
    ap.add_argument("--generated", type=int, default=2000)
    ap.add_argument("-v", action="store_true")
    o = ap.parse_args()
    d = Diff(o.redis, o.kvs, o.v)
    if o.cases:
        run_cases(d, o.cases)
        hand = d.checked
        print("hand-written: %d checks, %d differences" % (hand, d.failures), flush=True)
    seeds = o.seed or [int.from_bytes(os.urandom(4), "little")]
    for seed in seeds:
        d.r.call([b"flushall"])
        d.k.call([b"flushall"])
        before, fails = d.checked, d.failures
        print("generated: seed %d (replay with --seed %d)" % (seed, seed), flush=True)
        run_generated(d, seed, o.generated)
        run_big(d, seed)
        print("generated: seed %d: %d checks, %d differences" % (seed, d.checked - before, d.failures - fails),
              flush=True)
    print("total: %d checks, %d differences" % (d.checked, d.failures))
    sys.exit(1 if d.failures else 0)


if __name__ == "__main__":
    main()
