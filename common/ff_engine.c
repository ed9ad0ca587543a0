/* ff_engine: runs a batch of records against Redis state: read, decide, guarded write, exactly once. */
#include "ff_engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_embedded.h"
#include "ff_log.h"
#include "ff_proc.h"

/* How often an entity may lose a guard race in one batch before the batch
 * fails (and is retried after a backoff). */
#define MAX_ATTEMPTS 8

typedef enum {
    ENT_DECIDING,
    ENT_WRITE,   /* decided, write pending */
    ENT_APPLIED, /* written (or nothing to write) */
    ENT_RETRY,   /* lost a guard race: decide again */
} ent_status_t;

typedef struct src_s {
    const char *field; /* "<topic>:<partition>" */
    size_t field_len;
    const char *topic;
    int32_t partition;
    int64_t expected;  /* applied offset read, -1: none */
    int64_t max;       /* highest offset of this source in the batch */
    int64_t floor;
} src_t;

/* One write of ff_apply.lua's list (op, key index, argc, args). A raw op
 * is kept as the protocol sends it: formatted once, copied once. HINCRBY
 * and HINCRBYCAP (an incr) and HSET are kept apart until the write, so
 * that a later write of the same key can be merged into them (add_incr,
 * add_hset): a customer's batch of ten purchases then sends one HSET of
 * their SKUs and one HINCRBY of their spend, not ten of each. */
typedef enum { OP_RAW, OP_INCR, OP_HSET } op_kind_t;

/* Field/value pairs of an HSET, as bulk strings. */
typedef struct pairs_s {
    struct pairs_s *next;
    size_t nargs, len;
    char resp[];
} pairs_t;

typedef struct op_s {
    struct op_s *next;
    struct op_s *key_prev; /* the op before it on the same key, or NULL */
    op_kind_t kind;
    int keyidx;
    const char *field; /* OP_INCR: the field, its length, the sum, the cap (0: none) */
    size_t field_len;
    int64_t by, max;
    pairs_t *more, **more_tail; /* OP_HSET: its field/value pairs */
    size_t nargs;               /* OP_RAW: 3 + its argc; OP_HSET: the pairs' argc in all */
    size_t len;
    char resp[]; /* OP_RAW: the whole op */
} op_t;

/* What a write of an entity keeps per key index: its last op (for the
 * merges) and the TTL the write ends with, 0 if none. */
typedef struct kslot_s {
    op_t *last;
    int64_t ttl;
} kslot_t;

typedef struct wkey_s {
    const char *s;
    size_t len;
} wkey_t;

typedef struct guard_s {
    struct guard_s *next;
    int keyidx;
    const char *field;
    const char *expected;
} guard_t;

struct ff_ent_private_s {
    ent_status_t status;
    src_t *srcs;
    size_t nsrcs;
    bool applied_known;
    size_t applied_cmd;   /* index of the HMGET (HGETALL) of applied offsets, or SIZE_MAX */
    const char *applied_token; /* ff_ent_applied_token */
    size_t outcomes_cmd;  /* index of the HMGET of stored outputs, or SIZE_MAX */
    bool decided;
    wkey_t *keys; /* write keys: [0] applied, [1] outcomes, then data keys */
    size_t nkeys, capkeys;
    op_t *ops, **ops_tail;
    size_t nops;
    kslot_t *kslots; /* by key index */
    size_t capkslots, nttl;
    guard_t *guards;
    size_t nguards;
    size_t write_cmd;
    int attempts;
};

typedef struct cached_applied_s {
    size_t n;
    char **fields;
    int64_t *offsets;
} cached_applied_t;

struct ff_engine_s {
    ff_redis_t *redis;
    ff_codec_t *codec;
    const ff_engine_ops_t *ops;
    void *proc;
    ff_engine_opts_t opts;
    int script;
    ff_rpipe_t pipes[2];
    int cur; /* pipes[cur] holds the replies of the last round */
    ff_rpipe_t side;
    ff_map_t cache; /* tag -> cached_applied_t */
    ff_engine_stats_t stats;
    ff_buf_t scratch;
};

static void cached_free(cached_applied_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->fields[i]);
    free(c->fields);
    free(c->offsets);
    free(c);
}

static void cached_free_cb(const char *key, void *value, void *opaque)
{
    (void)key;
    (void)opaque;
    cached_free(value);
}

ff_engine_t *ff_engine_new(ff_redis_t *redis, ff_codec_t *codec, const ff_engine_ops_t *ops,
                           void *proc, const ff_engine_opts_t *opts)
{
    ff_engine_t *engine = ff_calloc(1, sizeof(*engine));
    const char *lua = ff_embedded_get("common/lua/ff_apply.lua");
    engine->redis = redis;
    engine->codec = codec;
    engine->ops = ops;
    engine->proc = proc;
    engine->opts = *opts;
    engine->script = ff_redis_script(redis, "ff_apply", lua);
    ff_rpipe_init(&engine->pipes[0]);
    ff_rpipe_init(&engine->pipes[1]);
    ff_rpipe_init(&engine->side);
    ff_map_init(&engine->cache);
    ff_buf_init(&engine->scratch);
    return engine;
}

void ff_engine_destroy(ff_engine_t *engine)
{
    if (!engine)
        return;
    ff_map_each(&engine->cache, cached_free_cb, NULL);
    ff_map_term(&engine->cache);
    ff_rpipe_term(&engine->pipes[0]);
    ff_rpipe_term(&engine->pipes[1]);
    ff_rpipe_term(&engine->side);
    ff_buf_term(&engine->scratch);
    free(engine);
}

void ff_engine_forget(ff_engine_t *engine)
{
    ff_map_each(&engine->cache, cached_free_cb, NULL);
    ff_map_clear(&engine->cache);
    if (engine->ops->forget)
        engine->ops->forget(engine->proc, NULL);
}

const ff_engine_stats_t *ff_engine_stats(const ff_engine_t *engine)
{
    return &engine->stats;
}

/* ---- helpers for processors ------------------------------------------------ */

const char *ff_engine_key(ff_ent_t *e, const char *tag, const char *suffix)
{
    /* Every command names a key or two: one pass, each length taken once. */
    const char *prefix = e->engine->opts.prefix;
    size_t np = strlen(prefix), nt = strlen(tag), ns = strlen(suffix);
    char *k = ff_arena_alloc(e->arena, np + nt + ns + 5), *w = k;
    memcpy(w, prefix, np);
    w += np;
    memcpy(w, ":{", 2);
    memcpy(w + 2, tag, nt);
    w += 2 + nt;
    memcpy(w, "}:", 2);
    memcpy(w + 2, suffix, ns + 1);
    return k;
}

const char *ff_ent_key(ff_ent_t *e, const char *suffix)
{
    return ff_engine_key(e, e->tag, suffix);
}

ff_rpipe_t *ff_ent_pipe(ff_ent_t *e)
{
    return &e->engine->pipes[!e->engine->cur];
}

redisReply *ff_ent_reply(ff_ent_t *e, size_t index)
{
    return ff_rpipe_reply(&e->engine->pipes[e->engine->cur], index);
}

const char *ff_ent_applied_token(const ff_ent_t *e)
{
    return e->priv->applied_token;
}

void ff_ent_count_cached(ff_ent_t *e, bool hit)
{
    if (hit)
        e->engine->stats.cache_hits++;
    else
        e->engine->stats.cache_misses++;
}

ff_rpipe_t *ff_ent_side_pipe(ff_ent_t *e)
{
    return &e->engine->side;
}

static int key_index(ff_ent_t *e, const char *key)
{
    struct ff_ent_private_s *p = e->priv;
    size_t len = strlen(key);
    for (size_t i = 0; i < p->nkeys; i++)
        if (p->keys[i].len == len && !memcmp(p->keys[i].s, key, len))
            return (int)i + 1; /* Lua's KEYS are 1-based */
    if (p->nkeys == p->capkeys) {
        size_t cap = p->capkeys ? p->capkeys * 2 : 8;
        wkey_t *keys = ff_arena_alloc(e->arena, cap * sizeof(*keys));
        if (p->nkeys)
            memcpy(keys, p->keys, p->nkeys * sizeof(*keys));
        p->keys = keys;
        p->capkeys = cap;
    }
    p->keys[p->nkeys].s = ff_arena_strndup(e->arena, key, len);
    p->keys[p->nkeys].len = len;
    p->nkeys++;
    return (int)p->nkeys;
}

/* The slot of key index idx, grown to hold it. */
static kslot_t *kslot(ff_ent_t *e, int idx)
{
    struct ff_ent_private_s *p = e->priv;
    if ((size_t)idx >= p->capkslots) {
        size_t cap = p->capkslots ? p->capkslots * 2 : 16;
        while (cap <= (size_t)idx)
            cap *= 2;
        kslot_t *grown = ff_arena_alloc(e->arena, cap * sizeof(*grown));
        memset(grown, 0, cap * sizeof(*grown));
        if (p->capkslots)
            memcpy(grown, p->kslots, p->capkslots * sizeof(*grown));
        p->kslots = grown;
        p->capkslots = cap;
    }
    return &p->kslots[idx];
}

/* A new op of kind on key idx with room for len bytes of resp, linked last. */
static op_t *new_op(ff_ent_t *e, op_kind_t kind, int idx, size_t len)
{
    struct ff_ent_private_s *p = e->priv;
    kslot_t *slot = kslot(e, idx);
    op_t *op = ff_arena_alloc(e->arena, sizeof(*op) + len);
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->keyidx = idx;
    op->len = len;
    op->key_prev = slot->last;
    slot->last = op;
    *p->ops_tail = op;
    p->ops_tail = &op->next;
    p->nops++;
    return op;
}

/* The bulk strings of args (lens, or NULL for C strings) into w; their size
 * when w is NULL. */
static size_t put_args(char *w, int nargs, const char *const *args, const size_t *lens)
{
    size_t total = 0;
    for (int i = 0; i < nargs; i++) {
        size_t n = lens ? lens[i] : strlen(args[i]);
        total += w ? ff_resp_bulk(w + total, args[i], n) : ff_resp_bulk_len(n);
    }
    return total;
}

static void add_op(ff_ent_t *e, const char *cmd, const char *key, int nargs,
                   const char *const *args, const size_t *lens)
{
    char keyidx[24], argc[24];
    int idx = key_index(e, key);
    size_t nkeyidx = ff_fmt_i64(keyidx, idx), nargc = ff_fmt_i64(argc, nargs);
    size_t ncmd = strlen(cmd), head;
    head = ff_resp_bulk_len(ncmd) + ff_resp_bulk_len(nkeyidx) + ff_resp_bulk_len(nargc);
    op_t *op = new_op(e, OP_RAW, idx, head + put_args(NULL, nargs, args, lens));
    char *w = op->resp;
    op->nargs = 3 + (size_t)nargs;
    w += ff_resp_bulk(w, cmd, ncmd);
    w += ff_resp_bulk(w, keyidx, nkeyidx);
    w += ff_resp_bulk(w, argc, nargc);
    put_args(w, nargs, args, lens);
}

/* The most of an HSET's arguments one merge makes (the script unpacks
 * them onto Lua's stack in one call). */
#define HSET_MERGE_MAX_ARGS 256

/* HSET of nargs field/value args on key: merged into the key's last op when
 * that is an HSET too (the same writes, in the same order). */
static void add_hset(ff_ent_t *e, const char *key, int nargs, const char *const *args,
                     const size_t *lens)
{
    int idx = key_index(e, key);
    op_t *op = kslot(e, idx)->last;
    size_t len = put_args(NULL, nargs, args, lens);
    if (!op || op->kind != OP_HSET || op->nargs + (size_t)nargs > HSET_MERGE_MAX_ARGS) {
        op = new_op(e, OP_HSET, idx, 0);
        op->more_tail = &op->more;
    }
    pairs_t *pairs = ff_arena_alloc(e->arena, sizeof(*pairs) + len);
    pairs->next = NULL;
    pairs->nargs = (size_t)nargs;
    pairs->len = put_args(pairs->resp, nargs, args, lens);
    *op->more_tail = pairs;
    op->more_tail = &pairs->next;
    op->nargs += (size_t)nargs;
}

/* How far back add_incr looks for an incr of the same field. */
#define INCR_MERGE_LOOKBACK 32

/* HINCRBY (max <= 0) or HINCRBYCAP of field on key: added to an incr of the
 * same field and cap among the key's last ops when only incrs come after
 * it. Neither deletes a field, so the field exists after the merged op
 * exactly when it would after both, and every op between sees the same
 * fields. (Redis checks each HINCRBY for int64 overflow, so a counter
 * within its increments of the limit would fail at another op, or not at
 * all; footfall's counters are counts and amounts, nowhere near it.) */
static void add_incr(ff_ent_t *e, const char *key, const char *field, int64_t by, int64_t max)
{
    int idx = key_index(e, key);
    size_t flen = strlen(field);
    int64_t cap = max > 0 ? max : 0, sum;
    int n = 0;
    for (op_t *o = kslot(e, idx)->last; o && o->kind == OP_INCR && n < INCR_MERGE_LOOKBACK;
         o = o->key_prev, n++) {
        if (o->field_len != flen || memcmp(o->field, field, flen))
            continue;
        if (o->max == cap && !__builtin_add_overflow(o->by, by, &sum)) {
            o->by = sum;
            return;
        }
        break;
    }
    op_t *op = new_op(e, OP_INCR, idx, 0);
    op->field = ff_arena_strndup(e->arena, field, flen);
    op->field_len = flen;
    op->by = by;
    op->max = cap;
}

/* An op into the script's arguments. */
static void write_op(ff_rpipe_t *pipe, const op_t *op)
{
    switch (op->kind) {
    case OP_RAW:
        ff_rpipe_raw(pipe, op->resp, op->len, op->nargs);
        return;
    case OP_INCR:
        ff_rpipe_arg_str(pipe, op->max ? "HINCRBYCAP" : "HINCRBY");
        ff_rpipe_arg_i64(pipe, op->keyidx);
        ff_rpipe_arg_i64(pipe, op->max ? 3 : 2);
        ff_rpipe_arg(pipe, op->field, op->field_len);
        ff_rpipe_arg_i64(pipe, op->by);
        if (op->max)
            ff_rpipe_arg_i64(pipe, op->max);
        return;
    case OP_HSET:
        ff_rpipe_arg_str(pipe, "HSET");
        ff_rpipe_arg_i64(pipe, op->keyidx);
        ff_rpipe_arg_i64(pipe, (int64_t)op->nargs);
        for (const pairs_t *m = op->more; m; m = m->next)
            ff_rpipe_raw(pipe, m->resp, m->len, m->nargs);
        return;
    }
}

void ff_ent_op(ff_ent_t *e, const char *cmd, const char *key, int nargs, const char *const *args,
               const size_t *lens)
{
    /* What ff_apply.lua runs as given; its own ops have their functions. */
    if (strcmp(cmd, "HSET") && strcmp(cmd, "SADD")) {
        /* A bug in a processor: anything else could empty a key mid-script. */
        fprintf(stderr, "footfall: ff_ent_op %s is not an op of ff_apply.lua\n", cmd);
        abort();
    }
    if (!strcmp(cmd, "HSET"))
        add_hset(e, key, nargs, args, lens);
    else
        add_op(e, cmd, key, nargs, args, lens);
}

void ff_ent_hset(ff_ent_t *e, const char *key, const char *field, const char *value)
{
    const char *args[2] = {field, value};
    add_hset(e, key, 2, args, NULL);
}

void ff_ent_hsetf(ff_ent_t *e, const char *key, const char *field, const char *fmt, ...)
{
    ff_buf_t b;
    va_list ap;
    ff_buf_init(&b);
    va_start(ap, fmt);
    ff_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ff_ent_hset(e, key, field, b.data ? b.data : "");
    ff_buf_term(&b);
}

void ff_ent_hset_i64(ff_ent_t *e, const char *key, const char *field, int64_t v)
{
    char num[24];
    num[ff_fmt_i64(num, v)] = '\0';
    ff_ent_hset(e, key, field, num);
}

void ff_ent_hincrby(ff_ent_t *e, const char *key, const char *field, int64_t by)
{
    add_incr(e, key, field, by, 0);
}

void ff_ent_hincrby_z(ff_ent_t *e, const char *key, const char *field, int64_t by)
{
    char num[24];
    const char *args[2] = {field, num};
    num[ff_fmt_i64(num, by)] = '\0';
    add_op(e, "HINCRBYZ", key, 2, args, NULL);
}

void ff_ent_hincrby_cap(ff_ent_t *e, const char *key, const char *field, int64_t by,
                        int64_t max)
{
    add_incr(e, key, field, by, max);
}

void ff_ent_hset_cap(ff_ent_t *e, const char *key, const char *field, const char *value,
                     int64_t max)
{
    char cap[24];
    const char *args[3] = {field, value, cap};
    cap[ff_fmt_i64(cap, max)] = '\0';
    if (max > 0)
        add_op(e, "HSETCAP", key, 3, args, NULL);
    else
        add_hset(e, key, 2, args, NULL);
}

void ff_ent_hprune(ff_ent_t *e, const char *key, int64_t max)
{
    char num[24];
    const char *args[1] = {num};
    num[ff_fmt_i64(num, max)] = '\0';
    add_op(e, "HPRUNE", key, 1, args, NULL);
}

void ff_ent_hdel(ff_ent_t *e, const char *key, const char *field)
{
    const char *args[1] = {field};
    add_op(e, "HDEL", key, 1, args, NULL);
}

void ff_ent_pexpire(ff_ent_t *e, const char *key, int64_t ms)
{
    struct ff_ent_private_s *p = e->priv;
    kslot_t *slot = kslot(e, key_index(e, key));
    /* Only a key's last TTL counts, and setting it after every other write
     * of the batch leaves the same state: one PEXPIRE per key, after all
     * the other ops (append_write). A hot customer's batch otherwise sends
     * one per event. */
    if (!slot->ttl)
        p->nttl++;
    slot->ttl = ms > 0 ? ms : 1;
}

void ff_ent_guard(ff_ent_t *e, const char *key, const char *field, const char *expected)
{
    struct ff_ent_private_s *p = e->priv;
    guard_t *g = ff_arena_alloc(e->arena, sizeof(*g));
    g->keyidx = key_index(e, key);
    g->field = ff_arena_strdup(e->arena, field);
    g->expected = ff_arena_strdup(e->arena, expected ? expected : "");
    g->next = p->guards;
    p->guards = g;
    p->nguards++;
}

const char *ff_event_rule_id(ff_arena_t *arena, const ff_event_t *ev, const char *rule,
                             const char *suffix)
{
    size_t tl = strlen(ev->topic), rl = strlen(rule), sl = strlen(suffix), n = 0;
    char *id = ff_arena_alloc(arena, tl + rl + sl + 48); /* 3 colons, 2 numbers, NUL */
    memcpy(id, ev->topic, tl);
    n = tl;
    id[n++] = ':';
    n += ff_fmt_i64(id + n, ev->partition);
    id[n++] = ':';
    n += ff_fmt_i64(id + n, ev->offset);
    id[n++] = ':';
    memcpy(id + n, rule, rl);
    memcpy(id + n + rl, suffix, sl + 1);
    return id;
}

const char *ff_trigger_id(ff_arena_t *arena, const ff_event_t *ev, const char *rule)
{
    return ff_event_rule_id(arena, ev, rule, "");
}

static void link_output(ff_event_t *ev, ff_output_t *o)
{
    o->next = NULL;
    if (!ev->outputs_tail)
        ev->outputs_tail = &ev->outputs;
    *ev->outputs_tail = o;
    ev->outputs_tail = &o->next;
}

ff_triggers_mode_t ff_triggers_mode(const char *value, const char **shadow_topic)
{
    *shadow_topic = NULL;
    if (!strcmp(value, "off"))
        return FF_TRIGGERS_OFF;
    if (!strcmp(value, "replayed"))
        return FF_TRIGGERS_REPLAYED;
    if (!strncmp(value, "shadow:", 7)) {
        *shadow_topic = value + 7;
        return FF_TRIGGERS_SHADOW;
    }
    return FF_TRIGGERS_ON;
}

static void emit_raw(ff_ent_t *e, ff_event_t *ev, const char *topic, const char *key,
                     ff_rec_t type, const void *rec, int label)
{
    ff_buf_t *b = &e->engine->scratch;
    ff_output_t *o = ff_arena_alloc(e->arena, sizeof(*o));
    ff_buf_reset(b);
    ff_codec_encode(e->engine->codec, type, rec, b);
    o->topic = ff_arena_strdup(e->arena, topic);
    o->key_len = key ? strlen(key) : 0;
    o->key = key ? ff_arena_strndup(e->arena, key, o->key_len) : NULL;
    o->value_len = b->len;
    o->value = ff_arena_strndup(e->arena, b->data, b->len);
    o->label = label;
    link_output(ev, o);
}

/* Triggers off: the decision that stands for a trigger that was not sent. */
static void replay_decision(ff_ent_t *e, ff_event_t *ev, const char *topic, ff_rec_t type,
                            const void *rec)
{
    const ff_route_t *r = &e->engine->opts.route;
    ff_decision_t d = {
        .processor = r->processor,
        .outcome = FF_OUTCOME_SUPPRESSED,
        .reason = FF_REASON_REPLAY,
        .detail = ff_arena_printf(e->arena, "triggers off: not sent to %s", topic),
        .source_topic = ev->topic,
        .source_partition = ev->partition,
        .source_offset = ev->offset,
        .source_event_id = ev->event_id,
        .ts = ev->ts,
        .replayed = true,
    };
    switch (type) {
    case FF_REC_DRIVE_TO_STORE_OFFER: {
        const ff_offer_t *o = rec;
        d.rule = ff_offer_kind_name(o->kind);
        d.trigger_id = o->trigger_id;
        d.customer_id = o->customer_id;
        d.store_id = o->store_id;
        break;
    }
    case FF_REC_STORE_ASSIST: {
        const ff_store_assist_t *a = rec;
        d.rule = "STORE_ASSIST";
        d.trigger_id = a->trigger_id;
        d.customer_id = a->customer_id;
        d.store_id = a->store_id;
        break;
    }
    case FF_REC_STOCK_ALERT: {
        const ff_stock_alert_t *a = rec;
        d.rule = "STOCK_ALERT";
        d.trigger_id = a->trigger_id;
        d.store_id = a->store_id;
        break;
    }
    case FF_REC_OFFER_CONVERSION: {
        const ff_conversion_t *c = rec;
        d.rule = "CONVERSION";
        d.trigger_id = c->trigger_id;
        d.customer_id = c->customer_id;
        d.store_id = c->store_id;
        break;
    }
    default:
        return;
    }
    d.decision_id = ff_arena_concat(e->arena, d.trigger_id, ":decision", (const char *)NULL);
    emit_raw(e, ev, r->decisions_topic, d.customer_id ? d.customer_id : d.store_id,
             FF_REC_DECISION, &d, FF_LABEL_SUPPRESSED + FF_REASON_REPLAY);
}

void ff_ent_emit(ff_ent_t *e, ff_event_t *ev, const char *topic, const char *key, ff_rec_t type,
                 const void *rec, int label)
{
    const ff_route_t *r = &e->engine->opts.route;
    switch (r->mode) {
    case FF_TRIGGERS_SHADOW:
        emit_raw(e, ev, r->shadow_topic, key, type, rec, label);
        return;
    case FF_TRIGGERS_OFF:
        if (type == FF_REC_DECISION) {
            ff_decision_t d = *(const ff_decision_t *)rec;
            if (d.outcome == FF_OUTCOME_FIRED)
                return;
            d.replayed = true;
            emit_raw(e, ev, topic, key, type, &d, label);
        } else if (label != FF_LABEL_HOLDOUT) {
            /* A withheld offer is already told by its HOLDOUT decision. */
            replay_decision(e, ev, topic, type, rec);
        }
        return;
    default:
        emit_raw(e, ev, topic, key, type, rec, label);
    }
}

/* ---- stored outputs -------------------------------------------------------- */

static void put_u32(ff_buf_t *b, uint32_t v)
{
    char c[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    ff_buf_append(b, c, 4);
}

static int get_u32(const char **p, const char *end, uint32_t *v)
{
    const unsigned char *u = (const unsigned char *)*p;
    if (end - *p < 4)
        return -1;
    *v = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
    *p += 4;
    return 0;
}

/* Layout: per output: u32 label, u32 topic len, topic, u32 key len + 1 (0 =
 * no key), key, u32 value len, value. */
void ff_outputs_encode(const ff_output_t *o, ff_buf_t *out)
{
    for (; o; o = o->next) {
        size_t tl = strlen(o->topic);
        put_u32(out, (uint32_t)o->label);
        put_u32(out, (uint32_t)tl);
        ff_buf_append(out, o->topic, tl);
        put_u32(out, o->key ? (uint32_t)o->key_len + 1 : 0);
        if (o->key)
            ff_buf_append(out, o->key, o->key_len);
        put_u32(out, (uint32_t)o->value_len);
        ff_buf_append(out, o->value, o->value_len);
    }
}

int ff_outputs_decode(const char *data, size_t len, ff_arena_t *arena, ff_output_t **head,
                      ff_output_t ***tail)
{
    const char *p = data, *end = data + len;
    ff_output_t **link = *tail ? *tail : head;
    while (*link)
        link = &(*link)->next;
    while (p < end) {
        ff_output_t *o = ff_arena_alloc(arena, sizeof(*o));
        uint32_t label, tl, kl, vl;
        if (get_u32(&p, end, &label) == -1 || get_u32(&p, end, &tl) == -1 ||
            (size_t)(end - p) < tl)
            return -1;
        o->next = NULL;
        o->label = (int)label;
        o->topic = ff_arena_strndup(arena, p, tl);
        p += tl;
        if (get_u32(&p, end, &kl) == -1 || (kl && (size_t)(end - p) < kl - 1))
            return -1;
        o->key = kl ? ff_arena_strndup(arena, p, kl - 1) : NULL;
        o->key_len = kl ? kl - 1 : 0;
        p += kl ? kl - 1 : 0;
        if (get_u32(&p, end, &vl) == -1 || (size_t)(end - p) < vl)
            return -1;
        o->value = ff_arena_strndup(arena, p, vl);
        o->value_len = vl;
        p += vl;
        *link = o;
        link = &o->next;
    }
    *tail = link;
    return 0;
}

/* ---- the batch ------------------------------------------------------------- */

typedef struct batch_s {
    ff_ent_t **ents;
    size_t nents;
    ff_arena_t *arena;
} batch_t;

static void ent_reset(ff_engine_t *engine, ff_ent_t *e)
{
    struct ff_ent_private_s *p = e->priv;
    e->state = ff_arena_alloc(e->arena, engine->opts.state_size ? engine->opts.state_size : 1);
    memset(e->state, 0, engine->opts.state_size ? engine->opts.state_size : 1);
    p->status = ENT_DECIDING;
    p->applied_known = false;
    p->applied_cmd = SIZE_MAX;
    p->applied_token = NULL;
    p->outcomes_cmd = SIZE_MAX;
    p->decided = false;
    p->keys = NULL;
    p->nkeys = p->capkeys = 0;
    p->ops = NULL;
    p->ops_tail = &p->ops;
    p->nops = 0;
    p->kslots = NULL;
    p->capkslots = p->nttl = 0;
    p->guards = NULL;
    p->nguards = 0;
    p->write_cmd = SIZE_MAX;
    e->nfresh = e->nevents;
    FF_ENT_FOREACH(e, ev) {
        ev->replay = false;
        ev->outputs = NULL;
        ev->outputs_tail = &ev->outputs;
    }
    for (size_t i = 0; i < p->nsrcs; i++)
        p->srcs[i].expected = -1;
    /* Every write carries the applied and outcome keys first. */
    key_index(e, ff_ent_key(e, "applied"));
    key_index(e, ff_ent_key(e, "out"));
}

/* Whether ev comes from the source (topic, partition) src. A batch's
 * events mostly share their topic's name: compared as pointers first. */
static bool src_is(const src_t *src, const ff_event_t *ev)
{
    return src->partition == ev->partition &&
           (src->topic == ev->topic || !strcmp(src->topic, ev->topic));
}

static int group(ff_engine_t *engine, ff_event_t *events, size_t n, const int64_t *floors,
                 ff_arena_t *arena, batch_t *b)
{
    ff_map_t map;
    ff_map_init(&map);
    b->ents = ff_arena_alloc(arena, (n ? n : 1) * sizeof(ff_ent_t *));
    b->nents = 0;
    b->arena = arena;
    for (size_t i = 0; i < n; i++) {
        ff_event_t *ev = &events[i];
        const char *tag = engine->ops->entity(engine->proc, ev, arena);
        ff_ent_t *e;
        ev->entity = NULL;
        ev->next_in_entity = NULL;
        ev->outputs = NULL;
        ev->outputs_tail = &ev->outputs;
        ev->replay = false;
        if (!tag)
            continue;
        e = ff_map_get(&map, tag, strlen(tag));
        if (!e) {
            e = ff_arena_alloc(arena, sizeof(*e));
            memset(e, 0, sizeof(*e));
            e->tag = tag;
            e->engine = engine;
            e->arena = arena;
            e->priv = ff_arena_alloc(arena, sizeof(*e->priv));
            memset(e->priv, 0, sizeof(*e->priv));
            e->priv->srcs = ff_arena_alloc(arena, 4 * sizeof(src_t));
            ff_map_put(&map, tag, strlen(tag), e);
            b->ents[b->nents++] = e;
        }
        ev->entity = e;
        if (e->last)
            e->last->next_in_entity = ev;
        else
            e->first = ev;
        e->last = ev;
        e->nevents++;

        /* The sources (topic, partition) of this entity. */
        struct ff_ent_private_s *p = e->priv;
        size_t s;
        for (s = 0; s < p->nsrcs; s++)
            if (src_is(&p->srcs[s], ev))
                break;
        if (s == p->nsrcs) {
            if (p->nsrcs && p->nsrcs % 4 == 0) {
                src_t *grown = ff_arena_alloc(arena, (p->nsrcs + 4) * sizeof(src_t));
                memcpy(grown, p->srcs, p->nsrcs * sizeof(src_t));
                p->srcs = grown;
            }
            p->srcs[s].field = ff_arena_printf(arena, "%s:%d", ev->topic, (int)ev->partition);
            p->srcs[s].field_len = strlen(p->srcs[s].field);
            p->srcs[s].topic = ev->topic;
            p->srcs[s].partition = ev->partition;
            p->srcs[s].max = ev->offset;
            p->srcs[s].floor = floors[i];
            p->nsrcs++;
        }
        if (ev->offset > p->srcs[s].max)
            p->srcs[s].max = ev->offset;
        if (floors[i] < p->srcs[s].floor)
            p->srcs[s].floor = floors[i];
    }
    ff_map_term(&map);
    return 0;
}

static src_t *src_of(ff_ent_t *e, const ff_event_t *ev)
{
    struct ff_ent_private_s *p = e->priv;
    for (size_t s = 0; s < p->nsrcs; s++)
        if (src_is(&p->srcs[s], ev))
            return &p->srcs[s];
    return NULL;
}

static void mark_replays(ff_engine_t *engine, ff_ent_t *e)
{
    struct ff_ent_private_s *p = e->priv;
    size_t nreplay = 0;
    e->nfresh = 0;
    FF_ENT_FOREACH(e, ev) {
        src_t *s = src_of(e, ev);
        ev->replay = s && s->expected >= 0 && ev->offset <= s->expected;
        if (ev->replay)
            nreplay++;
        else
            e->nfresh++;
    }
    p->applied_known = true;
    if (!nreplay)
        return;
    engine->stats.replayed += nreplay;
    /* Fetch what those records produced the first time. */
    ff_rpipe_t *pipe = ff_ent_pipe(e);
    ff_rpipe_begin(pipe);
    ff_rpipe_arg_str(pipe, "HMGET");
    ff_rpipe_arg_str(pipe, ff_ent_key(e, "out"));
    FF_ENT_FOREACH(e, ev) {
        if (ev->replay)
            ff_rpipe_argf(pipe, "%s:%d:%lld", ev->topic, (int)ev->partition,
                          (long long)ev->offset);
    }
    p->outcomes_cmd = ff_rpipe_end(pipe);
}

static int take_outcomes(ff_ent_t *e, char *errstr, size_t errstr_size)
{
    struct ff_ent_private_s *p = e->priv;
    redisReply *reply = ff_ent_reply(e, p->outcomes_cmd);
    size_t k = 0;
    p->outcomes_cmd = SIZE_MAX;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        snprintf(errstr, errstr_size, "unexpected reply reading stored outputs of %s", e->tag);
        return -1;
    }
    FF_ENT_FOREACH(e, ev) {
        redisReply *r;
        if (!ev->replay)
            continue;
        r = k < reply->elements ? reply->element[k] : NULL;
        k++;
        /* Absent: the offset was committed and pruned, or it produced nothing. */
        if (r && r->type == REDIS_REPLY_STRING &&
            ff_outputs_decode(r->str, r->len, e->arena, &ev->outputs, &ev->outputs_tail) == -1) {
            snprintf(errstr, errstr_size, "stored outputs of %s are corrupt", e->tag);
            return -1;
        }
    }
    return 0;
}

static void read_applied(ff_engine_t *engine, ff_ent_t *e)
{
    struct ff_ent_private_s *p = e->priv;
    cached_applied_t *c = NULL;
    if (engine->opts.cache_applied)
        c = ff_map_get(&engine->cache, e->tag, strlen(e->tag));
    if (c) {
        size_t known = 0;
        for (size_t s = 0; s < p->nsrcs; s++) {
            for (size_t k = 0; k < c->n; k++) {
                if (!strcmp(c->fields[k], p->srcs[s].field)) {
                    p->srcs[s].expected = c->offsets[k];
                    known++;
                }
            }
        }
        if (known == p->nsrcs) {
            mark_replays(engine, e);
            return;
        }
    }
    ff_rpipe_t *pipe = ff_ent_pipe(e);
    ff_rpipe_begin(pipe);
    if (engine->opts.applied_token) {
        /* Every source's, the other processors' too (take_token). */
        ff_rpipe_arg_str(pipe, "HGETALL");
        ff_rpipe_arg_str(pipe, ff_ent_key(e, "applied"));
    } else {
        ff_rpipe_arg_str(pipe, "HMGET");
        ff_rpipe_arg_str(pipe, ff_ent_key(e, "applied"));
        for (size_t s = 0; s < p->nsrcs; s++)
            ff_rpipe_arg(pipe, p->srcs[s].field, p->srcs[s].field_len);
    }
    p->applied_cmd = ff_rpipe_end(pipe);
}

/* Whether an applied field ("<topic>:<partition>") is of one of topics. */
static bool field_of(const char *field, size_t len, const char *const *topics)
{
    size_t at = len;
    while (at > 0 && field[at - 1] != ':')
        at--;
    for (size_t t = 0; at > 0 && topics && topics[t]; t++)
        if (strlen(topics[t]) == at - 1 && !memcmp(field, topics[t], at - 1))
            return true;
    return false;
}

static int cmp_pair(const void *a, const void *b)
{
    const redisReply *const *x = a, *const *y = b;
    return strcmp(x[0]->str, y[0]->str);
}

/* From an HGETALL of applied: each source's offset, and the token of the
 * other processors' (fields of opts.own_topics left out), sorted by field:
 * "<field>=<offset>\n"..., "" when there are none. */
static int take_token(ff_engine_t *engine, ff_ent_t *e, const redisReply *reply)
{
    struct ff_ent_private_s *p = e->priv;
    size_t n = reply->elements / 2, nothers = 0, len = 0;
    const redisReply **others = ff_arena_alloc(e->arena, (n ? n : 1) * 2 * sizeof(*others));
    char *w;
    for (size_t s = 0; s < p->nsrcs; s++)
        p->srcs[s].expected = -1;
    for (size_t i = 0; i < n; i++) {
        const redisReply *f = reply->element[2 * i], *v = reply->element[2 * i + 1];
        bool own = false;
        int64_t off;
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return -1;
        for (size_t s = 0; s < p->nsrcs; s++) {
            if (p->srcs[s].field_len == f->len && !memcmp(p->srcs[s].field, f->str, f->len)) {
                if (ff_parse_i64(v->str, &off) == 0)
                    p->srcs[s].expected = off;
                own = true;
            }
        }
        if (own || field_of(f->str, f->len, engine->opts.own_topics))
            continue;
        others[2 * nothers] = f;
        others[2 * nothers + 1] = v;
        len += f->len + v->len + 2;
        nothers++;
    }
    qsort(others, nothers, 2 * sizeof(*others), cmp_pair);
    w = ff_arena_alloc(e->arena, len + 1);
    p->applied_token = w;
    for (size_t i = 0; i < nothers; i++) {
        memcpy(w, others[2 * i]->str, others[2 * i]->len);
        w += others[2 * i]->len;
        *w++ = '=';
        memcpy(w, others[2 * i + 1]->str, others[2 * i + 1]->len);
        w += others[2 * i + 1]->len;
        *w++ = '\n';
    }
    *w = '\0';
    return 0;
}

static int take_applied(ff_engine_t *engine, ff_ent_t *e, char *errstr, size_t errstr_size)
{
    struct ff_ent_private_s *p = e->priv;
    redisReply *reply = ff_ent_reply(e, p->applied_cmd);
    p->applied_cmd = SIZE_MAX;
    if (engine->opts.applied_token) {
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 ||
            take_token(engine, e, reply) == -1) {
            snprintf(errstr, errstr_size, "unexpected reply reading applied offsets of %s",
                     e->tag);
            return -1;
        }
        mark_replays(engine, e);
        return 0;
    }
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != p->nsrcs) {
        snprintf(errstr, errstr_size, "unexpected reply reading applied offsets of %s", e->tag);
        return -1;
    }
    for (size_t s = 0; s < p->nsrcs; s++) {
        redisReply *r = reply->element[s];
        int64_t v;
        p->srcs[s].expected = -1;
        if (r->type == REDIS_REPLY_STRING && ff_parse_i64(r->str, &v) == 0)
            p->srcs[s].expected = v;
    }
    mark_replays(engine, e);
    return 0;
}

static void cache_applied(ff_engine_t *engine, ff_ent_t *e)
{
    struct ff_ent_private_s *p = e->priv;
    cached_applied_t *c;
    if (!engine->opts.cache_applied)
        return;
    c = ff_map_get(&engine->cache, e->tag, strlen(e->tag));
    if (!c) {
        if (engine->cache.count >= engine->opts.cache_max) {
            /* Bounded memory: start over rather than grow. */
            ff_engine_forget(engine);
        }
        c = ff_calloc(1, sizeof(*c));
        ff_map_put(&engine->cache, e->tag, strlen(e->tag), c);
    }
    for (size_t s = 0; s < p->nsrcs; s++) {
        size_t k;
        int64_t v = p->srcs[s].max > p->srcs[s].expected ? p->srcs[s].max : p->srcs[s].expected;
        for (k = 0; k < c->n; k++)
            if (!strcmp(c->fields[k], p->srcs[s].field))
                break;
        if (k == c->n) {
            c->fields = ff_realloc(c->fields, (c->n + 1) * sizeof(char *));
            c->offsets = ff_realloc(c->offsets, (c->n + 1) * sizeof(int64_t));
            c->fields[k] = ff_strdup(p->srcs[s].field);
            c->n++;
        }
        c->offsets[k] = v;
    }
}

static void forget_entity(ff_engine_t *engine, ff_ent_t *e)
{
    cached_free(ff_map_del(&engine->cache, e->tag, strlen(e->tag)));
    if (engine->ops->forget)
        engine->ops->forget(engine->proc, e);
}

/* Builds the ff_apply call of a decided entity. */
static void append_write(ff_engine_t *engine, ff_ent_t *e, ff_rpipe_t *pipe)
{
    struct ff_ent_private_s *p = e->priv;
    ff_buf_t *blob = &engine->scratch;
    size_t nout = 0;

    ff_rpipe_begin_script(pipe, engine->redis, engine->script);
    ff_rpipe_arg_i64(pipe, (int64_t)p->nkeys);
    for (size_t k = 0; k < p->nkeys; k++)
        ff_rpipe_arg(pipe, p->keys[k].s, p->keys[k].len);
    ff_rpipe_arg_i64(pipe, (int64_t)p->nsrcs);
    for (size_t s = 0; s < p->nsrcs; s++) {
        src_t *src = &p->srcs[s];
        ff_rpipe_arg(pipe, src->field, src->field_len);
        if (src->expected >= 0)
            ff_rpipe_arg_i64(pipe, src->expected);
        else
            ff_rpipe_arg(pipe, "", 0);
        ff_rpipe_arg_i64(pipe, src->max > src->expected ? src->max : src->expected);
        ff_rpipe_arg_i64(pipe, src->floor);
    }
    ff_rpipe_arg_i64(pipe, (int64_t)p->nguards);
    for (guard_t *g = p->guards; g; g = g->next) {
        ff_rpipe_arg_i64(pipe, g->keyidx);
        ff_rpipe_arg_str(pipe, g->field);
        ff_rpipe_arg_str(pipe, g->expected);
    }
    ff_rpipe_arg_i64(pipe, (int64_t)(p->nops + p->nttl));
    for (op_t *op = p->ops; op; op = op->next)
        write_op(pipe, op);
    for (size_t k = 0; k < p->capkslots; k++) {
        if (!p->kslots[k].ttl)
            continue;
        ff_rpipe_arg_str(pipe, "PEXPIRE");
        ff_rpipe_arg_i64(pipe, (int64_t)k);
        ff_rpipe_arg_i64(pipe, 1);
        ff_rpipe_arg_i64(pipe, p->kslots[k].ttl);
    }
    FF_ENT_FOREACH(e, ev)
        if (!ev->replay && ev->outputs)
            nout++;
    ff_rpipe_arg_i64(pipe, (int64_t)nout);
    FF_ENT_FOREACH(e, ev) {
        if (ev->replay || !ev->outputs)
            continue;
        ff_rpipe_argf(pipe, "%s:%d:%lld", ev->topic, (int)ev->partition, (long long)ev->offset);
        ff_buf_reset(blob);
        ff_outputs_encode(ev->outputs, blob);
        ff_rpipe_arg(pipe, blob->data, blob->len);
    }
    ff_rpipe_arg_i64(pipe, engine->opts.outcome_ttl_ms);
    p->write_cmd = ff_rpipe_end(pipe);
}

static int exec_round(ff_engine_t *engine, char *errstr, size_t errstr_size)
{
    ff_rpipe_t *next = &engine->pipes[!engine->cur];
    int rc;
    /* The replies of the previous round are no longer needed. */
    ff_rpipe_reset(&engine->pipes[engine->cur]);
    engine->cur = !engine->cur;
    if (ff_rpipe_count(next) == 0)
        return 0;
    rc = ff_redis_exec(engine->redis, next, errstr, errstr_size);
    engine->stats.rounds++;
    return rc;
}

/* Once the next round holds this many bytes not sent yet, they go out, so
 * that Redis works on them while the rest of the round is decided. */
#define EARLY_BYTES (16 * 1024)

static int send_early(ff_engine_t *engine, char *errstr, size_t errstr_size)
{
    ff_rpipe_t *next = &engine->pipes[!engine->cur];
    if (ff_rpipe_unsent(next) < EARLY_BYTES)
        return 0;
    return ff_redis_send_early(engine->redis, next, errstr, errstr_size);
}

int ff_engine_run(ff_engine_t *engine, ff_event_t *events, size_t n, const int64_t *floors,
                  ff_arena_t *arena, char *errstr, size_t errstr_size)
{
    batch_t b;
    size_t pending;

    ff_rpipe_reset(&engine->pipes[0]);
    ff_rpipe_reset(&engine->pipes[1]);
    ff_rpipe_reset(&engine->side);
    group(engine, events, n, floors, arena, &b);
    engine->stats.batches++;
    engine->stats.entities += b.nents;
    for (size_t i = 0; i < b.nents; i++) {
        b.ents[i]->priv->attempts = 0;
        ent_reset(engine, b.ents[i]);
    }

    for (;;) {
        /* Round 0: applied offsets and the processor's reads. */
        pending = 0;
        for (size_t i = 0; i < b.nents; i++) {
            ff_ent_t *e = b.ents[i];
            if (e->priv->status != ENT_DECIDING)
                continue;
            read_applied(engine, e);
            engine->ops->read(engine->proc, e);
            pending++;
            if (send_early(engine, errstr, errstr_size) == -1)
                return -1;
        }
        if (!pending)
            break;
        int round = 0;
        for (;;) {
            size_t undecided = 0;
            if (exec_round(engine, errstr, errstr_size) == -1)
                return -1;
            for (size_t i = 0; i < b.nents; i++) {
                ff_ent_t *e = b.ents[i];
                struct ff_ent_private_s *p = e->priv;
                if (p->status != ENT_DECIDING)
                    continue;
                if (p->applied_cmd != SIZE_MAX) {
                    if (take_applied(engine, e, errstr, errstr_size) == -1)
                        return -1;
                } else if (p->outcomes_cmd != SIZE_MAX) {
                    if (take_outcomes(e, errstr, errstr_size) == -1)
                        return -1;
                }
                if (!p->decided &&
                    engine->ops->decide(engine->proc, e, round) == FF_ENT_DONE)
                    p->decided = true;
                if (p->decided && p->outcomes_cmd == SIZE_MAX)
                    p->status = ENT_WRITE;
                else
                    undecided++;
                if (send_early(engine, errstr, errstr_size) == -1)
                    return -1;
            }
            if (!undecided)
                break;
            round++;
        }

        /* The write round: one script per entity, plus idempotent side commands. */
        ff_rpipe_t *wpipe = ff_ent_pipe(b.ents[0]);
        for (size_t i = 0; i < b.nents; i++) {
            ff_ent_t *e = b.ents[i];
            if (e->priv->status != ENT_WRITE)
                continue;
            if (e->nfresh == 0) {
                e->priv->status = ENT_APPLIED; /* nothing new: nothing to write */
                continue;
            }
            append_write(engine, e, wpipe);
            if (send_early(engine, errstr, errstr_size) == -1)
                return -1;
        }
        ff_rpipe_append(wpipe, &engine->side);
        ff_rpipe_reset(&engine->side);
        if (exec_round(engine, errstr, errstr_size) == -1)
            return -1;

        size_t retry = 0;
        for (size_t i = 0; i < b.nents; i++) {
            ff_ent_t *e = b.ents[i];
            struct ff_ent_private_s *p = e->priv;
            redisReply *reply;
            if (p->status != ENT_WRITE)
                continue;
            reply = ff_ent_reply(e, p->write_cmd);
            if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
                reply->element[0]->type == REDIS_REPLY_INTEGER &&
                reply->element[0]->integer == 1) {
                p->status = ENT_APPLIED;
                cache_applied(engine, e);
                if (engine->ops->applied)
                    engine->ops->applied(engine->proc, e);
                continue;
            }
            if (reply && reply->type == REDIS_REPLY_ERROR) {
                snprintf(errstr, errstr_size, "writing state of %s: %s", e->tag, reply->str);
                forget_entity(engine, e);
                return -1;
            }
            if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 4) {
                snprintf(errstr, errstr_size, "unexpected reply writing state of %s", e->tag);
                forget_entity(engine, e);
                return -1;
            }
            /* Someone else changed what we read: read and decide again. */
            engine->stats.conflicts++;
            ff_debug("engine.conflict", "%s: %s %s changed to '%s'; deciding again", e->tag,
                     reply->element[1]->str, reply->element[2]->str,
                     reply->element[3]->type == REDIS_REPLY_STRING ? reply->element[3]->str : "");
            forget_entity(engine, e);
            if (++p->attempts >= MAX_ATTEMPTS) {
                snprintf(errstr, errstr_size, "state of %s kept changing under us (%d attempts)",
                         e->tag, p->attempts);
                return -1;
            }
            ent_reset(engine, e);
            retry++;
        }
        if (!retry)
            break;
    }
    for (size_t i = 0; i < b.nents; i++) {
        if (b.ents[i]->priv->status != ENT_APPLIED) {
            snprintf(errstr, errstr_size, "entity %s was not applied", b.ents[i]->tag);
            return -1;
        }
    }
    return 0;
}
