#!/usr/bin/env python3
"""validate.py: check transitwatch's JSON output against configs/*.schema.json.

  validate.py lines [--schemas DIR] [--min-alerts N] [--stats FILE] FILE...
      JSON lines (the JSON-lines sink): every line is an alert, a summary or the totals; each is
      validated (alerts: alert.schema.json, summaries: summary.schema.json, totals: a JSON object
      with event.dataset "transitwatch.totals") plus the cross-field rules JSON Schema cannot say.
  validate.py kafka [--schemas DIR] [--topic-alerts T] [--topic-summaries T] FILE...
      Lines "topic<TAB>key<TAB>value" (twkafka consume): the value is validated as above, the topic
      must fit the kind and the key must be the customer id (organization.id).
  validate.py compare --jsonl F [--jsonl F2 ...] --kafka K [--exact] [--topic-alerts T]
                      [--topic-summaries T]
      Every alert and summary line of the JSON-lines files must have arrived on Kafka with the
      same bytes. --exact: exactly once each, nothing else, and in the JSON-lines order per key.
      Otherwise at least once; every copy of an event.id must be byte-identical, and every Kafka
      message must be a known line unless --allow-extra. --expect-missing N: exactly N lines
      did not arrive (the sink counted them as lost); --last-window-complete: none of those is
      from the last window.
Exit 0 = all good, 1 = failures (the first ones are printed), 2 = usage.
"""
import argparse
import collections
import json
import os
import sys

try:
    import jsonschema
except ImportError:  # the caller decides whether that is a skip
    print("validate.py: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(3)

MAX_REPORT = 10


class Checker:
    def __init__(self, schema_dir):
        fc = jsonschema.FormatChecker()
        self.v = {}
        for kind in ("alert", "summary"):
            with open(os.path.join(schema_dir, kind + ".schema.json")) as f:
                schema = json.load(f)
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self.v[kind] = cls(schema, format_checker=fc)
        self.errors = []
        self.counts = collections.Counter()
        self.rules = collections.Counter()
        self.cats = collections.Counter()

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    def kind_of(self, doc):
        ev = doc.get("event") if isinstance(doc, dict) else None
        if not isinstance(ev, dict):
            return None
        if ev.get("kind") == "alert":
            return "alert"
        if ev.get("dataset") == "transitwatch.summary":
            return "summary"
        if ev.get("dataset") == "transitwatch.totals":
            return "totals"
        return None

    def check(self, where, text):
        """Validate one message text; returns (kind, doc) or (None, None)."""
        try:
            doc = json.loads(text)
        except ValueError as e:
            self.err(where, "not JSON: %s" % e)
            return None, None
        kind = self.kind_of(doc)
        if kind is None:
            self.err(where, "neither alert, summary nor totals: %.120s" % text)
            return None, None
        self.counts[kind] += 1
        if kind == "totals":
            if not isinstance(doc.get("transitwatch", {}).get("totals"), dict):
                self.err(where, "totals without transitwatch.totals")
            return kind, doc
        bad = sorted(self.v[kind].iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in bad[:3]:
            path = "/".join(str(p) for p in e.absolute_path) or "(top)"
            self.err(where, "%s schema: %s: %s" % (kind, path, e.message[:200]))
        if bad:
            return kind, doc
        self.cross(where, kind, doc)
        return kind, doc

    def cross(self, where, kind, doc):
        """What a schema cannot say: equal fields, ratios."""
        tw, ev, org = doc["transitwatch"], doc["event"], doc["organization"]
        if org["id"] != tw["customer"]["id"] or org["name"] != tw["customer"]["name"]:
            self.err(where, "organization != transitwatch.customer")
        if ev["start"] != tw["window"]["start"] or ev["end"] != tw["window"]["end"]:
            self.err(where, "event.start/end != transitwatch.window")
        if doc["@timestamp"] != ev["end"]:
            self.err(where, "@timestamp != event.end")
        if ev["start"] > ev["end"]:
            self.err(where, "window start after end")
        if kind == "alert":
            self.rules[doc["rule"]["id"]] += 1
            self.cats[doc["rule"]["category"]] += 1
            if ev["action"] != doc["rule"]["id"]:
                self.err(where, "event.action != rule.id")
            if doc["rule"]["ruleset"] != tw["detector"]:
                self.err(where, "rule.ruleset != transitwatch.detector")
            # score has 3 decimals and risk_score 1, each rounded on its own: up to 0.05 + 0.05
            if abs(ev["risk_score"] - tw["score"] * 100) > 0.1001:
                self.err(where, "risk_score != score * 100")
            rel = doc.get("related", {}).get("ip", [])
            want = [tw[k] for k in ("host", "peer") if k in tw]
            if rel != want:
                self.err(where, "related.ip %s != [host, peer] %s" % (rel, want))
            ends = [doc[k]["ip"] for k in ("source", "destination") if "ip" in doc.get(k, {})]
            if sorted(ends) != sorted(want) and not (len(ends) == 1 and ends[0] == tw.get("host")):
                self.err(where, "source/destination %s do not match host/peer %s" % (ends, want))
            if "threat" in doc:
                feeds = set()
                for en in doc["threat"]["enrichments"]:
                    ind, m = en["indicator"], en["matched"]
                    if ind["ip"] not in want:
                        self.err(where, "threat.enrichments indicator.ip is neither host nor peer")
                    if m["atomic"] != ind["ip"]:
                        self.err(where, "matched.atomic != indicator.ip")
                    end = m["field"].split(".")[0]
                    if doc.get(end, {}).get("ip") != m["atomic"]:
                        self.err(where, "matched.field %s does not hold %s" % (m["field"], m["atomic"]))
                    if ind["provider"] in feeds:
                        self.err(where, "feed %s listed twice in one alert" % ind["provider"])
                    feeds.add(ind["provider"])
            if tw.get("first_raised", ev["end"]) > ev["end"]:
                self.err(where, "first_raised after the window's end")
            if "first_seen" in tw and "last_seen" in tw and tw["first_seen"] > tw["last_seen"]:
                self.err(where, "first_seen after last_seen")
        else:
            for view in (tw, tw["last_24h"]):
                if view["hosts_alerted"] > view["active_hosts"]:
                    self.err(where, "hosts_alerted > active_hosts")
                if view["hostile_hosts"] > view["hosts_alerted"]:
                    self.err(where, "hostile_hosts > hosts_alerted (hostile hosts have alerts)")
                share = view["hostile_hosts"] / view["active_hosts"] if view["active_hosts"] else 0.0
                if abs(share - view["hostile_share"]) > 0.00006:
                    self.err(where, "hostile_share %s != %s" % (view["hostile_share"], share))
                if max(view["hosts_by_category"].values()) > view["hosts_alerted"]:
                    self.err(where, "a category counts more hosts than hosts_alerted")
            named = tw["hostile"]
            if len(named) > min(8, tw["last_24h"]["hostile_hosts"]):
                self.err(where, "more hosts named than hostile over the day")
            if len({h["ip"] for h in named}) != len(named):
                self.err(where, "a hostile host named twice")

    def report(self, label):
        for e in self.errors[:MAX_REPORT]:
            print("FAIL " + e, file=sys.stderr)
        if len(self.errors) > MAX_REPORT:
            print("FAIL ... %d more" % (len(self.errors) - MAX_REPORT), file=sys.stderr)
        rules = ", ".join("%s=%d" % kv for kv in sorted(self.rules.items()))
        print("%s: alerts=%d summaries=%d totals=%d errors=%d rules: %s" %
              (label, self.counts["alert"], self.counts["summary"], self.counts["totals"],
               len(self.errors), rules or "-"))


def read_kafka(path):
    """Yield (where, topic, key, value) of a twkafka consume file."""
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            parts = line.split("\t", 2)
            if len(parts) != 3:
                yield "%s:%d" % (path, n), None, None, line
                continue
            yield ("%s:%d" % (path, n),) + tuple(parts)


def read_lines(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, 1):
            yield "%s:%d" % (path, n), line.rstrip("\n")


def cmd_lines(a, c):
    for p in a.files:
        for where, text in read_lines(p):
            c.check(where, text)
    c.report("validate lines")
    if c.counts["alert"] < a.min_alerts:
        c.err("all", "only %d alerts, wanted at least %d" % (c.counts["alert"], a.min_alerts))
        print("FAIL too few alerts", file=sys.stderr)
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump({"counts": c.counts, "rules": c.rules, "categories": c.cats}, f)
    return 1 if c.errors else 0


def cmd_kafka(a, c):
    topic_of = {"alert": a.topic_alerts, "summary": a.topic_summaries}
    for p in a.files:
        for where, topic, key, value in read_kafka(p):
            if topic is None:
                c.err(where, "not topic<TAB>key<TAB>value")
                continue
            kind, doc = c.check(where, value)
            if kind == "totals":
                c.err(where, "totals must not go to Kafka")
            elif kind in topic_of:
                if topic != topic_of[kind]:
                    c.err(where, "%s on topic %s, wanted %s" % (kind, topic, topic_of[kind]))
                org = doc.get("organization", {}).get("id") if isinstance(doc, dict) else None
                if key != org:
                    c.err(where, "key %r != organization.id %r" % (key, org))
    c.report("validate kafka")
    return 1 if c.errors else 0


def cmd_compare(a, c):
    topic_of = {"alert": a.topic_alerts, "summary": a.topic_summaries}
    want = []  # (kind, key, text) in JSON-lines order
    for p in a.jsonl:
        for where, text in read_lines(p):
            kind, doc = c.check(where, text)
            if kind in topic_of and doc:
                want.append((kind, doc["organization"]["id"], text))
    got = []
    for p in a.kafka:
        for where, topic, key, value in read_kafka(p):
            if topic is None:
                c.err(where, "not topic<TAB>key<TAB>value")
                continue
            kind, doc = c.check(where, value)
            if kind not in topic_of or not doc:
                continue
            if topic != topic_of[kind]:
                c.err(where, "%s on topic %s" % (kind, topic))
            if key != doc["organization"]["id"]:
                c.err(where, "key %r != organization.id" % key)
            got.append((kind, key, value))
    wantc = collections.Counter(want)
    gotc = collections.Counter(got)
    missing = wantc - gotc
    if a.exact:
        dups = sum(n - 1 for n in gotc.values() if n > 1)
        extra = gotc - wantc
        if dups:
            c.err("kafka", "%d duplicate message(s)" % dups)
        if extra:
            c.err("kafka", "%d message(s) not in the JSON lines, e.g. %.160s" %
                  (sum(extra.values()), next(iter(extra))[2]))
        # per key and topic, Kafka order == JSON-lines order (one partition per key)
        per_w, per_g = collections.defaultdict(list), collections.defaultdict(list)
        for k, key, t in want:
            per_w[(k, key)].append(t)
        for k, key, t in got:
            per_g[(k, key)].append(t)
        for kk in per_w:
            if per_w[kk] != per_g.get(kk, []) and not missing:
                c.err("kafka", "order differs for %s key %s" % kk)
    else:
        # at least once: every copy of an alert (an incident's id and count: updates of an
        # ongoing incident carry the same id with a higher count) carries the same bytes
        by_id = {}
        for k, key, t in got:
            if k != "alert":
                continue
            d = json.loads(t)
            eid = (d["event"]["id"], d["transitwatch"]["count"])
            if by_id.setdefault(eid, t) != t:
                c.err("kafka", "event.id %s count %d arrived with different bytes" % eid)
        if not a.allow_extra:
            extra = set(gotc) - set(wantc)
            if extra:
                c.err("kafka", "%d message(s) not in the JSON lines, e.g. %.160s" %
                      (len(extra), next(iter(extra))[2]))
    nmiss = sum(missing.values())
    if a.last_window_complete and want:
        last = max(json.loads(t)["event"]["end"] for _, _, t in want)
        late = [w for w in missing if json.loads(w[2])["event"]["end"] == last]
        if late:
            c.err("kafka", "%d message(s) of the last window (%s) missing" % (len(late), last))
    if a.expect_missing is not None:
        if nmiss != a.expect_missing:
            c.err("kafka", "%d message(s) missing, but %d were counted as lost" %
                  (nmiss, a.expect_missing))
    elif missing:
        ids = [json.loads(t).get("event", {}).get("id", "?") for k, _, t in missing if k == "alert"]
        c.err("kafka", "%d of %d message(s) missing (%d alerts: %s)" %
              (nmiss, len(want), len(ids), " ".join(ids[:5])))
    ndup = sum(n - 1 for n in gotc.values() if n > 1)
    if ndup < a.min_duplicates:
        c.err("kafka", "%d duplicate(s), wanted at least %d" % (ndup, a.min_duplicates))
    na = sum(1 for k, _, _ in want if k == "alert")
    ga = sum(1 for k, _, _ in got if k == "alert")
    gids = {json.loads(t)["event"]["id"] for k, _, t in got if k == "alert"}
    c.report("compare")
    print("compare: jsonl alerts=%d summaries=%d; kafka alerts=%d (distinct ids %d) "
          "summaries=%d; duplicates=%d; missing=%d" %
          (na, len(want) - na, ga, len(gids), len(got) - ga,
           ndup, nmiss))
    return 1 if c.errors else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    dflt = os.path.join(here, "..", "..", "configs")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("lines", "kafka", "compare"):
        s = sub.add_parser(name)
        s.add_argument("--schemas", default=dflt)
        s.add_argument("--topic-alerts", default="transitwatch.alerts")
        s.add_argument("--topic-summaries", default="transitwatch.summaries")
        if name == "compare":
            s.add_argument("--jsonl", action="append", required=True)
            s.add_argument("--kafka", action="append", required=True)
            s.add_argument("--exact", action="store_true")
            s.add_argument("--allow-extra", action="store_true")
            s.add_argument("--expect-missing", type=int,
                           help="exactly this many messages are missing (counted as lost)")
            s.add_argument("--min-duplicates", type=int, default=0,
                           help="at least this many messages arrived more than once")
            s.add_argument("--last-window-complete", action="store_true",
                           help="no message of the last window may be missing")
        else:
            s.add_argument("files", nargs="+")
        if name == "lines":
            s.add_argument("--min-alerts", type=int, default=0)
            s.add_argument("--stats")
    a = ap.parse_args()
    c = Checker(a.schemas)
    return {"lines": cmd_lines, "kafka": cmd_kafka, "compare": cmd_compare}[a.cmd](a, c)


if __name__ == "__main__":
    sys.exit(main())
