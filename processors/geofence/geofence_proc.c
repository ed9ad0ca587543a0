/* geofence_proc: footfall-geofence: store visits and consent in; NEARBY offers and staff heads-ups out.
 *
 * Per batch and customer: one round reads the customer but its intent (of
 * its visits, only the batch's stores). Visits that may earn an offer or a
 * heads-up need the week of intent and the purchases ranked (a second
 * round), then the store's stock of the candidates (a third, read-only, on
 * the store's slot); then every event is applied in order (consent,
 * visits, decisions) and written by one guarded script.
 *
 * A visit by a customer the frequency caps already stop is not ranked: a
 * regular who was offered something today comes back many times a day,
 * and their week of intent is the largest read there is. A week read is
 * kept in memory (ff_intent_cache) and used again, instead of read, while
 * the other processors' applied offsets say footfall-web wrote nothing
 * since. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_customer_io.h"
#include "ff_intent_cache.h"
#include "ff_log.h"
#include "ff_proc.h"
#include "ff_trigger.h"
#include "geofence_proc.h"
#include "geofence_rules.h"

#define MAX_CANDIDATES 32

typedef struct visit_s {
    struct visit_s *next;
    ff_event_t *ev;
    bool nearby;
    bool assist;
    bool capped;         /* nearby, but capped when read: not ranked */
    bool rank_interests; /* a heads-up possibly due and fresh: its interests ranked */
    size_t ncands, nskus, ninterests;
    size_t nsku_keys, ncat_keys;
    size_t sku_cmd, cat_cmd;
    /* From here on, arrays of which only the counts above are set (a visit
     * is 5 kB: zeroing it all was 1.5% of footfall-geofence's CPU). */
    ff_candidate_t cands[MAX_CANDIDATES];
    ff_candidate_t interests[MAX_CANDIDATES];
    /* Where each candidate's and interest's stock is among skus or cats. */
    size_t cand_at[MAX_CANDIDATES], interest_at[MAX_CANDIDATES];
    const char *skus[2 * MAX_CANDIDATES], *cats[2 * MAX_CANDIDATES];
} visit_t;

typedef struct geo_ent_s {
    ff_customer_read_t rd, intent_rd;
    ff_customer_t c;
    visit_t *visits, **tail;
    /* The week of intent: its days, the token it is cached under, when it
     * was asked for, and whether the cache had it. */
    int64_t day_from, day_to, asked;
    const char *token;
    bool intent_cached;
} geo_ent_t;

typedef struct geo_s {
    geo_rules_conf_t rules;
    ff_trigger_conf_t trig;
    const char *topic_assist;
    int64_t max_future;
    ff_intent_cache_t *cache; /* NULL: intent.cache.mb 0 */
} geo_t;

enum { INPUT_GEOFENCE = 0, INPUT_CONSENT = 1 };

static const char *geo_entity(void *proc, const ff_event_t *ev, ff_arena_t *arena)
{
    (void)proc;
    if (ev->input == INPUT_CONSENT)
        return ff_arena_concat(arena, "c:", ((const ff_consent_event_t *)ev->rec)->customer_id,
                               (const char *)NULL);
    return ff_arena_concat(arena, "c:", ((const ff_geofence_event_t *)ev->rec)->customer_id,
                           (const char *)NULL);
}

static void geo_read(void *proc, ff_ent_t *e)
{
    geo_ent_t *ge = e->state;
    ff_customer_fields_t only = {0};
    unsigned parts = FF_CUST_CART_SIZE | FF_CUST_VISITS | FF_CUST_CONSENT | FF_CUST_OFFERS |
                     FF_CUST_PROFILE;
    const char **visits;
    size_t nev = 0;
    (void)proc;
    /* Of the visits, only those of the stores in this batch: a regular's
     * hash holds every store they went to. The intent and the purchases
     * come later, for the visits that need them (plan_visits). */
    FF_ENT_FOREACH(e, ev)
        nev++;
    visits = ff_arena_alloc(e->arena, 3 * nev * sizeof(*visits) + 1);
    FF_ENT_FOREACH(e, ev) {
        const ff_geofence_event_t *g = ev->rec;
        if (ev->input != INPUT_GEOFENCE)
            continue;
        ff_customer_fields_add(e->arena, visits, &only.nvisits, 'n', g->store_id);
        ff_customer_fields_add(e->arena, visits, &only.nvisits, 't', g->store_id);
        ff_customer_fields_add(e->arena, visits, &only.nvisits, 'h', g->store_id);
    }
    only.visits = visits;
    ff_customer_read_fields(e, &ge->rd, parts, ff_clock_state_ms(), 0, &only);
}

/* Where the candidate's stock will be: its index among the visit's SKUs
 * to read, or its categories, added if new. */
static size_t add_key(visit_t *v, const ff_candidate_t *cand)
{
    const char **keys = cand->sku ? v->skus : v->cats;
    size_t *n = cand->sku ? &v->nsku_keys : &v->ncat_keys;
    const char *key = cand->sku ? cand->sku : cand->category;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(keys[i], key))
            return i;
    keys[*n] = key;
    return (*n)++;
}

/* The stock read for a candidate whose key is at index `at` (add_key). */
static int64_t stock_of(ff_ent_t *e, const visit_t *v, const ff_candidate_t *cand, size_t at)
{
    int64_t q = ff_stock_value(e, cand->sku ? v->sku_cmd : v->cat_cmd, at);
    return q > 0 ? q : 0;
}

/* Whether a visit among `visits` (the batch's so far) may send a heads-up
 * at store: only such a visit changes when the next one there is due (the
 * interval counts either side of the last heads-up's time, and visit times
 * need not arrive in order), so without one, a heads-up not due as read is
 * not due when applied. */
static bool heads_up_before(const visit_t *visits, const char *store)
{
    for (const visit_t *v = visits; v; v = v->next)
        if (v->assist && !strcmp(((const ff_geofence_event_t *)v->ev->rec)->store_id, store))
            return true;
    return false;
}

/* Round 0: what each visit may earn, and whether any needs the customer
 * ranked. An exit or a short dwell earns nothing; a heads-up that is not
 * due (heads_up_before), or would be stale, lists no interests. A visit the frequency caps
 * stop (as read) is not ranked: caps only grow as the batch is applied, so
 * it is still capped then, unless a denial or revocation before it in the
 * batch makes the guard say NO_CONSENT instead (those visits are ranked as
 * before, since a customer without intent gets no decision at all). */
static bool plan_visits(geo_t *geo, ff_ent_t *e, geo_ent_t *ge)
{
    int64_t now = ff_clock_now_ms();
    bool consent_before = false, rank = false;
    FF_ENT_FOREACH(e, ev) {
        const ff_geofence_event_t *g;
        visit_t *v;
        char detail[256];
        if (ev->input != INPUT_GEOFENCE) {
            /* A grant never turns the guard's consent check from yes to no. */
            const ff_consent_event_t *ce = ev->rec;
            if (ce->status != FF_CONSENT_GRANTED &&
                (ce->channel == FF_CH_PUSH || ce->channel == FF_CH_ALL))
                consent_before = true;
            continue;
        }
        if (ev->replay)
            continue;
        g = ev->rec;
        v = ff_arena_alloc(e->arena, sizeof(*v));
        memset(v, 0, offsetof(visit_t, cands));
        v->ev = ev;
        v->nearby = geo_nearby_applies(g, &geo->rules);
        v->capped = v->nearby && !consent_before &&
                    ff_guard_check(&geo->trig.guard, &ge->c, g->store_id, g->ts, now, detail,
                                   sizeof detail) == FF_REASON_FREQUENCY_CAP;
        v->assist = g->transition == FF_GEO_ENTER &&
                    (ge->c.spend >= geo->rules.assist_spend_min ||
                     ff_customer_cart_nonempty(&ge->c)) &&
                    (geo_assist_due(&ge->c, g, &geo->rules) ||
                     heads_up_before(ge->visits, g->store_id));
        v->rank_interests = v->assist && ff_guard_fresh(&geo->trig.guard, g->ts, now);
        if ((v->nearby && !v->capped) || v->rank_interests)
            rank = true;
        *ge->tail = v;
        ge->tail = &v->next;
    }
    return rank;
}

/* Round 1: with intent and purchases read, each visit's candidates and
 * interests, and a read of the store's stock of them. */
static void rank_visits(geo_t *geo, ff_ent_t *e, geo_ent_t *ge)
{
    ff_customer_parse(e, &ge->intent_rd, &ge->c);
    if (geo->cache && !ge->intent_cached)
        ff_intent_cache_put(geo->cache, &ge->c, ge->token, ge->day_from, ge->day_to, ge->asked);
    for (visit_t *v = ge->visits; v; v = v->next) {
        const ff_geofence_event_t *g = v->ev->rec;
        if (v->nearby && !v->capped)
            v->ncands = ff_intent_candidates(&ge->c, &geo->rules.intent, g->ts, v->cands,
                                             MAX_CANDIDATES, &v->nskus);
        if (v->rank_interests)
            v->ninterests = ff_intent_interests(&ge->c, &geo->rules.intent, g->ts,
                                                v->interests, (size_t)geo->rules.assist_top_n);
        for (size_t i = 0; i < v->ncands; i++)
            v->cand_at[i] = add_key(v, &v->cands[i]);
        for (size_t i = 0; i < v->ninterests; i++)
            v->interest_at[i] = add_key(v, &v->interests[i]);
        if (v->nsku_keys)
            v->sku_cmd = ff_stock_read(e, g->store_id, "stock", v->skus, v->nsku_keys);
        if (v->ncat_keys)
            v->cat_cmd = ff_stock_read(e, g->store_id, "catstock", v->cats, v->ncat_keys);
    }
}

static void nearby(geo_t *geo, ff_ent_t *e, geo_ent_t *ge, visit_t *v, int64_t now,
                   int64_t state_now)
{
    const ff_geofence_event_t *g = v->ev->rec;
    int64_t stock[MAX_CANDIDATES];
    const ff_candidate_t *pick;
    int i;

    if (v->capped) {
        /* Capped as read, so capped now (or stale): not ranked. */
        char detail[256];
        int reason = ff_offer_guard(e, v->ev, &ge->c, &geo->trig, "NEARBY", g->store_id, now,
                                    detail, sizeof detail);
        if (reason == FF_REASON_ELIGIBLE || reason == FF_REASON_HOLDOUT)
            ff_error("geofence.nearby", "%s at %s: capped when read but not when applied",
                     g->customer_id, g->store_id);
        return;
    }
    if (!v->nearby || v->ncands == 0)
        return; /* no intent: nothing to offer, nothing to suppress */
    for (size_t k = 0; k < v->ncands; k++)
        stock[k] = stock_of(e, v, &v->cands[k], v->cand_at[k]);
    i = geo_pick_offer(v->ncands, v->nskus, stock, geo->rules.stock_min);
    if (i < 0) {
        char detail[256];
        snprintf(detail, sizeof detail,
                 "nothing the customer wants has %lld on the shelves of %s (best: %s with %lld)",
                 (long long)geo->rules.stock_min, g->store_id,
                 v->cands[0].sku ? v->cands[0].sku : v->cands[0].category, (long long)stock[0]);
        ff_offer_no_stock(e, v->ev, &geo->trig, "NEARBY", g->customer_id, g->store_id, detail);
        return;
    }
    pick = &v->cands[i];
    ff_offer_t offer = {
        .trigger_id = ff_trigger_id(e->arena, v->ev, "NEARBY"),
        .kind = FF_OFFER_NEARBY,
        .customer_id = g->customer_id,
        .store_id = g->store_id,
        .sku = pick->sku,
        .category = pick->category,
        .in_stock_qty = stock[i],
    };
    long long days = (long long)(geo->rules.intent.window_ms / FF_DAY_MS);
    if (pick->sku && pick->adds)
        offer.reason = ff_arena_printf(e->arena,
                                       "viewed %s %lld time%s and put it in the cart in the last "
                                       "%lld days; %lld on the shelves here",
                                       pick->sku, (long long)pick->views,
                                       pick->views == 1 ? "" : "s", days, (long long)stock[i]);
    else if (pick->sku)
        offer.reason = ff_arena_printf(e->arena,
                                       "viewed %s %lld times in the last %lld days; %lld on the "
                                       "shelves here",
                                       pick->sku, (long long)pick->views, days,
                                       (long long)stock[i]);
    else
        offer.reason = ff_arena_printf(e->arena,
                                       "viewed %lld %s items in the last %lld days; %lld on the "
                                       "shelves here",
                                       (long long)pick->views, pick->category, days,
                                       (long long)stock[i]);
    ff_offer(e, v->ev, &ge->c, &geo->trig, &offer, now, state_now);
}

static void assist(geo_t *geo, ff_ent_t *e, geo_ent_t *ge, visit_t *v, int64_t now)
{
    const ff_geofence_event_t *g = v->ev->rec;
    ff_interest_t *interests;
    const char *trigger_id;

    /* v->assist: possibly due (plan_visits), so the interests are ranked. */
    if (!v->assist || !geo_assist_due(&ge->c, g, &geo->rules))
        return;
    if (!ff_guard_fresh(&geo->trig.guard, g->ts, now)) {
        char detail[128];
        snprintf(detail, sizeof detail, "visit is %lld s old", (long long)((now - g->ts) / 1000));
        ff_emit_decision(e, v->ev, &geo->trig, "STORE_ASSIST", FF_OUTCOME_SUPPRESSED,
                         FF_REASON_STALE_EVENT, detail, g->customer_id, g->store_id, NULL);
        return;
    }
    trigger_id = ff_trigger_id(e->arena, v->ev, "STORE_ASSIST");
    interests = ff_arena_alloc(e->arena, (v->ninterests ? v->ninterests : 1) * sizeof(*interests));
    for (size_t i = 0; i < v->ninterests; i++) {
        interests[i].sku = v->interests[i].sku;
        interests[i].category = v->interests[i].category;
        interests[i].score = v->interests[i].score;
        interests[i].in_stock_qty = stock_of(e, v, &v->interests[i], v->interest_at[i]);
    }
    ff_store_assist_t a = {
        .trigger_id = trigger_id,
        .customer_id = g->customer_id,
        .store_id = g->store_id,
        .ts = g->ts,
        .lifetime_spend_cents = ge->c.spend,
        .top_interests = interests,
        .top_interests_cnt = v->ninterests,
        .source_event_id = g->event_id,
        .replayed = geo->trig.replayed,
    };
    ff_ent_emit(e, v->ev, geo->topic_assist, g->store_id, FF_REC_STORE_ASSIST, &a,
                FF_LABEL_ASSIST);
    ff_emit_decision(e, v->ev, &geo->trig, "STORE_ASSIST", FF_OUTCOME_FIRED, FF_REASON_ELIGIBLE,
                     NULL, g->customer_id, g->store_id, trigger_id);
    ff_cust_assisted(e, &ge->c, g->store_id, g->ts);
}

/* Every fresh event in order: consent, visits, then what the visit earns. */
static void apply_events(geo_t *geo, ff_ent_t *e, geo_ent_t *ge)
{
    int64_t now = ff_clock_now_ms(), state_now = ff_clock_state_ms();
    visit_t *v = ge->visits;
    FF_ENT_FOREACH(e, ev) {
        if (ev->replay)
            continue;
        if (ev->input == INPUT_CONSENT) {
            const ff_consent_event_t *ce = ev->rec;
            ff_cust_consent(e, &ge->c, ce->channel, ce->status, ce->ts);
            continue;
        }
        const ff_geofence_event_t *g = ev->rec;
        if (g->transition == FF_GEO_ENTER)
            ff_cust_visit(e, &ge->c, &geo->trig.ttl, g->store_id, g->ts);
        nearby(geo, e, ge, v, now, state_now);
        assist(geo, e, ge, v, now);
        v = v->next;
    }
}

/* Partitions moved: the customers cached may be another instance's now. */
static void geo_forget(void *proc, ff_ent_t *e)
{
    geo_t *geo = proc;
    if (!e && geo->cache)
        ff_intent_cache_clear(geo->cache);
}

static ff_ent_step_t geo_decide(void *proc, ff_ent_t *e, int round)
{
    geo_t *geo = proc;
    geo_ent_t *ge = e->state;
    if (round == 0) {
        const ff_event_t *first = e->first;
        const char *customer = first->input == INPUT_CONSENT
                                   ? ((const ff_consent_event_t *)first->rec)->customer_id
                                   : ((const ff_geofence_event_t *)first->rec)->customer_id;
        ff_customer_init(&ge->c, customer, e->arena);
        ff_customer_parse(e, &ge->rd, &ge->c);
        ge->tail = &ge->visits;
        if (plan_visits(geo, e, ge)) {
            unsigned parts = FF_CUST_BOUGHT;
            ge->asked = ff_clock_state_ms();
            ge->token = ff_ent_applied_token(e);
            ff_customer_intent_days(e, ge->asked, geo->rules.intent.window_ms, &ge->day_from,
                                    &ge->day_to);
            if (geo->cache) {
                ge->intent_cached = ff_intent_cache_get(geo->cache, &ge->c, ge->token,
                                                        ge->day_from, ge->day_to, ge->asked);
                ff_ent_count_cached(e, ge->intent_cached);
            }
            if (!ge->intent_cached)
                parts |= FF_CUST_INTENT;
            ff_customer_read(e, &ge->intent_rd, parts, ge->asked, geo->rules.intent.window_ms);
            return FF_ENT_MORE;
        }
    } else if (round == 1) {
        size_t before = ff_rpipe_count(ff_ent_pipe(e));
        rank_visits(geo, e, ge);
        if (ff_rpipe_count(ff_ent_pipe(e)) > before)
            return FF_ENT_MORE;
    }
    apply_events(geo, e, ge);
    return FF_ENT_DONE;
}

static const char *geo_validate_input(void *proc, const void *rec, int64_t now, char *buf,
                                      size_t size)
{
    return geo_validate(rec, now, ((geo_t *)proc)->max_future, buf, size);
}

static const char *consent_validate_input(void *proc, const void *rec, int64_t now, char *buf,
                                          size_t size)
{
    return consent_validate(rec, now, ((geo_t *)proc)->max_future, buf, size);
}

static int64_t geo_event_time(const void *rec)
{
    return ((const ff_geofence_event_t *)rec)->ts;
}

static int64_t consent_event_time(const void *rec)
{
    return ((const ff_consent_event_t *)rec)->ts;
}

static void *geo_create(const ff_conf_t *conf, char *errstr, size_t errstr_size)
{
    geo_t *geo = ff_calloc(1, sizeof(*geo));
    geo->rules.intent.window_ms = ff_conf_int(conf, "intent.window");
    geo->rules.intent.sku_views = ff_conf_int(conf, "intent.sku.views");
    geo->rules.intent.cart_adds = ff_conf_int(conf, "intent.cart.adds");
    geo->rules.intent.category_views = ff_conf_int(conf, "intent.category.views");
    geo->rules.intent.cart_weight = ff_conf_int(conf, "intent.cart.weight");
    geo->rules.intent.purchase_window_ms = ff_conf_int(conf, "purchase.window");
    geo->rules.dwell_min_ms = ff_conf_int(conf, "nearby.dwell.min");
    geo->rules.stock_min = ff_conf_int(conf, "offer.stock.min");
    geo->rules.assist_spend_min = ff_conf_int(conf, "assist.spend.min");
    geo->rules.assist_top_n = (int)ff_conf_int(conf, "assist.top.n");
    geo->rules.assist_interval_ms = ff_conf_int(conf, "assist.interval");
    geo->topic_assist = ff_conf_str(conf, "topic.store_assist");
    geo->max_future = ff_conf_int(conf, "input.max_future");
    if (ff_conf_int(conf, "intent.cache.mb") > 0)
        geo->cache = ff_intent_cache_new((size_t)ff_conf_int(conf, "intent.cache.mb") << 20);
    if (ff_trigger_conf_init(&geo->trig, conf, "footfall-geofence", errstr, errstr_size) == -1) {
        ff_intent_cache_free(geo->cache);
        free(geo);
        return NULL;
    }
    return geo;
}

static void geo_destroy(void *proc)
{
    geo_t *geo = proc;
    ff_trigger_conf_term(&geo->trig);
    ff_intent_cache_free(geo->cache);
    free(geo);
}

static const ff_input_t geo_inputs[] = {
    [INPUT_GEOFENCE] = {"topic.geofence", FF_REC_GEOFENCE_EVENT, geo_validate_input,
                        geo_event_time},
    [INPUT_CONSENT] = {"topic.consent", FF_REC_CONSENT_EVENT, consent_validate_input,
                       consent_event_time},
};

static const ff_engine_ops_t geo_ops = {
    .entity = geo_entity,
    .read = geo_read,
    .decide = geo_decide,
    .forget = geo_forget,
};

static const char *const outputs[] = {"topic.drive_to_store", "topic.holdout", "topic.store_assist", "topic.decisions", NULL};

const ff_processor_t geofence_processor = {
    .name = "geofence",
    .procs = FF_P_GEOFENCE,
    .summary = "Store visits and consent in: visits and preferred store, consent per channel;\n"
               "NEARBY drive-to-store offers and STORE-ASSIST heads-ups out.",
    .inputs = geo_inputs,
    .ninputs = FF_ARRAY_LEN(geo_inputs),
    .outputs = outputs,
    .ops = &geo_ops,
    .state_size = sizeof(geo_ent_t),
    .owns_state = false,
    .applied_token = true,
    .create = geo_create,
    .destroy = geo_destroy,
};
