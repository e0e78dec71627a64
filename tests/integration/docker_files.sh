#!/usr/bin/env bash
# No Docker engine runs here, so check what can be checked without one: the compose file parses
# and wires Kafka (KRaft) + transitwatch + the replay; the Dockerfile copies files that exist;
# the container's config passes --check-config against the shipped lists.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
print("compose: ok")
PY
# every COPY source of the Dockerfile exists in the tree
grep -E '^COPY [^-]' "$TW_SRC/docker/Dockerfile" | awk '{print $2}' | while read -r src; do
  [[ $src == . || -e $TW_SRC/$src ]] || { echo "FAIL: Dockerfile copies missing $src"; exit 1; }
done
grep -q '^USER transitwatch' "$TW_SRC/docker/Dockerfile" || { echo "FAIL: runtime not non-root"; exit 1; }
grep -q '^FROM .* AS build' "$TW_SRC/docker/Dockerfile" || { echo "FAIL: not multi-stage"; exit 1; }
# the container config, with its paths pointed at the source tree
sed "s|/usr/local/etc/transitwatch/|$TW_SRC/configs/|; s|spool_dir = .*|spool_dir = $tmp/spool|" \
  "$TW_SRC/docker/transitwatch.conf" >"$tmp/tw.conf"
"$TW_BIN/collector/transitwatch" --config "$tmp/tw.conf" --check-config
echo "docker_files: all checks passed"
