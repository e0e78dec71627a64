/* report_int.h: the report model (report.c builds it) as its writers (report_html.c,
 * report_text.c) read it. */
#ifndef TW_REPORT_INT_H
#define TW_REPORT_INT_H

#include "report.h"

/* One timeline point: `windows` windows summed (bytes) or at their highest (shares). */
struct rp_point {
    uint64_t t0, t1; /* ms */
    uint64_t bytes_out, bytes_in, flows_out, flows_in;
    uint32_t windows, active, hostile, hostile_day, active_day;
    float share, share_day;
};

/* An evidence point of an incident's update: two numbers whose meaning depends on the rule
 * (spam: destinations and mail flows; scan: targets and ports; others: flows and bytes). */
struct rp_spoint {
    uint64_t t;
    double a, b;
};

#define RP_FEEDS_TEXT 640
#define RP_EVID_TEXT 900
#define RP_EVID_LIST 6 /* elements of an evidence array named in the report (list_text) */
#define RP_EVID_VALUE                                                                              \
    (RP_EVID_LIST * 40 + 24) /* one evidence value's text: IPv6 addresses, "(+N)" */

struct rp_incident {
    char id[40], rule[40], detector[24], severity[12], host[48], peer[48], port[8];
    int sev;                        /* event.severity (21/47/73/99) */
    uint64_t first, last;           /* @timestamp of the first and latest update seen, ms */
    uint64_t first_seen, last_seen; /* transitwatch.first_seen/last_seen, ms */
    uint64_t updates;               /* alerts of the incident seen */
    uint64_t count;                 /* transitwatch.count of the latest */
    char message[400];
    char feeds[RP_FEEDS_TEXT];   /* "provider|name|description|reference\n"... */
    char evidence[RP_EVID_TEXT]; /* "key=value\n"... the scalar members, scalar arrays */
    char reference[160], rule_name[160];
    float intervals[REPORT_INTERVALS]; /* beacons: the latest intervals_s */
    uint32_t nintervals;
    struct rp_spoint series[REPORT_SERIES];
    uint32_t nseries, series_per;
};

struct rp_host {
    char ip[48], detector[24];
    uint64_t alerts;
    uint64_t incidents;
};

struct rp_customer {
    char id[64], name[128];
    struct rp_point pts[REPORT_POINTS];
    uint32_t npts, per; /* windows per point (a power of two) */
    uint64_t windows, alerts, summaries;
    uint32_t peak_hostile_day, peak_active_day; /* of the window with the max_share_day */
    float max_share, max_share_day, last_share_day;
    double threshold;        /* from a customer.hostile_share alert (0: none seen) */
    struct rp_incident *inc; /* REPORT_INCIDENTS, allocated with the first alert */
    uint32_t ninc;
    uint64_t incidents;       /* distinct event.id seen (at least, when ids_full) */
    uint64_t inc_left_out;    /* of those, not in inc (incidents - ninc) */
    uint64_t alerts_left_out; /* alerts of incidents not in inc */
    uint64_t *ids;            /* hashes of the event.id seen: an open-addressed set */
    uint32_t nids, cap_ids;   /* ids kept (at most REPORT_IDS), slots (2 x REPORT_IDS) */
    bool ids_full;            /* further ids were not kept: incidents is a lower bound */
    struct rp_host hosts[REPORT_HOSTS];
    uint32_t nhosts;
    uint64_t host_alerts_left_out;
};

struct report {
    struct report_opts o;
    char customer[64], title[128];
    char *config;
    struct rp_customer *cust[REPORT_MAX_CUSTOMERS];
    size_t ncust;
    uint64_t cust_left_out; /* messages of customers beyond the table */
    uint64_t msgs, filtered, unreadable, alerts, summaries;
    uint64_t t_first, t_last; /* the earliest window start, the latest @timestamp taken */
    bool have_totals;
    bool totals_of_run; /* a totals line was left out by the period or customer filter */
    char totals_msg[400];
    char limits[1024]; /* what the run's figures leave out (totals_not_seen) */
    uint64_t tot_records, tot_bytes, tot_windows, tot_alerts, tot_summaries, tot_suppressed;
};

/* The customer of id, or NULL (report.c). */
const struct rp_customer *rp_find(const struct report *r, const char *id);
/* "2008-09-20 00:05" (UTC) */
void rp_time(uint64_t ms, char out[24]);
/* The period a report covers: --since/--until, else the earliest window start to the latest
 * @timestamp taken ("2008-09-20 00:00 to 2008-09-20 01:05 UTC"), or that none was read. */
/* What the run's figures leave out, as one sentence (from the totals line, or that none was
 * read): the whole report's totals say it. */
const char *rp_limits(const struct report *r);
#define RP_PERIOD 64
void rp_period(const struct report *r, char out[RP_PERIOD]);
/* Incidents of c most severe first, then earliest: fills idx (c->ninc entries). */
void rp_incident_order(const struct rp_customer *c, uint32_t *idx);
/* The customers most alerts first (then highest 24-hour share, then id): fills idx (ncust). */
void rp_customer_order(const struct report *r, uint32_t *idx);
/* Names of the two evidence numbers of an incident's series. */
void rp_series_names(const struct rp_incident *in, const char **a, const char **b);
/* The threshold to judge c's share against (the alerts', else the options'). */
double rp_threshold(const struct report *r, const struct rp_customer *c);

#endif
