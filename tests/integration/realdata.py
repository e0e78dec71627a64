#!/usr/bin/env python3
"""Decode every real export capture in $TW_SHARED/testdata/netflow with transitwatch and with
independent decoders (tshark, nfcapd + nfdump, pmacct's expected output) and compare the flow
record count and the byte and packet totals. Standard library only.

usage: realdata.py --tw TRANSITWATCH --twgen TWGEN --shared DIR --work TMPDIR
Exit 0 when every figure agrees or differs exactly as KNOWN below says, 1 otherwise.
"""
import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

# Counters transitwatch reads, in its priority order (decode.h): IN_BYTES (1), else OUT_BYTES
# (23), else octetTotalCount (85), else initiatorOctets (231); packets 2, 24, 86, 298.
# Wireshark's names for those information elements:
TS_OCTETS = ("cflow.octets", "cflow.post_octets", "cflow.permanent_octets",
             "cflow.initiator_octets")
TS_PACKETS = ("cflow.packets", "cflow.post_packets", "cflow.permanent_packets",
              "cflow.initiator_packets")

RAW_CONFIG = """# force 1:1 for every exporter so counters stay raw, as tshark shows them
[exporter 0.0.0.0/0]
sampling = 1
[exporter ::/0]
sampling = 1
"""

# Known, explained differences: (case, tool) -> (the exact figures (records, bytes, packets) that
# tool must report, why). Any other difference from transitwatch fails the test.
#   tool "tshark" / "tshark-2pass" / "pmacct" compare with transitwatch forcing 1:1 sampling;
#   "nfdump" (forward counters) compares with transitwatch applying announced rates
#   ("tw-sampled"), as nfcapd applies the rates it understands; "tw-files" is transitwatch given
#   the pieces as separate files instead of one merged capture.
EOMPLS_WHY = ("packet section counted by transitwatch as one packet: all 10 sections parse to an "
              "IP packet (14337 bytes, test_sflow_realdata); 2 of them are Ethernet over MPLS "
              "(labels 300012/17) with the RFC 4385 control word")
KNOWN = {
    # Packet sections (IE 315 dataLinkFrameSection, 313 ipHeaderPacketSection) without octet or
    # packet counters: transitwatch parses the sampled packet with the meter's parser and counts
    # the record as that one packet of its IP length; tshark and nfdump count nothing.
    ("akvorado/datalink", "tshark"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: VLAN 231, UDP 51.51.51.51 -> 52.52.52.52, IP length 96"),
    ("akvorado/datalink", "nfdump"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: VLAN 231, UDP 51.51.51.51 -> 52.52.52.52, IP length 96"),
    ("akvorado/ethernet-over-mpls-with-control-word", "tshark"): (
        (10, 0, 0), EOMPLS_WHY),
    ("akvorado/ethernet-over-mpls-with-control-word", "nfdump"): (
        (10, 0, 0), EOMPLS_WHY),
    ("akvorado/ipfix-srv6", "tshark"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: one IPv6 packet of 104 bytes"),
    ("akvorado/ipfix-srv6", "nfdump"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: one IPv6 packet of 104 bytes"),
    ("akvorado/juniper-cpid", "tshark"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: one packet of 104 bytes"),
    ("akvorado/juniper-cpid", "nfdump"): (
        (1, 0, 0), "packet section counted by transitwatch as one packet: one packet of 104 bytes"),

    ("pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources", "pmacct"): (
        (23, 10775, 27), "nfacctd aggregates: the two records 2001:4d98:a100:402:0:933:e:1 -> "
        "2a02:a90:4007::11:1 tcp 20981 (1 pkt/1500 B and 2 pkts/3000 B) are one 3/4500 object"),
    ("pmacct/112-IPFIXv10-CISCO-options-map-reassignment", "tshark-2pass"): (
        (0, 0, 0), "the exporter's UDP source port changes (61853 -> 65156) between template 347 "
        "and its data; Wireshark keys templates by ports too, transitwatch/nfdump/pmacct do not"),
    ("pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option", "nfdump"): (
        (3, 10632, 121), "nfcapd takes samplingPacketInterval 1 (305, no space 306) as the rate "
        "and ignores samplingPopulation 256 / samplingSize 1 (310/309, random n-out-of-N)"),
    ("akvorado/data+templates", "nfdump"): (
        (10, 54592, 48), "the first data set (template 257) comes before its template in the "
        "datagram: nfcapd drops it (11 records; transitwatch buffers it, like tshark -2), and "
        "nfcapd applies no rate from the system-scoped options record (interval 100)"),
    ("akvorado/mpls", "nfdump"): (
        (2, 979, 11), "rate 10 comes from options data samplingPacketInterval 1 + "
        "samplingPacketSpace 9 scoped by templateId; nfcapd 1.7.1 applies none"),
    ("akvorado/physicalinterfaces", "nfdump"): (
        (8, 31111, 29), "rate 1000 from options data interval 1 + space 999 scoped by "
        "templateId; nfcapd 1.7.1 applies none"),
    ("akvorado/samplingrate", "nfdump"): (
        (6, 3740, 6), "rate 2048 is in each data record (SAMPLING_INTERVAL 34); nfcapd 1.7.1 "
        "ignores in-record rates"),
    ("akvorado/multiplesamplingrates", "nfdump"): (
        (12, 26941348, 40018), "records carry sampler ids 1 (rate 2000, 11 records) and 2 (rate "
        "4000, 1 record: 18 pkts/1348 B); nfcapd applies 2000 to sampler 1 but nothing to "
        "sampler 2 (akvorado's own test expects 4000 and 2000, as transitwatch does)"),
    ("akvorado/template+data", "tw-files"): (
        (0, 0, 0), "data.pcap is stamped 62 s before template.pcap, and replay orders files by "
        "time: the data waits in the pending buffer (pending_time 10 s) and expires before its "
        "template arrives; the merged capture (template first) decodes all 4"),
}
# RFC 5103 reverse counters (PEN 29305): nfdump puts them in obyt/opkt of the same flow,
# transitwatch emits each biflow's reverse half as a record of its own (ends swapped); tshark
# and pmacct count the forward side only. (case) -> exact (biflows with a reverse side,
# reverse bytes, reverse packets).
NFDUMP_REVERSE = {"akvorado/ipfixprobe": (2, 1674, 26)}
# Which transitwatch run pmacct's expected output matches, when not the raw one.
PMACCT_REF = {
    "pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option": (
        "tw-sampled", "the test checks nfacctd's renormalization: rate 256 from options data "
        "(selector 1: samplingPopulation 256 / samplingSize 1)"),
}
# Transitwatch bugs found by this test: the check stays strict (the test fails) unless
# TW_REALDATA_XFAIL=1, which reports them without failing.
# Mismatches that are transitwatch's fault and not fixed yet (none: the pmacct/104 sampling
# case, samplingPacketInterval without samplingPacketSpace, was fixed in decode_tmpl.c).
KNOWN_BUGS = {}


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, check=False, **kw)


# ---------------------------------------------------------------- the cases
def kind_rank(name):
    """Order of akvorado fixture pieces: templates, options template, options data, data."""
    base = os.path.basename(name)
    if "options-template" in base:
        return 1
    if "options-data" in base:
        return 2
    if re.search(r"(^|-)templates?\.pcap$", base):
        return 0
    return 3


def cases(shared):
    """[(name, [files in send order], merge_mode, pmacct_json or None)]"""
    nf = os.path.join(shared, "testdata", "netflow")
    out = []
    for d in sorted(glob.glob(os.path.join(nf, "pmacct", "*"))):
        pcaps = sorted(glob.glob(os.path.join(d, "traffic-*.pcap")))
        if not pcaps:
            continue
        exp = os.path.join(d, "output-flow-00.json")
        # 111: two exporters replayed at once by pmacct's harness: merge by time
        out.append(("pmacct/" + os.path.basename(d), pcaps, "time",
                    exp if os.path.exists(exp) else None))
    groups = {}
    for f in sorted(glob.glob(os.path.join(nf, "akvorado", "*.pcap"))):
        base = os.path.basename(f)[:-5]
        m = re.match(r"^(.*?)-?(options-template|options-data|templates?|data)$", base)
        key = m.group(1) if m and base != "data+templates" else base
        if key == "":
            key = "template+data"
        groups.setdefault(key, []).append(f)
    for key in sorted(groups):
        files = sorted(groups[key], key=kind_rank)
        out.append(("akvorado/" + key, files, "append", None))
    for f in sorted(glob.glob(os.path.join(nf, "scapy", "*.pcap"))):
        out.append(("scapy/" + os.path.basename(f)[:-5], [f], "append", None))
    return out


def merged_capture(name, files, mode, work):
    if len(files) == 1:
        return files[0]
    path = os.path.join(work, name.replace("/", "_") + ".pcap")
    cmd = ["mergecap", "-F", "pcap", "-w", path] + (["-a"] if mode == "append" else []) + files
    r = run(cmd)
    if r.returncode != 0:
        raise RuntimeError("mergecap failed: " + r.stderr)
    return path


# ---------------------------------------------------------------- transitwatch
def transitwatch(tw, config, files):
    r = run([tw, "replay", "-c", config, "--no-summaries"] + files)
    if r.returncode != 0:
        raise RuntimeError("transitwatch replay failed (%d): %s" % (r.returncode, r.stderr))
    tot = None
    for line in r.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("event", {}).get("dataset") == "transitwatch.totals":
            tot = o["transitwatch"]["totals"]
    if tot is None:
        raise RuntimeError("no totals line from transitwatch")
    return tot


# ---------------------------------------------------------------- tshark
def udp_ports(path):
    r = run(["tshark", "-r", path, "-T", "fields", "-e", "udp.dstport"])
    return sorted({p for p in r.stdout.split() if p.isdigit()})


def first_value(rec, names):
    """Value of the first of names present among the record's fields (any depth)."""
    found = {}
    for el in rec.iter("field"):
        n = el.get("name")
        if n in names and n not in found:
            found[n] = int(el.get("show"))
    for n in names:
        if n in found:
            return found[n]
    return 0


def tshark(path, two_pass=False):
    """Data records (not options records) tshark decodes, their octets and packets, and the
    number of data sets it could not decode for want of a template."""
    cmd = ["tshark", "-r", path]
    if two_pass:
        cmd.append("-2")
    for p in udp_ports(path):
        cmd += ["-d", "udp.port==%s,cflow" % p]
    cmd += ["-T", "pdml"]
    r = run(cmd, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: " + r.stderr)
    res = {"records": 0, "bytes": 0, "packets": 0, "option_records": 0, "no_template": 0}
    opt_tids = set()  # (exporter, domain, template id) of options templates seen
    root = ET.fromstring(r.stdout)
    for pkt in root.iter("packet"):
        src = ""
        for proto in pkt.findall("proto"):
            if proto.get("name") in ("ip", "ipv6"):
                for f in proto.iter("field"):
                    if f.get("name") in ("ip.src", "ipv6.src"):
                        src = f.get("show")
                        break
            if proto.get("name") != "cflow":
                continue
            ver = dom = None
            for f in proto.findall("field"):
                if f.get("name") == "cflow.version":
                    ver = int(f.get("show"))
                elif f.get("name") in ("cflow.source_id", "cflow.od_id"):
                    dom = f.get("show")
            if ver == 5:
                for rec in proto.iter("field"):
                    if rec.get("show", "").startswith("pdu "):
                        res["records"] += 1
                        res["bytes"] += first_value(rec, TS_OCTETS)
                        res["packets"] += first_value(rec, TS_PACKETS)
                continue
            for fs in proto.findall("field"):
                if not fs.get("show", "").startswith(("FlowSet ", "Set ")):
                    continue
                sid = None
                for f in fs.findall("field"):
                    if f.get("name") == "cflow.flowset_id":
                        sid = int(f.get("show"))
                        break
                if sid in (1, 3):
                    for f in fs.iter("field"):
                        if f.get("name") == "cflow.template_id":
                            opt_tids.add((src, dom, int(f.get("show"))))
                    continue
                if sid is None or sid < 256:
                    continue
                recs = [f for f in fs.findall("field") if f.get("show", "").startswith("Flow ")]
                if not recs:
                    if any(f.get("name") == "cflow.no_template_found" for f in fs.iter("field")):
                        res["no_template"] += 1
                    continue
                if (src, dom, sid) in opt_tids:
                    res["option_records"] += len(recs)
                    continue
                for rec in recs:
                    res["records"] += 1
                    res["bytes"] += first_value(rec, TS_OCTETS)
                    res["packets"] += first_value(rec, TS_PACKETS)
    return res


# ---------------------------------------------------------------- pmacct
def pmacct(path):
    res = {"records": 0, "bytes": 0, "packets": 0}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            res["records"] += 1
            res["bytes"] += int(o.get("bytes", 0))
            res["packets"] += int(o.get("packets", 0))
    return res


# ---------------------------------------------------------------- nfcapd + nfdump
def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_bound(port):
    """Is some socket bound to 127.0.0.1:port (from /proc/net/udp)?"""
    want = ":%04X" % port
    try:
        with open("/proc/net/udp", encoding="ascii") as fh:
            for line in fh.readlines()[1:]:
                local = line.split()[1]
                if local.endswith(want):
                    return True
    except OSError:
        pass
    return False


def nfdump_totals(twgen, capture, work, name):
    """Send the capture's datagrams to a fresh nfcapd on loopback, stop it, read the file back
    with nfdump. Sampling forced to 1 (-s -1) so counters stay raw."""
    d = os.path.join(work, "nfcapd-" + name.replace("/", "_"))
    os.makedirs(d, exist_ok=True)
    for attempt in range(3):
        port = free_udp_port()
        log = open(os.path.join(d, "nfcapd.log"), "w", encoding="utf-8")
        p = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", d],
                             stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline and p.poll() is None and not udp_bound(port):
            time.sleep(0.05)
        if p.poll() is None and udp_bound(port):
            break
        p.kill()
        p.wait(timeout=10)
        log.close()
    else:
        raise RuntimeError("nfcapd did not start")
    try:
        r = run([twgen, "send", "--rate", "2000", "--max-time", "60", capture,
                 "127.0.0.1:%d" % port])
        if r.returncode != 0:
            raise RuntimeError("twgen send failed: " + r.stderr)
        time.sleep(0.5)  # let nfcapd drain its socket
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
        log.close()
    files = sorted(f for f in glob.glob(os.path.join(d, "nfcapd.[0-9]*")))
    res = {"records": 0, "bytes": 0, "packets": 0, "rev_records": 0, "rev_bytes": 0,
           "rev_packets": 0, "files": files}
    for f in files:
        r = run(["nfdump", "-r", f, "-q", "-o", "csv"])
        if r.returncode != 0:
            raise RuntimeError("nfdump failed: " + r.stderr)
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        if lines and lines[0].startswith("ts,"):
            lines = lines[1:]
        head = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt".split(",")
        for ln in lines:
            if not ln[:1].isdigit():
                break  # a summary block, if any
            v = dict(zip(head, ln.split(",")))
            res["records"] += 1
            res["packets"] += int(v["ipkt"])
            res["bytes"] += int(v["ibyt"])
            res["rev_packets"] += int(v["opkt"])
            res["rev_bytes"] += int(v["obyt"])
            res["rev_records"] += int(v["opkt"]) > 0 or int(v["obyt"]) > 0
    return res


# ---------------------------------------------------------------- comparison
def triple(d):
    return (d["records"], d["bytes"], d["packets"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tw", required=True)
    ap.add_argument("--twgen", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="", help="substring of the case names to run")
    a = ap.parse_args()
    config = os.path.join(a.work, "raw.conf")
    with open(config, "w", encoding="utf-8") as fh:
        fh.write(RAW_CONFIG)
    config_sampled = os.path.join(a.work, "sampled.conf")
    with open(config_sampled, "w", encoding="utf-8") as fh:
        fh.write("# defaults: rates the exporters announce are applied\n")

    rows, failures, notes = [], [], []
    for name, files, mode, pm in cases(a.shared):
        if a.only and a.only not in name:
            continue
        cap = merged_capture(name, files, mode, a.work)
        rev = NFDUMP_REVERSE.get(name, (0, 0, 0))
        # the peers' figures are of the forward sides: transitwatch's less its reverse records
        def fwd(t):
            return (t[0] - rev[0], t[1] - rev[1], t[2] - rev[2])
        tw = transitwatch(a.tw, config, [cap])
        got = {"transitwatch": fwd((tw["records"], tw["bytes"], tw["flow_packets"]))}
        tws = transitwatch(a.tw, config_sampled, [cap])
        got["tw-sampled"] = fwd((tws["records"], tws["bytes"], tws["flow_packets"]))
        if tw.get("decode", {}).get("biflow_reverse_records", 0) != rev[0]:
            failures.append("%s: transitwatch emitted %s biflow reverse records, expected %d" % (
                name, tw.get("decode", {}).get("biflow_reverse_records"), rev[0]))
        ts = tshark(cap)
        got["tshark"] = triple(ts)
        if ts["no_template"]:
            ts2 = tshark(cap, two_pass=True)
            got["tshark-2pass"] = triple(ts2)
        if pm:
            got["pmacct"] = triple(pmacct(pm))
        nfd = nfdump_totals(a.twgen, cap, a.work, name)
        got["nfdump"] = triple(nfd)
        if len(files) > 1:
            # the separate files as given to transitwatch replay (it orders them by time)
            sep = transitwatch(a.tw, config, files)
            got["tw-files"] = fwd((sep["records"], sep["bytes"], sep["flow_packets"]))
        row = {"case": name, "tw_totals": tw, "got": got, "ts": ts}
        rows.append(row)
        raw, sampled = got["transitwatch"], got["tw-sampled"]
        checks = []  # (tool, transitwatch figure it is compared with)
        if "tshark-2pass" in got:
            # tshark's single pass cannot decode data sets met before their template
            # (transitwatch buffers them): the two-pass figure is the one to match
            checks.append(("tshark-2pass", raw))
            notes.append("%s: tshark single pass found no template for %d data sets: %s" % (
                name, ts["no_template"], got["tshark"]))
        else:
            checks.append(("tshark", raw))
        if "pmacct" in got:
            which, why = PMACCT_REF.get(name, ("transitwatch", None))
            checks.append(("pmacct", got[which]))
            if why:
                notes.append("%s: pmacct compared with %s: %s" % (name, which, why))
        checks.append(("nfdump", sampled))
        if "tw-files" in got:
            checks.append(("tw-files", raw))
        if sampled[0] != raw[0]:
            failures.append("%s: record count differs with sampling on: %s vs %s" % (
                name, sampled, raw))
        if (nfd["rev_records"], nfd["rev_bytes"], nfd["rev_packets"]) != rev:
            failures.append("%s: nfdump reverse counters %s, expected %s" % (
                name, (nfd["rev_records"], nfd["rev_bytes"], nfd["rev_packets"]), rev))
        elif rev != (0, 0, 0):
            notes.append("%s: RFC 5103 biflows: %d reverse sides, %d B/%d pkts, in nfdump's "
                         "obyt/opkt and in transitwatch's own reverse records (its totals less "
                         "these are compared)" % ((name,) + rev))
        for tool, ref in checks:
            val = got[tool]
            exp, why = KNOWN.get((name, tool), (ref, None))
            if val == exp:
                if why:
                    notes.append("%s: %s %s differs as known: %s" % (name, tool, val, why))
                continue
            msg = "%s: %s reports %s, transitwatch %s%s" % (
                name, tool, val, ref, "" if why is None else " (known difference expects %s)"
                % (exp,))
            bug = KNOWN_BUGS.get((name, tool))
            if bug:
                msg += " -- KNOWN TRANSITWATCH BUG: " + bug
                (notes if os.environ.get("TW_REALDATA_XFAIL") == "1" else failures).append(msg)
            else:
                failures.append(msg)

    # table
    tools = ["transitwatch", "tshark", "tshark-2pass", "pmacct", "tw-sampled", "nfdump",
             "tw-files"]
    print("%-44s %s" % ("capture", "  ".join("%-26s" % t for t in tools)))
    for row in rows:
        cells = []
        for t in tools:
            v = row["got"].get(t)
            cells.append("%-26s" % ("-" if v is None else "%d/%d/%d" % v))
        print("%-44s %s" % (row["case"], "  ".join(cells)))
    print("(records/bytes/packets. transitwatch, tshark, pmacct: counters as exported (1:1 forced);"
          " tw-sampled, nfdump: announced rates applied; nfdump: forward counters only;"
          " tshark counts data records, not options records)")
    for n in notes:
        print("note: " + n)
    for f in failures:
        print("MISMATCH: " + f)
    if os.environ.get("REALDATA_JSON"):
        with open(os.environ["REALDATA_JSON"], "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1, default=str)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
