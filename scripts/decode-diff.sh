#!/usr/bin/env bash
# Decoder output unchanged: decode the same datagrams with two builds' decoders and compare every
# field of every record and every counter (a decoder change meant to keep the output, e.g. issue
# 15's template work). scripts/decode_diff/dump.c is linked against each build's libraries (as
# that build links collector/transitwatch); the streams (scripts/decode_diff/gen.py) are
#   - twgen's v9 and IPFIX samples (NEW_BUILD's twgen) and its hostile inputs,
#   - every pcap and .dat of ../shared/testdata (when present),
#   - the fuzz corpora fuzz/corpus/{nf9,ipfix,decode} and any DIR given with --corpus (e.g. a
#     FUZZ_KEEP directory of scripts/fuzz.sh), each file as a v9 and as an IPFIX datagram,
#   - SEEDS synthetic exporters' streams (random templates and records, 3 000 messages each)
#     at three mutation rates (none, 5 %, 30 % of the messages with bytes changed),
# each decoded with default bounds and with tight ones (evictions, pending limits, the clock
# check, sampling policies). Exit 0 when every stream gives the same output, 1 otherwise.
#   scripts/decode-diff.sh [--seeds N] [--corpus DIR]... [--keep] OLD_BUILD NEW_BUILD
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=30 keep=0 corpora=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --seeds) seeds=$2; shift ;;
    --corpus) corpora+=("$2"); shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "decode-diff.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
old=$(realpath "${1:?OLD_BUILD}"); new=$(realpath "${2:?NEW_BUILD}")
work=$(mktemp -d)
((keep)) && echo "work: $work" || trap 'rm -rf "$work"' EXIT
src=$PWD
# dump.c linked as BUILD links transitwatch (the link line's relative paths are from collector/)
build_dump() {
  local b=$1 out=$2 link
  link=$b/collector/CMakeFiles/transitwatch.dir/link.txt
  [[ -f $link ]] || { echo "decode-diff: $link missing (build transitwatch there)" >&2; exit 2; }
  cc -O1 -g -I"$src/collector/decode" -I"$src/core" -c "$src/scripts/decode_diff/dump.c" -o "$out.o"
  (cd "$b/collector" && eval "$(sed "s#CMakeFiles/transitwatch.dir/main.c.o -o transitwatch#$out.o -o $out#" "$link")")
}
build_dump "$old" "$work/dump_old"
build_dump "$new" "$work/dump_new"
gen=$new/tests/twgen py=scripts/decode_diff/gen.py
streams=()
mkdir -p "$work/cap" "$work/hostile"
for f in v9 ipfix; do "$gen" sample -f "$f" -m 30 -s 3 -o "$work/cap/sample_$f.pcap" >/dev/null 2>&1; done
"$gen" hostile "$work/hostile" >/dev/null 2>&1
python3 "$py" pcaps "$work/twgen.bin" "$work"/cap/*.pcap "$work"/hostile/*.pcap >/dev/null
streams+=("$work/twgen.bin")
if [[ -d ../shared/testdata ]]; then
  mapfile -t pcaps < <(find ../shared/testdata -name '*.pcap' | sort)
  python3 "$py" pcaps "$work/shared.bin" "${pcaps[@]}" >/dev/null
  python3 "$py" dats "$work/dats.bin" ../shared/testdata >/dev/null
  streams+=("$work/shared.bin" "$work/dats.bin")
fi
python3 "$py" corpus "$work/corpus.bin" fuzz/corpus/nf9 fuzz/corpus/ipfix fuzz/corpus/decode \
  "${corpora[@]}" >/dev/null
streams+=("$work/corpus.bin")
for ((s = 1; s <= seeds; s++)); do
  for m in 0.0 0.05 0.3; do
    python3 "$py" synth "$work/synth_${s}_$m.bin" "$s" 3000 "$m" >/dev/null
    streams+=("$work/synth_${s}_$m.bin")
  done
done
n=0 bad=0 records=0
for st in "${streams[@]}"; do
  for v in 0 1; do
    "$work/dump_old" "$st" "$v" >"$work/o.txt" 2>/dev/null
    "$work/dump_new" "$st" "$v" >"$work/n.txt" 2>/dev/null
    n=$((n + 1)); records=$((records + $(grep -c '^R' "$work/o.txt" || true)))
    if ! cmp -s "$work/o.txt" "$work/n.txt"; then
      echo "decode-diff: $(basename "$st") (variant $v) differs:"
      diff "$work/o.txt" "$work/n.txt" | head -6
      bad=1
    fi
  done
done
echo "decode-diff: $n streams, $records records (old build's count): $( ((bad)) && echo DIFFERENT || echo identical)"
exit $bad
