/* log.h: leveled logging to stderr or syslog. Thread-safe (one write per line).
 * Never call per record or per packet: count errors instead (DESIGN rule 6). */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum tw_log_level { TW_LOG_ERROR = 0, TW_LOG_WARN = 1, TW_LOG_INFO = 2, TW_LOG_DEBUG = 3 };

/* Also decides the stderr format: with a time stamp, or for the journal (see log.c). */
void tw_log_init(const char *ident, enum tw_log_level level, bool use_syslog);
/* Is stderr the systemd journal (JOURNAL_STREAM matches it)? */
bool tw_log_stderr_is_journal(void);
void tw_log_set_level(enum tw_log_level level);
int tw_log_level_parse(const char *s, enum tw_log_level *out); /* "error".."debug"; 0 or -EINVAL */
void tw_log(enum tw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tw_vlog(enum tw_log_level level, const char *fmt, va_list ap);

#define log_error(...) tw_log(TW_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) tw_log(TW_LOG_WARN, __VA_ARGS__)
#define log_info(...) tw_log(TW_LOG_INFO, __VA_ARGS__)
#define log_debug(...) tw_log(TW_LOG_DEBUG, __VA_ARGS__)

/* Log a condition once per process (resource faults: "logged once, counted always").
 * flag is a caller-owned static; returns true the first time. */
bool tw_log_once(int *flag);

#endif
