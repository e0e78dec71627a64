#!/usr/bin/env python3
"""validate.py: check transitwatch's JSON output against configs/*.schema.json.

  validate.py lines [--schemas DIR] [--min-alerts N] [--stats FILE] FILE...
      JSON lines (the JSON-lines sink): every line is an alert, a summary or the totals; each is
      validated (alerts: alert.schema.json, summaries: summary.schema.json, totals:
      totals.schema.json) plus the cross-field rules JSON Schema cannot say.
  validate.py rules --table FILE FILE...
      Every alert's rule has its entry in the rule table (FILE: `transitwatch --list-rules`):
      rule.name, description, reference and category are the table's, and the message has every
      placeholder filled. Needs no jsonschema.
  validate.py ecs --fixture FILE [--min-lines N] FILE...
      Every field of every line that lives in an ECS field set is defined in ECS (the fixture:
      tests/integration/ecs_fields.json, transcribed from the ECS reference), with a value of
      its ECS type, and event.kind/category/type/outcome and network.direction hold allowed
      values, each event.type expected for one of the event's categories. Needs no jsonschema.
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
Exit 0 = all good, 1 = failures (the first ones are printed), 2 = usage, 3 = python3-jsonschema
missing (lines, kafka, compare).
"""
import argparse
import collections
import datetime
import ipaddress
import json
import os
import re
import sys

MAX_REPORT = 10


class Checker:
    def __init__(self, schema_dir):
        try:
            import jsonschema
        except ImportError:  # the caller decides whether that is a skip
            print("validate.py: python3-jsonschema is not installed", file=sys.stderr)
            sys.exit(3)
        fc = jsonschema.FormatChecker()
        self.v = {}
        for kind in ("alert", "summary", "totals"):
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
        if kind == "totals":
            return
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
                    if "ip" not in ind:  # a listed prefix of the customer's own space
                        if m["atomic"] not in json.dumps(tw.get("evidence", {})):
                            self.err(where, "matched.atomic %s is not in the evidence" % m["atomic"])
                        if not ind["description"].startswith(m["atomic"] + " is listed on "):
                            self.err(where, "indicator.description does not name the prefix")
                        feeds.add(ind["provider"])
                        continue
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
            net = doc.get("network", {})
            for k in ("bytes", "packets"):
                if k in net and net[k] != tw[k]:
                    self.err(where, "network.%s != transitwatch.%s" % (k, k))
            if "ingress" in doc["observer"] and "ip" not in doc["observer"]:
                self.err(where, "observer.ingress without observer.ip")
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


def alerts_of(files):
    """Yield (where, doc) of every alert line of JSON-lines files."""
    for p in files:
        for where, text in read_lines(p):
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("event", {}).get("kind") == "alert":
                yield where, doc


def cmd_rules(a):
    """Every alert's rule is in the table, as the table has it."""
    table = {}
    for where, text in read_lines(a.table):
        r = json.loads(text)
        table[r["id"]] = r
    errors, seen = [], collections.Counter()
    for where, doc in alerts_of(a.files):
        rule = doc.get("rule", {})
        rid = rule.get("id")
        seen[rid] += 1
        r = table.get(rid)
        if r is None:
            errors.append("%s: rule %s has no entry in the rule table (core/rules.c)" % (where, rid))
            continue
        for k in ("name", "description", "reference", "category", "ruleset"):
            if rule.get(k) != r[k]:
                errors.append("%s: rule %s: %s %r is not the table's %r" % (where, rid, k, rule.get(k), r[k]))
        msg = doc.get("message", "")
        if not msg or "{" in msg or "}" in msg:
            errors.append("%s: rule %s: message with an unfilled placeholder: %s" % (where, rid, msg))
    for e in errors[:MAX_REPORT]:
        print("FAIL " + e, file=sys.stderr)
    print("validate rules: %d alerts, %d rules (%s), %d errors" %
          (sum(seen.values()), len(seen), ", ".join(sorted(map(str, seen))), len(errors)))
    if sum(seen.values()) < a.min_alerts:
        print("FAIL only %d alerts" % sum(seen.values()), file=sys.stderr)
        return 1
    return 1 if errors else 0


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def ecs_type_ok(t, v):
    """Is JSON value v one ECS field type t would index?"""
    if t in ("keyword", "constant_keyword", "wildcard", "match_only_text", "text"):
        return isinstance(v, str)
    if t == "long":
        return isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63
    if t in ("float", "scaled_float", "double"):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "date":
        if not isinstance(v, str) or not RFC3339.match(v):
            return False
        try:
            datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if t == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except (ValueError, TypeError):
            return False
    if t == "boolean":
        return isinstance(v, bool)
    return False


def ecs_leaves(doc, prefix=""):
    """(dotted path, value, in_array) of every leaf; arrays of objects (nested) are walked."""
    for k, v in doc.items():
        path = prefix + k
        if isinstance(v, dict):
            yield path, v, False
            yield from ecs_leaves(v, path + ".")
        elif isinstance(v, list):
            yield path, v, False
            for x in v:
                if isinstance(x, dict):
                    yield from ecs_leaves(x, path + ".")
                else:
                    yield path, x, True
        else:
            yield path, v, False


def cmd_ecs(a):
    fx = json.load(open(a.fixture))
    fields, allowed, expected = fx["fields"], fx["allowed_values"], fx["expected_event_types"]
    sets = set(fx["field_sets"])
    errors, lines, checked = [], 0, collections.Counter()

    def err(where, msg):
        errors.append("%s: %s" % (where, msg))

    for p in a.files:
        for where, text in read_lines(p):
            doc = json.loads(text)
            lines += 1
            for path, v, in_array in ecs_leaves(doc):
                top = path.split(".")[0]
                if top not in sets:
                    if top != "transitwatch":
                        err(where, "%s: neither an ECS field set nor transitwatch.*" % path)
                    continue
                f = fields.get(path)
                if isinstance(v, dict):  # an object on the way to its fields
                    if f is not None and f["type"] not in ("object", "nested"):
                        err(where, "%s is an object, ECS says %s" % (path, f["type"]))
                    continue
                if f is None:
                    err(where, "%s is not an ECS %s field (ECS %s)" % (path, top, fx["ecs_version"]))
                    continue
                checked[path] += 1
                t = f["type"]
                if isinstance(v, list):
                    if t == "nested":
                        if not all(isinstance(x, dict) for x in v):
                            err(where, "%s: nested holds objects" % path)
                    elif not f.get("array", False):
                        err(where, "%s is an array, ECS has one value" % path)
                    continue
                if t == "nested":
                    err(where, "%s: ECS nested, not an array of objects" % path)
                elif not ecs_type_ok(t, v):
                    err(where, "%s = %r is not an ECS %s" % (path, v, t))
                if path in allowed and v not in allowed[path]:
                    err(where, "%s = %r is not an allowed value (%s)" % (path, v, ", ".join(allowed[path])))
                if v in fx.get("reserved_values", {}).get(path, {}):
                    err(where, "%s = %r: %s" % (path, v, fx["reserved_values"][path][v]))
            ev = doc.get("event", {})
            cats, types = ev.get("category", []), ev.get("type", [])
            for ty in types:
                if not any(ty in expected.get(c, []) for c in cats):
                    err(where, "event.type %s is expected for none of event.category %s" % (ty, cats))
            for c in cats:
                if types and not any(ty in expected.get(c, []) for ty in types):
                    err(where, "event.category %s has none of its expected types in %s" % (c, types))
    for e in errors[:MAX_REPORT]:
        print("FAIL " + e, file=sys.stderr)
    print("validate ecs (ECS %s): %d lines, %d ECS fields checked (%d distinct), %d errors" %
          (fx["ecs_version"], lines, sum(checked.values()), len(checked), len(errors)))
    if lines < a.min_lines:
        print("FAIL only %d lines" % lines, file=sys.stderr)
        return 1
    return 1 if errors else 0


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
    s = sub.add_parser("rules")
    s.add_argument("--table", required=True, help="transitwatch --list-rules output")
    s.add_argument("--min-alerts", type=int, default=0)
    s.add_argument("files", nargs="+")
    s = sub.add_parser("ecs")
    s.add_argument("--fixture", default=os.path.join(here, "ecs_fields.json"))
    s.add_argument("--min-lines", type=int, default=1)
    s.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "rules":
        return cmd_rules(a)
    if a.cmd == "ecs":
        return cmd_ecs(a)
    c = Checker(a.schemas)
    return {"lines": cmd_lines, "kafka": cmd_kafka, "compare": cmd_compare}[a.cmd](a, c)


if __name__ == "__main__":
    sys.exit(main())
