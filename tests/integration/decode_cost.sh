#!/usr/bin/env bash
# Work per record under decoder storms, counted in instructions (callgrind), not seconds.
#
# For each storm of `twgen storm` (withdrawals of all options templates or of unknown ids into a
# domain holding 1024 templates, template-id churn in a full domain with data sets pending, a
# flood of new observation domains into a full domain table), two captures are replayed under
# callgrind, one with K storm messages and one with 2K, counting only the instructions spent
# inside decode_datagram. The difference divided by the records of K messages is the cost of
# one storm record, set-up excluded; it must stay under a fixed bound a few times what an
# ordinary data record costs. A per-record scan of the template table (64k buckets) or of the
# domain table costs tens of thousands. Skips (77) without valgrind or in a sanitizer build.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed (scripts/deps.sh test)"; exit 77; }
source "$(dirname "$0")/lib/build.bash"
if build_has SANITIZE TSAN FUZZ; then
  echo "SKIP: sanitizer build (callgrind needs the plain build)"; exit 77
fi
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# small tables elsewhere keep valgrind's start-up short; the decoder's are the defaults except
# what the storms need (withdrawals honoured, 4096 domains, 4096 pending data sets)
cat >"$tmp/tw.conf" <<CONF
[templates]
ipfix_udp_withdrawal = yes
max_domains = 4096
pending_max = 4096
[pipeline]
hosts_max = 4096
alerts_max = 1024
[meter]
max_flows = 1024
CONF
"$tw" --config "$tmp/tw.conf" --check-config >/dev/null || fail "config refused"

# instructions inside decode_datagram for one replay
ir() {
  local out=$tmp/cg.$RANDOM
  # a few seconds when bounded; a per-record table scan takes many minutes: stop it at 120 s
  timeout 120 valgrind --tool=callgrind --toggle-collect=decode_datagram \
    --callgrind-out-file="$out" "$tw" replay -c "$tmp/tw.conf" --no-summaries "$1" \
    >/dev/null 2>"$out.log" \
    || fail "replay of $(basename "$1") under callgrind failed or ran over 120 s (unbounded work per record?): $(tail -3 "$out.log")"
  awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

# storm  K  bound(Ir per record)
check() {
  local kind=$1 k=$2 bound=$3 line per a b cost
  line=$("$gen" storm "$kind" -n "$k" -o "$tmp/a.pcap") || fail "twgen storm $kind"
  "$gen" storm "$kind" -n $((2 * k)) -o "$tmp/b.pcap" >/dev/null || fail "twgen storm $kind"
  per=${line##*per_message=}
  a=$(ir "$tmp/a.pcap")
  b=$(ir "$tmp/b.pcap")
  [[ -n $a && -n $b ]] || fail "$kind: no callgrind totals"
  cost=$(( (b - a) / (k * per) ))
  echo "decode_cost: $kind: $cost instructions per record (bound $bound; $k x $per records: $a -> $b)"
  (( cost > 0 && cost <= bound )) || fail "$kind: $cost instructions per record, bound $bound"
}

# An ordinary flow record costs a few hundred instructions to decode (bench/RESULTS.md); a
# storm record must not cost more than a few of those.
check withdraw-all-options 2 1000
check withdraw-one 2 1000
check template-churn 2 4000
check domain-flood 2000 6000
echo "decode_cost: all storms bounded"
