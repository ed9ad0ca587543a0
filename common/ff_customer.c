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

uint64_t ff_key8(const char *key)
{
    uint64_t k = 0;
    for (int i = 0; i < 8 && key[i]; i++)
        k |= (uint64_t)(unsigned char)key[i] << (56 - 8 * i);
    return k;
}

int ff_key_cmp(uint64_t a8, const char *a, uint64_t b8, const char *b)
{
    if (a8 != b8)
        return a8 < b8 ? -1 : 1;
    if (!(a8 & 0xff))
        return 0; /* both end within their first 8 bytes, which are equal */
    return strcmp(a + 8, b + 8);
}

/* What the customer's arrays sort by: a key (ff_key_cmp order), then a
 * kind and a day; `at` is where the element was (an array read from
 * Redis hashes, far below 2^32 elements). */
typedef struct sortkey_s {
    uint64_t key8;
    const char *key;
    int64_t day;
    uint32_t at;
    char kind;
} sortkey_t;

static int sortkey_cmp(const sortkey_t *a, const sortkey_t *b)
{
    int r = ff_key_cmp(a->key8, a->key, b->key8, b->key);
    if (r)
        return r;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

#define SORT_RUN 8

/* A stable merge sort of n keys. qsort's was the largest single cost of
 * ranking a hot customer's week (its elements are sorted through pointers
 * and every comparison is a call); here the comparison is inlined and
 * decides on key8 alone for all but keys sharing their first 8 bytes. */
static void sortkeys(sortkey_t *a, size_t n)
{
    sortkey_t *tmp, *src = a, *dst;
    for (size_t lo = 0; lo < n; lo += SORT_RUN) { /* insertion sort of each run */
        size_t hi = FF_MIN(lo + SORT_RUN, n);
        for (size_t i = lo + 1; i < hi; i++) {
            sortkey_t k = a[i];
            size_t j = i;
            for (; j > lo && sortkey_cmp(&k, &a[j - 1]) < 0; j--)
                a[j] = a[j - 1];
            a[j] = k;
        }
    }
    if (n <= SORT_RUN)
        return;
    tmp = ff_malloc(n * sizeof(*tmp));
    dst = tmp;
    for (size_t w = SORT_RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = FF_MIN(lo + w, n), hi = FF_MIN(lo + 2 * w, n), i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = sortkey_cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        sortkey_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(*a));
    free(tmp);
}

/* Puts the n elements of size bytes at arr in the order of keys, sorted
 * (each key's `at` naming its element). */
static void reorder(void *arr, size_t n, size_t size, const sortkey_t *keys)
{
    char *tmp = ff_malloc(n * size);
    for (size_t i = 0; i < n; i++)
        memcpy(tmp + i * size, (char *)arr + keys[i].at * size, size);
    memcpy(arr, tmp, n * size);
    free(tmp);
}

/* Room for n more in *arr (n_now used of *cap), at once when their number
 * is known: a hot customer's week is thousands of fields, and doubling
 * copied each one about twice. */
static void reserve(ff_arena_t *arena, void **arr, size_t n_now, size_t *cap, size_t n,
                    size_t size)
{
    if (n_now + n <= *cap)
        return;
    void *na = ff_arena_alloc(arena, (n_now + n) * size);
    if (n_now)
        memcpy(na, *arr, n_now * size);
    *arr = na;
    *cap = n_now + n;
}

/* Grows an arena array by one element; returns the new element, zeroed. */
static void *grow(ff_arena_t *arena, void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap)
        reserve(arena, arr, *n, cap, *cap ? *cap : 8, size); /* doubles */
    void *e = (char *)*arr + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

void ff_customer_reserve_intent(ff_customer_t *c, size_t counts, size_t skucats)
{
    reserve(c->arena, (void **)&c->counts, c->ncounts, &c->capcounts, counts, sizeof(ff_count_t));
    reserve(c->arena, (void **)&c->skucats, c->nskucats, &c->capskucats, skucats,
            sizeof(ff_skucat_t));
}

void ff_customer_count(ff_customer_t *c, int64_t day, char kind, const char *key,
                       const char *category, int64_t n)
{
    ff_count_t *k = NULL;
    for (size_t i = 0; i < c->ncounts && !k; i++)
        if (c->counts[i].day == day && c->counts[i].kind == kind && !strcmp(c->counts[i].key, key))
            k = &c->counts[i];
    if (k) {
        k->n += n;
    } else {
        ff_customer_count_append(c, day, kind, key, n);
        k = &c->counts[c->ncounts - 1];
    }
    if (kind != 'c' && category && (!k->category || strcmp(k->category, category)))
        k->category = ff_arena_strdup(c->arena, category);
}

void ff_customer_count_append(ff_customer_t *c, int64_t day, char kind, const char *key,
                              int64_t n)
{
    ff_customer_count_append_len(c, day, kind, key, strlen(key), n);
}

void ff_customer_count_append_len(ff_customer_t *c, int64_t day, char kind, const char *key,
                                  size_t len, int64_t n)
{
    ff_count_t *k = grow(c->arena, (void **)&c->counts, &c->ncounts, &c->capcounts, sizeof(*k));
    char *key_copy = ff_arena_strndup(c->arena, key, len), *sep;
    c->counts_sorted = false;
    k->day = day;
    k->kind = kind;
    if (kind != 'c' && (sep = memchr(key_copy, FF_SKU_CATEGORY_SEP, len))) {
        *sep = '\0';
        k->category = sep + 1;
    }
    k->key = key_copy;
    k->key8 = ff_key8(key_copy);
    k->n = n;
}

/* skucats stay sorted by SKU, one entry each: where sku is, or would go. */
static size_t skucat_at(const ff_customer_t *c, const char *sku, bool *found)
{
    size_t lo = 0, hi = c->nskucats;
    uint64_t sku8 = ff_key8(sku);
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = ff_key_cmp(c->skucats[mid].sku8, c->skucats[mid].sku, sku8, sku);
        if (!r) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void skucat_fill(ff_customer_t *c, ff_skucat_t *s, const char *sku, const char *category,
                        int64_t day)
{
    s->sku = ff_arena_strdup(c->arena, sku);
    s->sku8 = ff_key8(sku);
    s->category = ff_arena_strdup(c->arena, category);
    s->day = day;
}

void ff_customer_set_category(ff_customer_t *c, const char *sku, const char *category,
                              int64_t day)
{
    bool found;
    size_t at = skucat_at(c, sku, &found);
    ff_skucat_t *s;
    if (found) {
        s = &c->skucats[at];
        if (day < s->day)
            return;
        if (strcmp(s->category, category))
            s->category = ff_arena_strdup(c->arena, category);
        s->day = day;
        return;
    }
    grow(c->arena, (void **)&c->skucats, &c->nskucats, &c->capskucats, sizeof(*s));
    memmove(&c->skucats[at + 1], &c->skucats[at], (c->nskucats - 1 - at) * sizeof(*s));
    skucat_fill(c, &c->skucats[at], sku, category, day);
}

void ff_customer_category_append(ff_customer_t *c, const char *sku, const char *category,
                                 int64_t day)
{
    skucat_fill(c, grow(c->arena, (void **)&c->skucats, &c->nskucats, &c->capskucats,
                        sizeof(ff_skucat_t)),
                sku, category, day);
}

void ff_customer_categories_settle(ff_customer_t *c)
{
    size_t n = 0;
    sortkey_t *keys;
    if (c->nskucats < 2)
        return; /* sorted already */
    keys = ff_malloc(c->nskucats * sizeof(*keys));
    for (size_t i = 0; i < c->nskucats; i++) {
        const ff_skucat_t *x = &c->skucats[i];
        keys[i] = (sortkey_t){x->sku8, x->sku, x->day, (uint32_t)i, 0};
    }
    sortkeys(keys, c->nskucats);
    reorder(c->skucats, c->nskucats, sizeof(*c->skucats), keys);
    free(keys);
    /* Of each SKU's run, sorted by day, the last: its latest day. */
    for (size_t i = 0; i < c->nskucats; i++) {
        const ff_skucat_t *x = &c->skucats[i], *y = x + 1;
        if (i + 1 < c->nskucats && !ff_key_cmp(x->sku8, x->sku, y->sku8, y->sku))
            continue;
        c->skucats[n++] = c->skucats[i];
    }
    c->nskucats = n;
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
    bool found;
    size_t at = skucat_at(c, sku, &found);
    return found ? &c->skucats[at] : NULL;
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
    /* Scores are small counts, so ties are the rule: by name, as strcmp. */
    return ff_key_cmp(x->key8, x->sku ? x->sku : x->category, y->key8,
                      y->sku ? y->sku : y->category);
}

/* One key's counters within the window: views (kind `views`) and adds
 * (kind `adds`). A key is alive when one of its counters is positive. */
typedef struct tally_s {
    const char *key;
    uint64_t key8;
    int64_t views, adds;
    const char *category; /* named by its counters, the latest day's (NULL: none) */
    int64_t category_day;
} tally_t;

/* Keys for counts[i] of the n (the elements, when ptrs is NULL, else the
 * counts ptrs[i] point to), by key, kind and day. */
static sortkey_t *count_keys(const ff_count_t *counts, const ff_count_t *const *ptrs, size_t n)
{
    sortkey_t *keys = ff_malloc((n ? n : 1) * sizeof(*keys));
    for (size_t i = 0; i < n; i++) {
        const ff_count_t *k = ptrs ? ptrs[i] : &counts[i];
        keys[i] = (sortkey_t){k->key8, k->key, k->day, (uint32_t)i, k->kind};
    }
    sortkeys(keys, n);
    return keys;
}

void ff_customer_counts_settle(ff_customer_t *c)
{
    if (c->ncounts > 1) {
        sortkey_t *keys = count_keys(c->counts, NULL, c->ncounts);
        reorder(c->counts, c->ncounts, sizeof(*c->counts), keys);
        free(keys);
    }
    c->counts_sorted = true;
}

/* The alive keys counted by kinds `views` and `adds` (0: none) in the window
 * at ts, each once with its sums, into a malloc'd array (*n of them). One
 * sort: a hot customer has thousands of counters over hundreds of keys, and
 * summing each key's by a scan made scoring quadratic. */
static tally_t *tally(const ff_customer_t *c, const ff_intent_conf_t *conf, char views, char adds,
                      int64_t ts, size_t *n)
{
    int64_t first, last;
    size_t m = 0, nt = 0;
    const ff_count_t **in = ff_malloc((c->ncounts ? c->ncounts : 1) * sizeof(*in));
    tally_t *t;
    ff_intent_days(conf, ts, &first, &last);
    for (size_t i = 0; i < c->ncounts; i++) {
        const ff_count_t *k = &c->counts[i];
        if ((k->kind == views || (adds && k->kind == adds)) && k->day >= first && k->day <= last)
            in[m++] = k;
    }
    if (!c->counts_sorted && m > 1) {
        sortkey_t *keys = count_keys(NULL, in, m);
        const ff_count_t **sorted = ff_malloc(m * sizeof(*sorted));
        for (size_t i = 0; i < m; i++)
            sorted[i] = in[keys[i].at];
        free(keys);
        free(in);
        in = sorted;
    }
    t = ff_malloc((m ? m : 1) * sizeof(*t));
    for (size_t i = 0, j; i < m; i = j) {
        tally_t cur = {in[i]->key, in[i]->key8, 0, 0, NULL, INT64_MIN};
        bool alive = false;
        for (j = i; j < m && (j == i || !ff_key_cmp(in[j]->key8, in[j]->key, cur.key8, cur.key));
             j++) {
            *(in[j]->kind == views ? &cur.views : &cur.adds) += in[j]->n;
            alive |= in[j]->n > 0;
            if (in[j]->category && in[j]->day >= cur.category_day) {
                cur.category = in[j]->category;
                cur.category_day = in[j]->day;
            }
        }
        if (alive)
            t[nt++] = cur;
    }
    free(in);
    *n = nt;
    return t;
}

/* The purchases by SKU (ff_key_cmp's order is strcmp's). */
static sortkey_t *bought_keys(const ff_customer_t *c)
{
    sortkey_t *keys = ff_malloc((c->nbought ? c->nbought : 1) * sizeof(*keys));
    for (size_t i = 0; i < c->nbought; i++) {
        const char *key = c->bought[i].key;
        keys[i] = (sortkey_t){ff_key8(key), key, 0, (uint32_t)i, 0};
    }
    sortkeys(keys, c->nbought);
    return keys;
}

void ff_customer_bought_settle(ff_customer_t *c)
{
    if (c->nbought > 1) {
        sortkey_t *keys = bought_keys(c);
        reorder(c->bought, c->nbought, sizeof(*c->bought), keys);
        free(keys);
    }
}

/* Pointers to the purchases, sorted by SKU (a malloc'd array): sorted
 * already after ff_customer_bought_settle, and only checked then. */
static const ff_tsval_t **bought_by_sku(const ff_customer_t *c)
{
    const ff_tsval_t **idx = ff_malloc((c->nbought ? c->nbought : 1) * sizeof(*idx));
    bool sorted = true;
    for (size_t i = 0; i < c->nbought; i++) {
        idx[i] = &c->bought[i];
        sorted = sorted && (i == 0 || strcmp(c->bought[i - 1].key, c->bought[i].key) < 0);
    }
    if (!sorted) {
        sortkey_t *keys = bought_keys(c);
        for (size_t i = 0; i < c->nbought; i++)
            idx[i] = &c->bought[keys[i].at];
        free(keys);
    }
    return idx;
}

/* The best `max` of candidates offered one at a time, in out[]: a heap
 * whose root is the worst kept, so that a hot customer's thousands of SKUs
 * cost a comparison each, not a sort, when a decision wants a few. */
typedef struct best_s {
    ff_candidate_t *out;
    size_t n, max;
} best_t;

static void best_swap(ff_candidate_t *h, size_t i, size_t j)
{
    ff_candidate_t t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void best_offer(best_t *b, const ff_candidate_t *cand)
{
    ff_candidate_t *h = b->out;
    size_t i;
    if (b->n < b->max) {
        h[i = b->n++] = *cand;
        while (i > 0 && cmp_candidates(&h[i], &h[(i - 1) / 2]) > 0) {
            best_swap(h, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        return;
    }
    if (!b->max || cmp_candidates(cand, &h[0]) >= 0)
        return; /* no better than the worst kept */
    h[i = 0] = *cand;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < b->n && cmp_candidates(&h[l], &h[w]) > 0)
            w = l;
        if (r < b->n && cmp_candidates(&h[r], &h[w]) > 0)
            w = r;
        if (w == i)
            break;
        best_swap(h, i, w);
        i = w;
    }
}

/* Sorts what was kept, best first; returns how many. */
static size_t best_done(best_t *b)
{
    if (b->n > 1)
        qsort(b->out, b->n, sizeof(*b->out), cmp_candidates);
    return b->n;
}

/* Scores of every SKU with counts at ts, the best max of them first, into
 * out[]. The tally, the categories and the purchases are all sorted by
 * SKU, so one pass walks the three together. */
static size_t sku_scores(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                         bool thresholds, bool with_bought, ff_candidate_t *out, size_t max)
{
    size_t nkeys, ib = 0, ik = 0;
    /* SKUs only added to the cart count too. */
    tally_t *keys = tally(c, conf, 'v', 'a', ts, &nkeys);
    const ff_tsval_t **bought = bought_by_sku(c);
    best_t best = {out, 0, max};
    for (size_t i = 0; i < nkeys; i++) {
        ff_candidate_t cand;
        const char *sku = keys[i].key;
        int r = 1;
        cand.sku = sku;
        cand.key8 = keys[i].key8;
        cand.views = keys[i].views;
        cand.adds = keys[i].adds;
        cand.score = (double)(cand.views + conf->cart_weight * cand.adds);
        if (thresholds && cand.views < conf->sku_views && cand.adds < conf->cart_adds)
            continue;
        if (!with_bought) {
            while (ib < c->nbought && strcmp(bought[ib]->key, sku) < 0)
                ib++;
            if (ib < c->nbought && !strcmp(bought[ib]->key, sku) &&
                bought[ib]->ts > ts - conf->purchase_window_ms)
                continue;
        }
        /* The latest day's category: named by the counters as read, or
         * filed apart (ff_customer_set_category, or a bucket's "k:SKU"
         * field as written before the counters named it). */
        while (ik < c->nskucats && (r = ff_key_cmp(c->skucats[ik].sku8, c->skucats[ik].sku,
                                                   keys[i].key8, sku)) < 0)
            ik++;
        cand.category = keys[i].category ? keys[i].category : "";
        if (ik < c->nskucats && !r &&
            (!keys[i].category || c->skucats[ik].day > keys[i].category_day))
            cand.category = c->skucats[ik].category;
        best_offer(&best, &cand);
    }
    free(bought);
    free(keys);
    return best_done(&best);
}

static size_t category_scores(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                              bool thresholds, ff_candidate_t *out, size_t max)
{
    size_t nkeys;
    tally_t *keys = tally(c, conf, 'c', 0, ts, &nkeys);
    best_t best = {out, 0, max};
    for (size_t i = 0; i < nkeys; i++) {
        ff_candidate_t cand = {NULL, keys[i].key, keys[i].views, 0, (double)keys[i].views,
                               keys[i].key8};
        if (thresholds && cand.views < conf->category_views)
            continue;
        best_offer(&best, &cand);
    }
    free(keys);
    return best_done(&best);
}

#define MAX_SCORED 256

size_t ff_intent_candidates(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                            ff_candidate_t *out, size_t max, size_t *nskus)
{
    /* Every SKU is scored, and the best kept: never the first few found. */
    size_t ns = sku_scores(c, conf, ts, true, false, out, max);
    *nskus = ns;
    return ns + category_scores(c, conf, ts, true, out + ns, max - ns);
}

static size_t scored(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                     bool with_bought, ff_candidate_t *out, size_t max)
{
    ff_candidate_t all[2 * MAX_SCORED];
    size_t each = FF_MIN(max, MAX_SCORED);
    size_t n = sku_scores(c, conf, ts, false, with_bought, all, each);
    n += category_scores(c, conf, ts, false, all + n, each);
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
    if (c->cart_skus > 0)
        return true;
    for (size_t i = 0; i < c->ncart; i++)
        if (c->cart[i].n > 0)
            return true;
    return false;
}
