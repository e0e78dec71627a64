#!/usr/bin/env bash
# transitwatch benchmark harness: one command.
#
#   bench/run.sh [--quick] [--no-install] [--no-build] [--build DIR] [--work DIR] [--only LIST]
#                [--out FILE] [--against OLD_BUILD_DIR [--against-reps N]] [--mem-hosts N]
#                [--rates LIST] [--reps N] [--hosts N]
#
# Builds transitwatch optimised (RelWithDebInfo: -O2 -g), installs the peers from Debian when
# missing (nfdump, pmacct, softflowd, valgrind, time; needs root or sudo; --no-install skips),
# generates the workloads with the project's generator (twgen bulk: v5, v9, IPFIX, mixed), and
# measures side by side (bench/bench.py): (a) UDP over loopback at rising offered rates against
# nfcapd and nfacctd, (b) replay of the same captures from a file, (c) raw pcap to flows (via
# bench/bench_pcap.sh when present), the memory per tracked host, callgrind instructions per
# record, the 1 -> 2 worker speed-up, and the host sweep (one mixed workload with 1 000, 10 000
# and --hosts inside hosts: time and instructions per record, i.e. what the tables' cache misses
# cost). Writes a markdown table to stdout and to
# bench/results-<date>.md (+ .json; --out FILE instead). --quick: small workloads, a few minutes (CI: it checks the
# harness works, not the ratios). --only: comma list of replay,udp,workers,memory,callgrind,hostsweep,
# pcap (none: "--only none"). --against DIR: also measure DIR's collector/transitwatch against this
# build in the same run (replay per format, 1 and 2 workers, UDP at the top rate, callgrind),
# back to back with the order alternating, every repetition reported (min / median / max).
# --mem-hosts N: the memory run's active hosts (default 10 M; --quick: 50 000).
# --rates LIST: the UDP offered rates, M records/s, comma-separated (default 0.8,1.6,2.4,3.2,4.0;
# --quick: 0.4,1.2); above 4.0 finds where a collector starts to lose on a fast machine.
# --reps N: runs of every UDP point per collector (default 3; --quick: 1), a repetition being the
# whole sweep with the collectors one after the other at each point; the report gives medians
# with min-max, loss-free rates from the median runs, and says where a peer's runs disagree.
# The sweep also runs bench/udp_sink, a bare recvmmsg loop that does no work: its loss-free rate
# is the harness's ceiling on this machine and sender (the report says when a target's rate
# lies above it). --hosts N: inside hosts of the workloads (default 100 000; --quick 20 000).
# The 1 -> 2 worker UDP point is run N times too, 2 workers on CPUs 0-1 (on 2 CPUs the sender
# shares a core with them; the report says what that figure can and cannot show).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
quick=0 install=1 build=1 bdir=$src/build-bench work= only= out= against= against_reps= mem_hosts= rates=
reps= hosts=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --build) bdir=$2; shift ;;
    --work) work=$2; shift ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    --against) against=$(cd "$2" && pwd); shift ;;
    --against-reps) against_reps=$2; shift ;;
    --mem-hosts) mem_hosts=$2; shift ;;
    --rates) rates=$2; shift ;;
    --reps) reps=$2; shift ;;
    --hosts) hosts=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
cmdline=bench/run.sh
[[ $quick == 0 ]] || cmdline+=" --quick"
[[ -z $only ]] || cmdline+=" --only $only"
[[ -z $against ]] || cmdline+=" --against $against${against_reps:+ --against-reps $against_reps}"
[[ -z $mem_hosts ]] || cmdline+=" --mem-hosts $mem_hosts"
[[ -z $rates ]] || cmdline+=" --rates $rates"
[[ -z $reps ]] || cmdline+=" --reps $reps"
[[ -z $hosts ]] || cmdline+=" --hosts $hosts"

if [[ $install == 1 ]]; then
  need=()
  command -v nfcapd >/dev/null || need+=(nfdump)
  command -v nfacctd >/dev/null || [[ -x /usr/sbin/nfacctd ]] || need+=(pmacct)
  command -v softflowd >/dev/null || [[ -x /usr/sbin/softflowd ]] || need+=(softflowd)
  command -v valgrind >/dev/null || need+=(valgrind)
  [[ -x /usr/bin/time ]] || need+=(time)
  if [[ ${#need[@]} -gt 0 ]]; then
    sudo=; [[ $(id -u) == 0 ]] || sudo="sudo -n"
    echo "bench: installing ${need[*]}" >&2
    # pmacct's package starts its daemons: keep them from running (policy-rc.d)
    if ! { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
             "${need[@]}" >&2 || { $sudo apt-get update >&2 &&
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
             "${need[@]}" >&2; }; }; then
      echo "bench: could not install ${need[*]}; the missing peers are left out" >&2
    fi
  fi
fi

if [[ $build == 1 ]]; then
  cmake -S "$src" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTW_WERROR=ON >&2
  cmake --build "$bdir" -j"$(nproc)" --target transitwatch twgen udp_sink >&2
fi
[[ -x $bdir/collector/transitwatch && -x $bdir/tests/twgen ]] || {
  echo "run.sh: no build in $bdir (drop --no-build or pass --build DIR)" >&2; exit 1; }

cleanup_work=0
if [[ -z $work ]]; then
  work=$(mktemp -d /tmp/tw-bench.XXXXXX)
  cleanup_work=1
fi
trap '[[ $cleanup_work == 1 ]] && rm -rf "$work"' EXIT
stamp=$(date +%Y-%m-%d-%H%M)
suffix=
[[ $quick == 0 ]] || suffix=-quick
[[ -n $out ]] || out=$src/bench/results-$stamp$suffix.md
args=(--bin "$bdir" --src "$src" --work "$work" --out "$out" --command "$cmdline"
      --build-type RelWithDebInfo)
[[ $quick == 1 ]] && args+=(--quick)
[[ -n $only ]] && args+=(--only "$only")
[[ -n $against ]] && args+=(--against "$against")
[[ -n $against_reps ]] && args+=(--against-reps "$against_reps")
[[ -n $mem_hosts ]] && args+=(--mem-hosts "$mem_hosts")
[[ -n $rates ]] && args+=(--rates "$rates")
[[ -n $reps ]] && args+=(--reps "$reps")
[[ -n $hosts ]] && args+=(--hosts "$hosts")
python3 "$src/bench/bench.py" "${args[@]}"
echo "bench: results in $out" >&2
