/* shelf_proc: footfall-shelf's state in Redis and its engine callbacks around the pure rules.
 *
 * Redis, per store S (one hash slot):
 *   <p>:{s:S}:shelf:<shelf>:<sku>  hash: shelf, sku, cat, cap, level, qty (debounced),
 *                                   last (raw), ts (newest reading), win (ts:qty,…)
 *   <p>:{s:S}:shelves              set of "shelf:<shelf>:<sku>" (the positions)
 *   <p>:{s:S}:stock                hash sku -> debounced quantity on the shelves
 *   <p>:{s:S}:catstock             hash category -> the same, per category
 * and it reads the online demand index <p>:{k:<sku>}:demand:<day> (HyperLogLogs
 * written by footfall-web).
 *
 * footfall-shelf is the only writer of its stores' keys, so it keeps their
 * state in memory between batches: a batch whose shelves are all known costs
 * one round trip (the write). The write is guarded by the applied offsets,
 * so a cache that went stale (another instance, a Redis restore) loses the
 * race and reads again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_log.h"
#include "ff_map.h"
#include "ff_proc.h"
#include "shelf_proc.h"
#include "shelf_rules.h"

typedef struct shelf_state_s {
    shelf_window_t win;
    int64_t capacity;
    int level;        /* shelf_level_t */
    int64_t median;   /* debounced quantity, -1 until the window is full */
    int64_t last_qty; /* newest raw quantity, -1: none */
    int64_t last_ts;
    char *category;   /* arena in a batch, heap in the cache */
    bool exists;
} shelf_state_t;

typedef struct pos_s {
    struct pos_s *next;
    uint64_t hash; /* of shelf and sku: a store's batch finds its positions by it */
    const char *key;
    const char *shelf;
    const char *sku;
    shelf_state_t *cached; /* its entry in the cache when read, if cache_gen is still gen */
    uint64_t gen;
    shelf_state_t st;
    int64_t orig_stock; /* stock contribution before this batch */
    size_t read_cmd;    /* SIZE_MAX: came from the cache */
    bool existed;       /* in Redis before this batch */
    bool changed;
} pos_t;

typedef struct alert_s {
    struct alert_s *next;
    ff_event_t *ev;
    pos_t *pos;
    int level;
    int64_t quantity;
    int64_t capacity;
    size_t demand_cmd;
} alert_t;

typedef struct shelf_ent_s {
    pos_t *positions;
    alert_t *alerts, **alerts_tail;
} shelf_ent_t;

typedef struct shelf_s {
    shelf_rules_conf_t rules;
    int64_t max_future;
    int64_t intent_window;
    const char *alert_topic;
    bool replayed;
    ff_map_t cache; /* key -> shelf_state_t* (heap) */
    uint64_t cache_gen; /* changes when entries are freed */
    size_t cache_max;
} shelf_t;

/* ---- the cache ----------------------------------------------------------- */

static void state_free(shelf_state_t *st)
{
    if (!st)
        return;
    free(st->category);
    free(st);
}

static void state_free_cb(const char *key, void *value, void *opaque)
{
    (void)key;
    (void)opaque;
    state_free(value);
}

static void cache_clear(shelf_t *sh)
{
    sh->cache_gen++; /* entries held by positions are gone */
    ff_map_each(&sh->cache, state_free_cb, NULL);
    ff_map_clear(&sh->cache);
}

/* ---- state <-> Redis -------------------------------------------------------- */

static int64_t stock_of(const shelf_state_t *st)
{
    if (!st->exists)
        return 0;
    if (st->median >= 0)
        return st->median;
    return st->last_qty > 0 ? st->last_qty : 0;
}

static const char *level_str(int level)
{
    return level == SHELF_LOW ? "LOW" : level == SHELF_OUT ? "OUT" : "OK";
}

static void parse_window(shelf_window_t *w, const char *s)
{
    w->n = 0;
    while (s && *s && w->n < SHELF_MAX_WINDOW) {
        long long ts, qty;
        int used = 0;
        if (sscanf(s, "%lld:%lld%n", &ts, &qty, &used) != 2)
            break;
        w->ts[w->n] = ts;
        w->qty[w->n] = qty;
        w->n++;
        s += used;
        if (*s == ',')
            s++;
    }
}

static void parse_state(shelf_state_t *st, const redisReply *reply, ff_arena_t *arena)
{
    memset(st, 0, sizeof(*st));
    st->median = -1;
    st->last_qty = -1;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
        return;
    st->exists = true;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *f = reply->element[i]->str, *v = reply->element[i + 1]->str;
        if (!f || !v)
            continue;
        if (!strcmp(f, "cap"))
            st->capacity = atoll(v);
        else if (!strcmp(f, "level"))
            st->level = !strcmp(v, "LOW") ? SHELF_LOW : !strcmp(v, "OUT") ? SHELF_OUT : SHELF_OK;
        else if (!strcmp(f, "qty"))
            st->median = atoll(v);
        else if (!strcmp(f, "last"))
            st->last_qty = atoll(v);
        else if (!strcmp(f, "ts"))
            st->last_ts = atoll(v);
        else if (!strcmp(f, "cat"))
            st->category = ff_arena_strdup(arena, v);
        else if (!strcmp(f, "win"))
            parse_window(&st->win, v);
    }
}

static void write_state(ff_ent_t *e, const pos_t *pos)
{
    ff_buf_t win;
    char cap[24], qty[24], last[24], ts[24];
    const shelf_state_t *st = &pos->st;
    ff_buf_init(&win);
    /* Every reading rewrites its shelf: no printf in this loop. */
    for (int i = 0; i < st->win.n; i++) {
        if (i)
            ff_buf_putc(&win, ',');
        ff_buf_put_i64(&win, st->win.ts[i]);
        ff_buf_putc(&win, ':');
        ff_buf_put_i64(&win, st->win.qty[i]);
    }
    cap[ff_fmt_i64(cap, st->capacity)] = '\0';
    qty[ff_fmt_i64(qty, st->median)] = '\0';
    last[ff_fmt_i64(last, st->last_qty)] = '\0';
    ts[ff_fmt_i64(ts, st->last_ts)] = '\0';
    const char *args[] = {"shelf", pos->shelf, "sku",  pos->sku,   "cat", st->category,
                          "cap",   cap,        "level", level_str(st->level), "qty", qty,
                          "last",  last,       "ts",   ts,         "win", win.data ? win.data : ""};
    ff_ent_op(e, "HSET", pos->key, (int)FF_ARRAY_LEN(args), args, NULL);
    ff_buf_term(&win);
}

/* ---- engine callbacks -------------------------------------------------------- */

static const char *shelf_entity(void *proc, const ff_event_t *ev, ff_arena_t *arena)
{
    const ff_shelf_reading_t *r = ev->rec;
    (void)proc;
    return ff_arena_concat(arena, "s:", r->store_id, (const char *)NULL);
}

static uint64_t pos_hash(const char *shelf, const char *sku)
{
    return ff_hash64_str(sku, ff_hash64_str(shelf, 0));
}

static pos_t *find_pos(shelf_ent_t *se, uint64_t hash, const char *shelf, const char *sku)
{
    for (pos_t *p = se->positions; p; p = p->next)
        if (p->hash == hash && !strcmp(p->shelf, shelf) && !strcmp(p->sku, sku))
            return p;
    return NULL;
}

static void shelf_read(void *proc, ff_ent_t *e)
{
    shelf_t *sh = proc;
    shelf_ent_t *se = e->state;
    se->alerts_tail = &se->alerts;
    FF_ENT_FOREACH(e, ev) {
        const ff_shelf_reading_t *r = ev->rec;
        uint64_t hash = pos_hash(r->shelf_id, r->sku);
        pos_t *pos = find_pos(se, hash, r->shelf_id, r->sku);
        shelf_state_t *cached;
        if (pos)
            continue;
        pos = ff_arena_alloc(e->arena, sizeof(*pos));
        memset(pos, 0, sizeof(*pos));
        pos->hash = hash;
        pos->shelf = r->shelf_id;
        pos->sku = r->sku;
        pos->key = ff_ent_key(e, ff_arena_concat(e->arena, "shelf:", r->shelf_id, ":", r->sku,
                                                        (const char *)NULL));
        pos->read_cmd = SIZE_MAX;
        cached = ff_map_get(&sh->cache, pos->key, strlen(pos->key));
        if (cached) {
            pos->cached = cached;
            pos->gen = sh->cache_gen;
            pos->st = *cached;
            pos->st.category = cached->category
                                   ? ff_arena_strdup(e->arena, cached->category)
                                   : NULL;
        } else {
            ff_rpipe_t *pipe = ff_ent_pipe(e);
            ff_rpipe_begin(pipe);
            ff_rpipe_arg_str(pipe, "HGETALL");
            ff_rpipe_arg_str(pipe, pos->key);
            pos->read_cmd = ff_rpipe_end(pipe);
        }
        pos->next = se->positions;
        se->positions = pos;
    }
}

/* Applies the fresh readings in order; queues the alerts they raise. */
static void apply_readings(shelf_t *sh, ff_ent_t *e, shelf_ent_t *se)
{
    for (pos_t *p = se->positions; p; p = p->next) {
        if (p->read_cmd != SIZE_MAX) {
            parse_state(&p->st, ff_ent_reply(e, p->read_cmd), e->arena);
            p->read_cmd = SIZE_MAX;
        }
        p->orig_stock = stock_of(&p->st);
        p->existed = p->st.exists;
    }
    FF_ENT_FOREACH(e, ev) {
        const ff_shelf_reading_t *r = ev->rec;
        pos_t *pos;
        shelf_step_t step;
        if (ev->replay)
            continue;
        pos = find_pos(se, pos_hash(r->shelf_id, r->sku), r->shelf_id, r->sku);
        if (!shelf_window_add(&pos->st.win, sh->rules.window, r->ts, r->quantity)) {
            ff_debug("shelf.late", "reading %s for %s/%s is older than the newest one; ignored",
                     r->event_id, r->shelf_id, r->sku);
            continue;
        }
        pos->changed = true;
        pos->st.exists = true;
        pos->st.capacity = r->capacity;
        pos->st.category = (char *)r->category;
        pos->st.last_qty = r->quantity;
        pos->st.last_ts = r->ts;
        pos->st.median = shelf_median(&pos->st.win, sh->rules.window);
        step = shelf_next_level(pos->st.level, pos->st.median, pos->st.capacity, &sh->rules);
        pos->st.level = step.level;
        if (step.alert) {
            alert_t *a = ff_arena_alloc(e->arena, sizeof(*a));
            memset(a, 0, sizeof(*a));
            a->ev = ev;
            a->pos = pos;
            a->level = step.alert_level;
            a->quantity = pos->st.median;
            a->capacity = pos->st.capacity;
            *se->alerts_tail = a;
            se->alerts_tail = &a->next;
        }
    }
}

/* One PFCOUNT over the day buckets of the intent window ending at ts. */
static size_t read_demand(shelf_t *sh, ff_ent_t *e, const char *sku, int64_t ts)
{
    ff_rpipe_t *pipe = ff_ent_pipe(e);
    int64_t last = ff_day_of_ms(ts);
    int64_t days = (sh->intent_window + 86400000LL - 1) / 86400000LL;
    const char *tag = ff_arena_printf(e->arena, "k:%s", sku);
    ff_rpipe_begin(pipe);
    ff_rpipe_arg_str(pipe, "PFCOUNT");
    for (int64_t d = last - days + 1; d <= last; d++)
        ff_rpipe_arg_str(pipe, ff_engine_key(e, tag, ff_arena_printf(e->arena, "demand:%lld",
                                                                      (long long)d)));
    return ff_rpipe_end(pipe);
}

static void emit_and_write(shelf_t *sh, ff_ent_t *e, shelf_ent_t *se)
{
    for (alert_t *a = se->alerts; a; a = a->next) {
        const ff_shelf_reading_t *r = a->ev->rec;
        redisReply *reply = ff_ent_reply(e, a->demand_cmd);
        int64_t demand = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
        ff_stock_alert_t alert = {
            .trigger_id = ff_trigger_id(e->arena, a->ev, "STOCK_ALERT"),
            .store_id = r->store_id,
            .shelf_id = r->shelf_id,
            .sku = r->sku,
            .category = r->category,
            .ts = r->ts,
            .level = a->level,
            .quantity = a->quantity,
            .capacity = a->capacity,
            .priority = shelf_priority(a->level, demand, &sh->rules),
            .online_demand = demand,
            .source_event_id = r->event_id,
            .replayed = sh->replayed,
        };
        ff_ent_emit(e, a->ev, sh->alert_topic, r->store_id, FF_REC_STOCK_ALERT, &alert,
                    a->level == FF_LEVEL_LOW   ? FF_LABEL_STOCK_LOW
                    : a->level == FF_LEVEL_OUT ? FF_LABEL_STOCK_OUT
                                               : FF_LABEL_STOCK_RESTOCKED);
    }
    for (pos_t *p = se->positions; p; p = p->next) {
        int64_t delta;
        if (!p->changed)
            continue;
        write_state(e, p);
        if (!p->existed) {
            const char *member = ff_arena_printf(e->arena, "shelf:%s:%s", p->shelf, p->sku);
            ff_ent_op(e, "SADD", ff_ent_key(e, "shelves"), 1, &member, NULL);
        }
        delta = stock_of(&p->st) - p->orig_stock;
        if (delta) {
            ff_ent_hincrby_z(e, ff_ent_key(e, "stock"), p->sku, delta);
            ff_ent_hincrby_z(e, ff_ent_key(e, "catstock"), p->st.category, delta);
        }
    }
}

static ff_ent_step_t shelf_decide(void *proc, ff_ent_t *e, int round)
{
    shelf_t *sh = proc;
    shelf_ent_t *se = e->state;
    if (round == 0) {
        apply_readings(sh, e, se);
        if (se->alerts) {
            for (alert_t *a = se->alerts; a; a = a->next)
                a->demand_cmd = read_demand(sh, e, a->pos->sku, a->ev->ts);
            return FF_ENT_MORE;
        }
    }
    emit_and_write(sh, e, se);
    return FF_ENT_DONE;
}

static void shelf_applied(void *proc, ff_ent_t *e)
{
    shelf_t *sh = proc;
    shelf_ent_t *se = e->state;
    if (sh->cache_max == 0)
        return;
    for (pos_t *p = se->positions; p; p = p->next) {
        shelf_state_t *st;
        if (!p->st.exists)
            continue;
        if (p->cached && p->gen == sh->cache_gen) {
            /* Still the entry it was read from: update it in place. */
            char *category = p->cached->category;
            if (!category != !p->st.category ||
                (category && strcmp(category, p->st.category))) {
                free(category);
                category = p->st.category ? ff_strdup(p->st.category) : NULL;
            }
            *p->cached = p->st;
            p->cached->category = category;
            continue;
        }
        if (sh->cache.count >= sh->cache_max && !ff_map_get(&sh->cache, p->key, strlen(p->key)))
            cache_clear(sh); /* bounded: start over rather than grow */
        st = ff_malloc(sizeof(*st));
        *st = p->st;
        st->category = p->st.category ? ff_strdup(p->st.category) : NULL;
        state_free(ff_map_put(&sh->cache, p->key, strlen(p->key), st));
    }
}

static void shelf_forget(void *proc, ff_ent_t *e)
{
    shelf_t *sh = proc;
    if (!e) {
        cache_clear(sh);
        return;
    }
    sh->cache_gen++;
    for (pos_t *p = ((shelf_ent_t *)e->state)->positions; p; p = p->next)
        state_free(ff_map_del(&sh->cache, p->key, strlen(p->key)));
}

/* ---- inputs ---------------------------------------------------------------------- */

static const char *shelf_validate_input(void *proc, const void *rec, int64_t now, char *buf,
                                        size_t size)
{
    shelf_t *sh = proc;
    return shelf_validate(rec, now, sh->max_future, buf, size);
}

static int64_t shelf_event_time(const void *rec)
{
    return ((const ff_shelf_reading_t *)rec)->ts;
}

static void *shelf_create(const ff_conf_t *conf, char *errstr, size_t errstr_size)
{
    shelf_t *sh = ff_calloc(1, sizeof(*sh));
    sh->rules.window = (int)ff_conf_int(conf, "stock.debounce.readings");
    sh->rules.low_percent = (int)ff_conf_int(conf, "stock.low.percent");
    sh->rules.restock_percent = (int)ff_conf_int(conf, "stock.restock.percent");
    sh->rules.demand_high = ff_conf_int(conf, "stock.demand.high");
    sh->max_future = ff_conf_int(conf, "input.max_future");
    sh->intent_window = ff_conf_int(conf, "intent.window");
    sh->alert_topic = ff_conf_str(conf, "topic.stock_alert");
    sh->replayed = !strcmp(ff_conf_str(conf, "triggers"), "replayed");
    sh->cache_max = (size_t)ff_conf_int(conf, "state.cache.size");
    ff_map_init(&sh->cache);
    if (sh->rules.low_percent >= sh->rules.restock_percent) {
        snprintf(errstr, errstr_size,
                 "invalid value for stock.low.percent (%d): it must be below "
                 "stock.restock.percent (%d), or a shelf could never leave LOW",
                 sh->rules.low_percent, sh->rules.restock_percent);
        free(sh);
        return NULL;
    }
    return sh;
}

static void shelf_destroy(void *proc)
{
    shelf_t *sh = proc;
    cache_clear(sh);
    ff_map_term(&sh->cache);
    free(sh);
}

static const ff_input_t shelf_inputs[] = {
    {"topic.shelf", FF_REC_SHELF_READING, shelf_validate_input, shelf_event_time},
};

static const ff_engine_ops_t shelf_ops = {
    .entity = shelf_entity,
    .read = shelf_read,
    .decide = shelf_decide,
    .applied = shelf_applied,
    .forget = shelf_forget,
};

static const char *const outputs[] = {"topic.stock_alert", "topic.decisions", NULL};

const ff_processor_t shelf_processor = {
    .name = "shelf",
    .procs = FF_P_SHELF,
    .summary = "Smart-shelf readings in, debounced stock alerts (LOW, OUT, RESTOCKED) out.",
    .inputs = shelf_inputs,
    .ninputs = FF_ARRAY_LEN(shelf_inputs),
    .outputs = outputs,
    .ops = &shelf_ops,
    .state_size = sizeof(shelf_ent_t),
    .owns_state = true,
    .create = shelf_create,
    .destroy = shelf_destroy,
};
