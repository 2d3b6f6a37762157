#!/usr/bin/env python3
"""A 1 GiB object through rum-s3 with a 32 MiB page cache (run under with_cluster.sh):
streamed up (UNSIGNED-PAYLOAD, so no client-side hashing pass) and down again with the
MD5 compared, while the gateway's resident memory is sampled: it must stay far below
the object's size. Then a restart on the same store still serves it.

usage: big_object_test.py PORT [MiB]"""
import hashlib
import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3client import Client, Gateway  # noqa: E402

port = int(sys.argv[1])
mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
size = mib << 20
store = "s3big-%d" % os.getpid()
gw = Gateway(port, store)
peak = [0]
stop = threading.Event()


def sample():
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], gw.rss_kb())
        except OSError:
            pass
        time.sleep(0.05)


def block(i):
    return hashlib.sha256(b"%d" % i).digest() * 2048  # 64 KiB, position-dependent


threading.Thread(target=sample, daemon=True).start()
c = Client(port)
ok = True
try:
    assert c.request("PUT", "/big").status == 200
    hdrs, *_ = c.sign_v4("PUT", "/big/obj", [], {"content-length": str(size)}, "UNSIGNED-PAYLOAD")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.putrequest("PUT", "/big/obj", skip_host=True, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders()
    md5 = hashlib.md5()
    t0 = time.time()
    for i in range(size // 65536):
        b = block(i)
        md5.update(b)
        conn.send(b)
    r = conn.getresponse()
    r.read()
    up = time.time() - t0
    ok &= r.status == 200 and r.getheader("etag") == '"%s"' % md5.hexdigest()
    print("PUT %d MiB: %d in %.1f s (%.0f MB/s), etag %s" % (mib, r.status, up, size / up / 1e6, r.getheader("etag")))
    gw.stop()
    gw = Gateway(port, store)
    hdrs, *_ = c.sign_v4("GET", "/big/obj", [], {}, hashlib.sha256(b"").hexdigest())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", "/big/obj", headers=hdrs)
    r = conn.getresponse()
    got, n, t0 = hashlib.md5(), 0, time.time()
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        got.update(b)
        n += len(b)
    down = time.time() - t0
    ok &= r.status == 200 and n == size and got.hexdigest() == md5.hexdigest()
    print("GET after restart: %d bytes in %.1f s (%.0f MB/s), md5 %s" % (n, down, size / down / 1e6,
                                                                      "same" if got.hexdigest() == md5.hexdigest() else "DIFFERENT"))
finally:
    stop.set()
    gw.kill()
print("gateway peak RSS %d MiB for a %d MiB object" % (peak[0] >> 10, mib))
ok &= peak[0] < 256 * 1024 and peak[0] < size // 1024 // 2
print("big_object_test:", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
