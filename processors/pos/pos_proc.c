/* pos_proc: footfall-pos: purchases in; conversions of outstanding offers out, intent and spend kept true.
 *
 * Per batch and customer: one round reads the customer's offers (with their
 * conversions), profile, and the cart and purchases of the SKUs bought; each
 * purchase converts what it matches (each offer at most once), records what
 * was bought (so it is not offered again), clears it from the cart and adds
 * to lifetime spend; one guarded script writes it all. Anonymous sales
 * change no customer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_customer_io.h"
#include "ff_proc.h"
#include "ff_trigger.h"
#include "pos_proc.h"
#include "pos_rules.h"

#define MAX_MATCHES 64

typedef struct pos_ent_s {
    ff_customer_read_t rd;
    ff_customer_t c;
} pos_ent_t;

typedef struct pos_s {
    pos_rules_conf_t rules;
    ff_customer_ttl_t ttl;
    const char *topic_conversion;
    bool replayed;
    int64_t max_future;
} pos_t;

static const char *pos_entity(void *proc, const ff_event_t *ev, ff_arena_t *arena)
{
    const ff_pos_transaction_t *tx = ev->rec;
    (void)proc;
    return tx->customer_id ? ff_arena_concat(arena, "c:", tx->customer_id, (const char *)NULL) : NULL;
}

static void pos_read(void *proc, ff_ent_t *e)
{
    pos_t *pos = proc;
    pos_ent_t *pe = e->state;
    ff_customer_fields_t only = {0};
    size_t nlines = 0;
    const char **skus;
    /* Of the cart, only what these purchases clear. */
    FF_ENT_FOREACH(e, ev)
        nlines += ((const ff_pos_transaction_t *)ev->rec)->lines_cnt;
    skus = ff_arena_alloc(e->arena, nlines * sizeof(*skus) + 1);
    FF_ENT_FOREACH(e, ev) {
        const ff_pos_transaction_t *tx = ev->rec;
        for (size_t i = 0; i < tx->lines_cnt; i++)
            ff_customer_fields_add(e->arena, skus, &only.ncart, 0, tx->lines[i].sku);
    }
    only.cart = skus;
    only.bought = skus; /* and of the purchases, only what these record */
    only.nbought = only.ncart;
    ff_customer_read_fields(e, &pe->rd,
                            FF_CUST_OFFERS | FF_CUST_CART | FF_CUST_BOUGHT | FF_CUST_PROFILE,
                            ff_clock_state_ms(), pos->ttl.intent_ms, &only);
}

static void purchase(pos_t *pos, ff_ent_t *e, pos_ent_t *pe, ff_event_t *ev, int64_t state_now)
{
    const ff_pos_transaction_t *tx = ev->rec;
    pos_match_t matches[MAX_MATCHES];
    size_t n = pos_conversions(&pe->c, tx, &pos->rules, matches, MAX_MATCHES);

    for (size_t i = 0; i < n; i++) {
        ff_offer_state_t *o = matches[i].offer;
        const char *rule = ff_arena_printf(e->arena, "CONVERSION:%s", o->trigger_id);
        ff_conversion_t conv = {
            .trigger_id = ff_trigger_id(e->arena, ev, rule),
            .offer_trigger_id = o->trigger_id,
            .customer_id = tx->customer_id,
            .store_id = tx->store_id,
            .transaction_id = tx->event_id,
            .treatment = o->control ? FF_CONTROL : FF_TREATMENT,
            .match = matches[i].match,
            .revenue_cents = matches[i].revenue_cents,
            .latency_seconds = (tx->ts - o->ts) / 1000,
            .ts = tx->ts,
            .replayed = pos->replayed,
        };
        ff_ent_emit(e, ev, pos->topic_conversion, tx->customer_id, FF_REC_OFFER_CONVERSION, &conv,
                    FF_LABEL_CONVERSION);
        ff_cust_converted(e, &pe->c, &pos->ttl, o, tx->event_id, tx->ts);
    }
    for (size_t i = 0; i < tx->lines_cnt; i++) {
        ff_cust_bought(e, &pe->c, &pos->ttl, tx->lines[i].sku, tx->ts, state_now);
        ff_cust_cart_clear(e, &pe->c, tx->lines[i].sku);
    }
    ff_cust_spend(e, &pe->c, tx->total_cents);
}

static ff_ent_step_t pos_decide(void *proc, ff_ent_t *e, int round)
{
    pos_t *pos = proc;
    pos_ent_t *pe = e->state;
    int64_t state_now = ff_clock_state_ms();
    (void)round;
    ff_customer_init(&pe->c, ((const ff_pos_transaction_t *)e->first->rec)->customer_id, e->arena);
    ff_customer_parse(e, &pe->rd, &pe->c);
    FF_ENT_FOREACH(e, ev)
        if (!ev->replay)
            purchase(pos, e, pe, ev, state_now);
    return FF_ENT_DONE;
}

static const char *pos_validate_input(void *proc, const void *rec, int64_t now, char *buf,
                                      size_t size)
{
    return pos_validate(rec, now, ((pos_t *)proc)->max_future, buf, size);
}

static int64_t pos_event_time(const void *rec)
{
    return ((const ff_pos_transaction_t *)rec)->ts;
}

static void *pos_create(const ff_conf_t *conf, char *errstr, size_t errstr_size)
{
    pos_t *pos = ff_calloc(1, sizeof(*pos));
    ff_trigger_conf_t trig;
    pos->rules.conversion_window_ms = ff_conf_int(conf, "conversion.window");
    if (ff_trigger_conf_init(&trig, conf, "footfall-pos", errstr, errstr_size) == -1) {
        free(pos);
        return NULL;
    }
    pos->ttl = trig.ttl;
    ff_trigger_conf_term(&trig);
    pos->topic_conversion = ff_conf_str(conf, "topic.conversion");
    pos->replayed = !strcmp(ff_conf_str(conf, "triggers"), "replayed");
    pos->max_future = ff_conf_int(conf, "input.max_future");
    return pos;
}

static void pos_destroy(void *proc)
{
    free(proc);
}

static const ff_input_t pos_inputs[] = {
    {"topic.pos", FF_REC_POS_TRANSACTION, pos_validate_input, pos_event_time},
};

static const ff_engine_ops_t pos_ops = {
    .entity = pos_entity,
    .read = pos_read,
    .decide = pos_decide,
};

static const char *const outputs[] = {"topic.conversion", "topic.decisions", NULL};

const ff_processor_t pos_processor = {
    .name = "pos",
    .procs = FF_P_POS,
    .summary = "Point-of-sale transactions in: purchases, carts and lifetime spend kept true;\n"
               "CONVERSION of outstanding offers (treatment and control) out.",
    .inputs = pos_inputs,
    .ninputs = FF_ARRAY_LEN(pos_inputs),
    .outputs = outputs,
    .ops = &pos_ops,
    .state_size = sizeof(pos_ent_t),
    .owns_state = false,
    .create = pos_create,
    .destroy = pos_destroy,
};
