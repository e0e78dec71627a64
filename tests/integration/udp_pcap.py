#!/usr/bin/env python3
"""Loopback helpers for the clock tests (standard library only; 127.0.0.1 only; bounded).

  udp_pcap.py record PORT OUT.pcap [IDLE_S]
      Receive UDP datagrams on 127.0.0.1:PORT and write them, each with its arrival time, as a
      pcap (LINKTYPE_RAW, IPv4 + UDP), until IDLE_S (default 2) seconds pass without one after
      the first (at most 300 s in all). Touches OUT.pcap.ready once the socket is bound.
  udp_pcap.py skew-send IN.pcap PORT SECONDS
      Send the NetFlow v5 payloads of IN.pcap (Ethernet/IPv4/UDP, as twgen writes them) to
      127.0.0.1:PORT with the header's clock moved SECONDS later (unix_secs and sysuptime both:
      the records keep their absolute times, the exporter's clock disagrees with them).
      Prints the number of datagrams and records sent.
"""
import socket
import struct
import sys
import time


def record(port, out, idle):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    open(out + ".ready", "w").close()
    n = 0
    deadline = time.time() + 300
    s.settimeout(idle)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        while time.time() < deadline:
            try:
                data, (addr, sport) = s.recvfrom(65535)
            except socket.timeout:
                if n:
                    break
                continue
            t = time.time()
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), n & 0xFFFF, 0, 64, 17, 0,
                             socket.inet_aton(addr), socket.inet_aton("127.0.0.1"))
            pkt = ip + struct.pack("!HHHH", sport, port, 8 + len(data), 0) + data
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(pkt), len(pkt)) + pkt)
            n += 1
    print("recorded %d datagrams" % n, file=sys.stderr)


def v5_payloads(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        if struct.unpack(end + "I", hdr[20:24])[0] != 1:
            raise SystemExit("skew-send: Ethernet captures only")
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            incl = struct.unpack(end + "IIII", ph)[2]
            pkt = f.read(incl)
            if len(pkt) < 14 + 20 + 8 or pkt[12:14] != b"\x08\x00" or pkt[14 + 9] != 17:
                continue
            ihl = (pkt[14] & 15) * 4
            payload = pkt[14 + ihl + 8:]
            if len(payload) >= 24 and payload[:2] == b"\x00\x05":
                yield bytearray(payload)


def skew_send(path, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = recs = 0
    for p in v5_payloads(path):
        uptime, secs = struct.unpack("!II", p[4:12])
        struct.pack_into("!II", p, 4, (uptime + seconds * 1000) & 0xFFFFFFFF, secs + seconds)
        s.sendto(bytes(p), ("127.0.0.1", port))
        n += 1
        recs += struct.unpack("!H", p[2:4])[0]
        if n % 50 == 0:
            time.sleep(0.01)  # paced: the receive buffer never overflows
    print(n, recs)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 2.0)
    elif len(sys.argv) == 5 and sys.argv[1] == "skew-send":
        skew_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
