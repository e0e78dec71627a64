#!/usr/bin/env python3
"""Streams of datagrams for scripts/decode_diff/dump.c (scripts/decode-diff.sh): the UDP payloads
of pcaps, raw datagram files (.dat), fuzz corpus files (version forced to 9 and to 10), and
synthetic NetFlow v9 / IPFIX exporters with random templates (every element the decoder maps,
odd widths, duplicates, enterprise and varlen fields, packet sections, options with sampling)
and random records, optionally with bytes mutated.
  gen.py pcaps OUT PCAP...  |  gen.py dats OUT DIR  |  gen.py corpus OUT DIR...
  gen.py synth OUT SEED MESSAGES MUTATE_RATE"""
import os, re, random, struct, sys, glob

def rec(out, payload, now, src, sport=2055):
    out.append(struct.pack("<IQ16sH", len(payload), now, src, sport) + payload)

def v4src(n):
    return bytes(10) + b"\xff\xff" + bytes([10, (n >> 16) & 255, (n >> 8) & 255, n & 255])

def pcap_udp(path):
    d = open(path, "rb").read()
    if len(d) < 24: return
    magic = d[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"): e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"): e = ">"
    else: return  # pcapng etc: skipped
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    lt = struct.unpack(e + "I", d[20:24])[0]
    off = 24
    while off + 16 <= len(d):
        ts, tus, incl, orig = struct.unpack(e + "IIII", d[off:off + 16])
        pkt = d[off + 16:off + 16 + incl]; off += 16 + incl
        now = ts * 1000 + (tus // 1000000 if nano else tus // 1000)
        if lt == 1:
            et = struct.unpack(">H", pkt[12:14])[0]; p = pkt[14:]
            while et in (0x8100, 0x88a8) and len(p) >= 4:
                et = struct.unpack(">H", p[2:4])[0]; p = p[4:]
        elif lt == 113:
            et = struct.unpack(">H", pkt[14:16])[0]; p = pkt[16:]
        elif lt in (101, 12, 14):
            p = pkt; et = 0x800 if p and p[0] >> 4 == 4 else 0x86dd
        elif lt == 0:
            p = pkt[4:]; et = 0x800 if p and p[0] >> 4 == 4 else 0x86dd
        else:
            continue
        if et == 0x800 and len(p) >= 20:
            ihl = (p[0] & 15) * 4
            if p[9] != 17: continue
            src = bytes(10) + b"\xff\xff" + p[12:16]; u = p[ihl:]
        elif et == 0x86dd and len(p) >= 40:
            if p[6] != 17: continue
            src = p[8:24]; u = p[40:]
        else:
            continue
        if len(u) < 8: continue
        sport = struct.unpack(">H", u[0:2])[0]
        yield now, src, sport, u[8:]

def from_pcaps(paths, out):
    for path in paths:
        for now, src, sport, pl in pcap_udp(path):
            rec(out, pl, now, src, sport)

def from_dats(root, out):
    files = sorted(glob.glob(root + "/**/*.dat", recursive=True))
    groups = {}
    for f in files:
        k = re.sub(r"(tpl|data|tpldata|template)\d*", "", os.path.basename(f))
        groups.setdefault(k, []).append(f)
    for gi, (k, fs) in enumerate(sorted(groups.items())):
        fs.sort(key=lambda f: (0 if "tpl" in os.path.basename(f) else 1, f))
        for rep in range(2):
            for f in fs:
                rec(out, open(f, "rb").read(), 1700000000000 + rep * 1000, v4src(gi))

def from_corpus(dirs, out):
    n = 0
    for d in dirs:
        for f in sorted(glob.glob(d + "/*")):
            data = bytearray(open(f, "rb").read())
            for ver in (9, 10):
                b = bytearray(data)
                if len(b) >= 2: b[0] = 0; b[1] = ver
                if ver == 10 and 4 <= len(b) <= 65535: b[2] = len(b) >> 8; b[3] = len(b) & 255
                for rep in range(2):
                    rec(out, bytes(b), 1700000000000 + rep * 1000, v4src(1000 + n))
                n += 1

# ---- synthetic templates ----
IES = [8, 12, 27, 28, 313, 315, 7, 11, 4, 6, 1, 2, 23, 24, 85, 86, 231, 298, 22, 21, 150, 151,
       152, 153, 154, 155, 156, 157, 158, 159, 160, 16, 17, 10, 14, 32, 139, 176, 177, 178, 179,
       34, 35, 48, 49, 50, 302, 305, 306, 309, 310, 239, 82, 5, 0, 9999]
ENT = [(29305, 1), (29305, 2), (29305, 85), (29305, 86), (29305, 6), (6871, 14), (6871, 15),
       (6871, 16398), (6871, 16399), (6871, 21), (32473, 1)]
NAT = {8: 4, 12: 4, 27: 16, 28: 16, 7: 2, 11: 2, 4: 1, 6: 1, 22: 4, 21: 4, 150: 4, 151: 4,
       152: 8, 153: 8, 154: 8, 155: 8, 156: 8, 157: 8, 158: 4, 159: 4, 160: 8, 32: 2, 139: 2,
       176: 1, 177: 1, 178: 1, 179: 1, 48: 1, 35: 1, 239: 1, 16: 4, 17: 4, 10: 4, 14: 4}

def rand_len(r, ie, varlen_ok):
    x = r.random()
    if varlen_ok and (ie in (313, 315, 82) and x < 0.6 or x < 0.04): return 65535
    if x < 0.6: return NAT.get(ie, r.choice([1, 2, 4, 8]))
    if x < 0.8: return r.choice([1, 2, 4, 8])
    if x < 0.95: return r.choice([3, 5, 6, 7, 16, 12])
    return r.choice([0, 9, 20, 64, 128])

def rand_template(r, ipfix):
    if r.random() < 0.15:
        sec = r.choice([313, 315])
        f = [(sec, 65535 if ipfix and r.random() < 0.5 else r.choice([40, 64, 128]), 0)]
        for _ in range(r.randint(0, 6)):
            ie = r.choice([7, 11, 4, 6, 1, 2, 152, 153, 34, 302, 10, 14, 32, 85, 86])
            f.append((ie, NAT.get(ie, r.choice([1, 2, 4, 8])), 0))
        r.shuffle(f)
        return f
    fields = []
    n = r.choice([1, 2, 3, 5, 8, 12, 16, 20, 30])
    common = [8, 12, 7, 11, 4, 6, 1, 2, 22, 21] if r.random() < 0.5 else [27, 28, 7, 11, 4, 1, 2, 152, 153]
    base = list(common) if r.random() < 0.7 else []
    for ie in base:
        fields.append((ie, NAT.get(ie, 4), 0))
    for _ in range(n):
        if ipfix and r.random() < 0.15:
            pen, ie = r.choice(ENT)
            fields.append((ie, rand_len(r, 1, ipfix), pen))
        else:
            ie = r.choice(IES)
            fields.append((ie, rand_len(r, ie, ipfix), 0))
    if r.random() < 0.3 and fields:  # duplicates
        for _ in range(r.randint(1, 3)):
            fields.append(r.choice(fields))
    r.shuffle(fields) if r.random() < 0.5 else None
    return fields

def rand_value(r, ie, ln):
    if ln == 65535:
        m = r.choice([0, 1, 5, 40, 60, 128, 300])
        body = bytes(r.getrandbits(8) for _ in range(m))
        if ie in (313, 315) and m >= 20 and r.random() < 0.7:
            # a plausible IPv4/TCP or UDP header start
            proto = r.choice([6, 17, 1])
            ip = bytes([0x45, 0, 0, 60, 0, 0, 0, 0, 64, proto, 0, 0]) + bytes(r.getrandbits(8) for _ in range(8))
            body = (ip + body)[:max(m, 40)]
            if ie == 315: body = bytes(12) + b"\x08\x00" + body
            m = len(body)
        if m < 255: return bytes([m]) + body
        return b"\xff" + struct.pack(">H", m) + body
    if ln == 0: return b""
    if ie in (313, 315) and ln >= 40 and r.random() < 0.8:
        proto = r.choice([6, 17, 1, 58])
        ip = bytes([0x45, 0, 0, 60, 0, 0, 0, 0, 64, proto, 0, 0]) + bytes(r.getrandbits(8) for _ in range(ln))
        if ie == 315: ip = bytes(12) + b"\x08\x00" + ip
        return ip[:ln]
    x = r.random()
    if ie == 4 and x < 0.8: v = r.choice([1, 6, 17, 58, 0])
    elif x < 0.2: v = 0
    elif x < 0.5: v = r.randint(1, 300)
    elif ie in (150, 151, 152, 153) and x < 0.8:
        v = (1700000000 + r.randint(-100, 100)) * (1000 if ie in (152, 153) else 1)
    elif ie in (154, 155, 156, 157) and x < 0.8:
        v = ((1700000000 + 2208988800) << 32) | r.getrandbits(32)
    else: v = r.getrandbits(8 * min(ln, 8))
    b = v.to_bytes(8, "big")[-min(ln, 8):] if ln <= 8 else bytes(r.getrandbits(8) for _ in range(ln))
    return (bytes(ln - 8) + b) if ln > 8 and len(b) < ln else b

def tmpl_bytes(tid, fields, ipfix, options=False, nscope=1):
    out = b""
    for ie, ln, pen in fields:
        if ipfix and pen:
            out += struct.pack(">HHI", ie | 0x8000, ln, pen)
        else:
            out += struct.pack(">HH", ie, ln)
    n = len(fields)
    if ipfix:
        if options: return struct.pack(">HHH", tid, n, nscope) + out
        return struct.pack(">HH", tid, n) + out
    if options:
        sc = b"".join(struct.pack(">HH", ie, ln) for ie, ln, _ in fields[:nscope])
        rest = b"".join(struct.pack(">HH", ie, ln) for ie, ln, _ in fields[nscope:])
        return struct.pack(">HHH", tid, len(sc), len(rest)) + sc + rest
    return struct.pack(">HH", tid, n) + out

def data_bytes(r, fields, nrec):
    out = b""
    for _ in range(nrec):
        for ie, ln, pen in fields:
            out += rand_value(r, ie if not pen else 1, ln)
    return out

def set_(sid, body, pad4):
    body = body + (bytes((-len(body)) % 4) if pad4 else b"")
    return struct.pack(">HH", sid, len(body) + 4) + body

def message(ipfix, sets, now_s, seq, dom, uptime):
    body = b"".join(sets)
    if ipfix:
        return struct.pack(">HHIII", 10, 16 + len(body), now_s, seq, dom) + body
    return struct.pack(">HHIIII", 9, len(sets), uptime, now_s, seq, dom) + body

def synth(seed, n_exporters, n_msgs, out, mutate=0.0):
    r = random.Random(seed)
    state = []
    for e in range(n_exporters):
        ipfix = r.random() < 0.5
        tmpls = {}
        for k in range(r.randint(1, 4)):
            tid = 256 + r.randint(0, 20)
            f = rand_template(r, ipfix)
            if not ipfix:
                f = [x if x[1] != 65535 else (x[0], 4, x[2]) for x in f]
            tmpls[tid] = (f, False)
        if r.random() < 0.6:
            of = [(1, 4, 0)] + [(r.choice([34, 35, 48, 49, 50, 302, 305, 306, 309, 310, 160, 149]), r.choice([1, 2, 4, 8]), 0) for _ in range(r.randint(1, 5))]
            tmpls[300 + r.randint(0, 5)] = (of, True)
        state.append((ipfix, tmpls, v4src(50000 + seed * 100 + e), r.randint(0, 3)))
    now = 1700000000000
    for i in range(n_msgs):
        ipfix, tmpls, src, dom = r.choice(state)
        now += r.randint(0, 200)
        sets = []
        if r.random() < 0.3 or i < n_exporters * 2:
            for tid, (f, opt) in tmpls.items():
                sid = (3 if opt else 2) if ipfix else (1 if opt else 0)
                sets.append(set_(sid, tmpl_bytes(tid, f, ipfix, opt), True))
        for _ in range(r.randint(1, 3)):
            tid, (f, opt) = r.choice(list(tmpls.items()))
            if r.random() < 0.05: tid = 256 + r.randint(0, 40)  # unknown: pending
            sets.append(set_(tid, data_bytes(r, f, r.randint(1, 12)), r.random() < 0.7))
        if ipfix and r.random() < 0.02:
            sets.append(set_(2, struct.pack(">HH", r.choice(list(tmpls)), 0), True))
        if r.random() < 0.1: r.shuffle(sets)
        msg = bytearray(message(ipfix, sets, now // 1000, i, dom, (now - 1699999000000) & 0xffffffff))
        if mutate and r.random() < mutate:
            for _ in range(r.randint(1, 4)):
                if len(msg) > 20:
                    j = r.randint(16 if not ipfix else 16, len(msg) - 1)
                    msg[j] = r.getrandbits(8)
        rec(out, bytes(msg), now, src)

def main():
    kind, dst = sys.argv[1], sys.argv[2]
    out = []
    if kind == "pcaps": from_pcaps(sys.argv[3:], out)
    elif kind == "dats": from_dats(sys.argv[3], out)
    elif kind == "corpus": from_corpus(sys.argv[3:], out)
    elif kind == "synth":
        seed = int(sys.argv[3]); synth(seed, 12, int(sys.argv[4]), out, float(sys.argv[5]))
    open(dst, "wb").write(b"".join(out))
    print(dst, len(out), "datagrams")

main()
