/* twgen_sflow.h: `twgen sflow-corpus DIR`: the seed corpus of fuzz/fuzz_sflow.c (sFlow v5
 * datagrams of every sample and record kind the decoder reads). */
#ifndef TW_TWGEN_SFLOW_H
#define TW_TWGEN_SFLOW_H

int twgen_sflow_corpus_main(int argc, char **argv);

#endif
