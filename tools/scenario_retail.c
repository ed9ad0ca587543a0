/* scenario_retail: a retail day in fast motion: browsing history, store visits, offers, purchases, shelves.
 *
 * The story, for `stores` stores of `shelves` SKUs and `customers` customers:
 *  - before the live part: shelf readings, consent records (some customers opt
 *    out), browsing history of the last days (product views, cart adds), big
 *    purchases of a few valued customers, earlier visits of some others;
 *  - live (span_ms): customers walk into stores; some linger (DWELL), some
 *    try a second store, a few phones upload late; the last store is where
 *    it is night in the demo (quiet hours); some customers buy what they
 *    browsed a little later, more often when they were offered it (the
 *    generator knows the default holdout split, to make lift visible);
 *    others browse a category until it earns an INVITE; shelves empty and
 *    get restocked.
 * Live events carry the time they are sent at (start + at): run it in real
 * time (footfall gen --realtime, footfall demo) and they are fresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_guard.h"
#include "ff_util.h"
#include "scenario.h"

#define SECOND 1000LL
#define DAY 86400000LL

static const char *const categories[] = {"shoes", "jackets", "toys",    "games",
                                          "kitchen", "garden", "beauty", "books"};

typedef struct item_s {
    int64_t at;
    int64_t seq;
    ff_rec_t type;
    const char *key;
    ff_input_rec_t u;
} item_t;

typedef struct story_s {
    const ff_scenario_opts_t *o;
    ff_rng_t rng;
    ff_arena_t arena;
    item_t *items;
    size_t n, cap;
    int64_t seq;
} story_t;

static item_t *add(story_t *s, int64_t at, ff_rec_t type, const char *key)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->items = ff_realloc(s->items, s->cap * sizeof(item_t));
    }
    item_t *it = &s->items[s->n++];
    memset(it, 0, sizeof(*it));
    it->at = at < 0 ? 0 : at;
    it->seq = s->seq++;
    it->type = type;
    it->key = key;
    return it;
}

static const char *id(story_t *s, const char *prefix)
{
    return ff_arena_printf(&s->arena, "%s-%llu-%lld", prefix, (unsigned long long)s->o->seed,
                           (long long)s->seq);
}

static const char *sku_name(story_t *s, int sku)
{
    return ff_arena_printf(&s->arena, "SKU-%04d", sku + 1);
}

static const char *store_name(story_t *s, int store)
{
    return ff_arena_printf(&s->arena, "S%03d", store + 1);
}

static int64_t price(int sku)
{
    return 1999 + (sku * 700) % 8000;
}

static void web(story_t *s, int64_t at, int64_t ts, const char *cust, int type, int sku,
                const char *category)
{
    item_t *it = add(s, at, FF_REC_WEB_EVENT, cust);
    ff_web_event_t *w = &it->u.web;
    w->event_id = id(s, "web");
    w->customer_id = cust;
    w->session_id = ff_arena_printf(&s->arena, "sess-%s-%lld", cust, (long long)(ts / DAY));
    w->ts = ts;
    w->type = type;
    w->sku = sku >= 0 ? sku_name(s, sku) : NULL;
    w->category = category;
    if (sku >= 0) {
        w->price_cents.set = true;
        w->price_cents.v = price(sku);
    }
}

static void visit(story_t *s, int64_t at, int64_t ts, const char *cust, int store, int transition,
                  int dwell)
{
    item_t *it = add(s, at, FF_REC_GEOFENCE_EVENT, cust);
    ff_geofence_event_t *g = &it->u.geo;
    g->event_id = id(s, "geo");
    g->customer_id = cust;
    g->device_id = ff_arena_printf(&s->arena, "phone-%s", cust);
    g->ts = ts;
    g->store_id = store_name(s, store);
    g->transition = transition;
    if (dwell) {
        g->dwell_seconds.set = true;
        g->dwell_seconds.v = dwell;
    }
    g->accuracy_m.set = true;
    g->accuracy_m.v = 5 + (double)ff_rng_below(&s->rng, 30);
}

static void buy(story_t *s, int64_t at, int64_t ts, const char *cust, int store, int sku,
                int64_t cents)
{
    item_t *it = add(s, at, FF_REC_POS_TRANSACTION, cust ? cust : store_name(s, store));
    ff_pos_transaction_t *tx = &it->u.pos;
    ff_pos_line_t *line = ff_arena_alloc(&s->arena, sizeof(*line));
    line->sku = sku_name(s, sku);
    line->category = categories[(sku / 3) % FF_ARRAY_LEN(categories)];
    line->quantity = 1;
    line->unit_price_cents = cents;
    tx->event_id = id(s, "tx");
    tx->store_id = store_name(s, store);
    tx->customer_id = cust;
    tx->ts = ts;
    tx->lines = line;
    tx->lines_cnt = 1;
    tx->total_cents = cents;
}

static void shelves(story_t *s)
{
    const ff_scenario_opts_t *o = s->o;
    int n = o->stores * o->shelves;
    int *qty = ff_calloc((size_t)n, sizeof(int)), *cap = ff_calloc((size_t)n, sizeof(int));
    int64_t *restock = ff_calloc((size_t)n, sizeof(int64_t));
    for (int i = 0; i < n; i++) {
        int store = i / o->shelves, sku = i % o->shelves;
        cap[i] = 20 + (int)ff_rng_below(&s->rng, 21);
        qty[i] = cap[i] - (int)ff_rng_below(&s->rng, 4);
        /* Toys sell out at the second store; nearly so at the first. */
        if (categories[(sku / 3) % FF_ARRAY_LEN(categories)][0] == 't' && store == 1)
            qty[i] = 0;
        if (categories[(sku / 3) % FF_ARRAY_LEN(categories)][0] == 't' && store == 0)
            qty[i] = 1;
        restock[i] = -1;
    }
    /* A reading per shelf every 8 s of the live part; three at the start so
     * the debounce window is full from the beginning. */
    for (int64_t t = -3; t * 8 * SECOND < o->span_ms; t++) {
        int64_t at = t < 0 ? (t + 3) * 300 : 3 * SECOND + t * 8 * SECOND;
        for (int i = 0; i < n; i++) {
            int store = i / o->shelves, sku = i % o->shelves;
            if (t >= 0) {
                int picks = (int)ff_rng_below(&s->rng, sku % 5 == 0 ? 5 : 2);
                qty[i] = qty[i] > picks ? qty[i] - picks : 0;
                if (restock[i] < 0 && qty[i] * 100 <= cap[i] * 15 && ff_rng_chance(&s->rng, 0.5))
                    restock[i] = t + 2 + (int64_t)ff_rng_below(&s->rng, 3);
                if (restock[i] >= 0 && t >= restock[i]) {
                    qty[i] = cap[i];
                    restock[i] = -1;
                }
            }
            item_t *it = add(s, at, FF_REC_SHELF_READING, store_name(s, store));
            ff_shelf_reading_t *r = &it->u.shelf;
            r->event_id = id(s, "shelf");
            r->store_id = store_name(s, store);
            r->shelf_id = ff_arena_printf(&s->arena, "%c%d", 'A' + sku / 8, sku % 8 + 1);
            r->sku = sku_name(s, sku);
            r->category = categories[(sku / 3) % FF_ARRAY_LEN(categories)];
            r->ts = o->start_ms + at;
            r->quantity = qty[i];
            r->capacity = cap[i];
            r->sensor = FF_SENSOR_WEIGHT;
        }
    }
    free(qty);
    free(cap);
    free(restock);
}

static void customer(story_t *s, int c)
{
    const ff_scenario_opts_t *o = s->o;
    ff_guard_conf_t holdout = {.holdout_percent = 10, .holdout_salt = "footfall"};
    const char *cust = ff_arena_printf(&s->arena, "C%04d", c + 1);
    int nskus = o->shelves, home = (int)ff_rng_below(&s->rng, (uint64_t)o->stores - (o->stores > 1));
    int sku = (int)ff_rng_below(&s->rng, (uint64_t)nskus);
    const char *cat = categories[(sku / 3) % FF_ARRAY_LEN(categories)];
    uint64_t kind = ff_rng_below(&s->rng, 100);
    int64_t S = o->start_ms, live = o->span_ms - 30 * SECOND;
    int64_t t = 12 * SECOND + (int64_t)ff_rng_below(&s->rng, (uint64_t)(live > 0 ? live : 1));

    if (ff_rng_chance(&s->rng, 0.06)) {
        item_t *it = add(s, (int64_t)ff_rng_below(&s->rng, 3000), FF_REC_CONSENT_EVENT, cust);
        it->u.consent.event_id = id(s, "consent");
        it->u.consent.customer_id = cust;
        it->u.consent.ts = S - 10 * DAY;
        it->u.consent.channel = FF_CH_PUSH;
        it->u.consent.status = FF_CONSENT_DENIED;
    }
    if (kind < 10) {
        /* Visited a store last week; browses a category live: an INVITE. */
        visit(s, (int64_t)ff_rng_below(&s->rng, 3000), S - 5 * DAY, cust, home, FF_GEO_ENTER, 0);
        for (int k = 0; k < 3; k++)
            web(s, t + k * 4 * SECOND, S + t + k * 4 * SECOND, cust, FF_WEB_PAGE_VIEW, -1, cat);
        return;
    }
    if (kind < 18) {
        /* A valued customer: big purchases before; staff get a heads-up. */
        buy(s, (int64_t)ff_rng_below(&s->rng, 3000), S - 20 * DAY, cust, home, sku, 65000);
        web(s, (int64_t)ff_rng_below(&s->rng, 5000), S - DAY, cust, FF_WEB_PRODUCT_VIEW, sku, cat);
        visit(s, t, S + t, cust, home, FF_GEO_ENTER, 0);
        return;
    }
    /* Browsed the last days: views, sometimes a cart add. */
    int views = 1 + (int)ff_rng_below(&s->rng, 4);
    for (int k = 0; k < views; k++)
        web(s, (int64_t)ff_rng_below(&s->rng, 6000), S - (1 + k % 3) * DAY + k * 60 * SECOND, cust,
            FF_WEB_PRODUCT_VIEW, sku, cat);
    if (ff_rng_chance(&s->rng, 0.12))
        web(s, (int64_t)ff_rng_below(&s->rng, 6000), S - DAY + 30 * 60 * SECOND, cust,
            FF_WEB_ADD_TO_CART, sku, cat);
    if (!ff_rng_chance(&s->rng, 0.7))
        return;
    /* Walks into a store; the last store is where it is night. */
    int store = ff_rng_chance(&s->rng, 0.12) ? o->stores - 1 : home;
    int64_t ts = S + t;
    if (ff_rng_chance(&s->rng, 0.05))
        ts -= 15 * 60 * SECOND; /* the phone uploads a quarter of an hour late */
    visit(s, t, ts, cust, store, FF_GEO_ENTER, 0);
    if (ff_rng_chance(&s->rng, 0.25))
        visit(s, t + 5 * SECOND, ts + 150 * SECOND, cust, store, FF_GEO_DWELL, 150);
    if (ff_rng_chance(&s->rng, 0.1) && o->stores > 1)
        visit(s, t + 10 * SECOND, ts + 600 * SECOND, cust, (store + 1) % (o->stores - 1),
              FF_GEO_ENTER, 0);
    /* Buys it a little later, more often when offered it (simulated lift). */
    double p = ff_guard_in_holdout(&holdout, cust) ? 0.25 : 0.5;
    if (ff_rng_chance(&s->rng, p)) {
        int64_t later = t + (10 + (int64_t)ff_rng_below(&s->rng, 15)) * SECOND;
        buy(s, later, S + later, cust, store, sku, price(sku));
    }
}

static int cmp_items(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int64_t ff_scenario_retail_day(const ff_scenario_opts_t *o, ff_emit_fn emit, void *opaque)
{
    story_t s;
    int64_t emitted = 0;
    memset(&s, 0, sizeof s);
    s.o = o;
    ff_rng_seed(&s.rng, o->seed);
    ff_arena_init(&s.arena, 256 * 1024);
    shelves(&s);
    for (int c = 0; c < o->customers; c++)
        customer(&s, c);
    /* Passers-by who pay cash. */
    for (int k = 0; k < o->customers / 8; k++) {
        int64_t at = 10 * SECOND + (int64_t)ff_rng_below(&s.rng, (uint64_t)o->span_ms);
        int sku = (int)ff_rng_below(&s.rng, (uint64_t)o->shelves);
        buy(&s, at, o->start_ms + at, NULL, (int)ff_rng_below(&s.rng, (uint64_t)o->stores), sku,
            price(sku));
    }
    qsort(s.items, s.n, sizeof(item_t), cmp_items);
    for (size_t i = 0; i < s.n; i++) {
        emitted++;
        if (emit(opaque, s.items[i].type, s.items[i].key, &s.items[i].u, s.items[i].at) ||
            (o->count && emitted >= o->count))
            break;
    }
    free(s.items);
    ff_arena_term(&s.arena);
    return emitted;
}
