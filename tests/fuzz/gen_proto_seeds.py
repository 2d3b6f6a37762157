#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_proto (tests/fuzz/corpus/proto/).

The frames are built here from wire.h's layout, independently of the C encoders,
so the seeds double as a cross-check of the format: each must open and decode.
Run it again after changing the wire format:
    python3 tests/fuzz/gen_proto_seeds.py
"""
import hmac
import hashlib
import os
import struct

HEADER = 72
MAGIC = 0x314D5552
VERSION = 1
PAGE = 4096
F_RESPONSE, F_MAC = 1, 2
# Must match raw_key in fuzz_proto.c.
KEY = b"rum-fuzz-key-0123456789abcdefghi"

(HELLO, ALLOC, FREE, READ, WRITE, STAT, HEARTBEAT, ERROR, ATTACH, RESIZE, COPY,
 REGIONS, PING) = range(1, 14)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def frame(msg_type, payload, flags=0, key=None, seq=1, frag=None):
    """One frame; frag = (index, count, offset, msg_len) for a slice of a message."""
    index, count, offset, msg_len = frag or (0, 1, 0, len(payload))
    if key is not None:
        flags |= F_MAC
    head = struct.pack("<IBBHIHHQQQIII", MAGIC, VERSION, msg_type, flags, 0x1234, index, count,
                       0xC0FFEE, seq, seq - 1, msg_len, offset, len(payload))
    zero_tail = b"\0" * 4 + b"\0" * 16  # checksum, tag
    tag = b"\0" * 16
    if key is not None:
        tag = hmac.new(key, head + zero_tail + payload, hashlib.sha256).digest()[:16]
    crc = crc32c(head + b"\0" * 4 + tag + payload)
    out = head + struct.pack("<I", crc) + tag + payload
    assert len(out) == HEADER + len(payload)
    return out


def pages(n, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(n * PAGE))


def seeds():
    hello_req = struct.pack("<IIII", 1, 1, 1472, 5000)
    hello_resp = struct.pack("<IIIIQQQ", 3, PAGE, 3000, 1472, 77, 1 << 30, 1 << 20)
    alloc_req = struct.pack("<QQQIH", 0x1234, 1 << 20, 1 << 20, 2, 0)  # pinned, unnamed, reserved
    read_req = struct.pack("<QQI", 0x1234, 8, 4)
    read_resp = struct.pack("<QQI", 0x1234, 8, 1) + pages(1, 3)
    write_req = struct.pack("<QIQ", 0x1234, 1, 9) + pages(1, 5)
    stat_fixed = [3, 2] + [77, 1000, 1 << 30, 1 << 20, 5, 1, 2] + list(range(15)) + [10, 20, 1, 2, 0, 0, 1]
    stat_fixed += [3, 1, 2, 1, 4]  # access_denied, no_region, out_of_range, oversized, quota_denied
    stat_resp = (struct.pack("<II" + "Q" * (len(stat_fixed) - 2), *stat_fixed)
                 + struct.pack("<IIQ", 1, 1, 20) + struct.pack("<IIQ", 2, 0, 2**64 - 1))
    error = struct.pack("<iH", -1000, 9) + b"malformed"
    attach_req = struct.pack("<H", 6) + b"orders"
    attach_resp = struct.pack("<QQI", (1 << 63) | 0xABC, 1 << 20, 1)
    regions_resp = (struct.pack("<II", 5, 2)
                    + struct.pack("<QQQQIIH", 0x10, 4096, 4096, 0xC0FFEE, 7, 0, 0)
                    + struct.pack("<QQQQIIH", 0x11, 8192, 0, 0xC0FFEE, 7, 2, 0))
    yield "hello-req", frame(HELLO, hello_req)
    yield "hello-resp", frame(HELLO, hello_resp, F_RESPONSE)
    yield "alloc-req", frame(ALLOC, alloc_req)
    yield "alloc-resp-mac", frame(ALLOC, struct.pack("<QQ", 0x1234, 1 << 20), F_RESPONSE, key=KEY)
    yield "free-req", frame(FREE, struct.pack("<Q", 0x1234))
    yield "read-req-mac", frame(READ, read_req, key=KEY)
    yield "read-resp", frame(READ, read_resp, F_RESPONSE)
    yield "write-req-mac", frame(WRITE, write_req, key=KEY)
    yield "write-resp", frame(WRITE, struct.pack("<I", 1), F_RESPONSE)
    yield "stat-req", frame(STAT, b"")
    yield "stat-resp", frame(STAT, stat_resp, F_RESPONSE)
    yield "heartbeat-req", frame(HEARTBEAT, struct.pack("<II", 1, 3))
    yield "heartbeat-resp", frame(HEARTBEAT, struct.pack("<QII", 77, 3000, 1), F_RESPONSE)
    yield "error", frame(ERROR, error, F_RESPONSE)
    yield "attach-req", frame(ATTACH, attach_req)
    yield "attach-resp", frame(ATTACH, attach_resp, F_RESPONSE)
    yield "resize-req", frame(RESIZE, struct.pack("<QQQ", 0x1234, 1 << 21, 1 << 20))
    yield "copy-req", frame(COPY, struct.pack("<QQQQ", 0x1234, 0x1235, 0, 256))
    yield "regions-req", frame(REGIONS, struct.pack("<II", 0, 0))
    yield "regions-resp", frame(REGIONS, regions_resp, F_RESPONSE)
    yield "ping-mac", frame(PING, b"", key=KEY)
    # The middle frame of a three-frame WRITE request.
    yield "write-frag", frame(WRITE, pages(1, 9)[:1400], frag=(1, 3, 1400, 4116), flags=4)
    # Bare payloads: the first byte picks the decoder (fuzz_proto.c's messages[]).
    yield "msg-hello-resp", bytes([1]) + hello_resp
    yield "msg-write-req", bytes([7]) + write_req
    yield "msg-stat-resp", bytes([9]) + stat_resp
    yield "msg-regions-resp", bytes([18]) + regions_resp


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "proto")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
