#!/usr/bin/env bash
# Live capture through libpcap: meter the loopback interface with a BPF filter while a few UDP
# packets go to 127.0.0.1, in `transitwatch replay --interface` and in the daemon ([capture]
# section); flows must come out. Skipped (77) when the interface cannot be opened (no
# CAP_NET_RAW).
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
tmp=$(mktemp -d)
dpid=
cleanup() {
  [[ -n "$dpid" ]] && kill "$dpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port=$((30000 + RANDOM % 20000))

send() { # N packets to 127.0.0.1:$port from one socket (one flow), bounded
  python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"ping %d" % i, ("127.0.0.1", int(sys.argv[2])))
    time.sleep(0.05)' "$1" "$port"
}

# 1. replay --interface
$tw replay --interface lo --bpf "udp and dst port $port" --duration 3 --meter-only --no-summaries \
  --no-stats >"$tmp/out.jsonl" 2>"$tmp/err" &
rpid=$!
sleep 1
send 10
wait $rpid || {
  if grep -qiE 'permission|CAP_NET_RAW|not permitted|socket' "$tmp/err"; then
    echo "SKIP: cannot capture on lo: $(cat "$tmp/err")"; exit 77
  fi
  fail "replay --interface: $(cat "$tmp/err")"
}
grep -o '"metered_packets":[0-9]*' "$tmp/out.jsonl" | grep ':10$' >/dev/null \
  || fail "expected 10 metered packets: $(tail -1 "$tmp/out.jsonl")"
grep -q '"metered_flows":1,' "$tmp/out.jsonl" || fail "expected 1 flow: $(tail -1 "$tmp/out.jsonl")"
echo "replay --interface lo: 10 packets, 1 flow"

# 2. the daemon with a [capture] section
cat >"$tmp/d.conf" <<CONF
[collector]
listen = 127.0.0.1:0
[metrics]
listen = 127.0.0.1:0
[output]
jsonl = $tmp/d.jsonl
[capture loop]
interface = lo
bpf = udp and dst port $port
[meter]
idle_timeout = 1s
CONF
$tw --config "$tmp/d.conf" 2>"$tmp/derr" &
dpid=$!
for _ in $(seq 150); do grep -q 'metrics on' "$tmp/derr" && break; sleep 0.1; done
grep -q 'capturing on lo' "$tmp/derr" || fail "daemon did not open lo: $(cat "$tmp/derr")"
send 5 # while the daemon may still reserve its tables: the kernel holds them for the capture
# /metrics before the first figures: 503 "starting", never an empty 200 a scraper would take
# for a live target without series
mport=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$tmp/derr" | head -1)
if command -v curl >/dev/null && [[ -n $mport ]]; then
  code=$(curl -s -o "$tmp/early" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$mport/metrics" || true)
  case $code in
    200) [[ -s $tmp/early ]] || fail "/metrics: an empty 200 before the first figures" ;;
    503) grep -q '^starting' "$tmp/early" || fail "/metrics 503 without 'starting': $(cat "$tmp/early")" ;;
    *) fail "/metrics during the start: HTTP $code" ;;
  esac
fi
# the loop (and /metrics) run once the tables are reserved ([pipeline] reserve_memory, seconds
# on a loaded machine): wait for the start, bounded
for _ in $(seq 300); do
  grep -q ' started$' "$tmp/derr" && break
  kill -0 $dpid 2>/dev/null || break
  sleep 0.1
done
grep -q ' started$' "$tmp/derr" || fail "daemon did not start: $(cat "$tmp/derr")"
# the capture's counters are on /metrics
if command -v curl >/dev/null && [[ -n $mport ]]; then
  got=
  for _ in $(seq 30); do
    got=$(curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" |
          awk '$1 == "transitwatch_capture_packets_total{capture=\"loop\"}" {print $2}')
    [[ $got == 5 ]] && break
    sleep 0.2
  done
  [[ $got == 5 ]] || fail "metrics: capture packets '$got', want 5"
fi
kill -TERM $dpid
for _ in $(seq 100); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done
dpid=
grep -q 'capture loop: 5 packets, kernel drops 0' "$tmp/derr" || fail "daemon capture log: $(cat "$tmp/derr")"
grep -o '"metered_flows":[0-9]*' "$tmp/d.jsonl" | grep ':1$' >/dev/null || fail "daemon: no metered flow: $(tail -1 "$tmp/d.jsonl")"

# 3. an interface removed under a [capture]: /healthz says the capture stopped at once (it used
# to say ok for capture_stall, then "no packet" as for a quiet link). A veth pair in a network
# namespace of its own (unshare -n: no mount needed, unlike ip netns exec, which a chroot
# without its own mounts refuses); skipped where no namespace can be made.
cat >"$tmp/veth.sh" <<'SH'
set -euo pipefail
tw=$1 conf=$2 err=$3
ip link set lo up
ip link add twa type veth peer name twb
ip link set twa up
ip link set twb up
"$tw" --config "$conf" 2>"$err" &
dpid=$!
trap 'kill $dpid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  grep -q ' started$' "$err" && break
  kill -0 $dpid 2>/dev/null || break
  sleep 0.1
done
grep -q ' started$' "$err" || { echo "daemon on twb did not start: $(cat "$err")"; exit 1; }
vport=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$err" | head -1)
ip link del twa
h=
for _ in $(seq 50); do
  h=$(curl -s --max-time 2 "http://127.0.0.1:$vport/healthz" || true)
  [[ $h == *"capture loop: stopped: twb: "* ]] && break
  sleep 0.1
done
[[ $h == *"capture loop: stopped: twb: "* ]] || { echo "/healthz after twb was removed: '$h'"; exit 1; }
echo "interface removed: /healthz '${h%%$'\n'*}'"
kill -TERM $dpid
for _ in $(seq 100); do kill -0 $dpid 2>/dev/null || break; sleep 0.1; done
SH
if command -v curl >/dev/null && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  sed -e 's/^interface = lo$/interface = twb/' -e "s|^bpf = .*|bpf =|" \
    -e "s|^jsonl = .*|jsonl = $tmp/v.jsonl|" "$tmp/d.conf" >"$tmp/v.conf"
  out=$(timeout 60 unshare -n bash "$tmp/veth.sh" "$tw" "$tmp/v.conf" "$tmp/verr" 2>&1) || fail "$out"
  echo "$out"
else
  echo "note: no network namespace here (unshare -n): the removed interface not checked"
fi
echo "live_capture: all checks passed"
