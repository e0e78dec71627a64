/* twgen_sflow.h: `twgen sflow-corpus DIR`: the seed corpus of fuzz/fuzz_sflow.c (sFlow v5
 * datagrams of every sample and record kind the decoder reads). `twgen sflowize IN OUT -r RATE
 * [-s SEED]`: a real capture as a 1-in-RATE sFlow agent exports it (one flow sample, raw header
 * of 128 bytes, per kept packet), to replay a capture's traffic as sFlow. */
#ifndef TW_TWGEN_SFLOW_H
#define TW_TWGEN_SFLOW_H

int twgen_sflow_corpus_main(int argc, char **argv);
int twgen_sflowize_main(int argc, char **argv);

#endif
