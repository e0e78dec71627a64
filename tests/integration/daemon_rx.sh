#!/usr/bin/env bash
# The daemon test again with the sockets on the pipeline thread (rx_threads = 0), and with two
# receive threads sharing the ports through SO_REUSEPORT (rx_threads = 2) feeding two workers
# (the pipeline thread and one worker thread: reloads and window closes across threads).
set -euo pipefail
here=$(dirname "$0")
echo "== rx_threads = 0"
TW_RX_THREADS=0 bash "$here/daemon.sh"
echo "== rx_threads = 2, workers = 2"
TW_RX_THREADS=2 TW_WORKERS=2 bash "$here/daemon.sh"
