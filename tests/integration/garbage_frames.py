#!/usr/bin/env python3
"""Bad input over the wire: send a node thousands of malformed datagrams (random
bytes, truncated and corrupted copies of a valid frame, huge lengths), then check with
rumctl that it still answers, counted the drops, and holds nothing it should not.
Usage: garbage_frames.py BIN_DIR HOST PORT"""
import json
import os
import random
import socket
import struct
import subprocess
import sys

bin_dir, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(4242)


def rumctl(*args):
    out = subprocess.run([os.path.join(bin_dir, "rumctl"), "--json", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout


def stats():
    rc, out = rumctl("stats", "1")
    if rc != 0:
        sys.exit(f"FAIL: rumctl stats exit {rc}")
    return json.loads(out)


def header(msg_type, payload_len, msg_len=None, frag=(0, 1), offset=0):
    """A RUM frame header (src/proto/wire.h layout) with a zero checksum and tag."""
    msg_len = payload_len if msg_len is None else msg_len
    return struct.pack("<IBBHIHHQQQIII I16s", 0x314D5552, 1, msg_type, 0, 7, frag[0], frag[1],
                       0xABCDEF, rng.getrandbits(40), 0, msg_len, offset, payload_len, 0, b"\0" * 16)


before = stats()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = 0
for i in range(20000):
    kind = i % 5
    if kind == 0:
        data = rng.randbytes(rng.randint(0, 1500))
    elif kind == 1:  # right magic, random rest
        data = struct.pack("<I", 0x314D5552) + rng.randbytes(rng.randint(0, 200))
    elif kind == 2:  # plausible header, lengths that lie
        body = rng.randbytes(rng.randint(0, 64))
        data = header(rng.randint(0, 20), rng.randint(0, 1 << 20), rng.randint(0, 1 << 30),
                      (rng.randint(0, 5), rng.randint(0, 5)), rng.randint(0, 1 << 20)) + body
    elif kind == 3:  # consistent header, wrong checksum
        body = rng.randbytes(rng.randint(0, 64))
        data = header(rng.randint(1, 13), len(body)) + body
    else:  # a header with one byte flipped
        body = rng.randbytes(20)
        h = bytearray(header(4, len(body)))
        h[rng.randrange(len(h))] ^= 0xFF
        data = bytes(h) + body
    sock.sendto(data, (host, port))
    sent += 1
# The node may still be working through its socket buffer: wait until the count settles.
import time
deadline = time.time() + 10
dropped, last = 0, -1
while time.time() < deadline:
    dropped = stats()["drops"] - before["drops"]
    if dropped >= sent or dropped == last:
        break
    last = dropped
    time.sleep(0.5)
print(f"sent {sent} malformed datagrams; the node dropped {dropped} and still answers")
if dropped < sent * 0.9:
    sys.exit(f"FAIL: only {dropped} of {sent} malformed frames were counted as dropped")
rc, out = rumctl("status")
if rc != 0:
    sys.exit(f"FAIL: rumctl status exit {rc} after the garbage:\n{out}")
if json.loads(out)["nodes"][0]["regions"] != 0:
    sys.exit("FAIL: garbage created regions")
print("PASS")
