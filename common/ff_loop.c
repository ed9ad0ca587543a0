/* ff_loop: the consume loop every processor runs: batch, decode, DLQ, engine, transaction, commit. */
#include "ff_loop.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_clock.h"
#include "ff_http.h"
#include "ff_metrics.h"
#include "ff_kafka.h"
#include "ff_log.h"

/* How long one transaction call may block before we count it as an outage. */
#define TXN_TIMEOUT_MS 10000

typedef struct item_s {
    rd_kafka_message_t *rkm;
    int input;       /* -1: not one of our topics */
    ff_event_t *ev;  /* NULL: goes to the DLQ */
    const char *dlq_class;
    const char *dlq_msg;
} item_t;

typedef struct input_rt_s {
    const char *topic;
    char *dlq_topic;
} input_rt_t;

/* Where a batch's time goes, for footfall_batch_phase_seconds. */
typedef enum {
    PHASE_FILL,          /* waiting for and collecting records */
    PHASE_STATE,         /* decoding and the Redis round trips */
    PHASE_PRODUCE,       /* handing outputs to the producer */
    PHASE_SEND_OFFSETS,  /* send_offsets_to_transaction */
    PHASE_COMMIT,        /* commit_transaction: outputs acknowledged, EndTxn */
    PHASE_GROUP_COMMIT,  /* the plain offset commit the embedded broker needs */
    PHASE__COUNT
} phase_t;

static const char *const phase_names[PHASE__COUNT] = {
    "fill", "state", "produce", "send_offsets", "commit", "group_commit"};

struct ff_loop_s {
    const ff_processor_t *def;
    void *proc;
    const ff_conf_t *conf;
    ff_codec_t *codec;
    ff_engine_t *engine;
    char *group_id;
    char *txn_id;
    char *proc_name; /* "footfall-shelf", for DLQ headers */
    input_rt_t *inputs;

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    bool txn_ready;
    bool txn_open; /* begun and neither committed nor aborted yet */

    /* the batch in hand */
    item_t *items;
    size_t nitems, cap;
    ff_event_t *events;
    int64_t *floors;
    size_t nevents;
    bool applied;  /* Redis effects done, outputs known */
    bool revoked;  /* a rebalance took partitions while we held the batch */
    ff_arena_t arena;
    rd_kafka_message_t **lookahead; /* arrived during a pause; start the next batch */
    size_t nlookahead, caplookahead;

    int batch_size;
    int64_t batch_timeout;
    int64_t last_close; /* ff_mono_ms() when the last batch stopped filling; 0: none yet */
    int64_t backoff_initial, backoff_max, backoff;
    bool paused;
    /* The partitions we paused (a partition is paused only once a record
     * of it has arrived since its assignment); NULL while not paused. */
    rd_kafka_topic_partition_list_t *paused_parts;
    bool plain_commit;
    int64_t plain_failing_ms;  /* first failed plain commit since the last success; 0: none */
    int64_t plain_warned_ms;   /* when failing plain commits were last logged */
    unsigned plain_failures;   /* since the last success */
    int assigned;
    /* Assigned partitions librdkafka has not started fetching (offset-query
     * or offset-wait in its statistics), for the kafka.starved warning. */
    int64_t unfetched_since; /* ff_mono_ms() of the first statistics with one; 0: none */
    int64_t starved_warned_ms;
    /* Records waiting on assigned partitions that never arrive: see
     * check_stalled. */
    int64_t stall_timeout;
    int64_t assigned_ms;      /* ff_mono_ms() of the last assignment */
    int64_t stall_checked_ms; /* of the last check */
    char *stall_gap;          /* the last "t[p] from to end, …" a probe found no records in */
    bool redis_ok;
    ff_bound_t *bounds; /* NULL: subscribe to the inputs as a group member */
    size_t nbounds;
    ff_loop_progress_fn progress;
    void *progress_opaque;
    ff_metrics_t *metrics;
    ff_status_t *status;
    ff_readiness_t outage; /* what the pause is waiting for */
    ff_series_t *m_batch, *m_latency, *m_commits, *m_aborts, *m_restarts_fatal, *m_restarts_stall;
    ff_series_t *m_conflicts, *m_replayed, *m_rounds, *m_cache_hits, *m_cache_misses;
    ff_series_t *m_phase[PHASE__COUNT];
    int64_t phase_us[PHASE__COUNT]; /* the last batch's, for the debug log */
    int64_t last_progress;
    uint64_t rounds_at_start; /* engine rounds when the batch in hand started */
    ff_loop_stats_t stats;
    int64_t last_err_log;
};

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque);
static void resume_revoked(ff_loop_t *loop, const rd_kafka_topic_partition_list_t *revoked);

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ff_loop_t *loop = opaque;
    bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *error = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ff_info("kafka.assign", "assigned %d partitions", parts->cnt);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        loop->assigned += parts->cnt;
        loop->assigned_ms = ff_mono_ms();
        /* Neither paused nor resumed here, even during an outage: in
         * librdkafka 2.0 a pause or resume races the fetch start that the
         * assignment's offset lookup makes on another thread (see
         * set_paused). outage_wait pauses a partition once a record of it
         * arrives, which shows its fetch has started; revocation resumes
         * what we paused, so nothing comes back paused. */
    } else {
        ff_info("kafka.revoke", "revoked %d partitions%s", parts->cnt,
                loop->nitems ? "; dropping the uncommitted batch in hand" : "");
        /* What we hold was not committed: the next owner starts from the
         * committed offsets, and our Redis writes (if any) are recorded as
         * applied, so it will reproduce the same outputs. */
        if (loop->nitems)
            loop->revoked = true;
        if (loop->paused)
            resume_revoked(loop, parts); /* do not leave them paused for later */
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
        loop->assigned = cooperative ? loop->assigned - parts->cnt : 0;
    }
    if (error) {
        ff_error("kafka.rebalance", "%s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    /* Cached state may be another instance's now. */
    ff_engine_forget(loop->engine);
}

static int make_consumer(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    const char *defaults[] = {
        /* A crashed instance's partitions move after 10 s rather than 45. */
        "session.timeout.ms", "10000",
        "auto.offset.reset", "earliest",
        /* Consumer lag for /metrics. */
        "statistics.interval.ms", "5000",
        NULL,
    };
    /* What the exactly-once design depends on. */
    const char *forced[] = {
        "group.id", loop->group_id,
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "isolation.level", "read_committed",
        NULL,
    };
    rd_kafka_conf_t *kconf;

    kconf = ff_kafka_conf(loop->conf, defaults, forced, errstr, errstr_size);
    if (!kconf)
        return -1;
    rd_kafka_conf_set_opaque(kconf, loop);
    rd_kafka_conf_set_rebalance_cb(kconf, rebalance_cb);
    rd_kafka_conf_set_stats_cb(kconf, stats_cb);
    loop->consumer = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, errstr_size);
    if (!loop->consumer)
        return -1;
    rd_kafka_poll_set_consumer(loop->consumer);
    loop->assigned = 0;
    return 0;
}

/* Joins the group's subscription, or assigns a bounded loop's partitions
 * at their positions. */
static int start_consuming(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t err;
    if (loop->bounds) {
        topics = rd_kafka_topic_partition_list_new((int)loop->nbounds + 1);
        for (size_t i = 0; i < loop->nbounds; i++)
            if (loop->bounds[i].position < loop->bounds[i].end)
                rd_kafka_topic_partition_list_add(topics, loop->bounds[i].topic,
                                                  loop->bounds[i].partition)
                    ->offset = loop->bounds[i].position;
        err = rd_kafka_assign(loop->consumer, topics);
        loop->assigned = topics->cnt;
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
            snprintf(errstr, errstr_size, "assign: %s", rd_kafka_err2str(err));
            return -1;
        }
        return 0;
    }
    topics = rd_kafka_topic_partition_list_new((int)loop->def->ninputs);
    for (size_t i = 0; i < loop->def->ninputs; i++)
        rd_kafka_topic_partition_list_add(topics, loop->inputs[i].topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(loop->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

void ff_loop_set_observability(ff_loop_t *loop, ff_metrics_t *metrics, ff_status_t *status)
{
    loop->metrics = metrics;
    loop->status = status;
    loop->m_batch = ff_metrics_histogram(metrics, "footfall_batch_records",
                                         "records per committed batch", "", ff_buckets_records,
                                         ff_buckets_records_n);
    loop->m_latency = ff_metrics_histogram(
        metrics, "footfall_event_to_trigger_seconds",
        "from a record's event time to its trigger's commit, by the system clock", "",
        ff_buckets_seconds, ff_buckets_seconds_n);
    loop->m_commits = ff_metrics_counter(metrics, "footfall_transactions_total",
                                         "Kafka transactions by result", "result=\"committed\"");
    loop->m_aborts = ff_metrics_counter(metrics, "footfall_transactions_total",
                                        "Kafka transactions by result", "result=\"aborted\"");
    const char *restarts = "footfall_client_restarts_total",
               *restarts_help = "Kafka clients recreated, by reason: a fatal error or a stall";
    loop->m_restarts_fatal =
        ff_metrics_counter(metrics, restarts, restarts_help, "reason=\"fatal\"");
    loop->m_restarts_stall =
        ff_metrics_counter(metrics, restarts, restarts_help, "reason=\"stall\"");
    loop->m_conflicts = ff_metrics_counter(
        metrics, "footfall_state_conflicts_total",
        "entity writes that lost a race (state changed since read) and were decided again", "");
    loop->m_replayed = ff_metrics_counter(
        metrics, "footfall_records_redelivered_total",
        "records found already applied: their stored outputs were produced again", "");
    loop->m_rounds = ff_metrics_counter(metrics, "footfall_state_roundtrips_total",
                                        "Redis round trips made by the state engine", "");
    if (loop->def->applied_token) {
        /* Only the processors with such a cache (footfall-geofence's intent). */
        loop->m_cache_hits = ff_metrics_counter(
            metrics, "footfall_state_cache_reads_total",
            "reads of state kept in memory while unchanged: answered from memory (hit) or made "
            "(miss)",
            "result=\"hit\"");
        loop->m_cache_misses = ff_metrics_counter(
            metrics, "footfall_state_cache_reads_total",
            "reads of state kept in memory while unchanged: answered from memory (hit) or made "
            "(miss)",
            "result=\"miss\"");
    }
    for (int i = 0; i < PHASE__COUNT; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "phase=\"%s\"", phase_names[i]);
        loop->m_phase[i] = ff_metrics_histogram(
            metrics, "footfall_batch_phase_seconds",
            "time a batch spends in each step: fill (collecting records), state (decode and "
            "Redis), produce, send_offsets, commit (outputs acknowledged and EndTxn), "
            "group_commit",
            labels, ff_buckets_seconds, ff_buckets_seconds_n);
    }
}

/* Observes the time since *t0 for a phase and restarts the clock. */
static void phase_done(ff_loop_t *loop, phase_t phase, int64_t *t0)
{
    int64_t now = ff_mono_us();
    ff_series_observe(loop->m_phase[phase], (double)(now - *t0) / 1e6);
    loop->phase_us[phase] = now - *t0;
    *t0 = now;
}

/* Says what the loop is doing now, for the stall watchdog and /healthz:
 * set before every call that can block. what: a string literal. */
static void step(ff_loop_t *loop, const char *what)
{
    if (loop->status)
        atomic_store_explicit(&loop->status->step, what, memory_order_relaxed);
}

static void heartbeat(ff_loop_t *loop)
{
    if (!loop->status)
        return;
    atomic_store(&loop->status->heartbeat_ms, ff_mono_ms());
    ff_readiness_t r = ff_stop_requested    ? FF_NOT_READY_STOPPING
                       : loop->paused       ? loop->outage
                       : loop->assigned > 0 ? FF_READY
                                            : FF_NOT_READY_STARTING;
    atomic_store(&loop->status->readiness, (int)r);
}

static void label_counter(ff_loop_t *loop, const char *name, const char *help,
                          const char *labels, double n)
{
    ff_series_add(ff_metrics_counter(loop->metrics, name, help, labels), n);
}

/* Adds n to footfall_records_consumed_total for a topic's partition. */
static void count_consumed(ff_loop_t *loop, const rd_kafka_message_t *rkm, double n)
{
    char labels[512];
    snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%d\"", rd_kafka_topic_name(rkm->rkt),
             (int)rkm->partition);
    label_counter(loop, "footfall_records_consumed_total", "records read, by topic and partition",
                  labels, n);
}

/* Per committed batch: what the metrics count. A counter is looked up by
 * its labels once per batch, not once per record: records come in runs of
 * one partition, and outputs are counted by label first. */
static void observe_batch(ff_loop_t *loop)
{
    char labels[512];
    const ff_engine_stats_t *es = ff_engine_stats(loop->engine);
    int64_t now = ff_wall_ms();
    double by_label[FF_LABEL__COUNT] = {0};
    size_t run = 0;
    if (!loop->metrics)
        return;
    ff_series_observe(loop->m_batch, (double)loop->nitems);
    for (size_t i = 0; i < loop->nitems; i++) {
        item_t *it = &loop->items[i];
        if (i > 0 && (it->rkm->rkt != loop->items[run].rkm->rkt ||
                      it->rkm->partition != loop->items[run].rkm->partition)) {
            count_consumed(loop, loop->items[run].rkm, (double)(i - run));
            run = i;
        }
        if (!it->ev) {
            snprintf(labels, sizeof labels, "topic=\"%s\",class=\"%s\"",
                     rd_kafka_topic_name(it->rkm->rkt), it->dlq_class);
            label_counter(loop, "footfall_dlq_total",
                          "records sent to a dead-letter topic, by source topic and error class",
                          labels, 1);
            continue;
        }
        for (ff_output_t *o = it->ev->outputs; o; o = o->next) {
            if (o->label < 0 || o->label >= FF_LABEL__COUNT)
                continue;
            by_label[o->label]++;
            if (o->label >= FF_LABEL_NEARBY)
                ff_series_observe(loop->m_latency, (double)(now - it->ev->ts) / 1000.0);
        }
    }
    if (loop->nitems)
        count_consumed(loop, loop->items[run].rkm, (double)(loop->nitems - run));
    for (int label = FF_LABEL_FIRED; label < FF_LABEL__COUNT; label++) {
        if (!by_label[label])
            continue;
        if (label >= FF_LABEL_NEARBY) {
            snprintf(labels, sizeof labels, "kind=\"%s\"", ff_label_name(label));
            label_counter(loop, "footfall_triggers_total", "triggers produced, by kind", labels,
                          by_label[label]);
        } else if (label == FF_LABEL_FIRED) {
            label_counter(loop, "footfall_decisions_total", "decisions, by outcome",
                          "outcome=\"fired\"", by_label[label]);
        } else {
            label_counter(loop, "footfall_decisions_total", "decisions, by outcome",
                          "outcome=\"suppressed\"", by_label[label]);
            snprintf(labels, sizeof labels, "reason=\"%s\"",
                     ff_reason_name(label - FF_LABEL_SUPPRESSED));
            label_counter(loop, "footfall_suppressions_total",
                          "customer-facing triggers suppressed, by reason", labels,
                          by_label[label]);
        }
    }
    ff_series_set(loop->m_conflicts, (double)es->conflicts);
    ff_series_set(loop->m_replayed, (double)es->replayed);
    ff_series_set(loop->m_rounds, (double)es->rounds);
    ff_series_set(loop->m_cache_hits, (double)es->cache_hits);
    ff_series_set(loop->m_cache_misses, (double)es->cache_misses);
}

/* librdkafka's statistics (every 5 s, from the consumer's poll): consumer
 * lag per partition; and a warning, once a minute at most, while assigned
 * partitions have not started fetching for a minute. A consumer stuck
 * there would otherwise look idle: the loop turns, and nothing arrives. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    ff_loop_t *loop = opaque;
    json_t *root = json_loadb(json, len, 0, NULL), *topics, *t;
    const char *name;
    char unfetched[256] = "";
    size_t used = 0;
    int64_t now = ff_mono_ms();
    (void)rk;
    if (!root)
        return 0;
    topics = json_object_get(root, "topics");
    json_object_foreach(topics, name, t) {
        json_t *parts = json_object_get(t, "partitions"), *p;
        const char *id;
        json_object_foreach(parts, id, p) {
            json_t *lag = json_object_get(p, "consumer_lag");
            const char *state = json_string_value(json_object_get(p, "fetch_state"));
            char labels[512];
            if (!strcmp(id, "-1"))
                continue;
            if (state && (!strcmp(state, "offset-query") || !strcmp(state, "offset-wait"))) {
                if (used < sizeof unfetched) {
                    used += (size_t)snprintf(unfetched + used, sizeof unfetched - used, "%s%s[%s] %s",
                                             used ? ", " : "", name, id, state);
                    if (used >= sizeof unfetched) /* cut short: say so */
                        memcpy(unfetched + sizeof unfetched - 4, "...", 4);
                }
            }
            if (!json_is_integer(lag) || json_integer_value(lag) < 0)
                continue;
            snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%s\"", name, id);
            ff_series_set(ff_metrics_gauge(loop->metrics, "footfall_consumer_lag",
                                           "records behind the end of each assigned partition",
                                           labels),
                          (double)json_integer_value(lag));
        }
    }
    json_decref(root);
    if (!used) {
        loop->unfetched_since = 0;
    } else if (!loop->unfetched_since) {
        loop->unfetched_since = now;
    } else if (now - loop->unfetched_since >= FF_STALL_MS &&
               now - loop->starved_warned_ms >= FF_STALL_MS) {
        loop->starved_warned_ms = now;
        ff_warn("kafka.starved", "assigned partitions not fetched for %lld s: %s",
                (long long)((now - loop->unfetched_since) / 1000), unfetched);
    }
    return 0;
}

void ff_loop_set_bounds(ff_loop_t *loop, ff_bound_t *bounds, size_t n)
{
    loop->bounds = bounds;
    loop->nbounds = n;
}

void ff_loop_set_progress(ff_loop_t *loop, ff_loop_progress_fn fn, void *opaque)
{
    loop->progress = fn;
    loop->progress_opaque = opaque;
}

static ff_bound_t *bound_of(ff_loop_t *loop, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < loop->nbounds; i++)
        if (loop->bounds[i].partition == partition && !strcmp(loop->bounds[i].topic, topic))
            return &loop->bounds[i];
    return NULL;
}

static bool bounds_done(const ff_loop_t *loop)
{
    for (size_t i = 0; i < loop->nbounds; i++)
        if (loop->bounds[i].position < loop->bounds[i].end)
            return false;
    return true;
}

/* A bounded loop keeps only records before their partition's end; at the
 * end it stops fetching that partition. Returns false to drop rkm. */
static bool within_bounds(ff_loop_t *loop, rd_kafka_message_t *rkm)
{
    ff_bound_t *b;
    if (!loop->bounds)
        return true;
    b = bound_of(loop, rd_kafka_topic_name(rkm->rkt), rkm->partition);
    if (b && rkm->offset < b->end)
        return true;
    if (b) {
        rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(one, b->topic, b->partition);
        rd_kafka_pause_partitions(loop->consumer, one);
        rd_kafka_topic_partition_list_destroy(one);
    }
    return false;
}

static void report_progress(ff_loop_t *loop, bool force)
{
    int64_t now = ff_mono_ms();
    if (!loop->progress || (!force && now - loop->last_progress < 1000))
        return;
    loop->last_progress = now;
    loop->progress(loop->progress_opaque, loop);
}

/* A delivery report for every output. Besides saying why one failed (the
 * commit then fails and the batch is retried), each report wakes the poll
 * inside rd_kafka_commit_transaction's flush: without them that flush only
 * notices the last delivery on its next 10 ms tick, which was most of a
 * commit's time. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        ff_warn("kafka.delivery", "an output to %s [%d] was not delivered: %s",
                m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
                rd_kafka_err2str(m->err));
}

static int make_producer(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    const char *defaults[] = {
        /* Keys land on the partitions Java clients would choose. */
        "partitioner", "murmur2_random",
        /* A batch's outputs are all produced at once, just before the
         * commit flushes them: lingering would only add to every commit
         * (16 ms instead of 11 per batch of 2000 in make bench). */
        "linger.ms", "0",
        /* A DLQ record carries the original value, whatever its size. */
        "message.max.bytes", "16777216",
        NULL,
    };
    const char *forced[] = {
        "transactional.id", loop->txn_id,
        NULL,
    };
    rd_kafka_conf_t *kconf = ff_kafka_conf(loop->conf, defaults, forced, errstr, errstr_size);
    if (!kconf)
        return -1;
    rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
    loop->producer = ff_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, errstr_size);
    loop->txn_ready = false;
    loop->txn_open = false;
    return loop->producer ? 0 : -1;
}

ff_loop_t *ff_loop_new(const ff_processor_t *def, void *proc, const ff_conf_t *conf,
                       ff_codec_t *codec, ff_engine_t *engine, char *errstr, size_t errstr_size)
{
    ff_loop_t *loop;
    const char *instance = ff_conf_str(conf, "instance.id");
    char host[256] = "local";

    for (size_t i = 0; i < def->ninputs; i++) {
        const ff_rdesc_t *d = ff_record_descs[def->inputs[i].rec];
        if (strcmp(d->fields[0].name, "event_id") || d->fields[0].type != FF_F_STR ||
            d->fields[0].off != 0) {
            snprintf(errstr, errstr_size, "input %s does not start with event_id", d->name);
            return NULL;
        }
    }
    loop = ff_calloc(1, sizeof(*loop));

    loop->def = def;
    loop->proc = proc;
    loop->conf = conf;
    loop->codec = codec;
    loop->engine = engine;
    loop->group_id = ff_strdup(ff_conf_str(conf, "group.id"));
    if (!*instance) {
        gethostname(host, sizeof host - 1);
        instance = host;
    }
    /* Stable per instance: a restarted instance fences its own zombie. */
    loop->txn_id = ff_asprintf("%s-%s", loop->group_id, instance);
    loop->proc_name = ff_asprintf("footfall-%s", def->name);
    loop->inputs = ff_calloc(def->ninputs, sizeof(*loop->inputs));
    for (size_t i = 0; i < def->ninputs; i++) {
        loop->inputs[i].topic = ff_conf_str(conf, def->inputs[i].topic_setting);
        loop->inputs[i].dlq_topic =
            ff_asprintf("%s%s", loop->inputs[i].topic, ff_conf_str(conf, "dlq.suffix"));
    }
    loop->batch_size = (int)ff_conf_int(conf, "batch.size");
    loop->batch_timeout = ff_conf_int(conf, "batch.timeout");
    loop->backoff_initial = ff_conf_int(conf, "backoff.initial");
    loop->backoff_max = ff_conf_int(conf, "backoff.max");
    loop->stall_timeout = ff_conf_int(conf, "stall.timeout");
    loop->backoff = loop->backoff_initial;
    loop->redis_ok = true;
    loop->plain_commit = ff_conf_int(conf, "offsets.plain_commit") != 0;
    ff_arena_init(&loop->arena, 256 * 1024);
    if (make_producer(loop, errstr, errstr_size) == -1 ||
        make_consumer(loop, errstr, errstr_size) == -1) {
        ff_loop_destroy(loop);
        return NULL;
    }
    return loop;
}

static void drop_batch(ff_loop_t *loop)
{
    for (size_t i = 0; i < loop->nitems; i++)
        rd_kafka_message_destroy(loop->items[i].rkm);
    loop->nitems = 0;
    loop->nevents = 0;
    loop->applied = false;
    loop->revoked = false;
    loop->rounds_at_start = 0;
    ff_arena_reset(&loop->arena);
}

void ff_loop_destroy(ff_loop_t *loop)
{
    if (!loop)
        return;
    drop_batch(loop);
    for (size_t i = 0; i < loop->nlookahead; i++)
        rd_kafka_message_destroy(loop->lookahead[i]);
    free(loop->lookahead);
    if (loop->consumer) {
        rd_kafka_consumer_close(loop->consumer);
        rd_kafka_destroy(loop->consumer);
    }
    if (loop->producer) {
        rd_kafka_flush(loop->producer, 5000);
        rd_kafka_destroy(loop->producer);
    }
    if (loop->paused_parts) /* after the close: its revocation may resume some */
        rd_kafka_topic_partition_list_destroy(loop->paused_parts);
    free(loop->stall_gap);
    for (size_t i = 0; i < loop->def->ninputs; i++)
        free(loop->inputs[i].dlq_topic);
    free(loop->inputs);
    free(loop->items);
    free(loop->group_id);
    free(loop->txn_id);
    free(loop->proc_name);
    ff_arena_term(&loop->arena);
    free(loop);
}

const ff_loop_stats_t *ff_loop_stats(const ff_loop_t *loop)
{
    return &loop->stats;
}

bool ff_loop_ready(const ff_loop_t *loop)
{
    return loop->assigned > 0 && loop->redis_ok && !loop->paused;
}

/* ---- batches ---------------------------------------------------------------- */

static void log_consumer_error(ff_loop_t *loop, const rd_kafka_message_t *rkm)
{
    int64_t now = ff_mono_ms();
    /* A broker outage produces an error per poll: say it every few seconds. */
    if (now - loop->last_err_log < 5000)
        return;
    loop->last_err_log = now;
    ff_warn("kafka.consume", "%s", rd_kafka_message_errstr(rkm));
}

static void add_item(ff_loop_t *loop, rd_kafka_message_t *rkm)
{
    if (loop->nitems == loop->cap) {
        loop->cap = loop->cap ? loop->cap * 2 : 256;
        loop->items = ff_realloc(loop->items, loop->cap * sizeof(*loop->items));
    }
    memset(&loop->items[loop->nitems], 0, sizeof(item_t));
    loop->items[loop->nitems++].rkm = rkm;
}

/* When a batch that has records stops filling: batch.timeout after the
 * previous batch stopped, not after its own first record. The records
 * waiting when a batch starts arrived while the previous one was being
 * applied, so they have waited since then: under load a batch takes what is
 * waiting and goes, instead of adding batch.timeout to every record's
 * latency; a trickle still makes at most one batch per batch.timeout. */
static int64_t fill_deadline(const ff_loop_t *loop)
{
    return loop->last_close + loop->batch_timeout;
}

static void fill_batch(ff_loop_t *loop)
{
    int64_t deadline = -1;
    for (size_t i = 0; i < loop->nlookahead; i++)
        add_item(loop, loop->lookahead[i]);
    loop->nlookahead = 0;
    if (loop->nitems)
        deadline = fill_deadline(loop);
    bool past = false;
    unsigned polls = 0;
    step(loop, "waiting for records");
    while (loop->nitems < (size_t)loop->batch_size && !ff_stop_requested) {
        int timeout = 100;
        rd_kafka_message_t *rkm;
        /* Past the deadline, only what is already waiting (and no more
         * clock reads: a full batch polls thousands of times). */
        if (past) {
            timeout = 0;
        } else if (deadline >= 0) {
            int64_t left = deadline - ff_mono_ms();
            timeout = left > 0 ? (int)(left < 100 ? left : 100) : 0;
            past = timeout == 0;
        }
        rkm = rd_kafka_consumer_poll(loop->consumer, timeout);
        /* On the first poll of every batch, whatever its size, and every
         * 256 after: a catch-up never polls empty. */
        if (!rkm || (polls++ & 255) == 0)
            heartbeat(loop);
        if (!rkm) {
            if (deadline < 0)
                return; /* idle: let the caller check for a stop */
            if (timeout == 0)
                break;
            continue;
        }
        if (rkm->err) {
            log_consumer_error(loop, rkm);
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (!within_bounds(loop, rkm)) {
            rd_kafka_message_destroy(rkm);
            continue;
        }
        add_item(loop, rkm);
        if (deadline < 0)
            deadline = fill_deadline(loop);
    }
    if (loop->nitems)
        loop->last_close = ff_mono_ms();
}

static int input_of(const ff_loop_t *loop, const char *topic)
{
    for (size_t i = 0; i < loop->def->ninputs; i++)
        if (!strcmp(loop->inputs[i].topic, topic))
            return (int)i;
    return -1;
}

/* Decodes and validates every record; returns 1 when a schema lookup hit
 * an unreachable registry (try the whole batch again later). */
static int decode_batch(ff_loop_t *loop)
{
    int64_t now = ff_clock_now_ms();
    loop->events = ff_arena_alloc(&loop->arena, loop->nitems * sizeof(ff_event_t) + 1);
    loop->floors = ff_arena_alloc(&loop->arena, loop->nitems * sizeof(int64_t) + 1);
    loop->nevents = 0;
    for (size_t i = 0; i < loop->nitems; i++) {
        item_t *it = &loop->items[i];
        rd_kafka_message_t *rkm = it->rkm;
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        const ff_input_t *in;
        ff_dec_err_t err;
        void *rec;
        int retry = 0;
        char why[512];
        const char *reason;

        it->input = input_of(loop, topic);
        it->ev = NULL;
        if (it->input < 0) {
            it->dlq_class = "UNKNOWN_TOPIC";
            it->dlq_msg = "record from a topic this processor does not read";
            continue;
        }
        in = &loop->def->inputs[it->input];
        if (!rkm->key || rkm->key_len == 0) {
            it->dlq_class = "MISSING_KEY";
            it->dlq_msg = "record has no key: footfall topics are keyed by the entity id, "
                          "which keeps an entity's records in order on one partition";
            continue;
        }
        rec = ff_arena_alloc(&loop->arena, ff_record_descs[in->rec]->size);
        if (ff_codec_decode(loop->codec, in->rec, rkm->payload, rkm->len, &loop->arena, rec, &err,
                            &retry) == -1) {
            if (retry)
                return 1;
            it->dlq_class = ff_dec_status_name(err.status);
            it->dlq_msg = ff_arena_strdup(&loop->arena, err.msg);
            continue;
        }
        reason = in->validate(loop->proc, rec, now, why, sizeof why);
        if (reason) {
            it->dlq_class = "VALIDATION";
            it->dlq_msg = ff_arena_strdup(&loop->arena, reason);
            continue;
        }
        ff_event_t *ev = &loop->events[loop->nevents];
        memset(ev, 0, sizeof(*ev));
        ev->input = it->input;
        ev->topic = loop->inputs[it->input].topic;
        ev->partition = rkm->partition;
        ev->offset = rkm->offset;
        ev->rec = rec;
        /* Every input record starts with its event_id (checked at start). */
        ev->event_id = *(const char *const *)rec;
        ev->ts = in->event_time(rec);
        ff_clock_observe_event(ev->ts);
        it->ev = ev;
        loop->nevents++;
    }
    /* Per event, the first offset of its partition in this batch: every
     * offset below it is committed. */
    struct { int input; int32_t partition; int64_t first; } *parts;
    size_t nparts = 0;
    parts = ff_arena_alloc(&loop->arena, loop->nitems * sizeof(*parts) + 1);
    for (size_t i = 0; i < loop->nitems; i++) {
        rd_kafka_message_t *rkm = loop->items[i].rkm;
        size_t k;
        for (k = 0; k < nparts; k++)
            if (parts[k].input == loop->items[i].input && parts[k].partition == rkm->partition)
                break;
        if (k == nparts) {
            parts[k].input = loop->items[i].input;
            parts[k].partition = rkm->partition;
            parts[k].first = rkm->offset;
            nparts++;
        }
    }
    for (size_t i = 0; i < loop->nevents; i++) {
        ff_event_t *ev = &loop->events[i];
        loop->floors[i] = ev->offset;
        for (size_t k = 0; k < nparts; k++)
            if (parts[k].input == ev->input && parts[k].partition == ev->partition)
                loop->floors[i] = parts[k].first;
    }
    return 0;
}

/* ---- outages ---------------------------------------------------------------- */

/* Pausing and resuming partitions. librdkafka 2.0 (Debian 12's) orders a
 * partition's operations by a version taken when each is created, bumps it
 * on every pause and resume (even of a partition not paused; 2.1 stopped
 * that for resumes), and drops an operation older than the current one. A
 * resume made from the rebalance callback took its version after the
 * fetch start librdkafka's main thread was preparing and was handled
 * first: the fetch start was dropped as outdated and the partition never
 * fetched (caught by the fault suite under ASan). So a partition is paused
 * only once a record of it has been delivered since its assignment (its
 * fetch has started), and only what was paused is resumed. */

/* Pauses topic[partition] unless it is paused already. */
static void pause_one(ff_loop_t *loop, const char *topic, int32_t partition)
{
    rd_kafka_topic_partition_list_t *one;
    if (rd_kafka_topic_partition_list_find(loop->paused_parts, topic, partition))
        return;
    one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, partition);
    rd_kafka_pause_partitions(loop->consumer, one);
    rd_kafka_topic_partition_list_destroy(one);
    rd_kafka_topic_partition_list_add(loop->paused_parts, topic, partition);
}

static void set_paused(ff_loop_t *loop, bool pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (loop->paused == pause)
        return;
    if (pause) {
        loop->paused_parts = rd_kafka_topic_partition_list_new(8);
        /* A position (the offset after the last record delivered) is set
         * only once a record has been, since the assignment. */
        if (rd_kafka_assignment(loop->consumer, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts &&
            rd_kafka_position(loop->consumer, parts) == RD_KAFKA_RESP_ERR_NO_ERROR)
            for (int i = 0; i < parts->cnt; i++)
                if (parts->elems[i].offset >= 0)
                    pause_one(loop, parts->elems[i].topic, parts->elems[i].partition);
        if (parts)
            rd_kafka_topic_partition_list_destroy(parts);
    } else {
        if (loop->paused_parts->cnt)
            rd_kafka_resume_partitions(loop->consumer, loop->paused_parts);
        rd_kafka_topic_partition_list_destroy(loop->paused_parts);
        loop->paused_parts = NULL;
    }
    loop->paused = pause;
}

/* From the rebalance callback, while paused: resumes the revoked
 * partitions we paused, before they are unassigned. */
static void resume_revoked(ff_loop_t *loop, const rd_kafka_topic_partition_list_t *revoked)
{
    rd_kafka_topic_partition_list_t *resume = rd_kafka_topic_partition_list_new(revoked->cnt);
    for (int i = 0; i < revoked->cnt; i++)
        if (rd_kafka_topic_partition_list_del(loop->paused_parts, revoked->elems[i].topic,
                                              revoked->elems[i].partition))
            rd_kafka_topic_partition_list_add(resume, revoked->elems[i].topic,
                                              revoked->elems[i].partition);
    if (resume->cnt)
        rd_kafka_resume_partitions(loop->consumer, resume);
    rd_kafka_topic_partition_list_destroy(resume);
}

/* Waits out one backoff step with consumption paused, keeping our group
 * membership alive. */
static void outage_wait(ff_loop_t *loop, const char *what, const char *why)
{
    int64_t until;
    step(loop, "waiting out an outage");
    loop->outage = !strcmp(what, "redis")    ? FF_NOT_READY_REDIS
                   : !strcmp(what, "kafka") ? FF_NOT_READY_KAFKA
                                            : FF_NOT_READY_REGISTRY;
    if (!loop->paused) {
        char labels[64];
        snprintf(labels, sizeof labels, "dependency=\"%s\"", what);
        label_counter(loop, "footfall_outage_pauses_total",
                      "times consumption was paused because a dependency failed", labels, 1);
        loop->stats.outage_pauses++;
        ff_warn("outage.pause", "%s unavailable (%s): pausing consumption; nothing is committed "
                "until it is back", what, why);
        set_paused(loop, true);
    } else {
        ff_warn("outage.retry", "%s still unavailable (%s); retrying in %lld ms", what, why,
                (long long)loop->backoff);
    }
    heartbeat(loop);
    until = ff_mono_ms() + loop->backoff;
    while (!ff_stop_requested && !loop->revoked) {
        int64_t left = until - ff_mono_ms();
        rd_kafka_message_t *rkm;
        if (left <= 0)
            break;
        rkm = rd_kafka_consumer_poll(loop->consumer, (int)(left < 100 ? left : 100));
        heartbeat(loop);
        if (!rkm)
            continue;
        if (rkm->err) {
            rd_kafka_message_destroy(rkm);
            continue;
        }
        /* Fetched before the pause took effect, or the first record of a
         * partition not paused yet: keep it for the next batch. */
        pause_one(loop, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (loop->nlookahead == loop->caplookahead) {
            loop->caplookahead = loop->caplookahead ? loop->caplookahead * 2 : 64;
            loop->lookahead =
                ff_realloc(loop->lookahead, loop->caplookahead * sizeof(*loop->lookahead));
        }
        loop->lookahead[loop->nlookahead++] = rkm;
    }
    loop->backoff = loop->backoff * 2 > loop->backoff_max ? loop->backoff_max : loop->backoff * 2;
}

static void outage_over(ff_loop_t *loop)
{
    if (loop->paused) {
        ff_info("outage.resume", "dependencies are back: resuming consumption");
        set_paused(loop, false);
        heartbeat(loop);
    }
    loop->backoff = loop->backoff_initial;
}

/* ---- transactions ------------------------------------------------------------ */

typedef enum { TXN_OK, TXN_RETRY, TXN_FATAL, TXN_STOPPED } txn_rc_t;

static void dlq_headers(ff_loop_t *loop, const item_t *it, rd_kafka_headers_t *hdrs)
{
    char num[32];
    const rd_kafka_message_t *rkm = it->rkm;
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_header_add(hdrs, "ff.source.topic", -1, topic, -1);
    snprintf(num, sizeof num, "%d", (int)rkm->partition);
    rd_kafka_header_add(hdrs, "ff.source.partition", -1, num, -1);
    snprintf(num, sizeof num, "%lld", (long long)rkm->offset);
    rd_kafka_header_add(hdrs, "ff.source.offset", -1, num, -1);
    rd_kafka_header_add(hdrs, "ff.processor", -1, loop->proc_name, -1);
    rd_kafka_header_add(hdrs, "ff.error.class", -1, it->dlq_class, -1);
    rd_kafka_header_add(hdrs, "ff.error.message", -1, it->dlq_msg, -1);
}

static int produce_one(ff_loop_t *loop, const char *topic, const void *key, size_t key_len,
                       const void *value, size_t value_len, rd_kafka_headers_t *hdrs,
                       char *errstr, size_t errstr_size)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            loop->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (!err)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(loop->producer, 50);
            continue;
        }
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        snprintf(errstr, errstr_size, "produce to %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
}

static int produce_batch(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < loop->nitems; i++) {
        item_t *it = &loop->items[i];
        if (!it->ev) {
            const char *topic = it->input >= 0
                                    ? loop->inputs[it->input].dlq_topic
                                    : ff_arena_printf(&loop->arena, "%s%s",
                                                      rd_kafka_topic_name(it->rkm->rkt),
                                                      ff_conf_str(loop->conf, "dlq.suffix"));
            rd_kafka_headers_t *hdrs = rd_kafka_headers_new(6);
            dlq_headers(loop, it, hdrs);
            if (produce_one(loop, topic, it->rkm->key, it->rkm->key_len, it->rkm->payload,
                            it->rkm->len, hdrs, errstr, errstr_size) == -1)
                return -1;
            continue;
        }
        for (ff_output_t *o = it->ev->outputs; o; o = o->next)
            if (produce_one(loop, o->topic, o->key, o->key_len, o->value, o->value_len, NULL,
                            errstr, errstr_size) == -1)
                return -1;
    }
    return 0;
}

static rd_kafka_topic_partition_list_t *batch_offsets(ff_loop_t *loop)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(16);
    for (size_t i = 0; i < loop->nitems; i++) {
        rd_kafka_message_t *rkm = loop->items[i].rkm;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
            offsets, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(offsets, rd_kafka_topic_name(rkm->rkt),
                                                   rkm->partition);
        if (rkm->offset + 1 > tp->offset)
            tp->offset = rkm->offset + 1;
    }
    return offsets;
}

/* Aborts the transaction in hand. One that cannot be aborted now (the
 * broker is away) stays open, and the next attempt aborts it first:
 * beginning another would fail with "Operation not valid in state
 * InTransaction" for as long as the processor runs. */
static txn_rc_t abort_open(ff_loop_t *loop)
{
    rd_kafka_error_t *aerr;
    txn_rc_t rc = TXN_RETRY;
    step(loop, "aborting the transaction");
    aerr = rd_kafka_abort_transaction(loop->producer, TXN_TIMEOUT_MS);
    loop->stats.txn_aborts++;
    ff_series_add(loop->m_aborts, 1);
    if (aerr) {
        if (rd_kafka_error_is_fatal(aerr))
            rc = TXN_FATAL;
        rd_kafka_error_destroy(aerr);
    } else {
        loop->txn_open = false;
    }
    return rc;
}

/* Classifies a transactional error: abort-and-retry, plain retry, or fatal. */
static txn_rc_t txn_error(ff_loop_t *loop, rd_kafka_error_t *error, const char *step,
                          char *errstr, size_t errstr_size)
{
    txn_rc_t rc;
    snprintf(errstr, errstr_size, "%s: %s", step, rd_kafka_error_string(error));
    if (rd_kafka_error_is_fatal(error)) {
        rc = TXN_FATAL;
    } else {
        if (rd_kafka_error_txn_requires_abort(error)) {
            rc = abort_open(loop);
        } else {
            rc = TXN_RETRY;
        }
    }
    rd_kafka_error_destroy(error);
    return rc;
}

/* Asks for the metadata of one topic the producer will write. */
static void learn_topic(ff_loop_t *loop, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(loop->producer, topic, NULL);
    rd_kafka_resp_err_t err;
    if (!rkt)
        return;
    err = rd_kafka_metadata(loop->producer, 0, rkt, &md, 5000);
    if (err)
        ff_debug("kafka.metadata", "%s: %s (learned at the first output instead)", topic,
                 rd_kafka_err2str(err));
    else
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

/* The producer learns where its output and DLQ topics live before the first
 * commit: otherwise the first transaction that writes to a topic waits for
 * the lookup (0.7 s on the embedded broker) inside commit_transaction. */
static void learn_topics(ff_loop_t *loop)
{
    for (size_t i = 0; loop->def->outputs && loop->def->outputs[i]; i++)
        learn_topic(loop, ff_conf_str(loop->conf, loop->def->outputs[i]));
    for (size_t i = 0; i < loop->def->ninputs; i++)
        learn_topic(loop, loop->inputs[i].dlq_topic);
}

static txn_rc_t transact(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    rd_kafka_error_t *error;
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_consumer_group_metadata_t *cgm;
    txn_rc_t rc;

    if (!loop->txn_ready) {
        step(loop, "initialising transactions");
        error = rd_kafka_init_transactions(loop->producer, TXN_TIMEOUT_MS);
        if (error)
            return txn_error(loop, error, "init transactions", errstr, errstr_size);
        loop->txn_ready = true;
        step(loop, "looking up the output topics");
        learn_topics(loop);
    }
    int64_t t0 = ff_mono_us();
    if (loop->txn_open) {
        /* Left open by an attempt that failed mid-way (send_offsets during
         * an outage, say): its outputs must not be committed with this one. */
        if ((rc = abort_open(loop)) != TXN_RETRY || loop->txn_open) {
            snprintf(errstr, errstr_size,
                     "abort transaction: the previous attempt's is still open");
            return rc;
        }
    }
    step(loop, "producing outputs");
    /* Delivery reports an aborted transaction left behind. */
    rd_kafka_poll(loop->producer, 0);
    error = rd_kafka_begin_transaction(loop->producer);
    if (error)
        return txn_error(loop, error, "begin transaction", errstr, errstr_size);
    loop->txn_open = true;
    if (produce_batch(loop, errstr, errstr_size) == -1)
        return abort_open(loop);
    phase_done(loop, PHASE_PRODUCE, &t0);
    offsets = batch_offsets(loop);
    cgm = rd_kafka_consumer_group_metadata(loop->consumer);
    step(loop, "sending offsets to the transaction");
    error = rd_kafka_send_offsets_to_transaction(loop->producer, offsets, cgm, TXN_TIMEOUT_MS);
    rd_kafka_consumer_group_metadata_destroy(cgm);
    if (error) {
        rd_kafka_topic_partition_list_destroy(offsets);
        return txn_error(loop, error, "send offsets", errstr, errstr_size);
    }
    phase_done(loop, PHASE_SEND_OFFSETS, &t0);
    for (;;) {
        step(loop, "committing the transaction");
        error = rd_kafka_commit_transaction(loop->producer, TXN_TIMEOUT_MS);
        if (!error)
            break;
        if (rd_kafka_error_is_retriable(error) && !ff_stop_requested) {
            /* The outcome is unknown (a timeout): committing again is the
             * documented way to learn it. */
            outage_wait(loop, "kafka", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            continue;
        }
        rd_kafka_topic_partition_list_destroy(offsets);
        return txn_error(loop, error, "commit transaction", errstr, errstr_size);
    }
    loop->txn_open = false;
    loop->stats.txn_commits++;
    ff_series_add(loop->m_commits, 1);
    phase_done(loop, PHASE_COMMIT, &t0);
    /* Commit the same offsets to the group outside the transaction as well.
     * With a real broker this repeats what the transaction committed; the
     * embedded broker (librdkafka's mock cluster) ignores transactional
     * offset commits, and without this a restart would re-read from zero. */
    if (loop->plain_commit) {
        step(loop, "committing offsets to the group");
        rd_kafka_resp_err_t cerr = rd_kafka_commit(loop->consumer, offsets, 0);
        if (!cerr) {
            loop->plain_failing_ms = 0;
            loop->plain_failures = 0;
        } else {
            /* One failing is ordinary in a rebalance, and harmless on Kafka
             * (the transaction committed the offsets); failing for 30 s is
             * worth saying: the embedded broker keeps only these. */
            int64_t now = ff_mono_ms();
            loop->plain_failures++;
            if (!loop->plain_failing_ms)
                loop->plain_failing_ms = now;
            if (now - loop->plain_failing_ms >= 30000 && now - loop->plain_warned_ms >= 30000) {
                ff_warn("kafka.commit",
                        "the plain offset commit has failed %u times in %lld s, none succeeding "
                        "(%s): the transactions committed the offsets, but the embedded broker "
                        "keeps only these", loop->plain_failures,
                        (long long)((now - loop->plain_failing_ms) / 1000), rd_kafka_err2str(cerr));
                loop->plain_warned_ms = now;
            }
        }
        phase_done(loop, PHASE_GROUP_COMMIT, &t0);
    }
    for (int i = 0; loop->bounds && i < offsets->cnt; i++) {
        ff_bound_t *b = bound_of(loop, offsets->elems[i].topic, offsets->elems[i].partition);
        if (b && offsets->elems[i].offset > b->position)
            b->position = offsets->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    return TXN_OK;
}

/* Recreates both Kafka clients; why: the reason's series of
 * footfall_client_restarts_total. */
static int restart_clients(ff_loop_t *loop, ff_series_t *why, char *errstr, size_t errstr_size)
{
    step(loop, "restarting the Kafka clients");
    loop->stats.restarts++;
    ff_series_add(why, 1);
    ff_warn("kafka.restart", "restarting the Kafka clients: the batch in hand is dropped and "
            "will be read again from the committed offsets");
    drop_batch(loop);
    for (size_t i = 0; i < loop->nlookahead; i++)
        rd_kafka_message_destroy(loop->lookahead[i]);
    loop->nlookahead = 0;
    rd_kafka_consumer_close(loop->consumer);
    rd_kafka_destroy(loop->consumer);
    loop->consumer = NULL;
    rd_kafka_destroy(loop->producer);
    loop->producer = NULL;
    loop->paused = false;
    if (loop->paused_parts)
        rd_kafka_topic_partition_list_destroy(loop->paused_parts);
    loop->paused_parts = NULL;
    ff_engine_forget(loop->engine);
    if (make_producer(loop, errstr, errstr_size) == -1 ||
        make_consumer(loop, errstr, errstr_size) == -1 ||
        start_consuming(loop, errstr, errstr_size) == -1)
        return -1;
    return 0;
}

/* ---- stalls ------------------------------------------------------------------- */

/* librdkafka 2.0 can hold an assigned partition without ever fetching it,
 * and say so only once: one failed OffsetFetch (the committed offsets
 * looked up after an assignment) leaves the partition unstarted until it is
 * assigned again. The loop then turns, idle, while records wait. So when
 * no record has arrived for stall.timeout, the loop compares each assigned
 * partition's position with its end; where records should be waiting, a
 * short-lived consumer reads from that position, and if it gets a record
 * that ours never did, the Kafka clients are restarted (the group hands the
 * partitions out again). Offsets a read_committed consumer never receives
 * (transaction markers, aborted records) are told apart by that probe, and
 * remembered so as not to probe them again. */

static bool stall_check_due(const ff_loop_t *loop)
{
    int64_t quiet = loop->last_close;
    if (loop->bounds || loop->paused || loop->assigned <= 0 || !loop->stall_timeout)
        return false;
    if (loop->assigned_ms > quiet)
        quiet = loop->assigned_ms;
    if (loop->stall_checked_ms > quiet)
        quiet = loop->stall_checked_ms;
    return ff_mono_ms() - quiet >= loop->stall_timeout;
}

/* Where the consumer starts a partition it has no offset for. */
static bool resets_to_earliest(const ff_loop_t *loop)
{
    char value[32];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(rd_kafka_conf(loop->consumer), "auto.offset.reset", value, &size) !=
        RD_KAFKA_CONF_OK)
        return true;
    return !strcmp(value, "earliest") || !strcmp(value, "smallest") ||
           !strcmp(value, "beginning");
}

/* The assigned partitions with records between where this consumer is
 * (the next record it would deliver) and their end; each one's .offset is
 * that position, and `gap` says "topic[p] from to end" for each. NULL if
 * there are none or it cannot tell. */
static rd_kafka_topic_partition_list_t *partitions_behind(ff_loop_t *loop, ff_buf_t *gap)
{
    rd_kafka_topic_partition_list_t *parts = NULL, *committed, *behind = NULL;
    if (rd_kafka_assignment(loop->consumer, &parts) || !parts)
        return NULL;
    if (!parts->cnt || rd_kafka_position(loop->consumer, parts)) {
        rd_kafka_topic_partition_list_destroy(parts);
        return NULL;
    }
    /* Nothing delivered since the assignment: from the committed offset. */
    committed = rd_kafka_topic_partition_list_copy(parts);
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset < 0) {
            if (rd_kafka_committed(loop->consumer, committed, 2000))
                for (int k = 0; k < committed->cnt; k++)
                    committed->elems[k].offset = RD_KAFKA_OFFSET_INVALID;
            break;
        }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int64_t lo, hi, from = p->offset >= 0 ? p->offset : committed->elems[i].offset;
        /* With read_committed, the end is the last stable offset: records
         * of transactions still open are not waiting yet. A broker that
         * does not answer is an outage, not a stall: give up at once. */
        if (rd_kafka_query_watermark_offsets(loop->consumer, p->topic, p->partition, &lo, &hi,
                                             2000)) {
            if (behind)
                rd_kafka_topic_partition_list_destroy(behind);
            behind = NULL;
            break;
        }
        if (from < 0)
            from = resets_to_earliest(loop) ? lo : hi;
        if (hi > from) {
            if (!behind)
                behind = rd_kafka_topic_partition_list_new(parts->cnt);
            rd_kafka_topic_partition_list_add(behind, p->topic, p->partition)->offset = from;
            ff_buf_printf(gap, "%s%s[%d] %lld to %lld", gap->len ? ", " : "", p->topic,
                          (int)p->partition, (long long)from, (long long)hi);
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_topic_partition_list_destroy(parts);
    return behind;
}

/* Reads `behind` from its offsets with a consumer of its own for up to
 * 5 s: 1 and the first record's place in `first` if one arrives, 0 if every
 * partition reaches its end without one, -1 if it cannot tell. */
static int probe_records(ff_loop_t *loop, const rd_kafka_topic_partition_list_t *behind,
                         char *first, size_t first_size)
{
    char errstr[512], group[300];
    const char *forced[] = {
        "group.id", group,
        "enable.auto.commit", "false",
        "isolation.level", "read_committed",
        "enable.partition.eof", "true",
        NULL,
    };
    rd_kafka_conf_t *kconf;
    rd_kafka_t *probe;
    int rc = -1, eofs = 0;
    int64_t deadline = ff_mono_ms() + 5000;

    /* Assigned, not subscribed: the group only names the client. */
    snprintf(group, sizeof group, "%s.stall-probe", loop->group_id);
    if (!(kconf = ff_kafka_conf(loop->conf, NULL, forced, errstr, sizeof errstr)) ||
        !(probe = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr))) {
        ff_warn("kafka.stalled", "cannot start a consumer to look for records: %s", errstr);
        return -1;
    }
    rd_kafka_poll_set_consumer(probe);
    if (!rd_kafka_assign(probe, behind)) {
        while (rc == -1 && ff_mono_ms() < deadline && !ff_stop_requested) {
            rd_kafka_message_t *rkm = rd_kafka_consumer_poll(probe, 100);
            heartbeat(loop);
            if (!rkm)
                continue;
            if (!rkm->err) {
                snprintf(first, first_size, "%s[%d] at offset %lld", rd_kafka_topic_name(rkm->rkt),
                         (int)rkm->partition, (long long)rkm->offset);
                rc = 1;
            } else if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && ++eofs == behind->cnt) {
                rc = 0;
            }
            rd_kafka_message_destroy(rkm);
        }
    }
    rd_kafka_consumer_close(probe);
    rd_kafka_destroy(probe);
    return rc;
}

static int restart_clients(ff_loop_t *loop, ff_series_t *why, char *errstr, size_t errstr_size);

/* See above. -1 only if restarting the clients failed. */
static int check_stalled(ff_loop_t *loop, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *behind;
    char first[300] = "";
    ff_buf_t gap;
    int rc = 0;

    loop->stall_checked_ms = ff_mono_ms();
    step(loop, "looking for records that do not arrive");
    ff_buf_init(&gap);
    behind = partitions_behind(loop, &gap);
    if (!behind || (loop->stall_gap && !strcmp(loop->stall_gap, gap.data))) {
        /* Nothing waits, or looked at already: no records there. */
        if (behind)
            rd_kafka_topic_partition_list_destroy(behind);
        ff_buf_term(&gap);
        return 0;
    }
    switch (probe_records(loop, behind, first, sizeof first)) {
    case 1:
        loop->stats.stalls++;
        ff_warn("kafka.stalled",
                "records wait that never arrived (stall.timeout %lld ms without one; %s; the "
                "first: %s): librdkafka is holding partitions it does not fetch; restarting the "
                "Kafka clients",
                (long long)loop->stall_timeout, gap.data, first);
        free(loop->stall_gap);
        loop->stall_gap = NULL;
        if (restart_clients(loop, loop->m_restarts_stall, errstr, errstr_size) == -1)
            rc = -1;
        break;
    case 0:
        /* Offsets with nothing to deliver: say it once, at debug. */
        ff_debug("kafka.gap", "offsets hold no records a read_committed consumer receives "
                 "(transaction markers or aborted records): %s", gap.data);
        free(loop->stall_gap);
        loop->stall_gap = ff_strdup(gap.data);
        break;
    default:
        break;
    }
    rd_kafka_topic_partition_list_destroy(behind);
    ff_buf_term(&gap);
    return rc;
}

static void count_outputs(ff_loop_t *loop)
{
    for (size_t i = 0; i < loop->nitems; i++) {
        item_t *it = &loop->items[i];
        if (!it->ev) {
            loop->stats.dlq++;
            loop->stats.outputs++;
            loop->stats.labels[FF_LABEL_DLQ]++;
            continue;
        }
        for (ff_output_t *o = it->ev->outputs; o; o = o->next) {
            loop->stats.outputs++;
            if (o->label >= 0 && o->label < FF_LOOP_MAX_LABELS)
                loop->stats.labels[o->label]++;
        }
    }
}

int ff_loop_run(ff_loop_t *loop)
{
    char errstr[512];

    if (start_consuming(loop, errstr, sizeof errstr) == -1) {
        ff_error("kafka.start", "%s", errstr);
        return -1;
    }

    while (!ff_stop_requested || loop->nitems) {
        if (loop->revoked) {
            drop_batch(loop);
            /* Nothing in hand to retry: the next batch, from the committed
             * offsets, tells whether the outage is over. Staying paused
             * would wait for a success that nothing can bring. */
            if (loop->paused) {
                ff_info("outage.resume", "the batch in hand was revoked; consuming again");
                set_paused(loop, false);
            }
            continue;
        }
        if (!loop->nitems) {
            if (ff_stop_requested || (loop->bounds && bounds_done(loop)))
                break;
            int64_t t0 = ff_mono_us();
            fill_batch(loop);
            report_progress(loop, false);
            if (!loop->nitems) {
                if (stall_check_due(loop) && check_stalled(loop, errstr, sizeof errstr) == -1) {
                    ff_error("kafka.restart", "%s", errstr);
                    return -1;
                }
                continue;
            }
            phase_done(loop, PHASE_FILL, &t0);
        }
        if (!loop->applied) {
            int64_t t0 = ff_mono_us();
            if (!loop->rounds_at_start)
                loop->rounds_at_start = ff_engine_stats(loop->engine)->rounds + 1;
            ff_arena_reset(&loop->arena);
            step(loop, "decoding records");
            if (decode_batch(loop) == 1) {
                outage_wait(loop, "schema registry", "cannot look up a schema id");
                if (ff_stop_requested)
                    break;
                continue;
            }
            step(loop, "reading and writing state in Redis");
            if (ff_engine_run(loop->engine, loop->events, loop->nevents, loop->floors,
                              &loop->arena, errstr, sizeof errstr) == -1) {
                loop->redis_ok = false;
                ff_engine_forget(loop->engine);
                if (ff_stop_requested)
                    break; /* nothing committed: the next owner redoes it */
                outage_wait(loop, "redis", errstr);
                continue;
            }
            loop->redis_ok = true;
            loop->applied = true;
            phase_done(loop, PHASE_STATE, &t0);
        }
        switch (transact(loop, errstr, sizeof errstr)) {
        case TXN_OK:
            count_outputs(loop);
            observe_batch(loop);
            ff_debug("loop.batch",
                     "records=%zu events=%zu rounds=%llu outputs=%llu ms: fill=%.1f state=%.1f "
                     "produce=%.1f send_offsets=%.1f commit=%.1f group_commit=%.1f",
                     loop->nitems, loop->nevents,
                     (unsigned long long)(ff_engine_stats(loop->engine)->rounds -
                                          (loop->rounds_at_start - 1)),
                     (unsigned long long)loop->stats.outputs, loop->phase_us[PHASE_FILL] / 1e3,
                     loop->phase_us[PHASE_STATE] / 1e3, loop->phase_us[PHASE_PRODUCE] / 1e3,
                     loop->phase_us[PHASE_SEND_OFFSETS] / 1e3, loop->phase_us[PHASE_COMMIT] / 1e3,
                     loop->phase_us[PHASE_GROUP_COMMIT] / 1e3);
            memset(loop->phase_us, 0, sizeof loop->phase_us);
            loop->rounds_at_start = 0;
            /* Counted once committed: a batch decoded again after an
             * outage is still the same records. */
            loop->stats.consumed += loop->nitems;
            loop->stats.batches++;
            drop_batch(loop);
            outage_over(loop);
            report_progress(loop, loop->bounds && bounds_done(loop));
            break;
        case TXN_RETRY:
            if (ff_stop_requested)
                goto out;
            outage_wait(loop, "kafka", errstr);
            break;
        case TXN_FATAL:
            ff_error("kafka.fatal", "%s%s", errstr,
                     strstr(errstr, "enced") ? " (another process uses this transactional.id: "
                                              "is instance.id unique per instance?)"
                                            : "");
            /* Back off first: two instances fencing each other must not spin. */
            outage_wait(loop, "kafka", errstr);
            if (ff_stop_requested)
                goto out;
            if (restart_clients(loop, loop->m_restarts_fatal, errstr, sizeof errstr) == -1) {
                ff_error("kafka.restart", "%s", errstr);
                return -1;
            }
            break;
        case TXN_STOPPED:
            goto out;
        }
    }
out:
    drop_batch(loop);
    report_progress(loop, true);
    heartbeat(loop);
    return 0;
}
