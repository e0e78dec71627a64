#!/usr/bin/env bash
# The brute-force detector on Stratosphere's real captures ($TW_SHARED/testdata/pcap/
# stratosphere-slips, see the README there), metered from the raw packets:
#   - malicious-ssh-bruteforce: nmap's vmauthd-brute (the README's "ssh-brute") from
#     147.32.80.40 against 147.32.80.37:902, 67 connections in 12.8 s. Whatever the customer map
#     (the attacker alone, attacker and target as two customers as bench/eval/real.py has them,
#     their whole /24 as one customer), exactly one bruteforce.login naming the attacker, the
#     target and port 902, outbound, with the evidence a NOC acts on; the attacked host gets no
#     alert of any kind, also when it is the only customer; no scan alert (the connections are
#     answered); one worker or three, the same alerts;
#   - the other captures (a TLS beacon with DNS, an ICMP sweep, an ARP scan): no bruteforce alert;
#   - the same captures as a 1:1 sFlow agent exports them (`twgen sflowize -r 1`: one record per
#     packet, FLOW_F_PACKET): the brute force gives the pcap replay's alert (the detector sums
#     the packets per connection), and no capture gets an alert its pcap replay does not;
#     sampled 1:2 and 1:10 (three seeds): counted per connection (never more connections or
#     attempts than the capture holds), and an alert names only the attacker.
set -euo pipefail
. "$(dirname "$0")/lib/stratosphere.bash"
cap=malicious-ssh-bruteforce.pcap

totals=--no-totals
replay() { # customers.csv-lines capture (in $caps, or a path) [workers] -> $tmp/out.jsonl
  local in=$2
  [[ $in == /* ]] || in=$caps/$in
  printf '%s\n' "$1" >"$tmp/c.csv"
  printf '[collector]\nworkers = %s\n' "${3:-1}" >"$tmp/w.conf"
  "$tw" replay -c "$tmp/w.conf" -C "$tmp/c.csv" --no-summaries $totals "$in" \
    >"$tmp/out.jsonl" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "replay of $2"; }
}
summary() { # one line per alert: rule host peer port direction flows
  python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    t = d["transitwatch"]
    print(d["rule"]["id"], t.get("host", "-"), t.get("peer", "-") or "-", d.get("destination", {}).get("port", "-"),
          d["network"]["direction"], t["flows"])
PY
}

for cust in "147.32.80.40/32,attacker,A" $'147.32.80.40/32,attacker,A\n147.32.80.37/32,victim,V' \
            "147.32.80.0/24,ctu,CTU"; do
  for workers in 1 3; do
    replay "$cust" "$cap" "$workers"
    out=$(summary)
    echo "${cust//$'\n'/ + } ($workers workers): $out"
    [[ $(grep -c . <<<"$out") -eq 1 ]] || fail "want exactly one alert ($cust): $out"
    grep -q '^bruteforce.login 147.32.80.40 147.32.80.37 902 outbound 65$' <<<"$out" \
      || fail "brute force not reported as expected ($cust): $out"
    ! grep -q ' 147.32.80.37 .* inbound\|^[a-z.]* 147.32.80.37 ' <<<"$out" || fail "the attacked host was flagged: $out"
    [[ $workers == 1 ]] && cp "$tmp/out.jsonl" "$tmp/one.jsonl"
  done
  cmp -s "$tmp/one.jsonl" "$tmp/out.jsonl" || fail "1 and 3 workers differ ($cust)"
done

# the evidence: what a NOC needs to act without rerunning anything
replay "147.32.80.40/32,attacker,A" "$cap"
python3 - "$tmp/out.jsonl" <<'PY' || fail "evidence"
import json, sys
d = json.loads(open(sys.argv[1]).readline())
t, e = d["transitwatch"], d["transitwatch"]["evidence"]
assert d["rule"]["category"] == "bruteforce" and t["detector"] == "bruteforce", d["rule"]
assert d["source"]["ip"] == "147.32.80.40" and d["destination"] == {"ip": "147.32.80.37", "port": 902}, d
assert e["target"] == "147.32.80.37" and e["port"] == 902 and e["protocol"] == "tcp", e
# 67 SYNs: the first two (a SYN+RST probe, a handshake without data) come before the first
# guess; the meter's one-packet ACK records after each connection are not connections
assert e["connections"] == 65 and e["answered"] == 65 and e["answered_share"] == 1.0, e
assert e["login_attempts"] == 65 and e["attempts_in_window"] == 65, e
assert 12.0 <= e["span_s"] <= 13.0, e
assert e["bytes"] == t["bytes"] > 100000 and e["packets"] == t["packets"] > 600, (e, t)
b = e["attempt_bytes"]
assert b["min"] == 240 and b["max"] == 2448 and 1500 < b["mean"] < 2000 and b["stddev"] > 0, b
assert e["attempt_packets"]["min"] == 4 and e["attempt_packets"]["max"] == 13, e
assert 0.7 <= e["similar_share"] <= 0.75 and e["similar_bytes"][0] <= 2136 and e["similar_bytes"][1] >= 2448, e
assert e["first"] == t["first_seen"] and e["last"] == t["last_seen"], (e, t)
assert t["severity"] == "medium" and 0.5 < t["score"] <= 1, t
print("evidence:", json.dumps(e))
PY

# the attacked host alone as the customer: nothing
replay "147.32.80.37/32,victim,V" "$cap"
[[ ! -s $tmp/out.jsonl ]] || fail "the attacked host, alone as a customer, was flagged: $(summary)"

for c in "147.32.80.37/32,host,H test-cc-capture-2.pcap" "192.168.1.0/24,lan,LAN test12-icmp-portscan.pcap" \
         "192.168.1.0/24,lan,LAN test8-malicious.pcap"; do
  replay "${c% *}" "${c##* }"
  ! grep -q '"detector":"bruteforce"' "$tmp/out.jsonl" || fail "${c##* }: a bruteforce alert: $(summary)"
done
# sFlow: the captures' packets as an agent exports them (one flow sample per packet)
twgen=$TW_BIN/tests/twgen
alerts() { # rule host peer port of every alert, sorted
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l); t = d["transitwatch"]
    if "rule" in d:
        print(d["rule"]["id"], t.get("host", "-"), t.get("peer", "-") or "-", d.get("destination", {}).get("port", "-"))
' "$tmp/out.jsonl" | sort
}
evidence() { # connections, login attempts and attempts in the window of the first alert
  python3 -c '
import json, sys
e = json.loads(open(sys.argv[1]).readline())["transitwatch"]["evidence"]
print(e["connections"], e["login_attempts"], e["attempts_in_window"])' "$tmp/out.jsonl"
}
sflowize() { # capture rate seed -> $tmp/sflow.pcap
  "$twgen" sflowize "$caps/$1" "$tmp/sflow.pcap" -r "$2" -s "$3" 2>/dev/null || fail "twgen sflowize $1"
}
for cust in "147.32.80.40/32,attacker,A" "147.32.80.0/24,ctu,CTU"; do
  replay "$cust" "$cap"
  want=$(alerts) pcap_ev=$(evidence)
  sflowize "$cap" 1 1
  replay "$cust" "$tmp/sflow.pcap"
  got=$(alerts)
  [[ $got == "$want" ]] || fail "1:1 sFlow ($cust): alerts differ from the pcap replay's: $got / $want"
  read -r c a w <<<"$(evidence)"
  read -r pc pa pw <<<"$pcap_ev"
  echo "$cust: pcap replay $pc connections, $pa attempts ($pw in the window); 1:1 sFlow $c, $a ($w)"
  ((a >= pa - 3 && a <= pa + 3 && w >= pw - 3 && w <= pw + 3)) \
    || fail "1:1 sFlow attempts $a ($w) far from the pcap replay's $pa ($pw)"
done
totals= # with the detector's counters
for rs in "2 1" "10 1" "10 2" "10 3"; do # sampled: a connection counted once (67 in all)
  read -r rate seed <<<"$rs"
  sflowize "$cap" "$rate" "$seed"
  replay "147.32.80.40/32,attacker,A" "$tmp/sflow.pcap"
  out=$(alerts)
  echo "1:$rate seed $seed: ${out:-no alert}"
  [[ -z $out ]] || ! grep -qv "^bruteforce.login 147.32.80.40 147.32.80.37 902$" <<<"$out" || fail "1:$rate seed $seed: $out"
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if "transitwatch" in d and "totals" in d["transitwatch"]:
        b = d["transitwatch"]["totals"]["detectors"]["bruteforce"]
        assert b["connections"] <= 67 and b["login_attempts"] <= 65, b
        assert b["packet_records"] > 0 and b["connections_open"] == 0, b
' "$tmp/out.jsonl" || fail "1:$rate seed $seed: more connections or attempts than the capture holds"
done
totals=--no-totals
for c in "147.32.80.37/32,host,H test-cc-capture-2.pcap" "192.168.1.0/24,lan,LAN test12-icmp-portscan.pcap" \
         "192.168.1.0/24,lan,LAN test8-malicious.pcap" "147.32.80.37/32,victim,V $cap"; do
  replay "${c% *}" "${c##* }"
  want=$(alerts)
  sflowize "${c##* }" 1 1
  replay "${c% *}" "$tmp/sflow.pcap"
  new=$(comm -13 <(echo "$want") <(alerts))
  [[ -z $new ]] || fail "${c##* } as 1:1 sFlow: alerts its pcap replay does not give: $new"
done
echo "bruteforce_realdata: all checks passed"
