/* ff_intent_cache: customers' intent as last read, kept in memory while nobody has written it since.
 *
 * footfall-geofence reads a customer's week of intent (up to thousands of
 * counters) for every batch with a visit that ranks it, and a regular's
 * visits come batch after batch. Only footfall-web writes intent, and every
 * write of its also moves its applied offset in the customer's `applied`
 * hash (ff_apply.lua, in the same script). So the other processors' applied
 * offsets, read with the customer in round 0, are a token: while it is
 * unchanged, the buckets hold what they held when the token was last seen.
 *
 * An entry answers only a read of the same days with the same token, and
 * for at most FF_INTENT_CACHE_AGE_MS: buckets also leave by their TTL, at
 * day boundaries, and an entry must not outlive one. Memory is bounded by
 * bytes; the least recently used entries go first. A week is kept the
 * second time it is read (lately): most customers' weeks are read once,
 * and would only push out the regulars'. A kept counter takes 16 bytes,
 * a third of an ff_count_t. */
#ifndef FF_INTENT_CACHE_H
#define FF_INTENT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_customer.h"

#define FF_INTENT_CACHE_AGE_MS 60000

typedef struct ff_intent_cache_s ff_intent_cache_t;

typedef struct ff_intent_cache_stats_s {
    uint64_t hits, misses;
    size_t entries, bytes;
} ff_intent_cache_stats_t;

/* max_bytes 0: a cache that keeps nothing. */
ff_intent_cache_t *ff_intent_cache_new(size_t max_bytes);
void ff_intent_cache_free(ff_intent_cache_t *ic);
void ff_intent_cache_clear(ff_intent_cache_t *ic);

/* Gives c (whose intent is empty) the counters and SKU categories of c->id
 * read for days [from, to] under token, copied into c's arena, if an entry
 * of at most FF_INTENT_CACHE_AGE_MS at now holds them. Counts a hit or a
 * miss. token NULL: a miss. */
bool ff_intent_cache_get(ff_intent_cache_t *ic, ff_customer_t *c, const char *token,
                         int64_t from, int64_t to, int64_t now);
/* Keeps c's intent (settled, as just read for days [from, to]) under token,
 * replacing c->id's entry, if c->id had one or was put before (lately).
 * token NULL: nothing kept. */
void ff_intent_cache_put(ff_intent_cache_t *ic, const ff_customer_t *c, const char *token,
                         int64_t from, int64_t to, int64_t now);

ff_intent_cache_stats_t ff_intent_cache_stats(const ff_intent_cache_t *ic);

#endif
