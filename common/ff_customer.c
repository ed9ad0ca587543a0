/* ff_customer: a customer's rolling state as plain data, and the pure questions rules ask of it. */
#include "ff_customer.h"

#include <stdlib.h>
#include <string.h>

void ff_customer_init(ff_customer_t *c, const char *id, ff_arena_t *arena)
{
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->arena = arena;
}

/* Grows an arena array by one element; returns the new element, zeroed. */
static void *grow(ff_arena_t *arena, void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        void *na = ff_arena_alloc(arena, ncap * size);
        if (*n)
            memcpy(na, *arr, *n * size);
        *arr = na;
        *cap = ncap;
    }
    void *e = (char *)*arr + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

void ff_customer_count(ff_customer_t *c, int64_t day, char kind, const char *key, int64_t n)
{
    for (size_t i = 0; i < c->ncounts; i++) {
        ff_count_t *k = &c->counts[i];
        if (k->day == day && k->kind == kind && !strcmp(k->key, key)) {
            k->n += n;
            return;
        }
    }
    ff_customer_count_append(c, day, kind, key, n);
}

void ff_customer_count_append(ff_customer_t *c, int64_t day, char kind, const char *key,
                              int64_t n)
{
    ff_count_t *k = grow(c->arena, (void **)&c->counts, &c->ncounts, &c->capcounts, sizeof(*k));
    k->day = day;
    k->kind = kind;
    k->key = ff_arena_strdup(c->arena, key);
    k->n = n;
}

void ff_customer_set_category(ff_customer_t *c, const char *sku, const char *category,
                              int64_t day)
{
    for (size_t i = 0; i < c->nskucats; i++) {
        ff_skucat_t *s = &c->skucats[i];
        if (!strcmp(s->sku, sku)) {
            if (day < s->day)
                return;
            if (strcmp(s->category, category))
                s->category = ff_arena_strdup(c->arena, category);
            s->day = day;
            return;
        }
    }
    ff_skucat_t *s =
        grow(c->arena, (void **)&c->skucats, &c->nskucats, &c->capskucats, sizeof(*s));
    s->sku = ff_arena_strdup(c->arena, sku);
    s->category = ff_arena_strdup(c->arena, category);
    s->day = day;
}

ff_tsval_t *ff_customer_tsval(ff_customer_t *c, ff_tsval_t **arr, size_t *n, size_t *cap,
                              const char *key, bool create)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*arr)[i].key, key))
            return &(*arr)[i];
    return create ? ff_customer_tsval_append(c, arr, n, cap, key) : NULL;
}

ff_tsval_t *ff_customer_tsval_append(ff_customer_t *c, ff_tsval_t **arr, size_t *n, size_t *cap,
                                     const char *key)
{
    ff_tsval_t *v = grow(c->arena, (void **)arr, n, cap, sizeof(*v));
    v->key = ff_arena_strdup(c->arena, key);
    return v;
}

ff_visit_t *ff_customer_visit(ff_customer_t *c, const char *store_id, bool create)
{
    for (size_t i = 0; i < c->nvisits; i++)
        if (!strcmp(c->visits[i].store_id, store_id))
            return &c->visits[i];
    if (!create)
        return NULL;
    ff_visit_t *v = grow(c->arena, (void **)&c->visits, &c->nvisits, &c->capvisits, sizeof(*v));
    v->store_id = ff_arena_strdup(c->arena, store_id);
    return v;
}

ff_offer_state_t *ff_customer_add_offer(ff_customer_t *c)
{
    return grow(c->arena, (void **)&c->offers, &c->noffers, &c->capoffers, sizeof(ff_offer_state_t));
}

void ff_intent_days(const ff_intent_conf_t *conf, int64_t ts, int64_t *first, int64_t *last)
{
    int64_t ndays = (conf->window_ms + FF_DAY_MS - 1) / FF_DAY_MS;
    *last = ff_day_of_ms(ts);
    *first = *last - (ndays > 0 ? ndays : 1) + 1;
}

int64_t ff_intent_count(const ff_customer_t *c, const ff_intent_conf_t *conf, char kind,
                        const char *key, int64_t ts)
{
    int64_t first, last, sum = 0;
    ff_intent_days(conf, ts, &first, &last);
    for (size_t i = 0; i < c->ncounts; i++) {
        const ff_count_t *k = &c->counts[i];
        if (k->kind == kind && k->day >= first && k->day <= last && !strcmp(k->key, key))
            sum += k->n;
    }
    return sum;
}

const ff_skucat_t *ff_customer_skucat(const ff_customer_t *c, const char *sku)
{
    for (size_t i = 0; i < c->nskucats; i++)
        if (!strcmp(c->skucats[i].sku, sku))
            return &c->skucats[i];
    return NULL;
}

const char *ff_customer_category_of(const ff_customer_t *c, const char *sku)
{
    const ff_skucat_t *s = ff_customer_skucat(c, sku);
    return s ? s->category : NULL;
}

bool ff_customer_bought_recently(const ff_customer_t *c, const ff_intent_conf_t *conf,
                                 const char *sku, int64_t ts)
{
    for (size_t i = 0; i < c->nbought; i++)
        if (!strcmp(c->bought[i].key, sku))
            return c->bought[i].ts > ts - conf->purchase_window_ms;
    return false;
}

static int cmp_candidates(const void *a, const void *b)
{
    const ff_candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->sku ? x->sku : x->category, y->sku ? y->sku : y->category);
}

/* Collects the distinct keys of counters of `kind` alive at ts into keys[]. */
static size_t distinct_keys(const ff_customer_t *c, const ff_intent_conf_t *conf, char kind,
                            int64_t ts, const char **keys, size_t max)
{
    int64_t first, last;
    size_t n = 0;
    ff_intent_days(conf, ts, &first, &last);
    for (size_t i = 0; i < c->ncounts && n < max; i++) {
        const ff_count_t *k = &c->counts[i];
        bool seen = false;
        if (k->kind != kind || k->day < first || k->day > last || k->n <= 0)
            continue;
        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcmp(keys[j], k->key);
        if (!seen)
            keys[n++] = k->key;
    }
    return n;
}

/* Scores of every SKU (or category) with counts at ts, into out[0..cap),
 * sorted best first; the caller keeps as many as it wants. */
static size_t sku_scores(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                         bool thresholds, bool with_bought, ff_candidate_t *out, size_t max)
{
    const char *keys[256];
    size_t nkeys = 0, n = 0;
    nkeys = distinct_keys(c, conf, 'v', ts, keys, FF_ARRAY_LEN(keys));
    /* SKUs only added to the cart count too. */
    const char *adds[256];
    size_t nadds = distinct_keys(c, conf, 'a', ts, adds, FF_ARRAY_LEN(adds));
    for (size_t i = 0; i < nadds && nkeys < FF_ARRAY_LEN(keys); i++) {
        bool seen = false;
        for (size_t j = 0; j < nkeys && !seen; j++)
            seen = !strcmp(keys[j], adds[i]);
        if (!seen)
            keys[nkeys++] = adds[i];
    }
    for (size_t i = 0; i < nkeys && n < max; i++) {
        ff_candidate_t cand;
        const char *cat = ff_customer_category_of(c, keys[i]);
        cand.sku = keys[i];
        cand.category = cat ? cat : "";
        cand.views = ff_intent_count(c, conf, 'v', keys[i], ts);
        cand.adds = ff_intent_count(c, conf, 'a', keys[i], ts);
        cand.score = (double)(cand.views + conf->cart_weight * cand.adds);
        if (thresholds && cand.views < conf->sku_views && cand.adds < conf->cart_adds)
            continue;
        if (!with_bought && ff_customer_bought_recently(c, conf, keys[i], ts))
            continue;
        out[n++] = cand;
    }
    qsort(out, n, sizeof(*out), cmp_candidates);
    return n;
}

static size_t category_scores(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                              bool thresholds, ff_candidate_t *out, size_t max)
{
    const char *keys[256];
    size_t nkeys = distinct_keys(c, conf, 'c', ts, keys, FF_ARRAY_LEN(keys)), n = 0;
    for (size_t i = 0; i < nkeys && n < max; i++) {
        ff_candidate_t cand = {NULL, keys[i], 0, 0, 0};
        cand.views = ff_intent_count(c, conf, 'c', keys[i], ts);
        cand.score = (double)cand.views;
        if (thresholds && cand.views < conf->category_views)
            continue;
        out[n++] = cand;
    }
    qsort(out, n, sizeof(*out), cmp_candidates);
    return n;
}

#define MAX_SCORED 256

size_t ff_intent_candidates(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                            ff_candidate_t *out, size_t max, size_t *nskus)
{
    ff_candidate_t skus[MAX_SCORED], cats[MAX_SCORED];
    /* Score everything, then keep the best: never the first few found. */
    size_t ns = sku_scores(c, conf, ts, true, false, skus, MAX_SCORED);
    size_t nc = category_scores(c, conf, ts, true, cats, MAX_SCORED);
    size_t n = FF_MIN(ns, max);
    memcpy(out, skus, n * sizeof(*out));
    *nskus = n;
    nc = FF_MIN(nc, max - n);
    memcpy(out + n, cats, nc * sizeof(*out));
    return n + nc;
}

static size_t scored(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                     bool with_bought, ff_candidate_t *out, size_t max)
{
    ff_candidate_t all[2 * MAX_SCORED];
    size_t n = sku_scores(c, conf, ts, false, with_bought, all, MAX_SCORED);
    n += category_scores(c, conf, ts, false, all + n, MAX_SCORED);
    qsort(all, n, sizeof(*all), cmp_candidates);
    n = FF_MIN(n, max);
    memcpy(out, all, n * sizeof(*out));
    return n;
}

size_t ff_intent_interests(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                           ff_candidate_t *out, size_t max)
{
    return scored(c, conf, ts, false, out, max);
}

size_t ff_intent_all(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                     ff_candidate_t *out, size_t max)
{
    return scored(c, conf, ts, true, out, max);
}

const char *ff_customer_preferred_store(const ff_customer_t *c, int64_t ts, int64_t window_ms)
{
    const ff_visit_t *best = NULL;
    for (size_t i = 0; i < c->nvisits; i++) {
        const ff_visit_t *v = &c->visits[i];
        if (v->count <= 0 || v->last_ts <= ts - window_ms)
            continue;
        if (!best || v->count > best->count ||
            (v->count == best->count && v->last_ts > best->last_ts))
            best = v;
    }
    return best ? best->store_id : NULL;
}

bool ff_customer_cart_nonempty(const ff_customer_t *c)
{
    for (size_t i = 0; i < c->ncart; i++)
        if (c->cart[i].n > 0)
            return true;
    return false;
}
