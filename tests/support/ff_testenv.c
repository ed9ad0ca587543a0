/* ff_testenv: integration test support: a private redis-server and broker, real binaries, topic readers. */
#include "ff_testenv.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_embedded.h"
#include "ff_util.h"

/* The test's own clients reconnect through every broker outage a test
 * makes; their "Connection refused" lines buried the test output. Anything
 * else librdkafka says still reaches stderr. */
static bool expected_outage(const char *msg)
{
    return strstr(msg, "Connection refused") || strstr(msg, "Disconnected") ||
           strstr(msg, "brokers are down");
}

static void client_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (!expected_outage(buf))
        fprintf(stderr, "test client: rdkafka %d %s: %s\n", level, fac, buf);
}

static void client_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (!expected_outage(reason))
        fprintf(stderr, "test client: rdkafka error %s: %s\n",
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* A client configuration on env's broker. */
static rd_kafka_conf_t *client_conf(ff_env_t *env)
{
    char errstr[256];
    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    rd_kafka_conf_set(kconf, "bootstrap.servers", env->stack.bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set(kconf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(kconf, client_log);
    rd_kafka_conf_set_error_cb(kconf, client_error);
    return kconf;
}

static void connect_redis(ff_env_t *env)
{
    struct timeval tv = {2, 0};
    env->redis = redisConnectWithTimeout("127.0.0.1", env->stack.redis_port, tv);
    cr_assert(env->redis && !env->redis->err, "connect to the test redis");
}

/* The broker, the codec and a producer; Redis is up already. */
static void start_rest(ff_env_t *env, int partitions)
{
    char errstr[512];
    rd_kafka_conf_t *kconf;
    cr_assert_eq(ff_stack_start_broker(&env->stack, partitions), 0, "footfall broker starts");
    env->codec = ff_codec_new(errstr, sizeof errstr);
    cr_assert_not_null(env->codec, "%s", errstr);
    kconf = client_conf(env);
    rd_kafka_conf_set(kconf, "partitioner", "murmur2_random", errstr, sizeof errstr);
    rd_kafka_conf_set(kconf, "message.max.bytes", "4000000", errstr, sizeof errstr);
    env->producer = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof errstr);
    cr_assert_not_null(env->producer, "%s", errstr);
    connect_redis(env);
}

void ff_env_start(ff_env_t *env, int partitions, const char *const *redis_args)
{
    memset(env, 0, sizeof(*env));
    ff_arena_init(&env->arena, 64 * 1024);
    cr_assert_eq(ff_stack_init(&env->stack, FF_BIN_DIR), 0, "temporary directory");
    cr_assert_eq(ff_stack_start_redis(&env->stack, redis_args), 0, "redis-server starts");
    start_rest(env, partitions);
}

void ff_env_start_cluster(ff_env_t *env, int partitions, int masters)
{
    memset(env, 0, sizeof(*env));
    ff_arena_init(&env->arena, 64 * 1024);
    cr_assert_eq(ff_stack_init(&env->stack, FF_BIN_DIR), 0, "temporary directory");
    cr_assert_eq(ff_stack_start_redis_cluster(&env->stack, masters), 0,
                 "a Redis Cluster of %d masters starts (logs in %s)", masters, env->stack.dir);
    start_rest(env, partitions);
}

void ff_env_reconnect_redis(ff_env_t *env)
{
    if (env->redis)
        redisFree(env->redis);
    connect_redis(env);
}

void ff_env_stop(ff_env_t *env)
{
    for (size_t i = 0; i < FF_ARRAY_LEN(env->lag_readers); i++) {
        if (env->lag_readers[i].rk)
            rd_kafka_destroy(env->lag_readers[i].rk);
        free(env->lag_readers[i].group);
        env->lag_readers[i].rk = NULL;
        env->lag_readers[i].group = NULL;
    }
    if (env->producer) {
        rd_kafka_flush(env->producer, 2000);
        rd_kafka_destroy(env->producer);
        env->producer = NULL;
    }
    if (env->redis) {
        redisFree(env->redis);
        env->redis = NULL;
    }
    for (int i = 0; i < env->stack.ncluster; i++) {
        if (env->nodes[i])
            redisFree(env->nodes[i]);
        env->nodes[i] = NULL;
    }
    ff_codec_destroy(env->codec);
    env->codec = NULL;
    if (getenv("FF_TEST_KEEP"))
        env->stack.keep_dir = true;
    ff_stack_stop(&env->stack);
    ff_arena_term(&env->arena);
}

int ff_env_proc(ff_env_t *env, const char *name, const char *const *extra_env)
{
    int i = ff_stack_start_proc(&env->stack, name, extra_env);
    cr_assert_geq(i, 0, "footfall-%s starts", name);
    return i;
}

int ff_env_proc_stop(ff_env_t *env, int index, int sig)
{
    return ff_stack_stop_proc(&env->stack, index, sig);
}

char *ff_env_proc_log(ff_env_t *env, int index)
{
    return ff_slurp(env->stack.procs[index].log);
}

void ff_env_produce_raw(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                        const void *value, size_t len)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        env->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_END);
    cr_assert_eq(err, 0, "produce to %s: %s", topic, rd_kafka_err2str(err));
}

void ff_env_produce(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                    ff_rec_t type, const void *rec)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_codec_encode(env->codec, type, rec, &b);
    ff_env_produce_raw(env, topic, partition, key, b.data, b.len);
    ff_buf_term(&b);
}

void ff_env_produce_ts(ff_env_t *env, const char *topic, int32_t partition, const char *key,
                       const void *value, size_t len, int64_t timestamp)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        env->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
    cr_assert_eq(err, 0, "produce to %s: %s", topic, rd_kafka_err2str(err));
}

const char *ff_env_kafka(ff_env_t *env)
{
    static char buf[320];
    snprintf(buf, sizeof buf, "FOOTFALL_KAFKA_BOOTSTRAP_SERVERS=%s", env->stack.bootstrap);
    return buf;
}

const char *ff_env_redis_url(ff_env_t *env)
{
    static char buf[300];
    snprintf(buf, sizeof buf, "FOOTFALL_REDIS_URL=%s", env->stack.redis_url);
    return buf;
}

void ff_env_flush(ff_env_t *env)
{
    cr_assert_eq(rd_kafka_flush(env->producer, 10000), 0, "test records delivered");
}

static rd_kafka_t *reader(ff_env_t *env, const char *group)
{
    char errstr[256];
    rd_kafka_conf_t *kconf = client_conf(env);
    rd_kafka_conf_set(kconf, "group.id", group, errstr, sizeof errstr);
    rd_kafka_conf_set(kconf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_conf_set(kconf, "isolation.level", "read_committed", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr);
    cr_assert_not_null(rk, "%s", errstr);
    return rk;
}

static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int n = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0) {
        if (md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return n;
}

static int64_t lag_with(rd_kafka_t *rk, const char *const *topics)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    rd_kafka_topic_partition_list_t *committed;
    int64_t lag = 0;
    for (int t = 0; topics[t]; t++) {
        int n = partitions_of(rk, topics[t]);
        for (int p = 0; p < n; p++) {
            int64_t lo = 0, hi = 0;
            rd_kafka_query_watermark_offsets(rk, topics[t], p, &lo, &hi, 5000);
            rd_kafka_topic_partition_list_add(parts, topics[t], p)->offset = hi;
        }
    }
    committed = rd_kafka_topic_partition_list_copy(parts);
    if (rd_kafka_committed(rk, committed, 5000) != 0) {
        lag = -1;
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            int64_t c = committed->elems[i].offset < 0 ? 0 : committed->elems[i].offset;
            lag += parts->elems[i].offset - c;
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_topic_partition_list_destroy(parts);
    return lag;
}

int64_t ff_env_lag(ff_env_t *env, const char *group, const char *const *topics)
{
    size_t i;
    for (i = 0; i < FF_ARRAY_LEN(env->lag_readers) && env->lag_readers[i].group; i++)
        if (!strcmp(env->lag_readers[i].group, group))
            return lag_with(env->lag_readers[i].rk, topics);
    cr_assert_lt(i, FF_ARRAY_LEN(env->lag_readers), "too many groups");
    env->lag_readers[i].group = ff_strdup(group);
    env->lag_readers[i].rk = reader(env, group);
    return lag_with(env->lag_readers[i].rk, topics);
}

/* Prints the last lines of path to stderr, for a post-mortem in a CI log. */
static void print_tail(const char *title, const char *path, int lines)
{
    char *text = ff_slurp(path);
    const char *start;
    int seen = 0;
    if (!text)
        return;
    start = text + strlen(text);
    while (start > text && seen <= lines)
        if (*--start == '\n')
            seen++;
    fprintf(stderr, "---- %s (%s), last %d lines:\n%s\n", title, path, lines,
            start == text ? start : start + 1);
    free(text);
}

/* The stack's name of the processors of a group (footfall-NAME). */
static const char *group_proc_name(const char *group)
{
    return strncmp(group, "footfall-", 9) ? group : group + 9;
}

void ff_env_print_group_logs(ff_env_t *env, const char *group)
{
    const char *name = group_proc_name(group);
    char path[512];
    for (int i = 0; i < env->stack.nprocs; i++)
        if (!strcmp(env->stack.procs[i].name, name))
            print_tail(env->stack.procs[i].name, env->stack.procs[i].log, 60);
    snprintf(path, sizeof path, "%s/broker.log", env->stack.dir);
    print_tail("broker", path, 15);
}

/* Whether the stack started a processor of `group` (footfall-<name>) and
 * none of them is running any more: then nothing will catch up. */
static bool group_procs_gone(ff_env_t *env, const char *group)
{
    const char *name = group_proc_name(group);
    bool started = false;
    for (int i = 0; i < env->stack.nprocs; i++) {
        if (strcmp(env->stack.procs[i].name, name))
            continue;
        if (ff_stack_proc_running(&env->stack, i))
            return false;
        started = started || env->stack.procs[i].pid > 0;
    }
    return started;
}

void ff_env_wait_caught_up(ff_env_t *env, const char *group, const char *const *topics,
                           int timeout_ms)
{
    rd_kafka_t *rk = reader(env, group);
    int64_t deadline = ff_mono_ms() + timeout_ms, lag = -1;
    bool gone = false;
    while (ff_mono_ms() < deadline) {
        lag = lag_with(rk, topics);
        if (lag == 0 || (gone = group_procs_gone(env, group)))
            break;
        ff_sleep_ms(200);
    }
    rd_kafka_destroy(rk);
    if (lag != 0)
        ff_env_print_group_logs(env, group);
    cr_assert_not(gone, "group %s: its processor exited with lag %lld (its log is above)", group,
                  (long long)lag);
    cr_assert_eq(lag, 0, "group %s caught up within %d ms (lag %lld)", group, timeout_ms,
                 (long long)lag);
}

static int msg_cmp(const void *a, const void *b)
{
    const ff_msg_t *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

size_t ff_env_read_all(ff_env_t *env, const char *topic, ff_msg_t **out)
{
    rd_kafka_t *rk = reader(env, "footfall-test-reader");
    int n = partitions_of(rk, topic);
    int64_t *high = ff_calloc((size_t)n + 1, sizeof(int64_t));
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n ? n : 1);
    size_t count = 0, cap = 16, left = 0;
    ff_msg_t *msgs = ff_calloc(cap, sizeof(*msgs));
    int64_t deadline = ff_mono_ms() + 20000;

    for (int p = 0; p < n; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
        high[p] = hi;
        left += (size_t)(hi - lo);
        if (hi > lo)
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
    }
    rd_kafka_assign(rk, parts);
    while (left > 0 && ff_mono_ms() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 200);
        rd_kafka_headers_t *hdrs;
        ff_buf_t json, h;
        ff_dec_err_t err;
        if (!rkm)
            continue;
        if (rkm->err || rkm->offset >= high[rkm->partition]) {
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (count == cap) {
            cap *= 2;
            msgs = ff_realloc(msgs, cap * sizeof(*msgs));
        }
        ff_msg_t *m = &msgs[count++];
        memset(m, 0, sizeof(*m));
        m->partition = rkm->partition;
        m->offset = rkm->offset;
        m->key = rkm->key ? ff_strndup(rkm->key, rkm->key_len) : NULL;
        m->value = ff_malloc(rkm->len + 1);
        if (rkm->len)
            memcpy(m->value, rkm->payload, rkm->len);
        m->value_len = rkm->len;
        ff_buf_init(&json);
        if (ff_codec_to_json(env->codec, rkm->payload, rkm->len, &json, &err) == 0)
            m->json = ff_buf_detach(&json);
        ff_buf_term(&json);
        ff_buf_init(&h);
        if (rd_kafka_message_headers(rkm, &hdrs) == 0) {
            const char *name;
            const void *v;
            size_t vn;
            for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &v, &vn); i++)
                ff_buf_printf(&h, "%s=%.*s\n", name, (int)vn, v ? (const char *)v : "");
        }
        m->headers = ff_buf_detach(&h);
        left--;
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(high);
    cr_assert_eq(left, 0, "read all of %s", topic);
    qsort(msgs, count, sizeof(*msgs), msg_cmp);
    *out = msgs;
    return count;
}

void ff_env_msgs_free(ff_msg_t *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].key);
        free(msgs[i].json);
        free(msgs[i].value);
        free(msgs[i].headers);
    }
    free(msgs);
}

const char *ff_msg_header(const ff_msg_t *msg, const char *name)
{
    static char buf[1024];
    size_t n = strlen(name);
    const char *p = msg->headers;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        if (!strncmp(p, name, n) && p[n] == '=') {
            size_t len = (size_t)((nl ? nl : p + strlen(p)) - (p + n + 1));
            if (len >= sizeof buf)
                len = sizeof buf - 1;
            memcpy(buf, p + n + 1, len);
            buf[len] = '\0';
            return buf;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

/* A connection to the cluster master on port (kept). */
static redisContext *node_ctx(ff_env_t *env, int port)
{
    struct timeval tv = {2, 0};
    for (int i = 0; i < env->stack.ncluster; i++) {
        if (env->stack.cluster_ports[i] != port)
            continue;
        if (!env->nodes[i]) {
            env->nodes[i] = redisConnectWithTimeout("127.0.0.1", port, tv);
            cr_assert(env->nodes[i] && !env->nodes[i]->err, "connect to redis at %d", port);
        }
        return env->nodes[i];
    }
    cr_assert_fail("redirected to %d, which is not a node of the test cluster", port);
    return NULL;
}

/* The reply of cmd on ctx, following a cluster's redirections (the test
 * reads Redis on its own, independently of footfall's client). */
static redisReply *command_routed(ff_env_t *env, const char *cmd, size_t len)
{
    redisContext *ctx = env->redis;
    bool asking = false;
    for (int attempt = 0; attempt < 50; attempt++) {
        void *reply = NULL;
        const char *colon;
        if (asking)
            redisAppendCommand(ctx, "ASKING");
        redisAppendFormattedCommand(ctx, cmd, len);
        if (asking) {
            cr_assert_eq(redisGetReply(ctx, &reply), REDIS_OK, "ASKING");
            freeReplyObject(reply);
        }
        cr_assert_eq(redisGetReply(ctx, &reply), REDIS_OK, "redis: %s", ctx->errstr);
        redisReply *r = reply;
        if (r->type != REDIS_REPLY_ERROR || !env->stack.ncluster)
            return r;
        if (!strncmp(r->str, "TRYAGAIN", 8)) {
            ff_sleep_ms(20);
        } else if (!strncmp(r->str, "MOVED ", 6) || !strncmp(r->str, "ASK ", 4)) {
            asking = r->str[1] == 'S';
            colon = strrchr(r->str, ':');
            ctx = node_ctx(env, atoi(colon + 1));
        } else {
            return r;
        }
        freeReplyObject(r);
    }
    cr_assert_fail("redis command still redirected after 50 attempts");
    return NULL;
}

redisReply *ff_env_redis(ff_env_t *env, const char *fmt, ...)
{
    va_list ap;
    char *cmd = NULL;
    int len;
    redisReply *r;
    va_start(ap, fmt);
    len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    cr_assert_gt(len, 0, "redis command %s", fmt);
    r = command_routed(env, cmd, (size_t)len);
    free(cmd);
    cr_assert_not_null(r, "redis command %s", fmt);
    return r;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ff_env_keys(ff_env_t *env, const char *pattern, size_t *n)
{
    char **keys = NULL;
    int nodes = env->stack.ncluster ? env->stack.ncluster : 1;
    *n = 0;
    for (int i = 0; i < nodes; i++) {
        redisContext *ctx = env->stack.ncluster ? node_ctx(env, env->stack.cluster_ports[i])
                                                : env->redis;
        redisReply *r = redisCommand(ctx, "KEYS %s", pattern);
        cr_assert(r && r->type == REDIS_REPLY_ARRAY, "KEYS %s", pattern);
        keys = realloc(keys, (*n + r->elements + 1) * sizeof(char *));
        for (size_t k = 0; k < r->elements; k++)
            keys[(*n)++] = strdup(r->element[k]->str);
        freeReplyObject(r);
    }
    qsort(keys, *n, sizeof(char *), cmp_key);
    return keys;
}

void ff_env_keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

const char *ff_env_hget(ff_env_t *env, const char *key, const char *field)
{
    static char buf[4096];
    redisReply *r = ff_env_redis(env, "HGET %s %s", key, field);
    snprintf(buf, sizeof buf, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return buf;
}

char *ff_slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    ff_buf_t b;
    char chunk[4096];
    size_t n;
    ff_buf_init(&b);
    if (fp) {
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
            ff_buf_append(&b, chunk, n);
        fclose(fp);
    }
    return ff_buf_detach(&b);
}

int ff_run(const char *const argv[], const char *const env[], char **out, char **err)
{
    char dir[] = "/tmp/footfall-run-XXXXXX", opath[64], epath[64];
    pid_t pid;
    int status;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(opath, sizeof opath, "%s/out", dir);
    snprintf(epath, sizeof epath, "%s/err", dir);
    /* As ff_spawn: nothing but async-signal-safe calls in the child. */
    char **envp = ff_env_with(env);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        ff_child_output(opath, STDOUT_FILENO);
        ff_child_output(epath, STDERR_FILENO);
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    status = ff_reap(pid, 0, 60000);
    if (out)
        *out = ff_slurp(opath);
    if (err)
        *err = ff_slurp(epath);
    unlink(opath);
    unlink(epath);
    rmdir(dir);
    return status;
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
    ff_buf_append(opaque, data, size * n);
    return size * n;
}

long ff_http_get(const char *url, char **body)
{
    CURL *curl = curl_easy_init();
    ff_buf_t b;
    long code = 0;
    ff_buf_init(&b);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    if (body)
        *body = ff_buf_detach(&b);
    ff_buf_term(&b);
    return code;
}

double ff_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, series, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return -1;
}

redisReply *ff_apply_script(ff_redis_t *r, ff_rpipe_t *pipe, const char *const *keys,
                            size_t nkeys, const char *const *argv, size_t nargv)
{
    char errstr[512];
    int script = ff_redis_script(r, "ff_apply", ff_embedded_get("common/lua/ff_apply.lua"));
    ff_rpipe_reset(pipe);
    ff_rpipe_begin_script(pipe, r, script);
    ff_rpipe_arg_i64(pipe, (int64_t)nkeys);
    for (size_t i = 0; i < nkeys; i++)
        ff_rpipe_arg_str(pipe, keys[i]);
    for (size_t i = 0; i < nargv; i++)
        ff_rpipe_arg_str(pipe, argv[i]);
    ff_rpipe_end(pipe);
    cr_assert_eq(ff_redis_exec(r, pipe, errstr, sizeof errstr), 0, "%s", errstr);
    return ff_rpipe_reply(pipe, 0);
}
