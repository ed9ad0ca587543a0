/* ff_redis: a hiredis client for batches: URLs, pipelines, scripts by SHA, reconnects. */
#include "ff_redis.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ff_config.h"
#include "ff_log.h"
#include "ff_metrics.h"
#include "ff_sha1.h"

typedef struct script_s {
    char *name;
    char *lua;
    char sha[41];
} script_t;

/* A server: the one Redis, or a master of a cluster. */
typedef struct node_s {
    char host[256];
    int port;
    redisContext *ctx;
    bool scripts_loaded; /* on this connection */
    /* The commands of the exec in progress that go to this node. */
    size_t *cmds;
    size_t ncmds, cap_cmds;
} node_t;

#define NSLOTS 16384

struct ff_redis_s {
    char *url;
    ff_redis_url_t u;
    bool cluster;
    int64_t timeout_ms;
    node_t *nodes; /* standalone: one; cluster: the seeds, then masters as learnt */
    int nnodes;
    int16_t *slots;    /* cluster: slot -> node index, -1 unknown */
    bool map_stale;    /* a MOVED or a lost node: read CLUSTER SLOTS again */
    script_t *scripts;
    int nscripts;
    uint64_t roundtrips;
    uint64_t commands;
    uint64_t redirects;
    ff_series_t *latency;
    ff_buf_t out; /* a node's commands in the protocol, before they go out */
    /* Per command of the exec in progress. */
    int *target;
    unsigned char *state; /* CMD_* */
    size_t cap_state;
    /* Standalone: the pipeline whose first `unread` commands were sent
     * early (ff_redis_send_early) and whose replies are still to read. */
    const ff_rpipe_t *early;
    size_t unread;
};

void ff_redis_set_latency(ff_redis_t *r, struct ff_series_s *histogram)
{
    r->latency = histogram;
}

/* ---- URLs ----------------------------------------------------------------- */

/* host[:port] of n bytes at s. 0, or -1. */
static int parse_hostport(const char *s, size_t n, char *host, size_t host_size, int *port)
{
    const char *colon = memchr(s, ':', n);
    size_t hl = colon ? (size_t)(colon - s) : n;
    *port = 6379;
    if (colon) {
        char num[16];
        int64_t v;
        size_t pl = n - hl - 1;
        if (pl == 0 || pl >= sizeof num)
            return -1;
        memcpy(num, colon + 1, pl);
        num[pl] = '\0';
        if (ff_parse_i64(num, &v) == -1 || v < 1 || v > 65535)
            return -1;
        *port = (int)v;
    }
    if (hl == 0 || hl >= host_size || memchr(s, ',', hl))
        return -1;
    snprintf(host, host_size, "%.*s", (int)hl, s);
    return 0;
}

int ff_redis_url_parse(const char *url, ff_redis_url_t *out, char *errstr, size_t errstr_size)
{
    const char *p, *at, *slash, *end;
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
    if (!strncmp(url, "redis://", 8))
        p = url + 8;
    else if (!strncmp(url, "redis-cluster://", 16))
        p = url + 16, out->cluster = 1;
    else
        goto bad;
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
    end = slash ? slash : p + strlen(p);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (out->nseeds == FF_REDIS_MAX_SEEDS ||
            parse_hostport(p, (size_t)(stop - p), out->seeds[out->nseeds].host,
                           sizeof out->seeds[0].host, &out->seeds[out->nseeds].port) == -1)
            goto bad;
        out->nseeds++;
        p = comma ? comma + 1 : end;
        if (comma && p == end)
            goto bad;
    }
    if (out->nseeds == 0 || (!out->cluster && out->nseeds > 1))
        goto bad;
    snprintf(out->host, sizeof out->host, "%s", out->seeds[0].host);
    out->port = out->seeds[0].port;
    if (slash && slash[1]) {
        int64_t db;
        if (ff_parse_i64(slash + 1, &db) == -1 || db < 0 || db > 65535)
            goto bad;
        out->db = (int)db;
    }
    if (out->cluster && out->db) {
        snprintf(errstr, errstr_size, "a Redis Cluster has only db 0");
        return -1;
    }
    return 0;
bad:
    snprintf(errstr, errstr_size,
             "expected redis://[user:pass@]host:port/db, unix:///path or "
             "redis-cluster://[user:pass@]host:port[,host:port…]");
    return -1;
}

const char *ff_redis_url_redact(const char *url, char *buf, size_t size)
{
    const char *auth = strstr(url, "://"), *at, *slash, *colon;
    if (!auth) {
        snprintf(buf, size, "%s", url);
        return buf;
    }
    auth += 3;
    at = strchr(auth, '@');
    slash = strchr(auth, '/');
    if (!at || (slash && slash < at)) {
        snprintf(buf, size, "%s", url);
        return buf;
    }
    colon = memchr(auth, ':', (size_t)(at - auth));
    /* user:pass@ keeps the user; pass@ alone is all secret. */
    snprintf(buf, size, "%.*s***%s", (int)((colon ? colon + 1 : auth) - url), url, at);
    return buf;
}

/* ---- pipelines ------------------------------------------------------------ */

void ff_rpipe_init(ff_rpipe_t *p)
{
    memset(p, 0, sizeof(*p));
    ff_buf_init(&p->args);
    ff_arena_init(&p->replies_arena, 256 * 1024);
}

void ff_rpipe_reset(ff_rpipe_t *p)
{
    for (size_t i = 0; i < p->ncmds; i++)
        p->replies[i] = NULL;
    ff_arena_reset(&p->replies_arena);
    p->ncmds = 0;
    p->nargs = 0;
    p->sent = 0;
    p->sent_bytes = 0;
    ff_buf_reset(&p->args);
    ff_rpipe_begin(p);
}

void ff_rpipe_term(ff_rpipe_t *p)
{
    ff_rpipe_reset(p);
    ff_arena_term(&p->replies_arena);
    ff_buf_term(&p->args);
    free(p->arg_off);
    free(p->arg_len);
    free(p->cmds);
    free(p->replies);
    memset(p, 0, sizeof(*p));
}

void ff_rpipe_begin(ff_rpipe_t *p)
{
    p->open.first = p->nargs;
    p->open.argc = 0;
    p->open.from = p->args.len;
}

/* The length of "$<n>\r\n", the header of an argument of n bytes. */
static size_t bulk_header_len(size_t n)
{
    size_t digits = 1;
    while (n >= 10) {
        n /= 10;
        digits++;
    }
    return 1 + digits + 2;
}

size_t ff_resp_bulk_len(size_t n)
{
    return bulk_header_len(n) + n + 2;
}

size_t ff_resp_bulk(char *w, const void *s, size_t n)
{
    size_t len = 0;
    w[len++] = '$';
    len += ff_fmt_i64(w + len, (int64_t)n);
    w[len++] = '\r';
    w[len++] = '\n';
    if (n)
        memcpy(w + len, s, n);
    len += n;
    w[len++] = '\r';
    w[len++] = '\n';
    return len;
}

/* Room for n more arguments' offsets and lengths. */
static void args_room(ff_rpipe_t *p, size_t n)
{
    if (p->nargs + n <= p->cap_args)
        return;
    while (p->nargs + n > p->cap_args)
        p->cap_args = p->cap_args ? p->cap_args * 2 : 64;
    p->arg_off = ff_realloc(p->arg_off, p->cap_args * sizeof(size_t));
    p->arg_len = ff_realloc(p->arg_len, p->cap_args * sizeof(size_t));
}

/* Each argument is stored as the protocol writes it ("$<n>\r\n<bytes>\r\n"):
 * sending a command is then its "*<argc>" header and one copy. */
void ff_rpipe_arg(ff_rpipe_t *p, const void *s, size_t n)
{
    char *w = ff_buf_reserve(&p->args, n + 32); /* "$", 20 digits at most, 2 CRLFs */
    size_t len = ff_resp_bulk(w, s, n);
    args_room(p, 1);
    p->arg_off[p->nargs] = p->args.len + len - n - 2;
    p->arg_len[p->nargs] = n;
    p->nargs++;
    p->open.argc++;
    p->args.len += len;
    p->args.data[p->args.len] = '\0';
}

void ff_rpipe_arg_copy(ff_rpipe_t *p, size_t first, size_t n)
{
    size_t from, len, delta;
    if (!n)
        return;
    from = p->arg_off[first] - bulk_header_len(p->arg_len[first]);
    len = p->arg_off[first + n - 1] + p->arg_len[first + n - 1] + 2 - from;
    args_room(p, n);
    ff_buf_reserve(&p->args, len); /* may move args.data: copy after */
    memcpy(p->args.data + p->args.len, p->args.data + from, len);
    delta = p->args.len - from;
    for (size_t i = 0; i < n; i++) {
        p->arg_off[p->nargs + i] = p->arg_off[first + i] + delta;
        p->arg_len[p->nargs + i] = p->arg_len[first + i];
    }
    p->nargs += n;
    p->open.argc += n;
    p->args.len += len;
    p->args.data[p->args.len] = '\0';
}

void ff_rpipe_raw(ff_rpipe_t *p, const void *resp, size_t len, size_t nargs)
{
    ff_buf_append(&p->args, resp, len);
    p->open.argc += nargs;
}

size_t ff_rpipe_nargs(const ff_rpipe_t *p)
{
    return p->nargs;
}

void ff_rpipe_arg_str(ff_rpipe_t *p, const char *s)
{
    ff_rpipe_arg(p, s, strlen(s));
}

void ff_rpipe_arg_i64(ff_rpipe_t *p, int64_t v)
{
    char tmp[24];
    ff_rpipe_arg(p, tmp, ff_fmt_i64(tmp, v));
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
        p->cmds = ff_realloc(p->cmds, p->cap_cmds * sizeof(*p->cmds));
        p->replies = ff_realloc(p->replies, p->cap_cmds * sizeof(redisReply *));
    }
    p->open.nidx = p->nargs - p->open.first;
    p->open.to = p->args.len;
    p->cmds[p->ncmds] = p->open;
    p->replies[p->ncmds] = NULL;
    ff_rpipe_begin(p);
    return p->ncmds++;
}

void ff_rpipe_append(ff_rpipe_t *p, const ff_rpipe_t *from)
{
    for (size_t c = 0; c < from->ncmds; c++) {
        const ff_rcmd_t *cmd = &from->cmds[c];
        size_t delta;
        ff_rpipe_begin(p);
        delta = p->args.len - cmd->from;
        args_room(p, cmd->nidx);
        for (size_t a = 0; a < cmd->nidx; a++) {
            p->arg_off[p->nargs + a] = from->arg_off[cmd->first + a] + delta;
            p->arg_len[p->nargs + a] = from->arg_len[cmd->first + a];
        }
        p->nargs += cmd->nidx;
        ff_buf_append(&p->args, from->args.data + cmd->from, cmd->to - cmd->from);
        p->open.argc = cmd->argc;
        ff_rpipe_end(p);
    }
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

enum { CMD_DONE, CMD_PENDING, CMD_ASKING, CMD_SENT /* early, reply unread */ };

#define MAX_ATTEMPTS 32 /* redirections of one exec before it counts as a failure */

/* The node at host:port (port 0: a unix socket path), added if new. */
static int node_index(ff_redis_t *r, const char *host, int port)
{
    node_t *n;
    for (int i = 0; i < r->nnodes; i++)
        if (r->nodes[i].port == port && !strcmp(r->nodes[i].host, host))
            return i;
    r->nodes = ff_realloc(r->nodes, (size_t)(r->nnodes + 1) * sizeof(*r->nodes));
    n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof(*n));
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    return r->nnodes++;
}

ff_redis_t *ff_redis_new(const char *url, int cluster, int64_t timeout_ms, char *errstr,
                         size_t errstr_size)
{
    ff_redis_t *r = ff_calloc(1, sizeof(*r));
    char why[512];
    char safe[600];
    if (ff_redis_url_parse(url, &r->u, why, sizeof why) == -1) {
        snprintf(errstr, errstr_size, "redis.url '%s': %s",
                 ff_redis_url_redact(url, safe, sizeof safe), why);
        free(r);
        return NULL;
    }
    r->cluster = cluster || r->u.cluster;
    if (r->cluster && (r->u.path[0] || r->u.db)) {
        snprintf(errstr, errstr_size, "redis.url '%s': a Redis Cluster is reached over TCP, in db 0",
                 ff_redis_url_redact(url, safe, sizeof safe));
        free(r);
        return NULL;
    }
    r->url = ff_strdup(url);
    r->timeout_ms = timeout_ms;
    if (r->u.path[0]) {
        node_index(r, r->u.path, 0);
    } else {
        for (int i = 0; i < r->u.nseeds; i++)
            node_index(r, r->u.seeds[i].host, r->u.seeds[i].port);
    }
    if (r->cluster) {
        r->slots = ff_malloc(NSLOTS * sizeof(*r->slots));
        for (int s = 0; s < NSLOTS; s++)
            r->slots[s] = -1;
        r->map_stale = true;
    }
    return r;
}

ff_redis_t *ff_redis_from_conf(const struct ff_conf_s *conf, char *errstr, size_t errstr_size)
{
    return ff_redis_new(ff_conf_str(conf, "redis.url"), ff_conf_int(conf, "redis.cluster") != 0,
                        ff_conf_int(conf, "redis.timeout"), errstr, errstr_size);
}

int ff_redis_is_cluster(const ff_redis_t *r)
{
    return r->cluster;
}

static void node_close(node_t *n)
{
    if (n->ctx) {
        redisFree(n->ctx);
        n->ctx = NULL;
    }
    n->scripts_loaded = false;
}

void ff_redis_disconnect(ff_redis_t *r)
{
    r->early = NULL; /* their replies go with the connection */
    r->unread = 0;
    for (int i = 0; i < r->nnodes; i++)
        node_close(&r->nodes[i]);
}

void ff_redis_destroy(ff_redis_t *r)
{
    if (!r)
        return;
    ff_redis_disconnect(r);
    for (int i = 0; i < r->nnodes; i++)
        free(r->nodes[i].cmds);
    free(r->nodes);
    free(r->slots);
    free(r->target);
    free(r->state);
    for (int i = 0; i < r->nscripts; i++) {
        free(r->scripts[i].name);
        free(r->scripts[i].lua);
    }
    free(r->scripts);
    free(r->url);
    ff_buf_term(&r->out);
    free(r);
}

int ff_redis_script(ff_redis_t *r, const char *name, const char *lua)
{
    for (int i = 0; i < r->nscripts; i++)
        if (!strcmp(r->scripts[i].name, name) && !strcmp(r->scripts[i].lua, lua))
            return i; /* registered already */
    r->scripts = ff_realloc(r->scripts, (size_t)(r->nscripts + 1) * sizeof(*r->scripts));
    r->scripts[r->nscripts].name = ff_strdup(name);
    r->scripts[r->nscripts].lua = ff_strdup(lua);
    /* The SHA is the digest of the text, so commands can name the script
     * before any connection exists. */
    ff_sha1_hex(lua, strlen(lua), r->scripts[r->nscripts].sha);
    for (int i = 0; i < r->nnodes; i++)
        r->nodes[i].scripts_loaded = false; /* the next use of a node loads it */
    return r->nscripts++;
}

void ff_rpipe_begin_script(ff_rpipe_t *p, const ff_redis_t *r, int handle)
{
    ff_rpipe_begin(p);
    ff_rpipe_arg(p, "EVALSHA", 7);
    ff_rpipe_arg(p, r->scripts[handle].sha, 40);
}

int ff_redis_connected(const ff_redis_t *r)
{
    for (int i = 0; i < r->nnodes; i++)
        if (r->nodes[i].ctx)
            return 1;
    return 0;
}

static const char *node_name(const node_t *n, char *buf, size_t size)
{
    if (n->port)
        snprintf(buf, size, "%s:%d", n->host, n->port);
    else
        snprintf(buf, size, "%s", n->host);
    return buf;
}

/* One command on node i, outside any pipeline; an error reply fails. */
static int simple_cmd(ff_redis_t *r, int i, int argc, const char **argv, char *errstr,
                      size_t errstr_size, redisReply **out)
{
    node_t *n = &r->nodes[i];
    char name[300];
    redisReply *reply = redisCommandArgv(n->ctx, argc, argv, NULL);
    r->roundtrips++;
    if (!reply) {
        snprintf(errstr, errstr_size, "redis %s at %s: %s", argv[0],
                 node_name(n, name, sizeof name), n->ctx->errstr);
        node_close(n);
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(errstr, errstr_size, "redis %s at %s: %s", argv[0],
                 node_name(n, name, sizeof name), reply->str);
        freeReplyObject(reply);
        node_close(n);
        return -1;
    }
    if (out)
        *out = reply;
    else
        freeReplyObject(reply);
    return 0;
}

/* Connects to node i (AUTH, SELECT) if it is not connected. */
static int node_open(ff_redis_t *r, int i, char *errstr, size_t errstr_size)
{
    node_t *n = &r->nodes[i];
    char name[300];
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000,
                         .tv_usec = (r->timeout_ms % 1000) * 1000};
    if (n->ctx)
        return 0;
    n->scripts_loaded = false;
    n->ctx = n->port ? redisConnectWithTimeout(n->host, n->port, tv)
                     : redisConnectUnixWithTimeout(n->host, tv);
    if (!n->ctx || n->ctx->err) {
        snprintf(errstr, errstr_size, "cannot connect to redis at %s: %s",
                 node_name(n, name, sizeof name), n->ctx ? n->ctx->errstr : "out of memory");
        node_close(n);
        return -1;
    }
    redisSetTimeout(n->ctx, tv);
    if (r->u.pass[0]) {
        const char *argv[3] = {"AUTH", r->u.user[0] ? r->u.user : r->u.pass, r->u.pass};
        if (simple_cmd(r, i, r->u.user[0] ? 3 : 2, argv, errstr, errstr_size, NULL) == -1)
            return -1;
    }
    if (r->u.db) {
        char db[16];
        const char *argv[2] = {"SELECT", db};
        snprintf(db, sizeof db, "%d", r->u.db);
        if (simple_cmd(r, i, 2, argv, errstr, errstr_size, NULL) == -1)
            return -1;
    }
    ff_debug("redis.connect", "connected to %s", node_name(n, name, sizeof name));
    return 0;
}

/* node_open, and the scripts loaded on that connection. */
static int node_ready(ff_redis_t *r, int i, char *errstr, size_t errstr_size)
{
    if (node_open(r, i, errstr, errstr_size) == -1)
        return -1;
    for (int k = 0; !r->nodes[i].scripts_loaded && k < r->nscripts; k++) {
        const char *argv[3] = {"SCRIPT", "LOAD", r->scripts[k].lua};
        redisReply *reply;
        if (simple_cmd(r, i, 3, argv, errstr, errstr_size, &reply) == -1)
            return -1;
        if (reply->type != REDIS_REPLY_STRING || reply->len != 40 ||
            memcmp(reply->str, r->scripts[k].sha, 40)) {
            snprintf(errstr, errstr_size, "SCRIPT LOAD %s: unexpected reply", r->scripts[k].name);
            freeReplyObject(reply);
            node_close(&r->nodes[i]);
            return -1;
        }
        freeReplyObject(reply);
    }
    r->nodes[i].scripts_loaded = true;
    return 0;
}

/* Reads the slot map (CLUSTER SLOTS) from the first node that answers:
 * connected ones first, then every node known, seeds included. */
static int refresh_map(ff_redis_t *r, char *errstr, size_t errstr_size)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < r->nnodes; i++) {
            static const char *const argv[2] = {"CLUSTER", "SLOTS"};
            redisReply *map;
            char asked[256];
            int masters = 0;
            if (pass == 0 ? !r->nodes[i].ctx : r->nodes[i].ctx != NULL)
                continue;
            if (node_open(r, i, errstr, errstr_size) == -1)
                continue;
            if (simple_cmd(r, i, 2, (const char **)argv, errstr, errstr_size, &map) == -1)
                continue;
            if (map->type != REDIS_REPLY_ARRAY || map->elements == 0) {
                char name[300];
                snprintf(errstr, errstr_size, "redis at %s serves no slots: is the cluster created?",
                         node_name(&r->nodes[i], name, sizeof name));
                freeReplyObject(map);
                continue;
            }
            /* node_index may move r->nodes: keep the host asked. */
            snprintf(asked, sizeof asked, "%s", r->nodes[i].host);
            for (int s = 0; s < NSLOTS; s++)
                r->slots[s] = -1;
            for (size_t k = 0; k < map->elements; k++) {
                redisReply *range = map->element[k], *master;
                const char *host;
                int idx;
                if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
                    range->element[0]->type != REDIS_REPLY_INTEGER ||
                    range->element[1]->type != REDIS_REPLY_INTEGER ||
                    range->element[2]->type != REDIS_REPLY_ARRAY ||
                    range->element[2]->elements < 2)
                    continue;
                master = range->element[2];
                if (master->element[0]->type != REDIS_REPLY_STRING ||
                    master->element[1]->type != REDIS_REPLY_INTEGER)
                    continue;
                /* An empty or "?" host: the one we asked. */
                host = master->element[0]->str;
                if (!host[0] || !strcmp(host, "?"))
                    host = asked;
                idx = node_index(r, host, (int)master->element[1]->integer);
                for (long long s = range->element[0]->integer;
                     s <= range->element[1]->integer && s < NSLOTS; s++)
                    if (s >= 0)
                        r->slots[s] = (int16_t)idx;
                masters++;
            }
            freeReplyObject(map);
            r->map_stale = false;
            ff_debug("redis.slots", "slot map read: %d slot ranges", masters);
            return 0;
        }
    }
    return -1;
}

static bool arg_is(const ff_rpipe_t *p, size_t arg, const char *word)
{
    size_t n = strlen(word);
    return p->arg_len[arg] == n && !strncasecmp(p->args.data + p->arg_off[arg], word, n);
}

/* The slot of command c's key, or -1 for a command without one. */
static int command_slot(const ff_rpipe_t *p, size_t c)
{
    static const char *const keyless[] = {"PING", "INFO",   "SCAN",  "SCRIPT", "CLUSTER",
                                          "DBSIZE", "KEYS", "TIME",  "ECHO",   "FUNCTION",
                                          "CONFIG", "WAIT", "FLUSHALL", "FLUSHDB"};
    static const char *const scripts[] = {"EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL",
                                          "FCALL_RO"};
    /* Raw arguments come after the ones a command is routed by. */
    size_t first = p->cmds[c].first, argc = p->cmds[c].nidx, key = 1;
    if (argc < 2)
        return -1;
    for (size_t i = 0; i < FF_ARRAY_LEN(keyless); i++)
        if (arg_is(p, first, keyless[i]))
            return -1;
    for (size_t i = 0; i < FF_ARRAY_LEN(scripts); i++) {
        if (arg_is(p, first, scripts[i])) {
            /* EVALSHA sha numkeys key…: no key when numkeys is 0. */
            if (argc < 4 || arg_is(p, first + 2, "0"))
                return -1;
            key = 3;
            break;
        }
    }
    return (int)ff_redis_key_slot(p->args.data + p->arg_off[first + key], p->arg_len[first + key]);
}

/* The node a command goes to by the slot map. */
static int route(const ff_redis_t *r, const ff_rpipe_t *p, size_t c)
{
    int slot;
    if (!r->cluster)
        return 0;
    slot = command_slot(p, c);
    if (slot >= 0 && r->slots[slot] >= 0)
        return r->slots[slot];
    for (int s = 0; s < NSLOTS; s++) /* keyless, or a slot nobody serves: any master */
        if (r->slots[s] >= 0)
            return r->slots[s];
    return 0;
}

/* Host and port of a MOVED or ASK reply ("MOVED 3999 127.0.0.1:6381"). */
static int redirect_target(ff_redis_t *r, const char *msg, int *slot)
{
    const char *sp = strchr(msg, ' '), *addr, *colon;
    char host[256];
    int64_t port, s;
    if (!sp || !(addr = strchr(sp + 1, ' ')) || !(colon = strrchr(addr, ':')))
        return -1;
    {
        char num[16];
        snprintf(num, sizeof num, "%.*s", (int)FF_MIN((size_t)(addr - sp - 1), sizeof num - 1),
                 sp + 1);
        if (ff_parse_i64(num, &s) == -1 || s < 0 || s >= NSLOTS)
            return -1;
    }
    if (ff_parse_i64(colon + 1, &port) == -1 || port < 1 || port > 65535 ||
        (size_t)(colon - addr - 1) >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr - 1), addr + 1);
    *slot = (int)s;
    return node_index(r, host, (int)port);
}

static int reply_is(const redisReply *reply, const char *code)
{
    size_t n;
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return 0;
    n = strlen(code);
    return !strncmp(reply->str, code, n) && (reply->str[n] == ' ' || reply->str[n] == '\0');
}

/* Appends "<c><n>\r\n" (a protocol header). */
static void resp_header(ff_buf_t *b, char c, size_t n)
{
    char *w = ff_buf_reserve(b, 24);
    size_t len = 0;
    w[len++] = c;
    len += ff_fmt_i64(w + len, (int64_t)n);
    w[len++] = '\r';
    w[len++] = '\n';
    b->len += len;
}

/* Appends one command in the Redis protocol (what redisAppendCommandArgv
 * would write): its arguments are stored that way already. */
static void resp_command(ff_buf_t *b, const ff_rpipe_t *p, size_t c)
{
    const ff_rcmd_t *cmd = &p->cmds[c];
    resp_header(b, '*', cmd->argc);
    ff_buf_append(b, p->args.data + cmd->from, cmd->to - cmd->from);
}

/* hiredis's reader builds a pipeline's replies through these, in the
 * pipeline's arena: a batch's replies hold tens of thousands of elements,
 * and a malloc and a free for each was a tenth of a processor's CPU. The
 * arena is the root read task's privdata. */
static ff_arena_t *arena_of(const redisReadTask *task)
{
    while (task->parent)
        task = task->parent;
    return task->privdata;
}

/* A reply of type, linked into its parent, with extra bytes after it. */
static redisReply *arena_reply(const redisReadTask *task, int type, size_t extra)
{
    redisReply *r = ff_arena_alloc(arena_of(task), sizeof(*r) + extra);
    memset(r, 0, sizeof(*r));
    r->type = type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

/* The string right after its reply, in one allocation: a hot customer's
 * read is thousands of them. */
static void *arena_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = arena_reply(task, task->type, len + 1);
    r->str = (char *)(r + 1);
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return r;
}

static void *arena_array(const redisReadTask *task, int elements)
{
    redisReply *r = arena_reply(task, REDIS_REPLY_ARRAY, 0);
    if (elements > 0) {
        r->element = ff_arena_alloc(arena_of(task), (size_t)elements * sizeof(redisReply *));
        memset(r->element, 0, (size_t)elements * sizeof(redisReply *));
        r->elements = (size_t)elements;
    }
    return r;
}

static void *arena_integer(const redisReadTask *task, long long value)
{
    redisReply *r = arena_reply(task, REDIS_REPLY_INTEGER, 0);
    r->integer = value;
    return r;
}

static void *arena_nil(const redisReadTask *task)
{
    return arena_reply(task, REDIS_REPLY_NIL, 0);
}

static void arena_free(void *reply)
{
    (void)reply; /* the arena's reset frees it */
}

static redisReplyObjectFunctions arena_functions = {
    arena_string, arena_array, arena_integer, arena_nil, arena_free,
};

/* Writes out (commands in the protocol) to n's connection now. 0, or -1
 * with errstr. */
static int write_out(node_t *n, const ff_buf_t *out, char *errstr, size_t errstr_size)
{
    char name[300];
    int done = 0;
    if (redisAppendFormattedCommand(n->ctx, out->data, out->len) == REDIS_OK)
        while (!done && redisBufferWrite(n->ctx, &done) == REDIS_OK)
            ;
    if (done)
        return 0;
    snprintf(errstr, errstr_size, "redis at %s: %s", node_name(n, name, sizeof name),
             n->ctx->errstr[0] ? n->ctx->errstr : "connection lost");
    return -1;
}

/* No commands sent early are waiting for their replies (read, or their
 * connection dropped); p sends all its commands with the next exec. */
static void forget_early(ff_redis_t *r, ff_rpipe_t *p)
{
    r->early = NULL;
    r->unread = 0;
    if (p) {
        p->sent = 0;
        p->sent_bytes = 0;
    }
}

/* Sends every pending command to its node, all nodes' pipelines written
 * before any reply is read, and reads the replies into p. */
static int send_pending(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size)
{
    char name[300];
    int rc = -1;

    for (int i = 0; i < r->nnodes; i++)
        r->nodes[i].ncmds = 0;
    for (size_t c = 0; c < p->ncmds; c++) {
        node_t *n;
        if (r->state[c] == CMD_DONE)
            continue;
        n = &r->nodes[r->target[c]];
        if (n->ncmds == n->cap_cmds) {
            n->cap_cmds = n->cap_cmds ? n->cap_cmds * 2 : 64;
            n->cmds = ff_realloc(n->cmds, n->cap_cmds * sizeof(*n->cmds));
        }
        n->cmds[n->ncmds++] = c;
    }
    for (int i = 0; i < r->nnodes; i++) {
        node_t *n = &r->nodes[i];
        if (!n->ncmds)
            continue;
        if (node_ready(r, i, errstr, errstr_size) == -1)
            goto out;
        n = &r->nodes[i];
        ff_buf_reset(&r->out);
        for (size_t k = 0; k < n->ncmds; k++) {
            size_t c = n->cmds[k];
            if (r->state[c] == CMD_SENT)
                continue;
            if (r->state[c] == CMD_ASKING)
                ff_buf_puts(&r->out, "*1\r\n$6\r\nASKING\r\n");
            resp_command(&r->out, p, c);
            r->commands++;
        }
        r->roundtrips++;
        if (!r->out.len)
            continue; /* all sent early */
        /* Written now, so that every node works while we read the first. */
        if (write_out(n, &r->out, errstr, errstr_size) == -1)
            goto out;
    }
    for (int i = 0; i < r->nnodes; i++) {
        node_t *n = &r->nodes[i];
        redisReader *reader;
        redisReplyObjectFunctions *fns;
        bool ok = true;
        if (!n->ncmds)
            continue;
        reader = n->ctx->reader;
        /* Replies built in the pipeline's arena; a redirected command's
         * earlier reply stays there until the reset. Other readers of this
         * connection (SCRIPT LOAD, CLUSTER SLOTS) keep hiredis's own. */
        fns = reader->fn;
        reader->fn = &arena_functions;
        reader->privdata = &p->replies_arena;
        for (size_t k = 0; k < n->ncmds && ok; k++) {
            size_t c = n->cmds[k];
            void *reply = NULL;
            ok = (r->state[c] != CMD_ASKING || redisGetReply(n->ctx, &reply) == REDIS_OK) &&
                 redisGetReply(n->ctx, &reply) == REDIS_OK;
            p->replies[c] = ok ? reply : NULL;
        }
        if (!ok)
            reader->reply = NULL; /* a reply cut short: its parts are in the arena */
        reader->fn = fns;
        reader->privdata = NULL;
        if (!ok) {
            snprintf(errstr, errstr_size, "redis round trip to %s failed: %s",
                     node_name(n, name, sizeof name),
                     n->ctx->errstr[0] ? n->ctx->errstr : "connection lost");
            goto out;
        }
    }
    rc = 0;
out:
    forget_early(r, NULL); /* read, or dropped below */
    if (rc == -1) {
        /* A node may hold commands we will not read the replies of: start
         * every one of this round afresh, with a fresh slot map. */
        for (int i = 0; i < r->nnodes; i++)
            if (r->nodes[i].ncmds)
                node_close(&r->nodes[i]);
        if (r->cluster)
            r->map_stale = true;
    }
    return rc;
}

static void state_room(ff_redis_t *r, size_t ncmds)
{
    if (ncmds > r->cap_state) {
        r->cap_state = ncmds * 2;
        r->target = ff_realloc(r->target, r->cap_state * sizeof(*r->target));
        r->state = ff_realloc(r->state, r->cap_state);
    }
}

/* Unless the commands sent early are p's own, drops the connection that
 * holds their replies (p was reset, or a batch given up), and p sends
 * everything again. */
static void drop_stray(ff_redis_t *r, ff_rpipe_t *p)
{
    if (r->unread && r->early == p && p->sent == r->unread)
        return;
    if (r->unread)
        node_close(&r->nodes[0]);
    forget_early(r, p);
}

size_t ff_rpipe_unsent(const ff_rpipe_t *p)
{
    return p->args.len - p->sent_bytes;
}

int ff_redis_send_early(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size)
{
    node_t *n = &r->nodes[0];
    if (r->cluster)
        return 0;
    drop_stray(r, p);
    if (p->sent == p->ncmds)
        return 0;
    /* Connecting and loading the scripts read replies: only while none of
     * ours is outstanding. */
    if (!r->unread && node_ready(r, 0, errstr, errstr_size) == -1)
        return -1;
    state_room(r, p->ncmds);
    ff_buf_reset(&r->out);
    for (size_t c = p->sent; c < p->ncmds; c++) {
        r->state[c] = CMD_SENT;
        r->target[c] = 0;
        resp_command(&r->out, p, c);
    }
    r->commands += p->ncmds - p->sent;
    if (write_out(n, &r->out, errstr, errstr_size) == -1) {
        node_close(n);
        forget_early(r, p);
        return -1;
    }
    r->early = p;
    r->unread = p->sent = p->ncmds;
    p->sent_bytes = p->args.len;
    return 0;
}

/* Executes p; fixed >= 0 sends every command to that node. */
static int exec_on(ff_redis_t *r, ff_rpipe_t *p, int fixed, char *errstr, size_t errstr_size)
{
    int64_t t0, deadline;
    int attempts = 0;
    drop_stray(r, p);
    if (p->ncmds == 0)
        return 0;
    if (r->cluster && r->map_stale && refresh_map(r, errstr, errstr_size) == -1)
        return -1;
    state_room(r, p->ncmds);
    for (size_t c = p->sent; c < p->ncmds; c++) {
        r->state[c] = CMD_PENDING;
        r->target[c] = fixed >= 0 ? fixed : route(r, p, c);
    }
    t0 = ff_mono_us();
    deadline = ff_mono_ms() + r->timeout_ms;
    for (;;) {
        const char *why = NULL;
        size_t left = 0, noscript = 0;
        bool pause = false;
        if (send_pending(r, p, errstr, errstr_size) == -1)
            return -1;
        for (size_t c = 0; c < p->ncmds; c++) {
            redisReply *reply = p->replies[c];
            int slot, to;
            if (r->state[c] == CMD_DONE)
                continue;
            r->state[c] = CMD_DONE;
            if (!reply || reply->type != REDIS_REPLY_ERROR)
                continue; /* nearly every reply: nothing to send again */
            if (reply_is(reply, "NOSCRIPT")) {
                /* Redis lost its script cache (a restart, SCRIPT FLUSH, a
                 * failover): load them again, re-send the command. */
                r->nodes[r->target[c]].scripts_loaded = false;
                r->state[c] = CMD_PENDING;
                noscript++;
            } else if (reply_is(reply, "MOVED") || reply_is(reply, "ASK")) {
                bool ask = reply_is(reply, "ASK");
                if (!r->cluster) {
                    snprintf(errstr, errstr_size,
                             "redis answered '%s': it is a Redis Cluster; set redis.cluster=true "
                             "or use a redis-cluster:// URL",
                             reply->str);
                    return -1;
                }
                if ((to = redirect_target(r, reply->str, &slot)) == -1) {
                    snprintf(errstr, errstr_size, "redis: unreadable redirection '%s'", reply->str);
                    return -1;
                }
                if (!ask) {
                    r->slots[slot] = (int16_t)to;
                    r->map_stale = true;
                }
                r->target[c] = to;
                r->state[c] = ask ? CMD_ASKING : CMD_PENDING;
                why = ask ? "ASK" : "MOVED";
            } else if (reply_is(reply, "TRYAGAIN") || reply_is(reply, "CLUSTERDOWN")) {
                /* A slot being migrated (keys split between two nodes) or
                 * a cluster not serving every slot: wait a little. */
                r->target[c] = fixed >= 0 ? fixed : route(r, p, c);
                r->state[c] = CMD_PENDING;
                why = reply->str;
                pause = true;
            }
            if (r->state[c] != CMD_DONE)
                left++;
        }
        if (!left)
            break;
        if (noscript)
            ff_warn("redis.noscript",
                    "redis forgot our scripts; reloading and re-sending %zu commands", noscript);
        r->redirects += left - noscript;
        if (++attempts >= MAX_ATTEMPTS || ff_mono_ms() >= deadline) {
            snprintf(errstr, errstr_size, "redis cluster: %zu commands still redirected after %d "
                     "attempts (%s)", left, attempts, why ? why : "NOSCRIPT");
            return -1;
        }
        if (pause)
            ff_sleep_ms(attempts < 4 ? 5 : 50);
    }
    ff_series_observe(r->latency, (double)(ff_mono_us() - t0) / 1e6);
    return 0;
}

int ff_redis_exec(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size)
{
    return exec_on(r, p, -1, errstr, errstr_size);
}

int ff_redis_connect(ff_redis_t *r, char *errstr, size_t errstr_size)
{
    if (!r->cluster)
        return node_ready(r, 0, errstr, errstr_size);
    if (r->map_stale && refresh_map(r, errstr, errstr_size) == -1)
        return -1;
    for (int s = 0; s < NSLOTS; s++) {
        int i = r->slots[s];
        if (i >= 0 && !r->nodes[i].scripts_loaded && node_ready(r, i, errstr, errstr_size) == -1)
            return -1;
    }
    return 0;
}

int ff_redis_scan(ff_redis_t *r, const char *pattern, void (*fn)(void *opaque, const char *key),
                  void *opaque, char *errstr, size_t errstr_size)
{
    ff_rpipe_t p;
    bool *seen;
    int rc = 0;
    if (r->cluster && r->map_stale && refresh_map(r, errstr, errstr_size) == -1)
        return -1;
    seen = ff_calloc((size_t)r->nnodes + 1, sizeof(bool));
    ff_rpipe_init(&p);
    for (int s = 0; s < (r->cluster ? NSLOTS : 1) && rc == 0; s++) {
        int node = r->cluster ? r->slots[s] : 0;
        char cursor[32] = "0";
        if (node < 0 || seen[node])
            continue;
        seen[node] = true;
        do {
            redisReply *reply;
            ff_rpipe_reset(&p);
            ff_rpipe_cmd(&p, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000", NULL);
            if (exec_on(r, &p, node, errstr, errstr_size) == -1) {
                rc = -1;
                break;
            }
            reply = ff_rpipe_reply(&p, 0);
            if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
                reply->element[1]->type != REDIS_REPLY_ARRAY) {
                snprintf(errstr, errstr_size, "unexpected SCAN reply%s%s",
                         reply && reply->type == REDIS_REPLY_ERROR ? ": " : "",
                         reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "");
                rc = -1;
                break;
            }
            snprintf(cursor, sizeof cursor, "%s", reply->element[0]->str);
            for (size_t i = 0; i < reply->element[1]->elements; i++)
                fn(opaque, reply->element[1]->element[i]->str);
        } while (strcmp(cursor, "0"));
    }
    ff_rpipe_term(&p);
    free(seen);
    return rc;
}

uint64_t ff_redis_roundtrips(const ff_redis_t *r)
{
    return r->roundtrips;
}

uint64_t ff_redis_commands(const ff_redis_t *r)
{
    return r->commands;
}

uint64_t ff_redis_redirects(const ff_redis_t *r)
{
    return r->redirects;
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
