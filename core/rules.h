/* rules.h: the one table of alert rules. Every rule any detector raises (alert.rule_id) has
 * one entry here: its name, what it looks for, a public reference, its category and the
 * template of its ECS `message` sentence. The alert formatter (exporters/alert_json.c) takes
 * rule.name, rule.description, rule.reference, rule.category and message from it; the pipeline
 * takes the category from it before anything counts the alert (collector/pipeline.c). A
 * detector that raises a rule with no entry still gets its alert out (its own name and
 * category, no description), is counted (alerts_without_rule_total), and fails the tests.
 *
 * Adding a rule: one entry in core/rules.c. Its message template is text with placeholders:
 *   {host} {peer}           the customer's host, the outside party
 *   {customer}              the customer's id
 *   {src} {dst}             source and destination as the alert's ECS fields have them; the
 *                           customer's side is followed by "(customer ID)", dst by ":PORT"
 *   {verb}                  "contacted", or "exchanged traffic with" when the records did not
 *                           tell who started the connections
 *   {port} {proto}          destination port, transport name
 *   {service}               "tcp port 22", or the transport alone without a port (ICMP)
 *   {flows} {packets}       of the alert; {bytes} with a unit ("9.1 kB")
 *   {first} {last}          first/last flow, "HH:MM" UTC ("YYYY-MM-DD HH:MM" on another day
 *                           than the alert's end)
 *   {feeds}                 the lists that name the party: "drop (SBL000002), feodo (TrickBot)"
 *   {ev.KEY}                a member of the detector's evidence (transitwatch.evidence.KEY,
 *                           dotted for nested ones) as JSON has it; arrays joined with ", "
 *   {ev.KEY:pct}            a share as a percentage ("95 %"); {ev.KEY:int} rounded;
 *                           {ev.KEY:bits} bits per second with a unit ("1.5 Mbit/s");
 *                           {ev.KEY:about} "about " when the boolean KEY is false, else
 *                           nothing (before a count: "exact": false marks an estimate);
 *                           {ev.KEY:n NOUN} or {ev.KEY:n NOUN|PLURAL} the count and its noun
 *                           ("1 session", "3 sessions", "2 addresses")
 * A placeholder that cannot be filled stays in the text as "{?NAME}" (tests look for "{").
 * Pure functions; any thread. */
#ifndef TW_RULES_H
#define TW_RULES_H

#include <stddef.h>

#include "alert.h"

struct rule_def {
    const char *id;          /* rule.id, e.g. "scan.horizontal" */
    const char *detector;    /* rule.ruleset: the detector (or collector part) that raises it */
    const char *name;        /* rule.name: a short sentence */
    const char *description; /* rule.description: what it looks for and why it matters */
    const char *reference;   /* rule.reference: a stable public page on the behaviour or method */
    enum alert_category category;
    const char *message; /* the ECS message's template (above) */
};

extern const struct rule_def rule_table[];
extern const size_t rule_count;

/* The entry of a rule id, or NULL. */
const struct rule_def *rule_find(const char *id);
/* Set a's rule_name and category from its entry (an id without one keeps what a has; a NULL
 * name becomes the id). The pipeline calls it on every alert before anything counts it. */
void rule_apply(struct alert *a);
/* The alert's message: its rule's template filled from the alert (customer fields included)
 * and its evidence, into buf (NUL-terminated, cut at cap - 1). Without an entry: "RULE_ID
 * alert for HOST (customer ID)". Returns the length. */
size_t rule_message(const struct alert *a, char *buf, size_t cap);
/* v with an SI prefix and unit, one decimal when scaled ("9.1 kB", "1.5 Mbit/s", "12 B"). */
size_t text_si(char *buf, size_t cap, double v, const char *unit);
/* Fill a template for a (exposed for tests). */
size_t rule_render(const char *tmpl, const struct alert *a, char *buf, size_t cap);

#endif
