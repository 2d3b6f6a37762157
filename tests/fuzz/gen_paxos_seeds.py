#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_paxos (tests/fuzz/corpus/paxos/).

Messages are built here from paxos_wire.h's layout, independently of the C encoder;
each seed is a conversation with replica 0 of a three-member group (group 0), as
u16-length-prefixed messages: recovery answers that let it join, then elections,
accepts, commits, catch-up and state transfer. Run again after changing the format:
    python3 tests/fuzz/gen_paxos_seeds.py
"""
import os
import struct

(PREPARE, PROMISE, ACCEPT, ACCEPTED, CATCHUP_REQ, CATCHUP, SNAP_REQ, SNAP_PIECE,
 RECOVER_REQ, RECOVER_RESP) = range(1, 11)
F_OK, F_MORE, F_LAG, F_SNAP, F_START, F_DONE, F_VOTER, F_LEADER, F_NOSTATE = (1 << i for i in range(9))
DECIDED = 1


def entry(ballot, origin, tag, value, flags=0):
    return struct.pack("<QQQIB3x", ballot, origin, tag, len(value), flags) + value


def msg(mtype, frm, flags=0, entries=(), inc=None, ballot=0, commit=0, applied=0,
        first=0, echo=0, extra=0, extra2=0, data=b""):
    inc = inc if inc is not None else 100 + frm
    head = struct.pack("<BBBBHHQQQQQQQQQII", 1, mtype, frm, 0, flags, len(entries), 0, inc,
                       ballot, commit, applied, first, echo, extra, extra2, len(data), 0)
    assert len(head) == 88
    return head + b"".join(entries) + data


def conv(*msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


def join():
    return [msg(RECOVER_RESP, 1), msg(RECOVER_RESP, 2)]


B1 = (1 << 8) | 1
SEEDS = {
    "join-empty": conv(*join()),
    "follow-accept": conv(*join(), msg(ACCEPT, 1, ballot=B1, first=1, echo=5,
                                       entries=[entry(B1, 101, 1, b"abcd"), entry(B1, 101, 2, b"")]),
                          msg(ACCEPT, 1, ballot=B1, first=3, commit=2, echo=9)),
    "prepare": conv(*join(), msg(PREPARE, 2, ballot=(2 << 8) | 2, first=1, extra=17)),
    "promise": conv(*join(), msg(PROMISE, 1, flags=F_OK, ballot=(1 << 8), first=1, extra=1,
                                 entries=[entry(B1, 101, 7, b"xy", DECIDED)])),
    "catchup": conv(*join(), msg(CATCHUP, 1, first=1, commit=2,
                                 entries=[entry(B1, 101, 1, b"a", DECIDED), entry(B1, 101, 2, b"b", DECIDED)])),
    "snapshot": conv(msg(RECOVER_RESP, 1, flags=F_VOTER | F_LEADER, ballot=B1, extra=B1, first=4),
                     msg(RECOVER_RESP, 2, flags=F_VOTER, ballot=B1, first=4),
                     msg(SNAP_PIECE, 1, ballot=B1, extra=3, first=4, echo=0, extra2=2, data=b"\1" * 16),
                     msg(SNAP_PIECE, 1, flags=F_DONE, ballot=B1, extra=3, first=4, echo=2, extra2=8,
                         data=b"\2" * 8)),
    "requests": conv(*join(), msg(RECOVER_REQ, 2), msg(CATCHUP_REQ, 2, first=1),
                     msg(SNAP_REQ, 2, flags=F_START), msg(ACCEPTED, 2, flags=F_OK, ballot=B1, first=1, extra=1)),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "paxos")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
