/* twgen_eval.h: `twgen eval`, the detector evaluation scenario as a capture of flow exports.
 *
 *   twgen eval [-f v5|v9|ipfix] [-m MINUTES] [-s SEED] [-x HOST_SCALE] [-r BG_RATE] [-z]
 *              [-t TRUTH] [-C CUSTOMERS_CSV] [-c CONFIG] -o FILE
 *
 * (tests/gen/gen_eval.h): thousands of hosts in five customers (IPv4 only), labelled
 * misbehaving hosts and benign look-alikes, plus the customer map and the detector settings the
 * scenario assumes. argv[0] is "eval". Returns the process exit code. */
#ifndef TW_TWGEN_EVAL_H
#define TW_TWGEN_EVAL_H

int twgen_eval_main(int argc, char **argv);

#endif
