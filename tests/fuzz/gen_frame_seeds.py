#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_dpdk_frame (tests/fuzz/corpus/dpdk_frame/) and
fuzz_machines (tests/fuzz/corpus/machines/).

Frames are built here from the RFCs' layouts (Ethernet II, IPv4 RFC 791, UDP RFC 768,
ARP RFC 826), independently of src/net/dpdk_frame.c: valid UDP frames (checksum none
and filled in, with a RUM frame from the proto corpus as payload, with Ethernet
padding, with IPv4 options), ARP request and reply, and near misses (bad IPv4
checksum, UDP length off by one, truncated, IPv6, VLAN tag). Run it again after
changing either format:
    python3 tests/fuzz/gen_frame_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
IP_A = bytes([10, 0, 0, 1])
IP_B = bytes([10, 0, 0, 2])


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(payload, proto=17, options=b"", good_checksum=True):
    ihl = 5 + len(options) // 4
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 1, 0x4000, 64, proto, 0,
                       IP_A, IP_B) + options
    csum = inet_checksum(head) ^ (0 if good_checksum else 0x1234)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def udp(payload, sport=7001, dport=7002, checksum=False, length_delta=0):
    length = 8 + len(payload) + length_delta
    head = struct.pack("!HHHH", sport, dport, length, 0)
    if checksum:
        pseudo = IP_A + IP_B + struct.pack("!BBH", 0, 17, 8 + len(payload))
        c = inet_checksum(pseudo + head + payload) or 0xFFFF
        head = head[:6] + struct.pack("!H", c)
    return head + payload


def ether(payload, ethertype=0x0800, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def arp(op):
    target_mac = b"\0" * 6 if op == 1 else MAC_B
    return ether(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, MAC_A, IP_A, target_mac, IP_B), 0x0806,
                 dst=b"\xff" * 6 if op == 1 else MAC_B)


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def frames():
    out = os.path.join(HERE, "corpus", "dpdk_frame")
    with open(os.path.join(HERE, "corpus", "proto", "read-req-mac.bin"), "rb") as f:
        rum = f.read()
    write(out, "udp-rum.bin", ether(ipv4(udp(rum))))
    write(out, "udp-rum-checksum.bin", ether(ipv4(udp(rum, checksum=True))))
    write(out, "udp-empty.bin", ether(ipv4(udp(b""))))
    small = ether(ipv4(udp(b"ping")))
    write(out, "udp-padded.bin", small + b"\0" * (60 - len(small)))
    write(out, "udp-ip-options.bin", ether(ipv4(udp(rum), options=b"\x01\x01\x01\x00")))
    write(out, "arp-request.bin", arp(1))
    write(out, "arp-reply.bin", arp(2))
    write(out, "bad-ip-checksum.bin", ether(ipv4(udp(rum), good_checksum=False)))
    write(out, "bad-udp-length.bin", ether(ipv4(udp(rum, length_delta=1))))
    write(out, "truncated.bin", ether(ipv4(udp(rum)))[:40])
    write(out, "tcp.bin", ether(ipv4(b"\0" * 20, proto=6)))
    write(out, "ipv6.bin", ether(b"\x60" + b"\0" * 39, 0x86DD))
    write(out, "vlan.bin", ether(b"\x00\x01\x08\x00" + ipv4(udp(b"x")), 0x8100))


def machines():
    out = os.path.join(HERE, "corpus", "machines")
    write(out, "basic.csv", b"1,127.0.0.1,7001\n2,127.0.0.1,7002\n3,127.0.0.1,7003\n")
    write(out, "full.csv", b"# id,host,port[,mac[,dpdk_dev[,weight]]]\n"
          b"1,10.0.0.1,7001,02:00:00:00:00:01,net_memif0,1\n"
          b"2,10.0.0.2,7001,02:00:00:00:00:02,,2   # twice the share\n"
          b"3,10.0.0.3,7001\n")
    write(out, "settings.csv", b"1,127.0.0.1,7001\nkey_file=cluster.key\nlease_ms=5000\nheartbeat_ms=500\n"
          b"replication=3\nmtu=1472\ntransport=udp\n")
    write(out, "crlf-comments.csv", b"# cluster\r\n\r\n1, 127.0.0.1 ,7001\r\n  # indented\r\n2,localhost,7002\r\n")
    write(out, "bad-duplicate.csv", b"1,127.0.0.1,7001\n1,127.0.0.1,7002\n")
    write(out, "bad-port.csv", b"1,127.0.0.1,70000\n")
    write(out, "bad-setting.csv", b"1,127.0.0.1,7001\nlease_ms=abc\nbogus=1\n")


if __name__ == "__main__":
    frames()
    machines()
