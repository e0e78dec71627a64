# nfcapd.bash: record an export capture with a real nfcapd over loopback, with nothing lost.
# Sourced (ctest runs tests/integration/*.sh only). Needs nfcapd, python3 and twgen.
#
#   nfcapd_record GEN CAPTURE DIR [EXTRA_NFCAPD_ARGS...]
#
# Sends CAPTURE (twgen send, paced) to an nfcapd writing into DIR (emptied first) on a free
# 127.0.0.1 port, waits until nfcapd has read its socket's queue, stops it (its file is written
# at SIGTERM). nfcapd's copy is a reference only when the kernel dropped none of its datagrams
# (a loaded machine can deschedule it long enough for its socket buffer to fill), so the drops
# column of /proc/net/udp decides: a round with drops is recorded again, four times slower (at
# most 4 rounds). nfcapd starts a new file at every wall-clock interval boundary (-t, 300 s by
# default): a recording that crossed one is merged into one file (nfdump -R DIR -w), so DIR
# holds the whole capture in one nfcapd.* file whatever the time of day. Every wait is bounded.
# Returns 0, or 1 with the reason on stderr.

# DIR's nfcapd files made one (the first's name); 0, or 1 with the reason on stderr
nfcapd_one_file() {
  local files=("$1"/nfcapd.[0-9]*)
  ((${#files[@]} > 1)) || return 0
  nfdump -R "$1" -w "$1/merged.tmp" >"$1.merge.log" 2>&1 \
    || { echo "nfdump could not merge ${#files[@]} nfcapd files: $(cat "$1.merge.log")" >&2; return 1; }
  rm -f "${files[@]}" && mv "$1/merged.tmp" "${files[0]}"
}

nfcapd_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# "drops" of the UDP socket bound to 127.0.0.1:$1, or nothing when none is bound
nfcapd_udp_drops() {
  awk -v a="0100007F$(printf ':%04X' "$1")" 'NR > 1 && $2 == a {print $NF}' /proc/net/udp
}

nfcapd_record() {
  local gen=$1 cap=$2 dir=$3 rate=2000 attempt port pid drops i q
  shift 3
  for attempt in 1 2 3 4; do
    rm -rf "$dir"; mkdir -p "$dir"
    port=$(nfcapd_port)
    nfcapd -w "$dir" -b 127.0.0.1 -p "$port" "$@" >"$dir.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 300; i++)); do [[ -n $(nfcapd_udp_drops "$port") ]] && break; sleep 0.1; done
    if [[ -z $(nfcapd_udp_drops "$port") ]]; then
      kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
      echo "nfcapd did not bind 127.0.0.1:$port within 30 s: $(cat "$dir.log")" >&2
      return 1
    fi
    timeout 120 "$gen" send --rate "$rate" "$cap" "127.0.0.1:$port" >/dev/null 2>&1 \
      || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; echo "twgen send failed" >&2; return 1; }
    # nfcapd has read everything once its socket's receive queue is empty (<= 10 s)
    for ((i = 0; i < 100; i++)); do
      q=$(ss -Hlun "sport = :$port" 2>/dev/null | awk '{print $2}')
      [[ ${q:-0} == 0 ]] && break
      sleep 0.1
    done
    drops=$(nfcapd_udp_drops "$port")
    sleep 0.2
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    [[ ${drops:-0} == 0 ]] && { nfcapd_one_file "$dir"; return; }
    echo "note: nfcapd: the kernel dropped $drops datagrams at $rate/s (attempt $attempt); again, slower" >&2
    rate=$((rate / 4))
  done
  echo "nfcapd lost datagrams in every attempt (machine too loaded)" >&2
  return 1
}
