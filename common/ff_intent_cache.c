/* ff_intent_cache: customers' intent as last read, kept in memory while nobody has written it since. */
#include "ff_intent_cache.h"

#include <stdlib.h>
#include <string.h>

#include "ff_map.h"
#include "ff_util.h"

#define NO_STRING SIZE_MAX
/* Customers whose week was read once lately, by a hash of their id: a
 * week is kept only when read a second time. */
#define SEEN_SLOTS 65536

/* A counter as kept: a third of an ff_count_t, so that the cache holds
 * three times the weeks (a regular's is thousands of counters). */
typedef struct kept_count_s {
    int64_t n;
    uint32_t key; /* where its key is in the pool */
    uint16_t day; /* after the entry's first */
    char kind;
    uint8_t category; /* 0: none, else 1 + its index in the entry's categories */
} kept_count_t;

#define MAX_CATEGORIES 255

/* One customer's intent, in one allocation: the entry, its counters, the
 * places of its categories, its SKU categories (as read, k: fields), then
 * the strings they point to (the token and the id first). */
typedef struct entry_s {
    struct entry_s *prev, *next; /* most recently used first */
    const char *id;
    const char *token;
    int64_t from, to, filled;
    size_t bytes;
    size_t ncounts, nskucats;
    kept_count_t *counts;
    uint32_t *categories;
    ff_skucat_t *skucats;
    char *pool;
    size_t pool_len;
} entry_t;

struct ff_intent_cache_s {
    size_t max_bytes, bytes;
    ff_map_t map; /* customer id -> entry_t */
    entry_t *head, *tail;
    uint64_t hits, misses;
    uint64_t *seen; /* SEEN_SLOTS hashes of ids read once (0: none) */
    /* For put: the strings, and where each counter's and category's are. */
    ff_buf_t pool;
    uint64_t *at; /* a counter's: its key's place, and 1 + its category's index << 32 */
    size_t capat;
};

ff_intent_cache_t *ff_intent_cache_new(size_t max_bytes)
{
    ff_intent_cache_t *ic = ff_calloc(1, sizeof(*ic));
    ic->max_bytes = max_bytes;
    ic->seen = ff_calloc(SEEN_SLOTS, sizeof(*ic->seen));
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
    free(ic->seen);
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

/* Whether id's week was read before (lately: its slot may have gone to
 * another customer since); else remembers that it was, once. */
static bool read_before(ff_intent_cache_t *ic, const char *id)
{
    uint64_t h = ff_hash64_str(id, 0) | 1; /* never 0, the empty slot */
    if (ic->seen[h % SEEN_SLOTS] == h)
        return true;
    ic->seen[h % SEEN_SLOTS] = h;
    return false;
}

static const char *pool_ptr(char *pool, size_t at)
{
    return at == NO_STRING ? NULL : pool + at;
}

void ff_intent_cache_put(ff_intent_cache_t *ic, const ff_customer_t *c, const char *token,
                         int64_t from, int64_t to, int64_t now)
{
    entry_t *en, *old;
    size_t need = c->ncounts + 2 * c->nskucats, token_at, id_at, id_len = strlen(c->id);
    const char *last = NULL, *cats[MAX_CATEGORIES];
    size_t last_at = 0, cats_at[MAX_CATEGORIES], ncats = 0, bytes;
    size_t counts_bytes, cats_bytes, skucats_bytes;

    if (!token || !c->counts_sorted || to - from > UINT16_MAX)
        return;
    if ((old = ff_map_get(&ic->map, c->id, id_len)))
        drop(ic, old);
    /* Most customers visit once in a while: their weeks would only push
     * out those of the regulars, who come back batch after batch. */
    if (ic->max_bytes == 0 || (!old && !read_before(ic, c->id)))
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
    /* Counters: where their keys are; their categories: an index. */
    for (size_t i = 0; i < c->ncounts; i++) {
        const ff_count_t *k = &c->counts[i];
        size_t cat = 0;
        if (k->day < from || k->day > to)
            return; /* not of the days read: not a read's */
        ic->at[i] = pool_add(ic, k->key, &last, &last_at);
        if (k->category) {
            while (cat < ncats && cats[cat] != k->category && strcmp(cats[cat], k->category))
                cat++;
            if (cat == ncats) {
                if (ncats == MAX_CATEGORIES)
                    return; /* a week of that many categories is read every time */
                cats[ncats] = k->category;
                cats_at[ncats++] = ic->pool.len;
                ff_buf_append(&ic->pool, k->category, strlen(k->category) + 1);
            }
            ic->at[i] |= (uint64_t)(cat + 1) << 32;
        }
    }
    last = NULL;
    for (size_t i = 0; i < c->nskucats; i++) {
        uint64_t *at = &ic->at[c->ncounts + 2 * i];
        const char *none = NULL;
        size_t none_at = 0;
        at[0] = pool_add(ic, c->skucats[i].sku, &last, &last_at);
        at[1] = pool_add(ic, c->skucats[i].category, &none, &none_at); /* a copy each */
    }
    if (ic->pool.len > UINT32_MAX)
        return;
    counts_bytes = c->ncounts * sizeof(kept_count_t);
    cats_bytes = ncats * sizeof(uint32_t);
    cats_bytes += (8 - cats_bytes % 8) % 8;
    skucats_bytes = c->nskucats * sizeof(ff_skucat_t);
    bytes = sizeof(*en) + counts_bytes + cats_bytes + skucats_bytes + ic->pool.len;
    if (bytes > ic->max_bytes)
        return; /* larger than the whole cache: read every time */
    while (ic->tail && ic->bytes + bytes > ic->max_bytes)
        drop(ic, ic->tail);

    en = ff_malloc(bytes);
    memset(en, 0, sizeof(*en));
    en->counts = (kept_count_t *)(en + 1);
    en->categories = (uint32_t *)((char *)en->counts + counts_bytes);
    en->skucats = (ff_skucat_t *)((char *)en->categories + cats_bytes);
    en->pool = (char *)en->skucats + skucats_bytes;
    en->pool_len = ic->pool.len;
    memcpy(en->pool, ic->pool.data, ic->pool.len);
    en->token = en->pool + token_at;
    en->ncounts = c->ncounts;
    en->nskucats = c->nskucats;
    for (size_t i = 0; i < ncats; i++)
        en->categories[i] = (uint32_t)cats_at[i];
    for (size_t i = 0; i < c->ncounts; i++) {
        const ff_count_t *k = &c->counts[i];
        en->counts[i] = (kept_count_t){
            .n = k->n,
            .key = (uint32_t)(ic->at[i] & 0xffffffffu),
            .day = (uint16_t)(k->day - from),
            .kind = k->kind,
            .category = (uint8_t)(ic->at[i] >> 32),
        };
    }
    for (size_t i = 0; i < c->nskucats; i++) {
        const uint64_t *at = &ic->at[c->ncounts + 2 * i];
        en->skucats[i] = c->skucats[i];
        en->skucats[i].sku = pool_ptr(en->pool, (size_t)at[0]);
        en->skucats[i].category = pool_ptr(en->pool, (size_t)at[1]);
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
    uint32_t last_key = UINT32_MAX;
    uint64_t last8 = 0;
    char *pool;

    if (!en || en->from != from || en->to != to || strcmp(en->token, token) ||
        now < en->filled || now - en->filled > FF_INTENT_CACHE_AGE_MS) {
        ic->misses++;
        return false;
    }
    pool = ff_arena_alloc(c->arena, en->pool_len + 1);
    memcpy(pool, en->pool, en->pool_len);
    c->counts = ff_arena_alloc(c->arena, (en->ncounts ? en->ncounts : 1) * sizeof(ff_count_t));
    c->ncounts = c->capcounts = en->ncounts;
    for (size_t i = 0; i < en->ncounts; i++) {
        const kept_count_t *k = &en->counts[i];
        if (k->key != last_key) {
            last_key = k->key;
            last8 = ff_key8(pool + k->key);
        }
        c->counts[i] = (ff_count_t){
            .day = en->from + k->day,
            .kind = k->kind,
            .key = pool + k->key,
            .key8 = last8,
            .n = k->n,
            .category = k->category ? pool + en->categories[k->category - 1] : NULL,
        };
    }
    c->counts_sorted = true;
    c->skucats = ff_arena_alloc(c->arena, (en->nskucats ? en->nskucats : 1) * sizeof(ff_skucat_t));
    c->nskucats = c->capskucats = en->nskucats;
    for (size_t i = 0; i < en->nskucats; i++) {
        c->skucats[i] = en->skucats[i];
        c->skucats[i].sku = rebase(en, pool, en->skucats[i].sku);
        c->skucats[i].category = rebase(en, pool, en->skucats[i].category);
    }
    unlink_entry(ic, en);
    push_front(ic, en);
    ic->hits++;
    return true;
}
