#!/usr/bin/env bash
# The flow meter against nfdump's nfpcapd on the same captures (pcap_flows.py says exactly what
# must be equal and why the rest differs): the real captures in $TW_SHARED/testdata/pcap and
# generated ones (every link type nfpcapd 1.7.1 reads, a short snaplen, IPv4 fragments).
# Link types nfpcapd 1.7.1 cannot read (LOOP with IPv6, SLL2) and pcapng/gzip are checked
# against our own result on the same packets written as Ethernet (same generator seed).
# Then malformed captures: a clear error or counter, never a crash.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
command -v nfpcapd >/dev/null && command -v nfdump >/dev/null \
  || { echo "SKIP: nfpcapd/nfdump not installed (apt-get install nfdump)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

caps=()
if [[ -n "${TW_SHARED:-}" && -d "$TW_SHARED/testdata/pcap" ]]; then
  while IFS= read -r f; do caps+=("$f"); done < <(find "$TW_SHARED/testdata/pcap" -name '*.pcap' | sort)
else
  echo "note: $TW_SHARED/testdata/pcap absent: real captures not compared"
fi
for lt in 1 101 113 0; do
  $gen packets -n 30000 -f 800 -l $lt -s 7 -o "$tmp/lt$lt.pcap" 2>/dev/null
  caps+=("$tmp/lt$lt.pcap")
done
$gen packets -n 30000 -f 800 -s 7 -S 80 -o "$tmp/snap80.pcap" 2>/dev/null
caps+=("$tmp/snap80.pcap")
line=$($gen packets -n 30000 -f 800 -s 9 -6 0 -m 1400 -o "$tmp/frag.pcap" 2>&1)
dg=$(sed -n 's/.*fragmented=\([0-9]*\).*/\1/p' <<<"$line")
nf=$(sed -n 's/.*fragments=\([0-9]*\).*/\1/p' <<<"$line")
caps+=("$tmp/frag.pcap@frag=$((nf - dg)),$(((nf - dg) * 20))")
mkdir -p "$tmp/work"
python3 "$TW_SRC/tests/integration/pcap_flows.py" "$tw" "$tmp/work" "${caps[@]}" || fail "nfpcapd comparison"

# the same packets on other link types / containers give exactly the same flows as Ethernet
flows() { $tw replay --no-summaries --no-stats --flows - --no-totals "$@" | sort; }
flows "$tmp/lt1.pcap" >"$tmp/ref.txt"
[[ -s "$tmp/ref.txt" ]] || fail "no flows from lt1"
for lt in 108 276 101 113 0; do
  $gen packets -n 30000 -f 800 -l $lt -s 7 -o "$tmp/x$lt.pcap" 2>/dev/null
  flows "$tmp/x$lt.pcap" | cmp -s - "$tmp/ref.txt" || fail "link type $lt: flows differ from Ethernet"
done
$gen packets -n 30000 -f 800 -s 7 -g -z -o "$tmp/ng.pcapng.gz" 2>/dev/null
flows "$tmp/ng.pcapng.gz" | cmp -s - "$tmp/ref.txt" || fail "pcapng.gz: flows differ"
flows "$tmp/snap80.pcap" | cmp -s - "$tmp/ref.txt" || fail "snaplen 80: flows differ"
echo "link types, pcapng+gzip, snaplen: same flows as Ethernet"

# an export datagram IP-fragmented and reordered on the way (its last fragment first, as some
# stacks and paths deliver them) is reassembled and decoded like one in order, once the capture
# carried an export of that exporter (here the first datagram's fragments come in order): the
# later pieces used to go to the meter and the datagram's records were lost (a third of them)
$gen sample -f ipfix -m 2 -s 3 -o "$tmp/exp.pcap" >/dev/null 2>&1
python3 - "$tmp/exp.pcap" "$tmp/exprev.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
d = open(sys.argv[1], "rb").read()
assert struct.unpack("<I", d[:4])[0] == 0xa1b2c3d4 and struct.unpack("<I", d[20:24])[0] == 1
out, off, n = [d[:24]], 24, 0
while off < len(d):  # Ethernet, IPv4 UDP datagrams over 576 bytes cut into 552-byte pieces
    t1, t2, cl, wl = struct.unpack("<IIII", d[off:off + 16])
    pkt = d[off + 16:off + 16 + cl]
    off += 16 + cl
    ip = pkt[14:]
    if ip[0] != 0x45 or ip[9] != 17 or len(ip) <= 576:
        out.append(d[off - 16 - cl:off])
        continue
    n += 1
    pl, frags = ip[20:struct.unpack("!H", ip[2:4])[0]], []
    for o in range(0, len(pl), 552):
        h = bytearray(ip[:20])
        struct.pack_into("!HHH", h, 2, 20 + len(pl[o:o + 552]), n, (o + 552 < len(pl)) << 13 | o // 8)
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, csum(bytes(h)))
        frags.append(pkt[:14] + bytes(h) + pl[o:o + 552])
    for i, f in enumerate(frags if n == 1 else frags[::-1]):
        out.append(struct.pack("<IIII", t1, t2 + i, len(f), len(f)) + f)
assert n > 10
open(sys.argv[2], "wb").write(b"".join(out))
PY
recs() { $tw replay --no-summaries --no-progress "$1" 2>/dev/null | tail -1 | grep -o '"records":[0-9]*' | head -1; }
want=$(recs "$tmp/exp.pcap")
got=$(recs "$tmp/exprev.pcap")
[[ -n $want && $got == "$want" ]] || fail "reordered export fragments: $got, want $want"
echo "reordered export fragments: $got as in order"

# exports cut by a capture's snaplen (a live [capture]'s default 256 keeps the headers the meter
# needs) are lost: counted, and said in the log, which used to say nothing
python3 - "$tmp/exp.pcap" "$tmp/expcut.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, off = [d[:16] + struct.pack("<I", 256) + d[20:24]], 24
while off < len(d):
    t1, t2, cl, wl = struct.unpack("<IIII", d[off:off + 16])
    out.append(struct.pack("<IIII", t1, t2, min(cl, 256), wl) + d[off + 16:off + 16 + min(cl, 256)])
    off += 16 + cl
open(sys.argv[2], "wb").write(b"".join(out))
PY
$tw replay --no-summaries --no-progress "$tmp/expcut.pcap" >"$tmp/expcut.out" 2>"$tmp/expcut.err"
grep -q 'an export datagram to port 4739 was cut by the capture.s snaplen' "$tmp/expcut.err" \
  || fail "exports cut by the snaplen: nothing said: $(cat "$tmp/expcut.err")"
cut=$(tail -1 "$tmp/expcut.out" | grep -o '"truncated_l4":[0-9]*')
[[ $cut != '"truncated_l4":0' && -n $cut ]] || fail "exports cut by the snaplen: not counted ($cut)"
echo "exports cut by the snaplen: $cut, logged"

# malformed captures: clear error or counter, never a crash (exit < 128)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\0\0\0\0\x93\x00\x00\x00' >"$tmp/lt147.pcap"
head -c 20000 "$tmp/lt1.pcap" >"$tmp/trunc.pcap"
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x00\x00' >"$tmp/snap0.pcap"
python3 - "$tmp/lt1.pcap" "$tmp/bogus.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read(4000))
struct.pack_into("<I", d, 24 + 8, 0x7fffffff)  # first record: caplen absurd
open(sys.argv[2], "wb").write(d)
PY
for f in lt147 trunc snap0 bogus; do
  set +e
  $tw replay --no-summaries --meter-only "$tmp/$f.pcap" >"$tmp/$f.out" 2>"$tmp/$f.err"; rc=$?
  set -e
  [[ $rc -lt 128 ]] || fail "$f: crashed ($rc)"
  case $f in
    snap0) ;;  # an empty capture with snaplen 0 in its header: nothing to read
    *) [[ $rc -ne 0 ]] || fail "$f: accepted"; grep -q "$f.pcap" "$tmp/$f.err" || fail "$f: no message: $(cat "$tmp/$f.err")";;
  esac
done
grep -q totals "$tmp/trunc.out" || fail "truncated: no totals"
echo "pcap_flows: all checks passed"
