#!/usr/bin/env python3
"""Makes the fuzz targets' seed corpus (tests/fuzz/corpus/) from the fixtures:
small captures that still hold a migration, so that mutations start from
inputs reaching the whole analysis, not from the reader's error paths.

    tests/fuzz/mkseeds.py BUILD      (BUILD/migscope for the report JSONs)

A dev tool, run by hand when the fixtures change; the corpus it writes is
committed and `make test` replays it. Each capture keeps, around the end of
its migration stream: every frame that is not stream TCP (probes, ARP,
RARP, ND) within a window, every SYN/FIN/RST of the stream, its first and
last data segments and one in STRIDE of the rest, each cut to SNAP bytes.
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'tests', 'fuzz', 'corpus')
SNAP = 128
STRIDE = 250
KEEP_ENDS = 6           # first and last data segments per flow direction
BEFORE_NS = 150 * 10**6  # other frames kept from this before the stream's end
AFTER_NS = 900 * 10**6   # to this after it: QEMU's five announce rounds
PROBE_STRIDE = 6
SEP = b'MSCAPSEP'       # tests/fuzz/fuzz_analyze_multi.c
HDR = 24


def read_pcap(path):
    raw = open(path, 'rb').read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    magic = struct.unpack('<I', raw[:4])[0]
    nano = {0xa1b23c4d: True, 0xa1b2c3d4: False}[magic]
    link = struct.unpack('<I', raw[20:24])[0]
    off, recs = 24, []
    while off + 16 <= len(raw):
        sec, frac, cap, wire = struct.unpack('<IIII', raw[off:off + 16])
        data = raw[off + 16:off + 16 + cap]
        recs.append((sec * 10**9 + (frac if nano else frac * 1000), wire, data))
        off += 16 + cap
    return link, recs


def write_pcap(path, link, recs, nano=True):
    out = [struct.pack('<IHHiIII', 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 65535, link)]
    for ts, wire, data in recs:
        frac = ts % 10**9 if nano else ts % 10**9 // 1000
        out.append(struct.pack('<IIII', ts // 10**9, frac, len(data), wire) + data)
    open(path, 'wb').write(b''.join(out))


def tcp_of(data):
    """(flow key, flags, payload length) of a plain or VLAN-tagged Ethernet
    IPv4/IPv6 TCP frame, or None (tunnelled frames count as other frames)."""
    off, et = 12, None
    while off + 2 <= len(data):
        et = struct.unpack('>H', data[off:off + 2])[0]
        if et in (0x8100, 0x88a8):
            off += 4
            continue
        off += 2
        break
    if et == 0x0800 and len(data) >= off + 20 and data[off + 9] == 6:
        ihl = (data[off] & 15) * 4
        iplen = struct.unpack('>H', data[off + 2:off + 4])[0]
        src, dst, l4 = data[off + 12:off + 16], data[off + 16:off + 20], off + ihl
        plen = iplen - ihl
    elif et == 0x86dd and len(data) >= off + 40 and data[off + 6] == 6:
        src, dst, l4 = data[off + 8:off + 24], data[off + 24:off + 40], off + 40
        plen = struct.unpack('>H', data[off + 4:off + 6])[0]
    else:
        return None
    if len(data) < l4 + 14:
        return None
    sp, dp = struct.unpack('>HH', data[l4:l4 + 4])
    doff, flags = data[l4 + 12] >> 4, data[l4 + 13]
    return (src, sp, dst, dp), flags, plen - doff * 4


def echo_seq(data):
    """The sequence number of a plain Ethernet ICMP/ICMPv6 echo, or None."""
    et = struct.unpack('>H', data[12:14])[0] if len(data) >= 14 else 0
    if et == 0x0800 and len(data) >= 42 and data[23] == 1:
        l4 = 14 + (data[14] & 15) * 4
        ok = len(data) >= l4 + 8 and data[l4] in (0, 8)
    elif et == 0x86dd and len(data) >= 62 and data[20] == 58:
        l4 = 54
        ok = data[l4] in (128, 129)
    else:
        return None
    return struct.unpack('>H', data[l4 + 6:l4 + 8])[0] if ok else None


def stream_end(recs):
    ends = [recs[i][0] for i, (_, _, d) in enumerate(recs) if (tcp_of(d) or (0, 0, 0))[2] > 0]
    return max(ends) if ends else None


def trim(recs, end=None):
    """end: the stream's end, for a capture without the stream (the prober)."""
    tcp = [(i, tcp_of(d)) for i, (_, _, d) in enumerate(recs)]
    data_idx = {}
    for i, t in tcp:
        if t and t[2] > 0:
            data_idx.setdefault(t[0], []).append(i)
    if data_idx:
        end = max(recs[v[-1]][0] for v in data_idx.values())
    keep = set()
    for idx in data_idx.values():
        keep.update(idx[:KEEP_ENDS] + idx[-KEEP_ENDS:] + idx[::STRIDE])
    for i, t in tcp:
        ts = recs[i][0]
        if t is None:
            seq = echo_seq(recs[i][2])
            # probes: all around the switchover, one in PROBE_STRIDE besides
            near = end - 50 * 10**6 <= ts <= end + 150 * 10**6
            if end - BEFORE_NS <= ts <= end + AFTER_NS and (
                    seq is None or near or seq % PROBE_STRIDE == 0):
                keep.add(i)
        elif t[1] & 0x07:  # FIN, SYN, RST
            keep.add(i)
        elif t[2] <= 0 and i % STRIDE == 0:
            keep.add(i)  # a bare ACK now and then, for the clock alignment
    return [(ts, wire, data[:SNAP]) for i, (ts, wire, data) in enumerate(recs) if i in keep]


def cooked(recs, v2):
    """Ethernet frames as Linux cooked captures (SLL 113, SLL2 276)."""
    out = []
    for ts, wire, d in recs:
        proto, l3 = d[12:14], d[14:]
        if v2:
            hdr = proto + b'\0\0' + struct.pack('>IHBB', 3, 1, 4, 6) + d[6:12] + b'\0\0'
        else:
            hdr = struct.pack('>HHH', 4, 1, 6) + d[6:12] + b'\0\0' + proto
        out.append((ts, wire - 14 + len(hdr), hdr + l3))
    return out


def pcapng(recs):
    """Ethernet pcapng, nanosecond if_tsresol, one EPB per (stamp, frame)."""
    def blk(t, body):
        body += bytes(-len(body) % 4)
        return struct.pack('<II', t, len(body) + 12) + body + struct.pack('<I', len(body) + 12)
    out = [blk(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)),
           blk(1, struct.pack('<HHI', 1, 0, 65535) + struct.pack('<HHB3x', 9, 1, 9) + bytes(4))]
    for t, f in recs:
        out.append(blk(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(f), len(f)) + f))
    return b''.join(out)


def domain_edges():
    """A stream, a RARP and probes at the first and last nanoseconds of the
    time domain, and spread over all of it."""
    gm, cm, h = bytes.fromhex('525400123456'), bytes([2, 0, 0, 0, 0, 10]), bytes([2, 0, 0, 0, 0, 1])

    def ip4(s, d, p, pl):
        return (bytes([0x45, 0]) + struct.pack('>H', 20 + len(pl)) + b'\0\0\x40\0\x40' +
                bytes([p]) + b'\0\0' + bytes(s) + bytes(d) + pl)

    def seg(seq, fl, data=b''):
        tcp = struct.pack('>HHIIBBHHH', 50000, 49152, seq, 1, 0x50, fl, 65535, 0, 0) + data
        return h + h + b'\x08\x00' + ip4([198, 18, 0, 1], [198, 18, 0, 2], 6, tcp)

    def rarp():
        return b'\xff' * 6 + gm + b'\x80\x35\x00\x01\x08\x00\x06\x04\x00\x03' + gm + bytes(4) + gm + bytes(4)

    def echo(req, seq):
        pl = bytes([8 if req else 0, 0, 0, 0]) + struct.pack('>HH', 7, seq) + b'x' * 8
        ctl, guest = [198, 18, 0, 10], [198, 18, 0, 100]
        return ((gm + cm if req else cm + gm) + b'\x08\x00' +
                ip4(ctl if req else guest, guest if req else ctl, 1, pl))

    top, mid = (1 << 62) - 1, (1 << 61)
    stream = [seg(0, 2), seg(1, 0x18, b'QEVM' + bytes(100)), seg(105, 0x18, bytes(1000))]
    first = [(1 + i, f) for i, f in enumerate(stream)] + [
        (top - 1000, rarp()), (top - 500, echo(1, 1)), (top, echo(0, 1))]
    spread = [(1, echo(1, 1)), (2, echo(0, 1))] + [(mid + i, f) for i, f in enumerate(stream)] + [
        (mid + 3, rarp()), (top - 1, echo(1, 2)), (top, echo(0, 2))]
    last = [(top - 100000 + i, f) for i, f in enumerate(stream)]
    for k in range(100):
        last += [(top - 90000 + k, echo(1, k)), (top - 90000 + k, echo(0, k))]
    last += [(top - 5, rarp()), (top, rarp())]
    return {'first-and-last': first, 'spread': spread, 'last': sorted(last, key=lambda r: r[0])}


def migscope_capture(recs, comment):
    """A pcapng as `migscope capture` writes it: shb_userappl "migscope
    capture", the frames, and an ISB whose opt_comment holds the counters."""
    def blk(t, body):
        body += bytes(-len(body) % 4)
        return struct.pack('<II', t, len(body) + 12) + body + struct.pack('<I', len(body) + 12)

    def opt(code, val):
        return struct.pack('<HH', code, len(val)) + val + bytes(-len(val) % 4)
    appl = opt(4, b'migscope capture') + opt(0, b'')
    out = [blk(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + appl),
           blk(1, struct.pack('<HHI', 1, 0, 128) + opt(9, b'\x09') + opt(0, b''))]
    for t, wire, f in recs:
        out.append(blk(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(f), wire) + f))
    end = recs[-1][0]
    out.append(blk(5, struct.pack('<III', 0, end >> 32, end & 0xffffffff) +
                   opt(1, comment.encode()) + opt(0, b'')))
    return b''.join(out)


def many_probes():
    """5,000 probes a millisecond apart (one in nine lost) around a short
    stream: more than the HTML plot keeps (4096), so it thins them."""
    gm, cm, h = bytes.fromhex('525400123456'), bytes([2, 0, 0, 0, 0, 10]), bytes([2, 0, 0, 0, 0, 1])
    t0 = 1700000000 * 10**9

    def ip4(src, dst, p, pl):
        return (bytes([0x45, 0]) + struct.pack('>H', 20 + len(pl)) + b'\0\0\x40\0\x40' +
                bytes([p]) + b'\0\0' + bytes(src) + bytes(dst) + pl)

    def echo(req, seq):
        pl = bytes([8 if req else 0, 0, 0, 0]) + struct.pack('>HH', 9, seq) + b'x' * 8
        ctl, guest = [198, 18, 0, 10], [198, 18, 0, 100]
        return ((gm + cm if req else cm + gm) + b'\x08\x00' +
                ip4(ctl if req else guest, guest if req else ctl, 1, pl))

    def seg(seq, fl, data=b''):
        tcp = struct.pack('>HHIIBBHHH', 50000, 49152, seq, 1, 0x50, fl, 65535, 0, 0) + data
        return h + h + b'\x08\x00' + ip4([198, 18, 0, 1], [198, 18, 0, 2], 6, tcp)
    recs = []
    for k in range(5000):
        t = t0 + k * 10**6
        recs.append((t, echo(True, k)))
        if k % 9:
            recs.append((t + 200000, echo(False, k)))
    recs += [(t0 + 2400 * 10**6, seg(0, 2)), (t0 + 2401 * 10**6, seg(1, 0x18, b'QEVM' + bytes(60)))]
    rarp = b'\xff' * 6 + gm + b'\x80\x35\x00\x01\x08\x00\x06\x04\x00\x03' + gm + bytes(4) + gm + bytes(4)
    recs += [(t0 + 2500 * 10**6 + r, rarp) for r in (3, 53, 203, 453, 803)]
    return [(t, len(f), f) for t, f in sorted(recs, key=lambda r: r[0])]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else 'build'
    for t in ('analyze', 'analyze_multi', 'series'):
        shutil.rmtree(os.path.join(OUT, t), ignore_errors=True)
        os.makedirs(os.path.join(OUT, t))
    syn = os.path.join(ROOT, 'fixtures', 'synthetic')
    lab = os.path.join(ROOT, 'fixtures', 'lab')
    seeds = {}

    def seed(name, path):
        link, recs = read_pcap(path)
        end = stream_end(recs)
        if end is None:  # the prober: the stream's end from the source's capture
            end = stream_end(read_pcap(path.replace('ctl.', 'cn1.').replace('-ctl', '-cn1'))[1])
        seeds[name] = (link, trim(recs, end))
        write_pcap(os.path.join(OUT, 'analyze', name + '.pcap'), link, seeds[name][1])

    for s, h in (('baseline', 'cn1'), ('baseline', 'cn2'), ('baseline', 'ctl'),
                 ('back-and-forth', 'cn1'), ('vlan', 'cn2'), ('qinq', 'cn1'),
                 ('vxlan', 'cn1'), ('geneve', 'cn2'), ('ipv6', 'cn1'),
                 ('lost-announce', 'cn2')):
        p = os.path.join(syn, '%s-%s.pcap' % (s, h))
        seed('syn-%s-%s' % (s, h), p if os.path.exists(p) else p + '.gz')
    for s, h in (('baseline', 'cn1'), ('baseline', 'cn2'), ('baseline', 'ctl'),
                 ('port-not-ready', 'cn1'), ('vxlan', 'cn1'), ('back-and-forth', 'cn2')):
        seed('lab-%s-%s' % (s, h), os.path.join(lab, s, h + '.pcap.gz'))

    # the same capture in the other formats the reader takes
    link, recs = seeds['syn-baseline-cn1']
    a = os.path.join(OUT, 'analyze')
    write_pcap(os.path.join(a, 'syn-baseline-cn1-usec.pcap'), link, recs, nano=False)
    with open(os.path.join(a, 'syn-baseline-cn1.pcap'), 'rb') as f:
        blob = f.read()
    with gzip.GzipFile(os.path.join(a, 'syn-baseline-cn1.pcap.gz'), 'wb', mtime=0) as g:
        g.write(blob)
    subprocess.run(['editcap', '-F', 'pcapng', os.path.join(a, 'syn-baseline-cn1.pcap'),
                    os.path.join(a, 'syn-baseline-cn1.pcapng')], check=True)
    write_pcap(os.path.join(a, 'syn-baseline-cn1-sll.pcap'), 113, cooked(recs, False))
    write_pcap(os.path.join(a, 'syn-baseline-cn1-sll2.pcap'), 276, cooked(recs, True))
    # a migscope capture with its counters: F2's file with times that are times
    f2 = open(os.path.join(ROOT, 'tests', 'fuzz', 'regress', 'F2-counter_time-overflow',
                           'dst.pcapng'), 'rb').read()
    f2 = f2.replace(b'first_ns=1 ', b'first_ns=7 ').replace(
        b'9223372036854775807', b'1699999999070000000')
    open(os.path.join(a, 'migscope-capture-counters.pcapng'), 'wb').write(f2)

    # the agent's capture with every kind of counters line: flows both ways,
    # its retransmit tracer, ring drops, flow-table misses
    link, recs = seeds['syn-baseline-cn1']
    lines = ['migscope-counters v1',
             'iface name=eth0 ifindex=2 attach=tcx frames_in=900 frames_out=1800 events=120 '
             'ring_drops=3 flows_full=1 heads_pulled=0 tai_offset_ns=37000000000 retrans_tracer=yes']
    for sport in (50000, 50001):
        lines.append('flow src=198.18.0.1 sport=%d dst=198.18.0.2 dport=49152 packets=400 '
                     'payload_bytes=579200 wire_bytes=605600 ooo_segments=2 ooo_bytes=2896 '
                     'first_ns=%d last_ns=%d last_data_ns=%d tcp_flags=0x1b dirs=out'
                     % (sport, recs[0][0], recs[-1][0], recs[-1][0] - 5000))
        lines.append('flow src=198.18.0.2 sport=49152 dst=198.18.0.1 dport=%d packets=200 '
                     'payload_bytes=0 wire_bytes=13200 ooo_segments=0 ooo_bytes=0 '
                     'first_ns=%d last_ns=%d tcp_flags=0x10 dirs=in' % (sport, recs[0][0], recs[-1][0]))
        lines.append('retransmits src=198.18.0.1 sport=%d dst=198.18.0.2 dport=49152 '
                     'segments=2 bytes=2896 calls=2' % sport)
    open(os.path.join(a, 'migscope-capture-tracer.pcapng'), 'wb').write(
        migscope_capture(recs, '\n'.join(lines) + '\n'))
    with gzip.GzipFile(os.path.join(a, 'many-probes.pcap.gz'), 'wb', mtime=0) as g:
        tmp = os.path.join(OUT, 'tmp.pcap')
        write_pcap(tmp, 1, many_probes())
        g.write(open(tmp, 'rb').read())
        os.unlink(tmp)

    # the time domain's edges (analysis/domain.h), in pcapng (64-bit stamps)
    for name, recs in domain_edges().items():
        open(os.path.join(a, 'domain-' + name + '.pcapng'), 'wb').write(pcapng(recs))

    # several captures and options (fuzz_analyze_multi.c's header)
    def multi(name, hdr, parts):
        h = bytes(hdr) + bytes(HDR - len(hdr))
        blobs = []
        for p in parts:
            if isinstance(p, bytes):
                blobs.append(p)
            else:
                link, recs = seeds[p]
                tmp = os.path.join(OUT, 'tmp.pcap')
                write_pcap(tmp, link, recs)
                blobs.append(open(tmp, 'rb').read())
                os.unlink(tmp)
        open(os.path.join(OUT, 'analyze_multi', name), 'wb').write(h + SEP.join(blobs))

    src_dst_ctl = 1 | 2 << 2 | 3 << 4
    guest = [0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 198, 18, 0, 100]
    multi('syn-baseline-labelled', [0, src_dst_ctl],
          ['syn-baseline-cn1', 'syn-baseline-cn2', 'syn-baseline-ctl'])
    multi('syn-baseline-detected', [0, 0],
          ['syn-baseline-ctl', 'syn-baseline-cn2', 'syn-baseline-cn1'])
    multi('lab-baseline-guest-announce', [2 | 4, src_dst_ctl] + guest + [12, 13, 5, 25],
          ['lab-baseline-cn1', 'lab-baseline-cn2', 'lab-baseline-ctl'])
    multi('lab-port-not-ready-no-align-ports', [1 | 8, 0] + [0] * 15 + [0x00, 0xc0, 0x3f, 0xc0],
          ['lab-port-not-ready-cn1', 'lab-baseline-cn2'])
    multi('syn-back-and-forth-two', [0, 0], ['syn-back-and-forth-cn1', 'lab-back-and-forth-cn2'])
    src_pcap = open(os.path.join(ROOT, 'tests', 'fuzz', 'regress', 'F2-counter_time-overflow',
                                 'src.pcap'), 'rb').read()
    multi('migscope-capture-pair', [0, 1 | 2 << 2], [src_pcap, f2])
    tracer = open(os.path.join(a, 'migscope-capture-tracer.pcapng'), 'rb').read()
    multi('migscope-capture-tracer-src', [0, 1 | 2 << 2], [tracer, 'syn-baseline-cn2'])

    # report JSONs and the lab's scenario files for series and the JSON reader
    s = os.path.join(OUT, 'series')
    for name, caps in (('lab-baseline', [os.path.join(lab, 'baseline', h + '.pcap.gz')
                                         for h in ('cn1', 'cn2', 'ctl')]),
                       ('syn-back-and-forth', [os.path.join(syn, 'back-and-forth-%s.pcap.gz' % h)
                                               for h in ('cn1', 'cn2', 'ctl')]),
                       ('lab-lost-announce', [os.path.join(lab, 'lost-announce', h + '.pcap.gz')
                                              for h in ('cn1', 'cn2', 'ctl')])):
        r = subprocess.run([os.path.join(build, 'migscope'), 'analyze', '-f', 'json'] + caps,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        open(os.path.join(s, name + '.json'), 'wb').write(r.stdout)
    shutil.copy(os.path.join(lab, 'port-not-ready', 'scenario.json'),
                os.path.join(s, 'lab-scenario.json'))
    # the same, naming the captures fuzz_series.c keeps in its lab directory
    sc = json.load(open(os.path.join(lab, 'port-not-ready', 'scenario.json')))
    sc['vantages'] = {'cn1': 'cn1.pcap', 'cn2': 'cn2.pcap', 'ctl': 'ctl.pcap'}
    open(os.path.join(s, 'lab-scenario-captures.json'), 'w').write(json.dumps(sc))
    open(os.path.join(s, 'escapes.json'), 'wb').write(
        b'{"schema":"migscope.report.v1","migrations":[{"verdict":{"code":"ok\\u00e9\\ud83d'
        b'\\ude00\\n"},"stream":{"migration_time_us":1.5e3,"out_bytes":-0,"in_bytes":12E+2},'
        b'"downtime":{"probe_gap_us":0.0001},"loss":{"lost_probes":[]}},{},null]}')


if __name__ == '__main__':
    main()
