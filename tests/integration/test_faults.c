/* Exactly-once under faults: SIGKILLs, a Redis crash and a broker outage give the reference state and outputs.
 *
 * A retail day (tools/scenario_retail.c, fixed seed) goes through all four
 * real processors. To make the reference reproducible, inputs are fed phase
 * by phase (history then live; within each, shelf, web, geofence, pos) and
 * each phase waits until its processor committed everything: what one
 * processor reads of another's state is then the same in every run.
 *
 * Outputs are compared as sets keyed by trigger_id (decision_id for
 * decisions). With a real broker a read_committed consumer never sees the
 * records of a transaction that a SIGKILL interrupted; the embedded broker
 * (librdkafka's mock cluster) shows them, so here a duplicate is allowed
 * only if it is byte for byte the same record: that is what makes it safe
 * for a consumer to deduplicate.
 *
 * The same comparison proves scale-out: state in a Redis Cluster resharded
 * all through the run, and three instances of footfall-geofence sharing 12
 * partitions while one is killed and another joins.
 *
 * A plain run is the reference; the tests of a run share it (it is made
 * once per partition count, under a lock, in FF_FAULTS_REF_DIR). */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_testenv.h"
#include "scenario.h"

#define NOW_ENV "FOOTFALL_NOW=2026-11-23T12:00:00Z"
#define NOW 1795435200000LL
#define WAVE_SPLIT 12000 /* records sent in the first 12 s of the story: the history */

enum { P_SHELF, P_WEB, P_GEO, P_POS, NPROC };
static const char *const proc_names[NPROC] = {"shelf", "web", "geofence", "pos"};
static const char *const proc_groups[NPROC] = {"footfall-shelf", "footfall-web",
                                               "footfall-geofence", "footfall-pos"};
static const char *const proc_topics[NPROC][3] = {{"shelf.events", NULL},
                                                  {"web.events", NULL},
                                                  {"geofence.events", "consent.events", NULL},
                                                  {"pos.events", NULL}};
static const char *const outputs[] = {"triggers.drive-to-store", "triggers.holdout",
                                      "triggers.store-assist",   "triggers.conversion",
                                      "triggers.stock-alert",    "footfall.decisions"};
static const char *const dlqs[] = {"shelf.events.dlq", "web.events.dlq", "geofence.events.dlq",
                                   "consent.events.dlq", "pos.events.dlq"};
static const char *const proc_env[] = {
    NOW_ENV,
    "FOOTFALL_STORE_TZ=S001=+01:00,S002=+01:00,S003=-10:00",
    "FOOTFALL_BATCH_SIZE=5",
    "FOOTFALL_BATCH_TIMEOUT=20ms",
    /* Short, so a killed instance's partitions move on soon; but above the
     * embedded broker's 3 s first-join delay: at exactly 3 s its session
     * check can drop the joining member before the leader election answers
     * it, and the processor then waits minutes for a JoinGroup reply (the
     * shelf never consumed in a CI run under ASan). */
    "FOOTFALL_KAFKA_SESSION_TIMEOUT_MS=5000",
    "FOOTFALL_KAFKA_HEARTBEAT_INTERVAL_MS=500",
    NULL,
};

/* ---- the input ------------------------------------------------------------ */

typedef struct rec_s {
    const char *topic;
    char *key;
    ff_buf_t value;
} rec_t;

typedef struct phase_s {
    rec_t *recs;
    size_t n, cap;
} phase_t;

static phase_t phases[2][NPROC];
static ff_codec_t *input_codec;

static int collect(void *opaque, ff_rec_t type, const char *key, const void *rec, int64_t at)
{
    int p;
    const char *topic;
    (void)opaque;
    switch (type) {
    case FF_REC_SHELF_READING: p = P_SHELF; topic = "shelf.events"; break;
    case FF_REC_WEB_EVENT: p = P_WEB; topic = "web.events"; break;
    case FF_REC_GEOFENCE_EVENT: p = P_GEO; topic = "geofence.events"; break;
    case FF_REC_CONSENT_EVENT: p = P_GEO; topic = "consent.events"; break;
    default: p = P_POS; topic = "pos.events"; break;
    }
    phase_t *ph = &phases[at < WAVE_SPLIT ? 0 : 1][p];
    if (ph->n == ph->cap) {
        ph->cap = ph->cap ? ph->cap * 2 : 256;
        ph->recs = realloc(ph->recs, ph->cap * sizeof(rec_t));
    }
    rec_t *r = &ph->recs[ph->n++];
    r->topic = topic;
    r->key = strdup(key);
    ff_buf_init(&r->value);
    ff_codec_encode(input_codec, type, rec, &r->value);
    return 0;
}

static void make_input(void)
{
    char err[256];
    ff_scenario_opts_t o;
    memset(phases, 0, sizeof phases);
    input_codec = ff_codec_new(err, sizeof err);
    cr_assert_not_null(input_codec, "%s", err);
    ff_scenario_defaults("retail-day", &o, NOW);
    o.seed = 11;
    o.customers = 1000;
    o.start_ms = NOW - o.span_ms;
    cr_assert_gt(ff_scenario_run("retail-day", &o, collect, NULL), 3000);
}

static void free_input(void)
{
    for (int w = 0; w < 2; w++)
        for (int p = 0; p < NPROC; p++) {
            for (size_t i = 0; i < phases[w][p].n; i++) {
                free(phases[w][p].recs[i].key);
                ff_buf_term(&phases[w][p].recs[i].value);
            }
            free(phases[w][p].recs);
        }
    ff_codec_destroy(input_codec);
}

/* ---- a run ---------------------------------------------------------------- */

typedef enum {
    RUN_PLAIN,
    RUN_KILLS,
    RUN_REDIS_CRASH,
    RUN_BROKER_DOWN,
    RUN_RESHARD,  /* state in a 3-master Redis Cluster, resharded all along */
    RUN_INSTANCES /* 3 footfall-geofence instances; one killed, one added */
} run_kind_t;

#define GEO_INSTANCES 3

typedef struct run_s {
    ff_env_t env;
    int proc[NPROC];    /* index in the stack of each processor's current instance */
    int kills[NPROC];   /* SIGKILLs that hit a processor with work left */
    int misses[NPROC];  /* kills given up: the processor had caught up */
    int burst_us[NPROC]; /* longest burst kill_mid_stream lets it run (0: 3000) */
    int geo[GEO_INSTANCES + 1]; /* RUN_INSTANCES: every footfall-geofence started */
    bool geo_alive[GEO_INSTANCES + 1];
    int ngeo;
    int reshards;       /* RUN_RESHARD: reshards completed during the run */
    char *outputs;      /* sorted "topic id hex(value)" lines, one per distinct record */
    char *state;        /* sorted dump of every Redis key */
    int duplicates;     /* records seen more than once (identical) */
} run_t;

static bool log_has(run_t *r, int p, const char *needle)
{
    char *log = ff_env_proc_log(&r->env, r->proc[p]);
    bool yes = strstr(log, needle) != NULL;
    free(log);
    return yes;
}

/* How many partitions the processor started as `index` was assigned over
 * its life (the sum of its "assigned N" lines). */
static int assigned_total(run_t *r, int index)
{
    char *log = ff_env_proc_log(&r->env, index);
    int total = 0;
    for (const char *p = log; (p = strstr(p, "\"msg\":\"assigned ")); p++)
        total += atoi(p + strlen("\"msg\":\"assigned "));
    free(log);
    return total;
}

static void wait_assigned(run_t *r, int p)
{
    for (int i = 0; i < 600 && !log_has(r, p, "\"event\":\"kafka.assign\""); i++)
        ff_sleep_ms(50);
}

/* Produces records [from, to) of a phase (to capped at its end); returns
 * where it stopped. */
static size_t produce_phase(run_t *r, const phase_t *ph, size_t from, size_t to)
{
    to = to < ph->n ? to : ph->n;
    for (size_t i = from; i < to; i++)
        ff_env_produce_raw(&r->env, ph->recs[i].topic, -1, ph->recs[i].key, ph->recs[i].value.data,
                           ph->recs[i].value.len);
    ff_env_flush(&r->env);
    return to;
}

/* Sleeps between a third of max_us and max_us. */
static void burst_sleep(int max_us, ff_rng_t *rng)
{
    long us = max_us / 3 + (long)ff_rng_below(rng, (uint64_t)(max_us - max_us / 3));
    struct timespec ts = {us / 1000000, us % 1000000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Gives instance `index` of footfall-p the next chunk of its phase
 * ([*at, *at + chunk)) and SIGKILLs it once it has committed some of it
 * and before it has committed all. Returns false when it had no work left
 * to be killed in (the phase has run out, or it did the whole chunk in one
 * burst).
 *
 * The chunk goes in only once the instance has been given its partitions,
 * and while it is frozen (SIGSTOP): it cannot have done the chunk before
 * the first reading of the lag. (Produced earlier, a fast footfall-shelf
 * did it while the test waited for the assignment or the lag, the kill
 * missed, and a phase ran out of chunks before its dozen kills; frozen
 * before it was assigned, a restarted shelf did not get through its group
 * join in ten minutes.) Then it runs in bursts of 1 to 3 ms (at first) and is
 * frozen while the lag is read between them: the kill lands within the burst
 * that committed first, at a random point of it. A processor that did a
 * whole chunk in one burst gets bursts half as long from then on. A lag the
 * broker cannot tell (-1: the group is rebalancing) is read again. Of three
 * footfall-geofence instances, this one is killed once the group's lag
 * falls, which the others may have made fall. */
static bool kill_mid_stream(run_t *r, int p, int index, ff_rng_t *rng, const phase_t *ph,
                            size_t *at, size_t chunk)
{
    pid_t pid = r->env.stack.procs[index].pid;
    /* Only a hang detector: under ASan, with another suite on the other
     * core, a restart (session timeout, rebalance, group join) has taken
     * over two minutes. */
    int64_t deadline = ff_mono_ms() + 600000, start = -1, lag = -1;
    if (*at >= ph->n)
        return false;
    while (assigned_total(r, index) == 0 && ff_mono_ms() < deadline)
        ff_sleep_ms(20);
    if (assigned_total(r, index) == 0)
        ff_env_print_group_logs(&r->env, proc_groups[p]);
    cr_assert_gt(assigned_total(r, index), 0, "footfall-%s is given its partitions", proc_names[p]);
    kill(pid, SIGSTOP);
    *at = produce_phase(r, ph, *at, *at + chunk);
    for (;;) {
        if (start < 0)
            start = ff_env_lag(&r->env, proc_groups[p], proc_topics[p]);
        else if ((lag = ff_env_lag(&r->env, proc_groups[p], proc_topics[p])) >= 0 && lag < start)
            break;
        if (ff_mono_ms() >= deadline)
            break;
        kill(pid, SIGCONT);
        burst_sleep(r->burst_us[p] ? r->burst_us[p] : 3000, rng);
        kill(pid, SIGSTOP);
    }
    if (lag <= 0 || lag >= start) {
        kill(pid, SIGCONT); /* not killed: running again */
        if (lag < 0 || lag >= start)
            ff_env_print_group_logs(&r->env, proc_groups[p]);
    }
    cr_assert(lag >= 0 && lag < start, "footfall-%s makes progress (lag %lld, was %lld)",
              proc_names[p], (long long)lag, (long long)start);
    if (lag == 0) {
        r->misses[p]++;
        r->burst_us[p] = (r->burst_us[p] ? r->burst_us[p] : 3000) / 2;
        if (r->burst_us[p] < 100)
            r->burst_us[p] = 100;
        return false;
    }
    r->kills[p]++;
    ff_env_proc_stop(&r->env, index, SIGKILL);
    return true;
}

/* Starts footfall-<name> with proc_env and one or two more settings (NULL:
 * none; a later one wins over proc_env's). */
static int proc_plus(run_t *r, const char *name, const char *extra, const char *extra2)
{
    const char *envp[FF_ARRAY_LEN(proc_env) + 2];
    size_t n = 0;
    for (; proc_env[n]; n++)
        envp[n] = proc_env[n];
    envp[n++] = extra;
    if (extra2)
        envp[n++] = extra2;
    envp[n] = NULL;
    return ff_env_proc(&r->env, name, envp);
}

/* The kill run's processors, and the instances run's footfall-geofence,
 * commit every record: a kill then has a batch to land in however fast a
 * processor has become (with batches of 5 the shelf finished its phase
 * between two kills, and three geofence instances theirs before the kill). */
#define KILL_RUN_BATCH "FOOTFALL_BATCH_SIZE=1"

/* Another footfall-geofence in the group, with an instance.id of its own
 * (its transactional.id: instances sharing one would fence each other). */
static void add_geofence(run_t *r)
{
    static const char *const ids[] = {"FOOTFALL_INSTANCE_ID=geo-a", "FOOTFALL_INSTANCE_ID=geo-b",
                                      "FOOTFALL_INSTANCE_ID=geo-c", "FOOTFALL_INSTANCE_ID=geo-d"};
    cr_assert_lt(r->ngeo, GEO_INSTANCES + 1);
    r->geo[r->ngeo] = proc_plus(r, "geofence", ids[r->ngeo], KILL_RUN_BATCH);
    r->geo_alive[r->ngeo] = true;
    r->proc[P_GEO] = r->geo[r->ngeo++];
}

/* Partitions footfall-geofence instance i was given, over its whole life. */
static int geo_assigned(run_t *r, int i)
{
    return assigned_total(r, r->geo[i]);
}

/* The sum of a counter of the summaries footfall-p logs at stop. */
static long long summary_count(run_t *r, int index, const char *name)
{
    char *log = ff_env_proc_log(&r->env, index);
    char needle[64];
    long long total = 0;
    snprintf(needle, sizeof needle, " %s=", name);
    for (const char *p = log; (p = strstr(p, "\"event\":\"proc.summary\"")); p++) {
        const char *v = strstr(p, needle);
        if (v)
            total += atoll(v + strlen(needle));
    }
    free(log);
    return total;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dump_state(run_t *r)
{
    ff_buf_t lines;
    size_t nkeys;
    char **keys = ff_env_keys(&r->env, "ff:*", &nkeys);
    ff_buf_init(&lines);
    for (size_t i = 0; i < nkeys; i++) {
        size_t kl = strlen(keys[i]);
        /* Stored outputs depend on where batches started: not state. */
        if (kl > 4 && !strcmp(keys[i] + kl - 4, ":out"))
            continue;
        redisReply *t = ff_env_redis(&r->env, "TYPE %s", keys[i]);
        ff_buf_printf(&lines, "%s [%s]", keys[i], t->str);
        if (!strcmp(t->str, "hash") || !strcmp(t->str, "set")) {
            redisReply *v = ff_env_redis(&r->env, !strcmp(t->str, "hash") ? "HGETALL %s"
                                                                          : "SMEMBERS %s",
                                         keys[i]);
            size_t step = !strcmp(t->str, "hash") ? 2 : 1;
            char **items = calloc(v->elements / step + 1, sizeof(char *));
            for (size_t k = 0; k < v->elements; k += step)
                items[k / step] = step == 2 ? ff_asprintf("%s=%s", v->element[k]->str,
                                                          v->element[k + 1]->str)
                                            : strdup(v->element[k]->str);
            qsort(items, v->elements / step, sizeof(char *),
                  cmp_str);
            for (size_t k = 0; k < v->elements / step; k++) {
                ff_buf_printf(&lines, " %s", items[k]);
                free(items[k]);
            }
            free(items);
            freeReplyObject(v);
        } else if (strstr(keys[i], ":demand:")) {
            redisReply *v = ff_env_redis(&r->env, "PFCOUNT %s", keys[i]);
            ff_buf_printf(&lines, " %lld", (long long)v->integer);
            freeReplyObject(v);
        }
        ff_buf_putc(&lines, '\n');
        freeReplyObject(t);
    }
    ff_env_keys_free(keys, nkeys);
    r->state = ff_buf_detach(&lines);
}

/* The id a consumer deduplicates on: trigger_id, or decision_id. */
static void record_id(const char *json, char *id, size_t size)
{
    const char *p = strstr(json, "\"trigger_id\":\"");
    if (!p || strstr(json, "\"decision_id\":\""))
        p = strstr(json, "\"decision_id\":\"");
    cr_assert_not_null(p, "an id in %s", json);
    p = strchr(p + 3, ':') + 2;
    snprintf(id, size, "%.*s", (int)(strchr(p, '"') - p), p);
}

static void collect_outputs(run_t *r)
{
    char **lines = NULL;
    size_t nlines = 0;
    ff_buf_t out;
    for (size_t t = 0; t < FF_ARRAY_LEN(outputs); t++) {
        ff_msg_t *msgs;
        size_t n = ff_env_read_all(&r->env, outputs[t], &msgs);
        lines = realloc(lines, (nlines + n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            char id[256];
            cr_assert_not_null(msgs[i].json, "%s decodes", outputs[t]);
            record_id(msgs[i].json, id, sizeof id);
            lines[nlines++] = ff_asprintf("%s %s %s", outputs[t], id, msgs[i].json);
        }
        ff_env_msgs_free(msgs, n);
    }
    qsort(lines, nlines, sizeof(char *), cmp_str);
    ff_buf_init(&out);
    for (size_t i = 0; i < nlines; i++) {
        if (i > 0) {
            /* Same topic and id as the previous line: a duplicate, which
             * must be the very same record. */
            const char *a = lines[i - 1], *b = lines[i];
            const char *sa = strchr(strchr(a, ' ') + 1, ' '), *sb = strchr(strchr(b, ' ') + 1, ' ');
            if (sa - a == sb - b && !strncmp(a, b, (size_t)(sa - a))) {
                cr_assert_str_eq(a, b, "a duplicate is identical to its first copy");
                r->duplicates++;
                continue;
            }
        }
        ff_buf_puts(&out, lines[i]);
        ff_buf_putc(&out, '\n');
    }
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    r->outputs = ff_buf_detach(&out);
}

static void run(run_t *r, run_kind_t kind, int kills_per_phase, int partitions)
{
    static const char *const aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    ff_rng_t rng;
    pid_t churn = -1;
    memset(r, 0, sizeof(*r));
    ff_rng_seed(&rng, 20261123);
    if (kind == RUN_RESHARD)
        ff_env_start_cluster(&r->env, partitions, 3);
    else
        ff_env_start(&r->env, partitions, kind == RUN_REDIS_CRASH ? aof : NULL);
    for (int p = 0; p < NPROC; p++) {
        if (kind == RUN_INSTANCES && p == P_GEO)
            for (int i = 0; i < GEO_INSTANCES; i++)
                add_geofence(r);
        else
            r->proc[p] = kind == RUN_KILLS ? proc_plus(r, proc_names[p], KILL_RUN_BATCH, NULL)
                                           : ff_env_proc(&r->env, proc_names[p], proc_env);
    }
    if (kind == RUN_RESHARD) {
        /* 1000 of the 16384 slots at a time, from one master to the next,
         * for as long as the run lasts. */
        churn = ff_stack_cluster_churn(&r->env.stack, 1000);
        cr_assert_gt(churn, 0, "redis-cli --cluster reshard runs");
    }
    for (int w = 0; w < 2; w++) {
        for (int p = 0; p < NPROC; p++) {
            phase_t *ph = &phases[w][p];
            if (kind == RUN_KILLS) {
                /* Half the kills in the history phase, the rest in the live
                 * one. The phase goes in in chunks, one to each instance, so
                 * that every instance has work to be killed in however fast
                 * the processor is; two chunks are to spare. */
                int target = w == 0 ? kills_per_phase / 2 : kills_per_phase - r->kills[p];
                size_t chunk = ph->n / (size_t)(target > 0 ? target + 2 : 1) + 1, at = 0;
                for (int k = 0; k < target && at < ph->n;)
                    if (kill_mid_stream(r, p, r->proc[p], &rng, ph, &at, chunk)) {
                        k++;
                        r->proc[p] = proc_plus(r, proc_names[p], KILL_RUN_BATCH, NULL);
                    }
                produce_phase(r, ph, at, ph->n);
            } else if (kind == RUN_INSTANCES && w == 0 && p == P_GEO) {
                /* One of the three dies mid-stream; another joins. The
                 * group hands the dead one's partitions on once its
                 * session times out. The phase goes in in quarters, the
                 * next one only when the kill missed (the three had
                 * caught up), so that there is work to be killed in
                 * however fast they are. */
                size_t chunk = ph->n / 4 + 1, at = 0;
                while (!kill_mid_stream(r, P_GEO, r->geo[0], &rng, ph, &at, chunk))
                    cr_assert_lt(at, ph->n,
                                 "a footfall-geofence instance is killed with work left");
                r->geo_alive[0] = false;
                add_geofence(r);
                produce_phase(r, ph, at, ph->n);
            } else {
                produce_phase(r, ph, 0, ph->n);
            }
            if (kind == RUN_REDIS_CRASH && w == 1 && (p == P_GEO || p == P_SHELF)) {
                wait_assigned(r, p);
                ff_sleep_ms(100);
                /* A crash, not a shutdown: whatever was acknowledged is in the AOF. */
                cr_assert_eq(ff_reap(r->env.stack.redis_pid, SIGKILL, 5000), 128 + SIGKILL);
                ff_sleep_ms(3000);
                cr_assert_eq(ff_stack_restart_redis(&r->env.stack), 0, "redis restarts");
                ff_env_reconnect_redis(&r->env);
            } else if (kind == RUN_BROKER_DOWN && w == 1 && (p == P_WEB || p == P_POS)) {
                wait_assigned(r, p);
                ff_sleep_ms(100);
                kill(r->env.stack.broker_pid, SIGUSR1);
                ff_sleep_ms(4000);
                kill(r->env.stack.broker_pid, SIGUSR2);
            }
            ff_env_wait_caught_up(&r->env, proc_groups[p], proc_topics[p], 180000);
        }
    }
    if (kind == RUN_RESHARD)
        r->reshards = ff_stack_cluster_churn_stop(&r->env.stack, churn);
    collect_outputs(r);
    dump_state(r);
    for (size_t t = 0; t < FF_ARRAY_LEN(dlqs); t++) {
        ff_msg_t *msgs;
        size_t n = ff_env_read_all(&r->env, dlqs[t], &msgs);
        cr_assert_eq(n, 0, "nothing in %s", dlqs[t]);
        ff_env_msgs_free(msgs, n);
    }
    for (int p = 0; p < NPROC; p++) {
        if (kind == RUN_INSTANCES && p == P_GEO)
            continue;
        cr_assert_eq(ff_env_proc_stop(&r->env, r->proc[p], SIGTERM), 0,
                     "footfall-%s stops cleanly", proc_names[p]);
    }
    for (int i = 0; i < r->ngeo; i++)
        if (r->geo_alive[i])
            cr_assert_eq(ff_env_proc_stop(&r->env, r->geo[i], SIGTERM), 0,
                         "footfall-geofence instance %d stops cleanly", i);
}

static void run_free(run_t *r)
{
    free(r->outputs);
    free(r->state);
    ff_env_stop(&r->env);
}

/* Reports the first line where two dumps differ (both are written to
 * /tmp/footfall-<what>.{ref,run} for a full diff). */
static void expect_same(const char *what, const char *ref, const char *got)
{
    const char *a = ref, *b = got;
    if (strcmp(ref, got)) {
        char path[128];
        FILE *fp;
        snprintf(path, sizeof path, "/tmp/footfall-%s.ref", what[0] == 'R' ? "state" : "outputs");
        if ((fp = fopen(path, "w"))) {
            fputs(ref, fp);
            fclose(fp);
        }
        snprintf(path, sizeof path, "/tmp/footfall-%s.run", what[0] == 'R' ? "state" : "outputs");
        if ((fp = fopen(path, "w"))) {
            fputs(got, fp);
            fclose(fp);
        }
    }
    while (*a && *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        cr_assert(la == lb && !strncmp(a, b, la), "%s differ:\n  reference: %.*s\n  this run:  %.*s",
                  what, (int)FF_MIN(la, 600), a, (int)FF_MIN(lb, 600), b);
        a += la + (ea ? 1 : 0);
        b += lb + (eb ? 1 : 0);
    }
    cr_assert(!*a && !*b, "%s differ in length: reference has %s more", what,
              *a ? "lines" : "no lines");
}

static void counts(const run_t *r, int *records, int *triggers)
{
    *records = *triggers = 0;
    for (const char *p = r->outputs; (p = strchr(p, '\n')); p++)
        (*records)++;
    for (const char *p = r->outputs; (p = strstr(p, "triggers.")); p++)
        (*triggers)++;
}

/* ---- the shared reference ------------------------------------------------ */

/* Criterion runs each test in a process of its own; its runner makes the
 * directory the tests share their references in, and removes it. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    static char dir[] = "/tmp/footfall-ref-XXXXXX";
    (void)set;
    if (!getenv("FF_FAULTS_REF_DIR") && mkdtemp(dir))
        setenv("FF_FAULTS_REF_DIR", dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    const char *dir = getenv("FF_FAULTS_REF_DIR");
    char path[512];
    (void)stats;
    if (!dir || strncmp(dir, "/tmp/footfall-ref-", 18))
        return;
    for (int n = 1; n <= 64; n++) {
        static const char *const ext[] = {"outputs", "state", "lock"};
        for (size_t e = 0; e < FF_ARRAY_LEN(ext); e++) {
            snprintf(path, sizeof path, "%s/ref-%d.%s", dir, n, ext[e]);
            unlink(path);
        }
    }
    rmdir(dir);
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    ff_buf_t b;
    char chunk[65536];
    size_t n;
    if (!fp)
        return NULL;
    ff_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        ff_buf_append(&b, chunk, n);
    fclose(fp);
    return ff_buf_detach(&b);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp, "%s", path);
    fputs(text, fp);
    cr_assert_eq(fclose(fp), 0);
}

/* The plain run on `partitions` partitions: made by the first test that
 * needs it, read by the others. */
static void reference(run_t *ref, int partitions)
{
    const char *dir = getenv("FF_FAULTS_REF_DIR");
    char lock[512], out_path[512], state_path[512];
    int fd;
    memset(ref, 0, sizeof(*ref));
    if (!dir) { /* run by hand, without the runner's hook */
        run(ref, RUN_PLAIN, 0, partitions);
        ff_env_stop(&ref->env);
        return;
    }
    snprintf(lock, sizeof lock, "%s/ref-%d.lock", dir, partitions);
    snprintf(out_path, sizeof out_path, "%s/ref-%d.outputs", dir, partitions);
    snprintf(state_path, sizeof state_path, "%s/ref-%d.state", dir, partitions);
    fd = open(lock, O_CREAT | O_RDWR, 0600);
    cr_assert_geq(fd, 0, "%s: %s", lock, strerror(errno));
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    ref->outputs = read_file(out_path);
    ref->state = read_file(state_path);
    if (!ref->outputs || !ref->state) {
        free(ref->outputs);
        free(ref->state);
        run(ref, RUN_PLAIN, 0, partitions);
        ff_env_stop(&ref->env); /* keep only the dumps */
        write_file(state_path, ref->state);
        write_file(out_path, ref->outputs); /* last: its presence means both are whole */
    }
    flock(fd, LOCK_UN);
    close(fd);
}

static void ref_free(run_t *ref)
{
    free(ref->outputs);
    free(ref->state);
}

TestSuite(faults, .init = make_input, .fini = free_input, .timeout = 900);

Test(faults, sigkill_at_a_dozen_points_per_processor_changes_nothing)
{
    run_t ref, crash;
    const char *env_kills = getenv("FF_CRASH_KILLS");
    int per_proc = env_kills ? atoi(env_kills) : 12, records, triggers;

    reference(&ref, 2);
    counts(&ref, &records, &triggers);
    cr_assert_gt(records, 500, "the story produced outputs (%d)", records);
    run(&crash, RUN_KILLS, per_proc, 2);
    for (int p = 0; p < NPROC; p++) {
        cr_log_info("footfall-%s: %d SIGKILLs with work left, %d missed (%zu and %zu records)",
                    proc_names[p], crash.kills[p], crash.misses[p], phases[0][p].n,
                    phases[1][p].n);
        cr_assert_geq(crash.kills[p], per_proc, "footfall-%s was killed mid-stream %d times",
                      proc_names[p], crash.kills[p]);
    }
    expect_same("Redis states", ref.state, crash.state);
    expect_same("outputs", ref.outputs, crash.outputs);
    cr_log_info("%d distinct outputs, %d duplicates (identical) from killed transactions",
                records, crash.duplicates);
    ref_free(&ref);
    run_free(&crash);
}

Test(faults, a_redis_crash_and_restart_from_its_aof_changes_nothing)
{
    run_t ref, faulty;
    reference(&ref, 2);
    run(&faulty, RUN_REDIS_CRASH, 0, 2);
    expect_same("Redis states", ref.state, faulty.state);
    expect_same("outputs", ref.outputs, faulty.outputs);
    char *log = ff_env_proc_log(&faulty.env, faulty.proc[P_GEO]);
    cr_assert(strstr(log, "\"event\":\"outage.pause\""), "the outage paused consumption");
    cr_assert(strstr(log, "\"event\":\"outage.resume\""), "and consumption resumed");
    free(log);
    ref_free(&ref);
    run_free(&faulty);
}

Test(faults, a_broker_outage_changes_nothing)
{
    run_t ref, faulty;
    reference(&ref, 2);
    run(&faulty, RUN_BROKER_DOWN, 0, 2);
    expect_same("Redis states", ref.state, faulty.state);
    expect_same("outputs", ref.outputs, faulty.outputs);
    ref_free(&ref);
    run_free(&faulty);
}

Test(faults, a_redis_cluster_resharded_throughout_the_run_changes_nothing)
{
    run_t ref, cluster;
    long long redirects = 0;
    reference(&ref, 2);
    run(&cluster, RUN_RESHARD, 0, 2);
    expect_same("Redis states", ref.state, cluster.state);
    expect_same("outputs", ref.outputs, cluster.outputs);
    for (int p = 0; p < NPROC; p++)
        redirects += summary_count(&cluster, cluster.proc[p], "redis_redirects");
    cr_log_info("%d reshards of 1000 slots; processors followed %lld redirections",
                cluster.reshards, redirects);
    cr_assert_geq(cluster.reshards, 2, "slots moved while the processors worked");
    cr_assert_gt(redirects, 0, "the processors were redirected (MOVED or ASK) and followed");
    ref_free(&ref);
    run_free(&cluster);
}

Test(faults, three_geofence_instances_on_12_partitions_one_killed_one_added_change_nothing)
{
    run_t ref, many;
    reference(&ref, 12);
    run(&many, RUN_INSTANCES, 0, 12);
    expect_same("Redis states", ref.state, many.state);
    expect_same("outputs", ref.outputs, many.outputs);
    for (int i = 0; i < many.ngeo; i++) {
        int parts = geo_assigned(&many, i);
        cr_log_info("footfall-geofence instance %d: %d partitions assigned over its life%s", i,
                    parts, many.geo_alive[i] ? "" : " (killed)");
        cr_assert_gt(parts, 0, "instance %d took a share of the partitions", i);
    }
    ref_free(&ref);
    run_free(&many);
}
