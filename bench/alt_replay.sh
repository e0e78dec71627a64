#!/usr/bin/env bash
# alt_replay.sh R BIN_A BIN_B PCAP CUSTOMERS: R alternating rounds of a replay of PCAP by each
# binary, pinned to CPU 0 (`taskset -c 0 BIN replay -C CUSTOMERS -o /dev/null PCAP` under
# /usr/bin/time), A then B in every round; prints per binary the medians of user, user+sys and
# wall seconds, and the minimum user time. A loaded machine moves these by several per cent:
# compare medians of R >= 8 rounds, and two builds of one commit (an A/A run) for the noise.
# Inputs as in bench/RESULTS.md's issue 15 parts, e.g.
#   twgen bulk -f mixed -n 2000000 -H 100000 -p 4096 -c 50 -o mixed.pcap
#   twgen bulk -f ipfix -n 1000 -H 100000 -p 4096 -c 50 --write-customers cust.csv -o c.pcap
set -euo pipefail
if [ $# -ne 5 ]; then
    echo "usage: $0 ROUNDS BIN_A BIN_B PCAP CUSTOMERS" >&2
    exit 2
fi
R=$1 A=$2 B=$3 P=$4 C=$5
case $R in '' | *[!0-9]*) echo "$0: ROUNDS must be a number" >&2; exit 2 ;; esac
[ "$R" -ge 1 ] && [ "$R" -le 1000 ] || { echo "$0: ROUNDS must be 1..1000" >&2; exit 2; }
for f in "$A" "$B"; do [ -x "$f" ] || { echo "$0: not an executable: $f" >&2; exit 2; }; done
for f in "$P" "$C"; do [ -r "$f" ] || { echo "$0: cannot read $f" >&2; exit 2; }; done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$R"); do
    for x in A B; do
        bin=${!x}
        /usr/bin/time -f "$x %U %S %e" -a -o "$out" taskset -c 0 "$bin" replay -C "$C" -o /dev/null "$P" >/dev/null 2>&1
    done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[:2] in ("A ", "B ")]
for x in "AB":
    r = [v for v in rows if v[0] == x]
    u = [float(v[1]) for v in r]
    s = [float(v[1]) + float(v[2]) for v in r]
    w = [float(v[3]) for v in r]
    print(f"{x}: n={len(r)} user med {statistics.median(u):.3f} min {min(u):.3f}  "
          f"user+sys med {statistics.median(s):.3f}  wall med {statistics.median(w):.3f}")
PY
