/* rules.c: the rule table and the message templates (see rules.h). */
#include "rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "json_read.h"
#include "textfield.h"

/* One entry per rule any detector raises. References: pages that stay (MITRE ATT&CK
 * technique pages, RFCs, DOIs, the method's own project); each names the behaviour or the
 * method the rule implements. */
const struct rule_def rule_table[] = {
    {"blocklist.peer_listed", "blocklist", "Customer host exchanged traffic with a listed address",
     "A customer host and an address on a configured blocklist (Spamhaus DROP, abuse.ch Feodo "
     "Tracker, ...) exchanged flows in the window: a host reaching botnet controllers or "
     "hijacked networks is likely infected; a listed address reaching the host is the "
     "Internet's noise and is reported at low severity.",
     "https://attack.mitre.org/tactics/TA0011/", CAT_BLOCKLIST,
     "{src} {verb} {dst} over {proto}, {flows} flows since {first}; {peer} is listed on {feeds}"},
    {"blocklist.host_listed", "blocklist", "Customer host is on a blocklist",
     "A customer host that exchanged traffic in the window is itself on a configured "
     "blocklist: the lists name it as a source of spam, malware or botnet control, which its "
     "transit provider is expected to act on.",
     "https://www.rfc-editor.org/rfc/rfc3013", CAT_BLOCKLIST,
     "{host} (customer {customer}) is listed on {feeds}; {flows} flows with {peer} since {first}"},
    {"blocklist.customer_space_listed", "blocklist",
     "Part of the customer's own address space is on a blocklist",
     "A configured blocklist lists a prefix that overlaps the customer's own address space "
     "(checked when the lists or the customer map change): hijacked or abused space that the "
     "customer's transit provider routes.",
     "https://www.rfc-editor.org/rfc/rfc3013", CAT_CUSTOMER,
     "Customer {customer}'s prefix {ev.customer_prefix} overlaps {ev.feeds.0.listed}, listed "
     "on {feeds}"},
    {"spam.fanout", "spam", "Host sends mail directly to many mail servers",
     "A customer host that is not a declared mail server opened SMTP (port 25) connections to "
     "many distinct mail servers in many networks within the window, often with a high share "
     "of failed sessions: the pattern of spam bots, which RFC 5068 asks access networks to "
     "stop.",
     "https://www.rfc-editor.org/rfc/rfc5068", CAT_SPAM,
     "{host} (customer {customer}) sent mail to {ev.exact:about}{ev.distinct_dst} mail servers "
     "in {ev.distinct_nets:n network}: {ev.smtp_flows} SMTP flows, {ev.fail_share:pct} failed, "
     "since {first}"},
    {"spam.mta_fanout", "spam",
     "Allowlisted mail server reaches an abnormal number of mail servers",
     "A declared mail server (mta_allow) of the customer reached far more distinct mail "
     "servers than its own threshold allows: a compromised account or an open relay sending "
     "spam through it.",
     "https://www.rfc-editor.org/rfc/rfc5068", CAT_SPAM,
     "Mail server {host} (customer {customer}) sent mail to {ev.exact:about}{ev.distinct_dst} "
     "mail servers in {ev.distinct_nets:n network}: {ev.smtp_flows} SMTP flows, "
     "{ev.fail_share:pct} failed, since {first}"},
    {"beacon.fast", "beacon", "Host connects to one peer at short regular intervals (C2 beacon)",
     "A customer host started connections to one outside peer again and again on a schedule "
     "of minutes or less (regular, two alternating gaps, or bursts) that random connection "
     "times would seldom show, with similar sizes (time and size regularity scored as RITA "
     "does), to a peer few hosts and customers talk to: malware calling its command-and-"
     "control server.",
     "https://github.com/activecm/rita", CAT_C2,
     "{src} contacted {dst} every {ev.period_s} s \u00b1{ev.mad_s} s ({ev.schedule} schedule), "
     "{ev.checkins} check-ins since {ev.first_checkin:time}"},
    {"beacon.slow", "beacon", "Host connects to one peer at long regular intervals (C2 beacon)",
     "A customer host started connections to one outside peer on a schedule of many minutes "
     "or hours that random connection times would seldom show, with similar sizes, to a peer "
     "few hosts and customers talk to: a slow command-and-control beacon.",
     "https://github.com/activecm/rita", CAT_C2,
     "{src} contacted {dst} every {ev.period_s} s \u00b1{ev.mad_s} s ({ev.schedule} schedule), "
     "{ev.checkins} check-ins since {ev.first_checkin:time}"},
    {"beacon.long_session", "beacon",
     "Host keeps long sessions to a peer few hosts talk to (C2 channel)",
     "A customer host kept connections to one outside peer open for hours in all (not one "
     "login on a service port), and almost no other host talks to that peer: an interactive "
     "command-and-control or tunnel channel (RITA's long connections).",
     "https://github.com/activecm/rita", CAT_C2,
     "{src} kept {ev.long_sessions:n long session} with {dst}, {ev.total_duration_s} s in all "
     "(longest {ev.longest_s} s), since {first}; {ev.prevalence.hosts:n inside host} in contact "
     "with that peer"},
    {"bruteforce.login", "bruteforce",
     "Host makes many short, similar logins to one service (password guessing)",
     "A customer host opened many short connections of similar size to one login service "
     "(SSH, RDP, mail, databases, ...) of one outside server within the window, most of them "
     "answered: guessing passwords of someone else's service.",
     "https://attack.mitre.org/techniques/T1110/001/", CAT_BRUTEFORCE,
     "{host} (customer {customer}) made {ev.attempts_in_window} login attempts to {dst} within "
     "{ev.window_s} s ({ev.attempts_per_minute} a minute, {ev.similar_share:pct} alike), "
     "since {first}"},
    {"bruteforce.horizontal", "bruteforce",
     "Host makes repeated short, similar logins to the same service on many servers",
     "A customer host made repeated short, similar login attempts to the same service on "
     "many outside servers within the window: password spraying or a worm trying default "
     "credentials.",
     "https://attack.mitre.org/techniques/T1110/003/", CAT_BRUTEFORCE,
     "{host} (customer {customer}) tried logins on {service} of {ev.targets_in_window} servers "
     "within {ev.window_s} s ({ev.login_attempts} attempts, {ev.similar_share:pct} alike), "
     "since {first}"},
    {"scan.horizontal", "scan", "Host probes many addresses on one port",
     "A customer host tried one port on many distinct outside addresses within an hour or a "
     "day, mostly unanswered: a worm or a scanner looking for a service.",
     "https://attack.mitre.org/techniques/T1046/", CAT_SCAN,
     "{host} (customer {customer}) probed {ev.exact:about}{ev.distinct_targets_hour} addresses "
     "on {service} within an hour ({ev.distinct_targets_day} in a day), "
     "{ev.unanswered_share:pct} unanswered, since {first}"},
    {"scan.vertical", "scan", "Host probes many ports of one address",
     "A customer host tried many distinct ports of one outside address within an hour or a "
     "day, mostly unanswered: a port scan of that target.",
     "https://attack.mitre.org/techniques/T1046/", CAT_SCAN,
     "{host} (customer {customer}) probed {ev.exact:about}{ev.distinct_ports_hour} {proto} ports "
     "of {peer} within an hour ({ev.distinct_ports_day} in a day), {ev.unanswered_share:pct} "
     "unanswered, since {first}"},
    {"scan.trw", "scan", "Host's first contacts go mostly unanswered (sequential test)",
     "Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan 2004): each first contact of "
     "a customer host to a new address and port moves a likelihood ratio up when unanswered "
     "and down when answered; crossing the upper bound marks a scanner after few probes, "
     "also a slow or spread-out one.",
     "https://doi.org/10.1109/SECPRI.2004.1301325", CAT_SCAN,
     "{host} (customer {customer}): {ev.unanswered} of {ev.first_contacts} first contacts "
     "unanswered (likelihood ratio {ev.log_likelihood_ratio}, bound {ev.threshold}), "
     "since {first}"},
    {"scan.icmp_sweep", "scan", "Host pings many addresses in a short time (ping sweep)",
     "A customer host sent ICMP echo requests to many distinct addresses in a short burst, "
     "mostly unanswered: a sweep for live hosts.",
     "https://attack.mitre.org/techniques/T1595/001/", CAT_SCAN,
     "{host} (customer {customer}) pinged {ev.distinct_targets} addresses ({ev.peak_in_window} "
     "within {ev.window_s} s), {ev.unanswered_share:pct} unanswered, since {first}"},
    {"flood.pps", "flood", "Host sends at flood rates",
     "A customer host sent more packets per second over the window than the configured "
     "absolute limit: a denial-of-service flood from the customer's network.",
     "https://attack.mitre.org/techniques/T1498/001/", CAT_FLOOD,
     "{host} (customer {customer}) sent {ev.pps:int} packets/s ({ev.bps:bits}) over the "
     "window, limit {ev.pps_max} packets/s; top destination {ev.top_destination} port "
     "{ev.top_port}"},
    {"flood.bps", "flood", "Host sends at flood rates",
     "A customer host sent more bits per second over the window than the configured absolute "
     "limit: a denial-of-service flood from the customer's network.",
     "https://attack.mitre.org/techniques/T1498/001/", CAT_FLOOD,
     "{host} (customer {customer}) sent {ev.bps:bits} ({ev.pps:int} packets/s) over the "
     "window, limit {ev.bps_max:bits}; top destination {ev.top_destination} port {ev.top_port}"},
    {"flood.baseline", "flood", "Host sends far above its own baseline",
     "A customer host sent many times its own learned rate (an exponentially weighted "
     "average over earlier windows): a flood or a sudden mass transfer below the absolute "
     "limits.",
     "https://attack.mitre.org/techniques/T1498/", CAT_FLOOD,
     "{host} (customer {customer}) sent {ev.pps:int} packets/s ({ev.bps:bits}) over the "
     "window, against its baseline of {ev.baseline_pps} packets/s ({ev.baseline_bps:bits}); "
     "top destination {ev.top_destination} port {ev.top_port}"},
    {"customer.hostile_share", "hostility",
     "A large share of the customer's active hosts misbehave",
     "The customer verdict: the share of the customer's active hosts with alerts (weighted "
     "by severity and score) over the window or the last 24 hours crossed the configured "
     "share and count: a network whose abuse its transit provider should take up with the "
     "customer.",
     "https://www.rfc-editor.org/rfc/rfc3013", CAT_CUSTOMER,
     "Customer {customer}: {ev.hostile_hosts} of {ev.active_hosts} active hosts "
     "({ev.hostile_share:pct}) misbehaved in the window; {ev.last_24h.hostile_hosts} of "
     "{ev.last_24h.active_hosts} in the last 24 hours"},
};
const size_t rule_count = sizeof rule_table / sizeof rule_table[0];

const struct rule_def *rule_find(const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < rule_count; i++)
        if (strcmp(rule_table[i].id, id) == 0)
            return &rule_table[i];
    return NULL;
}

void rule_apply(struct alert *a)
{
    const struct rule_def *r = rule_find(a->rule_id);
    if (r) {
        a->rule_name = r->name;
        a->category = r->category;
    } else if (!a->rule_name) {
        a->rule_name = a->rule_id ? a->rule_id : "unnamed";
    }
}

/* ---- rendering ---------------------------------------------------------------------------- */

struct out {
    char *b;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (!o->cap)
        return;
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->b + o->len, s, n);
    o->len += n;
    o->b[o->len] = 0;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

size_t text_si(char *buf, size_t cap, double v, const char *unit)
{
    static const char *const pre[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    while (fabs(v) >= 1000 && i < 5) {
        v /= 1000;
        i++;
    }
    int n = i ? snprintf(buf, cap, "%.1f %s%s", v, pre[i], unit)
              : snprintf(buf, cap, "%.0f %s", v, unit);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

static void put_scaled(struct out *o, double v, const char *unit)
{
    char b[48];
    put(o, b, text_si(b, sizeof b, v, unit));
}

static void put_time(struct out *o, uint64_t ms, uint64_t ref_ms)
{
    time_t t = (time_t)(ms / 1000), r = (time_t)(ref_ms / 1000);
    struct tm tm, rm;
    if (!gmtime_r(&t, &tm) || !gmtime_r(&r, &rm)) {
        puts_(o, "?");
        return;
    }
    if (tm.tm_year != rm.tm_year || tm.tm_yday != rm.tm_yday)
        putf(o, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    putf(o, "%02d:%02d UTC", tm.tm_hour, tm.tm_min);
}

static void put_addr(struct out *o, const uint8_t *addr, uint16_t port)
{
    char ab[ADDR_STRLEN];
    if (port)
        putf(o, addr_is_v4(addr) ? "%s:%u" : "[%s]:%u", addr_format(addr, ab), port);
    else
        puts_(o, addr_format(addr, ab));
}

/* A source or destination side (alert_endpoints): the customer's host says whose it is. */
static void put_side(struct out *o, const struct alert *a, const uint8_t *addr, uint16_t port)
{
    put_addr(o, addr, port);
    if (a->has_host && memcmp(addr, a->host, 16) == 0)
        putf(o, " (customer %s)", a->customer_id && *a->customer_id ? a->customer_id : "?");
}

/* An evidence value; fmt, when given, says how ("time": an ISO 8601 UTC string shown as {first}
 * is, against ref_ms). */
static bool put_value(struct out *o, const struct jr_val *v, const char *fmt, uint64_t ref_ms)
{
    char tmp[128];
    double d;
    uint64_t ms;
    if (fmt && strcmp(fmt, "time") == 0 && v->type == JR_STRING) {
        size_t n = jr_text(v, tmp, sizeof tmp);
        if (!tf_datetime(tmp, n, &ms))
            return false;
        put_time(o, ms, ref_ms);
    } else if (fmt && strcmp(fmt, "pct") == 0 && jr_double(v, &d)) {
        putf(o, "%.0f %%", d * 100.0);
    } else if (fmt && strcmp(fmt, "int") == 0 && jr_double(v, &d)) {
        putf(o, "%.0f", d);
    } else if (fmt && strcmp(fmt, "bits") == 0 && jr_double(v, &d)) {
        put_scaled(o, d, "bit/s");
    } else if (fmt && strcmp(fmt, "about") == 0 && (v->type == JR_TRUE || v->type == JR_FALSE)) {
        if (v->type == JR_FALSE) /* the evidence's "exact": false, an estimate */
            puts_(o, "about ");
    } else if (fmt && strncmp(fmt, "n ", 2) == 0 && fmt[2] && v->type == JR_NUMBER) {
        /* a count and its noun: "n session" or "n address|addresses" gives "1 session",
         * "3 sessions", "2 addresses" */
        jr_text(v, tmp, sizeof tmp);
        const char *noun = fmt + 2, *bar = strchr(noun, '|');
        bool one = strcmp(tmp, "1") == 0;
        if (bar && one)
            putf(o, "%s %.*s", tmp, (int)(bar - noun), noun);
        else
            putf(o, "%s %s%s", tmp, bar ? bar + 1 : noun, bar || one ? "" : "s");
    } else if (fmt) {
        return false;
    } else if (v->type == JR_ARRAY) {
        struct jr_val k, x;
        size_t pos = 0, i = 0;
        while (jr_next(v, &pos, &k, &x)) {
            if (i == 8) {
                puts_(o, ", ...");
                break;
            }
            if (i++)
                puts_(o, ", ");
            jr_text(&x, tmp, sizeof tmp);
            puts_(o, tmp);
        }
    } else if (v->type == JR_OBJECT || v->type == JR_NULL) {
        return false;
    } else {
        jr_text(v, tmp, sizeof tmp);
        puts_(o, tmp);
    }
    return true;
}

static bool placeholder(struct out *o, const struct alert *a, const struct jr_val *ev,
                        const char *name)
{
    char pb[8];
    if (strncmp(name, "ev.", 3) == 0) {
        char path[96];
        snprintf(path, sizeof path, "%s", name + 3);
        char *fmt = strchr(path, ':');
        if (fmt)
            *fmt++ = 0;
        struct jr_val v;
        return ev && jr_get(ev, path, &v) && put_value(o, &v, fmt, a->win_end_ms);
    }
    if (strcmp(name, "host") == 0 && a->has_host) {
        put_addr(o, a->host, 0);
    } else if (strcmp(name, "peer") == 0 && a->has_peer) {
        put_addr(o, a->peer, 0);
    } else if (strcmp(name, "customer") == 0 && a->customer_id && *a->customer_id) {
        puts_(o, a->customer_id);
    } else if ((strcmp(name, "src") == 0 || strcmp(name, "dst") == 0) && a->has_host) {
        const uint8_t *src, *dst;
        alert_endpoints(a, &src, &dst);
        bool s = name[0] == 's';
        if (!(s ? src : dst))
            return false;
        put_side(o, a, s ? src : dst, s ? 0 : a->port);
    } else if (strcmp(name, "verb") == 0) {
        puts_(o, a->direction_unknown ? "exchanged traffic with" : "contacted");
    } else if (strcmp(name, "service") == 0 && a->proto) {
        puts_(o, alert_proto_name(a->proto, pb));
        if (a->port && a->proto != 1 && a->proto != 58)
            putf(o, " port %u", a->port);
    } else if (strcmp(name, "port") == 0 && a->port) {
        putf(o, "%u", a->port);
    } else if (strcmp(name, "proto") == 0 && a->proto) {
        puts_(o, alert_proto_name(a->proto, pb));
    } else if (strcmp(name, "flows") == 0) {
        putf(o, "%llu", (unsigned long long)a->flows);
    } else if (strcmp(name, "packets") == 0) {
        putf(o, "%llu", (unsigned long long)a->packets);
    } else if (strcmp(name, "bytes") == 0) {
        put_scaled(o, (double)a->bytes, "B");
    } else if (strcmp(name, "first") == 0 && a->first_ms) {
        put_time(o, a->first_ms, a->win_end_ms);
    } else if (strcmp(name, "last") == 0 && a->last_ms) {
        put_time(o, a->last_ms, a->win_end_ms);
    } else if (strcmp(name, "feeds") == 0 && a->nenrich) {
        for (uint32_t i = 0; i < a->nenrich && i < ALERT_ENRICH_MAX; i++) {
            const struct alert_enrichment *en = &a->enrich[i];
            const char *feed = en->feed && *en->feed ? en->feed : "unnamed";
            puts_(o, i ? ", " : "");
            puts_(o, feed);
            if (en->name && *en->name && strcmp(en->name, feed) != 0)
                putf(o, " (%s)", en->name);
        }
    } else {
        return false;
    }
    return true;
}

size_t rule_render(const char *tmpl, const struct alert *a, char *buf, size_t cap)
{
    struct out o = {buf, 0, cap};
    if (cap)
        buf[0] = 0;
    struct jr_val ev, *evp = NULL;
    if (a->evidence_json && jr_parse(a->evidence_json, strlen(a->evidence_json), &ev) &&
        ev.type == JR_OBJECT)
        evp = &ev;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            puts_(&o, p);
            break;
        }
        put(&o, p, (size_t)(open - p));
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
        size_t at = o.len;
        if (!placeholder(&o, a, evp, name)) {
            o.len = at;
            if (o.cap)
                o.b[o.len] = 0;
            putf(&o, "{?%s}", name);
        }
        p = close + 1;
    }
    return o.len;
}

size_t rule_message(const struct alert *a, char *buf, size_t cap)
{
    const struct rule_def *r = rule_find(a->rule_id);
    if (r)
        return rule_render(r->message, a, buf, cap);
    /* no entry (a test catches it): the id and whom it is about */
    int n = snprintf(buf, cap, "%s alert for ", a->rule_id ? a->rule_id : "unnamed");
    if (n < 0 || (size_t)n >= cap)
        return cap ? strlen(buf) : 0;
    return (size_t)n +
           rule_render(a->has_host ? "{host} (customer {customer})" : "customer {customer}", a,
                       buf + n, cap - (size_t)n);
}
