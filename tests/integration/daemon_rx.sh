#!/usr/bin/env bash
# The daemon test again with the sockets on the pipeline thread (rx_threads = 0) and with two
# receive threads sharing the ports through SO_REUSEPORT (rx_threads = 2).
set -euo pipefail
here=$(dirname "$0")
for n in 0 2; do
  echo "== rx_threads = $n"
  TW_RX_THREADS=$n bash "$here/daemon.sh"
done
