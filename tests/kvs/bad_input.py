#!/usr/bin/env python3
"""rum-kvs against bad and hostile clients, over both protocols: malformed RESP and
memcached lines, huge declared lengths, binary keys with NUL and CR LF, 5000
connections opened and dropped, and a client that sends without ever reading its
replies. After each the server must be up, its RSS bounded, and a new client
answered.

    bad_input.py --base-port P
Ports: P (RESP), P+1 (memcached)."""
import argparse
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvstest import Memc, Resp, fail, resp_encode, rum_kvs  # noqa: E402

RSS_LIMIT_KB = 400 * 1024  # far below the 1 GB a declared length asks for


def exchange(port, data, wait=5.0):
    """Send data, read until the server closes or `wait` passes; (reply, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    out, closed = b"", False
    end = time.monotonic() + wait
    try:
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed


class Checks:
    def __init__(self, kvs, port):
        self.kvs, self.port = kvs, port

    def healthy(self, what):
        if not self.kvs.alive():
            fail("rum-kvs died after %s" % what)
        rss = self.kvs.rss_kb()
        if rss > RSS_LIMIT_KB:
            fail("rum-kvs RSS %d kB after %s" % (rss, what))
        r = Resp(self.port)
        if r.cmd("PING") != "PONG":
            fail("no PONG after %s" % what)
        r.close()


def malformed_resp(ck, p):
    cases = [
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*2\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"set \"a b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$1073741824\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"x" * (70 * 1024), b"-ERR Protocol error: too big inline request\r\n"),
    ]
    for data, want in cases:
        out, closed = exchange(p, data)
        if out != want or not closed:
            fail("RESP %r -> %r (closed %s), want %r and a close" % (data[:40], out[:100], closed, want))
    ck.healthy("malformed RESP")
    # A legal 400 MB bulk declared, 1 MB of it sent, then the client goes away: the
    # server must not have taken the 400 MB.
    s = socket.create_connection(("127.0.0.1", p))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$419430400\r\n" + b"x" * (1 << 20))
    time.sleep(0.3)
    ck.healthy("a 400 MB bulk left unfinished")
    s.close()


def malformed_memcached(ck, p):
    m = p + 1
    cases = [
        (b"bogus\r\nget\r\n\r\nset k 0 0\r\nincr k x\r\n",
         b"ERROR\r\nERROR\r\nERROR\r\nERROR\r\nCLIENT_ERROR invalid numeric delta argument\r\n", False),
        (b"set k 0 0 5\r\n123456789\r\n", b"CLIENT_ERROR bad data chunk\r\nERROR\r\n", False),
        (b"set " + b"k" * 3000, b"", True),                      # junk line: closed
        (b"set k 0 0 1073741824\r\n" + b"x" * (2 << 20), b"SERVER_ERROR object too large for cache\r\n", False),
        (b"set k 0 0 -1\r\n", b"CLIENT_ERROR bad command line format\r\n", False),
        (b"get " + b"k " * 2000 + b"\r\n", b"END\r\n", False),   # a 4 kB multiget is fine
    ]
    for data, want, want_closed in cases:
        out, closed = exchange(m, data, wait=1.0)
        if out != want or closed != want_closed:
            fail("memcached %r -> %r (closed %s), want %r (closed %s)" % (data[:40], out[:100], closed, want,
                                                                        want_closed))
    ck.healthy("malformed memcached lines")


def binary_keys(ck, p):
    r = Resp(p)
    keys = [b"a\x00b", b"\r\n", b"x\r\ny\x00z", b"\x00", bytes(range(256))]
    for i, k in enumerate(keys):
        v = b"\x00\r\nv%d\r\n\x00" % i
        if r.cmd("SET", k, v) != "OK" or r.cmd("GET", k) != v:
            fail("binary key %r" % k)
    if r.cmd("EXISTS", *keys) != len(keys) or r.cmd("DEL", *keys) != len(keys):
        fail("EXISTS/DEL of binary keys")
    # Inline requests with escapes reach the same keys.
    r.s.sendall(b'SET "q\\x00\\r\\n" "w"\r\n')
    if r.read() != "OK" or r.cmd("GET", b"q\x00\r\n") != b"w":
        fail("inline escaped binary key")
    m = Memc(p + 1)
    if m.line(b"set k\x01\x02\xff 0 0 2\r\n\r\n\r\n") != b"STORED\r\n" or r.cmd("GET", b"k\x01\x02\xff") != b"\r\n":
        fail("memcached key with control bytes, value CR LF")
    r.close()
    m.close()
    ck.healthy("binary keys")


def many_connections(ck, p, n=5000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 200), hard))
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", p + (i % 2)))
        if i % 3 == 0:
            s.sendall(b"*3\r\n$3\r\nSET\r\n" if i % 2 == 0 else b"set half")  # half a request
        socks.append(s)
    r = Resp(p)
    if r.cmd("PING") != "PONG":
        fail("no PONG with %d clients connected" % n)
    for s in socks:
        s.close()
    end = time.monotonic() + 15
    while True:
        info = r.cmd("INFO", "clients").decode()
        conn = int(info.split("connected_clients:")[1].split("\r\n")[0])
        if conn == 1:
            break
        if time.monotonic() > end:
            fail("%d clients still connected 15 s after %d were dropped" % (conn, n))
        time.sleep(0.1)
    r.close()
    ck.healthy("%d connections opened and dropped" % n)


def never_reads(ck, p):
    r = Resp(p)
    r.cmd("SET", "big", b"b" * (1 << 20))
    base = ck.kvs.rss_kb()
    s = socket.create_connection(("127.0.0.1", p))
    s.setblocking(False)
    req = resp_encode("GET", "big") * 64
    sent, stuck_since, dropped = 0, None, False
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            sent += s.send(req)
            stuck_since = None
        except BlockingIOError:
            stuck_since = stuck_since or time.monotonic()
            if time.monotonic() - stuck_since > 0.5:
                break  # the server stopped reading us
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
            break
    rss = ck.kvs.rss_kb()
    if rss - base > 200 * 1024:
        fail("RSS grew by %d kB for a client that does not read" % (rss - base))
    if r.cmd("PING") != "PONG":
        fail("no PONG while a client does not read")
    # The server drops it once it has read nothing for a while.
    end = time.monotonic() + 20
    while not dropped and time.monotonic() < end:
        try:
            s.send(req)
        except BlockingIOError:
            time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
    s.close()
    if not dropped:
        fail("a client that never reads was not dropped within 20 s")
    ck.healthy("a client that never reads (sent %d MB of requests)" % (sent >> 20))
    r.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-port", type=int, required=True)
    a = ap.parse_args()
    p = a.base_port
    kvs = rum_kvs("badinput", p, p + 1, ["--cache-mb", "16"])
    try:
        ck = Checks(kvs, p)
        malformed_resp(ck, p)
        malformed_memcached(ck, p)
        binary_keys(ck, p)
        many_connections(ck, p)
        never_reads(ck, p)
        print("PASS: RSS %d kB at the end" % kvs.rss_kb())
    finally:
        kvs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
