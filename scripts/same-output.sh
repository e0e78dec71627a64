#!/usr/bin/env bash
# Behaviour unchanged: replay the same inputs with two builds and compare their outputs byte for
# byte (issue 14's acceptance test for a refactoring).
#
#   scripts/same-output.sh [--quick] [--work DIR] [--keep] OLD_BUILD NEW_BUILD
#   scripts/same-output.sh --record FILE|--check FILE [--work DIR] [--keep] NEW_BUILD
#   --skip NAME[,NAME...]: cases not run (listed as skipped; with --check, not a difference)
#
# --record / --check: one build against recorded digests instead of an old build (CI:
# tests/integration/same_alerts.sh checks tests/integration/same_alerts.digest). Each case's line
# is its name, exit code and the SHA-256 of its stdout (alerts and summaries: the totals line, which
# lists every counter, is left out) and of its --flows; implies --quick; stderr
# is not compared (it names this run's work files), and the cases that depend on another tool's
# version or on timing (nfcapd-*, logs-argus-*) are left out. A case recorded but not run (the
# shared captures absent) is listed as skipped; a case run but not recorded is a difference. A
# change that is meant to change the output records the digests again, in the same commit.
#
# OLD_BUILD and NEW_BUILD are build directories (collector/transitwatch in each; the inputs are
# generated with NEW_BUILD's tests/twgen, so both binaries read the very same files). Build the
# old one from the commit to compare with, e.g.
#   git archive main | tar -x -C build-old && cmake -S build-old -B build-old/b && \
#     cmake --build build-old/b --target transitwatch
#
# Cases (each replayed by both binaries with --no-stats; stdout -- alerts, summaries, the totals
# line -- and stderr compared byte for byte, --flows -- every record after classification -- by
# its SHA-256, and the exit codes):
#   sample-{v5,v9,ipfix}       twgen sample (30 min) with the bundled customer map and blocklists
#                              (the IPFIX one also as --format text)
#   bench-{fmt}-w{1,2}         bench/run.sh's workloads (twgen bulk, v5/v9/IPFIX/mixed, 2 M records;
#                              --quick: 100 k) with 1 and 2 workers
#   eval-{v5,v9,ipfix}         the detector evaluation's scenario at CI size (twgen eval -m 360
#                              -s 2008 -x 1.0: tests/integration/eval.sh), summaries on; the IPFIX
#                              one also with 3 workers; eval-raw: its raw-packet slice, metered
#   real-*                     every capture of ../shared/testdata the tests replay (stratosphere
#                              pcaps, NetFlow/IPFIX export pcaps), and the customers mixed from
#                              the real captures (bench/eval/mix.py)
#   logs-*                     Zeek TSV, Zeek JSON, Argus CSV (tests/integration/flowlog_gen.py),
#                              a directory with gzip; the real captures through Argus (argus + ra)
#   nfcapd-{json,csv}          an nfcapd archive written by nfcapd from twgen's NetFlow v9
#   bad-*                      inputs that fail: a log with bad lines, a cut capture, a missing
#                              file, a file that is nothing (exit 1 and the messages)
# Masked, as legitimately run-dependent: the time stamp and pid that start each log line on
# stderr, and the @timestamp of a totals line of a run that closed no window (the totals take
# the end of the last window closed, else the wall clock). Nothing else: event ids are derived
# from the alert's content and every other time is the records' own. Cases whose tools or data are missing are
# listed as skipped. Exit 0 when every case is identical, 1 otherwise.
set -euo pipefail
quick=0 work= keep=0 digests= dmode= skip=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1 ;;
    --record|--check) dmode=${1#--}; digests=$2; quick=1; shift ;;
    --work) work=$2; shift ;;
    --keep) keep=1 ;;
    --skip) skip=" ${2//,/ } "; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "same-output.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
usage="usage: scripts/same-output.sh [--quick] [--work DIR] [--keep] [--skip NAMES] OLD_BUILD NEW_BUILD
       scripts/same-output.sh --record FILE|--check FILE [--work DIR] [--keep] [--skip NAMES] NEW_BUILD"
if [[ -n $dmode ]]; then
  [[ $# -eq 1 ]] || { echo "$usage" >&2; exit 2; }
  set -- "$1" "$1"
  [[ $dmode == record || -f $digests ]] || { echo "same-output.sh: $digests not found" >&2; exit 2; }
fi
[[ $# -eq 2 ]] || { echo "$usage" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
old=$(cd "$1" && pwd)/collector/transitwatch
new=$(cd "$2" && pwd)/collector/transitwatch
gen=$(cd "$2" && pwd)/tests/twgen
for b in "$old" "$new" "$gen"; do [[ -x $b ]] || { echo "same-output.sh: $b not built" >&2; exit 2; }; done
testdata=${TW_SHARED:+$TW_SHARED/testdata}; testdata=${testdata:-$src/../shared/testdata}
if [[ -z $work ]]; then work=$(mktemp -d /tmp/tw-same.XXXXXX); fi
[[ $keep == 1 ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out"
in=$work/in
records=2000000 hosts=100000
[[ $quick == 0 ]] || { records=100000 hosts=20000; }

ncase=0 ndiff=0 skipped=() ran=()
# wanted NAME: false for a case given to --skip
wanted() { [[ $skip != *" $1 "* ]]; }
[[ $dmode != record ]] || : >"$digests"
# One replay; --flows (every record, possibly gigabytes) goes through sha256sum on a fifo.
# replay_one BINARY OUT-PREFIX REPLAY-ARGS... ; sets rc
replay_one() {
  local bin=$1 o=$2; shift 2
  rm -f "$o.fifo"; mkfifo "$o.fifo"
  sha256sum <"$o.fifo" | cut -d' ' -f1 >"$o.flows" &
  local h=$!
  rc=0
  "$bin" replay --no-stats --no-progress --flows "$o.fifo" "$@" >"$o.out.raw" 2>"$o.err.raw" || rc=$?
  wait $h
  # a totals line of a run that closed no window carries the wall clock as @timestamp: masked
  sed -E '/"dataset":"transitwatch.totals".*"windows":0,/s/^\{"@timestamp":"[^"]*"/{"@timestamp":"WALL-CLOCK"/' \
    "$o.out.raw" >"$o.out"
  # log lines start with the time and the pid: run-dependent, masked
  sed -E 's/^[0-9TZ:.-]+ transitwatch\[[0-9]+\]: /TIME transitwatch[PID]: /' "$o.err.raw" >"$o.err"
  rm -f "$o.fifo"
}
# digest NAME REPLAY-ARGS...: the new binary only, its line recorded or checked
digest() {
  local name=$1; shift
  local o=$work/out/$name line want
  replay_one "$new" "$o.new" "$@"
  # the totals line lists every counter: adding one is no change of behaviour, so it is left out
  line="$name $rc $(grep -v '"dataset":"transitwatch.totals"' "$o.new.out" | sha256sum | cut -d' ' -f1) $(cat "$o.new.flows")"
  ncase=$((ncase + 1)) ran+=("$name")
  if [[ $dmode == record ]]; then
    echo "$line" >>"$digests"
    printf '  recorded  %s\n' "$name"
    return
  fi
  want=$(grep -m1 "^$name " "$digests" || true)
  if [[ $line == "$want" ]]; then
    printf '  same  %-34s exit %s\n' "$name" "$rc"
  else
    ndiff=$((ndiff + 1))
    printf '  DIFF  %-30s %s\n' "$name" "${want:+differs from the recorded digest}${want:-not recorded}"
    head -c 600 "$o.new.out"
  fi
}
# run NAME REPLAY-ARGS...: both binaries, then compare
run() {
  if ! wanted "$1"; then skipped+=("$1 (--skip)") ran+=("$1"); return; fi
  [[ -z $dmode ]] || { digest "$@"; return; }
  local name=$1; shift
  local o=$work/out/$name rc_old rc_new
  replay_one "$old" "$o.old" "$@"; rc_old=$rc
  replay_one "$new" "$o.new" "$@"; rc_new=$rc
  ncase=$((ncase + 1))
  local alerts lines
  alerts=$(grep -c '"kind":"alert"' "$o.new.out" || true)
  lines=$(wc -l <"$o.new.out")
  if [[ $rc_old == "$rc_new" ]] && cmp -s "$o.old.out" "$o.new.out" &&
     cmp -s "$o.old.flows" "$o.new.flows" && cmp -s "$o.old.err" "$o.new.err"; then
    printf '  same  %-34s %5s lines (%4s alerts), exit %s\n' "$name" "$lines" "$alerts" "$rc_new"
  else
    ndiff=$((ndiff + 1))
    printf '  DIFF  %-30s exit %s/%s\n' "$name" "$rc_old" "$rc_new"
    cmp "$o.old.out" "$o.new.out" || diff "$o.old.out" "$o.new.out" | cut -c1-240 | head -6 || true
    cmp -s "$o.old.flows" "$o.new.flows" || echo "        --flows differ"
    cmp -s "$o.old.err" "$o.new.err" || diff "$o.old.err" "$o.new.err" | head -6 || true
  fi
}

lists=(--customers "$src/configs/customers.csv"
       --blocklist spamhaus-drop="$src/configs/blocklists/drop.txt"
       --blocklist spamhaus-dropv6="$src/configs/blocklists/drop_v6.txt"
       --blocklist feodo="$src/configs/blocklists/feodo.txt")

echo "== the sample"
for f in v5 v9 ipfix; do
  "$gen" sample -f $f -m 30 -o "$in/sample-$f.pcap" 2>/dev/null
  run sample-$f "${lists[@]}" "$in/sample-$f.pcap"
done
run sample-ipfix-text --format text "${lists[@]}" "$in/sample-ipfix.pcap"

echo "== bench/run.sh's workloads ($records records each), 1 and 2 workers"
"$gen" bulk -f ipfix -n 1000 -H $hosts -p 4096 -c 50 --write-customers "$in/bench-customers.csv" \
  -o "$in/tiny.pcap" 2>/dev/null
for n in 1 2; do printf '[collector]\nworkers = %s\n' $n >"$in/workers$n.conf"; done
for f in v5 v9 ipfix mixed; do
  "$gen" bulk -f $f -n $records -H $hosts -p 4096 -c 50 -e 4 -s 7 -o "$in/bench-$f.pcap" 2>/dev/null
  for n in 1 2; do
    run bench-$f-w$n -c "$in/workers$n.conf" -C "$in/bench-customers.csv" "$in/bench-$f.pcap"
  done
  rm -f "$in/bench-$f.pcap"
done

echo "== the evaluation scenario at CI size (tests/integration/eval.sh)"
for f in v5 v9 ipfix; do
  # a format's capture is made when one of its cases runs
  if ! wanted eval-$f && ! { [[ $f == ipfix ]] && wanted eval-ipfix-w3; }; then run eval-$f; continue; fi
  "$gen" eval -f $f -m 360 -s 2008 -x 1.0 -o "$in/eval-$f.pcap" -t "$in/eval-truth.jsonl" \
    --write-customers "$in/eval-customers.csv" --write-config "$in/eval.conf" 2>/dev/null
  run eval-$f -c "$in/eval.conf" -C "$in/eval-customers.csv" "$in/eval-$f.pcap"
done
! wanted eval-ipfix-w3 || { cat "$in/eval.conf"; printf '\n[collector]\nworkers = 3\n'; } >"$in/eval-w3.conf"
run eval-ipfix-w3 -c "$in/eval-w3.conf" -C "$in/eval-customers.csv" "$in/eval-ipfix.pcap"
"$gen" eval -f raw -F -s 2008 -m 20 -x 0.2 -o "$in/eval-raw.pcap" --write-customers "$in/raw-customers.csv" \
  --write-config "$in/raw.conf" 2>/dev/null
run eval-raw -c "$in/raw.conf" -C "$in/raw-customers.csv" "$in/eval-raw.pcap"
rm -f "$in"/eval-*.pcap

echo "== real captures ($testdata)"
if [[ -d $testdata/pcap ]]; then
  printf 'prefix,customer_id,name\n10.0.0.0/8,ten,Ten\n192.168.0.0/16,lan,LAN\n172.16.0.0/12,corp,Corp\n147.32.0.0/16,ctu,CTU\n' \
    >"$in/real-customers.csv"
  while IFS= read -r f; do
    run "real-$(basename "$f" .pcap)" -C "$in/real-customers.csv" "$f"
  done < <(find "$testdata/pcap" -name '*.pcap' | sort)
  while IFS= read -r f; do
    rel=${f#"$testdata"/netflow/}
    run "real-nf-$(echo "${rel%.pcap}" | tr '/' '-')" -C "$in/real-customers.csv" "$f"
  done < <(find "$testdata/netflow" -name '*.pcap' | sort)
  if python3 "$src/bench/eval/mix.py" --testdata "$testdata" --out "$in/mix" >/dev/null 2>&1; then
    run real-mix -C "$in/mix/customers.csv" "$in/mix/mix.pcap"
  else
    skipped+=("real-mix (mix.py failed)")
  fi
else
  skipped+=("real-* ($testdata/pcap not found)")
fi

echo "== Zeek and Argus logs"
mkdir -p "$in/logs"
python3 "$src/tests/integration/flowlog_gen.py" "$in/logs" >/dev/null
printf 'prefix,customer_id,name\n100.64.0.0/24,c1,Test customer\n' >"$in/logs-customers.csv"
for f in conn.log conn.json ctu.binetflow; do
  run "logs-$f" -C "$in/logs-customers.csv" "$in/logs/$f"
done
mkdir -p "$in/logs-dir"
gzip -c "$in/logs/conn.log" >"$in/logs-dir/conn.log.gz"
cp "$in/logs/ctu.binetflow" "$in/logs-dir/capture.binetflow"
run logs-dir -C "$in/logs-customers.csv" "$in/logs-dir"
if [[ -n $dmode ]]; then
  skipped+=("logs-argus-* (argus's version decides its output)")
elif [[ -d $testdata/pcap ]] && command -v argus >/dev/null && command -v ra >/dev/null; then
  for f in "$testdata"/pcap/stratosphere-slips/*.pcap; do
    name=$(basename "$f" .pcap)
    argus -r "$f" -w "$in/$name.argus" 2>/dev/null
    ra -r "$in/$name.argus" -n -u -Z b -c , -s stime dur proto saddr sport dir daddr dport state \
      stos dtos pkts bytes sbytes >"$in/$name.binetflow"
    run "logs-argus-$name" -C "$in/real-customers.csv" "$in/$name.binetflow"
  done
else
  skipped+=("logs-argus-* (argus/ra or the shared captures missing)")
fi

echo "== an nfcapd archive"
if [[ -n $dmode ]]; then
  skipped+=("nfcapd-* (timing: the archive is written from UDP)")
elif command -v nfcapd >/dev/null && command -v nfdump >/dev/null; then
  "$gen" sample -f v9 -m 20 -o "$in/nf.pcap" 2>/dev/null
  mkdir -p "$in/arch"
  port=$((20000 + RANDOM % 20000))
  nfcapd -w "$in/arch" -p $port -b 127.0.0.1 -t 3600 >"$in/nfcapd.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do ss -lun 2>/dev/null | grep -q ":$port " && break; sleep 0.1; done
  "$gen" send --rate 5000 "$in/nf.pcap" 127.0.0.1:$port >/dev/null 2>&1
  sleep 1
  kill -TERM $pid
  for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  for fmt in json csv; do
    run nfcapd-$fmt "${lists[@]}" --nfdump-format $fmt "$in/arch"
  done
else
  skipped+=("nfcapd-* (nfdump not installed)")
fi

echo "== inputs that fail"
{ head -12 "$in/logs/conn.log"
  printf '1312970400.5\tCbad\t100.64.0.10\t1\t300.1.1.1\t23\ttcp\t-\t-\t0\t0\tS0\t-\t-\t0\tS\t1\t44\t0\t0\t-\n'
  head -c 20000 /dev/zero | tr '\0' 'x'; echo; tail -n +13 "$in/logs/conn.log"; } >"$in/bad.log"
run bad-log-lines -C "$in/logs-customers.csv" "$in/bad.log"
head -c 300000 "$in/sample-ipfix.pcap" >"$in/cut.pcap"
run bad-cut-capture "${lists[@]}" "$in/cut.pcap" "$in/sample-v5.pcap"
run bad-missing "${lists[@]}" "$in/missing.pcap"
echo "plain text" >"$in/nothing.txt"
run bad-nothing "${lists[@]}" "$in/nothing.txt"

echo
if [[ $dmode == check ]]; then
  while read -r name _; do
    [[ " ${ran[*]} " == *" $name "* ]] || skipped+=("$name (recorded, not run here)")
  done <"$digests"
fi
for s in "${skipped[@]}"; do echo "skipped: $s"; done
if [[ $dmode == record ]]; then
  echo "same-output: $ncase digests recorded in $digests"
  exit 0
fi
if [[ $ndiff == 0 && $dmode == check ]]; then
  echo "same-output: all $ncase cases match $digests (exit code, SHA-256 of stdout and of --flows)"
  exit 0
fi
if [[ $ndiff == 0 ]]; then
  echo "same-output: all $ncase cases byte-identical (stdout, stderr, --flows, exit code; masked: log line prefixes, a window-less totals line's @timestamp)"
  exit 0
fi
echo "same-output: $ndiff of $ncase cases DIFFER (outputs in $work/out with --keep)"
exit 1
