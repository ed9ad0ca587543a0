/* Tests of the store visit rules: when a visit earns a NEARBY offer or a staff heads-up, which product, validation, late consent. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ff_customer.h"
#include "ff_guard.h"
#include "ff_util.h"
#include "geofence/geofence_rules.h"

#define DAY FF_DAY_MS
#define HOUR 3600000LL

/* The defaults of DESIGN.md section 4 and the settings table:
 * nearby.dwell.min 120 s, offer.stock.min 2, assist.spend.min 500.00,
 * assist.top.n 3, assist.interval 4 h. */
static const geo_rules_conf_t conf = {
    .intent = {.window_ms = 7 * DAY, .sku_views = 2, .cart_adds = 1, .category_views = 3,
               .cart_weight = 3, .purchase_window_ms = 30 * DAY},
    .dwell_min_ms = 120000,
    .stock_min = 2,
    .assist_spend_min = 50000,
    .assist_top_n = 3,
    .assist_interval_ms = 4 * HOUR,
};

#define NOW 1795430400123LL
#define MAX_FUTURE DAY /* input.max_future: 1 d */

static ff_geofence_event_t visit(int transition, const char *store)
{
    ff_geofence_event_t ev = {
        .event_id = "geo-1",
        .customer_id = "cust-1",
        .device_id = "dev-1",
        .ts = NOW - 1000,
        .store_id = store,
        .transition = transition,
    };
    return ev;
}

static ff_geofence_event_t dwell(int64_t seconds)
{
    ff_geofence_event_t ev = visit(FF_GEO_DWELL, "store-7");
    ev.dwell_seconds = (ff_opt_i64_t){true, seconds};
    return ev;
}

/* ---- geo_nearby_applies ----------------------------------------------------- */

Test(geo_nearby_applies, enter_always_applies)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cr_assert(geo_nearby_applies(&ev, &conf), "an ENTER without dwell_seconds applies");
    ev.dwell_seconds = (ff_opt_i64_t){true, 0};
    cr_assert(geo_nearby_applies(&ev, &conf), "an ENTER with dwell_seconds 0 applies");
}

Test(geo_nearby_applies, dwell_of_exactly_120_s_applies)
{
    ff_geofence_event_t ev = dwell(120);
    cr_assert(geo_nearby_applies(&ev, &conf), "a DWELL of 120 s meets nearby.dwell.min 120 s");
}

Test(geo_nearby_applies, dwell_of_119_s_does_not_apply)
{
    ff_geofence_event_t ev = dwell(119);
    cr_assert_not(geo_nearby_applies(&ev, &conf),
                  "a DWELL of 119 s is short of nearby.dwell.min 120 s");
}

Test(geo_nearby_applies, a_long_dwell_applies)
{
    ff_geofence_event_t ev = dwell(3600);
    cr_assert(geo_nearby_applies(&ev, &conf), "a DWELL of an hour applies");
}

Test(geo_nearby_applies, dwell_without_dwell_seconds_does_not_apply)
{
    ff_geofence_event_t ev = visit(FF_GEO_DWELL, "store-7");
    cr_assert_not(geo_nearby_applies(&ev, &conf),
                  "a DWELL that does not say how long cannot meet nearby.dwell.min");
}

Test(geo_nearby_applies, exit_never_applies)
{
    ff_geofence_event_t ev = visit(FF_GEO_EXIT, "store-7");
    cr_assert_not(geo_nearby_applies(&ev, &conf), "an EXIT without dwell_seconds");
    ev.dwell_seconds = (ff_opt_i64_t){true, 3600};
    cr_assert_not(geo_nearby_applies(&ev, &conf), "an EXIT after an hour's dwell");
}

/* ---- geo_pick_offer ------------------------------------------------------- */

Test(geo_pick_offer, picks_the_best_sku_in_stock)
{
    const int64_t stock[] = {5, 9, 20};
    int i = geo_pick_offer(3, 2, stock, 2);
    cr_assert_eq(i, 0, "the best SKU has 5 >= 2: expected index 0, got %d", i);
}

Test(geo_pick_offer, skips_skus_short_of_stock_min)
{
    const int64_t stock[] = {1, 0, 2, 50};
    int i = geo_pick_offer(4, 3, stock, 2);
    cr_assert_eq(i, 2, "SKUs 0 and 1 have 1 and 0 items, SKU 2 has exactly 2: expected 2, got %d",
                 i);
}

Test(geo_pick_offer, any_sku_in_stock_beats_a_better_stocked_category)
{
    const int64_t stock[] = {0, 3, 100};
    int i = geo_pick_offer(3, 2, stock, 2);
    cr_assert_eq(i, 1, "the second SKU (3 items) comes before the category: expected 1, got %d",
                 i);
}

Test(geo_pick_offer, falls_back_to_the_best_category_in_stock)
{
    const int64_t stock[] = {1, 0, 1, 4, 8};
    int i = geo_pick_offer(5, 2, stock, 2);
    cr_assert_eq(i, 3, "no SKU in stock, first category has 1, second 4: expected 3, got %d", i);
}

Test(geo_pick_offer, categories_only)
{
    const int64_t stock[] = {2, 9};
    int i = geo_pick_offer(2, 0, stock, 2);
    cr_assert_eq(i, 0, "no SKUs, the best category has exactly 2: expected 0, got %d", i);
}

Test(geo_pick_offer, nothing_in_stock_gives_minus_one)
{
    const int64_t stock[] = {1, 1, 0, 1};
    int i = geo_pick_offer(4, 2, stock, 2);
    cr_assert_eq(i, -1, "every candidate has fewer than 2 items: expected -1, got %d", i);
}

Test(geo_pick_offer, no_candidates_gives_minus_one)
{
    const int64_t stock[] = {99};
    int i = geo_pick_offer(0, 0, stock, 2);
    cr_assert_eq(i, -1, "no candidates: expected -1, got %d", i);
}

/* ---- geo_assist_due ----------------------------------------------------- */

static ff_arena_t arena;
static ff_customer_t cust;

static void customer_setup(void)
{
    ff_arena_init(&arena, 0);
    ff_customer_init(&cust, "cust-1", &arena);
}

static void customer_teardown(void)
{
    ff_arena_term(&arena);
}

TestSuite(geo_assist_due, .init = customer_setup, .fini = customer_teardown);

static void put_in_cart(const char *sku, int64_t qty)
{
    ff_tsval_t *v = ff_customer_tsval(&cust, &cust.cart, &cust.ncart, &cust.capcart, sku, true);
    v->n = qty;
}

static void heads_up_at(const char *store, int64_t ts)
{
    ff_visit_t *v = ff_customer_visit(&cust, store, true);
    v->count++;
    v->last_ts = ts;
    v->last_assist = ts;
}

Test(geo_assist_due, spend_exactly_at_assist_spend_min_is_due)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 50000;
    cr_assert(geo_assist_due(&cust, &ev, &conf), "lifetime spend 50000 meets assist.spend.min");
}

Test(geo_assist_due, spend_one_cent_short_with_an_empty_cart_is_not_due)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 49999;
    cr_assert_not(geo_assist_due(&cust, &ev, &conf),
                  "lifetime spend 49999 and no cart: no heads-up");
}

Test(geo_assist_due, a_non_empty_cart_is_due_whatever_the_spend)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 0;
    put_in_cart("sku-1", 1);
    cr_assert(geo_assist_due(&cust, &ev, &conf), "one item in the cart earns a heads-up");
}

Test(geo_assist_due, a_cart_emptied_to_zero_items_is_empty)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 49999;
    put_in_cart("sku-1", 0);
    cr_assert_not(geo_assist_due(&cust, &ev, &conf),
                  "a cart entry of 0 items (added then removed) is no cart");
}

Test(geo_assist_due, only_enter_is_due)
{
    ff_geofence_event_t dw = dwell(600), ex = visit(FF_GEO_EXIT, "store-7");
    cust.spend = 1000000;
    put_in_cart("sku-1", 2);
    cr_assert_not(geo_assist_due(&cust, &dw, &conf), "a DWELL never earns a heads-up");
    cr_assert_not(geo_assist_due(&cust, &ex, &conf), "an EXIT never earns a heads-up");
}

Test(geo_assist_due, a_recent_heads_up_at_this_store_blocks)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 60000;
    heads_up_at("store-7", ev.ts - 1 * HOUR);
    cr_assert_not(geo_assist_due(&cust, &ev, &conf),
                  "a heads-up 1 h ago at this store, within assist.interval 4 h");
}

Test(geo_assist_due, a_heads_up_1_ms_inside_the_interval_blocks)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 60000;
    heads_up_at("store-7", ev.ts - 4 * HOUR + 1);
    cr_assert_not(geo_assist_due(&cust, &ev, &conf),
                  "a heads-up 4 h - 1 ms ago at this store is within assist.interval");
}

Test(geo_assist_due, a_heads_up_one_interval_ago_no_longer_blocks)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 60000;
    heads_up_at("store-7", ev.ts - 4 * HOUR);
    cr_assert(geo_assist_due(&cust, &ev, &conf),
              "a heads-up exactly 4 h ago is no longer within assist.interval");
}

Test(geo_assist_due, a_heads_up_at_another_store_does_not_block)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    cust.spend = 60000;
    heads_up_at("store-9", ev.ts - 60000);
    cr_assert(geo_assist_due(&cust, &ev, &conf),
              "a heads-up a minute ago at store-9 says nothing about store-7");
}

Test(geo_assist_due, a_visit_without_a_heads_up_does_not_block)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    ff_visit_t *v = ff_customer_visit(&cust, "store-7", true);
    v->count = 4;
    v->last_ts = ev.ts - 60000;
    cust.spend = 60000;
    cr_assert(geo_assist_due(&cust, &ev, &conf),
              "last_assist 0 means never: earlier visits alone do not block");
}

/* ---- validation ----------------------------------------------------------- */

static void expect_geo(const ff_geofence_event_t *ev, const char *mention)
{
    char buf[256];
    const char *why = geo_validate(ev, NOW, MAX_FUTURE, buf, sizeof buf);
    if (!mention) {
        cr_assert_null(why, "expected a valid %s, rejected: %s",
                       ff_transition_name(ev->transition), why);
        return;
    }
    cr_assert_not_null(why, "expected rejection mentioning \"%s\", was accepted", mention);
    cr_assert(strstr(why, mention), "expected the reason to mention \"%s\", got: %s", mention,
              why);
}

Test(geo_validate, accepts_every_transition)
{
    ff_geofence_event_t enter = visit(FF_GEO_ENTER, "store-7");
    ff_geofence_event_t dw = dwell(0);
    ff_geofence_event_t ex = visit(FF_GEO_EXIT, "store-7");
    enter.accuracy_m = (ff_opt_f64_t){true, 0.0};
    ex.accuracy_m = (ff_opt_f64_t){true, 35.5};
    expect_geo(&enter, NULL);
    expect_geo(&dw, NULL);
    expect_geo(&ex, NULL);
}

Test(geo_validate, rejects_missing_ids)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    ev.event_id = NULL;
    expect_geo(&ev, "event_id");
    ev = visit(FF_GEO_ENTER, "store-7");
    ev.customer_id = "";
    expect_geo(&ev, "customer_id");
    ev = visit(FF_GEO_ENTER, "store-7");
    ev.device_id = NULL;
    expect_geo(&ev, "device_id");
    ev = visit(FF_GEO_ENTER, NULL);
    expect_geo(&ev, "store_id");
}

Test(geo_validate, rejects_a_negative_dwell)
{
    ff_geofence_event_t ev = dwell(-1);
    expect_geo(&ev, "dwell_seconds");
}

Test(geo_validate, rejects_an_accuracy_that_is_not_a_distance)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    ev.accuracy_m = (ff_opt_f64_t){true, -0.5};
    expect_geo(&ev, "accuracy_m");
    ev.accuracy_m = (ff_opt_f64_t){true, NAN};
    expect_geo(&ev, "accuracy_m");
}

Test(geo_validate, rejects_a_time_beyond_max_future)
{
    ff_geofence_event_t ev = visit(FF_GEO_ENTER, "store-7");
    ev.ts = NOW + MAX_FUTURE + 1;
    expect_geo(&ev, "future");
}

static ff_consent_event_t consent(int channel, int status, int64_t ts)
{
    ff_consent_event_t ev = {"con-1", "cust-1", ts, channel, status};
    return ev;
}

Test(consent_validate, accepts_a_revocation)
{
    char buf[256];
    ff_consent_event_t ev = consent(FF_CH_PUSH, FF_CONSENT_REVOKED, NOW - 1000);
    const char *why = consent_validate(&ev, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert_null(why, "expected valid, rejected: %s", why);
}

Test(consent_validate, rejects_missing_ids_and_bad_times)
{
    char buf[256];
    const char *why;
    ff_consent_event_t ev = consent(FF_CH_ALL, FF_CONSENT_GRANTED, NOW);
    ev.customer_id = NULL;
    why = consent_validate(&ev, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert(why && strstr(why, "customer_id"), "expected customer_id missing, got %s",
              why ? why : "(accepted)");
    ev = consent(FF_CH_ALL, FF_CONSENT_GRANTED, NOW);
    ev.event_id = "";
    why = consent_validate(&ev, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert(why && strstr(why, "event_id"), "expected event_id missing, got %s",
              why ? why : "(accepted)");
    ev = consent(FF_CH_ALL, FF_CONSENT_GRANTED, NOW + MAX_FUTURE + 1);
    why = consent_validate(&ev, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert(why && strstr(why, "future"), "expected a future time rejected, got %s",
              why ? why : "(accepted)");
}

/* ---- consent that arrives late ---------------------------------------------- */

TestSuite(geofence_consent, .init = customer_setup, .fini = customer_teardown);

/* The in-memory half of ff_cust_consent (common/ff_customer_io.c), which
 * also needs an engine entity to write Redis and so is not called here: the
 * latest record by event time wins, an older one arriving late changes
 * nothing. */
static void consent_record(int channel, int status, int64_t ts)
{
    ff_consent_state_t *cs = &cust.consent[channel];
    if (cs->set && ts < cs->ts)
        return;
    cs->set = true;
    cs->status = status;
    cs->ts = ts;
}

Test(geofence_consent,
     a_revoked_consent_that_arrives_after_the_visit_event_but_with_an_earlier_event_time)
{
    /* PUSH granted at t=50. A visit at t=100 is processed now: the consent
     * known then allows it, so that visit's offer was decided, correctly,
     * with what was known. Nothing can take it back. */
    cust.consent[FF_CH_PUSH] = (ff_consent_state_t){true, FF_CONSENT_GRANTED, 50};
    cr_assert(ff_guard_consent_ok(&cust), "PUSH GRANTED at t=50: the t=100 visit may get an offer");

    /* Then a REVOKED at t=90 arrives: later than what we knew (50), so it wins,
     * and from now on the customer is blocked. */
    consent_record(FF_CH_PUSH, FF_CONSENT_REVOKED, 90);
    cr_assert(cust.consent[FF_CH_PUSH].set && cust.consent[FF_CH_PUSH].status == FF_CONSENT_REVOKED &&
                  cust.consent[FF_CH_PUSH].ts == 90,
              "REVOKED at t=90 replaces GRANTED at t=50");
    cr_assert_not(ff_guard_consent_ok(&cust), "PUSH REVOKED at t=90 must block further offers");

    /* A GRANTED at t=80 arriving after it is older than the revocation:
     * ignored, the customer stays blocked. */
    consent_record(FF_CH_PUSH, FF_CONSENT_GRANTED, 80);
    cr_assert_eq(cust.consent[FF_CH_PUSH].status, FF_CONSENT_REVOKED,
                 "a GRANTED at t=80 must not undo a REVOKED at t=90");
    cr_assert_eq(cust.consent[FF_CH_PUSH].ts, 90, "the consent time stays 90, got %lld",
                 (long long)cust.consent[FF_CH_PUSH].ts);
    cr_assert_not(ff_guard_consent_ok(&cust), "still blocked after the stale GRANTED");

    /* Nor does an ALL GRANTED older than the PUSH revocation: the guard
     * takes the most recent of PUSH and ALL by event time. */
    consent_record(FF_CH_ALL, FF_CONSENT_GRANTED, 85);
    cr_assert_not(ff_guard_consent_ok(&cust),
                  "ALL GRANTED at t=85 is older than PUSH REVOKED at t=90: still blocked");
}

Test(geofence_consent, a_later_grant_on_all_lifts_a_push_revocation)
{
    consent_record(FF_CH_PUSH, FF_CONSENT_REVOKED, 90);
    consent_record(FF_CH_ALL, FF_CONSENT_GRANTED, 120);
    cr_assert(ff_guard_consent_ok(&cust),
              "ALL GRANTED at t=120 is the latest record among PUSH and ALL");
}

Test(geofence_consent, no_record_at_all_allows)
{
    cr_assert(ff_guard_consent_ok(&cust), "a customer with no consent record is not blocked");
}
