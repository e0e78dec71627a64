#!/usr/bin/env python3
"""Compare the alerts and summaries of a single-process replay with those of detect instances
(kafka_scale.sh). Standard library only.

  kafka_compare.py exact [--ignore FIELD]... SINGLE.jsonl OUT1.jsonl [OUT2.jsonl...]
      The instances' alerts and summaries, together, are exactly the single run's: the same
      JSON documents, each once (totals lines are left out: they are per process; so are the
      top-level members named by --ignore, e.g. observer for records that carry no exporter).
  kafka_compare.py covers SINGLE.jsonl OUT1.jsonl [OUT2.jsonl...]
      After a failure: every alert of the single run arrives (by event.id; every copy of one
      event.id is the same incident: rule, host, peer, window start), duplicates allowed; an
      alert under another event.id is allowed only as a continuation of an incident of the
      single run (same rule, host and peer: the instance that took the partitions over opened
      it anew; counted and printed); an alert of a new incident is counted and printed as
      warm-up (state that spans windows, such as scan's TRW evidence, started again from the
      commit on the instance that took the partitions over), not refused; every (customer, window) summary of the single run that
      has traffic arrives with the same traffic (out/in/internal bytes, packets, flows); the
      summaries without traffic (the day view only) may be missing (the day view warms up
      again on the new owner; counted and printed); no other summary arrives.
  kafka_compare.py takeover SINGLE.jsonl OUT1.jsonl [OUT2.jsonl...]
      covers, with nothing warming up: no incident opened again, no alert of a new incident,
      no summary missing (the input is shorter than [kafka] replay_horizon, so the instance
      that took partitions over re-read their whole history: duplicates by event.id only),
      and every copy of a (customer, window) summary with the single run's traffic.
Prints what differs and exits 1, else prints a one-line tally and exits 0. An alert the single
run has not (covers, takeover) is printed with the instance that published it (the name of its
OUT file's directory), its evidence and what each side raised for its host.
"""
import collections
import json
import os
import sys


def load(paths, ignore=(), origin=None):
    """The alerts and summaries of paths; origin (a dict), when given: event.id -> the
    instances (each path's directory name, kafka_scale.sh's instance) that published it."""
    alerts, summaries = [], []
    for p in paths:
        with open(p) as f:
            for line in f:
                d = json.loads(line)
                for k in ignore:
                    d.pop(k, None)
                ev = d.get("event", {})
                if ev.get("kind") == "alert":
                    alerts.append(d)
                    if origin is not None:
                        origin.setdefault(ev["id"], set()).add(
                            os.path.basename(os.path.dirname(os.path.abspath(p))))
                elif ev.get("dataset") == "transitwatch.summary":
                    summaries.append(d)
    return alerts, summaries


def canon(d):
    return json.dumps(d, sort_keys=True)


def incident(a):
    t = a["transitwatch"]
    return (a["rule"]["id"], t.get("host"), t.get("peer"), t["window"]["start"])


def sum_key(s):
    t = s["transitwatch"]
    return (t["customer"]["id"], t["window"]["start"])


def traffic(s):
    t = s["transitwatch"]
    return json.dumps({k: t.get(k) for k in ("outbound", "inbound", "internal")}, sort_keys=True)


def differences(want, got, path=""):
    """(path, wanted value, got value) for every leaf where two documents differ."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            yield from differences(want.get(k), got.get(k), f"{path}.{k}" if path else k)
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            yield from differences(w, g, f"{path}[{i}]")
    elif want != got:
        yield path, json.dumps(want), json.dumps(got)


def exact(single, outs, ignore):
    a1, s1 = load([single], ignore)
    a2, s2 = load(outs, ignore)
    bad = 0
    for kind, x, y in (("alert", a1, a2), ("summary", s1, s2)):
        cx = collections.Counter(canon(d) for d in x)
        cy = collections.Counter(canon(d) for d in y)
        missing, extra = cx - cy, cy - cx
        for doc, n in missing.items():
            bad += 1
            print(f"missing {kind} (x{n}): {doc[:400]}")
        for doc, n in extra.items():
            bad += 1
            print(f"extra {kind} (x{n}): {doc[:400]}")
        # a missing and an extra document of the same incident or window: the fields that differ
        key = incident if kind == "alert" else sum_key
        by_key = {key(json.loads(doc)): json.loads(doc) for doc in extra}
        for doc in missing:
            want = json.loads(doc)
            other = by_key.get(key(want))
            if other is not None:
                for path, w, g in differences(want, other):
                    print(f"  {kind} {key(want)}: {path}: single run {w}, instances {g}")
    print(f"exact: {len(a1)} alerts, {len(s1)} summaries in the single run; "
          f"{len(a2)} and {len(s2)} from {len(outs)} instance(s); {bad} differences")
    return 1 if bad or not a1 + s1 else 0


def explain(eid, origin, a1, a2):
    """After an alert of the instances that the single run has not: which instance published
    it, its evidence, and what each side raised for that host (so a failure in CI says which
    pass, the victim's or a survivor's, saw the host otherwise)."""
    host = next(a["transitwatch"].get("host") for a in a2 if a["event"]["id"] == eid)
    ev = next(a["transitwatch"].get("evidence") for a in a2 if a["event"]["id"] == eid)
    print(f"  from {sorted(origin.get(eid, ()))}; evidence: {json.dumps(ev, sort_keys=True)[:600]}")
    for name, docs in (("single run", a1), ("instances", a2)):
        seen = sorted({(a["rule"]["id"], a["transitwatch"]["window"]["start"],
                        ",".join(sorted(origin.get(a["event"]["id"], ()))) if docs is a2 else "")
                       for a in docs if a["transitwatch"].get("host") == host})
        print(f"  {name}, host {host}: {seen}")


def covers(single, outs, ignore, strict=False):
    origin = {}
    a1, s1 = load([single])
    a2, s2 = load(outs, origin=origin)
    bad = 0
    want = {a["event"]["id"]: incident(a) for a in a1}
    got = collections.defaultdict(set)
    for a in a2:
        got[a["event"]["id"]].add(incident(a))
    for eid, inc in want.items():
        if eid not in got:
            bad += 1
            print(f"missing alert {eid}: {inc}")
        elif got[eid] != {inc}:
            bad += 1
            print(f"alert {eid}: {inc} arrived as {got[eid]}")
    idents = {inc[:3] for inc in want.values()}
    reopened = warm = 0
    for e in (e for e in got if e not in want):
        if all(inc[:3] in idents for inc in got[e]):
            reopened += 1
            print(f"alert {e}: an incident of the single run opened again: {got[e]}")
        else:
            warm += 1
            print(f"alert {e} not in the single run (warm-up on the new owner): {got[e]}")
        explain(e, origin, a1, a2)
    sw = {sum_key(s): traffic(s) for s in s1}
    sg = collections.defaultdict(set)
    for s in s2:
        sg[sum_key(s)].add(traffic(s))
    quiet = 0
    for k, tr in sw.items():
        if strict and len(sg.get(k, set())) > 1:
            bad += 1  # one copy of the window came from other records (lost or counted twice)
            print(f"summary {k}: want {tr}, got copies with other traffic: {sg[k]}")
            continue
        if tr in sg.get(k, set()):
            continue
        if k not in sg and '"flows": 0' in tr and '"flows": 1' not in tr and all(
                v["flows"] == 0 for v in json.loads(tr).values()):
            quiet += 1
            print(f"summary {k}: day view only (no traffic), not made again after the failover")
            continue
        bad += 1
        print(f"summary {k}: want {tr}, got {sg.get(k)}")
    for k in sg:
        if k not in sw:
            bad += 1
            print(f"summary {k} not in the single run")
    if strict:
        bad += reopened + warm + quiet
    dups = len(a2) - len(got)
    print(f"covers: {len(want)} alerts and {len(sw)} summaries of the single run; "
          f"{len(a2)} alerts ({dups} duplicates by event.id, {reopened} incidents opened "
          f"again, {warm} new from warm-up) and {len(s2)} summaries ({quiet} day-view-only ones not made again) "
          f"arrived; {bad} problems")
    return 1 if bad else 0


def main():
    args, ignore = sys.argv[2:], []
    while len(args) > 1 and args[0] == "--ignore":
        ignore.append(args[1])
        args = args[2:]
    if len(sys.argv) < 4 or sys.argv[1] not in ("exact", "covers", "takeover") or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "exact":
        return exact(args[0], args[1:], ignore)
    return covers(args[0], args[1:], ignore, sys.argv[1] == "takeover")


if __name__ == "__main__":
    sys.exit(main())
