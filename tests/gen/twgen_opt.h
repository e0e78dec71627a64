/* twgen_opt.h: how the twgen subcommands (sample, bulk, eval, packets) end their getopt switch:
 * -o FILE names the output, -h prints the usage on stdout and exits 0, any other option prints
 * it on stderr and exits 2. Header-only, static. */
#ifndef TW_TWGEN_OPT_H
#define TW_TWGEN_OPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* c: an option the subcommand's own cases did not take. Returns false after -o (*out is
 * optarg: go on), true when the subcommand is to return *status (usage printed). */
static inline bool twgen_opt_exit(int c, const char **out, void (*usage)(FILE *), int *status)
{
    if (c == 'o') {
        *out = optarg;
        return false;
    }
    usage(c == 'h' ? stdout : stderr);
    *status = c == 'h' ? 0 : 2;
    return true;
}

#endif
