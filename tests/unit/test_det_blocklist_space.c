/* det_blocklist's customer-level finding: the customer's own space on a feed (one alert per
 * (customer, feed entry), at the first window after the feeds or customers change). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "det_test_util.h"
#include "feeds.h"

extern const struct detector_ops det_blocklist_ops;
#define T0 1221868800000ULL

static struct feed_set *make_set(const char *drop)
{
    struct feed *f;
    struct feed_set *s;
    struct conf_error err;
    if (feed_load_mem("drop", "drop.txt", drop, strlen(drop), FEED_DROP, 0, &f, &err) < 0)
        return NULL;
    if (feed_set_new(&s) < 0) {
        feed_free(f);
        return NULL;
    }
    if (feed_set_add(s, f) < 0) {
        feed_set_free(s);
        return NULL;
    }
    return s;
}

static void own_space_listed(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_blocklist_ops, NULL), 0);
    prefix_parse("10.0.0.0/16", false, &t.cust_prefixes[0]);
    prefix_parse("192.0.2.0/24", false, &t.cust_prefixes[1]);
    t.ncust_prefixes = 2;
    struct feed_set *fs = make_set("; Spamhaus DROP\n10.0.5.0/24 ; SBL1\n10.0.7.0/24 ; SBL2\n"
                                   "192.0.0.0/16 ; SBL3\n45.0.0.0/16 ; SBL4\n");
    assert_non_null(fs);
    t.ctx.feeds = fs;
    th_close(&t);
    assert_int_equal(th_count(&t, "blocklist.customer_space_listed", NULL), 3);
    const struct alert *a = th_find(&t, "blocklist.customer_space_listed");
    assert_int_equal(a->category, CAT_CUSTOMER);
    assert_false(a->has_host);
    assert_int_equal(a->customer, 1);
    assert_non_null(strstr(a->evidence_json, "SBL1"));
    /* same lists, next window: nothing new */
    th_close(&t);
    assert_int_equal(t.nalerts, 3);
    /* the customer map changes: checked again */
    t.ncust_prefixes = 1;
    th_close(&t);
    assert_int_equal(t.nalerts, 5);
    /* another worker never reports it (one report per pipeline) */
    t.ctx.worker = 1;
    t.ncust_prefixes = 2;
    th_close(&t);
    assert_int_equal(t.nalerts, 5);
    th_fini(&t);
    feed_set_free(fs);
}

/* The alert's score is the one in force for the customer when it is raised: a reload's or a
 * [customer ID] override's, not the one at start. */
static void score_in_force(void **st)
{
    (void)st;
    struct th t;
    assert_int_equal(th_init(&t, &det_blocklist_ops, NULL), 0);
    prefix_parse("10.0.0.0/16", false, &t.cust_prefixes[0]);
    t.ncust_prefixes = 1;
    struct feed_set *fs = make_set("10.0.5.0/24 ; SBL1\n");
    assert_non_null(fs);
    t.ctx.feeds = fs;
    th_close(&t);
    assert_int_equal(t.nalerts, 1);
    assert_float_equal(t.alerts[0].score, 0.8, 1e-9); /* the default */
    void *reloaded = th_make_conf(&det_blocklist_ops, "score=0.5");
    assert_non_null(reloaded);
    t.dflt[0] = reloaded;
    t.ncust_prefixes = 0; /* the map changes twice: checked again */
    th_close(&t);
    t.ncust_prefixes = 1;
    th_close(&t);
    assert_int_equal(t.nalerts, 2);
    assert_float_equal(t.alerts[1].score, 0.5, 1e-9);
    t.dflt[0] = t.conf;
    free(reloaded);
    th_fini(&t);
    feed_set_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_space_listed),
        cmocka_unit_test(score_in_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
