/* web_proc: footfall-web: clickstream into rolling intent, carts and online demand; INVITE offers.
 *
 * Per batch and customer: one round reads the customer (the intent counts and
 * cart SKUs its events need); events update intent in order, and when one
 * pushes a category over its threshold, a second round reads the customer's
 * visits (for the preferred store), consent and offers (most customers never
 * cross one, and a regular's visits hold hundreds of fields) and a third the
 * preferred store's stock of the category; the INVITE decisions are made in
 * order and everything is written by one guarded script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_customer_io.h"
#include "ff_log.h"
#include "ff_proc.h"
#include "ff_trigger.h"
#include "web_proc.h"
#include "web_rules.h"

typedef struct crossing_s {
    struct crossing_s *next;
    ff_event_t *ev;
    const char *category;
    const char *store;
    int64_t views;
    size_t stock_cmd;
} crossing_t;

typedef struct web_ent_s {
    ff_customer_read_t rd, visits_rd;
    ff_customer_t c;
    crossing_t *crossings, **tail;
} web_ent_t;

typedef struct web_s {
    web_rules_conf_t rules;
    ff_trigger_conf_t trig;
    int64_t max_future;
} web_t;

static const char *web_entity(void *proc, const ff_event_t *ev, ff_arena_t *arena)
{
    const ff_web_event_t *w = ev->rec;
    (void)proc;
    return ff_arena_concat(arena, "c:", w->customer_id, (const char *)NULL);
}

static void web_read(void *proc, ff_ent_t *e)
{
    web_t *web = proc;
    web_ent_t *we = e->state;
    size_t nev = 0;
    const char **fields, **skus;
    ff_customer_fields_t only = {0};
    /* Of the intent buckets, only what the decisions count: the categories
     * these events view (INVITE counts them before and after each view);
     * of the cart, the SKUs these events add or remove (the write is
     * guarded by the quantity read). A customer may have browsed thousands
     * of SKUs; reading them all for every batch would cost more than the
     * batch. Product views need no cart, and searches nothing of either. */
    FF_ENT_FOREACH(e, ev)
        nev++;
    fields = ff_arena_alloc(e->arena, nev * sizeof(*fields) + 1);
    skus = ff_arena_alloc(e->arena, nev * sizeof(*skus) + 1);
    FF_ENT_FOREACH(e, ev) {
        const ff_web_event_t *w = ev->rec;
        web_effect_t fx = web_effect(w);
        if (fx.category_view)
            ff_customer_fields_add(e->arena, fields, &only.nintent, 'c', w->category);
        if (fx.cart_delta)
            ff_customer_fields_add(e->arena, skus, &only.ncart, 0, w->sku);
    }
    only.intent = fields;
    only.cart = skus;
    ff_customer_read_fields(e, &we->rd, FF_CUST_INTENT | FF_CUST_CART, ff_clock_state_ms(),
                            web->rules.intent.window_ms, &only);
}

/* Round 0: every fresh event updates intent, cart and demand, in order. */
static void apply_events(web_t *web, ff_ent_t *e, web_ent_t *we)
{
    int64_t state_now = ff_clock_state_ms();
    const ff_customer_ttl_t *ttl = &web->trig.ttl;
    FF_ENT_FOREACH(e, ev) {
        const ff_web_event_t *w = ev->rec;
        web_effect_t fx;
        int64_t day = ff_day_of_ms(w->ts), before = 0, after = 0;
        if (ev->replay)
            continue;
        /* Older than the window: it would count nowhere. */
        if (w->ts <= state_now - web->rules.intent.window_ms)
            continue;
        fx = web_effect(w);
        if (fx.category_view)
            before = ff_intent_count(&we->c, &web->rules.intent, 'c', w->category, w->ts);
        if (fx.sku_view)
            ff_cust_count(e, &we->c, ttl, day, 'v', w->sku, w->category, 1, state_now);
        if (fx.sku_add)
            ff_cust_count(e, &we->c, ttl, day, 'a', w->sku, w->category, 1, state_now);
        if (fx.category_view)
            ff_cust_count(e, &we->c, ttl, day, 'c', w->category, NULL, 1, state_now);
        if (fx.cart_delta)
            ff_cust_cart(e, &we->c, w->sku, fx.cart_delta);
        if (fx.demand)
            ff_cust_demand(e, ttl, w->sku, day, w->customer_id, state_now);
        if (!fx.category_view)
            continue;
        after = ff_intent_count(&we->c, &web->rules.intent, 'c', w->category, w->ts);
        if (!web_category_crossed(before, after, &web->rules))
            continue;
        crossing_t *x = ff_arena_alloc(e->arena, sizeof(*x));
        memset(x, 0, sizeof(*x));
        x->ev = ev;
        x->category = w->category;
        x->views = after;
        *we->tail = x;
        we->tail = &x->next;
    }
}

/* Round 1: with the visits read, each crossing's preferred store, and a
 * read of its stock of the category. Crossings without one are dropped.
 * Returns whether any stock is read. */
static bool preferred_stores(web_t *web, ff_ent_t *e, web_ent_t *we)
{
    crossing_t **link = &we->crossings;
    bool reads = false;
    ff_customer_parse(e, &we->visits_rd, &we->c);
    while (*link) {
        crossing_t *x = *link;
        const ff_web_event_t *w = x->ev->rec;
        x->store = ff_customer_preferred_store(&we->c, w->ts, web->rules.visit_window_ms);
        if (!x->store) {
            ff_debug("web.invite", "%s: category intent for %s but no preferred store",
                     w->customer_id, w->category);
            *link = x->next;
            continue;
        }
        x->stock_cmd = ff_stock_read(e, x->store, "catstock", &x->category, 1);
        reads = true;
        link = &x->next;
    }
    return reads;
}

/* Round 2: the INVITE decisions, in order, with the stock known. */
static void invite(web_t *web, ff_ent_t *e, web_ent_t *we)
{
    int64_t now = ff_clock_now_ms(), state_now = ff_clock_state_ms();
    for (crossing_t *x = we->crossings; x; x = x->next) {
        const ff_web_event_t *w = x->ev->rec;
        int64_t stock = ff_stock_value(e, x->stock_cmd, 0);
        const char *store;
        char detail[256];
        const char *trigger_id = ff_trigger_id(e->arena, x->ev, "INVITE");

        switch (web_invite_check(&we->c, w->ts, stock, &web->rules, &store)) {
        case WEB_INVITE_NO_STORE:
            continue;
        case WEB_INVITE_TOO_SOON:
            snprintf(detail, sizeof detail, "already invited within %lld days",
                     (long long)(web->rules.invite_interval_ms / FF_DAY_MS));
            ff_emit_decision(e, x->ev, &web->trig, "INVITE", FF_OUTCOME_SUPPRESSED,
                             FF_REASON_FREQUENCY_CAP, detail, w->customer_id, store, NULL);
            continue;
        case WEB_INVITE_NO_STOCK:
            snprintf(detail, sizeof detail, "%s has %lld %s items (needs %lld)", store,
                     (long long)stock, x->category, (long long)web->rules.stock_min);
            ff_offer_no_stock(e, x->ev, &web->trig, "INVITE", w->customer_id, store, detail);
            continue;
        case WEB_INVITE_OK:
            break;
        }
        ff_offer_t offer = {
            .trigger_id = trigger_id,
            .kind = FF_OFFER_INVITE,
            .customer_id = w->customer_id,
            .store_id = store,
            .sku = NULL,
            .category = x->category,
            .reason = ff_arena_printf(e->arena,
                                      "viewed %lld %s pages in the last %lld days; %s, the "
                                      "store they visit most, has %lld in stock",
                                      (long long)x->views, x->category,
                                      (long long)(web->rules.intent.window_ms / FF_DAY_MS), store,
                                      (long long)stock),
            .in_stock_qty = stock,
        };
        int reason = ff_offer(e, x->ev, &we->c, &web->trig, &offer, now, state_now);
        if (reason == FF_REASON_ELIGIBLE || reason == FF_REASON_HOLDOUT)
            ff_cust_invited(e, &we->c, w->ts);
    }
}

static ff_ent_step_t web_decide(void *proc, ff_ent_t *e, int round)
{
    web_t *web = proc;
    web_ent_t *we = e->state;
    if (round == 0) {
        const ff_web_event_t *first = e->first->rec;
        ff_customer_init(&we->c, first->customer_id, e->arena);
        ff_customer_parse(e, &we->rd, &we->c);
        we->tail = &we->crossings;
        apply_events(web, e, we);
        if (!we->crossings)
            return FF_ENT_DONE;
        /* Only a crossing needs what an offer does. */
        ff_customer_read(e, &we->visits_rd, FF_CUST_VISITS | FF_CUST_CONSENT | FF_CUST_OFFERS, 0,
                         0);
        return FF_ENT_MORE;
    }
    if (round == 1 && preferred_stores(web, e, we))
        return FF_ENT_MORE;
    invite(web, e, we);
    return FF_ENT_DONE;
}

static const char *web_validate_input(void *proc, const void *rec, int64_t now, char *buf,
                                      size_t size)
{
    return web_validate(rec, now, ((web_t *)proc)->max_future, buf, size);
}

static int64_t web_event_time(const void *rec)
{
    return ((const ff_web_event_t *)rec)->ts;
}

static void *web_create(const ff_conf_t *conf, char *errstr, size_t errstr_size)
{
    web_t *web = ff_calloc(1, sizeof(*web));
    web->rules.intent.window_ms = ff_conf_int(conf, "intent.window");
    web->rules.intent.sku_views = ff_conf_int(conf, "intent.sku.views");
    web->rules.intent.cart_adds = ff_conf_int(conf, "intent.cart.adds");
    web->rules.intent.category_views = ff_conf_int(conf, "intent.category.views");
    web->rules.intent.cart_weight = ff_conf_int(conf, "intent.cart.weight");
    web->rules.intent.purchase_window_ms = ff_conf_int(conf, "purchase.window");
    web->rules.invite_interval_ms = ff_conf_int(conf, "invite.interval");
    web->rules.visit_window_ms = ff_conf_int(conf, "visit.window");
    web->rules.stock_min = ff_conf_int(conf, "offer.stock.min");
    web->max_future = ff_conf_int(conf, "input.max_future");
    if (ff_trigger_conf_init(&web->trig, conf, "footfall-web", errstr, errstr_size) == -1) {
        free(web);
        return NULL;
    }
    return web;
}

static void web_destroy(void *proc)
{
    web_t *web = proc;
    ff_trigger_conf_term(&web->trig);
    free(web);
}

static const ff_input_t web_inputs[] = {
    {"topic.web", FF_REC_WEB_EVENT, web_validate_input, web_event_time},
};

static const ff_engine_ops_t web_ops = {
    .entity = web_entity,
    .read = web_read,
    .decide = web_decide,
};

static const char *const outputs[] = {"topic.drive_to_store", "topic.holdout", "topic.decisions", NULL};

const ff_processor_t web_processor = {
    .name = "web",
    .procs = FF_P_WEB,
    .summary = "Web clickstream in: rolling intent per customer, carts, online demand per SKU;\n"
               "INVITE drive-to-store offers when category intent crosses its threshold.",
    .inputs = web_inputs,
    .ninputs = FF_ARRAY_LEN(web_inputs),
    .outputs = outputs,
    .ops = &web_ops,
    .state_size = sizeof(web_ent_t),
    .owns_state = false,
    .create = web_create,
    .destroy = web_destroy,
};
