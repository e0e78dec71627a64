#!/usr/bin/env bash
# No Docker engine runs here, so check what can be checked without one: the compose file parses
# and wires Kafka (KRaft, with an EXTERNAL listener for the host) + transitwatch + the replay,
# metrics not published beyond loopback, the own-map mount documented; the Dockerfile copies
# files that exist; the runtime image's packages cover every library the binary links and
# every program it runs (nfdump, curl); its HEALTHCHECK command, run by dash as in the image,
# passes against a real daemon on the container's config and fails without one; the
# container's config passes --check-config against the shipped lists.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
python3 - "$TW_SRC/docker/compose.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
for name in ("kafka", "transitwatch", "replay"):
    assert name in s, name
k = s["kafka"]["environment"]
assert "controller" in k["KAFKA_PROCESS_ROLES"] and "broker" in k["KAFKA_PROCESS_ROLES"], "KRaft roles"
assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in k
assert s["transitwatch"]["build"]["dockerfile"] == "docker/Dockerfile"
assert s["transitwatch"]["depends_on"]["kafka"]["condition"] == "service_healthy"
assert "--kafka kafka:9092" in " ".join(s["replay"]["command"])
# the host's consumers: an EXTERNAL listener advertised as localhost, published on loopback
assert "EXTERNAL://:9094" in k["KAFKA_LISTENERS"], "no EXTERNAL listener"
assert "EXTERNAL://localhost:9094" in k["KAFKA_ADVERTISED_LISTENERS"]
assert "EXTERNAL:PLAINTEXT" in k["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
assert "127.0.0.1:9094:9094" in s["kafka"].get("ports", []), "Kafka EXTERNAL not published"
# metrics: never published on every interface
for p in s["transitwatch"].get("ports", []):
    assert not str(p).split(":")[-1].startswith("9464") or str(p).startswith("127.0.0.1:"), p
text = open(sys.argv[1]).read()
assert "/usr/local/etc/transitwatch" in text and "customer map" in text, "own map mount not documented"
# the scaled-out profile: Kafka, one collect, three detect instances with distinct static ids
sc = {n: v for n, v in s.items() if "scaled" in v.get("profiles", [])}
assert sorted(sc) == ["collect", "detect-1", "detect-2", "detect-3", "topics"], sorted(sc)
assert sc["collect"]["command"][0] == "collect"
# the topics, made before collect and detect start: flows with 12 partitions, the prevalence
# topic (topic_prevalence's default) with one and a short retention
tcmd = " ".join(sc["topics"]["command"])
assert sc["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
made = {}
for part in tcmd.split("&&"):
    w = part.split()
    assert "kafka-topics.sh" in w[0] and "--create" in w and "--if-not-exists" in w, part
    made[w[w.index("--topic") + 1]] = w
assert sorted(made) == ["transitwatch.flows", "transitwatch.prevalence"], sorted(made)
assert made["transitwatch.flows"][made["transitwatch.flows"].index("--partitions") + 1] == "12"
pv = made["transitwatch.prevalence"]
assert pv[pv.index("--partitions") + 1] == "1", pv
ret = [pv[i + 1] for i, x in enumerate(pv) if x == "--config" and pv[i + 1].startswith("retention.ms=")]
assert ret and int(ret[0].split("=")[1]) <= 86400000, "prevalence retention not short"
conf = open(sys.argv[1].replace("compose.yaml", "transitwatch.conf")).read()
assert "topic_prevalence" not in conf and "topic_flows" not in conf, "docker config names topics: update the compose check"
defaults = open(sys.argv[1].replace("docker/compose.yaml", "configs/transitwatch.conf")).read()
for t in ("topic_flows = transitwatch.flows", "topic_prevalence = transitwatch.prevalence"):
    assert "\n" + t + "\n" in defaults, "default changed: " + t
ids = set()
for n in ("collect", "detect-1", "detect-2", "detect-3"):
    assert sc[n]["depends_on"]["topics"]["condition"] == "service_completed_successfully", n
for n in ("detect-1", "detect-2", "detect-3"):
    cmd = sc[n]["command"]
    assert cmd[:2] == ["detect", "--from-kafka"], cmd
    ids.add(cmd[cmd.index("--instance-id") + 1])
assert len(ids) == 3, ids
spools = {v["volumes"][0].split(":")[0] for v in sc.values() if "volumes" in v}
assert len(spools) == 4, "each process its own spool"
assert int(k["KAFKA_NUM_PARTITIONS"]) >= 3
print("compose: ok")
PY
# the container's metrics listen on its loopback
grep -q '^listen = 127.0.0.1:9464' "$TW_SRC/docker/transitwatch.conf" || fail "container metrics not on loopback"
# every COPY source of the Dockerfile exists in the tree
grep -E '^COPY [^-]' "$TW_SRC/docker/Dockerfile" | awk '{print $2}' | while read -r src; do
  [[ $src == . || -e $TW_SRC/$src ]] || { echo "FAIL: Dockerfile copies missing $src"; exit 1; }
done
grep -q '^USER transitwatch' "$TW_SRC/docker/Dockerfile" || { echo "FAIL: runtime not non-root"; exit 1; }
grep -q '^FROM .* AS build' "$TW_SRC/docker/Dockerfile" || { echo "FAIL: not multi-stage"; exit 1; }
# the container's config dir as the image has it: the config beside the shipped lists
mkdir -p "$tmp/etc"
cp -r "$TW_SRC/configs/customers.csv" "$TW_SRC/configs/blocklists" "$tmp/etc/"
sed "s|spool_dir = .*|spool_dir = $tmp/spool|" "$TW_SRC/docker/transitwatch.conf" >"$tmp/etc/transitwatch.conf"
"$TW_BIN/collector/transitwatch" --config "$tmp/etc/transitwatch.conf" --check-config

# ---- the runtime image's packages against what the binary needs at run time ----
pkgs=$(python3 - "$TW_SRC/docker/Dockerfile" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
rt = text[text.index(" AS runtime"):]
m = re.search(r"apt-get install -y --no-install-recommends ([^&]*)", rt)
print("\n".join(m.group(1).split()) if m else "")
PY
)
[[ -n $pkgs ]] || fail "no runtime package list in the Dockerfile"
if command -v dpkg >/dev/null && command -v readelf >/dev/null; then
  bin=$TW_BIN/collector/transitwatch
  # (a sanitizer build also links its runtime: not part of the image's binary)
  for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | grep -Ev '^lib(a|ub|t)san\.'); do
    path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')
    [[ -n $path ]] || fail "ldd does not resolve $lib"
    real=$(readlink -f "$path")
    pkg=
    for cand in "$real" "${real#/usr}" "/usr$real" "$path"; do
      pkg=$(dpkg -S "$cand" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $pkg ]] && break
    done
    [[ -n $pkg ]] || fail "no package owns $lib ($path)"
    grep -qx "$pkg" <<<"$pkgs" || fail "the binary links $lib from $pkg, not in the runtime image's list: $(echo $pkgs)"
  done
else
  echo "dpkg or readelf missing: library check skipped"
fi
# programs it runs: nfdump for nfcapd archives, curl for the HEALTHCHECK
grep -qx nfdump <<<"$pkgs" || fail "runtime image lacks nfdump (replaying nfcapd archives runs nfdump -r)"
grep -q '"nfdump"' "$TW_SRC/collector/sources/nfdump.c" || fail "nfdump.c no longer runs nfdump: update this check"
hc=$(sed -n 's/^HEALTHCHECK .*CMD \(.*\)$/\1/p' "$TW_SRC/docker/Dockerfile")
[[ -n $hc && $hc != \[* ]] || fail "HEALTHCHECK is not a shell-form command: $hc"
prog=$(awk '{ print $1 }' <<<"$hc")
prog_pkg=$(dpkg -S "$(command -v "$prog")" 2>/dev/null | head -1 | cut -d: -f1 || true)
grep -qx "${prog_pkg:-$prog}" <<<"$pkgs" || fail "HEALTHCHECK runs $prog (package ${prog_pkg:-?}), not in the image"
echo "runtime packages: $(echo $pkgs)"

# ---- the HEALTHCHECK, run by dash as the image runs it, against a real daemon ----
command -v dash >/dev/null || { echo "docker_files: all checks passed (dash missing: HEALTHCHECK not run)"; exit 0; }
if [[ $EUID -eq 0 ]] && unshare -n true 2>/dev/null; then
  # the image's ports (UDP 2055..., 127.0.0.1:9464) in a network namespace of its own
  unshare -n bash -c '
    set -u
    ip link set lo up
    dash -c "'"$hc"'" >/dev/null 2>&1 && { echo "healthy with no daemon"; exit 1; }
    "'"$TW_BIN"'/collector/transitwatch" --config "'"$tmp"'/etc/transitwatch.conf" >/dev/null 2>"'"$tmp"'/log" &
    p=$!
    ok=1
    for ((i = 0; i < 100; i++)); do
      if dash -c "'"$hc"'" >"'"$tmp"'/hc.out" 2>&1; then ok=0; break; fi
      sleep 0.1
    done
    kill -TERM $p; wait $p
    exit $ok' || fail "HEALTHCHECK under dash: $(cat "$tmp/hc.out" 2>/dev/null) $(tail -3 "$tmp/log" 2>/dev/null)"
  echo "HEALTHCHECK under dash: unhealthy without the daemon, healthy with it"
else
  echo "HEALTHCHECK not run (needs root and unshare -n for the image's fixed port 9464)"
fi
echo "docker_files: all checks passed"
