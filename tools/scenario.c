/* scenario: deterministic synthetic retail events (shelves through a store day, customer journeys). */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

void ff_rng_seed(ff_rng_t *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t ff_rng_next(ff_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ff_rng_below(ff_rng_t *r, uint64_t n)
{
    return n ? ff_rng_next(r) % n : 0;
}

int ff_rng_chance(ff_rng_t *r, double p)
{
    return (double)(ff_rng_next(r) >> 11) / (double)(1ULL << 53) < p;
}

static const char *const categories[] = {"shoes", "jackets", "toys",    "games",
                                          "kitchen", "garden", "beauty", "books"};

/* ---- shelf-day ------------------------------------------------------------------ */

typedef struct shelf_sim_s {
    char store[16];
    char shelf[16];
    char sku[16];
    const char *category;
    int capacity;
    int qty;
    int64_t restock_at; /* -1: none planned */
    double pick_rate;   /* expected items taken per tick */
    int64_t last_misread; /* tick of the last misread */
} shelf_sim_t;

/* A store day: shelves empty as shoppers pick items, staff restock some
 * while later, sensors read every tick and sometimes misread once. */
static int64_t shelf_day(const ff_scenario_opts_t *o, ff_emit_fn emit, void *opaque)
{
    ff_rng_t rng;
    int n = o->stores * o->shelves;
    shelf_sim_t *sims = ff_calloc((size_t)(n ? n : 1), sizeof(*sims));
    int64_t emitted = 0, ticks = 12 * 3600000LL / (o->step_ms ? o->step_ms : 1);
    char event_id[64];
    ff_rng_seed(&rng, o->seed);

    for (int i = 0; i < n; i++) {
        shelf_sim_t *s = &sims[i];
        snprintf(s->store, sizeof s->store, "S%03d", i / o->shelves + 1);
        snprintf(s->shelf, sizeof s->shelf, "%c%d", 'A' + (i % o->shelves) / 8,
                 (i % o->shelves) % 8 + 1);
        snprintf(s->sku, sizeof s->sku, "SKU-%04d", i % (o->shelves * 2) + 1);
        s->category = categories[(i % o->shelves) % FF_ARRAY_LEN(categories)];
        s->capacity = 20 + (int)ff_rng_below(&rng, 41);
        s->qty = s->capacity - (int)ff_rng_below(&rng, 5);
        s->restock_at = -1;
        s->pick_rate = 0.2 + (double)ff_rng_below(&rng, 100) / 100.0 * 1.6;
        s->last_misread = -100;
    }
    for (int64_t t = 0; t < ticks; t++) {
        int64_t now = o->start_ms + t * o->step_ms;
        for (int i = 0; i < n; i++) {
            shelf_sim_t *s = &sims[i];
            ff_shelf_reading_t r;
            int reading;
            /* Shoppers pick: a few items per tick, more on popular shelves. */
            int picks = 0;
            for (double left = s->pick_rate; left > 0; left -= 1.0)
                picks += ff_rng_chance(&rng, left < 1.0 ? left : 1.0);
            s->qty = s->qty > picks ? s->qty - picks : 0;
            /* Staff notice a low shelf and restock it 20 to 80 minutes later. */
            if (s->restock_at < 0 && s->qty * 100 <= s->capacity * 15)
                s->restock_at = now + (20 + (int64_t)ff_rng_below(&rng, 61)) * 60000;
            if (s->restock_at >= 0 && now >= s->restock_at) {
                s->qty = s->capacity - (int)ff_rng_below(&rng, 3);
                s->restock_at = -1;
            }
            reading = s->qty;
            /* A sensor misreads now and then, one reading at a time (never
             * twice within a debounce window): the median of three hides it. */
            if (ff_rng_chance(&rng, 0.02) && t - s->last_misread > 3) {
                reading = ff_rng_chance(&rng, 0.5) ? 0 : s->capacity;
                s->last_misread = t;
            }
            snprintf(event_id, sizeof event_id, "shelf-%llu-%lld-%d",
                     (unsigned long long)o->seed, (long long)t, i);
            memset(&r, 0, sizeof r);
            r.event_id = event_id;
            r.store_id = s->store;
            r.shelf_id = s->shelf;
            r.sku = s->sku;
            r.category = s->category;
            r.ts = now + (int64_t)ff_rng_below(&rng, 1000);
            r.quantity = reading;
            r.capacity = s->capacity;
            r.sensor = (int)(i % 3);
            r.confidence.set = true;
            r.confidence.v = 0.8 + (double)ff_rng_below(&rng, 20) / 100.0;
            emitted++;
            if (emit(opaque, FF_REC_SHELF_READING, r.store_id, &r, now - o->start_ms) ||
                (o->count && emitted >= o->count))
                goto done;
        }
    }
done:
    free(sims);
    return emitted;
}

/* ---- registry --------------------------------------------------------------------- */

typedef struct scenario_s {
    const char *name;
    const char *about;
    int64_t (*run)(const ff_scenario_opts_t *o, ff_emit_fn emit, void *opaque);
    int stores, shelves, customers;
    int64_t step_ms;
    int64_t span_ms; /* event time the scenario covers, to end it at "now" */
} scenario_t;

static const scenario_t scenarios[] = {
    {"shelf-day", "smart shelves through a 12-hour store day: depletion, restocking, misreads",
     shelf_day, 3, 8, 0, 5 * 60000LL, 12 * 3600000LL},
    {"retail-day", "shoppers browse online, walk into stores, get offers (or not), buy; "
                   "shelves deplete", ff_scenario_retail_day, 3, 24, 200, 0, 90000LL},
};

const char *const ff_scenario_names[] = {"shelf-day", "retail-day", NULL};

static const scenario_t *find(const char *name)
{
    for (size_t i = 0; i < FF_ARRAY_LEN(scenarios); i++)
        if (!strcmp(scenarios[i].name, name))
            return &scenarios[i];
    return NULL;
}

const char *ff_scenario_describe(const char *name)
{
    const scenario_t *s = find(name);
    return s ? s->about : NULL;
}

void ff_scenario_defaults(const char *name, ff_scenario_opts_t *opts, int64_t now_ms)
{
    const scenario_t *s = find(name);
    memset(opts, 0, sizeof(*opts));
    opts->seed = 1;
    if (!s)
        return;
    opts->stores = s->stores;
    opts->shelves = s->shelves;
    opts->customers = s->customers;
    opts->step_ms = s->step_ms;
    opts->span_ms = s->span_ms;
    /* A store day ends now; a retail day's live part starts now. */
    opts->start_ms = s->step_ms ? now_ms - s->span_ms : now_ms;
}

int64_t ff_scenario_run(const char *name, const ff_scenario_opts_t *opts, ff_emit_fn emit,
                        void *opaque)
{
    const scenario_t *s = find(name);
    if (!s)
        return -1;
    return s->run(opts, emit, opaque);
}
