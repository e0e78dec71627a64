/* twgen_bulk.h: `twgen bulk`, a large export capture for benchmarks, fast.
 *
 *   twgen bulk [-f v5|v9|ipfix|mixed] [-n RECORDS] [-e EXPORTERS] [-H HOSTS] [-c CUSTOMERS]
 *              [-p PREFIXES] [-d SECONDS] [-6 PERCENT] [-s SEED] [-S]
 *              [-C CUSTOMERS_CSV] -o FILE
 *
 * RECORDS flow records (default 2000000) from EXPORTERS routers (default 4; 192.0.2.1.. ->
 * collector 192.0.2.254; with mixed, exporter e speaks v5, v9, IPFIX by e % 3) over SECONDS of
 * event time (default 300), about HOSTS inside hosts (default 100000) in PREFIXES customer
 * prefixes (default 4096, carved out of 10.0.0.0/8, plus 2001:db8:N::/48 when PERCENT of the
 * hosts are IPv6, default 10; never on v5) shared round-robin by CUSTOMERS customers (default
 * 50). Each record has one inside host (source or destination) and an outside peer from a pool
 * of a million public addresses; 20 % of the records come from 1 % of the hosts, and a few
 * hosts scan (SYNs to many peers on 22/445) or send mail to many peers (port 25), so the
 * detectors have work; -S makes the other records walk the hosts in turn, so every host is
 * active (memory tests). -C writes the matching customer map (prefix,customer_id,name,asn).
 * Deterministic for a seed. Prints "twgen bulk: records=... datagrams=... hosts=..." on
 * stderr. */
#ifndef TW_TWGEN_BULK_H
#define TW_TWGEN_BULK_H

/* argv[0] is "bulk". Returns the process exit status (0 ok, 1 failure, 2 usage). */
int twgen_bulk_main(int argc, char **argv);

#endif
