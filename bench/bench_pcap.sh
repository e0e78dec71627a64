#!/usr/bin/env bash
# Raw pcap to flows, one core: transitwatch replay (flow meter + every detector), nfdump's nfpcapd
# and softflowd on the same generated capture, in the same run.
#
#   bench/bench_pcap.sh [--write]     (--write: also replace the "Raw pcap to flows" section of
#                                      bench/RESULTS.md)
#
# Env (as bench/bench.py sets it): TW_BIN (a build dir; default: build an optimised one in
# build-bench-pcap), BENCH_WORK (scratch dir), BENCH_QUICK=1 (300 k packets instead of 3 M),
# BENCH_PIN=1 (taskset -c 0), BENCH_PACKETS (override the count).
# Measure: packets per CPU-second = packets / (user + sys) from /usr/bin/time -v, and peak RSS.
# The capture: `twgen packets` (tests/gen/twgen_packets.c), Ethernet, 50 000 concurrent
# connections (70 % TCP with SYN..FIN, 25 % UDP, 5 % ICMP, 20 % IPv6), snaplen 128 (headers
# only; the counts come from the IP length), written once and read from the page cache by all.
# softflowd sends NetFlow v9 to a loopback port nobody listens on; nfpcapd writes nfcapd files.
# softflowd is installed from Debian here when missing (not a CI dependency).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
write=0
[[ "${1:-}" == "--write" ]] && write=1
bin=${TW_BIN:-}
if [[ -z "$bin" ]]; then
  bin=$src/build-bench-pcap
  cmake -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=Release -DTW_WERROR=ON >/dev/null
  cmake --build "$bin" -j"$(nproc)" --target transitwatch twgen >/dev/null
fi
work=${BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
npk=${BENCH_PACKETS:-3000000}
[[ "${BENCH_QUICK:-0}" == 1 ]] && npk=${BENCH_PACKETS:-300000}
pin=()
[[ "${BENCH_PIN:-0}" == 1 ]] && command -v taskset >/dev/null && pin=(taskset -c 0)
if ! command -v softflowd >/dev/null; then
  (apt-get install -y softflowd || sudo apt-get install -y softflowd) >/dev/null 2>&1 || true
fi
cap=$work/bench-$npk.pcap
[[ -s "$cap" ]] || "$bin/tests/twgen" packets -n "$npk" -f 50000 -S 128 -s 3 -o "$cap" 2>/dev/null
cat "$cap" >/dev/null # page cache

# run NAME CMD...: one measured run; prints "name user sys rss_kb"
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/time-$name" "${pin[@]}" "$@" >"$work/out-$name" 2>"$work/err-$name" || {
    echo "$name failed: $(tail -3 "$work/err-$name")" >&2; return 1; }
  local u s r
  u=$(sed -n 's/.*User time (seconds): //p' "$work/time-$name")
  s=$(sed -n 's/.*System time (seconds): //p' "$work/time-$name")
  r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time-$name")
  echo "$name $u $s $r"
}

rows=()
rows+=("$(measure transitwatch "$bin/collector/transitwatch" replay --no-progress --no-stats \
  --customers "$src/configs/customers.csv" -o /dev/null "$cap")")
rm -rf "$work/nfp" && mkdir -p "$work/nfp"
if command -v nfpcapd >/dev/null; then
  rows+=("$(measure nfpcapd nfpcapd -r "$cap" -w "$work/nfp" -e 300,60)")
fi
if command -v softflowd >/dev/null; then
  # -d: foreground, without -D's per-flow debug lines (which cost it half its time); -6: IPv6
  # tracked like the others. It reads the file, expires every flow at EOF, prints its
  # statistics and exits. softflowd 1.1.0 cuts the -r path short (16 characters): a short
  # relative name.
  rm -f "$work/softflowd.ctl"
  ln -sf "$cap" "$work/b.pcap"
  # Here it blocks in accept() on its control socket now and then (at the start, or after
  # about every million packets) until something connects; a `softflowctl statistics` releases
  # it. So its CPU time is watched, and when it has not moved for 2 s while the process lives,
  # it is poked (counted and reported; the poke itself costs it next to nothing).
  (cd "$work" && exec timeout 900 /usr/bin/time -v -o "$work/time-softflowd" "${pin[@]}" \
    softflowd -d -6 -r b.pcap -n 127.0.0.1:9 -v 9 -m 1000000 -p "$work/softflowd.pid" \
    -c "$work/softflowd.ctl" </dev/null >"$work/out-softflowd" 2>"$work/err-softflowd") &
  tpid=$!
  pokes=0 last=-1 still=0
  for _ in $(seq 9000); do # at most 15 minutes
    sleep 0.1
    kill -0 "$tpid" 2>/dev/null || break
    spid=$(pgrep -n -x softflowd || true)
    [[ -n "$spid" && -r /proc/$spid/stat ]] || continue
    t=$(awk '{print $14 + $15}' "/proc/$spid/stat" 2>/dev/null || echo -1)
    if [[ $t == "$last" ]]; then still=$((still + 1)); else still=0 last=$t; fi
    if [[ $still -ge 20 && $pokes -lt 200 ]]; then
      softflowctl -c "$work/softflowd.ctl" statistics >/dev/null 2>&1 || true
      pokes=$((pokes + 1)) still=0
    fi
  done
  wait "$tpid" || true
  [[ $pokes -gt 0 ]] && softflowd_poked="softflowd was released from its control-socket accept() $pokes time(s) in this run (see bench_pcap.sh)."
  u=$(sed -n 's/.*User time (seconds): //p' "$work/time-softflowd")
  s=$(sed -n 's/.*System time (seconds): //p' "$work/time-softflowd")
  r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time-softflowd")
  sfp=$(cat "$work/out-softflowd" "$work/err-softflowd" 2>/dev/null \
    | sed -n 's/^Packets processed: *//p' | head -1)
  if [[ "${sfp:-0}" -gt 0 ]]; then
    rows+=("softflowd $u $s $r")
  else
    softflowd_note="softflowd reported no packets processed from the file in this run: no figure
for it (its output: $(tail -2 "$work/err-softflowd" 2>/dev/null | tr '\n' ' '))."
  fi
fi

# flows each produced (for the record, not a timing)
"$bin/collector/transitwatch" replay --no-progress --no-stats --no-summaries "$cap" | tail -1 \
  | grep -o '"metered_flows":[0-9]*' | cut -d: -f2 >"$work/flows-tw" || true
nfdump -R "$work/nfp" -I 2>/dev/null | sed -n 's/^Flows: //p' >"$work/flows-nfp" || true

table=$(
  echo "| tool | packets | user s | sys s | packets per CPU-second | peak RSS MiB | flows |"
  echo "|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do
    read -r name u s kb <<<"$r"
    fl=
    [[ $name == transitwatch ]] && fl=$(cat "$work/flows-tw")
    [[ $name == nfpcapd ]] && fl="$(cat "$work/flows-nfp") (ICMP and DNS: one per packet)"
    [[ $name == softflowd ]] && fl="$(cat "$work/out-softflowd" "$work/err-softflowd" | sed -n 's/^Flows expired: \([0-9]*\).*/\1/p' | head -1)"
    awk -v n="$name" -v p="$npk" -v u="$u" -v s="$s" -v kb="$kb" -v fl="$fl" 'BEGIN {
      c = u + s; if (c <= 0) c = 0.001
      printf "| %s | %d | %.2f | %.2f | %.0f | %.1f | %s |\n", n, p, u, s, p / c, kb / 1024, fl }'
  done
)
tw_pps=$(awk -F'|' '$2 ~ /transitwatch/ {gsub(/ /,"",$6); print $6}' <<<"$table")
nf_pps=$(awk -F'|' '$2 ~ /nfpcapd/ {gsub(/ /,"",$6); print $6}' <<<"$table")
sf_pps=$(awk -F'|' '$2 ~ /softflowd/ {gsub(/ /,"",$6); print $6}' <<<"$table")
ratio= sf_ratio=
[[ -n "$tw_pps" && -n "$nf_pps" ]] && ratio=$(awk -v a="$tw_pps" -v b="$nf_pps" 'BEGIN{printf "%.2f", a/b}')
[[ -n "$tw_pps" && -n "$sf_pps" ]] && sf_ratio=$(awk -v a="$tw_pps" -v b="$sf_pps" 'BEGIN{printf "%.2f", a/b}')
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
section=$(
  echo "## Raw pcap to flows"
  echo
  echo "Packets per CPU-second (user + sys, /usr/bin/time -v) reading one capture file on one"
  echo "core, in the same run. transitwatch: \`transitwatch replay --customers configs/customers.csv\`"
  echo "(flow meter + every detector, JSON lines to /dev/null); nfpcapd: \`nfpcapd -r F -w DIR -e 300,60\`;"
  echo "softflowd: \`softflowd -d -6 -r F -n 127.0.0.1:9 -v 9 -m 1000000\` (exits at the end of the file). Capture: \`twgen packets -n $npk"
  echo "-f 50000 -S 128 -s 3\` (Ethernet, 50 000 concurrent connections, 70 % TCP, 25 % UDP, 5 % ICMP,"
  echo "20 % IPv6, snaplen 128). Command: \`bench/bench_pcap.sh --write\`."
  echo
  echo "Machine: $cpu, $(nproc) CPUs, $(uname -r); nfdump $(nfdump -V 2>&1 | sed 's/.*Version: //'),"
  echo "softflowd $(softflowd -h 2>&1 | sed -n 's/.*softflowd version \([^ .]*\.[^ .]*\.[^ .]*\).*/\1/p'); date $(date -u +%Y-%m-%d)."
  echo
  echo "$table"
  echo
  [[ -n "$ratio" ]] && echo "transitwatch / nfpcapd packets per CPU-second: **$ratio x**."
  [[ -n "$sf_ratio" ]] && echo "transitwatch / softflowd packets per CPU-second: **$sf_ratio x**."
  [[ -n "${softflowd_note:-}" ]] && { echo; echo "$softflowd_note"; }
  [[ -n "${softflowd_poked:-}" ]] && { echo; echo "$softflowd_poked"; }
  true
)
echo "$section"
if [[ $write == 1 ]]; then
  res=$src/bench/RESULTS.md
  [[ -f "$res" ]] || echo "# Results" >"$res"
  python3 - "$res" "$section" <<'PY'
import re, sys
path, sec = sys.argv[1], sys.argv[2].rstrip() + "\n"
t = open(path).read()
m = re.search(r"^## Raw pcap to flows\n.*?(?=^## |\Z)", t, re.S | re.M)
t = t[:m.start()] + sec + "\n" + t[m.end():] if m else t.rstrip() + "\n\n" + sec
open(path, "w").write(t)
PY
fi
