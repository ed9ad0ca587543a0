/* ff_engine: runs a batch of records against Redis state: read, decide, guarded write, exactly once.
 *
 * A batch's records are grouped by entity (a customer or a store: one Redis
 * hash slot). For every entity the engine reads which offsets it already
 * applied; the processor reads the state it needs and decides in C; then one
 * script per entity (common/lua/ff_apply.lua) writes the new state, the new
 * applied offsets and the outputs of each record, but only if nothing it
 * read has changed meanwhile. A record at or below the applied offset is not
 * decided again: its stored outputs are produced again, byte for byte.
 *
 * All entities advance together, round by round, so a batch costs a handful
 * of round trips (usually 2: read, write) whatever its size. */
#ifndef FF_ENGINE_H
#define FF_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_codec.h"
#include "ff_map.h"
#include "ff_redis.h"
#include "ff_util.h"

typedef struct ff_output_s {
    struct ff_output_s *next;
    const char *topic;
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    int label; /* processor-defined, for metrics (a trigger kind or a reason) */
} ff_output_t;

typedef struct ff_ent_s ff_ent_t;

/* One decoded record of a batch. */
typedef struct ff_event_s {
    int input;         /* index of the processor input it came from */
    const char *topic; /* source topic */
    int32_t partition;
    int64_t offset;
    int64_t ts;        /* event time */
    const char *event_id;
    const void *rec;   /* the decoded record (struct of the input's type) */
    ff_ent_t *entity;  /* NULL: the record touches no state */
    bool replay;       /* already applied: outputs are the stored ones */
    ff_output_t *outputs;
    ff_output_t **outputs_tail;
    struct ff_event_s *next_in_entity;
} ff_event_t;

typedef enum {
    FF_ENT_MORE = 0, /* appended more reads; call again after the next round */
    FF_ENT_DONE = 1, /* writes, guards and outputs are recorded */
} ff_ent_step_t;

/* What a processor gives the engine. `proc` is passed back untouched. */
typedef struct ff_engine_ops_s {
    /* The entity tag of a record ("c:<customer>" or "s:<store>"), allocated
     * from arena; NULL if the record touches no state. */
    const char *(*entity)(void *proc, const ff_event_t *ev, ff_arena_t *arena);
    /* Round 0: append the reads e needs to ff_ent_pipe(e). May append none. */
    void (*read)(void *proc, ff_ent_t *e);
    /* After each round: decide the entity's fresh events (ev->replay unset),
     * recording writes, guards and outputs, and return FF_ENT_DONE; or append
     * more reads and return FF_ENT_MORE. `round` counts from 0. */
    ff_ent_step_t (*decide)(void *proc, ff_ent_t *e, int round);
    /* The entity's write was applied (a cache may keep the new state). NULL ok. */
    void (*applied)(void *proc, ff_ent_t *e);
    /* Forget what is cached for e, or for everything when e is NULL. NULL ok. */
    void (*forget)(void *proc, ff_ent_t *e);
} ff_engine_ops_t;

/* Where outputs go (the `triggers` setting). */
typedef enum {
    FF_TRIGGERS_ON = 0,   /* as the processor emits them */
    FF_TRIGGERS_OFF,      /* no trigger: a SUPPRESSED/REPLAY decision in its place */
    FF_TRIGGERS_REPLAYED, /* sent, marked replayed=true (the processor sets the flag) */
    FF_TRIGGERS_SHADOW,   /* everything to one shadow topic */
} ff_triggers_mode_t;

typedef struct ff_route_s {
    ff_triggers_mode_t mode;
    const char *shadow_topic;    /* FF_TRIGGERS_SHADOW */
    const char *decisions_topic; /* FF_TRIGGERS_OFF: where REPLAY decisions go */
    const char *processor;       /* "footfall-geofence", in those decisions */
} ff_route_t;

/* Reads the `triggers` setting ("on", "off", "replayed", "shadow:TOPIC"). */
ff_triggers_mode_t ff_triggers_mode(const char *value, const char **shadow_topic);

typedef struct ff_engine_opts_s {
    const char *prefix;          /* state.prefix: "ff" */
    size_t state_size;           /* bytes of per-entity processor state */
    bool cache_applied;          /* the processor is the only writer of its entities */
    size_t cache_max;            /* entries of the applied cache */
    int64_t outcome_ttl_ms;      /* how long stored outputs outlive their write */
    /* Read every source's applied offset, the other processors' too, for
     * ff_ent_applied_token; own_topics (NULL-terminated) are the
     * processor's inputs, left out of the token. */
    bool applied_token;
    const char *const *own_topics;
    ff_route_t route;
} ff_engine_opts_t;

typedef struct ff_engine_stats_s {
    uint64_t batches;
    uint64_t rounds;        /* Redis round trips made by the engine */
    uint64_t entities;
    uint64_t conflicts;     /* guard failures that made an entity decide again */
    uint64_t replayed;      /* records found already applied */
    uint64_t cache_hits;    /* reads a processor answered from memory (ff_ent_count_cached) */
    uint64_t cache_misses;  /* reads it had to make */
} ff_engine_stats_t;

typedef struct ff_engine_s ff_engine_t;

/* The engine registers its script with redis. Neither redis nor codec is
 * owned. */
ff_engine_t *ff_engine_new(ff_redis_t *redis, ff_codec_t *codec, const ff_engine_ops_t *ops,
                           void *proc, const ff_engine_opts_t *opts);
void ff_engine_destroy(ff_engine_t *engine);

/* Runs events[0..n) (in offset order within each partition) against Redis.
 * floors[] gives, per event, the lowest offset of its partition in this
 * batch: every offset below it is committed. Outputs land on each event.
 * Allocations come from arena. 0, or -1 with errstr when Redis failed: no
 * output may be used, and the batch can simply be run again. */
int ff_engine_run(ff_engine_t *engine, ff_event_t *events, size_t n, const int64_t *floors,
                  ff_arena_t *arena, char *errstr, size_t errstr_size);

/* Forgets every cached applied offset and asks the processor to forget its
 * caches (after a rebalance or an error). */
void ff_engine_forget(ff_engine_t *engine);

const ff_engine_stats_t *ff_engine_stats(const ff_engine_t *engine);

/* ---- for processors, inside read/decide ---------------------------------- */

struct ff_ent_s {
    const char *tag;   /* "s:S001" */
    ff_event_t *first; /* events in batch order */
    ff_event_t *last;
    size_t nevents;
    size_t nfresh;     /* events not yet applied */
    void *state;       /* opts.state_size zeroed bytes for the processor */
    ff_engine_t *engine;
    ff_arena_t *arena;
    struct ff_ent_private_s *priv;
};

/* "<prefix>:{<tag>}:<suffix>", from the batch arena. */
const char *ff_ent_key(ff_ent_t *e, const char *suffix);
/* A key of another entity (a store's stock read from a customer), same form. */
const char *ff_engine_key(ff_ent_t *e, const char *tag, const char *suffix);

/* The pipeline of the next round: append reads here, keep their indexes. */
ff_rpipe_t *ff_ent_pipe(ff_ent_t *e);
/* A reply of the round that just ran. */
redisReply *ff_ent_reply(ff_ent_t *e, size_t index);

/* Writes, applied atomically in the order given, only if every guard holds.
 * ff_ent_op takes HSET (any number of pairs) and SADD, and aborts on any
 * other command: ff_apply.lua deletes fields only at its end (see there),
 * so every op that may delete goes through a function below. */
void ff_ent_op(ff_ent_t *e, const char *cmd, const char *key, int nargs, const char *const *args,
               const size_t *lens);
void ff_ent_hset(ff_ent_t *e, const char *key, const char *field, const char *value);
void ff_ent_hsetf(ff_ent_t *e, const char *key, const char *field, const char *fmt, ...)
    FF_PRINTF(4, 5);
void ff_ent_hset_i64(ff_ent_t *e, const char *key, const char *field, int64_t v);
void ff_ent_hincrby(ff_ent_t *e, const char *key, const char *field, int64_t by);
/* HINCRBY that removes the field when it reaches 0: a counter whose zero
 * looks the same however the increments were batched. */
void ff_ent_hincrby_z(ff_ent_t *e, const char *key, const char *field, int64_t by);
void ff_ent_hdel(ff_ent_t *e, const char *key, const char *field);
/* HINCRBY and HSET that add no field to a hash already holding max fields
 * (the server checks, when the script runs); max <= 0: no limit. */
void ff_ent_hincrby_cap(ff_ent_t *e, const char *key, const char *field, int64_t by,
                        int64_t max);
void ff_ent_hset_cap(ff_ent_t *e, const char *key, const char *field, const char *value,
                     int64_t max);
/* Deletes the fields of a hash whose value, a number, is at most max: the
 * server reads the hash, so a large one is pruned without a client reading
 * it whole. */
void ff_ent_hprune(ff_ent_t *e, const char *key, int64_t max);
void ff_ent_pexpire(ff_ent_t *e, const char *key, int64_t ms);
/* Only write if the hash field still holds `expected` (NULL: still absent). */
void ff_ent_guard(ff_ent_t *e, const char *key, const char *field, const char *expected);
/* Idempotent commands on other slots, sent with the write (PFADD to a
 * demand index): they may run again if the entity is retried. */
ff_rpipe_t *ff_ent_side_pipe(ff_ent_t *e);

/* With opts.applied_token, from round 0 on: the other processors' applied
 * offsets of e as read this batch, "<topic>:<partition>=<offset>\n"...
 * sorted ("" when none). Each of their writes of e moves one, in the same
 * script as the write, so while it reads the same, nothing they write has
 * changed. NULL without opts.applied_token. */
const char *ff_ent_applied_token(const ff_ent_t *e);
/* Counts a read the processor answered from memory (hit) or made. */
void ff_ent_count_cached(ff_ent_t *e, bool hit);

/* Encodes rec as a record of type `type` to topic with key, appending it to
 * ev's outputs, as the route says: unchanged, to the shadow topic, or (with
 * triggers off) a trigger becomes a REPLAY decision and a FIRED decision is
 * left out (the REPLAY one says what would have fired). */
void ff_ent_emit(ff_ent_t *e, ff_event_t *ev, const char *topic, const char *key, ff_rec_t type,
                 const void *rec, int label);

/* Iterates an entity's events. */
#define FF_ENT_FOREACH(e, ev) for (ff_event_t *ev = (e)->first; ev; ev = ev->next_in_entity)

/* The deterministic id of what rule `rule` made of ev: "<topic>:<partition>:<offset>:<rule>". */
const char *ff_trigger_id(ff_arena_t *arena, const ff_event_t *ev, const char *rule);
/* The same with suffix after the rule (":decision" for a decision's id). */
const char *ff_event_rule_id(ff_arena_t *arena, const ff_event_t *ev, const char *rule,
                             const char *suffix);

/* Serialises outputs for storage, and back (exposed for tests). */
void ff_outputs_encode(const ff_output_t *outputs, ff_buf_t *out);
int ff_outputs_decode(const char *data, size_t len, ff_arena_t *arena, ff_output_t **head,
                      ff_output_t ***tail);

#endif
