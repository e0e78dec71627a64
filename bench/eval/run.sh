#!/usr/bin/env bash
# Detector evaluation (issue 11 item 6), four parts, one report:
#  1. the labelled scenario (twgen eval) as NetFlow v5, v9 and IPFIX, each replayed; the IPFIX
#     run scored per detector (bench/eval/score.py: recall, false hosts per 10 000 host-days,
#     time to first alert, per behaviour, benign look-alikes, hostility); the three must give
#     the same alerts;
#  2. the raw packets of a slice of the same scenario (twgen eval -f raw, without flooders, whose
#     packets would make it huge) metered, against the IPFIX export of the same slice: the same
#     incidents (rule, customer, host, peer; a metered flow ends at the meter's timeouts, so an
#     alert may land one window later);
#  3. every labelled real capture/log of the shared test data against its truth file
#     (bench/eval/real.py; absent datasets are listed as absent), each pcap also shifted to 11
#     places in the window (--placements 10: every labelled host right at every one);
#  4. a mix of customers built from the real captures (bench/eval/mix.py): which customers the
#     hostility score condemns;
#  5. the same traffic as sampled sFlow (twgen eval -f sflow -N RATE: 1-in-RATE random packet
#     samples, seeded, with counter samples) at each of --sflow RATES, scored like part 1 and set
#     against the unsampled NetFlow (IPFIX) of the same traffic (bench/eval/sampled.py): recall
#     and false hosts per detector and rate, and the rate at which each stops being reliable.
#     Rate 1 sends every packet, so it runs on part 2's slice (no flooders) against that slice's
#     IPFIX; the other rates on the whole scenario against part 1's IPFIX.
#
#   bench/eval/run.sh BUILD_DIR OUT_DIR [options] [twgen eval options: -m MINUTES -s SEED -x SCALE]
# Options (thresholds are explicit; without any, the tables are printed and nothing is asserted
# except that v5, v9 and IPFIX agree):
#   --min-recall DET=X, --max-fp DET=X   scenario thresholds (repeatable; DET "all" = every one)
#   --max-hostile-fp N                   benign customers the hostility score may condemn
#   --require-real DATASET=HOST | all    a labelled real host must be found (benign: not flagged)
#   --require-raw-equal                  fail when the raw slice's incidents differ
#   --require-mix                        fail unless the mix condemns exactly its infected customer
#   --goals                              the issue's goals: all of the above at recall 0.95, 1 false
#                                        host per 10 000 host-days, no benign customer condemned,
#                                        every real host right, raw equal, the mix's verdict right
#   --raw "TWGEN ARGS" | --no-raw        the raw slice (default "-m 60 -x 0.3"; same seed)
#   --testdata DIR | --no-real           shared test data (default $TW_SHARED/testdata or the
#                                        source tree's ../shared/testdata); --no-mix skips part 4
#   --sflow "RATES" | --no-sflow         part 5's sampling rates (default "1 100 1000")
#   --sflow-reliable DET=RATE            fail unless DET is reliable at every rate up to RATE
#   --sflow-max-fp X                     fail when a detector has more than X false hosts per
#                                        10 000 host-days at a sampled rate
# Outputs in OUT_DIR: report.md (all parts), score.{md,json}, real.{md,json}, mix.{md,json},
# alerts-*.jsonl, truth.jsonl. Exit 1 when a requirement given is broken or the formats differ.
set -euo pipefail
bin=${1:?build dir}; out=${2:?output dir}; shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
tw=$bin/collector/transitwatch; gen=$bin/tests/twgen
mkdir -p "$out"
score_args=(); real_args=(); raw_args="-m 60 -x 0.3"; raw=1; real=1; mix=1; raw_req=0; mix_req=0
sflow_rates="1 100 1000"; sflow_args=()
testdata=${TW_SHARED:+$TW_SHARED/testdata}; testdata=${testdata:-$src/../shared/testdata}
gen_args=()
while (($#)); do
  case $1 in
    --min-recall|--max-fp|--max-hostile-fp) score_args+=("$1" "$2"); shift 2 ;;
    --require-real) if [[ $2 == all ]]; then real_args+=(--require-all); else real_args+=(--require "$2"); fi; shift 2 ;;
    --require-raw-equal) raw_req=1; shift ;;
    --require-mix) mix_req=1; shift ;;
    --goals) score_args+=(--min-recall all=0.95 --max-fp all=1 --max-hostile-fp 0); real_args+=(--require-all); raw_req=1
             mix_req=1; shift ;;
    --raw) raw_args=$2; shift 2 ;;
    --no-raw) raw=0; shift ;;
    --testdata) testdata=$2; shift 2 ;;
    --no-real) real=0; shift ;;
    --no-mix) mix=0; shift ;;
    --sflow) sflow_rates=$2; shift 2 ;;
    --no-sflow) sflow_rates=""; shift ;;
    --sflow-reliable) sflow_args+=(--reliable "$2"); shift 2 ;;
    --sflow-max-fp) sflow_args+=(--max-fp "$2"); shift 2 ;;
    *) gen_args+=("$1"); shift ;;
  esac
done
seed=2008
for ((i = 0; i < ${#gen_args[@]}; i++)); do [[ ${gen_args[i]} == -s ]] && seed=${gen_args[i + 1]}; done
rc=0
status() { echo "$1" | tee -a "$out/status.txt"; }
: >"$out/status.txt"

# ---- 1. the scenario, three export formats ----
for fmt in v5 v9 ipfix; do
  "$gen" eval -f "$fmt" "${gen_args[@]}" -o "$out/eval-$fmt.pcap" -t "$out/truth.jsonl" \
    --write-customers "$out/customers.csv" --write-config "$out/eval.conf" 2>>"$out/gen.log"
  "$tw" replay -c "$out/eval.conf" -C "$out/customers.csv" --no-summaries -o "$out/alerts-$fmt.jsonl" \
    "$out/eval-$fmt.pcap"
  rm -f "$out/eval-$fmt.pcap"
done
python3 "$src/bench/eval/score.py" "$out/truth.jsonl" "$out/alerts-ipfix.jsonl" --md "$out/score.md" \
  --json "$out/score.json" --title "Scenario (twgen eval ${gen_args[*]})" "${score_args[@]}" || rc=1
if python3 "$src/bench/eval/score.py" --compare "$out/alerts-v5.jsonl" "$out/alerts-v9.jsonl" \
     "$out/alerts-ipfix.jsonl" >"$out/compare-formats.txt"; then
  status "formats: NetFlow v5, v9 and IPFIX give the same alerts ($(grep -c . "$out/alerts-ipfix.jsonl") alerts)"
else
  cat "$out/compare-formats.txt"; status "formats: v5, v9 and IPFIX alerts DIFFER"; rc=1
fi

# ---- 2. the raw packets of a slice ----
if ((raw)); then
  # shellcheck disable=SC2086
  "$gen" eval -f ipfix -F -s "$seed" $raw_args -o "$out/slice-ipfix.pcap" -t "$out/slice-truth.jsonl" \
    --write-customers "$out/slice-customers.csv" --write-config "$out/slice.conf" 2>>"$out/gen.log"
  # shellcheck disable=SC2086
  "$gen" eval -f raw -F -s "$seed" $raw_args -o "$out/slice-raw.pcap" 2>>"$out/gen.log"
  for k in ipfix raw; do
    "$tw" replay -c "$out/slice.conf" -C "$out/slice-customers.csv" --no-summaries \
      -o "$out/slice-alerts-$k.jsonl" "$out/slice-$k.pcap"
  done
  pk=$(sed -n 's/.*slice-raw.pcap: \([0-9]*\) packets.*/\1/p' "$out/gen.log" | tail -1)
  rm -f "$out/slice-ipfix.pcap" "$out/slice-raw.pcap"
  if python3 "$src/bench/eval/score.py" --compare --ignore-window "$out/slice-alerts-ipfix.jsonl" \
       "$out/slice-alerts-raw.jsonl" >"$out/compare-raw.txt"; then
    status "raw capture: the metered packets ($pk) of the slice ($raw_args, no flooders) give the IPFIX export's incidents"
  else
    status "raw capture: the metered packets ($pk) of the slice ($raw_args, no flooders) DIFFER from its IPFIX export: $(grep -c "only in" "$out/compare-raw.txt") incidents"
    sed -n '/only in/p' "$out/compare-raw.txt" | head -10 | tee -a "$out/status.txt"
    ((raw_req)) && rc=1
  fi
fi

# ---- 3. real captures and logs ----
if ((real)); then
  if [[ -d $testdata ]]; then
    python3 "$src/bench/eval/real.py" --tw "$tw" --testdata "$testdata" --out "$out/real" --placements 10 \
      --md "$out/real.md" --json "$out/real.json" "${real_args[@]}" >"$out/real.txt" || rc=1
    cat "$out/real.txt"
  else
    status "real data: $testdata not found (every labelled dataset absent)"
    ((${#real_args[@]})) && rc=1
  fi
fi

# ---- 4. customers mixed from the real captures ----
if ((real && mix)) && [[ -d $testdata ]]; then
  if python3 "$src/bench/eval/mix.py" --testdata "$testdata" --out "$out/mix" >>"$out/status.txt"; then
    "$tw" replay -C "$out/mix/customers.csv" -o "$out/mix/out.jsonl" "$out/mix/mix.pcap"
    python3 "$src/bench/eval/score.py" "$out/mix/truth.jsonl" "$out/mix/out.jsonl" --md "$out/mix.md" \
      --json "$out/mix.json" --title "Customers mixed from the real captures (bench/eval/mix.py)" >/dev/null || true
    grep -E '^(Hostility|Highest)' "$out/mix.md" | tee -a "$out/status.txt"
    if ((mix_req)) && ! python3 -c 'import json, sys; h = json.load(open(sys.argv[1]))["hostility"]
sys.exit(0 if h["hostile_truth"] and not h["wrong"] and not h["missed"] else 1)' "$out/mix.json"; then
      status "mix: the verdict is not the truth's"; rc=1
    fi
  else
    status "mix: could not be built"; ((mix_req)) && rc=1
  fi
elif ((mix_req)); then
  status "mix: no shared test data to build it from"; rc=1
fi

# ---- 5. the same traffic as sampled sFlow ----
if [[ -n $sflow_rates ]]; then
  python3 "$src/bench/eval/score.py" "$out/truth.jsonl" "$out/alerts-ipfix.jsonl" --json "$out/sflow-ref.json" >/dev/null
  pairs=("netflow=$out/sflow-ref.json")
  for rate in $sflow_rates; do
    if ((rate == 1)); then # every packet: the slice without flooders, against its own IPFIX
      if [[ ! -f $out/slice-alerts-ipfix.jsonl ]]; then
        # shellcheck disable=SC2086
        "$gen" eval -f ipfix -F -s "$seed" $raw_args -o "$out/slice-ipfix.pcap" -t "$out/slice-truth.jsonl" \
          --write-customers "$out/slice-customers.csv" --write-config "$out/slice.conf" 2>>"$out/gen.log"
        "$tw" replay -c "$out/slice.conf" -C "$out/slice-customers.csv" --no-summaries \
          -o "$out/slice-alerts-ipfix.jsonl" "$out/slice-ipfix.pcap"
        rm -f "$out/slice-ipfix.pcap"
      fi
      # shellcheck disable=SC2086
      "$gen" eval -f sflow -N 1 -z -F -s "$seed" $raw_args -o "$out/sflow-1.pcap.gz" 2>>"$out/gen.log"
      "$tw" replay -c "$out/slice.conf" -C "$out/slice-customers.csv" --no-summaries \
        -o "$out/alerts-sflow-1.jsonl" "$out/sflow-1.pcap.gz"
      python3 "$src/bench/eval/score.py" "$out/slice-truth.jsonl" "$out/slice-alerts-ipfix.jsonl" \
        --json "$out/sflow-slice-ref.json" >/dev/null
      python3 "$src/bench/eval/score.py" "$out/slice-truth.jsonl" "$out/alerts-sflow-1.jsonl" \
        --json "$out/sflow-1.json" >/dev/null
      pairs+=("netflow:slice=$out/sflow-slice-ref.json" "1:slice=$out/sflow-1.json")
    else
      "$gen" eval -f sflow -N "$rate" -z "${gen_args[@]}" -o "$out/sflow-$rate.pcap.gz" 2>>"$out/gen.log"
      "$tw" replay -c "$out/eval.conf" -C "$out/customers.csv" --no-summaries \
        -o "$out/alerts-sflow-$rate.jsonl" "$out/sflow-$rate.pcap.gz"
      python3 "$src/bench/eval/score.py" "$out/truth.jsonl" "$out/alerts-sflow-$rate.jsonl" \
        --json "$out/sflow-$rate.json" >/dev/null
      pairs+=("$rate=$out/sflow-$rate.json")
    fi
    rm -f "$out/sflow-$rate.pcap.gz"
  done
  if python3 "$src/bench/eval/sampled.py" --md "$out/sampled.md" --json "$out/sampled.json" \
       "${sflow_args[@]}" "${pairs[@]}" >"$out/sampled.txt"; then
    status "sampled sFlow (1:${sflow_rates// /, 1:}): every alert says it was sampled; table in sampled.md"
  else
    cat "$out/sampled.txt"; status "sampled sFlow: a requirement is broken ($(head -1 "$out/sampled.txt"))"; rc=1
  fi
  # every alert from a sampled export (rate > 1) names its rate
  for rate in $sflow_rates; do
    ((rate > 1)) || continue
    if ! python3 -c 'import json, sys
r = int(sys.argv[2])
for line in open(sys.argv[1]):
    o = json.loads(line)
    t = o.get("transitwatch", {})
    if o.get("event", {}).get("kind") == "alert" and t.get("host") and t.get("sampling") != {"sampled": True, "rate": r}:
        sys.exit("alert without its sampling rate: " + line[:200])' "$out/alerts-sflow-$rate.jsonl" "$rate"; then
      status "sampled sFlow 1:$rate: an alert does not say it was sampled"; rc=1
    fi
  done
fi

{
  echo "## Detector evaluation"; echo
  cat "$out/score.md"; echo
  echo "### Equivalence"; echo; sed 's/^/- /' "$out/status.txt"; echo
  if [[ -f $out/real.md ]]; then echo "### Labelled real data (bench/eval/truth)"; echo; cat "$out/real.md"; echo; fi
  if [[ -f $out/mix.md ]]; then cat "$out/mix.md"; echo; fi
  if [[ -f $out/sampled.md ]]; then echo "### The same traffic as sampled sFlow (bench/eval/sampled.py)"; echo; cat "$out/sampled.md"; echo; fi
} >"$out/report.md"
echo "report: $out/report.md"
exit $rc
