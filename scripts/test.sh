#!/usr/bin/env bash
# Build and run every test: the style and function-length checks, the normal build (warnings
# are errors), the address+undefined sanitizer build, the thread-sanitizer build of the threaded
# parts, each fuzz target for a bounded time (FUZZ_SECONDS, default 20; one target per core at a
# time), and the reassembly fuzz target under MemorySanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
# Style and size first (seconds): .clang-format over every .c/.h, no function over 120 lines
# beyond today's listed offenders (scripts/length-allow.txt; they may only shrink).
bash scripts/format.sh --check
python3 scripts/top_length.py
jobs=$(nproc)
cmake -S . -B build-test -DTW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"
cmake -S . -B build-asan -DTW_WERROR=ON -DTW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -E '^int_bench'
# ThreadSanitizer over what runs on several threads: the ring and its bell, the receive threads,
# the pipeline with worker threads (unit tests, threaded replays of the labelled scenario) and
# the daemon with receive threads and workers under reloads and /metrics scrapes.
cmake -S . -B build-tsan -DTW_WERROR=ON -DTW_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tsan -j"$jobs" --target test_ring test_rx test_pipeline transitwatch twgen
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -R '^(test_ring|test_rx|test_pipeline|int_workers|int_daemon_rx)$'
CC=clang cmake -S . -B build-fuzz -DTW_FUZZ=ON -DTW_TESTS=OFF -DTW_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
bash scripts/fuzz.sh build-fuzz "${FUZZ_SECONDS:-20}"
# MemorySanitizer over IP reassembly: fuzz_frag alone (its path is frag, pkt and the packet
# generator: all instrumented), with fresh never-written slot buffers for every input.
CC=clang cmake -S . -B build-msan -DTW_FUZZ=ON -DTW_MSAN=ON -DTW_TESTS=OFF -DTW_WERROR=ON >/dev/null
cmake --build build-msan -j"$jobs" --target fuzz_frag
bash scripts/fuzz.sh build-msan "${FUZZ_SECONDS:-20}" frag
