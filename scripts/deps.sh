#!/usr/bin/env bash
# Install the Debian 12 packages transitwatch needs, only those missing.
#   scripts/deps.sh run    build + run the sample replay
#   scripts/deps.sh test   also the test tools (cmocka, nfdump, tshark, clang/libFuzzer, valgrind,
#                          promtool, systemd-analyze, clang-format, ...)
set -euo pipefail
want=(build-essential cmake pkg-config libpcap-dev librdkafka-dev zlib1g-dev libmicrohttpd-dev libsystemd-dev
      libjson-c-dev)  # json-c: reading feeds, nfdump and Zeek JSON (core/json_in.h)
if [[ ${1:-run} == test ]]; then
  want+=(libcmocka-dev nfdump nfdump-sflow argus-server argus-client tshark clang libclang-rt-14-dev valgrind python3 python3-yaml python3-jsonschema curl iproute2 procps time
        prometheus systemd dash clang-format chromium)  # promtool (metrics check), systemd-analyze (unit rating), clang-format (style check), chromium (the report in a browser), nfdump-sflow (sfcapd: the sFlow oracle)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
