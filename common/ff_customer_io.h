/* ff_customer_io: reading a customer's state through the engine, and changing it (memory and Redis together). */
#ifndef FF_CUSTOMER_IO_H
#define FF_CUSTOMER_IO_H

#include "ff_customer.h"
#include "ff_engine.h"

/* Parts of the state, so each processor reads only what it needs. */
enum {
    FF_CUST_INTENT = 1 << 0,
    FF_CUST_CART = 1 << 1,
    FF_CUST_BOUGHT = 1 << 2,
    FF_CUST_VISITS = 1 << 3,
    FF_CUST_CONSENT = 1 << 4,
    FF_CUST_OFFERS = 1 << 5, /* with the conversions */
    FF_CUST_PROFILE = 1 << 6,
    FF_CUST_CART_SIZE = 1 << 7, /* how many SKUs the cart holds, not which */
};

/* The pending reads of one customer (lives in the entity's state). */
typedef struct ff_customer_read_s {
    unsigned parts;
    int64_t day_from, day_to;
    size_t intent_cmd; /* first of day_to - day_from + 1 commands, a day's each */
    size_t cart_cmd, cart_size_cmd, bought_cmd, visits_cmd, consent_cmd, offers_cmd, conv_cmd, profile_cmd;
    /* When set, only these fields of the intent buckets were read. */
    const char *const *intent_fields;
    size_t nintent_fields;
    /* When set, only these SKUs of the cart, and of the purchases, were read. */
    const char *const *cart_skus;
    size_t ncart_skus;
    const char *const *bought_skus;
    size_t nbought_skus;
    /* When set, only these fields of the visits were read. */
    const char *const *visit_fields;
    size_t nvisit_fields;
} ff_customer_read_t;

/* Which fields to read, for a processor that needs a few values of a
 * customer who may have browsed thousands of SKUs. A NULL list reads the
 * whole part; an empty one reads none of it. The strings must live until
 * ff_customer_parse. */
typedef struct ff_customer_fields_s {
    const char *const *intent; /* of each intent bucket: "c:shoes", … */
    size_t nintent;
    const char *const *cart; /* SKUs */
    size_t ncart;
    const char *const *bought; /* SKUs */
    size_t nbought;
    const char *const *visits; /* "n:S1", "t:S1", "h:S1", … */
    size_t nvisits;
} ff_customer_fields_t;

/* Windows the writes need for their TTLs, from the settings. */
typedef struct ff_customer_ttl_s {
    int64_t intent_ms;     /* intent.window */
    int64_t purchase_ms;   /* purchase.window */
    int64_t visit_ms;      /* visit.window */
    int64_t offers_ms;     /* how long offers are remembered (caps, conversions) */
    int64_t intent_bucket_max; /* intent.bucket.max (0: none) */
} ff_customer_ttl_t;

/* The intent buckets a read of e's batch at state_now takes: days
 * [*day_from, *day_to], those that can still hold counts, of them only the
 * ones the batch's events count. */
void ff_customer_intent_days(ff_ent_t *e, int64_t state_now, int64_t intent_window_ms,
                             int64_t *day_from, int64_t *day_to);
/* Appends the reads of `parts` to the next round. Intent buckets are read
 * for ff_customer_intent_days. */
void ff_customer_read(ff_ent_t *e, ff_customer_read_t *rd, unsigned parts, int64_t state_now,
                      int64_t intent_window_ms);
/* The same, reading only the fields `only` names. */
void ff_customer_read_fields(ff_ent_t *e, ff_customer_read_t *rd, unsigned parts,
                             int64_t state_now, int64_t intent_window_ms,
                             const ff_customer_fields_t *only);
/* Adds "<kind>:<name>" (or name, when kind is 0) to fields[*n] unless it
 * is there: fields of an HMGET are distinct. */
void ff_customer_fields_add(ff_arena_t *arena, const char **fields, size_t *n, char kind,
                            const char *name);
/* Fills c (already initialised) from the replies of that round. */
void ff_customer_parse(ff_ent_t *e, const ff_customer_read_t *rd, ff_customer_t *c);
/* Fills c from the HGETALL reply of one of the customer's keys, named by
 * what follows "{c:ID}:" ("intent:20780", "cart", "offers", …). Unknown
 * names are ignored. For tools that read keys themselves. */
void ff_customer_take(ff_customer_t *c, const char *suffix, const redisReply *reply);

/* ---- changes: each updates c and records the write ------------------------- */

/* Adds n to a counter of the bucket of day: a SKU's ('v', 'a') names the
 * SKU's category too, when known ("v:K1\x1fshoes", FF_SKU_CATEGORY_SEP),
 * so that a read of the bucket finds both in one field. A SKU's counter
 * adds no field to a bucket that holds ttl->intent_bucket_max already
 * (intent.bucket.max). */
void ff_cust_count(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl, int64_t day,
                   char kind, const char *key, const char *category, int64_t n,
                   int64_t state_now);
void ff_cust_cart(ff_ent_t *e, ff_customer_t *c, const char *sku, int64_t delta);
/* Forgets a SKU from the cart (bought). */
void ff_cust_cart_clear(ff_ent_t *e, ff_customer_t *c, const char *sku);
/* Records a purchase. Purchases that left purchase.window are pruned by
 * the server once a day per customer (c->bought_pruned, read with
 * FF_CUST_PROFILE), so the hash need not be read whole. */
void ff_cust_bought(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                    const char *sku, int64_t ts, int64_t state_now);
void ff_cust_visit(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                   const char *store_id, int64_t ts);
void ff_cust_assisted(ff_ent_t *e, ff_customer_t *c, const char *store_id, int64_t ts);
/* Applies a consent record if it is newer than what is stored. */
void ff_cust_consent(ff_ent_t *e, ff_customer_t *c, int channel, int status, int64_t ts);
/* Remembers an offer (sent, or withheld from a control customer). The
 * first one in a batch guards the offers' version: if another instance
 * made an offer meanwhile, the entity decides again with it in view. */
void ff_cust_offer(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                   const ff_offer_state_t *offer, int64_t state_now);
void ff_cust_invited(ff_ent_t *e, ff_customer_t *c, int64_t ts);
void ff_cust_converted(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                       ff_offer_state_t *offer, const char *transaction_id, int64_t ts);
void ff_cust_spend(ff_ent_t *e, ff_customer_t *c, int64_t cents);
/* Counts a customer in a SKU's online demand for a day (idempotent). */
void ff_cust_demand(ff_ent_t *e, const ff_customer_ttl_t *ttl, const char *sku, int64_t day,
                    const char *customer_id, int64_t state_now);

/* Reads a store's stock of SKUs and categories (another slot, read-only). */
size_t ff_stock_read(ff_ent_t *e, const char *store_id, const char *part, const char *const *keys,
                     size_t n);
/* The quantity at index i of that read (0 when unknown). */
int64_t ff_stock_value(ff_ent_t *e, size_t cmd, size_t i);

#endif
