#!/usr/bin/env bash
# Issue 18: `transitwatch report` from JSON lines files (plain and gzip): the whole report, and
# with --customer/--since/--until the customer abuse report addressed to the abuse contact of
# the customer map's abuse column (configs/customers.csv gives acme one), as HTML and as text:
# exactly that customer's incidents of the period, each alert's message, the feeds' listings
# with their references, the hostile share against the threshold. Bad arguments exit 2, an
# unreadable file 1; a line that is not one of our messages is counted, not fatal.
source "$(dirname "$0")/lib/common.bash"

timeout 60 "$gen" sample -f ipfix -m 30 -o "$tmp/s.pcap" -t "$tmp/t.jsonl" >/dev/null 2>&1 || fail "twgen sample"
"$tw" replay --no-stats --format json -o "$tmp/s.jsonl" -C "$cfg/customers.csv" \
  -b "spamhaus-drop=$cfg/blocklists/drop.txt" -b "feodo=$cfg/blocklists/feodo.txt" "$tmp/s.pcap"
gzip -c "$tmp/s.jsonl" >"$tmp/s.jsonl.gz"
echo 'not a message' >"$tmp/junk.jsonl"
args=(-C "$cfg/customers.csv" --customer acme --since "2008-09-20" --until "2008-09-20 00:08")
"$tw" report "${args[@]}" -o "$tmp/acme.html" "$tmp/s.jsonl.gz" "$tmp/junk.jsonl"
"$tw" report "${args[@]}" --format text "$tmp/s.jsonl" >"$tmp/acme.txt"
"$tw" report -o "$tmp/all.html" "$tmp/s.jsonl"
# the same messages written again with blanks after the colons and commas (json.dumps,
# Logstash) are still ours: the same messages read, the same incidents (numbers such as 1.000
# come back as 1.0, so not byte for byte)
python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.dumps(json.loads(l), ensure_ascii=False))' "$tmp/s.jsonl" >"$tmp/spaced.jsonl"
"$tw" report -o "$tmp/spaced.html" "$tmp/spaced.jsonl" 2>"$tmp/spaced.err"
gist() { grep -o 'messages read[^<]*\|<tr id="i-[0-9a-f]*"' "$1"; }
[[ -n $(gist "$tmp/all.html") && $(gist "$tmp/all.html") == "$(gist "$tmp/spaced.html")" ]] ||
  fail "messages with blanks after their colons give another report: $(cat "$tmp/spaced.err")"

python3 - "$tmp/s.jsonl" "$tmp/acme.html" "$tmp/acme.txt" "$tmp/all.html" <<'PY'
import json, re, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
html, txt, whole = (open(p, encoding="utf-8").read() for p in sys.argv[2:5])
def fail(m):
    print("FAIL: " + m, file=sys.stderr); sys.exit(1)
alerts = [m for m in msgs if m["event"]["kind"] == "alert"]
inper = [a for a in alerts if a["organization"]["id"] == "acme" and a["@timestamp"] < "2008-09-20T00:08"]
if not inper:
    fail("the sample has no acme alert in the period")
want = {a["event"]["id"] for a in inper}
got = set(re.findall(r'<tr id="i-([0-9a-f]+)"', html))
if got != want:
    fail("abuse report incidents %s, wanted %s" % (sorted(got), sorted(want)))
for a in inper:
    msg = a["message"]
    if msg not in txt:
        fail("text report lacks %r" % msg)
    for e in a.get("threat", {}).get("enrichments", []):
        ref = e["indicator"].get("reference")
        if ref and ref not in txt:
            fail("text report lacks the listing's reference %s" % ref)
for needle in ("To: abuse@acme.example", "threshold 5.0 %"):
    if needle not in txt:
        fail("text report lacks %r" % needle)
if "abuse@acme.example" not in html or 'class="letter"' not in html:
    fail("HTML abuse report is not addressed to the contact")
others = {a["event"]["id"] for a in alerts if a["organization"]["id"] != "acme"}
if others & set(re.findall(r'i-([0-9a-f]+)', html + txt)):
    fail("another customer's incident in acme's report")
allids = {a["event"]["id"] for a in alerts}
if set(re.findall(r'<tr id="i-([0-9a-f]+)"', whole)) != allids:
    fail("the whole report does not hold every incident")
print("report command ok: %d acme incidents in the period" % len(want))
PY
# bad arguments: 2; a file that cannot be read: 1
set +e
"$tw" report --customer 'a/../b' "$tmp/s.jsonl" >/dev/null 2>&1; [[ $? == 2 ]] || fail "a bad customer id is not a usage error"
"$tw" report --since yesterday "$tmp/s.jsonl" >/dev/null 2>&1; [[ $? == 2 ]] || fail "a bad time is not a usage error"
"$tw" report --since 2008-09-21 --until 2008-09-20 "$tmp/s.jsonl" >/dev/null 2>&1; [[ $? == 2 ]] || fail "until before since accepted"
"$tw" report "$tmp/absent.jsonl" >/dev/null 2>&1; [[ $? == 1 ]] || fail "an absent file is not exit 1"
"$tw" report >/dev/null 2>&1; [[ $? == 2 ]] || fail "no file is not a usage error"
set -e
"$tw" report --customer nosuch "$tmp/s.jsonl" | grep -q 'No alerts or summaries of this customer' ||
  fail "an unknown customer does not say it has nothing"
echo "report_cmd: ok"
