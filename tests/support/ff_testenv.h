/* ff_testenv: integration test support: a private redis-server and broker, real binaries, topic readers. */
#ifndef FF_TESTENV_H
#define FF_TESTENV_H

#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "ff_codec.h"
#include "ff_redis.h"
#include "stack.h"

typedef struct ff_env_s {
    ff_stack_t stack;
    ff_codec_t *codec;
    rd_kafka_t *producer;
    redisContext *redis; /* the server, or the cluster's first master */
    redisContext *nodes[FF_STACK_MAX_CLUSTER]; /* a cluster's masters, as redirections need them */
    ff_arena_t arena;
    struct {
        char *group;
        rd_kafka_t *rk;
    } lag_readers[8]; /* one client per group, kept: lag checks must be quick */
} ff_env_t;

/* One record read back from a topic. */
typedef struct ff_msg_s {
    int32_t partition;
    int64_t offset;
    char *key;     /* NULL if none */
    char *json;    /* the value decoded to JSON, or NULL if it does not decode */
    char *value;   /* raw bytes */
    size_t value_len;
    char *headers; /* "name=value\n" per header, in order */
} ff_msg_t;

/* Starts redis-server and footfall broker (`partitions` per topic); the
 * test fails if they do not come up. Redis extra args may be NULL. */
void ff_env_start(ff_env_t *env, int partitions, const char *const *redis_args);
/* The same with a Redis Cluster of `masters` masters instead of one
 * redis-server: processors get a redis-cluster:// URL. */
void ff_env_start_cluster(ff_env_t *env, int partitions, int masters);
/* Connects again to the (restarted) test Redis. */
void ff_env_reconnect_redis(ff_env_t *env);
/* Stops everything. Safe to call twice. */
void ff_env_stop(ff_env_t *env);

/* Starts footfall-<name> against the env with extra "K=V" entries. */
int ff_env_proc(ff_env_t *env, const char *name, const char *const *extra_env);
/* SIGTERM (or sig) and wait; returns its exit status. */
int ff_env_proc_stop(ff_env_t *env, int index, int sig);
/* The whole log of a processor (caller frees). */
char *ff_env_proc_log(ff_env_t *env, int index);
/* A file's whole text ("" when it cannot be read); free() it. */
char *ff_slurp(const char *path);

/* Produces an encoded record to topic (partition -1: by key). */
void ff_env_produce(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                    ff_rec_t type, const void *rec);
/* Produces raw bytes (key NULL allowed). */
void ff_env_produce_raw(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                        const void *value, size_t len);
void ff_env_flush(ff_env_t *env);
/* Produces raw bytes with a record timestamp (ms). */
void ff_env_produce_ts(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                       const void *value, size_t len, int64_t timestamp);
/* "FOOTFALL_KAFKA_BOOTSTRAP_SERVERS=…" and "FOOTFALL_REDIS_URL=…" for a
 * child process (static buffers). */
const char *ff_env_kafka(ff_env_t *env);
const char *ff_env_redis_url(ff_env_t *env);

/* Records of `topics` (NULL-terminated) that `group` has not committed
 * yet; -1 if it cannot tell. */
int64_t ff_env_lag(ff_env_t *env, const char *group, const char *const *topics);
/* Waits until `group` has committed every record of `topics` (NULL-
 * terminated): the processor is caught up and its outputs are final. */
void ff_env_wait_caught_up(ff_env_t *env, const char *group, const char *const *topics,
                           int timeout_ms);
/* Prints the last lines of the logs of group's processors (footfall-NAME)
 * and of the broker to stderr: the post-mortem of a failure in a CI log. */
void ff_env_print_group_logs(ff_env_t *env, const char *group);

/* Reads topic from the beginning to its current end, every partition,
 * ordered by (partition, offset). Returns the count; *out is an array
 * (free with ff_env_msgs_free). */
size_t ff_env_read_all(ff_env_t *env, const char *topic, ff_msg_t **out);
void ff_env_msgs_free(ff_msg_t *msgs, size_t n);
/* The value of header name in msg->headers (static buffer), or NULL. */
const char *ff_msg_header(const ff_msg_t *msg, const char *name);

/* Runs a Redis command (printf-style, as hiredis), in a cluster on the
 * master of its key (following MOVED and ASK); caller frees the reply. */
redisReply *ff_env_redis(ff_env_t *env, const char *fmt, ...);
/* Runs ff_apply.lua (loaded into r once) on keys and argv through pipe
 * (reset first); its reply, which lives until the pipe's next reset. */
redisReply *ff_apply_script(ff_redis_t *r, ff_rpipe_t *pipe, const char *const *keys,
                            size_t nkeys, const char *const *argv, size_t nargv);
/* Every key matching pattern, on every master, sorted (free with
 * ff_env_keys_free). */
char **ff_env_keys(ff_env_t *env, const char *pattern, size_t *n);
void ff_env_keys_free(char **keys, size_t n);
/* HGET as a string ("" when absent), into a static buffer. */
const char *ff_env_hget(ff_env_t *env, const char *key, const char *field);

/* Runs a program to completion with extra environment entries, capturing
 * its stdout and stderr (caller frees). Returns its exit status. */
int ff_run(const char *const argv[], const char *const env[], char **out, char **err);

/* GET url; returns the HTTP status (0: no answer), the body in *body
 * (caller frees; may be NULL). */
long ff_http_get(const char *url, char **body);
/* The value of a Prometheus sample line "name{labels} value" in text (exact
 * name and labels as written, e.g. `footfall_dlq_total{topic="x",class="y"}`),
 * or -1 when absent. */
double ff_metric(const char *text, const char *series);

/* The time the test clock is frozen at: 2026-11-23T12:00:00Z. */
#define FF_TEST_NOW 1795435200000LL
#define FF_TEST_NOW_ENV "FOOTFALL_NOW=2026-11-23T12:00:00Z"

#endif
