/* ff_redis: a hiredis client for batches: URLs, pipelines, scripts by SHA, reconnects. */
#include "ff_redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_log.h"
#include "ff_metrics.h"
#include "ff_sha1.h"

typedef struct script_s {
    char *name;
    char *lua;
    char sha[41];
} script_t;

struct ff_redis_s {
    char *url;
    ff_redis_url_t u;
    int64_t timeout_ms;
    redisContext *ctx;
    script_t *scripts;
    int nscripts;
    uint64_t roundtrips;
    uint64_t commands;
    ff_series_t *latency;
};

void ff_redis_set_latency(ff_redis_t *r, struct ff_series_s *histogram)
{
    r->latency = histogram;
}

/* ---- URLs ----------------------------------------------------------------- */

int ff_redis_url_parse(const char *url, ff_redis_url_t *out, char *errstr, size_t errstr_size)
{
    const char *p, *at, *slash, *colon;
    memset(out, 0, sizeof(*out));
    out->port = 6379;

    if (!strncmp(url, "unix://", 7)) {
        const char *q;
        p = url + 7;
        q = strchr(p, '?');
        if (*p != '/' || (size_t)(q ? q - p : (long)strlen(p)) >= sizeof out->path)
            goto bad;
        snprintf(out->path, sizeof out->path, "%.*s", (int)(q ? q - p : (long)strlen(p)), p);
        if (q) {
            int64_t db;
            if (strncmp(q, "?db=", 4) || ff_parse_i64(q + 4, &db) == -1 || db < 0 || db > 65535)
                goto bad;
            out->db = (int)db;
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8))
        goto bad;
    p = url + 8;
    slash = strchr(p, '/');
    at = strchr(p, '@');
    if (at && (!slash || at < slash)) {
        const char *c = memchr(p, ':', (size_t)(at - p));
        if (c) {
            snprintf(out->user, sizeof out->user, "%.*s", (int)(c - p), p);
            snprintf(out->pass, sizeof out->pass, "%.*s", (int)(at - c - 1), c + 1);
        } else {
            snprintf(out->pass, sizeof out->pass, "%.*s", (int)(at - p), p);
        }
        p = at + 1;
    }
    colon = strchr(p, ':');
    if (colon && (!slash || colon < slash)) {
        char port[16];
        int64_t v;
        size_t n = (size_t)((slash ? slash : p + strlen(p)) - colon - 1);
        if (n == 0 || n >= sizeof port)
            goto bad;
        memcpy(port, colon + 1, n);
        port[n] = '\0';
        if (ff_parse_i64(port, &v) == -1 || v < 1 || v > 65535)
            goto bad;
        out->port = (int)v;
    } else {
        colon = slash ? slash : p + strlen(p);
    }
    if (colon == p || (size_t)(colon - p) >= sizeof out->host)
        goto bad;
    snprintf(out->host, sizeof out->host, "%.*s", (int)(colon - p), p);
    if (slash && slash[1]) {
        int64_t db;
        if (ff_parse_i64(slash + 1, &db) == -1 || db < 0 || db > 65535)
            goto bad;
        out->db = (int)db;
    }
    return 0;
bad:
    snprintf(errstr, errstr_size,
             "redis.url '%s' is not redis://[user:pass@]host:port/db or unix:///path", url);
    return -1;
}

/* ---- pipelines ------------------------------------------------------------ */

void ff_rpipe_init(ff_rpipe_t *p)
{
    memset(p, 0, sizeof(*p));
    ff_buf_init(&p->args);
}

void ff_rpipe_reset(ff_rpipe_t *p)
{
    for (size_t i = 0; i < p->ncmds; i++) {
        if (p->replies[i])
            freeReplyObject(p->replies[i]);
        p->replies[i] = NULL;
    }
    p->ncmds = 0;
    p->nargs = 0;
    p->open_first = 0;
    ff_buf_reset(&p->args);
}

void ff_rpipe_term(ff_rpipe_t *p)
{
    ff_rpipe_reset(p);
    ff_buf_term(&p->args);
    free(p->arg_off);
    free(p->arg_len);
    free(p->cmd_first);
    free(p->cmd_argc);
    free(p->replies);
    memset(p, 0, sizeof(*p));
}

void ff_rpipe_begin(ff_rpipe_t *p)
{
    p->open_first = p->nargs;
}

void ff_rpipe_arg(ff_rpipe_t *p, const void *s, size_t n)
{
    if (p->nargs == p->cap_args) {
        p->cap_args = p->cap_args ? p->cap_args * 2 : 64;
        p->arg_off = ff_realloc(p->arg_off, p->cap_args * sizeof(size_t));
        p->arg_len = ff_realloc(p->arg_len, p->cap_args * sizeof(size_t));
    }
    p->arg_off[p->nargs] = p->args.len;
    p->arg_len[p->nargs] = n;
    p->nargs++;
    ff_buf_append(&p->args, s, n);
}

void ff_rpipe_arg_str(ff_rpipe_t *p, const char *s)
{
    ff_rpipe_arg(p, s, strlen(s));
}

void ff_rpipe_arg_i64(ff_rpipe_t *p, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    ff_rpipe_arg(p, tmp, (size_t)n);
}

void ff_rpipe_argf(ff_rpipe_t *p, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof tmp) {
        ff_rpipe_arg(p, tmp, (size_t)n);
    } else {
        ff_buf_t b;
        ff_buf_init(&b);
        va_start(ap, fmt);
        ff_buf_vprintf(&b, fmt, ap);
        va_end(ap);
        ff_rpipe_arg(p, b.data, b.len);
        ff_buf_term(&b);
    }
}

size_t ff_rpipe_end(ff_rpipe_t *p)
{
    if (p->ncmds == p->cap_cmds) {
        p->cap_cmds = p->cap_cmds ? p->cap_cmds * 2 : 32;
        p->cmd_first = ff_realloc(p->cmd_first, p->cap_cmds * sizeof(size_t));
        p->cmd_argc = ff_realloc(p->cmd_argc, p->cap_cmds * sizeof(size_t));
        p->replies = ff_realloc(p->replies, p->cap_cmds * sizeof(redisReply *));
    }
    p->cmd_first[p->ncmds] = p->open_first;
    p->cmd_argc[p->ncmds] = p->nargs - p->open_first;
    p->replies[p->ncmds] = NULL;
    p->open_first = p->nargs;
    return p->ncmds++;
}

size_t ff_rpipe_cmd(ff_rpipe_t *p, const char *arg0, ...)
{
    va_list ap;
    const char *a;
    ff_rpipe_begin(p);
    va_start(ap, arg0);
    for (a = arg0; a; a = va_arg(ap, const char *))
        ff_rpipe_arg_str(p, a);
    va_end(ap);
    return ff_rpipe_end(p);
}

size_t ff_rpipe_count(const ff_rpipe_t *p)
{
    return p->ncmds;
}

redisReply *ff_rpipe_reply(const ff_rpipe_t *p, size_t i)
{
    return i < p->ncmds ? p->replies[i] : NULL;
}

/* ---- the client ----------------------------------------------------------- */

ff_redis_t *ff_redis_new(const char *url, int64_t timeout_ms, char *errstr, size_t errstr_size)
{
    ff_redis_t *r = ff_calloc(1, sizeof(*r));
    if (ff_redis_url_parse(url, &r->u, errstr, errstr_size) == -1) {
        free(r);
        return NULL;
    }
    r->url = ff_strdup(url);
    r->timeout_ms = timeout_ms;
    return r;
}

void ff_redis_destroy(ff_redis_t *r)
{
    if (!r)
        return;
    ff_redis_disconnect(r);
    for (int i = 0; i < r->nscripts; i++) {
        free(r->scripts[i].name);
        free(r->scripts[i].lua);
    }
    free(r->scripts);
    free(r->url);
    free(r);
}

int ff_redis_script(ff_redis_t *r, const char *name, const char *lua)
{
    r->scripts = ff_realloc(r->scripts, (size_t)(r->nscripts + 1) * sizeof(*r->scripts));
    r->scripts[r->nscripts].name = ff_strdup(name);
    r->scripts[r->nscripts].lua = ff_strdup(lua);
    /* The SHA is the digest of the text, so commands can name the script
     * before any connection exists. */
    ff_sha1_hex(lua, strlen(lua), r->scripts[r->nscripts].sha);
    if (r->ctx)
        ff_redis_disconnect(r); /* the next connect loads it */
    return r->nscripts++;
}

void ff_rpipe_begin_script(ff_rpipe_t *p, const ff_redis_t *r, int handle)
{
    ff_rpipe_begin(p);
    ff_rpipe_arg(p, "EVALSHA", 7);
    ff_rpipe_arg(p, r->scripts[handle].sha, 40);
}

void ff_redis_disconnect(ff_redis_t *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
}

int ff_redis_connected(const ff_redis_t *r)
{
    return r->ctx != NULL;
}

static int simple_cmd(ff_redis_t *r, int argc, const char **argv, char *errstr,
                      size_t errstr_size, redisReply **out)
{
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (!reply) {
        snprintf(errstr, errstr_size, "redis %s: %s", argv[0], r->ctx->errstr);
        ff_redis_disconnect(r);
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(errstr, errstr_size, "redis %s: %s", argv[0], reply->str);
        freeReplyObject(reply);
        ff_redis_disconnect(r);
        return -1;
    }
    if (out)
        *out = reply;
    else
        freeReplyObject(reply);
    return 0;
}

static int load_scripts(ff_redis_t *r, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < r->nscripts; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", r->scripts[i].lua};
        redisReply *reply;
        if (simple_cmd(r, 3, argv, errstr, errstr_size, &reply) == -1)
            return -1;
        if (reply->type != REDIS_REPLY_STRING || reply->len != 40 ||
            memcmp(reply->str, r->scripts[i].sha, 40)) {
            snprintf(errstr, errstr_size, "SCRIPT LOAD %s: unexpected reply", r->scripts[i].name);
            freeReplyObject(reply);
            ff_redis_disconnect(r);
            return -1;
        }
        freeReplyObject(reply);
        r->roundtrips++;
    }
    return 0;
}

int ff_redis_connect(ff_redis_t *r, char *errstr, size_t errstr_size)
{
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000,
                         .tv_usec = (r->timeout_ms % 1000) * 1000};
    if (r->ctx)
        return 0;
    if (r->u.path[0])
        r->ctx = redisConnectUnixWithTimeout(r->u.path, tv);
    else
        r->ctx = redisConnectWithTimeout(r->u.host, r->u.port, tv);
    if (!r->ctx || r->ctx->err) {
        snprintf(errstr, errstr_size, "cannot connect to redis at %s: %s",
                 r->u.path[0] ? r->u.path : r->u.host,
                 r->ctx ? r->ctx->errstr : "out of memory");
        ff_redis_disconnect(r);
        return -1;
    }
    redisSetTimeout(r->ctx, tv);
    if (r->u.pass[0]) {
        const char *argv[3] = {"AUTH", r->u.user[0] ? r->u.user : r->u.pass, r->u.pass};
        if (simple_cmd(r, r->u.user[0] ? 3 : 2, argv, errstr, errstr_size, NULL) == -1)
            return -1;
    }
    if (r->u.db) {
        char db[16];
        const char *argv[2] = {"SELECT", db};
        snprintf(db, sizeof db, "%d", r->u.db);
        if (simple_cmd(r, 2, argv, errstr, errstr_size, NULL) == -1)
            return -1;
    }
    if (load_scripts(r, errstr, errstr_size) == -1)
        return -1;
    ff_debug("redis.connect", "connected to %s", r->url);
    return 0;
}

static int is_noscript(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && !strncmp(reply->str, "NOSCRIPT", 8);
}

/* Sends commands [from, to) of p that `only` selects (NULL: all) and reads
 * their replies into p->replies. */
static int send_and_read(ff_redis_t *r, ff_rpipe_t *p, const char *only, char *errstr,
                         size_t errstr_size)
{
    const char **argv = NULL;
    size_t argv_cap = 0, sent = 0;

    for (size_t c = 0; c < p->ncmds; c++) {
        size_t argc = p->cmd_argc[c], first = p->cmd_first[c];
        if (only && !only[c])
            continue;
        if (argc > argv_cap) {
            argv_cap = argc * 2;
            argv = ff_realloc(argv, argv_cap * sizeof(*argv));
        }
        for (size_t a = 0; a < argc; a++)
            argv[a] = p->args.data + p->arg_off[first + a];
        if (redisAppendCommandArgv(r->ctx, (int)argc, argv, p->arg_len + first) != REDIS_OK) {
            snprintf(errstr, errstr_size, "redis: %s", r->ctx->errstr);
            free(argv);
            ff_redis_disconnect(r);
            return -1;
        }
        sent++;
    }
    free(argv);
    r->commands += sent;
    r->roundtrips++;
    for (size_t c = 0; c < p->ncmds; c++) {
        void *reply = NULL;
        if (only && !only[c])
            continue;
        if (redisGetReply(r->ctx, &reply) != REDIS_OK) {
            snprintf(errstr, errstr_size, "redis round trip failed: %s",
                     r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
            ff_redis_disconnect(r);
            return -1;
        }
        if (p->replies[c])
            freeReplyObject(p->replies[c]);
        p->replies[c] = reply;
    }
    return 0;
}

int ff_redis_exec(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size)
{
    char *retry = NULL;
    size_t nretry = 0;

    int64_t t0;
    if (p->ncmds == 0)
        return 0;
    if (ff_redis_connect(r, errstr, errstr_size) == -1)
        return -1;
    t0 = ff_mono_us();
    if (send_and_read(r, p, NULL, errstr, errstr_size) == -1)
        return -1;
    ff_series_observe(r->latency, (double)(ff_mono_us() - t0) / 1e6);
    /* Redis lost its script cache (a restart, SCRIPT FLUSH, a failover):
     * load the scripts again and re-send only the scripts that failed. */
    for (size_t c = 0; c < p->ncmds; c++) {
        if (is_noscript(p->replies[c])) {
            if (!retry)
                retry = ff_calloc(p->ncmds, 1);
            retry[c] = 1;
            nretry++;
        }
    }
    if (nretry) {
        int rc;
        ff_warn("redis.noscript", "redis forgot our scripts; reloading and re-sending %zu commands",
                nretry);
        rc = load_scripts(r, errstr, errstr_size);
        if (rc == 0) {
            /* The SHA is part of each command's arguments and is unchanged
             * (it is the digest of the script text). */
            rc = send_and_read(r, p, retry, errstr, errstr_size);
        }
        free(retry);
        return rc;
    }
    return 0;
}

uint64_t ff_redis_roundtrips(const ff_redis_t *r)
{
    return r->roundtrips;
}

uint64_t ff_redis_commands(const ff_redis_t *r)
{
    return r->commands;
}

/* CRC16-CCITT (XMODEM), the function Redis Cluster uses for key slots. */
static uint16_t crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int k = 0; k < 8; k++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned ff_redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        const char *close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & 16383;
    }
    return crc16(key, len) & 16383;
}
