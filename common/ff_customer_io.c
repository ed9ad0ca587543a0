/* ff_customer_io: reading a customer's state through the engine, and changing it (memory and Redis together). */
#include "ff_customer_io.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_validate.h"

#define SEP "\x1f" /* between the parts of a stored offer: ids never hold control characters */

static const char *const channel_names[] = {"PUSH", "EMAIL", "SMS", "ALL"};
static const char *const status_names[] = {"GRANTED", "DENIED", "REVOKED"};

static const char *intent_key(ff_ent_t *e, int64_t day);

static size_t hgetall(ff_ent_t *e, const char *key)
{
    ff_rpipe_t *p = ff_ent_pipe(e);
    ff_rpipe_begin(p);
    ff_rpipe_arg_str(p, "HGETALL");
    ff_rpipe_arg_str(p, key);
    return ff_rpipe_end(p);
}

/* Where a list of fields was put in the pipeline: its first n arguments
 * from index first. */
typedef struct hmget_list_s {
    size_t first, n;
} hmget_list_t;

/* HMGET of some fields of a key. With list (zeroed before the first call),
 * calls asking for prefixes of the same fields copy the arguments of an
 * earlier one that holds theirs. */
static size_t hmget(ff_ent_t *e, const char *key, const char *const *fields, size_t n,
                    hmget_list_t *list)
{
    ff_rpipe_t *p = ff_ent_pipe(e);
    ff_rpipe_begin(p);
    ff_rpipe_arg_str(p, "HMGET");
    ff_rpipe_arg_str(p, key);
    if (list && n <= list->n) {
        ff_rpipe_arg_copy(p, list->first, n);
    } else {
        size_t first = ff_rpipe_nargs(p);
        for (size_t i = 0; i < n; i++)
            ff_rpipe_arg_str(p, fields[i]);
        if (list) {
            list->first = first;
            list->n = n;
        }
    }
    return ff_rpipe_end(p);
}

/* A customer's hash: the fields named, or all of it when fields is NULL. */
static size_t read_hash(ff_ent_t *e, const char *suffix, const char *const *fields, size_t n)
{
    const char *key = ff_ent_key(e, suffix);
    return fields ? hmget(e, key, fields, n, NULL) : hgetall(e, key);
}

void ff_customer_fields_add(ff_arena_t *arena, const char **fields, size_t *n, char kind, const char *name)
{
    size_t len = strlen(name), at = kind ? 2 : 0;
    for (size_t i = 0; i < *n; i++)
        if ((!kind || fields[i][0] == kind) && !strcmp(fields[i] + at, name))
            return;
    char *f = ff_arena_alloc(arena, len + at + 1);
    if (kind) {
        f[0] = kind;
        f[1] = ':';
    }
    memcpy(f + at, name, len + 1);
    fields[(*n)++] = f;
}

void ff_customer_intent_days(ff_ent_t *e, int64_t state_now, int64_t intent_window_ms,
                             int64_t *day_from, int64_t *day_to)
{
    int64_t ndays = (intent_window_ms + FF_DAY_MS - 1) / FF_DAY_MS;
    /* Buckets a decision can still count, and the day after (events up
     * to a day ahead of the clock are accepted). */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    *day_to = ff_day_of_ms(state_now) + 1;
    *day_from = ff_day_of_ms(state_now - intent_window_ms) - ndays + 1;
    /* Of those, only the ones this batch's events count: a count at ts
     * spans the window's days up to day(ts) (ff_intent_days). Live
     * traffic reads a week of buckets instead of two. (Safe because
     * what is written depends on no bucket outside that range: a
     * counter is added to, and a decision counts only its window.) */
    FF_ENT_FOREACH(e, ev) {
        lo = ev->ts < lo ? ev->ts : lo;
        hi = ev->ts > hi ? ev->ts : hi;
    }
    if (lo <= hi) {
        int64_t from = ff_day_of_ms(lo) - (ndays > 0 ? ndays : 1) + 1, to = ff_day_of_ms(hi);
        *day_from = from > *day_from ? from : *day_from;
        *day_to = to < *day_to ? to : *day_to;
    }
}

void ff_customer_read(ff_ent_t *e, ff_customer_read_t *rd, unsigned parts, int64_t state_now,
                      int64_t intent_window_ms)
{
    ff_customer_read_fields(e, rd, parts, state_now, intent_window_ms, NULL);
}

void ff_customer_read_fields(ff_ent_t *e, ff_customer_read_t *rd, unsigned parts,
                             int64_t state_now, int64_t intent_window_ms,
                             const ff_customer_fields_t *only)
{
    const char *const *intent_fields = only ? only->intent : NULL;
    size_t nintent_fields = intent_fields ? only->nintent : 0;
    memset(rd, 0, sizeof(*rd));
    rd->day_from = 1; /* no day read, unless set below */
    rd->parts = parts;
    rd->intent_fields = intent_fields;
    rd->nintent_fields = nintent_fields;
    rd->cart_skus = only ? only->cart : NULL;
    rd->ncart_skus = rd->cart_skus ? only->ncart : 0;
    rd->bought_skus = only ? only->bought : NULL;
    rd->nbought_skus = rd->bought_skus ? only->nbought : 0;
    if (intent_fields && !nintent_fields)
        parts &= ~(unsigned)FF_CUST_INTENT; /* nothing to read: no counts */
    if (rd->cart_skus && !rd->ncart_skus)
        parts &= ~(unsigned)FF_CUST_CART;
    if (rd->bought_skus && !rd->nbought_skus)
        parts &= ~(unsigned)FF_CUST_BOUGHT;
    rd->visit_fields = only ? only->visits : NULL;
    rd->nvisit_fields = rd->visit_fields ? only->nvisits : 0;
    if (rd->visit_fields && !rd->nvisit_fields)
        parts &= ~(unsigned)FF_CUST_VISITS;
    if (parts & FF_CUST_INTENT) {
        ff_customer_intent_days(e, state_now, intent_window_ms, &rd->day_from, &rd->day_to);
        /* Every day's bucket, consecutive commands from intent_cmd. The
         * days ask for one list of fields: formatted once, then copied. */
        hmget_list_t list = {0};
        rd->intent_cmd = SIZE_MAX;
        for (int64_t d = rd->day_from; d <= rd->day_to; d++) {
            const char *key = intent_key(e, d);
            size_t cmd = intent_fields ? hmget(e, key, intent_fields, nintent_fields, &list)
                                       : hgetall(e, key);
            if (d == rd->day_from)
                rd->intent_cmd = cmd;
        }
    }
    if (parts & FF_CUST_CART)
        rd->cart_cmd = read_hash(e, "cart", rd->cart_skus, rd->ncart_skus);
    if (parts & FF_CUST_CART_SIZE)
        rd->cart_size_cmd = ff_rpipe_cmd(ff_ent_pipe(e), "HLEN", ff_ent_key(e, "cart"), NULL);
    if (parts & FF_CUST_BOUGHT)
        rd->bought_cmd = read_hash(e, "bought", rd->bought_skus, rd->nbought_skus);
    if (parts & FF_CUST_VISITS)
        rd->visits_cmd = read_hash(e, "visits", rd->visit_fields, rd->nvisit_fields);
    if (parts & FF_CUST_CONSENT)
        rd->consent_cmd = hgetall(e, ff_ent_key(e, "consent"));
    if (parts & FF_CUST_OFFERS) {
        rd->offers_cmd = hgetall(e, ff_ent_key(e, "offers"));
        rd->conv_cmd = hgetall(e, ff_ent_key(e, "conv"));
    }
    if (parts & FF_CUST_PROFILE)
        rd->profile_cmd = hgetall(e, ff_ent_key(e, "profile"));
}

typedef struct parse_ctx_s {
    ff_customer_t *c;
    int64_t day; /* the intent bucket being parsed */
} parse_ctx_t;

/* Calls fn(ctx, field, value) for each pair of an HGETALL reply. */
static void each_pair(const redisReply *r, void (*fn)(parse_ctx_t *, const char *, const char *),
                      parse_ctx_t *ctx)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->str && r->element[i + 1]->str)
            fn(ctx, r->element[i]->str, r->element[i + 1]->str);
}

/* Calls fn(ctx, fields[i], value) for each value an HMGET of fields found. */
static void each_value(const redisReply *r, const char *const *fields, size_t n,
                       void (*fn)(parse_ctx_t *, const char *, const char *), parse_ctx_t *ctx)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements && i < n; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            fn(ctx, fields[i], r->element[i]->str);
}

/* The reply of read_hash, whichever way it read. */
static void each_field(const redisReply *r, const char *const *fields, size_t n,
                       void (*fn)(parse_ctx_t *, const char *, const char *), parse_ctx_t *ctx)
{
    if (fields)
        each_value(r, fields, n, fn, ctx);
    else
        each_pair(r, fn, ctx);
}

/* A stored number (strtoll's reading of s). Nearly every value is a few
 * plain digits, read here without strtoll's locale and overflow checks. */
static int64_t num(const char *s)
{
    int64_t n = 0;
    int i = 0;
    for (; i < 18 && s[i] >= '0' && s[i] <= '9'; i++)
        n = n * 10 + (s[i] - '0');
    if (i > 0 && !s[i])
        return n;
    return strtoll(s, NULL, 10);
}

/* A field of an intent bucket, of length flen. */
static void on_intent_len(parse_ctx_t *ctx, const char *f, size_t flen, const char *v)
{
    if (flen >= 2 && f[1] == ':') {
        if (f[0] == 'k')
            ff_customer_category_append(ctx->c, f + 2, v, ctx->day);
        else if (f[0] == 'v' || f[0] == 'a' || f[0] == 'c')
            ff_customer_count_append_len(ctx->c, ctx->day, f[0], f + 2, flen - 2, num(v));
    }
}

static void on_intent(parse_ctx_t *ctx, const char *f, const char *v)
{
    on_intent_len(ctx, f, strlen(f), v);
}

static void on_cart(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    ff_tsval_t *t = ff_customer_tsval_append(c, &c->cart, &c->ncart, &c->capcart, f);
    t->n = num(v);
    t->read = ff_arena_strdup(c->arena, v);
}

static void on_bought(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    ff_customer_tsval_append(c, &c->bought, &c->nbought, &c->capbought, f)->ts = num(v);
}

static void on_visit(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    if (!f[0] || f[1] != ':')
        return;
    ff_visit_t *vs = ff_customer_visit(c, f + 2, true);
    if (f[0] == 'n')
        vs->count = num(v);
    else if (f[0] == 't')
        vs->last_ts = num(v);
    else if (f[0] == 'h')
        vs->last_assist = num(v);
}

static void on_consent(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    char status[16];
    long long ts;
    for (int ch = 0; ch < 4; ch++) {
        if (strcmp(f, channel_names[ch]) || sscanf(v, "%15s %lld", status, &ts) != 2)
            continue;
        for (int s = 0; s < 3; s++) {
            if (!strcmp(status, status_names[s])) {
                c->consent[ch].set = true;
                c->consent[ch].status = s;
                c->consent[ch].ts = ts;
            }
        }
    }
}

/* Splits "a\x1fb\x1f…" in place into at most max parts. */
static size_t split(char *s, char **parts, size_t max)
{
    size_t n = 0;
    while (n < max) {
        char *sep = strchr(s, SEP[0]);
        parts[n++] = s;
        if (!sep)
            break;
        *sep = '\0';
        s = sep + 1;
    }
    return n;
}

static void on_offer(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    if (!strcmp(f, "ver")) {
        c->offers_ver = num(v);
    } else if (!strcmp(f, "invite")) {
        c->last_invite = num(v);
    } else if (!strncmp(f, "o:", 2)) {
        char *copy = ff_arena_strdup(c->arena, v), *p[9];
        if (split(copy, p, 9) != 9)
            return;
        ff_offer_state_t *o = ff_customer_add_offer(c);
        o->trigger_id = ff_arena_strdup(c->arena, f + 2);
        o->kind = !strcmp(p[0], "INVITE") ? FF_OFFER_INVITE : FF_OFFER_NEARBY;
        o->store_id = p[1];
        o->sku = p[2][0] ? p[2] : NULL;
        o->category = p[3];
        o->code = p[4];
        o->ts = num(p[5]);
        o->expires_at = num(p[6]);
        o->local_day = num(p[7]);
        o->control = p[8][0] == '1';
    }
}

static void on_conv(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    (void)v;
    for (size_t i = 0; i < c->noffers; i++)
        if (!strcmp(c->offers[i].trigger_id, f))
            c->offers[i].converted = true;
}

static void on_profile(parse_ctx_t *ctx, const char *f, const char *v)
{
    ff_customer_t *c = ctx->c;
    if (!strcmp(f, "spend"))
        c->spend = num(v);
    else if (!strcmp(f, "purchases"))
        c->purchases = num(v);
    else if (!strcmp(f, "pruned"))
        c->bought_pruned = num(v);
}

void ff_customer_parse(ff_ent_t *e, const ff_customer_read_t *rd, ff_customer_t *c)
{
    parse_ctx_t ctx = {c, 0};
    parse_ctx_t *cx = &ctx;
    if ((rd->parts & FF_CUST_INTENT) && rd->intent_fields) {
        for (int64_t d = rd->day_from; d <= rd->day_to; d++) {
            ctx.day = d;
            each_value(ff_ent_reply(e, rd->intent_cmd + (size_t)(d - rd->day_from)),
                       rd->intent_fields, rd->nintent_fields, on_intent, cx);
        }
    } else if (rd->parts & FF_CUST_INTENT) {
        size_t counts = 0, skucats = 0;
        for (int64_t d = rd->day_from; d <= rd->day_to; d++) {
            const redisReply *r = ff_ent_reply(e, rd->intent_cmd + (size_t)(d - rd->day_from));
            for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
                *(r->element[i]->str && r->element[i]->str[0] == 'k' ? &skucats : &counts) += 1;
        }
        ff_customer_reserve_intent(c, counts, skucats);
        for (int64_t d = rd->day_from; d <= rd->day_to; d++) {
            const redisReply *r = ff_ent_reply(e, rd->intent_cmd + (size_t)(d - rd->day_from));
            ctx.day = d;
            /* each_pair, with the fields' lengths: a week is thousands. */
            for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
                if (r->element[i]->str && r->element[i + 1]->str)
                    on_intent_len(cx, r->element[i]->str, r->element[i]->len,
                                  r->element[i + 1]->str);
        }
    }
    if (rd->parts & FF_CUST_INTENT) {
        ff_customer_categories_settle(c);
        ff_customer_counts_settle(c);
    }
    if (rd->parts & FF_CUST_CART)
        each_field(ff_ent_reply(e, rd->cart_cmd), rd->cart_skus, rd->ncart_skus, on_cart, cx);
    if (rd->parts & FF_CUST_CART_SIZE) {
        const redisReply *r = ff_ent_reply(e, rd->cart_size_cmd);
        if (r && r->type == REDIS_REPLY_INTEGER)
            c->cart_skus = r->integer;
    }
    if (rd->parts & FF_CUST_BOUGHT) {
        each_field(ff_ent_reply(e, rd->bought_cmd), rd->bought_skus, rd->nbought_skus, on_bought,
                   cx);
        ff_customer_bought_settle(c);
    }
    if (rd->parts & FF_CUST_VISITS)
        each_field(ff_ent_reply(e, rd->visits_cmd), rd->visit_fields, rd->nvisit_fields, on_visit,
                   cx);
    if (rd->parts & FF_CUST_CONSENT)
        each_pair(ff_ent_reply(e, rd->consent_cmd), on_consent, cx);
    if (rd->parts & FF_CUST_OFFERS) {
        each_pair(ff_ent_reply(e, rd->offers_cmd), on_offer, cx);
        each_pair(ff_ent_reply(e, rd->conv_cmd), on_conv, cx);
    }
    if (rd->parts & FF_CUST_PROFILE)
        each_pair(ff_ent_reply(e, rd->profile_cmd), on_profile, cx);
}

void ff_customer_take(ff_customer_t *c, const char *suffix, const redisReply *reply)
{
    static const struct {
        const char *name;
        void (*fn)(parse_ctx_t *, const char *, const char *);
    } parts[] = {{"cart", on_cart},       {"visits", on_visit},
                 {"consent", on_consent}, {"offers", on_offer},  {"profile", on_profile}};
    parse_ctx_t ctx = {c, 0};
    if (!strncmp(suffix, "intent:", 7)) {
        ctx.day = strtoll(suffix + 7, NULL, 10);
        each_pair(reply, on_intent, &ctx);
        ff_customer_categories_settle(c);
        ff_customer_counts_settle(c);
        return;
    }
    if (!strcmp(suffix, "bought")) {
        each_pair(reply, on_bought, &ctx);
        ff_customer_bought_settle(c);
        return;
    }
    if (!strcmp(suffix, "conv")) {
        each_pair(reply, on_conv, &ctx); /* after the offers */
        return;
    }
    for (size_t i = 0; i < FF_ARRAY_LEN(parts); i++)
        if (!strcmp(suffix, parts[i].name))
            each_pair(reply, parts[i].fn, &ctx);
}

/* ---- changes ------------------------------------------------------------------ */

static char *fmt_i64(ff_ent_t *e, int64_t v)
{
    char *out = ff_arena_alloc(e->arena, 24);
    out[ff_fmt_i64(out, v)] = '\0';
    return out;
}

/* The key of a customer's intent bucket for a day. */
static const char *intent_key(ff_ent_t *e, int64_t day)
{
    char suffix[32] = "intent:";
    suffix[7 + ff_fmt_i64(suffix + 7, day)] = '\0';
    return ff_ent_key(e, suffix);
}

void ff_cust_count(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl, int64_t day,
                   char kind, const char *key, const char *category, int64_t n,
                   int64_t state_now)
{
    const char *bucket = intent_key(e, day);
    char field[2 * FF_ID_MAX_FIELD];
    size_t len = 2, klen = strnlen(key, FF_ID_MAX_FIELD);
    field[0] = kind;
    field[1] = ':';
    memcpy(field + len, key, klen);
    len += klen;
    if (kind != 'c' && category) {
        size_t clen = strnlen(category, FF_ID_MAX_FIELD);
        field[len++] = FF_SKU_CATEGORY_SEP;
        memcpy(field + len, category, clen);
        len += clen;
    }
    field[len] = '\0';
    ff_customer_count(c, day, kind, key, category, n);
    /* A customer's categories are few; the SKUs of one who views
     * everything (a crawler, or the bench's busiest customer) are not, and
     * every read of the bucket would carry them. */
    ff_ent_hincrby_cap(e, bucket, field, n, kind == 'c' ? 0 : ttl->intent_bucket_max);
    /* The bucket lives until its day has left the window, and a day more. */
    ff_ent_pexpire(e, bucket, (day + 1) * FF_DAY_MS + ttl->intent_ms + FF_DAY_MS - state_now);
}

void ff_cust_cart(ff_ent_t *e, ff_customer_t *c, const char *sku, int64_t delta)
{
    ff_tsval_t *v = ff_customer_tsval(c, &c->cart, &c->ncart, &c->capcart, sku, true);
    const char *key = ff_ent_key(e, "cart");
    /* The quantity written is the one read plus this batch's changes, and
     * footfall-pos clears a bought SKU from the cart meanwhile, in its own
     * script: write only over the value read (else decide again), or a
     * purchase's clearing is lost. */
    if (!v->guarded) {
        ff_ent_guard(e, key, sku, v->read);
        v->guarded = true;
    }
    v->n = v->n + delta > 0 ? v->n + delta : 0;
    if (v->n > 0)
        ff_ent_hset(e, key, sku, fmt_i64(e, v->n));
    else
        ff_ent_hdel(e, key, sku);
    ff_ent_pexpire(e, key, 30 * FF_DAY_MS);
}

void ff_cust_cart_clear(ff_ent_t *e, ff_customer_t *c, const char *sku)
{
    ff_tsval_t *v = ff_customer_tsval(c, &c->cart, &c->ncart, &c->capcart, sku, false);
    if (!v || v->n == 0)
        return;
    v->n = 0;
    ff_ent_hdel(e, ff_ent_key(e, "cart"), sku);
}

void ff_cust_bought(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                    const char *sku, int64_t ts, int64_t state_now)
{
    const char *key = ff_ent_key(e, "bought");
    ff_tsval_t *v = ff_customer_tsval(c, &c->bought, &c->nbought, &c->capbought, sku, true);
    int64_t today = ff_day_of_ms(state_now);
    if (ts > v->ts) {
        v->ts = ts;
        ff_ent_hset(e, key, sku, fmt_i64(e, ts));
    }
    /* Purchases that left the window are forgotten here, not by a recount;
     * once a day is enough, since a decision checks a purchase's time
     * anyway (ff_customer_bought_recently): the server does it, and a
     * customer with thousands of purchases is not read whole. */
    if (c->bought_pruned != today) {
        int64_t max = state_now - ttl->purchase_ms;
        ff_ent_hprune(e, key, max);
        for (size_t i = 0; i < c->nbought; i++)
            if (c->bought[i].ts && c->bought[i].ts <= max)
                c->bought[i].ts = 0;
        ff_ent_hset(e, ff_ent_key(e, "profile"), "pruned", fmt_i64(e, today));
        c->bought_pruned = today;
    }
    ff_ent_pexpire(e, key, ttl->purchase_ms + FF_DAY_MS);
}

void ff_cust_visit(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                   const char *store_id, int64_t ts)
{
    const char *key = ff_ent_key(e, "visits");
    ff_visit_t *v = ff_customer_visit(c, store_id, true);
    char field[FF_ID_MAX_FIELD];
    v->count++;
    snprintf(field, sizeof field, "n:%s", store_id);
    ff_ent_hincrby(e, key, field, 1);
    if (ts > v->last_ts) {
        v->last_ts = ts;
        snprintf(field, sizeof field, "t:%s", store_id);
        ff_ent_hset(e, key, field, fmt_i64(e, ts));
    }
    ff_ent_pexpire(e, key, ttl->visit_ms + FF_DAY_MS);
}

void ff_cust_assisted(ff_ent_t *e, ff_customer_t *c, const char *store_id, int64_t ts)
{
    ff_visit_t *v = ff_customer_visit(c, store_id, true);
    char field[FF_ID_MAX_FIELD];
    v->last_assist = ts;
    snprintf(field, sizeof field, "h:%s", store_id);
    ff_ent_hset(e, ff_ent_key(e, "visits"), field, fmt_i64(e, ts));
}

void ff_cust_consent(ff_ent_t *e, ff_customer_t *c, int channel, int status, int64_t ts)
{
    ff_consent_state_t *cs = &c->consent[channel];
    /* The latest by event time wins; a record that arrives late but is
     * older than what we know changes nothing. */
    if (cs->set && ts < cs->ts)
        return;
    cs->set = true;
    cs->status = status;
    cs->ts = ts;
    ff_ent_hsetf(e, ff_ent_key(e, "consent"), channel_names[channel], "%s %lld",
                 status_names[status], (long long)ts);
}

void ff_cust_offer(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                   const ff_offer_state_t *offer, int64_t state_now)
{
    const char *key = ff_ent_key(e, "offers");
    char field[FF_ID_MAX_FIELD + 16];
    ff_offer_state_t *o;
    if (!c->offers_guarded) {
        ff_ent_guard(e, key, "ver", c->offers_ver ? fmt_i64(e, c->offers_ver) : NULL);
        c->offers_guarded = true;
    }
    /* One per offer, not per batch: the state must not depend on where
     * batches happened to start. */
    ff_ent_hincrby(e, key, "ver", 1);
    o = ff_customer_add_offer(c);
    *o = *offer;
    snprintf(field, sizeof field, "o:%s", offer->trigger_id);
    ff_ent_hsetf(e, key, field, "%s" SEP "%s" SEP "%s" SEP "%s" SEP "%s" SEP "%lld" SEP "%lld" SEP
                 "%lld" SEP "%d",
                 ff_offer_kind_name(offer->kind), offer->store_id, offer->sku ? offer->sku : "",
                 offer->category, offer->code, (long long)offer->ts, (long long)offer->expires_at,
                 (long long)offer->local_day, offer->control ? 1 : 0);
    /* Offers older than anything still needs them are forgotten here. */
    for (size_t i = 0; i < c->noffers; i++) {
        ff_offer_state_t *old = &c->offers[i];
        if (old->trigger_id && old->ts <= state_now - ttl->offers_ms) {
            snprintf(field, sizeof field, "o:%s", old->trigger_id);
            ff_ent_hdel(e, key, field);
        }
    }
    ff_ent_pexpire(e, key, ttl->offers_ms + FF_DAY_MS);
}

void ff_cust_invited(ff_ent_t *e, ff_customer_t *c, int64_t ts)
{
    if (ts <= c->last_invite)
        return;
    c->last_invite = ts;
    ff_ent_hset(e, ff_ent_key(e, "offers"), "invite", fmt_i64(e, ts));
}

void ff_cust_converted(ff_ent_t *e, ff_customer_t *c, const ff_customer_ttl_t *ttl,
                       ff_offer_state_t *offer, const char *transaction_id, int64_t ts)
{
    const char *key = ff_ent_key(e, "conv");
    (void)c;
    offer->converted = true;
    ff_ent_hsetf(e, key, offer->trigger_id, "%s %lld", transaction_id, (long long)ts);
    ff_ent_pexpire(e, key, ttl->offers_ms + FF_DAY_MS);
}

void ff_cust_spend(ff_ent_t *e, ff_customer_t *c, int64_t cents)
{
    const char *key = ff_ent_key(e, "profile");
    c->spend += cents;
    c->purchases++;
    ff_ent_hincrby(e, key, "spend", cents);
    ff_ent_hincrby(e, key, "purchases", 1);
}

void ff_cust_demand(ff_ent_t *e, const ff_customer_ttl_t *ttl, const char *sku, int64_t day,
                    const char *customer_id, int64_t state_now)
{
    ff_rpipe_t *side = ff_ent_side_pipe(e);
    const char *tag = ff_arena_printf(e->arena, "k:%s", sku);
    const char *key = ff_engine_key(e, tag, ff_arena_printf(e->arena, "demand:%lld", (long long)day));
    ff_rpipe_begin(side);
    ff_rpipe_arg_str(side, "PFADD");
    ff_rpipe_arg_str(side, key);
    ff_rpipe_arg_str(side, customer_id);
    ff_rpipe_end(side);
    ff_rpipe_begin(side);
    ff_rpipe_arg_str(side, "PEXPIRE");
    ff_rpipe_arg_str(side, key);
    ff_rpipe_arg_i64(side, (day + 1) * FF_DAY_MS + ttl->intent_ms + FF_DAY_MS - state_now);
    ff_rpipe_end(side);
}

size_t ff_stock_read(ff_ent_t *e, const char *store_id, const char *part, const char *const *keys,
                     size_t n)
{
    ff_rpipe_t *p = ff_ent_pipe(e);
    const char *tag = ff_arena_printf(e->arena, "s:%s", store_id);
    ff_rpipe_begin(p);
    ff_rpipe_arg_str(p, "HMGET");
    ff_rpipe_arg_str(p, ff_engine_key(e, tag, part));
    for (size_t i = 0; i < n; i++)
        ff_rpipe_arg_str(p, keys[i]);
    return ff_rpipe_end(p);
}

int64_t ff_stock_value(ff_ent_t *e, size_t cmd, size_t i)
{
    redisReply *r = ff_ent_reply(e, cmd);
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_STRING)
        return 0;
    return num(r->element[i]->str);
}
