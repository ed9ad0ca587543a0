/* ff_intent_cache: customers' intent as last read, kept in memory while nobody has written it since. */
#include "ff_intent_cache.h"

#include <stdlib.h>
#include <string.h>

#include "ff_map.h"
#include "ff_util.h"

#define NO_STRING SIZE_MAX

/* One customer's intent, in one allocation: the entry, its counters, its
 * SKU categories, then the strings they point to (the token and the id
 * first). */
typedef struct entry_s {
    struct entry_s *prev, *next; /* most recently used first */
    const char *id;
    const char *token;
    int64_t from, to, filled;
    size_t bytes;
    size_t ncounts, nskucats;
    ff_count_t *counts;
    ff_skucat_t *skucats;
    char *pool;
    size_t pool_len;
} entry_t;

struct ff_intent_cache_s {
    size_t max_bytes, bytes;
    ff_map_t map; /* customer id -> entry_t */
    entry_t *head, *tail;
    uint64_t hits, misses;
    /* For put: the strings, and where each counter's and category's are. */
    ff_buf_t pool;
    size_t *at;
    size_t capat;
};

ff_intent_cache_t *ff_intent_cache_new(size_t max_bytes)
{
    ff_intent_cache_t *ic = ff_calloc(1, sizeof(*ic));
    ic->max_bytes = max_bytes;
    ff_map_init(&ic->map);
    ff_buf_init(&ic->pool);
    return ic;
}

static void unlink_entry(ff_intent_cache_t *ic, entry_t *en)
{
    if (en->prev)
        en->prev->next = en->next;
    else
        ic->head = en->next;
    if (en->next)
        en->next->prev = en->prev;
    else
        ic->tail = en->prev;
    en->prev = en->next = NULL;
}

static void push_front(ff_intent_cache_t *ic, entry_t *en)
{
    en->prev = NULL;
    en->next = ic->head;
    if (ic->head)
        ic->head->prev = en;
    ic->head = en;
    if (!ic->tail)
        ic->tail = en;
}

/* Removes and frees en (the map's key with it). */
static void drop(ff_intent_cache_t *ic, entry_t *en)
{
    unlink_entry(ic, en);
    ff_map_del(&ic->map, en->id, strlen(en->id));
    ic->bytes -= en->bytes;
    free(en);
}

void ff_intent_cache_clear(ff_intent_cache_t *ic)
{
    while (ic->tail)
        drop(ic, ic->tail);
}

void ff_intent_cache_free(ff_intent_cache_t *ic)
{
    if (!ic)
        return;
    ff_intent_cache_clear(ic);
    ff_map_term(&ic->map);
    ff_buf_term(&ic->pool);
    free(ic->at);
    free(ic);
}

ff_intent_cache_stats_t ff_intent_cache_stats(const ff_intent_cache_t *ic)
{
    ff_intent_cache_stats_t s = {ic->hits, ic->misses, ic->map.count, ic->bytes};
    return s;
}

/* Where s is in the pool being built: the previous string's place when
 * equal to it (a SKU's counters are adjacent, sorted by key), else a copy. */
static size_t pool_add(ff_intent_cache_t *ic, const char *s, const char **last, size_t *last_at)
{
    if (!s)
        return NO_STRING;
    if (*last && (*last == s || !strcmp(*last, s)))
        return *last_at;
    *last = s;
    *last_at = ic->pool.len;
    ff_buf_append(&ic->pool, s, strlen(s) + 1);
    return *last_at;
}

/* A customer's categories are few: each kept once. */
static size_t pool_category(ff_intent_cache_t *ic, const char *s, const char **seen,
                            size_t *seen_at, size_t *nseen, size_t max)
{
    if (!s)
        return NO_STRING;
    for (size_t i = 0; i < *nseen; i++)
        if (seen[i] == s || !strcmp(seen[i], s))
            return seen_at[i];
    size_t at = ic->pool.len;
    ff_buf_append(&ic->pool, s, strlen(s) + 1);
    if (*nseen < max) {
        seen[*nseen] = s;
        seen_at[(*nseen)++] = at;
    }
    return at;
}

static const char *pool_ptr(char *pool, size_t at)
{
    return at == NO_STRING ? NULL : pool + at;
}

void ff_intent_cache_put(ff_intent_cache_t *ic, const ff_customer_t *c, const char *token,
                         int64_t from, int64_t to, int64_t now)
{
    entry_t *en, *old;
    size_t need = 2 * (c->ncounts + c->nskucats), token_at, id_at, id_len = strlen(c->id);
    const char *last = NULL, *cats[16];
    size_t last_at = 0, cats_at[16], ncats = 0, bytes, counts_bytes, skucats_bytes;

    if (!token || !c->counts_sorted)
        return;
    if ((old = ff_map_get(&ic->map, c->id, id_len)))
        drop(ic, old);
    if (ic->max_bytes == 0)
        return;
    if (need > ic->capat) {
        ic->capat = need;
        ic->at = ff_realloc(ic->at, need * sizeof(*ic->at));
    }
    ff_buf_reset(&ic->pool);
    token_at = ic->pool.len;
    ff_buf_append(&ic->pool, token, strlen(token) + 1);
    id_at = ic->pool.len;
    ff_buf_append(&ic->pool, c->id, id_len + 1);
    for (size_t i = 0; i < c->ncounts; i++) {
        ic->at[2 * i] = pool_add(ic, c->counts[i].key, &last, &last_at);
        ic->at[2 * i + 1] = pool_category(ic, c->counts[i].category, cats, cats_at, &ncats, 16);
    }
    last = NULL;
    for (size_t i = 0; i < c->nskucats; i++) {
        size_t *at = &ic->at[2 * (c->ncounts + i)];
        at[0] = pool_add(ic, c->skucats[i].sku, &last, &last_at);
        at[1] = pool_category(ic, c->skucats[i].category, cats, cats_at, &ncats, 16);
    }
    counts_bytes = c->ncounts * sizeof(ff_count_t);
    skucats_bytes = c->nskucats * sizeof(ff_skucat_t);
    bytes = sizeof(*en) + counts_bytes + skucats_bytes + ic->pool.len;
    if (bytes > ic->max_bytes)
        return; /* larger than the whole cache: read every time */
    while (ic->tail && ic->bytes + bytes > ic->max_bytes)
        drop(ic, ic->tail);

    en = ff_malloc(bytes);
    memset(en, 0, sizeof(*en));
    en->counts = (ff_count_t *)(en + 1);
    en->skucats = (ff_skucat_t *)((char *)en->counts + counts_bytes);
    en->pool = (char *)en->skucats + skucats_bytes;
    en->pool_len = ic->pool.len;
    memcpy(en->pool, ic->pool.data, ic->pool.len);
    en->token = en->pool + token_at;
    en->ncounts = c->ncounts;
    en->nskucats = c->nskucats;
    for (size_t i = 0; i < c->ncounts; i++) {
        en->counts[i] = c->counts[i];
        en->counts[i].key = pool_ptr(en->pool, ic->at[2 * i]);
        en->counts[i].category = pool_ptr(en->pool, ic->at[2 * i + 1]);
    }
    for (size_t i = 0; i < c->nskucats; i++) {
        const size_t *at = &ic->at[2 * (c->ncounts + i)];
        en->skucats[i] = c->skucats[i];
        en->skucats[i].sku = pool_ptr(en->pool, at[0]);
        en->skucats[i].category = pool_ptr(en->pool, at[1]);
    }
    en->from = from;
    en->to = to;
    en->filled = now;
    en->bytes = bytes;
    en->id = en->pool + id_at;
    ff_map_put(&ic->map, c->id, id_len, en);
    ic->bytes += bytes;
    push_front(ic, en);
}

/* p, a string of the entry's pool, at the same place in the copy. */
static const char *rebase(const entry_t *en, char *copy, const char *p)
{
    return p ? copy + (p - en->pool) : NULL;
}

bool ff_intent_cache_get(ff_intent_cache_t *ic, ff_customer_t *c, const char *token,
                         int64_t from, int64_t to, int64_t now)
{
    entry_t *en = token ? ff_map_get(&ic->map, c->id, strlen(c->id)) : NULL;
    size_t counts_bytes, skucats_bytes;
    char *block, *pool;

    if (!en || en->from != from || en->to != to || strcmp(en->token, token) ||
        now < en->filled || now - en->filled > FF_INTENT_CACHE_AGE_MS) {
        ic->misses++;
        return false;
    }
    counts_bytes = en->ncounts * sizeof(ff_count_t);
    skucats_bytes = en->nskucats * sizeof(ff_skucat_t);
    block = ff_arena_alloc(c->arena, counts_bytes + skucats_bytes + en->pool_len + 1);
    memcpy(block, en->counts, counts_bytes + skucats_bytes + en->pool_len);
    pool = block + counts_bytes + skucats_bytes;
    c->counts = (ff_count_t *)block;
    c->ncounts = c->capcounts = en->ncounts;
    for (size_t i = 0; i < en->ncounts; i++) {
        c->counts[i].key = rebase(en, pool, c->counts[i].key);
        c->counts[i].category = rebase(en, pool, c->counts[i].category);
    }
    c->counts_sorted = true;
    c->skucats = (ff_skucat_t *)(block + counts_bytes);
    c->nskucats = c->capskucats = en->nskucats;
    for (size_t i = 0; i < en->nskucats; i++) {
        c->skucats[i].sku = rebase(en, pool, c->skucats[i].sku);
        c->skucats[i].category = rebase(en, pool, c->skucats[i].category);
    }
    unlink_entry(ic, en);
    push_front(ic, en);
    ic->hits++;
    return true;
}
