/* twgen_packets.h: `twgen packets`, a capture of raw traffic for the flow meter (see the .c). */
#ifndef TW_TWGEN_PACKETS_H
#define TW_TWGEN_PACKETS_H

/* argv[0] is "packets". Returns the process exit status (0 ok, 1 failure, 2 usage). */
int twgen_packets_main(int argc, char **argv);

#endif
