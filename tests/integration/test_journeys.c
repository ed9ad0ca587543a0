/* Customer journeys through the real footfall-web, -geofence, -pos and -shelf: the exact triggers and decisions. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_guard.h"
#include "ff_testenv.h"

static ff_env_t env;

static void teardown(void)
{
    ff_env_stop(&env);
}

TestSuite(journeys, .fini = teardown, .timeout = 180);

/* "now" for every processor: 15:00 UTC, outside quiet hours in UTC stores. */
#define NOW 1795446000000LL
#define NOW_ENV "FOOTFALL_NOW=2026-11-23T15:00:00Z"
#define MIN 60000LL
#define DAY 86400000LL

static const char *const proc_env[] = {NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms",
                                       "FOOTFALL_STORE_TZ=S3=+10:00", NULL};

/* A customer id for a role: the first "<role>-<n>" on the wanted side of
 * the 10 % holdout (the same salted hash the processors use). */
static const char *customer(const char *role, bool control)
{
    static char ids[32][32];
    static int next;
    ff_guard_conf_t g = {.holdout_percent = 10, .holdout_salt = "footfall"};
    char *id = ids[next++ % 32];
    for (int n = 0;; n++) {
        snprintf(id, 32, "%s-%d", role, n);
        if (ff_guard_in_holdout(&g, id) == control)
            return id;
    }
}

static int64_t web_offset, geo_offset, pos_offset;

static void web(const char *cust, int type, const char *sku, const char *cat, int64_t ts)
{
    char id[32];
    snprintf(id, sizeof id, "w%lld", (long long)web_offset++);
    ff_web_event_t w = {id, cust, "sess", ts, type, sku, cat, {0, 0}, NULL};
    ff_env_produce(&env, "web.events", 0, cust, FF_REC_WEB_EVENT, &w);
}

static int64_t enter(const char *cust, const char *store, int64_t ts)
{
    char id[32];
    snprintf(id, sizeof id, "g%lld", (long long)geo_offset);
    ff_geofence_event_t g = {id, cust, "dev", ts, store, FF_GEO_ENTER, {0, 0}, {0, 0}};
    ff_env_produce(&env, "geofence.events", 0, cust, FF_REC_GEOFENCE_EVENT, &g);
    return geo_offset++;
}

static void buy(const char *cust, const char *store, const char *sku, const char *cat,
                int64_t cents, const char *code, int64_t ts)
{
    char id[32];
    ff_pos_line_t line = {sku, cat, 1, cents};
    const char *codes[1] = {code};
    snprintf(id, sizeof id, "tx%lld", (long long)pos_offset++);
    ff_pos_transaction_t tx = {id, store, cust, ts, &line, 1, cents, codes, code ? 1 : 0};
    ff_env_produce(&env, "pos.events", 0, cust, FF_REC_POS_TRANSACTION, &tx);
}

static void shelf(const char *store, const char *sku, const char *cat, int64_t qty)
{
    ff_shelf_reading_t r = {"s", store, "A1", sku, cat, NOW - 3600000, qty, 20,
                            FF_SENSOR_WEIGHT, {0, 0}};
    char id[32];
    snprintf(id, sizeof id, "s-%s-%s", store, sku);
    r.event_id = id;
    ff_env_produce(&env, "shelf.events", 0, store, FF_REC_SHELF_READING, &r);
}

static void caught_up(const char *group, const char *topic1, const char *topic2)
{
    const char *topics[] = {topic1, topic2, NULL};
    ff_env_wait_caught_up(&env, group, topics, 90000);
}

/* The records of a topic as parsed JSON values. */
static size_t read_json(const char *topic, json_t ***out)
{
    ff_msg_t *msgs;
    size_t n = ff_env_read_all(&env, topic, &msgs);
    *out = calloc(n + 1, sizeof(json_t *));
    for (size_t i = 0; i < n; i++) {
        cr_assert_not_null(msgs[i].json, "%s record %zu decodes", topic, i);
        (*out)[i] = json_loads(msgs[i].json, 0, NULL);
        cr_assert_not_null((*out)[i]);
    }
    ff_env_msgs_free(msgs, n);
    return n;
}

static void free_json(json_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    free(v);
}

static const char *s(json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);
    cr_assert_not_null(v, "field %s present", field);
    return json_is_null(v) ? NULL : json_string_value(v);
}

static int64_t n(json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);
    cr_assert(json_is_integer(v), "field %s is a number", field);
    return json_integer_value(v);
}

static void expect_offer(json_t *o, const char *trigger_id, const char *kind, const char *cust,
                         const char *store, const char *sku, const char *cat, int64_t qty,
                         int64_t ts, const char *event_id)
{
    char code[16];
    ff_offer_code(trigger_id, "footfall", code, sizeof code);
    cr_assert_str_eq(s(o, "trigger_id"), trigger_id);
    cr_assert_str_eq(s(o, "kind"), kind, "%s", trigger_id);
    cr_assert_str_eq(s(o, "customer_id"), cust);
    cr_assert_str_eq(s(o, "store_id"), store);
    if (sku)
        cr_assert_str_eq(s(o, "sku"), sku);
    else
        cr_assert_null(s(o, "sku"), "a category offer has no sku");
    cr_assert_str_eq(s(o, "category"), cat);
    cr_assert_eq(n(o, "in_stock_qty"), qty, "%s in stock", trigger_id);
    cr_assert_str_eq(s(o, "offer_code"), code, "a deterministic code");
    cr_assert_eq(n(o, "ts"), ts);
    cr_assert_eq(n(o, "expires_at"), ts + 2 * 3600000, "expires 2 h after the event");
    cr_assert_str_eq(s(o, "source_event_id"), event_id);
    cr_assert(json_is_false(json_object_get(o, "replayed")));
    cr_assert_gt(strlen(s(o, "reason")), 20, "a reason for people");
}

static void expect_decision(json_t *d, const char *rule, const char *outcome, const char *reason,
                            const char *cust, const char *store, const char *src_topic,
                            int64_t src_offset, const char *trigger_id)
{
    char id[128];
    snprintf(id, sizeof id, "%s:0:%lld:%s:decision", src_topic, (long long)src_offset, rule);
    cr_assert_str_eq(s(d, "decision_id"), id);
    cr_assert_str_eq(s(d, "rule"), rule, "%s", id);
    cr_assert_str_eq(s(d, "outcome"), outcome, "%s", id);
    cr_assert_str_eq(s(d, "reason"), reason, "%s", id);
    cr_assert_str_eq(s(d, "customer_id"), cust);
    cr_assert_str_eq(s(d, "store_id"), store);
    cr_assert_str_eq(s(d, "source_topic"), src_topic);
    cr_assert_eq(n(d, "source_offset"), src_offset);
    if (trigger_id)
        cr_assert_str_eq(s(d, "trigger_id"), trigger_id, "%s", id);
    else
        cr_assert_null(s(d, "trigger_id"), "%s: nothing was sent", id);
}

/* masters 0: one redis-server; otherwise a Redis Cluster of that many. */
static void journeys(int masters)
{
    const char *c1 = customer("offer", false), *c2 = customer("nostock", false),
               *c3 = customer("twice", false), *c4 = customer("optout", false),
               *c5 = customer("night", false), *ch = customer("control", true),
               *c7 = customer("stale", false), *c8 = customer("buyer", false),
               *c9 = customer("vip", false), *c10 = customer("invitee", false);
    json_t **v;
    size_t cnt;

    if (masters)
        ff_env_start_cluster(&env, 1, masters);
    else
        ff_env_start(&env, 1, NULL);
    int pshelf = ff_env_proc(&env, "shelf", proc_env);
    int pweb = ff_env_proc(&env, "web", proc_env);
    int pgeo = ff_env_proc(&env, "geofence", proc_env);
    int ppos = ff_env_proc(&env, "pos", proc_env);

    /* Step 1: shelves, browsing, consent, an earlier big purchase. */
    shelf("S1", "K1", "shoes", 10);
    shelf("S1", "K2", "toys", 1); /* below offer.stock.min (2) */
    shelf("S2", "K1", "shoes", 10);
    shelf("S3", "K1", "shoes", 10);
    const char *browsers[] = {c1, c2, c3, c4, c5, ch, c7, c8};
    for (size_t i = 0; i < 8; i++) {
        const char *sku = browsers[i] == c2 ? "K2" : "K1";
        const char *cat = browsers[i] == c2 ? "toys" : "shoes";
        web(browsers[i], FF_WEB_PRODUCT_VIEW, sku, cat, NOW - DAY);
        web(browsers[i], FF_WEB_PRODUCT_VIEW, sku, cat, NOW - DAY + MIN);
    }
    web(c9, FF_WEB_PRODUCT_VIEW, "K3", "games", NOW - DAY); /* one view: interest, no intent */
    ff_consent_event_t optout = {"c0", c4, NOW - 3600000, FF_CH_PUSH, FF_CONSENT_DENIED};
    ff_env_produce(&env, "consent.events", 0, c4, FF_REC_CONSENT_EVENT, &optout);
    buy(c9, "S1", "K9", "watches", 60000, NULL, NOW - 2 * DAY); /* pos 0 */
    ff_env_flush(&env);
    caught_up("footfall-shelf", "shelf.events", NULL);
    caught_up("footfall-web", "web.events", NULL);
    caught_up("footfall-geofence", "consent.events", NULL);
    caught_up("footfall-pos", "pos.events", NULL);

    /* Step 2: store visits. */
    enter(c1, "S1", NOW - MIN);     /* 0: NEARBY K1 */
    enter(c2, "S1", NOW - MIN);     /* 1: NO_STOCK */
    enter(c3, "S1", NOW - 5 * MIN); /* 2: NEARBY K1 */
    enter(c3, "S2", NOW - MIN);     /* 3: FREQUENCY_CAP (one a day) */
    enter(c4, "S1", NOW - MIN);     /* 4: NO_CONSENT */
    enter(c5, "S3", NOW - MIN);     /* 5: QUIET_HOURS (01:00 in S3) */
    enter(ch, "S1", NOW - MIN);     /* 6: HOLDOUT */
    enter(c7, "S1", NOW - 20 * MIN); /* 7: STALE_EVENT */
    enter(c8, "S1", NOW - MIN);     /* 8: NEARBY K1, bought below */
    enter(c9, "S1", NOW - MIN);     /* 9: STORE_ASSIST */
    enter(c10, "S1", NOW - 3 * DAY); /* 10: a visit: S1 becomes the preferred store */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);

    /* Step 3: category browsing that earns an INVITE; purchases. */
    web(c10, FF_WEB_PAGE_VIEW, NULL, "shoes", NOW - 3 * MIN);
    web(c10, FF_WEB_PAGE_VIEW, NULL, "shoes", NOW - 2 * MIN);
    web(c10, FF_WEB_PAGE_VIEW, NULL, "shoes", NOW - MIN); /* crosses 3 */
    int64_t invite_offset = web_offset - 1;
    /* Two more crossings, each with a preferred store (S1): footfall-web
     * reads consent and offers only for a crossing, and these need them. */
    web(c4, FF_WEB_PAGE_VIEW, NULL, "shoes", NOW - MIN); /* NO_CONSENT */
    web(c1, FF_WEB_PAGE_VIEW, NULL, "shoes", NOW - MIN); /* FREQUENCY_CAP: S1 offered it today */
    char code[16];
    ff_offer_code("geofence.events:0:8:NEARBY", "footfall", code, sizeof code);
    buy(c8, "S1", "K1", "shoes", 5000, code, NOW - 30000);  /* pos 1: converts */
    buy(c8, "S1", "K1", "shoes", 5000, code, NOW - 20000);  /* pos 2: already converted */
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    caught_up("footfall-pos", "pos.events", NULL);

    /* Offers: exactly these four, in order. */
    cnt = read_json("triggers.drive-to-store", &v);
    cr_assert_eq(cnt, 4, "4 offers sent (got %zu)", cnt);
    expect_offer(v[0], "geofence.events:0:0:NEARBY", "NEARBY", c1, "S1", "K1", "shoes", 10,
                 NOW - MIN, "g0");
    expect_offer(v[1], "geofence.events:0:2:NEARBY", "NEARBY", c3, "S1", "K1", "shoes", 10,
                 NOW - 5 * MIN, "g2");
    expect_offer(v[2], "geofence.events:0:8:NEARBY", "NEARBY", c8, "S1", "K1", "shoes", 10,
                 NOW - MIN, "g8");
    char invite_id[64], invite_ev[32];
    snprintf(invite_id, sizeof invite_id, "web.events:0:%lld:INVITE", (long long)invite_offset);
    snprintf(invite_ev, sizeof invite_ev, "w%lld", (long long)invite_offset);
    expect_offer(v[3], invite_id, "INVITE", c10, "S1", NULL, "shoes", 10, NOW - MIN, invite_ev);
    free_json(v, cnt);

    /* The control customer's offer went to the holdout topic, unchanged. */
    cnt = read_json("triggers.holdout", &v);
    cr_assert_eq(cnt, 1);
    expect_offer(v[0], "geofence.events:0:6:NEARBY", "NEARBY", ch, "S1", "K1", "shoes", 10,
                 NOW - MIN, "g6");
    free_json(v, cnt);

    /* The high spender's heads-up. */
    cnt = read_json("triggers.store-assist", &v);
    cr_assert_eq(cnt, 1);
    cr_assert_str_eq(s(v[0], "trigger_id"), "geofence.events:0:9:STORE_ASSIST");
    cr_assert_str_eq(s(v[0], "customer_id"), c9);
    cr_assert_str_eq(s(v[0], "store_id"), "S1");
    cr_assert_eq(n(v[0], "lifetime_spend_cents"), 60000);
    json_t *top = json_object_get(v[0], "top_interests");
    cr_assert_eq(json_array_size(top), 2, "the SKU and its category, one view each");
    cr_assert_str_eq(s(json_array_get(top, 0), "sku"), "K3");
    cr_assert_null(s(json_array_get(top, 1), "sku"));
    cr_assert_str_eq(s(json_array_get(top, 1), "category"), "games");
    free_json(v, cnt);

    /* One conversion, by code, for the first purchase only. */
    cnt = read_json("triggers.conversion", &v);
    cr_assert_eq(cnt, 1, "a second purchase converts nothing more");
    cr_assert_str_eq(s(v[0], "trigger_id"), "pos.events:0:1:CONVERSION:geofence.events:0:8:NEARBY");
    cr_assert_str_eq(s(v[0], "offer_trigger_id"), "geofence.events:0:8:NEARBY");
    cr_assert_str_eq(s(v[0], "customer_id"), c8);
    cr_assert_str_eq(s(v[0], "transaction_id"), "tx1");
    cr_assert_str_eq(s(v[0], "treatment"), "TREATMENT");
    cr_assert_str_eq(s(v[0], "match"), "OFFER_CODE");
    cr_assert_eq(n(v[0], "revenue_cents"), 5000);
    cr_assert_eq(n(v[0], "latency_seconds"), 30);
    free_json(v, cnt);

    /* Every decision, and nothing else. */
    cnt = read_json("footfall.decisions", &v);
    cr_assert_eq(cnt, 13, "13 decisions (got %zu)", cnt);
    expect_decision(v[0], "NEARBY", "FIRED", "ELIGIBLE", c1, "S1", "geofence.events", 0,
                    "geofence.events:0:0:NEARBY");
    expect_decision(v[1], "NEARBY", "SUPPRESSED", "NO_STOCK", c2, "S1", "geofence.events", 1,
                    NULL);
    expect_decision(v[2], "NEARBY", "FIRED", "ELIGIBLE", c3, "S1", "geofence.events", 2,
                    "geofence.events:0:2:NEARBY");
    expect_decision(v[3], "NEARBY", "SUPPRESSED", "FREQUENCY_CAP", c3, "S2", "geofence.events",
                    3, NULL);
    expect_decision(v[4], "NEARBY", "SUPPRESSED", "NO_CONSENT", c4, "S1", "geofence.events", 4,
                    NULL);
    expect_decision(v[5], "NEARBY", "SUPPRESSED", "QUIET_HOURS", c5, "S3", "geofence.events", 5,
                    NULL);
    expect_decision(v[6], "NEARBY", "SUPPRESSED", "HOLDOUT", ch, "S1", "geofence.events", 6,
                    "geofence.events:0:6:NEARBY");
    expect_decision(v[7], "NEARBY", "SUPPRESSED", "STALE_EVENT", c7, "S1", "geofence.events", 7,
                    NULL);
    expect_decision(v[8], "NEARBY", "FIRED", "ELIGIBLE", c8, "S1", "geofence.events", 8,
                    "geofence.events:0:8:NEARBY");
    expect_decision(v[9], "STORE_ASSIST", "FIRED", "ELIGIBLE", c9, "S1", "geofence.events", 9,
                    "geofence.events:0:9:STORE_ASSIST");
    expect_decision(v[10], "INVITE", "FIRED", "ELIGIBLE", c10, "S1", "web.events",
                    invite_offset, invite_id);
    expect_decision(v[11], "INVITE", "SUPPRESSED", "NO_CONSENT", c4, "S1", "web.events",
                    invite_offset + 1, NULL);
    expect_decision(v[12], "INVITE", "SUPPRESSED", "FREQUENCY_CAP", c1, "S1", "web.events",
                    invite_offset + 2, NULL);
    cr_assert(strstr(s(v[12], "detail"), "geofence.events:0:0:NEARBY"),
              "the cap names the offer read: %s", s(v[12], "detail"));
    cr_assert(strstr(s(v[5], "detail"), "00:59 store-local"), "quiet hours say the local time: %s",
              s(v[5], "detail"));
    free_json(v, cnt);

    const char *dlqs[] = {"web.events.dlq", "geofence.events.dlq", "consent.events.dlq",
                          "pos.events.dlq", "shelf.events.dlq"};
    for (size_t i = 0; i < 5; i++) {
        ff_msg_t *msgs;
        size_t k = ff_env_read_all(&env, dlqs[i], &msgs);
        cr_assert_eq(k, 0, "nothing in %s", dlqs[i]);
        ff_env_msgs_free(msgs, k);
    }

    /* Some of the state behind it. */
    char key[128];
    snprintf(key, sizeof key, "ff:{c:%s}:intent:%lld", c1, (long long)ff_day_of_ms(NOW - DAY));
    cr_assert_str_eq(ff_env_hget(&env, key, "v:K1\x1fshoes"), "2");
    cr_assert_str_eq(ff_env_hget(&env, key, "c:shoes"), "2");
    cr_assert_str_eq(ff_env_hget(&env, key, "v:K1"), "", "the counter names the SKU's category");
    cr_assert_str_eq(ff_env_hget(&env, key, "k:K1"), "", "no field apart for the category");
    snprintf(key, sizeof key, "ff:{c:%s}:profile", c9);
    cr_assert_str_eq(ff_env_hget(&env, key, "spend"), "60000");
    snprintf(key, sizeof key, "ff:{c:%s}:conv", c8);
    cr_assert(strstr(ff_env_hget(&env, key, "geofence.events:0:8:NEARBY"), "tx1 "));
    snprintf(key, sizeof key, "ff:{c:%s}:profile", c8);
    cr_assert_str_eq(ff_env_hget(&env, key, "spend"), "10000");
    snprintf(key, sizeof key, "ff:{c:%s}:visits", c10);
    cr_assert_str_eq(ff_env_hget(&env, key, "n:S1"), "1");
    snprintf(key, sizeof key, "ff:{c:%s}:consent", c4);
    char consent[64];
    snprintf(consent, sizeof consent, "DENIED %lld", (long long)(NOW - 3600000));
    cr_assert_str_eq(ff_env_hget(&env, key, "PUSH"), consent);

    /* What an operator sees of the buyer. */
    char *out, *err;
    const char *argv[] = {FF_BIN_DIR "/footfall", "state", "customer", c8, "--json", NULL};
    const char *envp[] = {NOW_ENV, ff_env_redis_url(&env), NULL};
    cr_assert_eq(ff_run(argv, envp, &out, &err), 0, "%s", err);
    json_t *st = json_loads(out, 0, NULL);
    cr_assert_not_null(st, "state --json is JSON: %s", out);
    cr_assert_str_eq(s(st, "customer_id"), c8);
    cr_assert_eq(n(st, "lifetime_spend_cents"), 10000);
    cr_assert_eq(n(st, "purchases"), 2);
    json_t *offers = json_object_get(st, "offers");
    cr_assert_eq(json_array_size(offers), 1);
    cr_assert_str_eq(s(json_array_get(offers, 0), "trigger_id"), "geofence.events:0:8:NEARBY");
    cr_assert(json_is_true(json_object_get(json_array_get(offers, 0), "converted")));
    cr_assert_str_eq(s(json_array_get(json_object_get(st, "intent"), 0), "sku"), "K1");
    cr_assert(json_is_integer(json_object_get(json_object_get(st, "bought"), "K1")),
              "K1 is among the recent purchases");
    json_decref(st);
    free(out);
    free(err);
    const char *human[] = {FF_BIN_DIR "/footfall", "state", "customer", c8, NULL};
    cr_assert_eq(ff_run(human, envp, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "(bought recently: not offered)"), "%s", out);
    cr_assert(strstr(out, "[converted]"), "%s", out);
    cr_assert(strstr(out, "lifetime spend 100.00 in 2 purchases"), "%s", out);
    free(out);
    free(err);

    cr_assert_eq(ff_env_proc_stop(&env, pweb, 15), 0);
    cr_assert_eq(ff_env_proc_stop(&env, pgeo, 15), 0);
    cr_assert_eq(ff_env_proc_stop(&env, ppos, 15), 0);
    cr_assert_eq(ff_env_proc_stop(&env, pshelf, 15), 0);
}

/* The cart hash of cust as "sku=n " pairs in SKU order ("" when absent). */
static const char *cart_of(const char *cust)
{
    static char out[256];
    redisReply *r = ff_env_redis(&env, "HGETALL ff:{c:%s}:cart", cust);
    const char *sku[8] = {0}, *qty[8] = {0};
    size_t n = 0;
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements <= 16);
    for (size_t i = 0; i + 1 < r->elements; i += 2, n++) {
        size_t at = n;
        while (at > 0 && strcmp(sku[at - 1], r->element[i]->str) > 0) {
            sku[at] = sku[at - 1];
            qty[at] = qty[at - 1];
            at--;
        }
        sku[at] = r->element[i]->str;
        qty[at] = r->element[i + 1]->str;
    }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s=%s ", sku[i], qty[i]);
    freeReplyObject(r);
    return out;
}

/* footfall-web and footfall-pos read only the cart fields their events
 * touch: what they write must still add up across batches. footfall-geofence
 * reads only the cart's size: a customer with something in the cart gets a
 * staff heads-up, one with an empty cart does not. */
Test(journeys, a_cart_follows_adds_removes_and_purchases_across_batches)
{
    const char *c = customer("cart", false);
    json_t **v;
    size_t cnt;
    ff_env_start(&env, 1, NULL);
    ff_env_proc(&env, "web", proc_env);
    ff_env_proc(&env, "pos", proc_env);
    ff_env_proc(&env, "geofence", proc_env);

    web(c, FF_WEB_ADD_TO_CART, "K1", "shoes", NOW - 10 * MIN);
    web(c, FF_WEB_ADD_TO_CART, "K1", "shoes", NOW - 9 * MIN);
    web(c, FF_WEB_ADD_TO_CART, "K2", "toys", NOW - 8 * MIN);
    web(c, FF_WEB_REMOVE_FROM_CART, "K2", "toys", NOW - 7 * MIN);
    web(c, FF_WEB_REMOVE_FROM_CART, "K3", "toys", NOW - 7 * MIN); /* never added */
    web(c, FF_WEB_ADD_TO_CART, "K4", "games", NOW - 6 * MIN);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    cr_assert_str_eq(cart_of(c), "K1=2 K4=1 ");
    enter(c, "S1", NOW - 6 * MIN); /* 0: STORE_ASSIST, for the cart */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);
    /* In another batch: the visit's heads-up time is read back, and S1's
     * staff were told less than assist.interval (4 h) ago. */
    enter(c, "S1", NOW - 5 * MIN); /* 1: no second heads-up */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);

    /* A later batch starts from what Redis holds. */
    web(c, FF_WEB_ADD_TO_CART, "K1", "shoes", NOW - 5 * MIN);
    web(c, FF_WEB_REMOVE_FROM_CART, "K4", "games", NOW - 4 * MIN);
    web(c, FF_WEB_ADD_TO_CART, "K5", "games", NOW - 4 * MIN);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    cr_assert_str_eq(cart_of(c), "K1=3 K5=1 ");

    /* A purchase clears what it bought, and only that. */
    buy(c, "S1", "K1", "shoes", 5000, NULL, NOW - 3 * MIN);
    ff_env_flush(&env);
    caught_up("footfall-pos", "pos.events", NULL);
    cr_assert_str_eq(cart_of(c), "K5=1 ");
    buy(c, "S1", "K5", "games", 2000, NULL, NOW - 2 * MIN);
    ff_env_flush(&env);
    caught_up("footfall-pos", "pos.events", NULL);
    cr_assert_str_eq(cart_of(c), "");
    enter(c, "S2", NOW - MIN); /* 2: an empty cart, no heads-up */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);

    cnt = read_json("triggers.store-assist", &v);
    cr_assert_eq(cnt, 1, "one heads-up: for the first visit, with something in the cart");
    cr_assert_str_eq(s(v[0], "trigger_id"), "geofence.events:0:0:STORE_ASSIST");
    cr_assert_str_eq(s(v[0], "store_id"), "S1");
    free_json(v, cnt);
    char key[128], ts[24];
    snprintf(key, sizeof key, "ff:{c:%s}:visits", c);
    cr_assert_str_eq(ff_env_hget(&env, key, "n:S1"), "2");
    snprintf(ts, sizeof ts, "%lld", (long long)(NOW - 5 * MIN));
    cr_assert_str_eq(ff_env_hget(&env, key, "t:S1"), ts);
    snprintf(ts, sizeof ts, "%lld", (long long)(NOW - 6 * MIN));
    cr_assert_str_eq(ff_env_hget(&env, key, "h:S1"), ts);
    cr_assert_str_eq(ff_env_hget(&env, key, "n:S2"), "1");
}

/* The value of a series in a processor's /metrics, once it reads want
 * (metrics follow the batch's commit): the last value read otherwise. */
static double metric_when(const char *base, const char *series, double want)
{
    char url[128], *body = NULL;
    double v = -1;
    snprintf(url, sizeof url, "%s/metrics", base);
    for (int i = 0; i < 100 && v != want; i++) {
        if (i)
            ff_sleep_ms(50);
        cr_assert_eq(ff_http_get(url, &body), 200, "GET /metrics");
        const char *at = strstr(body, series);
        v = at ? strtod(at + strlen(series), NULL) : -1;
        free(body);
    }
    return v;
}

/* footfall-geofence keeps a week of intent it read twice and uses it again
 * while footfall-web has written nothing since: the customer's applied
 * offsets of other processors read the same. Browsing since makes it read
 * again. */
Test(journeys, a_visit_ranks_what_was_browsed_since_the_last_one)
{
    const char *c = customer("regular", false);
    char port_env[64], base[64];
    int port = ff_free_port();
    json_t **v;
    size_t cnt;
    snprintf(port_env, sizeof port_env, "FOOTFALL_HTTP_PORT=%d", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *const geo_env[] = {NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms", port_env, NULL};
    ff_env_start(&env, 1, NULL);
    ff_env_proc(&env, "web", proc_env);
    ff_env_proc(&env, "pos", proc_env);
    ff_env_proc(&env, "geofence", geo_env);

    buy(c, "S1", "K9", "watches", 60000, NULL, NOW - 2 * DAY); /* a high spender */
    web(c, FF_WEB_PRODUCT_VIEW, "K3", "games", NOW - DAY);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    caught_up("footfall-pos", "pos.events", NULL);
    enter(c, "S1", NOW - 4 * MIN); /* 0: read */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);
    enter(c, "S2", NOW - 3 * MIN); /* 1: read again, and kept */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);
    enter(c, "S4", NOW - 2 * MIN); /* 2: nothing written since: from memory */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);
    cr_assert_eq(metric_when(base, "footfall_state_cache_reads_total{result=\"hit\"} ", 1), 1);
    for (int i = 0; i < 3; i++)
        web(c, FF_WEB_PRODUCT_VIEW, "K4", "toys", NOW - 90000 + i);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    enter(c, "S3", NOW - MIN); /* 3: browsed since: read again */
    ff_env_flush(&env);
    caught_up("footfall-geofence", "geofence.events", NULL);
    cr_assert_eq(metric_when(base, "footfall_state_cache_reads_total{result=\"miss\"} ", 3), 3);
    cr_assert_eq(metric_when(base, "footfall_state_cache_reads_total{result=\"hit\"} ", 1), 1);

    cnt = read_json("triggers.store-assist", &v);
    cr_assert_eq(cnt, 4, "a heads-up at each store (got %zu)", cnt);
    for (size_t i = 0; i < 3; i++) {
        json_t *top = json_object_get(v[i], "top_interests");
        cr_assert_eq(json_array_size(top), 2, "heads-up %zu: K3 and its category", i);
        cr_assert_str_eq(s(json_array_get(top, 0), "sku"), "K3", "heads-up %zu", i);
        cr_assert_str_eq(s(json_array_get(top, 1), "category"), "games", "heads-up %zu", i);
    }
    json_t *top = json_object_get(v[3], "top_interests");
    cr_assert_str_eq(s(v[3], "store_id"), "S3");
    cr_assert_geq(json_array_size(top), 2);
    cr_assert_str_eq(s(json_array_get(top, 0), "sku"), "K4", "the views since rank first");
    free_json(v, cnt);
}

/* A customer's intent bucket for a day holds at most intent.bucket.max
 * fields: once full, SKUs not in it are not counted that day, those in it
 * and every category still are. (Geofence reads a week of buckets whole for
 * every visit: a customer who views the whole catalogue must not make it
 * read thousands of fields.) */
Test(journeys, a_full_intent_bucket_counts_only_what_it_holds)
{
    const char *c = customer("crawler", false);
    const char *const env4[] = {NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms",
                                "FOOTFALL_INTENT_BUCKET_MAX=3", NULL};
    char key[128];
    redisReply *r;
    snprintf(key, sizeof key, "ff:{c:%s}:intent:%lld", c, (long long)ff_day_of_ms(NOW));
    ff_env_start(&env, 1, NULL);
    ff_env_proc(&env, "web", env4);

    web(c, FF_WEB_PRODUCT_VIEW, "K1", "shoes", NOW - 5 * MIN); /* v:K1·shoes c:shoes */
    web(c, FF_WEB_PRODUCT_VIEW, "K2", "shoes", NOW - 4 * MIN); /* v:K2·shoes fills it */
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    /* A later batch: the server still keeps the bucket at its size. */
    web(c, FF_WEB_PRODUCT_VIEW, "K3", "shoes", NOW - 3 * MIN); /* not counted */
    web(c, FF_WEB_PRODUCT_VIEW, "K1", "shoes", NOW - 2 * MIN); /* in it: counted */
    web(c, FF_WEB_PAGE_VIEW, NULL, "toys", NOW - MIN);         /* a category: counted */
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);

    r = ff_env_redis(&env, "HLEN %s", key);
    cr_assert_eq(r->integer, 4, "v:K1 v:K2 c:shoes c:toys, got %lld", r->integer);
    freeReplyObject(r);
    cr_assert_str_eq(ff_env_hget(&env, key, "v:K1\x1fshoes"), "2");
    cr_assert_str_eq(ff_env_hget(&env, key, "v:K2\x1fshoes"), "1");
    cr_assert_str_eq(ff_env_hget(&env, key, "c:shoes"), "4");
    cr_assert_str_eq(ff_env_hget(&env, key, "c:toys"), "1");
    cr_assert_str_eq(ff_env_hget(&env, key, "v:K3\x1fshoes"), "");
}

/* A SKU's counter names its category in each day's bucket (one field for
 * both: footfall-geofence reads a week of buckets whole), whatever other
 * days hold; a batch whose events name no SKU or category reads no intent
 * at all, and a search alone is consumed like any event. */
Test(journeys, each_days_counter_of_a_sku_names_its_category)
{
    const char *c = customer("filer", false);
    char today[128], yesterday[128];
    redisReply *r;
    snprintf(today, sizeof today, "ff:{c:%s}:intent:%lld", c, (long long)ff_day_of_ms(NOW));
    snprintf(yesterday, sizeof yesterday, "ff:{c:%s}:intent:%lld", c,
             (long long)ff_day_of_ms(NOW - DAY));
    ff_env_start(&env, 1, NULL);
    ff_env_proc(&env, "web", proc_env);

    web(c, FF_WEB_SEARCH, NULL, NULL, NOW - 5 * MIN); /* a batch that reads no intent */
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    web(c, FF_WEB_PRODUCT_VIEW, "K1", "shoes", NOW - DAY);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);
    /* Yesterday's bucket names K1's category; today's counter does too. */
    web(c, FF_WEB_PRODUCT_VIEW, "K1", "shoes", NOW - 2 * MIN);
    web(c, FF_WEB_PRODUCT_VIEW, "K2", "toys", NOW - DAY + MIN);
    ff_env_flush(&env);
    caught_up("footfall-web", "web.events", NULL);

    cr_assert_str_eq(ff_env_hget(&env, yesterday, "v:K1\x1fshoes"), "1");
    cr_assert_str_eq(ff_env_hget(&env, yesterday, "v:K2\x1ftoys"), "1");
    cr_assert_str_eq(ff_env_hget(&env, today, "v:K1\x1fshoes"), "1");
    r = ff_env_redis(&env, "HLEN %s", today);
    cr_assert_eq(r->integer, 2, "v:K1·shoes c:shoes, got %lld", r->integer);
    freeReplyObject(r);
    r = ff_env_redis(&env, "HLEN %s", yesterday);
    cr_assert_eq(r->integer, 4, "v:K1·shoes c:shoes v:K2·toys c:toys, got %lld", r->integer);
    freeReplyObject(r);
}

/* footfall-pos reads only the purchases of the SKUs its batch buys; the
 * server forgets the ones that left purchase.window (30 d) once a day per
 * customer, so a customer with thousands of purchases is never read whole. */
Test(journeys, purchases_past_the_window_are_forgotten_once_a_day)
{
    const char *c = customer("buyer", false);
    const char *const later_env[] = {"FOOTFALL_NOW=2026-12-24T15:00:00Z",
                                     "FOOTFALL_BATCH_TIMEOUT=50ms", NULL};
    const int64_t later = NOW + 31 * DAY;
    char bought[128], profile[128], ts[24];
    redisReply *r;
    snprintf(bought, sizeof bought, "ff:{c:%s}:bought", c);
    snprintf(profile, sizeof profile, "ff:{c:%s}:profile", c);
    ff_env_start(&env, 1, NULL);
    int first = ff_env_proc(&env, "pos", proc_env);

    buy(c, "S1", "K1", "shoes", 1000, NULL, NOW - 3 * MIN);
    buy(c, "S1", "K2", "toys", 1000, NULL, NOW - 2 * MIN);
    ff_env_flush(&env);
    caught_up("footfall-pos", "pos.events", NULL);
    snprintf(ts, sizeof ts, "%lld", (long long)(NOW - 3 * MIN));
    cr_assert_str_eq(ff_env_hget(&env, bought, "K1"), ts);
    snprintf(ts, sizeof ts, "%lld", (long long)(NOW - 2 * MIN));
    cr_assert_str_eq(ff_env_hget(&env, bought, "K2"), ts);
    snprintf(ts, sizeof ts, "%lld", (long long)ff_day_of_ms(NOW));
    cr_assert_str_eq(ff_env_hget(&env, profile, "pruned"), ts);

    /* The same day, no second pruning: not even of a purchase (planted
     * here) that is long out of the window. */
    freeReplyObject(ff_env_redis(&env, "HSET %s K0 1", bought));
    buy(c, "S1", "K2", "toys", 1000, NULL, NOW - MIN);
    ff_env_flush(&env);
    caught_up("footfall-pos", "pos.events", NULL);
    cr_assert_str_eq(ff_env_hget(&env, bought, "K0"), "1");
    snprintf(ts, sizeof ts, "%lld", (long long)(NOW - MIN));
    cr_assert_str_eq(ff_env_hget(&env, bought, "K2"), ts, "a later purchase of K2 moves its time");

    /* 31 days on, the first purchase of the day prunes everything older
     * than 30 days, and keeps what it records. */
    cr_assert_eq(ff_env_proc_stop(&env, first, SIGTERM), 0);
    ff_env_proc(&env, "pos", later_env);
    buy(c, "S1", "K3", "games", 1000, NULL, later - MIN);
    ff_env_flush(&env);
    caught_up("footfall-pos", "pos.events", NULL);
    r = ff_env_redis(&env, "HGETALL %s", bought);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2, "only K3 is left, %zu fields", r->elements / 2);
    cr_assert_str_eq(r->element[0]->str, "K3");
    snprintf(ts, sizeof ts, "%lld", (long long)(later - MIN));
    cr_assert_str_eq(r->element[1]->str, ts);
    freeReplyObject(r);
    snprintf(ts, sizeof ts, "%lld", (long long)ff_day_of_ms(later));
    cr_assert_str_eq(ff_env_hget(&env, profile, "pruned"), ts);
    cr_assert_str_eq(ff_env_hget(&env, profile, "purchases"), "4");
    cr_assert_str_eq(ff_env_hget(&env, profile, "spend"), "4000");
}

Test(journeys, every_rule_and_guardrail_through_the_real_processors)
{
    journeys(0);
}

/* The same journeys, unchanged, with state in a Redis Cluster. */
Test(journeys, every_rule_and_guardrail_with_state_in_a_redis_cluster)
{
    journeys(3);
}
