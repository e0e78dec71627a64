/* twgen_send.h: `twgen send`, replay the export datagrams of a capture over loopback UDP.
 *
 *   twgen send [--rate PPS] [--count N] [--loop K] [--dport PORT] [--max-time S] [--sndbuf B]
 *              [--batch N] CAPTURE HOST:PORT
 *
 * Reads CAPTURE (pcap/pcapng, gzip or not) once into memory, keeping the UDP payloads that are
 * flow exports (header sniffed like the collector does, or all UDP to --dport), IP fragments
 * reassembled; then sends them in capture order to HOST:PORT (127.0.0.0/8 or ::1 only) with
 * sendmmsg, K times over, at most N datagrams and at most S seconds, paced to PPS when given.
 * Prints one line on stdout: "twgen send: datagrams=... bytes=... seconds=... pps=..." (stable
 * key=value pairs for scripts). Also the benchmark sender. */
#ifndef TW_TWGEN_SEND_H
#define TW_TWGEN_SEND_H

/* argv[0] is "send". Returns the process exit status (0 ok, 1 failure, 2 usage). */
int twgen_send_main(int argc, char **argv);

#endif
