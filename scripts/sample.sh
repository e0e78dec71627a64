#!/usr/bin/env bash
# Build transitwatch and replay the bundled sample: a generated capture of IPFIX exports of four
# sample customers (configs/customers.csv) with hosts talking to listed addresses
# (configs/blocklists/). On a terminal it prints a line per alert, a table per customer and
# what each rule means; into a pipe or file, JSON lines (--format text|json chooses).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTW_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target transitwatch twgen >/dev/null
./build/tests/twgen sample -f ipfix -m 30 -o build/sample.pcap -t build/sample-truth.jsonl
./build/collector/transitwatch replay \
  --customers configs/customers.csv \
  --blocklist spamhaus-drop=configs/blocklists/drop.txt \
  --blocklist spamhaus-dropv6=configs/blocklists/drop_v6.txt \
  --blocklist feodo=configs/blocklists/feodo.txt \
  build/sample.pcap
