/* The state engine against a real redis-server: exactly-once effects, stored outputs, guard races. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_config.h"
#include "ff_customer_io.h"
#include "ff_engine.h"
#include "ff_testenv.h"
#include "geofence/geofence_proc.h"

static ff_env_t env;
static ff_redis_t *redis;
static ff_codec_t *codec;
static ff_engine_t *engine;
static ff_arena_t arena;

/* A toy processor: each record adds its quantity to a per-store counter and
 * outputs a stock alert carrying the new total, so a record applied twice
 * would show in the counter and a re-decided record in its output. */
typedef struct toy_s {
    int decides;
    redisContext *meddler; /* when set, changes the guarded field mid-batch once */
} toy_t;

typedef struct toy_ent_s {
    size_t cmd;
    int64_t total;
} toy_ent_t;

static toy_t toy;

/* Once, when armed: another writer runs `cmd` (one %s: the entity's tag)
 * between our read and our write. */
static void meddle(toy_t *t, const char *cmd, const char *tag)
{
    if (!t->meddler)
        return;
    freeReplyObject(redisCommand(t->meddler, cmd, tag));
    redisFree(t->meddler);
    t->meddler = NULL;
}

static const char *toy_entity(void *proc, const ff_event_t *ev, ff_arena_t *a)
{
    (void)proc;
    return ff_arena_printf(a, "s:%s", ((const ff_shelf_reading_t *)ev->rec)->store_id);
}

static void toy_read(void *proc, ff_ent_t *e)
{
    toy_ent_t *te = e->state;
    ff_rpipe_t *p = ff_ent_pipe(e);
    (void)proc;
    ff_rpipe_begin(p);
    ff_rpipe_arg_str(p, "HGET");
    ff_rpipe_arg_str(p, ff_ent_key(e, "toy"));
    ff_rpipe_arg_str(p, "total");
    te->cmd = ff_rpipe_end(p);
}

static ff_ent_step_t toy_decide(void *proc, ff_ent_t *e, int round)
{
    toy_t *t = proc;
    toy_ent_t *te = e->state;
    redisReply *r = ff_ent_reply(e, te->cmd);
    const char *read = r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
    (void)round;
    t->decides++;
    te->total = read ? atoll(read) : 0;
    ff_ent_guard(e, ff_ent_key(e, "toy"), "total", read);
    FF_ENT_FOREACH(e, ev) {
        const ff_shelf_reading_t *rd = ev->rec;
        if (ev->replay)
            continue;
        te->total += rd->quantity;
        ff_stock_alert_t a = {.trigger_id = ff_trigger_id(e->arena, ev, "TOY"),
                              .store_id = rd->store_id, .shelf_id = "x", .sku = "x",
                              .category = "x", .ts = ev->ts, .quantity = te->total,
                              .capacity = 1, .source_event_id = rd->event_id};
        ff_ent_emit(e, ev, "toy.out", rd->store_id, FF_REC_STOCK_ALERT, &a, 0);
    }
    ff_ent_hset_i64(e, ff_ent_key(e, "toy"), "total", te->total);
    meddle(t, "HINCRBY ff:{%s}:toy total 1000", e->tag);
    return FF_ENT_DONE;
}

static const ff_engine_ops_t toy_ops = {.entity = toy_entity, .read = toy_read,
                                        .decide = toy_decide};

static void setup(void)
{
    char err[256];
    memset(&toy, 0, sizeof toy);
    ff_env_start(&env, 1, NULL);
    redis = ff_redis_new(env.stack.redis_url, 0, 2000, err, sizeof err);
    cr_assert_not_null(redis, "%s", err);
    codec = env.codec;
    ff_engine_opts_t opts = {.prefix = "ff", .state_size = sizeof(toy_ent_t),
                             .outcome_ttl_ms = 86400000};
    engine = ff_engine_new(redis, codec, &toy_ops, &toy, &opts);
    ff_arena_init(&arena, 4096);
}

static void teardown(void)
{
    ff_engine_destroy(engine);
    ff_redis_destroy(redis);
    ff_arena_term(&arena);
    ff_env_stop(&env);
}

TestSuite(engine, .init = setup, .fini = teardown, .timeout = 60);

static ff_shelf_reading_t readings[8];

static void batch(ff_event_t *evs, int64_t *floors, int from, int to, const char *store)
{
    for (int i = from; i < to; i++) {
        ff_shelf_reading_t *r = &readings[i];
        memset(r, 0, sizeof(*r));
        r->event_id = "e";
        r->store_id = store;
        r->quantity = i + 1;
        ff_event_t *ev = &evs[i - from];
        memset(ev, 0, sizeof(*ev));
        ev->topic = "toy.in";
        ev->partition = 0;
        ev->offset = i;
        ev->ts = 1000 + i;
        ev->rec = r;
        ev->event_id = r->event_id;
        floors[i - from] = from;
    }
}

static int64_t output_total(const ff_event_t *ev)
{
    ff_stock_alert_t a;
    ff_dec_err_t err;
    cr_assert_not_null(ev->outputs, "offset %lld has an output", (long long)ev->offset);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_STOCK_ALERT, ev->outputs->value,
                                 ev->outputs->value_len, &arena, &a, &err, NULL),
                 0);
    return a.quantity;
}

Test(engine, a_redelivered_batch_changes_nothing_and_reproduces_its_outputs)
{
    ff_event_t evs[4];
    int64_t floors[4];
    char err[256], first[4][256];
    size_t len[4];

    batch(evs, floors, 0, 4, "A");
    cr_assert_eq(ff_engine_run(engine, evs, 4, floors, &arena, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 4; i++) {
        len[i] = evs[i].outputs->value_len;
        memcpy(first[i], evs[i].outputs->value, len[i]);
    }
    cr_assert_eq(output_total(&evs[3]), 1 + 2 + 3 + 4);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:A}:toy", "total"), "10");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:A}:applied", "toy.in:0"), "3");

    /* As after a crash before the Kafka commit: the same records again. */
    batch(evs, floors, 0, 4, "A");
    cr_assert_eq(ff_engine_run(engine, evs, 4, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:A}:toy", "total"), "10", "applied once only");
    for (int i = 0; i < 4; i++) {
        cr_assert(evs[i].replay, "offset %d is recognised as applied", i);
        cr_assert_eq(evs[i].outputs->value_len, len[i]);
        cr_assert_eq(memcmp(evs[i].outputs->value, first[i], len[i]), 0,
                     "offset %d reproduces its output byte for byte", i);
    }
    cr_assert_eq(ff_engine_stats(engine)->replayed, 4);
}

Test(engine, a_batch_that_overlaps_the_applied_offset_applies_only_the_new_records)
{
    ff_event_t evs[6];
    int64_t floors[6];
    char err[256];

    batch(evs, floors, 0, 3, "B");
    cr_assert_eq(ff_engine_run(engine, evs, 3, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(output_total(&evs[2]), 6);
    /* Redelivery from offset 1 with two new records after it. */
    batch(evs, floors, 1, 5, "B");
    cr_assert_eq(ff_engine_run(engine, evs, 4, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert(evs[0].replay && evs[1].replay, "offsets 1 and 2 were applied");
    cr_assert_not(evs[2].replay || evs[3].replay, "offsets 3 and 4 are new");
    cr_assert_eq(output_total(&evs[1]), 6, "offset 2's output is the stored one");
    cr_assert_eq(output_total(&evs[3]), 6 + 4 + 5);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:B}:toy", "total"), "15");
    /* Stored outputs below the committed floor (1) are pruned. */
    redisReply *r = ff_env_redis(&env, "HKEYS ff:{s:B}:out");
    cr_assert_eq(r->elements, 4, "offsets 1..4 kept, 0 pruned (%zu)", r->elements);
    for (size_t i = 0; i < r->elements; i++)
        cr_assert_str_neq(r->element[i]->str, "toy.in:0:0");
    freeReplyObject(r);
}

Test(engine, a_change_under_a_guard_makes_the_entity_decide_again)
{
    ff_event_t evs[2];
    int64_t floors[2];
    char err[256];
    struct timeval tv = {1, 0};

    batch(evs, floors, 0, 2, "C");
    toy.meddler = redisConnectWithTimeout("127.0.0.1", env.stack.redis_port, tv);
    cr_assert_eq(ff_engine_run(engine, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(toy.decides, 2, "the first decision lost the race and was made again");
    cr_assert_eq(ff_engine_stats(engine)->conflicts, 1);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:C}:toy", "total"), "1003",
                     "the other writer's 1000 and our 1 + 2: nothing lost");
    cr_assert_eq(output_total(&evs[1]), 1003, "outputs come from the decision that won");
}

Test(engine, a_redis_outage_fails_the_batch_and_a_retry_applies_it_once)
{
    ff_event_t evs[2];
    int64_t floors[2];
    char err[256];

    batch(evs, floors, 0, 2, "D");
    cr_assert_eq(ff_stack_stop_redis(&env.stack), 0);
    cr_assert_eq(ff_engine_run(engine, evs, 2, floors, &arena, err, sizeof err), -1,
                 "no Redis, no batch");
    cr_assert(strlen(err) > 0, "with a reason");
    cr_assert_eq(ff_stack_start_redis(&env.stack, NULL), 0);
    ff_redis_destroy(redis);
    ff_engine_destroy(engine);
    redis = ff_redis_new(env.stack.redis_url, 0, 2000, err, sizeof err);
    ff_engine_opts_t opts = {.prefix = "ff", .state_size = sizeof(toy_ent_t),
                             .outcome_ttl_ms = 86400000};
    engine = ff_engine_new(redis, codec, &toy_ops, &toy, &opts);
    ff_env_reconnect_redis(&env);
    cr_assert_eq(ff_engine_run(engine, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:D}:toy", "total"), "3");
}

/* footfall-web's cart write, in a processor of its own: each record adds
 * its quantity of K1 to customer <store_id>'s cart. footfall-pos clears a
 * bought SKU from the cart in its own script, and may do so between this
 * read and this write. */
typedef struct cart_ent_s {
    ff_customer_read_t rd;
    ff_customer_t c;
} cart_ent_t;

static const char *const cart_skus[] = {"K1"};

static const char *cart_entity(void *proc, const ff_event_t *ev, ff_arena_t *a)
{
    (void)proc;
    return ff_arena_printf(a, "c:%s", ((const ff_shelf_reading_t *)ev->rec)->store_id);
}

static void cart_read(void *proc, ff_ent_t *e)
{
    cart_ent_t *ce = e->state;
    ff_customer_fields_t only = {.cart = cart_skus, .ncart = 1};
    (void)proc;
    ff_customer_read_fields(e, &ce->rd, FF_CUST_CART, 0, 0, &only);
}

static ff_ent_step_t cart_decide(void *proc, ff_ent_t *e, int round)
{
    toy_t *t = proc;
    cart_ent_t *ce = e->state;
    (void)round;
    t->decides++;
    ff_customer_init(&ce->c, e->tag + 2, e->arena);
    ff_customer_parse(e, &ce->rd, &ce->c);
    FF_ENT_FOREACH(e, ev)
        if (!ev->replay)
            ff_cust_cart(e, &ce->c, "K1", ((const ff_shelf_reading_t *)ev->rec)->quantity);
    meddle(t, "HDEL ff:{%s}:cart K1", e->tag); /* a purchase of K1 */
    return FF_ENT_DONE;
}

static const ff_engine_ops_t cart_ops = {.entity = cart_entity, .read = cart_read,
                                         .decide = cart_decide};

Test(engine, a_cart_cleared_by_a_purchase_meanwhile_is_not_written_back)
{
    ff_event_t evs[2];
    int64_t floors[2];
    char err[256];
    struct timeval tv = {1, 0};
    ff_engine_opts_t opts = {.prefix = "ff", .state_size = sizeof(cart_ent_t),
                             .outcome_ttl_ms = 86400000};
    ff_engine_t *carts = ff_engine_new(redis, codec, &cart_ops, &toy, &opts);

    /* K1 x 5 in the cart; the batch adds 1 + 2 while a purchase clears it. */
    freeReplyObject(ff_env_redis(&env, "HSET ff:{c:E}:cart K1 5"));
    batch(evs, floors, 0, 2, "E");
    toy.meddler = redisConnectWithTimeout("127.0.0.1", env.stack.redis_port, tv);
    cr_assert_eq(ff_engine_run(carts, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(toy.decides, 2, "the write over the cleared cart lost, and was decided again");
    cr_assert_eq(ff_engine_stats(carts)->conflicts, 1);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{c:E}:cart", "K1"), "3",
                     "the purchase cleared the 5; the batch's 1 + 2 came after");
    ff_engine_destroy(carts);
}

/* footfall-geofence through the engine, one batch at a time: a visit by a
 * customer the frequency caps already stop is not ranked, so the decision
 * is FREQUENCY_CAP even where ranking would have found nothing in stock;
 * unless a consent event comes before it in the batch, which may change
 * the guard's verdict: then it is ranked as any other. */
#define GEO_NOW 1795430400123LL /* 10:40 UTC: not in quiet hours */

static ff_geofence_event_t geo_recs[4];
static ff_consent_event_t geo_consents[2];

static void geo_event(ff_event_t *ev, int64_t *floor, int64_t first, int64_t offset,
                      const char *customer, const char *store, int64_t ts)
{
    ff_geofence_event_t *g = &geo_recs[offset % 4];
    memset(g, 0, sizeof(*g));
    g->event_id = "g";
    g->customer_id = customer;
    g->device_id = "d";
    g->store_id = store;
    g->ts = ts;
    g->transition = FF_GEO_ENTER;
    memset(ev, 0, sizeof(*ev));
    ev->input = 0;
    ev->topic = "geofence.events";
    ev->offset = offset;
    ev->ts = ts;
    ev->rec = g;
    ev->event_id = g->event_id;
    *floor = first;
}

static void consent_event(ff_event_t *ev, int64_t *floor, int64_t offset, const char *customer,
                          int status)
{
    ff_consent_event_t *c = &geo_consents[offset % 2];
    *c = (ff_consent_event_t){"c", customer, GEO_NOW - 40000, FF_CH_PUSH, status};
    memset(ev, 0, sizeof(*ev));
    ev->input = 1;
    ev->topic = "consent.events";
    ev->offset = offset;
    ev->ts = c->ts;
    ev->rec = c;
    ev->event_id = c->event_id;
    *floor = offset;
}

/* The reason of the decision about rule that ev produced, or -1. */
static int decision_reason(const ff_event_t *ev, const char *rule)
{
    for (const ff_output_t *o = ev->outputs; o; o = o->next) {
        ff_decision_t d;
        ff_dec_err_t err;
        if (strcmp(o->topic, "footfall.decisions"))
            continue;
        cr_assert_eq(ff_codec_decode(codec, FF_REC_DECISION, o->value, o->value_len, &arena, &d,
                                     &err, NULL),
                     0);
        if (!strcmp(d.rule, rule))
            return d.reason;
    }
    return -1;
}

static int nearby_reason(const ff_event_t *ev)
{
    int reason = decision_reason(ev, "NEARBY");
    cr_assert_neq(reason, -1, "offset %lld made no NEARBY decision", (long long)ev->offset);
    return reason;
}

static ff_engine_t *geo_engine(ff_conf_t **conf, void **geo)
{
    char err[256];
    *conf = ff_conf_new("geofence");
    cr_assert_eq(ff_conf_set(*conf, "holdout.percent", "0", "test", err, sizeof err), 0, "%s",
                 err);
    *geo = geofence_processor.create(*conf, err, sizeof err);
    cr_assert_not_null(*geo, "%s", err);
    ff_engine_opts_t opts = {.prefix = "ff", .state_size = geofence_processor.state_size,
                             .outcome_ttl_ms = 86400000};
    ff_clock_set_fixed(GEO_NOW);
    return ff_engine_new(redis, codec, geofence_processor.ops, *geo, &opts);
}

static void geo_engine_destroy(ff_engine_t *geos, ff_conf_t *conf, void *geo)
{
    ff_clock_set_wall();
    ff_engine_destroy(geos);
    geofence_processor.destroy(geo);
    ff_conf_destroy(conf);
}

Test(engine, a_visit_the_caps_already_stop_is_not_ranked_unless_consent_came_first)
{
    ff_event_t evs[2];
    int64_t floors[2];
    char err[256];
    int64_t day = ff_day_of_ms(GEO_NOW);
    ff_conf_t *conf;
    void *geo;
    ff_engine_t *geos = geo_engine(&conf, &geo);

    /* G and H viewed K1 twice today; S1 has 10, S2 none. */
    const char *who[] = {"G", "H"};
    for (size_t i = 0; i < 2; i++)
        freeReplyObject(ff_env_redis(&env, "HSET ff:{c:%s}:intent:%lld v:K1 2 k:K1 shoes", who[i],
                                     (long long)day));
    freeReplyObject(ff_env_redis(&env, "HSET ff:{s:S1}:stock K1 10"));

    /* Each is offered K1 at S1: today's one offer. */
    geo_event(&evs[0], &floors[0], 0, 0, "G", "S1", GEO_NOW - 60000);
    geo_event(&evs[1], &floors[1], 0, 1, "H", "S1", GEO_NOW - 60000);
    cr_assert_eq(ff_engine_run(geos, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(nearby_reason(&evs[0]), FF_REASON_ELIGIBLE);
    cr_assert_eq(nearby_reason(&evs[1]), FF_REASON_ELIGIBLE);

    /* G grants push consent again and enters S2: capped as read, so not
     * ranked (ranked, it would be NO_STOCK), since a grant cannot make the
     * consent check fail. One read round, then the write. */
    uint64_t rounds = ff_engine_stats(geos)->rounds;
    consent_event(&evs[0], &floors[0], 0, "G", FF_CONSENT_GRANTED);
    geo_event(&evs[1], &floors[1], 2, 2, "G", "S2", GEO_NOW - 30000);
    cr_assert_eq(ff_engine_run(geos, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(nearby_reason(&evs[1]), FF_REASON_FREQUENCY_CAP);
    cr_assert_eq(ff_engine_stats(geos)->rounds - rounds, 2,
                 "the customer read and the write: no intent, no stock read");

    /* H opts out, then enters S2 in the same batch: the consent event may
     * change the guard's verdict, so H is ranked, and S2 has nothing. */
    consent_event(&evs[0], &floors[0], 1, "H", FF_CONSENT_DENIED);
    geo_event(&evs[1], &floors[1], 3, 3, "H", "S2", GEO_NOW - 30000);
    cr_assert_eq(ff_engine_run(geos, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(nearby_reason(&evs[1]), FF_REASON_NO_STOCK);
    geo_engine_destroy(geos, conf, geo);
}

/* A heads-up is due when none was sent at the store within assist.interval
 * (4 h) either side of the visit. Visit times need not arrive in order: a
 * heads-up for a visit stamped 5 h ahead moves the last one out of the
 * window of a visit now, not due as read. */
Test(engine, a_heads_up_earlier_in_the_batch_can_make_a_later_one_due)
{
    ff_event_t evs[2];
    int64_t floors[2];
    char err[256];
    ff_conf_t *conf;
    void *geo;
    ff_engine_t *geos = geo_engine(&conf, &geo);

    freeReplyObject(ff_env_redis(&env, "HSET ff:{c:A}:cart K1 1"));
    freeReplyObject(ff_env_redis(&env, "HSET ff:{c:A}:visits h:S1 %lld",
                                 (long long)(GEO_NOW - 3 * 3600000LL)));
    geo_event(&evs[0], &floors[0], 0, 0, "A", "S1", GEO_NOW + 5 * 3600000LL);
    geo_event(&evs[1], &floors[1], 0, 1, "A", "S1", GEO_NOW);
    cr_assert_eq(ff_engine_run(geos, evs, 2, floors, &arena, err, sizeof err), 0, "%s", err);
    cr_assert_eq(decision_reason(&evs[0], "STORE_ASSIST"), FF_REASON_ELIGIBLE,
                 "8 h after the last heads-up");
    cr_assert_eq(decision_reason(&evs[1], "STORE_ASSIST"), FF_REASON_ELIGIBLE,
                 "5 h before the one just sent, 3 h after the one read: due");
    geo_engine_destroy(geos, conf, geo);
}

/* ---- commands sent early (ff_redis_send_early) --------------------------- */

static const char *reply_str(ff_rpipe_t *p, size_t c)
{
    redisReply *r = ff_rpipe_reply(p, c);
    cr_assert_not_null(r, "command %zu has a reply", c);
    return r->type == REDIS_REPLY_INTEGER ? ff_arena_printf(&arena, "%lld", r->integer)
           : r->str                      ? r->str
                                         : "(nil)";
}

Test(engine, commands_sent_early_are_answered_in_order_and_stray_replies_are_never_read)
{
    char err[256];
    ff_rpipe_t p, q;
    ff_redis_t *r = ff_redis_new(env.stack.redis_url, 0, 2000, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    int twice = ff_redis_script(r, "twice", "return 2 * redis.call('INCR', KEYS[1])");
    ff_rpipe_init(&p);
    ff_rpipe_init(&q);

    /* Two sent early, one with the exec: three replies, in order. */
    ff_rpipe_cmd(&p, "SET", "early", "1", NULL);
    ff_rpipe_cmd(&p, "INCR", "early", NULL);
    cr_assert_eq(ff_redis_send_early(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_rpipe_unsent(&p), 0);
    ff_rpipe_cmd(&p, "GET", "early", NULL);
    cr_assert_eq(ff_redis_exec(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(reply_str(&p, 0), "OK");
    cr_assert_str_eq(reply_str(&p, 1), "2");
    cr_assert_str_eq(reply_str(&p, 2), "2");

    /* A script sent early after Redis lost its scripts: NOSCRIPT, loaded
     * again and re-sent, once. */
    ff_rpipe_reset(&p);
    freeReplyObject(ff_env_redis(&env, "SCRIPT FLUSH"));
    ff_rpipe_begin_script(&p, r, twice);
    ff_rpipe_arg_str(&p, "1");
    ff_rpipe_arg_str(&p, "early");
    ff_rpipe_end(&p);
    cr_assert_eq(ff_redis_send_early(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_redis_exec(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(reply_str(&p, 0), "6", "2 * INCR(2), run once");

    /* A pipeline given up after an early send (a failed batch): its
     * commands ran, but their replies are not taken for another's. */
    ff_rpipe_reset(&p);
    ff_rpipe_cmd(&p, "INCR", "early", NULL);
    ff_rpipe_cmd(&p, "INCR", "early", NULL);
    cr_assert_eq(ff_redis_send_early(r, &p, err, sizeof err), 0, "%s", err);
    ff_rpipe_cmd(&q, "GET", "early", NULL);
    cr_assert_eq(ff_redis_exec(r, &q, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_rpipe_reply(&q, 0)->type, REDIS_REPLY_STRING,
                 "GET read its own reply, not an INCR's (%s)", reply_str(&q, 0));

    /* The same pipeline reset and filled again before its exec. */
    ff_rpipe_reset(&p);
    ff_rpipe_cmd(&p, "INCR", "early", NULL);
    cr_assert_eq(ff_redis_send_early(r, &p, err, sizeof err), 0, "%s", err);
    ff_rpipe_reset(&p);
    ff_rpipe_cmd(&p, "GET", "early", NULL);
    cr_assert_eq(ff_redis_send_early(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_redis_exec(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_rpipe_count(&p), 1);
    cr_assert_eq(ff_rpipe_reply(&p, 0)->type, REDIS_REPLY_STRING,
                 "GET read its own reply, not the INCR's (%s)", reply_str(&p, 0));

    /* The connection taken up again works as before. */
    ff_rpipe_reset(&q);
    ff_rpipe_cmd(&q, "SET", "early", "10", NULL);
    ff_rpipe_cmd(&q, "INCR", "early", NULL);
    cr_assert_eq(ff_redis_exec(r, &q, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(reply_str(&q, 1), "11");

    ff_rpipe_term(&p);
    ff_rpipe_term(&q);
    ff_redis_destroy(r);
}

/* Arguments copied from an earlier command, raw arguments and a whole
 * pipeline appended reach Redis as written: each command's reply. */
Test(engine, copied_raw_and_appended_arguments_reach_redis_as_built)
{
    char err[256], raw[64];
    size_t fields, appended, nraw = 0;
    ff_rpipe_t p, side;
    ff_redis_t *r = ff_redis_new(env.stack.redis_url, 0, 2000, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    ff_rpipe_init(&p);
    ff_rpipe_init(&side);

    /* HSET h f1 v1 f2 v2 f3 <empty>: the last two pairs raw. */
    nraw += ff_resp_bulk(raw + nraw, "f2", 2);
    nraw += ff_resp_bulk(raw + nraw, "v2", 2);
    nraw += ff_resp_bulk(raw + nraw, "f3", 2);
    nraw += ff_resp_bulk(raw + nraw, "", 0);
    cr_assert_eq(nraw, ff_resp_bulk_len(2) * 3 + ff_resp_bulk_len(0));
    ff_rpipe_begin(&p);
    ff_rpipe_arg_str(&p, "HSET");
    ff_rpipe_arg_str(&p, "h");
    ff_rpipe_arg_str(&p, "f1");
    ff_rpipe_arg_str(&p, "v1");
    ff_rpipe_raw(&p, raw, nraw, 4);
    ff_rpipe_end(&p);

    /* HMGET h f1 f2 f3 nope, then the same fields copied: all, then two. */
    ff_rpipe_begin(&p);
    ff_rpipe_arg_str(&p, "HMGET");
    ff_rpipe_arg_str(&p, "h");
    fields = ff_rpipe_nargs(&p);
    ff_rpipe_arg_str(&p, "f1");
    ff_rpipe_arg_str(&p, "f2");
    ff_rpipe_arg_str(&p, "f3");
    ff_rpipe_arg_str(&p, "nope");
    ff_rpipe_end(&p);
    ff_rpipe_begin(&p);
    ff_rpipe_arg_str(&p, "HMGET");
    ff_rpipe_arg_str(&p, "h");
    ff_rpipe_arg_copy(&p, fields + 1, 3);
    ff_rpipe_end(&p);

    /* Another pipeline's commands, one with a raw argument, appended. */
    ff_rpipe_cmd(&side, "SET", "s", "x", NULL);
    ff_rpipe_begin(&side);
    ff_rpipe_arg_str(&side, "APPEND");
    ff_rpipe_arg_str(&side, "s");
    ff_rpipe_raw(&side, "$3\r\nyz!\r\n", 9, 1);
    ff_rpipe_end(&side);
    appended = ff_rpipe_nargs(&p);
    ff_rpipe_append(&p, &side);
    ff_rpipe_begin(&p); /* GET and the key of the SET appended */
    ff_rpipe_arg_str(&p, "GET");
    ff_rpipe_arg_copy(&p, appended + 1, 1);
    ff_rpipe_end(&p);

    cr_assert_eq(ff_redis_exec(r, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ff_rpipe_count(&p), 6);
    cr_assert_eq(ff_rpipe_reply(&p, 0)->integer, 3, "three fields set");
    redisReply *all = ff_rpipe_reply(&p, 1), *copied = ff_rpipe_reply(&p, 2);
    cr_assert_eq(all->elements, 4);
    cr_assert_str_eq(all->element[0]->str, "v1");
    cr_assert_str_eq(all->element[1]->str, "v2");
    cr_assert_str_eq(all->element[2]->str, "");
    cr_assert_eq(all->element[3]->type, REDIS_REPLY_NIL);
    cr_assert_eq(copied->elements, 3);
    cr_assert_str_eq(copied->element[0]->str, "v2");
    cr_assert_str_eq(copied->element[1]->str, "");
    cr_assert_eq(copied->element[2]->type, REDIS_REPLY_NIL);
    cr_assert_str_eq(reply_str(&p, 3), "OK");
    cr_assert_eq(ff_rpipe_reply(&p, 4)->integer, 4, "APPEND made \"xyz!\"");
    cr_assert_str_eq(reply_str(&p, 5), "xyz!");

    ff_rpipe_term(&p);
    ff_rpipe_term(&side);
    ff_redis_destroy(r);
}

/* A processor that sets its key's TTL before writing it, and a longer one
 * for each record of the batch. */
static ff_ent_step_t ttl_decide(void *proc, ff_ent_t *e, int round)
{
    const char *key = ff_ent_key(e, "ttl");
    int i = 0;
    (void)proc;
    (void)round;
    FF_ENT_FOREACH(e, ev) {
        char field[16];
        snprintf(field, sizeof field, "f%d", i);
        ff_ent_pexpire(e, key, (int64_t)(i + 1) * 100000);
        ff_ent_hset(e, key, field, "1");
        i++;
    }
    return FF_ENT_DONE;
}

static void ttl_read(void *proc, ff_ent_t *e)
{
    (void)proc;
    (void)e;
}

static int64_t info_count(const char *section, const char *name)
{
    redisReply *r = ff_env_redis(&env, "INFO %s", section);
    const char *at = strstr(r->str, name);
    int64_t n = at ? atoll(at + strlen(name)) : -1;
    freeReplyObject(r);
    return n;
}

/* An engine for a processor of ops (no state of its own). */
static ff_engine_t *engine_of(const ff_engine_ops_t *ops)
{
    ff_engine_opts_t opts = {.prefix = "ff", .outcome_ttl_ms = 86400000};
    return ff_engine_new(redis, codec, ops, NULL, &opts);
}

/* Records [from, to) of store through eng as one batch, Redis's command
 * counts reset before. */
static void run_batch(ff_engine_t *eng, int from, int to, const char *store)
{
    ff_event_t evs[8];
    int64_t floors[8];
    char err[256];
    freeReplyObject(ff_env_redis(&env, "CONFIG RESETSTAT"));
    batch(evs, floors, from, to, store);
    cr_assert_eq(ff_engine_run(eng, evs, (size_t)(to - from), floors, &arena, err, sizeof err), 0,
                 "%s", err);
}

Test(engine, a_key_gets_the_last_ttl_of_its_batch_once_after_its_writes)
{
    static const ff_engine_ops_t ttl_ops = {.entity = toy_entity, .read = ttl_read,
                                             .decide = ttl_decide};
    ff_engine_t *eng = engine_of(&ttl_ops);

    /* One record: the TTL asked for before the key exists still holds. */
    run_batch(eng, 0, 1, "T");
    redisReply *ttl = ff_env_redis(&env, "PTTL ff:{s:T}:ttl");
    cr_assert(ttl->integer > 90000 && ttl->integer <= 100000, "PTTL %lld", ttl->integer);
    freeReplyObject(ttl);

    /* Three: the last TTL, one PEXPIRE for the key (and the script's own
     * for the outcomes). */
    run_batch(eng, 1, 4, "T");
    ttl = ff_env_redis(&env, "PTTL ff:{s:T}:ttl");
    cr_assert(ttl->integer > 290000 && ttl->integer <= 300000, "PTTL %lld", ttl->integer);
    freeReplyObject(ttl);
    cr_assert_eq(info_count("commandstats", "cmdstat_pexpire:calls="), 1);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:T}:ttl", "f2"), "1");
    ff_engine_destroy(eng);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A hash as its "field=value" pairs, sorted, space-separated ("" when the
 * key does not exist). */
static char *hash_text(const char *key)
{
    redisReply *r = ff_env_redis(&env, "HGETALL %s", key);
    char **pairs = ff_calloc(r->elements / 2 + 1, sizeof(char *));
    ff_buf_t out;
    size_t n = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        pairs[n++] = ff_asprintf("%s=%s", r->element[i]->str, r->element[i + 1]->str);
    qsort(pairs, n, sizeof(char *), by_text);
    ff_buf_init(&out);
    for (size_t i = 0; i < n; i++) {
        ff_buf_printf(&out, "%s%s", i ? " " : "", pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
    freeReplyObject(r);
    return ff_buf_detach(&out);
}

/* A processor whose records each write three keys with ops the engine
 * merges, and then writes that must stay apart. */
static ff_ent_step_t merge_decide(void *proc, ff_ent_t *e, int round)
{
    const char *sets = ff_ent_key(e, "sets"), *sums = ff_ent_key(e, "sums");
    const char *capped = ff_ent_key(e, "capped");
    int i = 0;
    (void)proc;
    (void)round;
    FF_ENT_FOREACH (e, ev) {
        char field[8], value[8];
        snprintf(field, sizeof field, "f%d", i);
        snprintf(value, sizeof value, "v%d", i);
        ff_ent_hset(e, sets, field, value);
        ff_ent_hincrby(e, sums, "spend", 10 * (i + 1));
        ff_ent_hincrby(e, sums, "n", 1);
        ff_ent_hincrby_cap(e, capped, "x", 1, 5);
        i++;
    }
    ff_ent_hset(e, sets, "f0", "last"); /* the same field again: the last value wins */
    ff_ent_hincrby_z(e, sums, "n", -3); /* n reaches 0: deleted... */
    ff_ent_hincrby(e, sums, "n", 2);    /* ...and written again, not merged before it */
    return FF_ENT_DONE;
}

Test(engine, writes_of_a_key_are_merged_into_fewer_ops_with_the_same_result)
{
    static const ff_engine_ops_t merge_ops = {
        .entity = toy_entity, .read = ttl_read, .decide = merge_decide};
    ff_engine_t *eng = engine_of(&merge_ops);

    run_batch(eng, 0, 3, "M");
    char *sets = hash_text("ff:{s:M}:sets"), *sums = hash_text("ff:{s:M}:sums");
    char *capped = hash_text("ff:{s:M}:capped");
    cr_assert_str_eq(sets, "f0=last f1=v1 f2=v2");
    cr_assert_str_eq(sums, "n=2 spend=60");
    cr_assert_str_eq(capped, "x=3");
    /* Unmerged: 3 HSETs of sets, 9 HINCRBYs, and the HINCRBYZ's. Merged:
     * one HSET of sets (and the applied offset's, and n's after its
     * delete), one HINCRBY each of spend, n and x, and the HINCRBYZ's. */
    cr_assert_eq(info_count("commandstats", "cmdstat_hset:calls="), 3);
    cr_assert_eq(info_count("commandstats", "cmdstat_hincrby:calls="), 4);
    free(sets);
    free(sums);
    free(capped);
    ff_engine_destroy(eng);
}

/* ff_apply.lua's ops, one sequence at a time, against the hash they leave:
 * deletes wait for the end of the script (see there), and every later op
 * must see the deleted field as absent. */
Test(engine, the_write_script_sees_a_deleted_field_as_absent_until_it_deletes_it)
{
    static const struct {
        const char *setup; /* HSET arguments for key "a", or NULL */
        const char *ops;   /* the ops part of ARGV: nops, then each op */
        const char *want;  /* key "a" after */
    } cases[] = {
        {"x 1", "2 HDEL 3 1 nosuch HDEL 3 1 x", ""},
        {"n 1", "2 HINCRBYZ 3 2 n -1 HINCRBYZ 3 2 n 1", "n=1"},
        {"n 1", "2 HINCRBYZ 3 2 n -1 HINCRBY 3 2 n 4", "n=4"},
        {"x 1 y 1", "2 HDEL 3 1 x HINCRBYCAP 3 3 z 1 2", "y=1 z=1"},
        {"x 1 y 1", "2 HINCRBYZ 3 2 x -1 HSETCAP 3 3 x 5 2", "x=5 y=1"},
        {"x 1 y 1", "3 HINCRBYZ 3 2 x -1 HSETCAP 3 3 z 1 2 HINCRBYCAP 3 3 x 1 2", "y=1 z=1"},
        {NULL, "4 HINCRBYCAP 3 3 x 1 2 HINCRBYCAP 3 3 y 1 2 HINCRBYCAP 3 3 z 1 2 "
               "HINCRBYCAP 3 3 x 1 2", "x=2 y=1"},
        {"p 3 q 9", "2 HPRUNE 3 1 5 HINCRBY 3 2 p 2", "p=2 q=9"},
        {"p 3 q 9", "2 HPRUNE 3 1 5 HPRUNE 3 1 5", "q=9"},
        {"x 1", "2 HDEL 3 1 x HSET 3 4 x 2 y 3", "x=2 y=3"},
        {"x 1", "2 HDEL 3 1 x PEXPIRE 3 1 60000", ""},
    };
    const char *keys[] = {"ff:{c:W}:applied", "ff:{c:W}:out", "ff:{c:W}:a"};
    ff_rpipe_t p;
    ff_rpipe_init(&p);
    for (size_t c = 0; c < FF_ARRAY_LEN(cases); c++) {
        /* No source, no guard; the ops; one outcome stored; its TTL. */
        char *args = ff_asprintf("0 0 %s 1 t:0:5 blob 60000", cases[c].ops), *save = NULL;
        const char *argv[64];
        size_t argc = 0;
        for (char *w = strtok_r(args, " ", &save); w && argc < 64; w = strtok_r(NULL, " ", &save))
            argv[argc++] = w;
        freeReplyObject(ff_env_redis(&env, "FLUSHDB"));
        if (cases[c].setup) { /* hiredis splits a format on spaces, not a %s */
            char cmd[128];
            snprintf(cmd, sizeof cmd, "HSET %s %s", keys[2], cases[c].setup);
            redisReply *r = ff_env_redis(&env, cmd);
            cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "case %zu: %s", c, cmd);
            freeReplyObject(r);
        }
        redisReply *r = ff_apply_script(redis, &p, keys, FF_ARRAY_LEN(keys), argv, argc);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 1, "case %zu: %s", c,
                  r->type == REDIS_REPLY_ERROR ? r->str : "not applied");
        char *got = hash_text(keys[2]), *out = hash_text(keys[1]);
        cr_assert_str_eq(got, cases[c].want, "case %zu (%s): %s", c, cases[c].ops, got);
        cr_assert_str_eq(out, "t:0:5=blob", "case %zu: the outcome stored", c);
        redisReply *ttl = ff_env_redis(&env, "PTTL %s", keys[1]);
        cr_assert(ttl->integer > 0 && ttl->integer <= 60000, "case %zu: the outcome expires", c);
        freeReplyObject(ttl);
        free(got);
        free(out);
        free(args);
    }
    ff_rpipe_term(&p);
}
