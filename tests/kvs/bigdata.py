#!/usr/bin/env python3
"""A data set ten times rum-kvs's local cache: write it (RESP and memcached), read
every value back (both protocols, in another order than written), check each byte,
then restart rum-kvs and check a sample again.

    bigdata.py --base-port P [--cache-mb 4] [--ratio 10]
Ports: P (RESP), P+1 (memcached)."""
import argparse
import hashlib
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvstest import Memc, Resp, fail, resp_encode, rum_kvs  # noqa: E402

VALUE = 4000  # bytes: small enough for memcached's 1 MB items, big enough to fill pages


def value_of(i):
    seed = hashlib.sha256(b"%d" % i).digest()
    return (seed * (VALUE // len(seed) + 1))[:VALUE - 8] + b"%08d" % i


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--cache-mb", type=int, default=4)
    ap.add_argument("--ratio", type=int, default=10)
    a = ap.parse_args()
    p = a.base_port
    n = a.ratio * (a.cache_mb << 20) // VALUE + 1
    kvs = rum_kvs("bigdata", p, p + 1, ["--cache-mb", str(a.cache_mb)])
    try:
        r, m = Resp(p, timeout=60), Memc(p + 1, timeout=60)
        r.cmd("FLUSHALL")
        batch = 200
        for start in range(0, n, batch):
            ids = range(start, min(n, start + batch))
            if start % 1000 < batch:  # a tenth through memcached
                m.send(b"".join(b"set big:%d %d 0 %d noreply\r\n%s\r\n" % (i, i, VALUE, value_of(i)) for i in ids))
            else:
                r.s.sendall(b"".join(resp_encode("SET", "big:%d" % i, value_of(i)) for i in ids))
                for _ in ids:
                    if r.read() != "OK":
                        fail("SET failed")
        m.line(b"version\r\n")  # the noreply sets are done once this answers
        if r.cmd("DBSIZE") != n:
            fail("DBSIZE %r, wrote %d" % (r.cmd("DBSIZE"), n))
        order = list(range(n))
        random.Random(7).shuffle(order)
        bad = 0
        for start in range(0, n, batch):
            ids = order[start:start + batch]
            if start % 2000 < batch:
                for i in ids:
                    v, fl = m.get(b"big:%d" % i)
                    want_flags = i if (i // batch * batch) % 1000 < batch else 0
                    if v != value_of(i) or fl != want_flags:
                        bad += 1
            else:
                r.s.sendall(b"".join(resp_encode("GET", "big:%d" % i) for i in ids))
                for i in ids:
                    if r.read() != value_of(i):
                        bad += 1
        if bad:
            fail("%d of %d values read back wrong with a %d MB cache" % (bad, n, a.cache_mb))
        info = r.cmd("INFO", "memory").decode()
        r.close()
        m.close()
        if kvs.stop() != 0:
            fail("rum-kvs did not stop cleanly")
        kvs = rum_kvs("bigdata", p, p + 1, ["--cache-mb", str(a.cache_mb)])
        r = Resp(p, timeout=60)
        for i in random.Random(8).sample(range(n), 300):
            if r.cmd("GET", "big:%d" % i) != value_of(i):
                fail("big:%d wrong after a restart" % i)
        r.close()
        print("PASS: %d values of %d bytes (%.0f MB, %dx the %d MB cache) read back correct; %s" % (
            n, VALUE, n * VALUE / 1e6, a.ratio, a.cache_mb,
            " ".join(l for l in info.split("\r\n") if l.startswith("used_memory:"))))
    finally:
        kvs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
