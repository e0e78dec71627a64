#!/usr/bin/env bash
# Every line transitwatch writes is checked against the written-down schemas: replays of
# generated samples (NetFlow v5, v9, IPFIX, and a longer IPFIX run with more hosts, which makes
# the slower detectors fire too) with the sample customer map and blocklists (and a list of part
# of a customer's own space), and the labelled evaluation scenario (twgen eval: spam, beacon,
# scan, flood, hostility), also as 1:100 sampled sFlow; every alert line against configs/alert.schema.json, every summary
# against configs/summary.schema.json, the totals against configs/totals.schema.json. Every
# line also against the published ECS definitions of the fields we write (validate.py ecs,
# tests/integration/ecs_fields.json: types, allowed values, event.type per category), and every
# alert's rule against the rule table (validate.py rules: an entry, its name, description,
# reference and category, a message with every placeholder filled). Whatever detectors exist,
# whatever alert kinds appear are validated.
# Also: the validator rejects broken messages (so a pass means something).
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema not installed"; exit 77; }
# (rules and ecs need no jsonschema; lines does)
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
val="python3 $TW_SRC/tests/integration/validate.py"
cfg=$TW_SRC/configs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

lists=(-C "$cfg/customers.csv" -b "drop=$cfg/blocklists/drop.txt" -b "dropv6=$cfg/blocklists/drop_v6.txt"
       -b "feodo=$cfg/blocklists/feodo.csv")
declare -A rules_seen=() cats_seen=()
"$tw" --list-rules >"$tmp/rules.jsonl"
# part of a customer's own space and some of its hosts listed (blocklist.customer_space_listed,
# blocklist.host_listed)
printf '; own space\n192.0.2.0/26 ; SBL999\n' >"$tmp/own.txt"
run() { # name, twgen sample options...
  local name=$1; shift
  timeout 60 "$gen" sample "$@" -o "$tmp/$name.pcap" 2>/dev/null || fail "twgen sample $*"
  check "$name" "${lists[@]}"
}
check() { # name, replay options: replays $tmp/$name.pcap and validates every line
  local name=$1; shift
  timeout 60 "$tw" replay "$@" -o "$tmp/$name.jsonl" "$tmp/$name.pcap" 2>"$tmp/$name.log" \
    || { cat "$tmp/$name.log" >&2; fail "replay $name"; }
  $val lines --min-alerts 1 --stats "$tmp/$name.stats" "$tmp/$name.jsonl" || fail "$name: invalid output"
  $val ecs "$tmp/$name.jsonl" || fail "$name: not ECS"
  $val rules --table "$tmp/rules.jsonl" "$tmp/$name.jsonl" || fail "$name: a rule without its table entry"
  [[ $(tail -1 "$tmp/$name.jsonl") == *'"dataset":"transitwatch.totals"'* ]] || fail "$name: no totals line last"
  for r in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["rules"]))' "$tmp/$name.stats"); do
    rules_seen[$r]=1
  done
  for r in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["categories"]))' "$tmp/$name.stats"); do
    cats_seen[$r]=1
  done
}
run v5 -f v5 -m 12
run v9 -f v9 -m 12
run ipfix -f ipfix -m 12
run rich -f ipfix -m 60 -n 60 -s 7
cp "$tmp/rich.pcap" "$tmp/own.pcap"
check own "${lists[@]}" -b "own=$tmp/own.txt"
for r in blocklist.customer_space_listed blocklist.host_listed; do
  [[ -n ${rules_seen[$r]:-} ]] || fail "no $r alert was validated"
done
# The labelled evaluation scenario (bench/eval) makes every behavioural detector fire.
if "$gen" eval -h >/dev/null 2>&1; then
  timeout 60 "$gen" eval -f ipfix -m 120 -s 2008 -x 0.3 -o "$tmp/eval.pcap" -t "$tmp/truth.jsonl" \
    --write-customers "$tmp/eval.csv" --write-config "$tmp/eval.conf" 2>/dev/null || fail "twgen eval"
  check eval -c "$tmp/eval.conf" -C "$tmp/eval.csv"
  # the same traffic as 1:100 sampled sFlow (without the flooders, whose 7 M samples take a
  # sanitizer build minutes): its alerts carry transitwatch.sampling
  timeout 120 "$gen" eval -f sflow -N 100 -z -F -m 120 -s 2008 -x 0.3 -o "$tmp/sflow.pcap.gz" \
    || fail "twgen eval -f sflow"
  mv "$tmp/sflow.pcap.gz" "$tmp/eval-sflow.pcap"
  check eval-sflow -c "$tmp/eval.conf" -C "$tmp/eval.csv"
  grep -q '"sampling":{"sampled":true,"rate":100}' "$tmp/eval-sflow.jsonl" \
    || fail "no alert of the sampled sFlow export says it was sampled"
  for c in blocklist spam c2 scan flood customer; do
    [[ -n ${cats_seen[$c]:-} ]] || fail "no alert of category $c was validated"
  done
else
  echo "schema: twgen eval not built: behavioural detectors' alerts not covered"
fi
echo "schema: rule ids seen: ${!rules_seen[*]}"
echo "schema: categories seen: ${!cats_seen[*]}"
[[ ${#rules_seen[@]} -ge 2 ]] || fail "fewer than two kinds of alert in the samples"

# The validator must reject what breaks the schema.
alert=$(grep -m1 '"kind":"alert"' "$tmp/rich.jsonl")
summary=$(grep -m1 '"dataset":"transitwatch.summary"' "$tmp/rich.jsonl")
bad() { # description, JSON line
  printf '%s\n' "$2" >"$tmp/bad.jsonl"
  if $val lines "$tmp/bad.jsonl" >/dev/null 2>&1; then fail "validator accepted: $1"; fi
}
bad "alert without event.id" "${alert/\"id\":\"/\"xid\":\"}"
bad "alert with an unknown top-level field" "{\"foo\":1,${alert#\{}"
bad "alert with a bad severity" "$(sed 's/"severity":[0-9]*/"severity":50/' <<<"$alert")"
bad "alert with a bad category" "$(sed 's/"category":"[a-z0-9]*"/"category":"nope"/' <<<"$alert")"
bad "alert with a bad address" "$(sed 's/"host":"[^"]*"/"host":"300.1.2.3"/' <<<"$alert")"
bad "alert with a bad time" "$(sed 's/"@timestamp":"[^"]*"/"@timestamp":"yesterday"/' <<<"$alert")"
bad "summary with a string count" "$(sed 's/"active_hosts":\([0-9]*\)/"active_hosts":"\1"/' <<<"$summary")"
bad "summary without hosts_by_category" "$(sed 's/"hosts_by_category":{[^}]*},//' <<<"$summary")"
bad "summary as an alert kind" "${summary/\"kind\":\"metric\"/\"kind\":\"alert\"}"
bad "not JSON" "{\"event\":"
bad "alert without ecs.version" "${alert/\"ecs\":{\"version\":\"[0-9.]*\"},/}"
bad "alert with an unfilled message placeholder" "$(sed 's/"message":"/"message":"{?ev.x} /' <<<"$alert")"
bad "alert whose rule has no description" "$(sed 's/"description":"[^"]*",//' <<<"$alert")"
totals=$(tail -1 "$tmp/rich.jsonl")
bad "totals without @timestamp" "$(sed 's/"@timestamp":"[^"]*",//' <<<"$totals")"
bad "totals with a negative counter" "$(sed 's/"records":[0-9]*/"records":-1/' <<<"$totals")"

# The ECS check and the rule check reject what ECS and the table do not allow.
ecsbad() { # description, JSON line
  printf '%s\n' "$2" >"$tmp/bad.jsonl"
  if $val ecs "$tmp/bad.jsonl" >/dev/null 2>&1; then fail "ECS check accepted: $1"; fi
}
ecsbad "event.type indicator for category network" "$(sed 's/"type":\["info"\]/"type":["indicator"]/' <<<"$alert")"
ecsbad "an event.type ECS does not have" "$(sed 's/"type":\["info"\]/"type":["alert"]/' <<<"$alert")"
ecsbad "an event.kind ECS reserves for Kibana" "${alert/\"kind\":\"alert\"/\"kind\":\"signal\"}"
ecsbad "a field ECS does not define" "${alert/\"source\":{/\"source\":{\"hostname_x\":\"a\",}"
ecsbad "a port as a string" "$(sed 's/"port":\([0-9]*\)/"port":"\1"/' <<<"$alert")"
ecsbad "a network.direction ECS does not allow" "$(sed 's/"direction":"[a-z]*"/"direction":"sideways"/' <<<"$alert")"
ecsbad "a top-level field outside ECS and transitwatch.*" "{\"foo\":1,${alert#\{}"
printf '%s\n' "${alert/\"id\":\"blocklist./\"id\":\"nosuch.}" >"$tmp/bad.jsonl"
if $val rules --table "$tmp/rules.jsonl" "$tmp/bad.jsonl" >/dev/null 2>&1; then
  fail "rule check accepted a rule id without a table entry"
fi
echo "schema: all checks passed"
