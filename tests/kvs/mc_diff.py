#!/usr/bin/env python3
"""memcached differential suite: the same request sequences go to Debian's memcached
(started here) and to rum-kvs's --memcached-port (started here on the cluster of
with_cluster.sh); the replies must be equal byte for byte, except what is server
specific by nature: CAS numbers are renamed in order of appearance (so equal CAS
values must stay equal and changed ones must change on both), the general `stats`
is compared on its command counters and its shape, `stats settings` on its shape.

Hand-written cases cover every command and its error replies; generated cases are
random sequences from a seed. A failing seed replays:
    mc_diff.py --base-port P --seed S
Then cross-protocol checks: keys written over RESP read over memcached and back.

    mc_diff.py --base-port P [--seeds N] [--seed S] [--memcached BIN]
Ports used: P (rum-kvs RESP), P+1 (rum-kvs memcached), P+2 (memcached)."""
import argparse
import os
import random
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvstest import Memc, Resp, Server, fail, rum_kvs  # noqa: E402

BARRIER, MARK = b"version\r\n", b"VERSION 1.6.18\r\n"
KMAX = 250
COUNTERS = ("cmd_get get_hits get_misses cmd_set cmd_touch touch_hits touch_misses delete_hits delete_misses "
            "incr_hits incr_misses decr_hits decr_misses cas_hits cas_misses cas_badval").split()
SHAPE = re.compile(rb"^(STAT [^ \r\n]+ [^\r\n]*\r\n)*END\r\n$")


def value_max(klen, flags):
    return (1 << 20) - 59 - klen - (4 if flags else 0)


class Side:
    """One server's connection, with the CAS values it handed out."""

    def __init__(self, name, port):
        self.name, self.port = name, port
        self.c = Memc(port)
        self.cas = {}      # key -> last CAS seen in a gets/gats reply
        self.names = {}    # CAS value -> its name in the normalized reply

    def reconnect(self):
        self.c.close()
        self.c = Memc(self.port)

    def expand(self, req):
        def sub(m):
            kind, key = m.group(1), m.group(2)
            v = self.cas.get(key, 0)
            return b"%d" % (v + 1000 if kind == b"badcas" else v)
        return re.sub(rb"\{(cas|badcas):([^}]*)\}", sub, req)

    def step(self, req):
        """Send req, then the barrier; the reply bytes before the barrier's answer."""
        try:
            self.c.send(self.expand(req) + BARRIER)
            out = b"".join(self.c.read_until(MARK) for _ in re.findall(rb"(?m)^version", req))
            out += self.c.read_until(MARK)[:-len(MARK)]
        except ConnectionError:
            out, self.c.buf = self.c.buf + b"<closed>", b""
            self.reconnect()
        except TimeoutError:
            fail("%s: no reply to %r" % (self.name, req[:200]))
        return self.normalize(out)

    def normalize(self, out):
        def value(m):
            key, cas = m.group(1), int(m.group(2))
            self.cas[key] = cas
            name = self.names.setdefault(cas, len(self.names))
            return m.group(0)[:m.start(2) - m.start(0)] + b"C%d" % name + b"\r\n"
        out = re.sub(rb"(?m)^VALUE (\S+) \d+ \d+ (\d+)\r\n", value, out)
        return out


def stats_view(raw):
    if not SHAPE.match(raw):
        return b"BAD STATS SHAPE " + raw[:200]
    stats = dict(l.split(b" ", 2)[1:] for l in raw.split(b"\r\n") if l.startswith(b"STAT "))
    missing = [n for n in COUNTERS + ["pid", "uptime", "time", "version", "curr_items", "bytes"]
               if n.encode() not in stats]
    if missing:
        return b"STATS missing " + " ".join(missing).encode()
    return b"STATS " + b" ".join(b"%s=%s" % (n.encode(), stats[n.encode()]) for n in COUNTERS)


def run_case(sides, name, steps):
    for s in sides:
        s.step(b"flush_all\r\nstats reset\r\n")
    for i, req in enumerate(steps):
        if isinstance(req, float):
            time.sleep(req)
            continue
        outs = []
        for s in sides:
            out = s.step(req)
            if req.startswith(b"stats\r\n"):
                out = stats_view(out)
            elif req.startswith(b"stats settings"):
                out = b"SETTINGS" if SHAPE.match(out) else b"BAD SHAPE " + out[:100]
            outs.append(out)
        if outs[0] != outs[1]:
            fail("case %s step %d %r:\n  memcached: %r\n  rum-kvs:   %r" % (name, i, req[:300], outs[0][:600],
                                                                          outs[1][:600]))


def st(cmd, key, flags, exp, val, noreply=False, vlen=None, cas=None):
    key = key if isinstance(key, bytes) else key.encode()
    val = val if isinstance(val, bytes) else val.encode()
    head = b"%s %s %s %s %d" % (cmd.encode(), key, str(flags).encode(), str(exp).encode(),
                               len(val) if vlen is None else vlen)
    if cas is not None:
        head += b" " + (cas if isinstance(cas, bytes) else cas.encode())
    if noreply:
        head += b" noreply"
    return head + b"\r\n" + val + b"\r\n"


def hand_cases():
    big = b"v" * value_max(1, 0)
    k250, k251 = b"k" * KMAX, b"k" * (KMAX + 1)
    cases = {
        "storage": [st("set", "a", 0, 0, "hello"), b"get a\r\n", b"gets a\r\n", st("add", "a", 0, 0, "x"),
                    st("add", "b", 7, 0, "bee"), b"get a b c\r\n", st("replace", "c", 0, 0, "x"),
                    st("replace", "a", 3, 0, "again"), b"gets a b\r\n", st("set", "e", 0, 0, ""), b"get e\r\n",
                    st("set", "a", 4294967295, 0, "max flags"), b"get a\r\n",
                    st("set", "a", 4294967297, 0, "wraps"), b"get a\r\n", b"get a a b\r\n"],
        "append": [st("append", "a", 0, 0, "x"), st("prepend", "a", 0, 0, "x"), st("set", "a", 5, 0, "mid"),
                   st("append", "a", 9, 0, "-end"), st("prepend", "a", 9, 0, "start-"), b"gets a\r\n",
                   st("set", "m", 0, 0, b"m" * (value_max(1, 0) - 2)), st("append", "m", 0, 0, "xx"),
                   st("append", "m", 0, 0, "y"), b"get a\r\n"],
        "cas": [st("cas", "a", 0, 0, "x", cas="1"), st("set", "a", 0, 0, "one"), b"gets a\r\n",
                st("cas", "a", 0, 0, "two", cas="{cas:a}"), b"gets a\r\n",
                st("cas", "a", 0, 0, "three", cas="{badcas:a}"), st("cas", "a", 0, 0, "zero", cas="0"),
                st("cas", "a", 0, 0, "neg", cas="-1"), st("cas", "a", 0, 0, "q", cas="{cas:a}", noreply=True),
                b"gets a\r\n", b"cas a 0 0 1\r\nx\r\n", b"touch a 100\r\n", b"gets a\r\n",
                st("append", "a", 0, 0, "+"), b"gets a\r\n", b"incr a 1\r\n", st("set", "n", 0, 0, "5"),
                b"gets n\r\n", b"incr n 1\r\n", b"gets n\r\n", st("cas", "n", 0, 0, "9", cas="{cas:n}"),
                b"get n\r\n"],
        "arith": [b"incr x 1\r\n", b"decr x 1\r\n", st("set", "x", 0, 0, "10"), b"incr x 5\r\n",
                  b"decr x 100\r\n", b"get x\r\n", st("set", "x", 0, 0, "100"), b"decr x 95\r\n", b"get x\r\n",
                  b"incr x 1000\r\n", b"get x\r\n", st("set", "x", 0, 0, "99"), b"incr x 1\r\n", b"get x\r\n",
                  st("set", "x", 3, 0, "9223372036854775807"), b"incr x 18446744073709551615\r\n", b"get x\r\n",
                  b"incr x -1\r\n", b"incr x abc\r\n", b"incr x 18446744073709551616\r\n", b"incr x 1x\r\n",
                  st("set", "y", 0, 0, "12abc"), b"incr y 1\r\n", st("set", "y", 0, 0, " 12"), b"incr y 1\r\n",
                  st("set", "y", 0, 0, ""), b"incr y 1\r\n", st("set", "y", 0, 0, "-5"), b"incr y 1\r\n",
                  st("set", "y", 0, 0, "-0"), b"incr y 1\r\n", st("set", "y", 0, 0, "7 8"), b"incr y 1\r\n",
                  st("set", "y", 0, 0, "+4"), b"decr y 1\r\n", b"get y\r\n", b"incr y 1 noreply\r\n",
                  b"get y\r\n", b"incr y\r\n", b"incr y 1 2 3\r\n", b"decr " + k251 + b" 1\r\n"],
        "touch": [b"touch a 10\r\n", st("set", "a", 0, 0, "x"), b"touch a 10\r\n", b"touch a x\r\n",
                  b"touch a 10 noreply\r\n", b"touch a\r\n", b"gat 100 a b\r\n", b"gats 0 a\r\n",
                  b"gat x a\r\n", b"gat 10\r\n", b"gat\r\n", b"gats -1 a\r\n", b"get a\r\n",
                  b"touch " + k251 + b" 1\r\n", st("set", "a", 0, 0, "x"), b"touch a -1\r\n", b"get a\r\n"],
        "expiry": [st("set", "p", 0, -1, "gone"), b"get p\r\n", st("set", "p", 0, 1000000000, "past"),
                   b"get p\r\n", st("set", "p", 0, 4000000000, "far"), b"get p\r\n",
                   st("set", "p", 0, 2592000, "30 days"), b"get p\r\n", st("add", "p2", 0, -1, "x"),
                   st("add", "p2", 0, 0, "y"), b"get p2\r\n", st("set", "f1", 0, 0, "y"), b"flush_all 2\r\n",
                   b"get f1\r\n", st("set", "t", 0, 1, "short"), 2.2, b"get t f1\r\n",
                   st("add", "t", 0, 0, "new"), b"get t\r\n"],
        "delete": [b"delete a\r\n", st("set", "a", 0, 0, "x"), b"delete a\r\n", b"delete a\r\n",
                   st("set", "a", 0, 0, "x"), b"delete a 0\r\n", st("set", "a", 0, 0, "x"), b"delete a noreply\r\n",
                   b"get a\r\n", st("set", "a", 0, 0, "x"), b"delete a 0 noreply\r\n", b"get a\r\n",
                   b"delete a 1\r\n", b"delete a 1 noreply\r\n", b"delete a 0 0\r\n", b"delete\r\n",
                   b"delete a b c d\r\n", b"delete " + k251 + b"\r\n", b"delete " + k250 + b"\r\n"],
        "noreply": [st("set", "a", 1, 0, "x", noreply=True), st("add", "a", 0, 0, "y", noreply=True),
                    st("add", "b", 0, 0, "y", noreply=True), st("replace", "b", 2, 0, "z", noreply=True),
                    st("append", "b", 0, 0, "+", noreply=True), st("prepend", "b", 0, 0, "-", noreply=True),
                    b"get a b\r\n", st("set", "c", 0, 0, "xy", noreply=True, vlen=1),
                    b"set c abc 0 1 noreply\r\nx\r\n", b"get c\r\n", b"set c 0 0 noreply\r\n"],
        "errors": [b"\r\n", b"\n", b"x\r\n", b"foo bar\r\n", b"GET a\r\n", b"get\r\n", b"gets\r\n", b"get\ta\r\n",
                   b" get a\r\n", b"get  a   b \r\n", b"set a 0 0\r\n", b"set a 0 0 1 noreply extra\r\nx\r\n",
                   b"set a abc 0 1\r\nx\r\n", b"set a 0 abc 1\r\nx\r\n", b"set a 0 0 1x\r\nx\r\n",
                   b"set a -1 0 1\r\nx\r\n", b"set a 0 0 -1\r\n", b"set a 0 0 2147483647\r\n",
                   b"set a 4294967296 0 1\r\nx\r\n", b"get a\r\n", b"set a 0 0 4294967297\r\nx\r\n", b"get a\r\n",
                   b"set a 0 0 3\r\nabcd\r\n", b"get a\r\n",
                   st("set", k250, 0, 0, "ok"), b"get " + k250 + b"\r\n", st("set", k251, 0, 0, "no"),
                   b"get " + k251 + b"\r\n", b"get a " + k251 + b"\r\n", b"get a\x00b\r\n",
                   b"set a\x00 0 0 1\r\nx\r\n", st("set", b"k\x01\x7f", 0, 0, "ctl"), b"get k\x01\x7f\r\n",
                   b"get " + b" ".join(b"k%d" % i for i in range(40)) + b" a\r\n", b"cas a 0 0 1 x\r\nx\r\n",
                   b"bget a\r\n", b"set a 0 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\r\n"],
        "toolarge": [st("set", "a", 0, 0, "old"), st("set", "a", 0, 0, big), b"get a\r\n",
                     st("set", "a", 0, 0, big + b"x"), b"get a\r\n", st("set", "f", 1, 0, big[:-4]),
                     st("set", "f", 1, 0, big[:-3]), st("add", "g", 0, 0, big + b"x", noreply=True),
                     b"get g\r\n", b"set a 0 0 2000000 noreply\r\n" + b"x" * 2000002 + b"\r\n", b"get a\r\n"],
        "flush": [st("set", "a", 0, 0, "x"), b"flush_all\r\n", b"get a\r\n", st("set", "a", 0, 0, "x"),
                  b"flush_all noreply\r\n", b"get a\r\n", st("set", "a", 0, 0, "x"), b"flush_all 0\r\n",
                  b"get a\r\n", b"flush_all x\r\n", b"flush_all noreply 0\r\n", b"flush_all 1 2 3\r\n",
                  st("set", "a", 0, 0, "x"), b"flush_all -1\r\n", b"get a\r\n", st("set", "a", 0, 0, "x"),
                  b"flush_all 1000\r\n", b"get a\r\n", b"flush_all 0 noreply\r\n", b"get a\r\n"],
        "admin": [b"version\r\n", b"version x\r\n", b"verbosity\r\n", b"verbosity x\r\n", b"verbosity noreply\r\n",
                  b"verbosity 1 noreply\r\n", b"verbosity 1 2 3\r\n", b"verbosity 0\r\n", b"stats\r\n",
                  b"stats settings\r\n", b"stats foo\r\n", b"stats reset\r\n", st("set", "a", 0, 0, "1"),
                  b"get a b\r\n", b"incr a 1\r\n", b"decr b 1\r\n", b"touch a 0\r\n", b"gat 0 b\r\n",
                  b"delete b\r\n", st("cas", "a", 0, 0, "x", cas="1"), b"stats\r\n", b"quit\r\n",
                  b"get a\r\n", b"quit now\r\n"],
        "pipeline": [st("set", "a", 0, 0, "1") + st("set", "b", 0, 0, "2") + b"get a b\r\nincr a 5\r\n"
                     b"delete b\r\nget a b\r\n" + st("append", "a", 0, 0, "0") + b"gets a\r\n"],
    }
    return cases


def gen_case(seed):
    rnd = random.Random(seed)
    keys = ["k%d" % i for i in range(5)]
    steps = []

    def value():
        r = rnd.random()
        if r < 0.3:
            # Not 2**63 or more: memcached then looks for a '-' past the end of the
            # value (strchr on unterminated item data), so its answer is random.
            return str(rnd.choice([0, 1, 9, 99, 100, 12345, 10 ** 12]))
        if r < 0.4:
            return ""
        return "".join(rnd.choice("abc xyz019-") for _ in range(rnd.randint(1, 20)))

    for _ in range(rnd.randint(20, 60)):
        k = rnd.choice(keys)
        op = rnd.choice("set add replace append prepend cas get gets gat gats incr decr delete touch bad".split())
        noreply = rnd.random() < 0.15
        flags = rnd.choice([0, 0, 1, 77, 4294967295, 4294967296 + 5])
        exp = rnd.choice([0, 0, 0, 1000, -1, 1000000000])
        if op in ("set", "add", "replace", "append", "prepend"):
            steps.append(st(op, k, flags, exp, value(), noreply))
        elif op == "cas":
            cas = rnd.choice(["{cas:%s}" % k, "{cas:%s}" % k, "{badcas:%s}" % k, "0"])
            steps.append(st("cas", k, flags, exp, value(), noreply, cas=cas))
        elif op in ("get", "gets"):
            steps.append(("%s %s\r\n" % (op, " ".join(rnd.sample(keys, rnd.randint(1, 4))))).encode())
        elif op in ("gat", "gats"):
            steps.append(("%s %d %s\r\n" % (op, rnd.choice([0, 100, -1]), k)).encode())
        elif op in ("incr", "decr"):
            big = "18446744073709551615" if op == "decr" else "1000000"  # incr stays below 2**63
            delta = rnd.choice(["1", "7", "1000", big, "-1", "x"])
            steps.append(("%s %s %s%s\r\n" % (op, k, delta, " noreply" if noreply else "")).encode())
        elif op == "delete":
            steps.append(("delete %s%s\r\n" % (k, rnd.choice(["", " 0", " noreply", " 1"]))).encode())
        elif op == "touch":
            steps.append(("touch %s %d%s\r\n" % (k, rnd.choice([0, 100, -1]), " noreply" if noreply else "")).encode())
        else:
            steps.append(rnd.choice([b"set %s 0 0\r\n" % k.encode(), b"bogus\r\n", b"get " + b"x" * 251 + b"\r\n",
                                     b"incr\r\n", b"stats\r\n", b"flush_all\r\n"]))
    steps.append(b"gets " + " ".join(keys).encode() + b"\r\n")
    return steps


def cross_protocol(resp_port, mc_port):
    r, m = Resp(resp_port), Memc(mc_port)
    r.cmd("FLUSHALL")
    r.cmd("SET", "r1", "from redis")
    v, fl = m.get(b"r1")
    if (v, fl) != (b"from redis", 0):
        fail("RESP SET then memcached get: %r %r" % (v, fl))
    if m.line(b"set m1 42 100 5\r\nhello\r\n") != b"STORED\r\n":
        fail("memcached set")
    if r.cmd("GET", "m1") != b"hello":
        fail("memcached set then RESP GET")
    ttl = r.cmd("TTL", "m1")
    if not 98 <= ttl <= 100:
        fail("memcached exptime 100 seen by TTL as %r" % ttl)

    def cas_of(key):
        m.send(b"gets " + key + b"\r\n")
        return int(m.read_until(b"END\r\n").split(b"\r\n")[0].split()[4])

    c0 = cas_of(b"m1")
    r.cmd("APPEND", "m1", " world")
    c1 = cas_of(b"m1")
    r.cmd("SETRANGE", "m1", 0, "J")
    c2 = cas_of(b"m1")
    if len({c0, c1, c2}) != 3:
        fail("CAS unchanged by RESP APPEND/SETRANGE: %d %d %d" % (c0, c1, c2))
    if m.get(b"m1") != (b"Jello world", 42):
        fail("flags not kept by RESP APPEND: %r" % (m.get(b"m1"),))
    r.cmd("SET", "m1", "replaced")
    if m.line(b"cas m1 0 0 1 %d\r\nx\r\n" % c2) != b"EXISTS\r\n":
        fail("cas succeeded after a RESP SET")
    r.cmd("SET", "n", "10")
    if m.line(b"incr n 5\r\n") != b"15\r\n" or r.cmd("INCR", "n") != 16:
        fail("incr across protocols")
    r.cmd("SET", b"bin\x00key", "nul")
    if r.cmd("RENAME", b"bin\x00key", "plain") != "OK" or m.get(b"plain") != (b"nul", 0):
        fail("RENAME of a binary key, read by memcached")
    if m.line(b"delete plain\r\n") != b"DELETED\r\n" or r.cmd("EXISTS", "plain") != 0:
        fail("memcached delete seen by RESP")
    if m.line(b"touch n 0\r\n") != b"TOUCHED\r\n" or r.cmd("TTL", "n") != -1:
        fail("touch 0 clears the TTL")
    # A list is a miss for memcached and blocks add.
    if r.cmd("RPUSH", "list", "a") != 1:
        fail("RPUSH of a new list")
    if m.get(b"list") != (None, None) or m.line(b"add list 0 0 1\r\nx\r\n") != b"NOT_STORED\r\n":
        fail("a list seen by memcached get/add")
    if m.line(b"incr list 1\r\n") != b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n":
        fail("incr on a list")
    m.line(b"flush_all\r\n")
    if r.cmd("DBSIZE") != 0:
        fail("flush_all left RESP keys")
    r.close()
    m.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--memcached", default=shutil.which("memcached") or "/usr/bin/memcached")
    a = ap.parse_args()
    if not os.path.exists(a.memcached):
        print("SKIP: memcached not installed (scripts/deps.sh installs it)")
        return 77
    p = a.base_port
    log = os.environ.get("KVS_TEST_LOG", "/tmp/mc_diff.%d.log" % os.getpid())
    # No LRU maintainer or crawler thread: their short-lived item references make
    # memcached copy instead of rewriting in place on incr/decr, at random.
    mc_argv = [a.memcached, "-p", str(p + 2), "-U", "0", "-l", "127.0.0.1", "-m", "64",
               "-o", "no_lru_crawler,no_lru_maintainer"]
    if os.getuid() == 0:
        mc_argv += ["-u", "nobody"]
    ref = Server(mc_argv, p + 2, log)
    kvs = rum_kvs("mcdiff", p, p + 1, ["--cache-mb", "16"], log)
    try:
        sides = [Side("memcached", p + 2), Side("rum-kvs", p + 1)]
        if a.seed is not None:
            run_case(sides, "seed %d" % a.seed, gen_case(a.seed))
        else:
            for name, steps in hand_cases().items():
                run_case(sides, name, steps)
            base = int(os.environ.get("KVS_MC_SEED", "1"))
            for seed in range(base, base + a.seeds):
                run_case(sides, "seed %d (replay: --seed %d)" % (seed, seed), gen_case(seed))
            cross_protocol(p, p + 1)
        if not kvs.alive() or not ref.alive():
            fail("a server died")
    finally:
        kvs.stop()
        ref.stop()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
