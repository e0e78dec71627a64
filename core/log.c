/* log.c: one line per call, written with a single write() so lines from threads never mix.
 * Format on stderr: "2026-11-22T14:00:00Z transitwatch[1234]: warn: message". When stderr is
 * the systemd journal (JOURNAL_STREAM names its device and inode), the journal stamps time,
 * name and pid itself, so the line is "<4>warn: message": the sd-daemon priority prefix
 * (sd-daemon(3)) makes journald file it at that priority (errors as errors). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static char log_ident[64] = "transitwatch";
static int log_level = TW_LOG_INFO; /* read and written with __atomic builtins */
static int log_syslog;
static int log_journal; /* stderr is the journal: "<N>" prefixes, no time stamp */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

bool tw_log_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tw_log_init(const char *ident, enum tw_log_level level, bool use_syslog)
{
    __atomic_store_n(&log_journal, tw_log_stderr_is_journal() ? 1 : 0, __ATOMIC_RELAXED);
    if (ident && *ident)
        snprintf(log_ident, sizeof(log_ident), "%s", ident);
    tw_log_set_level(level);
    if (use_syslog)
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    __atomic_store_n(&log_syslog, use_syslog ? 1 : 0, __ATOMIC_RELEASE);
}

void tw_log_set_level(enum tw_log_level level)
{
    if ((int)level < TW_LOG_ERROR)
        level = TW_LOG_ERROR;
    if (level > TW_LOG_DEBUG)
        level = TW_LOG_DEBUG;
    __atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

int tw_log_level_parse(const char *s, enum tw_log_level *out)
{
    if (!s)
        return -EINVAL;
    for (int i = 0; i <= TW_LOG_DEBUG; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum tw_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = TW_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

void tw_vlog(enum tw_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
        return;
    if ((int)level < TW_LOG_ERROR || level > TW_LOG_DEBUG)
        level = TW_LOG_ERROR;
    int saved_errno = errno; /* callers may log then look at errno */
    char line[LOG_LINE_MAX];
    size_t n = 0;

    if (!__atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&log_journal, __ATOMIC_RELAXED)) {
        static const int jprio[] = {3, 4, 6, 7}; /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
        int h = snprintf(line, sizeof(line), "<%d>%s: ", jprio[level], level_names[level]);
        if (h > 0)
            n = (size_t)h;
    } else if (!__atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE)) {
        time_t now = time(NULL);
        struct tm tm;
        if (gmtime_r(&now, &tm))
            n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
        int h = snprintf(line + n, sizeof(line) - n, "%s[%ld]: %s: ", log_ident, (long)getpid(),
                         level_names[level]);
        if (h > 0)
            n += (size_t)h;
    }
    size_t head = n;
    /* fmt is checked at the callers: tw_log() carries the printf attribute */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
#pragma GCC diagnostic pop
    if (m > 0) {
        if ((size_t)m >= sizeof(line) - n) {
            n = sizeof(line) - 1;
            memcpy(line + n - 3, "...", 3); /* mark truncation */
        } else {
            n += (size_t)m;
        }
    }
    /* one record = one line */
    while (n > head && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    for (size_t i = head; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';

    if (__atomic_load_n(&log_syslog, __ATOMIC_ACQUIRE)) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        line[n] = '\0';
        syslog(prio[level], "%s", line);
    } else {
        line[n++] = '\n';
        /* a short write to stderr is not worth a retry loop; EINTR is */
        for (int tries = 0; tries < 3; tries++) {
            ssize_t w = write(STDERR_FILENO, line, n);
            if (w >= 0 || errno != EINTR)
                break;
        }
    }
    errno = saved_errno;
}

void tw_log(enum tw_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_vlog(level, fmt, ap);
    va_end(ap);
}

bool tw_log_once(int *flag)
{
    return __atomic_exchange_n(flag, 1, __ATOMIC_RELAXED) == 0;
}
