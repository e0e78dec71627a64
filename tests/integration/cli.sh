#!/usr/bin/env bash
# The command line as an operator uses it: help/version, the annotated example config kept equal
# to the code, --check-config errors naming file and line, replay of generated captures
# (deterministic, the same alerts from v5, v9 and IPFIX exports), hostile capture files.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

$tw --version | grep -q '^transitwatch ' || fail "--version"
$tw --help | grep 'replay' >/dev/null || fail "--help"
$tw replay --help | grep -- '--blocklist' >/dev/null || fail "replay --help"
if $tw --bogus >/dev/null 2>&1; then fail "unknown option accepted"; fi

# the shipped annotated example is exactly what the code documents, and it loads
$tw --example-config | diff -u "$TW_SRC/configs/transitwatch.conf" - \
  || fail "configs/transitwatch.conf is stale: regenerate with transitwatch --example-config"
$tw --config "$TW_SRC/configs/transitwatch.conf" --check-config >/dev/null || fail "example config"

# a full config with lists
cat >"$tmp/ok.conf" <<CONF
[customers]
file = $TW_SRC/configs/customers.csv
[blocklist drop]
file = $TW_SRC/configs/blocklists/drop.txt
[blocklist feodo]
file = $TW_SRC/configs/blocklists/feodo.txt
format = plain
[exporter 10.255.0.0/24]
default_sampling = 1
CONF
$tw --config "$tmp/ok.conf" --check-config | grep -q 'OK (5 customers' || fail "check-config ok"

check_err() { # config-text expected-regex
  printf '%b' "$1" >"$tmp/bad.conf"
  if out=$($tw --config "$tmp/bad.conf" --check-config 2>&1); then fail "accepted: $1"; fi
  echo "$out" | grep -Eq "$2" || fail "error for '$1' was: $out"
}
check_err '[collector]\nworkers = 2\nbogus = 1\n' "bad.conf:3: .*bogus"
check_err '[nosuch]\n' "bad.conf:1: .*nosuch"
check_err '[pipeline]\nwindow = 5\n' "bad.conf:2: .*window"
check_err '[collector]\nworkers = many\n' "bad.conf:2: "
check_err '[pipeline]\ndetectors = blocklist, nosuch\n' "nosuch"
check_err '[exporter not-an-address]\n' "not-an-address"
check_err '[blocklist x]\nformat = drop\n' "file is required"
printf '10.0.0.0/8,ok,Fine\n10.1.0.0/33,bad,Broken\n' >"$tmp/map.csv"
check_err "[customers]\nfile = $tmp/map.csv\n" "map.csv:2: "
printf '1.2.3.0/24 ; SBL1\n' >"$tmp/drop.txt"
check_err "[blocklist d]\nfile = $tmp/nosuchfile\n" "nosuchfile"

# replay: deterministic, and the same alerts whatever the export format
lists=(--customers "$TW_SRC/configs/customers.csv"
       --blocklist drop="$TW_SRC/configs/blocklists/drop.txt"
       --blocklist feodo="$TW_SRC/configs/blocklists/feodo.txt")
for f in v5 v9 ipfix; do
  $gen sample -f $f -m 20 -o "$tmp/s-$f.pcap" 2>/dev/null
  $tw replay "${lists[@]}" "$tmp/s-$f.pcap" >"$tmp/o-$f.jsonl"
  $tw replay "${lists[@]}" "$tmp/s-$f.pcap" >"$tmp/o2-$f.jsonl"
  cmp -s "$tmp/o-$f.jsonl" "$tmp/o2-$f.jsonl" || fail "replay of $f not deterministic"
  grep '"kind":"alert"' "$tmp/o-$f.jsonl" | grep -v '"host":"[^"]*:' |
    sed 's/"observer":{[^}]*},//' >"$tmp/a-$f.jsonl" || true
  tail -1 "$tmp/o-$f.jsonl" | grep -q '"dataset":"transitwatch.totals"' || fail "no totals line ($f)"
done
[[ $(wc -l <"$tmp/a-v5.jsonl") -ge 4 ]] || fail "too few alerts: $(wc -l <"$tmp/a-v5.jsonl")"
# one alert per event: an address on both feeds is one alert naming both
dups=$(python3 -c 'import json,sys,collections
c=collections.Counter()
for l in open(sys.argv[1]):
    d=json.loads(l); t=d["transitwatch"]; c[(d["rule"]["id"],t.get("host"),t.get("peer"))]+=1
print(sum(n-1 for n in c.values()))' "$tmp/a-v5.jsonl")
[[ $dups -eq 0 ]] || fail "$dups alerts repeat an event of the same window"
grep -q '"enrichments":\[{[^]]*"provider":"drop"[^]]*"provider":"feodo"' "$tmp/a-v5.jsonl" \
  || fail "no alert names both feeds of a doubly listed address"
cmp -s "$tmp/a-v5.jsonl" "$tmp/a-v9.jsonl" || { diff "$tmp/a-v5.jsonl" "$tmp/a-v9.jsonl" | head -5; fail "v5 and v9 alerts differ"; }
cmp -s "$tmp/a-v9.jsonl" "$tmp/a-ipfix.jsonl" || fail "v9 and IPFIX alerts differ"
# -o writes the same bytes as stdout; gzip input gives the same output
$tw replay "${lists[@]}" -o "$tmp/o-file.jsonl" "$tmp/s-ipfix.pcap"
cmp -s "$tmp/o-file.jsonl" "$tmp/o-ipfix.jsonl" || fail "-o output differs"
gzip -c "$tmp/s-ipfix.pcap" >"$tmp/s-ipfix.pcap.gz"
$tw replay "${lists[@]}" "$tmp/s-ipfix.pcap.gz" | cmp -s - "$tmp/o-ipfix.jsonl" || fail "gzip replay differs"

# hostile files: a clear error and a non-zero exit, never a crash
head -c 5000 "$tmp/s-ipfix.pcap" >"$tmp/trunc.pcap"
set +e
$tw replay "${lists[@]}" "$tmp/trunc.pcap" >"$tmp/o-trunc.jsonl" 2>"$tmp/e-trunc"; rc=$?
set -e
[[ $rc -eq 1 ]] || fail "truncated capture: exit $rc"
grep -q 'trunc.pcap' "$tmp/e-trunc" || fail "truncated capture: no message naming the file"
if grep -q 'trunc.pcap: [^ ]*trunc.pcap:' "$tmp/e-trunc"; then fail "the file named twice: $(cat "$tmp/e-trunc")"; fi
tail -1 "$tmp/o-trunc.jsonl" | grep -q 'transitwatch.totals' || fail "truncated capture: no totals"
head -c 3000 /dev/urandom >"$tmp/garbage.pcap"
set +e
$tw replay "$tmp/garbage.pcap" >/dev/null 2>"$tmp/e-garbage"; rc=$?
$tw replay "$tmp/nosuch.pcap" >/dev/null 2>"$tmp/e-missing"; rc2=$?
set -e
[[ $rc -ne 0 && $rc -lt 128 ]] || fail "garbage capture: exit $rc"
[[ $rc2 -ne 0 && $rc2 -lt 128 ]] || fail "missing capture: exit $rc2"
grep -q 'nosuch.pcap' "$tmp/e-missing" || fail "missing capture: message"
# a directory with a file that cannot be read (a dangling link; no permission when not root):
# an error naming it and exit 1, the rest replayed (it used to be skipped without a word, exit 0)
mkdir "$tmp/dir"
cp "$tmp/s-ipfix.pcap" "$tmp/dir/a.pcap"
ln -s "$tmp/gone.pcap" "$tmp/dir/b.pcap"
: >"$tmp/dir/empty.pcap" # no capture: skipped, but said
if [[ $EUID -ne 0 ]]; then cp "$tmp/s-ipfix.pcap" "$tmp/dir/c.pcap" && chmod 000 "$tmp/dir/c.pcap"; fi
set +e
$tw replay "${lists[@]}" "$tmp/dir" >"$tmp/o-dir.jsonl" 2>"$tmp/e-dir"; rc=$?
set -e
[[ $rc -eq 1 ]] || fail "directory with an unreadable file: exit $rc"
grep -q 'b.pcap: No such file' "$tmp/e-dir" || fail "dangling link not named: $(cat "$tmp/e-dir")"
if [[ $EUID -ne 0 ]]; then grep -q 'c.pcap: Permission denied' "$tmp/e-dir" || fail "unreadable file not named"; fi
grep -q "warn: $tmp/dir: 1 file skipped: .*(the first: $tmp/dir/empty.pcap)" "$tmp/e-dir" \
  || fail "skipped file not said: $(cat "$tmp/e-dir")"
grep -v '"dataset":"transitwatch.totals"' "$tmp/o-dir.jsonl" | cmp -s - <(grep -v '"dataset":"transitwatch.totals"' "$tmp/o-ipfix.jsonl") \
  || fail "directory with an unreadable file: the readable capture's output differs"
# two captures of the same 20 minutes in a directory are read one after the other: the second's
# records come late, and a warning says so (it was silent); one capture alone gives none
$gen sample -f v5 -m 20 -s 2 -o "$tmp/dir2.pcap" 2>/dev/null
mkdir "$tmp/ov" && cp "$tmp/s-v5.pcap" "$tmp/dir2.pcap" "$tmp/ov/"
$tw replay "${lists[@]}" "$tmp/ov" >"$tmp/o-ov.jsonl" 2>"$tmp/e-ov" || fail "overlapping captures: exit $?"
late=$(tail -1 "$tmp/o-ov.jsonl" | grep -o '"flows_late":[0-9]*' | cut -d: -f2)
[[ $late -gt 0 ]] || fail "overlapping captures: no late records"
grep -q "warn: $late records came after their window had closed.*overlap in time" "$tmp/e-ov" \
  || fail "overlapping captures: no warning: $(cat "$tmp/e-ov")"
$tw replay "${lists[@]}" "$tmp/s-v5.pcap" 2>"$tmp/e-one" >/dev/null
if grep -q 'overlap' "$tmp/e-one"; then fail "one capture: overlap warning"; fi
echo "cli: all checks passed"
