/* conf.h: the one configuration reader. A file is INI-like:
 *
 *     # comment                     (also after a value: "key = 5  # note")
 *     [section]                     (a section without argument)
 *     [section ARG]                 (a section instance, e.g. [exporter 192.0.2.1])
 *     key = value                   (value runs to end of line or '#'; quotes "..." keep '#')
 *
 * The schema (arrays of struct conf_key per section) says which keys exist, their type, bounds
 * and default, and where in the caller's struct the value goes. Unknown sections and keys are
 * errors; every error names file and line. The same schema prints the annotated example and
 * parses command-line overrides, so there is one place that knows every option.
 * Loading runs on the main thread; the result is a plain struct the caller owns.
 */
#ifndef TW_CONF_H
#define TW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
    CONF_STR,      /* char[size] inside the struct; size from conf_key.size */
    CONF_U64,      /* uint64_t; accepts k/M/G suffixes (x1000) */
    CONF_U32,      /* uint32_t */
    CONF_BOOL,     /* bool: yes/no/true/false/on/off/1/0 */
    CONF_DOUBLE,   /* double */
    CONF_DURATION, /* uint64_t seconds; accepts s/m/h/d suffixes */
    CONF_BYTES,    /* uint64_t bytes; accepts k/M/G (x1024) suffixes */
    CONF_CUSTOM,   /* parsed by conf_key.parse */
    CONF_PATH,     /* a file or directory name, char[size] like CONF_STR; read from a file, a
                    * relative name is taken relative to that file's directory ("-" and ""
                    * stay as they are); from memory (the command line) it stays as given */
};

struct conf_key {
    const char *name;
    enum conf_type type;
    size_t offset;    /* offsetof into the section's struct */
    size_t size;      /* CONF_STR: the array size */
    double min, max;  /* bounds for numbers (inclusive); min > max: unbounded */
    const char *def;  /* default as text (NULL: leave zero / empty) */
    const char *help; /* one line for the annotated example */
    /* CONF_CUSTOM: parse value into field; return 0 or a negative errno with msg filled */
    int (*parse)(void *field, const char *value, char *msg, size_t msglen);
};

struct conf_section {
    const char *name;
    bool has_arg;                /* instances: [name ARG] */
    const struct conf_key *keys; /* terminated by a key with name NULL */
    /* Return the struct to fill for this section (instance arg, NULL when !has_arg), with its
     * defaults already applied by the caller via conf_defaults(), or NULL with msg set (e.g.
     * too many instances). Called when the section header is read; sec is this entry (its
     * data tells sections that share one open function apart). */
    void *(*open)(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                  size_t msglen);
    const char *help;
    /* Optional: a key not in keys is handed here (sections whose keys are not known in
     * advance, e.g. per-customer overrides "spam.fanout5 = 50"). Return 0, or a negative errno
     * with msg. */
    int (*set_key)(void *obj, const char *key, const char *value, unsigned line, char *msg,
                   size_t msglen);
    const void *data; /* for open(): anything the section table wants to pass (borrowed) */
    /* Optional: told the line of the section header (key NULL, field = the section's object)
     * and of every key set from the schema (field = where its value went), so later checks
     * can name the line that set a value. line 0: from memory without a file (command line). */
    void (*seen)(void *cfg, const struct conf_key *key, const void *field, unsigned line);
};

struct conf_error {
    char file[256];
    unsigned line; /* 0 when the error is not tied to a line */
    char msg[512];
};

/* Parse path against the sections (terminated by a section with name NULL) into cfg.
 * Returns 0, or a negative errno with err filled ("file:line: msg"): the file's read error
 * (conf_read_file), -EFBIG, -ENOMEM, -ERANGE for a number out of range, -EINVAL for the rest. */
int conf_load(const char *path, const struct conf_section *sections, void *cfg,
              struct conf_error *err);
/* Same from memory (fuzzing, tests); name is used in errors. */
int conf_load_mem(const char *name, const char *text, size_t len,
                  const struct conf_section *sections, void *cfg, struct conf_error *err);
/* Apply every key's default to obj. Returns 0 or conf_set's negative errno (a bug). */
int conf_defaults(const struct conf_key *keys, void *obj);
/* Parse one value for key into obj (bounds checked). Returns 0, or a negative errno with msg
 * (-EINVAL bad syntax, -ERANGE out of range, -E2BIG text too long, a custom parser's own). */
int conf_set(const struct conf_key *key, void *obj, const char *value, char *msg, size_t msglen);
const struct conf_key *conf_find_key(const struct conf_key *keys, const char *name);
/* Write the annotated example: every section and key with its default, bounds and help. */
void conf_write_example(FILE *out, const struct conf_section *sections);
/* The values in cfg of every section without argument, as a config file would set them
 * (sections with an argument are the caller's to write; CONF_CUSTOM keys are named only).
 * open() of such a section must only find the section's struct (no side effects). */
void conf_write_values(FILE *out, const struct conf_section *sections, void *cfg);
/* Read a whole regular file of at most max bytes into a new NUL-terminated buffer (the
 * caller frees *out). Returns 0, or a negative errno with err naming the file (missing: the
 * open's errno, not a regular file: -EINVAL, too large: -EFBIG, -ENOMEM, a read error's errno).
 * Every list and config loader reads its file through this. */
int conf_read_file(const char *path, size_t max, char **out, size_t *len, struct conf_error *err);
/* The first n bytes of path (a file's magic): how many were read (less at a short file), or a
 * negative errno when it cannot be opened. Input sniffing (files.c, nfdump.c) reads through this. */
int conf_read_head(const char *path, void *buf, size_t n);
/* Helpers other file readers share: trim in place, split "a, b" lists. */
char *conf_trim(char *s);
/* Split s in place at sep into at most max trimmed items. Returns the count (0 for an empty or
 * blank s) or -ENOSPC when there are more than max items. */
int conf_split(char *s, char sep, char **out, size_t max);
void conf_error_set(struct conf_error *err, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "file:line: msg", or "file: msg" when the error is not tied to a line. Returns buf. */
const char *conf_error_str(const struct conf_error *err, char *buf, size_t len);

#endif
