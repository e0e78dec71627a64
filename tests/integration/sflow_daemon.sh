#!/usr/bin/env bash
# sFlow v5 into the daemon over UDP (the same listener as NetFlow): the counter samples of real
# agents (cistern's counter sample, the switch agents of tcpdump's 30-PDU capture) appear on
# /metrics per agent and interface with the values tshark shows; the flow samples of an IPv6
# agent become records (exporter metrics under the agent's address).
source "$(dirname "$0")/lib/daemon.bash"
data=${TW_SHARED:-}/testdata/sflow
[[ -d $data ]] || { echo "SKIP: $data not found (set TW_SHARED)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
cat >"$tmp/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
[metrics]
listen = 127.0.0.1:0
CONF
tw_start "$tmp/tw.conf"
# raw datagram files: wrap the cistern counter sample in a capture to send it
python3 - "$data/cistern-sflow/counter_sample.dump" "$tmp/cs.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
udp = struct.pack(">HHHH", 40000, 6343, 8 + len(d), 0) + d
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                 bytes([127, 0, 0, 2])) + udp
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    f.write(struct.pack("<IIII", 1700000000, 0, len(ip), len(ip)) + ip)
PY
for c in "$tmp/cs.pcap" "$data/tcpdump/sflow_multiple_counter_30_pdus.pcap" "$data/tcpdump/sflow-print-v6.pcap"; do
  $gen send --dport 6343 "$c" "127.0.0.1:$udp_port" >"$tmp/send.out" 2>&1 || fail "twgen send: $(cat "$tmp/send.out")"
done
has() { scrape "$tmp/m" && grep -qE "$1" "$tmp/m"; }
# /metrics is published by the 1 s status timer
wait_for 20 has 'transitwatch_exporter_records_total\{exporter="30::1:1:1"\} 13' \
  || fail "the IPv6 agent's 13 flow samples: $(grep exporter_records "$tmp/m")"
has 'transitwatch_sflow_interface_octets_total\{agent="208.85.240.52",ifindex="9",direction="in"\} 79282473' \
  || fail "cistern's ifIndex 9 in-octets: $(grep 'sflow_interface_octets' "$tmp/m" | head)"
has 'transitwatch_sflow_interface_octets_total\{agent="208.85.240.52",ifindex="9",direction="out"\} 764247430' \
  || fail "cistern's ifIndex 9 out-octets"
has 'transitwatch_sflow_interface_speed_bits_per_second\{agent="208.85.240.52",ifindex="9"\} 100000000' \
  || fail "cistern's ifIndex 9 speed"
agents=$(grep '^transitwatch_sflow_interface_speed' "$tmp/m" | sed 's/.*agent="\([^"]*\)".*/\1/' | sort -u | grep -c '^15\.184\.')
# 4 of its 6 agents send generic interface records (tshark); the other two are Linux hosts
# sending host counters only
[[ $agents -eq 4 ]] || fail "interfaces of $agents agents, tshark shows 4"
has 'transitwatch_decode_version_datagrams_total\{version="sflow5"\} 51' \
  || fail "sflow datagrams: $(grep 'version_datagrams' "$tmp/m")"
tw_stop
echo "sflow_daemon: ok"
