#!/usr/bin/env python3
"""F3b: the throughput overflow of F3 from packets alone, no counters: a SYN,
then 18,000 data segments (the same one sent again) of 65,495 bytes (IP total length 65,535, 54 bytes
captured) one nanosecond later. 1.18e9 bytes in 1 ns is 9.4e18 bit/s, over
INT64_MAX. python3 F3b-gen.py | gzip -9 > F3b-avg_bps-from-packets.pcap.gz"""
import struct, sys
T = 1700000000 * 10**9
out = [struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)]
def rec(t, frame, wirelen):
    out.append(struct.pack('<IIII', t // 10**9, t % 10**9, len(frame), wirelen) + frame)
def seg(seq, flags, iplen):
    ip = bytes([0x45, 0]) + struct.pack('>H', iplen) + b'\0\0\x40\0\x40\x06\0\0' + bytes([198, 18, 0, 1, 198, 18, 0, 2])
    tcp = struct.pack('>HHIIBBHHH', 50000, 49152, seq, 1, 0x50, flags, 65535, 0, 0)
    return b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip + tcp
rec(T, seg(0, 0x02, 40), 54)
for k in range(18000):
    rec(T + 1, seg(1, 0x18, 65535), 14 + 65535)
sys.stdout.buffer.write(b''.join(out))
