#!/usr/bin/env bash
# Issue 13 item 10: replay output readable without jq. --format text gives one line per alert
# (time, severity, customer, host, rule, peer, the alert's message), a table per customer and
# what each rule seen means (its description and reference from the rule table: a rule without
# an entry fails here); JSON lines stay the default into pipes and files, text is the default
# on a terminal. The text is checked against the JSON of the same run, line for line.
source "$(dirname "$0")/lib/common.bash"

timeout 60 "$gen" eval -f ipfix -m 60 -s 2008 -x 0.3 -o "$tmp/e.pcap" -t "$tmp/truth.jsonl" \
  --write-customers "$tmp/e.csv" --write-config "$tmp/e.conf" >/dev/null 2>&1 || fail "twgen eval"
printf '; own space\n100.64.0.0/30 ; SBL999\n' >"$tmp/own.txt"
args=(-c "$tmp/e.conf" -C "$tmp/e.csv" -b "own=$tmp/own.txt" "$tmp/e.pcap")
"$tw" replay --no-stats "${args[@]}" >"$tmp/out.json"            # a pipe: JSON lines
"$tw" replay --no-stats --format text "${args[@]}" >"$tmp/out.txt"
"$tw" --list-rules >"$tmp/rules.jsonl"
head -c1 "$tmp/out.json" | grep -q '{' || fail "a pipe did not get JSON lines"

python3 - "$tmp/out.json" "$tmp/out.txt" "$tmp/rules.jsonl" <<'PY'
import collections, json, sys
js = [json.loads(l) for l in open(sys.argv[1])]
text = open(sys.argv[2]).read().split("\n")
table = {r["id"]: r for r in map(json.loads, open(sys.argv[3]))}
def fail(m):
    print("FAIL: " + m, file=sys.stderr)
    sys.exit(1)
alerts = [d for d in js if d["event"]["kind"] == "alert"]
if len(alerts) < 20:
    fail("scenario too quiet: %d alerts" % len(alerts))
hdr = [i for i, l in enumerate(text) if l.startswith("time (UTC)")]
if len(hdr) != 1:
    fail("one column header wanted, got %d" % len(hdr))
lines = text[hdr[0] + 1:hdr[0] + 1 + len(alerts)]
# one line per alert, in order: time, severity, customer, host, rule, message
for a, l in zip(alerts, lines):
    want = [a["@timestamp"][:10] + " " + a["@timestamp"][11:19], a["transitwatch"]["severity"],
            a["organization"]["id"], a["transitwatch"].get("host", "-"), a["rule"]["id"]]
    cols = l.split()
    if cols[:2] != want[0].split() or cols[2:5] != want[1:4] or cols[5] != want[4]:
        fail("alert line %r is not %r" % (l[:120], want))
    if not l.endswith(a["message"]):
        fail("alert line does not end with its message: %r" % l[:200])
    peer = a["transitwatch"].get("peer")
    if peer and peer not in l:
        fail("alert line without its peer %s" % peer)
if text[hdr[0] + 1 + len(alerts)] != "":
    fail("more alert lines than alerts: %r" % text[hdr[0] + 1 + len(alerts)])
# the customer table: every customer with a summary, its figures summed from the summaries
sums = collections.defaultdict(lambda: collections.Counter())
for d in js:
    if d["event"].get("dataset") == "transitwatch.summary":
        c = sums[d["organization"]["id"]]
        c["windows"] += 1
        c["alerts"] += d["transitwatch"]["alerts"]
        c["flows_out"] += d["transitwatch"]["outbound"]["flows"]
        c["flows_in"] += d["transitwatch"]["inbound"]["flows"]
        # the 24-hour view of the customer's latest window: its active hosts beside the
        # alerted and hostile ones they are shares of (not a window's active hosts)
        for k in ("active_hosts", "hosts_alerted", "hostile_hosts"):
            c["day_" + k] = d["transitwatch"]["last_24h"][k]
start = next(i for i, l in enumerate(text) if l.startswith("customer "))
rows = {}
for l in text[start + 1:]:
    if not l.strip():
        break
    f = l.split()
    rows[f[0]] = f
if set(rows) != set(sums):
    fail("table customers %s != summaries' %s" % (sorted(rows), sorted(sums)))
for cid, c in sums.items():
    f = rows[cid]
    got = {"windows": int(f[1]), "day_active_hosts": int(f[2]), "day_hosts_alerted": int(f[3]),
           "day_hostile_hosts": int(f[4]), "alerts": int(f[5]),
           "flows_out": int(f[6]), "flows_in": int(f[7])}
    for k, v in got.items():
        if v != c[k]:
            fail("table %s %s = %d, summaries say %d" % (cid, k, v, c[k]))
# every rule seen is explained with the rule table's description and reference
seen = collections.Counter(a["rule"]["id"] for a in alerts)
body = "\n".join(text)
for rid, n in seen.items():
    r = table.get(rid)
    if r is None:
        fail("rule %s has no entry in the rule table" % rid)
    entry = "  %s (%d): %s\n    %s\n    %s" % (rid, n, r["name"], r["description"], r["reference"])
    if entry not in body:
        fail("rule %s not explained as the table has it" % rid)
if "(no description" in body:
    fail("a rule without a description")
tot = [d for d in js if d["event"].get("dataset") == "transitwatch.totals"][0]
if text[-2] != tot["message"]:
    fail("last line %r is not the totals' message" % text[-2])
print("text: %d alert lines, %d customers in the table, %d rules explained" %
      (len(alerts), len(rows), len(seen)))
PY

# files: JSON unless asked; text into a file when asked
"$tw" replay --no-stats -o "$tmp/f.json" "${args[@]}"
cmp -s "$tmp/f.json" "$tmp/out.json" || fail "-o FILE is not the JSON lines"
"$tw" replay --no-stats --format text -o "$tmp/f.txt" "${args[@]}"
cmp -s "$tmp/f.txt" "$tmp/out.txt" || fail "--format text -o FILE is not the text"
# a terminal: text by default (script gives the replay a pseudo-terminal)
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' "$tw" replay --no-stats --no-progress "${args[@]}")" /dev/null \
    | tr -d '\r' >"$tmp/tty.txt"
  grep -q '^time (UTC) ' "$tmp/tty.txt" || fail "a terminal did not get text: $(head -c 300 "$tmp/tty.txt")"
  grep -q '^{"@timestamp"' "$tmp/tty.txt" && fail "JSON on a terminal"
  script -qec "$(printf '%q ' "$tw" replay --no-stats --no-progress --format json "${args[@]}")" /dev/null \
    | tr -d '\r' >"$tmp/tty.json"
  [[ $(head -c 14 "$tmp/tty.json") == '{"@timestamp":' ]] || fail "--format json on a terminal"
else
  echo "script (util-linux) not installed: the terminal default is not checked"
fi
# a usage error names the option
set +e
"$tw" replay --format yaml "$tmp/e.pcap" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q -- '--format takes text or json' "$tmp/err" || fail "bad --format: exit $rc: $(cat "$tmp/err")"
echo "text_output: all checks passed"
