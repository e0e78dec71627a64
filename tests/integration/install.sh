#!/usr/bin/env bash
# Issue 13 items 5, 6, 11: `cmake --install` for the /usr and /usr/local layouts (DESTDIR, the
# prefix given at install time): binary, config in GNUInstallDirs' FULL sysconfdir (/etc for
# /usr), lists, schemas, README, man page, bash completion, and a systemd unit whose command
# lines name those paths. The installed binary is started with the installed unit's
# ExecStartPre and ExecStart command lines (in a private network namespace when root can make
# one, so the shipped config's ports are its own). A reinstall keeps an edited config. The
# unit's `systemd-analyze security` rating is at most 2.5 and is the one the README gives. The
# man page describes every option of --help; the completion offers them.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tmp=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

check_layout() { # PREFIX CONFDIR
  local prefix=$1 confdir=$2 d=$tmp/dest${1//\//_}
  mkdir -p "$d"
  DESTDIR=$d cmake --install "$TW_BIN" --prefix "$prefix" >"$tmp/install.log" || fail "install $prefix"
  for f in "$prefix/bin/transitwatch" "$confdir/transitwatch.conf" "$confdir/customers.csv" \
           "$confdir/blocklists/drop.txt" "$prefix/share/transitwatch/alert.schema.json" \
           "$prefix/share/transitwatch/summary.schema.json" "$prefix/share/transitwatch/totals.schema.json" \
           "$prefix/lib/systemd/system/transitwatch.service" \
           "$prefix/share/doc/transitwatch/README.md" "$prefix/share/man/man8/transitwatch.8" \
           "$prefix/share/bash-completion/completions/transitwatch"; do
    [[ -e $d$f ]] || fail "$f not installed (prefix $prefix): $(find "$d" -type f | head -30)"
  done
  [[ -e $d$prefix/etc/transitwatch/transitwatch.conf && $prefix == /usr ]] && fail "config under /usr/etc"
  local unit=$d$prefix/lib/systemd/system/transitwatch.service
  grep -q "^ExecStart=$prefix/bin/transitwatch --config $confdir/transitwatch.conf$" "$unit" \
    || fail "unit ExecStart for $prefix: $(grep ExecStart "$unit")"
  grep -q "^ExecStartPre=$prefix/bin/transitwatch --config $confdir/transitwatch.conf --check-config$" "$unit" \
    || fail "unit ExecStartPre for $prefix"
  grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$unit" || fail "unit reload"
  grep -q '^Type=notify$' "$unit" || fail "unit not Type=notify"
  # the installed unit's command lines, run against the installed files (under DESTDIR)
  local pre start
  pre=$(sed -n 's/^ExecStartPre=//p' "$unit" | sed "s|$prefix/bin/|$d$prefix/bin/|; s| $confdir/| $d$confdir/|")
  start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|$prefix/bin/|$d$prefix/bin/|; s| $confdir/| $d$confdir/|")
  $pre >"$tmp/pre.out" 2>&1 || fail "ExecStartPre for $prefix: $(cat "$tmp/pre.out")"
  if [[ $EUID -eq 0 ]] && unshare -n true 2>/dev/null; then
    # a fresh output file: the wait below must not find the previous prefix's "started" line
    # before the new daemon's shell has truncated the file (seen under load: curl got no answer)
    rm -f "$tmp/start.out"
    # the shipped config listens on 0.0.0.0:2055,... and 127.0.0.1:9464: in a namespace of its own
    unshare -n bash -c '
      ip link set lo up
      '"$start"' >"'"$tmp"'/start.out" 2>&1 &
      p=$!
      for ((i = 0; i < 300; i++)); do
        grep -q "transitwatch .* started" "'"$tmp"'/start.out" && break; sleep 0.1
      done
      code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 http://127.0.0.1:9464/metrics)
      kill -TERM $p; wait $p; rc=$?
      [[ $code == 200 && $rc == 0 ]]' || fail "the installed unit's ExecStart ($prefix): $(cat "$tmp/start.out")"
    echo "install $prefix: ExecStart runs (metrics 200, SIGTERM exit 0)"
  else
    echo "install $prefix: ExecStart not started (needs root and unshare -n for the shipped ports)"
  fi
  # a reinstall keeps an edited config; the shipped one goes beside it
  echo "# edited by the operator" >>"$d$confdir/transitwatch.conf"
  DESTDIR=$d cmake --install "$TW_BIN" --prefix "$prefix" >"$tmp/install2.log" || fail "reinstall"
  grep -q 'edited by the operator' "$d$confdir/transitwatch.conf" || fail "reinstall overwrote the config"
  cmp -s "$d$confdir/transitwatch.conf.dist" "$TW_SRC/configs/transitwatch.conf" \
    || fail "no transitwatch.conf.dist next to the edited config"
  [[ -e $d$confdir/customers.csv.dist ]] && fail "an unchanged file got a .dist copy"
  echo "install $prefix: paths ok, reinstall kept the edited config"
}
check_layout /usr /etc/transitwatch
check_layout /usr/local /usr/local/etc/transitwatch

# ---- 6. the unit's security rating, and the README's figure ----
unit=$tmp/dest_usr/usr/lib/systemd/system/transitwatch.service
if command -v systemd-analyze >/dev/null && systemd-analyze security --offline=true "$unit" >"$tmp/sa" 2>&1; then
  rating=$(sed -n 's/.*Overall exposure level for transitwatch.service: \([0-9.]*\).*/\1/p' "$tmp/sa")
  [[ -n $rating ]] || fail "no rating: $(tail -3 "$tmp/sa")"
  awk -v r="$rating" 'BEGIN { exit !(r <= 2.5) }' || fail "exposure $rating > 2.5"
  grep -q "systemd-analyze security.*$rating" "$TW_SRC/README.md" \
    || fail "the README does not record the rating $rating"
  echo "unit: systemd-analyze security rates it $rating"
else
  echo "unit: systemd-analyze not available, rating not checked"
fi

# ---- 11. man page and completion ----
man8=$tmp/dest_usr/usr/share/man/man8/transitwatch.8
tw=$tmp/dest_usr/usr/bin/transitwatch
opts=$( { "$tw" --help; "$tw" replay --help; } | grep -oE -- '--[a-z][a-z-]*' | sort -u)
[[ $(wc -w <<<"$opts") -gt 30 ]] || fail "few options in --help"
for o in $opts; do
  esc=$(sed 's/-/\\\\-/g' <<<"$o")
  grep -q -- "$esc" "$man8" || fail "option $o of --help is not in the man page"
done
if command -v man >/dev/null && man -l "$man8" >/dev/null 2>&1; then
  MANWIDTH=100 man -l "$man8" 2>/dev/null | grep -q 'SIGHUP' || fail "man page does not render"
fi
comp=$tmp/dest_usr/usr/share/bash-completion/completions/transitwatch
got=$(bash -c '
  source "$1"
  COMP_WORDS=("$2" replay --no-s); COMP_CWORD=2; _transitwatch; echo "${COMPREPLY[*]}"
  COMP_WORDS=("$2" --ch); COMP_CWORD=1; _transitwatch; echo "${COMPREPLY[*]}"
  COMP_WORDS=("$2" replay --route a); COMP_CWORD=3; _transitwatch; echo "${COMPREPLY[*]}"
  COMP_WORDS=("$2" replay --format ""); COMP_CWORD=3; _transitwatch; echo "format: ${COMPREPLY[*]}"' _ "$comp" "$tw")
grep -q -- '--no-sniff --no-stats --no-summaries' <<<"$got" || fail "completion of replay options: $got"
grep -q -- '--check-config' <<<"$got" || fail "completion of daemon options: $got"
grep -q -- 'all-export all-meter\|all-meter all-export' <<<"$got" || fail "completion of --route: $got"
grep -q -- 'format: text json' <<<"$got" || fail "completion of --format: $got"
echo "man page: every --help option; completion: offers them"
echo "install: all checks passed"
