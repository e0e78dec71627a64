#!/usr/bin/env bash
# The benchmark harness works (bench/run.sh --quick against the build under test): it generates
# its workloads, measures replay and UDP, and writes the markdown tables. Ratios are not checked
# here (CI machines vary); bench/RESULTS.md holds the measured ones.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
[[ -x $TW_BIN/collector/transitwatch && -x $TW_BIN/tests/twgen ]] || { echo "SKIP: no build"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
timeout 600 bash "$TW_SRC/bench/run.sh" --quick --no-install --no-build --build "$TW_BIN" \
  --work "$tmp/work" --out "$tmp/r.md" --only replay,udp,memory,hostsweep --hosts 15000 >"$tmp/stdout" 2>"$tmp/stderr" ||
  { tail -20 "$tmp/stderr" >&2; fail "run.sh --quick failed"; }
# a workload size that is not a count is refused before any work, not replaced by the default
for opt in --hosts --mem-hosts; do
  out=$(bash "$TW_SRC/bench/run.sh" --quick --no-install --no-build --build "$TW_BIN" \
        --work "$tmp/w0" --out "$tmp/r0.md" "$opt" 0 2>&1) && fail "$opt 0 accepted"
  grep -q -- "bench: $opt must be >= 1: 0" <<<"$out" || fail "$opt 0: no clear error: $out"
done
md=$tmp/r.md
[[ -s $md ]] || fail "no results file"
cmp -s "$md" <(head -c "$(stat -c %s "$md")" "$tmp/stdout") || fail "stdout is not the results table"
grep -q '^### (b) Replay' "$md" || fail "no replay table"
for fmt in v5 v9 ipfix mixed; do
  grep -Eq "^\| $fmt \| 100000 \| [0-9.]+ \| [0-9.]+ \|" "$md" || fail "no replay row for $fmt"
done
grep -Eq '^\| transitwatch \| v5 \| 0\.40 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 1 of 1 \|' "$md" ||
  fail "no UDP row for transitwatch (one run per point)"
grep -Eq '^\| v5 \| transitwatch \| [^|]+ \| [0-9.]+ \| [^|]+ \|$' "$md" || fail "no loss-free row for transitwatch (with its capacity)"
grep -q '^One run per point' "$md" || fail "the one-run caveat is missing"
grep -q ' 15000 inside hosts ' "$md" || fail "--hosts not applied to the workloads"
# the bare receiver (bench/udp_sink, built with the tests) runs beside the collectors: the ceiling
[[ -x $TW_BIN/bench/udp_sink ]] || fail "bench/udp_sink not built"
# its arguments are checked, not wrapped: a buffer past INT_MAX, a port past 65535, not an address
for bad in "127.0.0.1 1 2147483648" "127.0.0.1 65536 65536" "x 1 65536"; do
  rc=0; "$TW_BIN/bench/udp_sink" $bad >/dev/null 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "udp_sink $bad: exit $rc, not 2"
done
grep -Eq '^\| recvmmsg loop \| v5 \| 0\.40 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 1 of 1 \|' "$md" ||
  fail "no UDP row for the bare recvmmsg loop"
grep -q '^| harness ceiling (v5): the bare recvmmsg loop' "$md" || fail "no ceiling row"
grep -q '^| CPU-s/M beyond receiving' "$md" || fail "no beyond-receiving row"
# the host sweep: one row per host count, instructions with valgrind on a plain build
grep -q '^### Host sweep: the same records with more inside hosts' "$md" || fail "no host sweep"
for h in 1000 10000 15000; do
  grep -Eq "^\| $h \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+ \| [0-9]+ \| " "$md" ||
    fail "no host sweep row for $h hosts"
done
source "$TW_SRC/tests/integration/lib/build.bash"
cg=0
if command -v valgrind >/dev/null && ! build_has SANITIZE TSAN FUZZ; then cg=1; fi
python3 - "$tmp/r.json" "$cg" <<'PY' || fail "results json"
import json, sys
r = json.load(open(sys.argv[1]))
tw = [u for u in r["udp"] if u["collector"] == "transitwatch"]
assert tw and all(u["received_records"] > 0 for u in tw), tw
assert all(u["cpu"] > 0 for u in tw), tw
assert all(u["rep"] == 0 and u["sender_cpu"] > 0 for u in tw), tw
pts = [p for p in r["udp_points"] if p["collector"] == "transitwatch"]
assert [p["offered_rps"] for p in pts] == [4e5, 1.2e6] and all(p["runs"] == 1 for p in pts), pts
lf = [e for e in r["udp_loss_free"] if e["collector"] == "transitwatch"]
assert len(lf) == 1 and len(lf[0]["reps"]) == 1, lf
assert r["memory"]["hosts"] == 50000 and r["memory"]["rss_kb"] > 0
hs = r["hostsweep"]
assert [e["hosts"] for e in hs["hosts"]] == [1000, 10000, 15000], hs
assert hs["rounds"] == 3 and all(len(e["wall"]["runs"]) == 3 for e in hs["hosts"]), hs
assert all(e["ns_per_record"] > 0 for e in hs["hosts"]), hs
if sys.argv[2] == "1":  # valgrind on a plain build: instructions per record, near-equal
    ir = [e["ir_per_record"] for e in hs["hosts"]]
    assert all(x and 300 < x < 20000 for x in ir), ir
    assert max(ir) < 1.5 * min(ir), ir
sink = [u for u in r["udp"] if u["collector"] == "recvmmsg loop"]
assert len(sink) == 2 and all(u["received_records"] > 0 for u in sink), sink
PY
echo "OK: bench harness (quick)"
