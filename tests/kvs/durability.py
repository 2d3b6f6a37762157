#!/usr/bin/env python3
"""rum-kvs --sync always under SIGKILL: several clients write (RESP SET and INCR, and
memcached set) as fast as they can; rum-kvs is killed with SIGKILL in the middle;
a new rum-kvs on the same store must hold every write that was acknowledged, and
the counter at least the highest value a client was told.

    durability.py --base-port P [--seconds S] [--clients N]
Ports: P (RESP), P+1 (memcached)."""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvstest import Memc, Resp, fail, resp_encode, rum_kvs  # noqa: E402


ERRORS = []


def resp_writer(port, tid, acked, counter_acks, stop):
    try:
        r = Resp(port)
        i = 0
        while not stop.is_set():
            # a pipeline of 8 SETs and an INCR; each reply acknowledges its command
            batch = [("w%d:%d" % (tid, i + j), "v%d:%d" % (tid, i + j)) for j in range(8)]
            r.s.sendall(b"".join(resp_encode("SET", k, v) for k, v in batch) + resp_encode("INCR", "counter"))
            for k, v in batch:
                got = r.read()
                if got != "OK":
                    ERRORS.append("SET %s -> %r" % (k, got))
                    return
                acked.append((k, v))
            counter_acks.append(r.read())
            i += 8
    except (ConnectionError, OSError):
        pass  # the server was killed


def mc_writer(port, tid, acked, stop):
    try:
        m = Memc(port)
        i = 0
        while not stop.is_set():
            k, v = b"m%d:%d" % (tid, i), b"mv%d:%d" % (tid, i)
            got = m.line(b"set %s %d 0 %d\r\n%s\r\n" % (k, i % 1000, len(v), v))
            if got != b"STORED\r\n":
                ERRORS.append("memcached set %r -> %r" % (k, got))
                return
            acked.append((k, v, i % 1000))
            i += 1
    except (ConnectionError, OSError):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--clients", type=int, default=4)
    a = ap.parse_args()
    p = a.base_port
    kvs = rum_kvs("durable", p, p + 1, ["--sync", "always", "--cache-mb", "8"])
    acked, macked, counter_acks = [], [], []
    stop = threading.Event()
    threads = [threading.Thread(target=resp_writer, args=(p, t, acked, counter_acks, stop)) for t in range(a.clients)]
    threads += [threading.Thread(target=mc_writer, args=(p + 1, t, macked, stop)) for t in range(2)]
    for t in threads:
        t.start()
    time.sleep(a.seconds)
    kvs.kill()  # SIGKILL in the middle of the load
    stop.set()
    for t in threads:
        t.join(10)
    if ERRORS:
        fail("writers saw: %s" % ERRORS[:3])
    if len(acked) < 100 or len(macked) < 20:
        fail("too few acknowledged writes to judge: %d RESP, %d memcached" % (len(acked), len(macked)))
    kvs = rum_kvs("durable", p, p + 1, ["--cache-mb", "8"])
    try:
        r, m = Resp(p), Memc(p + 1)
        lost = []
        for i in range(0, len(acked), 500):
            chunk = acked[i:i + 500]
            r.s.sendall(b"".join(resp_encode("GET", k) for k, _ in chunk))
            for k, v in chunk:
                got = r.read()
                if got != v.encode():
                    lost.append((k, v, got))
        for k, v, fl in macked:
            if m.get(k) != (v, fl):
                lost.append((k, v, m.get(k)))
        if lost:
            fail("%d acknowledged writes lost after SIGKILL, e.g. %r" % (len(lost), lost[:5]))
        top = max(counter_acks) if counter_acks else 0
        have = int(r.cmd("GET", "counter") or 0)
        if have < top:
            fail("counter is %d after the restart, a client was told %d" % (have, top))
        print("PASS: %d RESP and %d memcached acknowledged writes, counter %d (>= %d), all there after SIGKILL"
              % (len(acked), len(macked), have, top))
    finally:
        kvs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
