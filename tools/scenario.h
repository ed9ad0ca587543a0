/* scenario: deterministic synthetic retail events (shelves through a store day, customer journeys). */
#ifndef FF_SCENARIO_H
#define FF_SCENARIO_H

#include <stdint.h>

#include "ff_records.h"

/* A small, fast, seedable generator (splitmix64): the same seed gives the
 * same events on every machine. */
typedef struct ff_rng_s {
    uint64_t s;
} ff_rng_t;

void ff_rng_seed(ff_rng_t *r, uint64_t seed);
uint64_t ff_rng_next(ff_rng_t *r);
/* Uniform in [0, n). */
uint64_t ff_rng_below(ff_rng_t *r, uint64_t n);
/* True with probability p (0..1). */
int ff_rng_chance(ff_rng_t *r, double p);

typedef struct ff_scenario_opts_s {
    uint64_t seed;
    int stores;          /* S001… */
    int shelves;         /* per store */
    int customers;
    int64_t start_ms;    /* event time the scenario starts at */
    int64_t step_ms;     /* event time between two ticks */
    int64_t span_ms;     /* retail-day: how long the live part lasts */
    int64_t count;       /* stop after this many records (0: when the scenario ends) */
} ff_scenario_opts_t;

/* Receives each record: its type, its Kafka key, the record, and `at`, the
 * time after the scenario's start at which a real-time run sends it.
 * Records come in `at` order. Return non-zero to stop the scenario. */
typedef int (*ff_emit_fn)(void *opaque, ff_rec_t type, const char *key, const void *rec,
                          int64_t at);

/* Names of the scenarios, NULL-terminated. */
extern const char *const ff_scenario_names[];
/* One line about a scenario, or NULL if there is no such scenario. */
const char *ff_scenario_describe(const char *name);
/* Sensible options for a scenario (seed 1, event times ending now). */
void ff_scenario_defaults(const char *name, ff_scenario_opts_t *opts, int64_t now_ms);
/* The retail-day scenario (scenario_retail.c). */
int64_t ff_scenario_retail_day(const ff_scenario_opts_t *o, ff_emit_fn emit, void *opaque);

/* Runs scenario `name`. Returns the number of records emitted, -1 if the
 * scenario does not exist. */
int64_t ff_scenario_run(const char *name, const ff_scenario_opts_t *opts, ff_emit_fn emit,
                        void *opaque);

#endif
