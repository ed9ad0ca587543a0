/* ff_customer: a customer's rolling state as plain data, and the pure questions rules ask of it.
 *
 * Redis layout, per customer C (one hash slot, tag {c:C}):
 *   <p>:{c:C}:intent:<day>  hash, one per UTC day (TTL: the window and a day):
 *                           v:<sku> views, a:<sku> cart adds, c:<category> views,
 *                           k:<sku> the SKU's category; at most intent.bucket.max
 *                           fields: once full, a SKU not in it is not counted that day
 *   <p>:{c:C}:cart          hash sku -> quantity
 *   <p>:{c:C}:bought        hash sku -> time of the last purchase (pruned past purchase.window,
 *                           once a day)
 *   <p>:{c:C}:visits        hash n:<store> visits, t:<store> last visit, h:<store> last heads-up
 *   <p>:{c:C}:consent       hash PUSH|EMAIL|SMS|ALL -> "<STATUS> <ts>"
 *   <p>:{c:C}:offers        hash o:<trigger_id> -> an offer, ver -> version (guards caps),
 *                           invite -> time of the last INVITE
 *   <p>:{c:C}:conv          hash <offer trigger_id> -> "<transaction id> <ts>"
 *   <p>:{c:C}:profile       hash spend (cents), purchases, pruned (the UTC day bought
 *                           was last pruned: once a day, by the server)
 * and per SKU, the online demand index <p>:{k:<sku>}:demand:<day> (HyperLogLog). */
#ifndef FF_CUSTOMER_H
#define FF_CUSTOMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_records.h"
#include "ff_util.h"

#define FF_DAY_MS 86400000LL

/* One counter of one day bucket: kind 'v' (views of a SKU), 'a' (cart adds
 * of a SKU) or 'c' (views in a category). */
typedef struct ff_count_s {
    int64_t day;
    char kind;
    const char *key;
    uint64_t key8; /* ff_key8(key): sorting compares it before the whole key */
    int64_t n;
    const char *category; /* of a SKU's counter as read, the category it names; else NULL */
} ff_count_t;

/* In a bucket, a SKU's counter is named "v:SKU" or "a:SKU", followed by
 * this and the SKU's category when the event had one ("v:K1\x1fshoes"):
 * ids never hold control characters (ff_validate_id). */
#define FF_SKU_CATEGORY_SEP '\x1f'

typedef struct ff_skucat_s {
    const char *sku;
    uint64_t sku8; /* ff_key8(sku) */
    const char *category;
    int64_t day; /* the latest intent bucket it was read from or written to */
} ff_skucat_t;

typedef struct ff_tsval_s {
    const char *key;
    int64_t ts;  /* bought: time; cart: unused */
    int64_t n;   /* cart: quantity */
    const char *read; /* cart: the value as read (NULL: absent) */
    bool guarded;     /* cart: this batch's write is guarded by it */
} ff_tsval_t;

typedef struct ff_visit_s {
    const char *store_id;
    int64_t count;
    int64_t last_ts;
    int64_t last_assist; /* 0: never */
} ff_visit_t;

typedef struct ff_consent_state_s {
    bool set;
    int status; /* ff_consent_status_t */
    int64_t ts;
} ff_consent_state_t;

/* An offer made (or withheld from a control customer) and still remembered. */
typedef struct ff_offer_state_s {
    const char *trigger_id;
    int kind; /* ff_offer_kind_t */
    const char *store_id;
    const char *sku; /* NULL: category offer */
    const char *category;
    const char *code;
    int64_t ts;
    int64_t expires_at;
    int64_t local_day; /* store-local calendar day of ts */
    bool control;
    bool converted;
} ff_offer_state_t;

typedef struct ff_customer_s {
    const char *id;
    ff_count_t *counts;
    size_t ncounts, capcounts;
    bool counts_sorted; /* by key, since ff_customer_counts_settle */
    ff_skucat_t *skucats;
    size_t nskucats, capskucats;
    ff_tsval_t *bought;
    size_t nbought, capbought;
    ff_tsval_t *cart;
    size_t ncart, capcart;
    int64_t cart_skus; /* SKUs in the cart, when only that was read (FF_CUST_CART_SIZE) */
    ff_visit_t *visits;
    size_t nvisits, capvisits;
    ff_consent_state_t consent[4]; /* by ff_consent_channel_t */
    ff_offer_state_t *offers;
    size_t noffers, capoffers;
    int64_t offers_ver;
    bool offers_guarded; /* this batch's writes already guard offers_ver */
    int64_t last_invite; /* 0: never */
    int64_t spend;
    int64_t purchases;
    int64_t bought_pruned; /* UTC day bought was last pruned (0: never) */
    ff_arena_t *arena; /* where the arrays and strings live */
} ff_customer_t;

/* Intent settings, from the settings table. */
typedef struct ff_intent_conf_s {
    int64_t window_ms;      /* intent.window, counted in whole UTC days */
    int64_t sku_views;      /* intent.sku.views */
    int64_t cart_adds;      /* intent.cart.adds */
    int64_t category_views; /* intent.category.views */
    int64_t cart_weight;    /* intent.cart.weight */
    int64_t purchase_window_ms;
} ff_intent_conf_t;

/* A SKU or a category the customer wants, with its score. */
typedef struct ff_candidate_s {
    const char *sku; /* NULL: a category */
    const char *category;
    int64_t views;
    int64_t adds;
    double score;
    uint64_t key8; /* ff_key8 of the SKU, else of the category: equal scores compare it first */
} ff_candidate_t;

void ff_customer_init(ff_customer_t *c, const char *id, ff_arena_t *arena);
/* Makes room for more counters and categories of SKUs (a read's, before
 * they are appended). */
void ff_customer_reserve_intent(ff_customer_t *c, size_t counts, size_t skucats);

/* A key's first 8 bytes as a number, big-endian and zero-padded: two keys
 * compare as their numbers do, unless those are equal (ff_key_cmp). Hot
 * customers' thousands of SKUs are sorted several times a batch, and SKU
 * codes mostly differ within their first 8 bytes. */
uint64_t ff_key8(const char *key);
/* strcmp's order (its sign), given each key's ff_key8. */
int ff_key_cmp(uint64_t a8, const char *a, uint64_t b8, const char *b);

/* ---- changing the state (in memory) ---------------------------------------- */

/* Adds n to counter (day, kind, key); a SKU's counter names category
 * from now on, when given. */
void ff_customer_count(ff_customer_t *c, int64_t day, char kind, const char *key,
                       const char *category, int64_t n);
/* Adds counter (day, kind, key) without looking for it: for reading a
 * bucket, whose fields are distinct (a lookup per field made reading a hot
 * customer's intent quadratic). key is as stored: a SKU's may name its
 * category after FF_SKU_CATEGORY_SEP. */
void ff_customer_count_append(ff_customer_t *c, int64_t day, char kind, const char *key,
                              int64_t n);
/* The same, given key's length (a reply's). */
void ff_customer_count_append_len(ff_customer_t *c, int64_t day, char kind, const char *key,
                                  size_t len, int64_t n);
/* The SKU's category as found in the intent bucket of `day`; the latest
 * day's wins. skucats stay sorted by SKU. */
void ff_customer_set_category(ff_customer_t *c, const char *sku, const char *category,
                              int64_t day);
/* For reading buckets: appends without looking (a lookup per field made a
 * hot customer's read quadratic); ff_customer_categories_settle then sorts
 * and keeps each SKU's latest day, once, before anything looks one up. */
void ff_customer_category_append(ff_customer_t *c, const char *sku, const char *category,
                                 int64_t day);
void ff_customer_categories_settle(ff_customer_t *c);
/* Sorts the counters by key, once after a read, so that scoring (several
 * times per customer and batch) need not; a counter added later undoes it. */
void ff_customer_counts_settle(ff_customer_t *c);
/* Sorts the purchases by SKU, once after a read, so that scoring walks them
 * with the counters instead of sorting them at every call. */
void ff_customer_bought_settle(ff_customer_t *c);
/* The keyed value of an array of ff_tsval_t, added when create (else NULL
 * when absent). */
ff_tsval_t *ff_customer_tsval(ff_customer_t *c, ff_tsval_t **arr, size_t *n, size_t *cap,
                              const char *key, bool create);
/* Adds a keyed value without looking for it first: for the fields of one
 * hash read into an empty array, which are distinct (a lookup per field
 * made reading a hot customer's purchases quadratic). */
ff_tsval_t *ff_customer_tsval_append(ff_customer_t *c, ff_tsval_t **arr, size_t *n, size_t *cap,
                                     const char *key);
ff_visit_t *ff_customer_visit(ff_customer_t *c, const char *store_id, bool create);
ff_offer_state_t *ff_customer_add_offer(ff_customer_t *c);

/* ---- questions ------------------------------------------------------------- */

/* The first and last UTC day of the intent window of a decision at ts. */
void ff_intent_days(const ff_intent_conf_t *conf, int64_t ts, int64_t *first, int64_t *last);
/* Sum of counter (kind, key) over the intent window of a decision at ts. */
int64_t ff_intent_count(const ff_customer_t *c, const ff_intent_conf_t *conf, char kind,
                        const char *key, int64_t ts);
/* The category of a SKU as the customer saw it, or NULL. */
const char *ff_customer_category_of(const ff_customer_t *c, const char *sku);
/* The same with the day of the bucket it came from, or NULL. */
const ff_skucat_t *ff_customer_skucat(const ff_customer_t *c, const char *sku);
/* Whether the SKU was bought within purchase.window before ts (or after it). */
bool ff_customer_bought_recently(const ff_customer_t *c, const ff_intent_conf_t *conf,
                                 const char *sku, int64_t ts);
/* SKUs with intent at ts (views >= sku_views or adds >= cart_adds, not
 * bought recently), best first: score = views + cart_weight * adds, ties by
 * SKU name. Then categories with intent (views >= category_views), best
 * first. Returns how many were written to out (at most max); *nskus of
 * them are SKUs (they come first). */
size_t ff_intent_candidates(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                            ff_candidate_t *out, size_t max, size_t *nskus);
/* Everything the customer showed interest in at ts, best first, whether or
 * not it reaches a threshold (a staff heads-up lists the top few). */
size_t ff_intent_interests(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                           ff_candidate_t *out, size_t max);
/* The same, bought SKUs included (for people looking at the state). */
size_t ff_intent_all(const ff_customer_t *c, const ff_intent_conf_t *conf, int64_t ts,
                     ff_candidate_t *out, size_t max);
/* The preferred store at ts: most visits among stores last visited within
 * window_ms before ts (ties: the most recent visit); NULL if none. */
const char *ff_customer_preferred_store(const ff_customer_t *c, int64_t ts, int64_t window_ms);
/* Whether the cart holds anything. */
bool ff_customer_cart_nonempty(const ff_customer_t *c);

#endif
