/* ff_redis: a hiredis client for batches: URLs, pipelines, scripts by SHA, reconnects, Redis Cluster. */
#ifndef FF_REDIS_H
#define FF_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_util.h"

/* ---- URLs ----------------------------------------------------------------- */

#define FF_REDIS_MAX_SEEDS 16

typedef struct ff_redis_url_s {
    char host[256]; /* the server, or a cluster's first seed node */
    int port;
    char path[256]; /* unix socket, or "" */
    char user[128];
    char pass[256];
    int db;
    int cluster; /* redis-cluster://: host and port are seeds[0] */
    int nseeds;
    struct {
        char host[256];
        int port;
    } seeds[FF_REDIS_MAX_SEEDS];
} ff_redis_url_t;

/* Parses redis://[user:pass@]host[:port][/db], unix:///path[?db=N] or
 * redis-cluster://[user:pass@]host[:port][,host[:port]…][/0] (seed nodes of
 * a Redis Cluster, which has only db 0). 0, or -1 with errstr. */
int ff_redis_url_parse(const char *url, ff_redis_url_t *out, char *errstr, size_t errstr_size);

/* url with its password replaced by "***", for logs and errors; returns buf. */
const char *ff_redis_url_redact(const char *url, char *buf, size_t size);

/* ---- pipelines ------------------------------------------------------------ */

/* A batch of commands sent in one round trip. Build a command with
 * ff_rpipe_begin, its arguments, then ff_rpipe_end, which returns the
 * command's index; after ff_redis_exec, ff_rpipe_reply(index) is its reply
 * (valid until the next reset). */
typedef struct ff_rcmd_s {
    size_t first;       /* index of its first indexed argument */
    size_t nidx;        /* how many of its arguments are indexed (all but raw ones) */
    size_t argc;        /* how many it has in all */
    size_t from, to;    /* its bytes in args */
} ff_rcmd_t;

typedef struct ff_rpipe_s {
    ff_buf_t args;   /* all arguments, each as the protocol sends it: "$<n>\r\n<bytes>\r\n" */
    size_t *arg_off; /* per indexed argument: offset of its bytes in args */
    size_t *arg_len;
    size_t nargs, cap_args;
    ff_rcmd_t *cmds;
    redisReply **replies; /* built in replies_arena, not one malloc per element */
    ff_arena_t replies_arena;
    size_t ncmds, cap_cmds;
    ff_rcmd_t open; /* the command being built */
    size_t sent;       /* commands [0, sent) went out early (ff_redis_send_early), */
    size_t sent_bytes; /* args.len then */
} ff_rpipe_t;

void ff_rpipe_init(ff_rpipe_t *p);
void ff_rpipe_term(ff_rpipe_t *p);
/* Forgets all commands and frees their replies. */
void ff_rpipe_reset(ff_rpipe_t *p);
void ff_rpipe_begin(ff_rpipe_t *p);
void ff_rpipe_arg(ff_rpipe_t *p, const void *s, size_t n);
void ff_rpipe_arg_str(ff_rpipe_t *p, const char *s);
/* Appends again the n arguments from index first (of any command of p, as
 * counted by ff_rpipe_nargs, with no raw ones among them): one copy,
 * nothing formatted again. */
void ff_rpipe_arg_copy(ff_rpipe_t *p, size_t first, size_t n);
/* How many arguments p holds: the index the next one gets. */
size_t ff_rpipe_nargs(const ff_rpipe_t *p);
/* Appends nargs arguments already in the protocol (ff_resp_bulk): after
 * the arguments a command is routed by, as they are not indexed. */
void ff_rpipe_raw(ff_rpipe_t *p, const void *resp, size_t len, size_t nargs);
/* Appends to p every command of from, as it is. */
void ff_rpipe_append(ff_rpipe_t *p, const ff_rpipe_t *from);
/* The bytes of one argument of n bytes in the protocol: "$<n>\r\n<s>\r\n". */
size_t ff_resp_bulk_len(size_t n);
/* Writes them at w (ff_resp_bulk_len(n) bytes); returns how many. */
size_t ff_resp_bulk(char *w, const void *s, size_t n);
void ff_rpipe_arg_i64(ff_rpipe_t *p, int64_t v);
void ff_rpipe_argf(ff_rpipe_t *p, const char *fmt, ...) FF_PRINTF(2, 3);
size_t ff_rpipe_end(ff_rpipe_t *p);
/* One whole command from a NULL-terminated list of strings. */
size_t ff_rpipe_cmd(ff_rpipe_t *p, const char *arg0, ...);
size_t ff_rpipe_count(const ff_rpipe_t *p);
redisReply *ff_rpipe_reply(const ff_rpipe_t *p, size_t i);

/* ---- the client ----------------------------------------------------------- */

typedef struct ff_redis_s ff_redis_t;

/* A client for url (see ff_redis_url_parse) with a per-round-trip timeout.
 * It connects lazily, on the first exec. With cluster set (or a
 * redis-cluster:// URL) the URL's host is a seed node of a Redis Cluster:
 * commands go to the master that serves their key's slot (see
 * ff_redis_exec). NULL with errstr on a bad URL. */
ff_redis_t *ff_redis_new(const char *url, int cluster, int64_t timeout_ms, char *errstr,
                         size_t errstr_size);
struct ff_conf_s;
/* ff_redis_new from the settings redis.url, redis.cluster, redis.timeout;
 * errstr names the setting that is wrong. */
ff_redis_t *ff_redis_from_conf(const struct ff_conf_s *conf, char *errstr, size_t errstr_size);
void ff_redis_destroy(ff_redis_t *r);
int ff_redis_is_cluster(const ff_redis_t *r);

/* Registers a Lua script; it is loaded (SCRIPT LOAD) on every (re)connect
 * and called by its SHA. Returns its handle: the same one for the same
 * name and text registered again. */
int ff_redis_script(ff_redis_t *r, const char *name, const char *lua);
/* Starts an EVALSHA command of script `handle` in p; add numkeys, keys and
 * args, then ff_rpipe_end. */
void ff_rpipe_begin_script(ff_rpipe_t *p, const ff_redis_t *r, int handle);

/* Connects (if needed) and loads the scripts; in a cluster, reads the slot
 * map and connects to every master. 0, or -1 with errstr. */
int ff_redis_connect(ff_redis_t *r, char *errstr, size_t errstr_size);
/* Sends every command of p and reads every reply: one round trip (in a
 * cluster, one pipeline per master that serves some of the keys, all sent
 * before any is read). A command's key is its first argument, or for
 * EVALSHA/EVAL/FCALL its first key; a cluster sends keyless commands to
 * any master. Replies that are Redis errors are left for the caller, except
 * NOSCRIPT, which reloads the scripts and re-sends the affected commands,
 * and a cluster's redirections: MOVED (re-sent where it points, and the
 * slot map is read again before the next call), ASK (re-sent there after
 * ASKING) and TRYAGAIN or CLUSTERDOWN (re-sent after a pause, for at most
 * the timeout). Replies come back in the order the commands were added.
 * Returns 0, or -1 with errstr when a connection failed or timed out (the
 * connection is dropped and re-established by the next call). */
int ff_redis_exec(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size);
/* Sends p's commands not sent yet, without reading a reply, so that Redis
 * works on them while the caller adds more; the next ff_redis_exec(p)
 * sends the rest and reads every reply. Standalone Redis only (in a cluster
 * it does nothing: a redirection could not be followed mid-pipeline). If p
 * is reset or another pipeline is executed instead, the connection, which
 * holds replies nobody will read, is dropped first. 0, or -1 with errstr
 * (the connection is dropped). */
int ff_redis_send_early(ff_redis_t *r, ff_rpipe_t *p, char *errstr, size_t errstr_size);
/* Bytes of arguments of p not sent yet. */
size_t ff_rpipe_unsent(const ff_rpipe_t *p);

/* Drops every connection (tests, and after protocol errors). */
void ff_redis_disconnect(ff_redis_t *r);
int ff_redis_connected(const ff_redis_t *r);

/* Calls fn for every key matching the glob pattern (SCAN MATCH; on every
 * master of a cluster). 0, or -1 with errstr. */
int ff_redis_scan(ff_redis_t *r, const char *pattern, void (*fn)(void *opaque, const char *key),
                  void *opaque, char *errstr, size_t errstr_size);

struct ff_series_s;
/* Observes every round trip's duration (seconds) in a histogram (may be NULL). */
void ff_redis_set_latency(ff_redis_t *r, struct ff_series_s *histogram);

/* Round trips (one per pipeline sent to one server), commands sent, and
 * cluster redirections followed (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) since
 * the client was made. */
uint64_t ff_redis_roundtrips(const ff_redis_t *r);
uint64_t ff_redis_commands(const ff_redis_t *r);
uint64_t ff_redis_redirects(const ff_redis_t *r);

/* The Redis Cluster hash slot of a key (CRC16 of its {hash tag}). */
unsigned ff_redis_key_slot(const char *key, size_t len);

#endif
