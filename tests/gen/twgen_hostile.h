/* twgen_hostile.h: `twgen hostile DIR` and `twgen flood`.
 *
 *   twgen hostile DIR
 *
 * writes the hostile-input corpus: one capture per crafted flaw (DIR/NAME.pcap or .pcapng) and
 * DIR/MANIFEST.tsv, one line per case, tab-separated:
 *
 *   name  file  counter  records  flags
 *
 * counter: what must move, as "errors.KIND" / "decode.KIND" (members of the totals JSON; on
 * /metrics the line `transitwatch --list-counters` names), "errors.PKTERR" for packet-level
 * errors, or "exit" (the replay must fail
 * naming the file). records: flow records the whole capture decodes (the valid datagrams
 * appended to every case: a v5 datagram of 5 flows and an IPFIX template + 3 flows, plus any the
 * case itself carries). flags: comma list, "-" for none: "nosend" (a flaw of the capture file,
 * not of a datagram: replay only), "nolive" (the counter needs spoofed source addresses, which
 * loopback sending does not keep: only the daemon's liveness and records are checked).
 * Every case's datagrams go from 10.255.0.1:50000 (spoofed ones from 10.0.0.0/8) to
 * 10.255.0.100:2055 and use their own observation domain, so cases do not disturb each other
 * when sent one after another to one daemon.
 *
 *   twgen flood -n HOSTS [-o FILE] [-z] [-k OFFENDERS]
 *
 * writes an IPFIX capture (exporter 10.255.0.1) where HOSTS distinct inside hosts of 10.0.0.0/8
 * (customer map: 10.0.0.0/8) each send one flow to the outside, spread over 10 minutes, and
 * OFFENDERS (default 5) hosts 10.255.255.1.. talk to 198.18.0.1 (listed in
 * configs/blocklists/drop.txt) once a minute throughout. Prints the counts on stderr.
 *
 *   twgen storm KIND -n MESSAGES -o FILE
 *
 * writes a capture of IPFIX messages (exporter 10.255.0.1, domain 77) that make the decoder
 * do as much work per record as it can for KIND, after a set-up: withdraw-all-options (a
 * domain holding 1024 data templates, then 64 KB messages of 16 000 "withdraw all options
 * templates" records), withdraw-one (the same with withdrawals of ids never defined),
 * template-churn (the full domain and 4000 data sets waiting for templates, then messages of
 * 8 000 new template ids, each evicting one), domain-flood (4 096 domains, then one new
 * domain per message). Prints "storm KIND messages=N per_message=R" on stdout (R: records
 * per storm message; domain-flood: 1 message). tests/integration/decode_cost.sh measures
 * the instructions per record with callgrind. */
#ifndef TW_TWGEN_HOSTILE_H
#define TW_TWGEN_HOSTILE_H

/* argv[0] is "hostile" / "flood". Return the process exit status. */
int twgen_hostile_main(int argc, char **argv);
int twgen_flood_main(int argc, char **argv);
int twgen_storm_main(int argc, char **argv);

#endif
