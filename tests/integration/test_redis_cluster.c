/* footfall's Redis client against a real three-master Redis Cluster: routing, MOVED, ASK, TRYAGAIN, scripts, SCAN. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_redis.h"
#include "ff_testenv.h"

#define MASTERS 3

static ff_env_t env;
static ff_redis_t *client;
static ff_rpipe_t pipe_;
static redisContext *node[MASTERS]; /* the test's own connections, one per master */
static char errstr[512];

static void setup(void)
{
    struct timeval tv = {2, 0};
    ff_env_start_cluster(&env, 1, MASTERS);
    for (int i = 0; i < MASTERS; i++) {
        node[i] = redisConnectWithTimeout("127.0.0.1", env.stack.cluster_ports[i], tv);
        cr_assert(node[i] && !node[i]->err);
    }
    client = ff_redis_new(env.stack.redis_url, 0, 2000, errstr, sizeof errstr);
    cr_assert_not_null(client, "%s", errstr);
    cr_assert(ff_redis_is_cluster(client), "a redis-cluster:// URL makes a cluster client");
    ff_rpipe_init(&pipe_);
}

static void teardown(void)
{
    ff_rpipe_term(&pipe_);
    ff_redis_destroy(client);
    for (int i = 0; i < MASTERS; i++)
        if (node[i])
            redisFree(node[i]);
    ff_env_stop(&env);
}

TestSuite(redis_cluster, .init = setup, .fini = teardown, .timeout = 120);

/* Which master (index) serves slot, asked of the cluster itself. */
static int owner(unsigned slot)
{
    redisReply *r = redisCommand(node[0], "CLUSTER SLOTS");
    int who = -1;
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *range = r->element[i];
        if ((long long)slot < range->element[0]->integer ||
            (long long)slot > range->element[1]->integer)
            continue;
        for (int k = 0; k < MASTERS; k++)
            if (range->element[2]->element[1]->integer == env.stack.cluster_ports[k])
                who = k;
    }
    freeReplyObject(r);
    cr_assert_geq(who, 0, "slot %u has a master", slot);
    return who;
}

/* A key named "<stem>{<tag>}" whose slot is served by master m. */
static const char *key_on(int m, const char *stem)
{
    static char key[8][64];
    static int next;
    char *k = key[next++ % 8];
    for (int i = 0;; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", i);
        snprintf(k, 64, "%s{%s}", stem, tag);
        if (owner(ff_redis_key_slot(tag, strlen(tag))) == m)
            return k;
    }
}

static void expect(redisReply *r, const char *what)
{
    cr_assert(r && r->type != REDIS_REPLY_ERROR, "%s: %s", what, r ? r->str : "no reply");
    freeReplyObject(r);
}

/* Moves slot from master a to master b, as redis-cli does it: importing,
 * migrating, the keys, then the owner everywhere. finish=false stops after
 * migrating the keys listed in only (NULL-terminated). */
static void migrate(unsigned slot, int a, int b, const char *const *only, bool finish)
{
    char ida[48], idb[48];
    snprintf(ida, sizeof ida, "%s", env.stack.cluster_ids[a]);
    snprintf(idb, sizeof idb, "%s", env.stack.cluster_ids[b]);
    if (!only || only[0]) {
        expect(redisCommand(node[b], "CLUSTER SETSLOT %u IMPORTING %s", slot, ida), "importing");
        expect(redisCommand(node[a], "CLUSTER SETSLOT %u MIGRATING %s", slot, idb), "migrating");
    }
    for (int i = 0; only && only[i]; i++)
        expect(redisCommand(node[a], "MIGRATE 127.0.0.1 %d %s 0 5000", env.stack.cluster_ports[b],
                            only[i]),
               "MIGRATE");
    if (!finish)
        return;
    for (int i = 0; i < MASTERS; i++)
        expect(redisCommand(node[i], "CLUSTER SETSLOT %u NODE %s", slot, idb), "setslot node");
}

Test(redis_cluster, commands_go_to_the_master_of_their_slot_and_replies_keep_their_order)
{
    uint64_t trips;
    for (int i = 0; i < 300; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        ff_rpipe_cmd(&pipe_, "SET", k, v, NULL);
    }
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    ff_rpipe_reset(&pipe_);
    for (int i = 299; i >= 0; i--) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        ff_rpipe_cmd(&pipe_, "GET", k, NULL);
    }
    trips = ff_redis_roundtrips(client);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_redis_roundtrips(client) - trips, MASTERS,
                 "one pipeline per master, not one round trip per command");
    for (int i = 0; i < 300; i++) {
        char v[32];
        redisReply *r = ff_rpipe_reply(&pipe_, (size_t)i);
        snprintf(v, sizeof v, "v%d", 299 - i);
        cr_assert(r && r->type == REDIS_REPLY_STRING, "reply %d", i);
        cr_assert_str_eq(r->str, v, "reply %d is its command's", i);
    }
    for (int m = 0; m < MASTERS; m++) {
        redisReply *r = redisCommand(node[m], "DBSIZE");
        cr_assert_gt(r->integer, 50, "master %d holds its share of the keys (%lld)", m,
                     r->integer);
        freeReplyObject(r);
    }
    cr_assert_eq(ff_redis_redirects(client), 0, "the slot map was right: no redirection");
}

Test(redis_cluster, a_moved_slot_is_followed_and_the_map_read_again)
{
    const char *k = key_on(0, "moved");
    unsigned slot = ff_redis_key_slot(k, strlen(k));
    ff_rpipe_cmd(&pipe_, "SET", k, "before", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);

    const char *keys[] = {k, NULL};
    migrate(slot, 0, 2, keys, true);
    ff_rpipe_reset(&pipe_);
    ff_rpipe_cmd(&pipe_, "GET", k, NULL);
    ff_rpipe_cmd(&pipe_, "SET", k, "after", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_str_eq(ff_rpipe_reply(&pipe_, 0)->str, "before", "read where the slot went");
    cr_assert_eq(ff_redis_redirects(client), 2, "both commands were MOVED once");
    redisReply *r = redisCommand(node[2], "GET %s", k);
    cr_assert_str_eq(r->str, "after", "written on the new master");
    freeReplyObject(r);

    ff_rpipe_reset(&pipe_);
    ff_rpipe_cmd(&pipe_, "GET", k, NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_redis_redirects(client), 2, "the map was read again: no more MOVED");
}

Test(redis_cluster, during_a_migration_ask_finds_moved_keys_and_tryagain_waits)
{
    char moved[64], stays[64], fresh[64];
    const char *base = key_on(1, "a");
    const char *tag = strchr(base, '{');
    unsigned slot = ff_redis_key_slot(base, strlen(base));
    int script;
    snprintf(moved, sizeof moved, "moved%s", tag);
    snprintf(stays, sizeof stays, "stays%s", tag);
    snprintf(fresh, sizeof fresh, "fresh%s", tag);
    ff_rpipe_cmd(&pipe_, "SET", moved, "m", NULL);
    ff_rpipe_cmd(&pipe_, "SET", stays, "s", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);

    /* The slot is half way from master 1 to master 0. */
    const char *keys[] = {moved, NULL};
    migrate(slot, 1, 0, keys, false);
    ff_rpipe_reset(&pipe_);
    ff_rpipe_cmd(&pipe_, "GET", moved, NULL);
    ff_rpipe_cmd(&pipe_, "GET", stays, NULL);
    ff_rpipe_cmd(&pipe_, "SET", fresh, "f", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_str_eq(ff_rpipe_reply(&pipe_, 0)->str, "m", "ASK: the migrated key, on its new master");
    cr_assert_str_eq(ff_rpipe_reply(&pipe_, 1)->str, "s", "the key not migrated yet, where it was");
    cr_assert_eq(ff_rpipe_reply(&pipe_, 2)->type, REDIS_REPLY_STATUS);
    cr_assert_eq(ff_redis_redirects(client), 2, "two ASKs (the new key goes to the new master)");
    redisReply *r = redisCommand(node[0], "ASKING");
    freeReplyObject(r);
    r = redisCommand(node[0], "GET %s", fresh);
    cr_assert_str_eq(r->str, "f", "a new key in a migrating slot is made on the new master");
    freeReplyObject(r);

    /* A script over keys split between the two masters cannot run until
     * the slot has moved: TRYAGAIN, retried for the timeout, then an error
     * (the processor's outage path), never a half-done write. */
    ff_redis_t *impatient = ff_redis_new(env.stack.redis_url, 0, 300, errstr, sizeof errstr);
    script = ff_redis_script(impatient, "both", "return redis.call('MGET', KEYS[1], KEYS[2])");
    ff_rpipe_reset(&pipe_);
    ff_rpipe_begin_script(&pipe_, impatient, script);
    ff_rpipe_arg_str(&pipe_, "2");
    ff_rpipe_arg_str(&pipe_, moved);
    ff_rpipe_arg_str(&pipe_, stays);
    ff_rpipe_end(&pipe_);
    cr_assert_eq(ff_redis_exec(impatient, &pipe_, errstr, sizeof errstr), -1);
    cr_assert(strstr(errstr, "TRYAGAIN"), "%s", errstr);

    const char *rest[] = {stays, NULL};
    migrate(slot, 1, 0, rest, true);
    cr_assert_eq(ff_redis_exec(impatient, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    r = ff_rpipe_reply(&pipe_, 0);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cr_assert_str_eq(r->element[0]->str, "m");
    cr_assert_str_eq(r->element[1]->str, "s");
    ff_redis_destroy(impatient);
}

Test(redis_cluster, scripts_run_on_every_master_and_come_back_after_a_flush)
{
    int script = ff_redis_script(client, "incr", "return redis.call('INCR', KEYS[1])");
    const char *keys[MASTERS];
    for (int m = 0; m < MASTERS; m++)
        keys[m] = key_on(m, "n");
    for (int round = 1; round <= 2; round++) {
        ff_rpipe_reset(&pipe_);
        for (int m = 0; m < MASTERS; m++) {
            ff_rpipe_begin_script(&pipe_, client, script);
            ff_rpipe_arg_str(&pipe_, "1");
            ff_rpipe_arg_str(&pipe_, keys[m]);
            ff_rpipe_end(&pipe_);
        }
        cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
        for (int m = 0; m < MASTERS; m++) {
            redisReply *r = ff_rpipe_reply(&pipe_, (size_t)m);
            cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "master %d: %s", m,
                         r->type == REDIS_REPLY_ERROR ? r->str : "");
            cr_assert_eq(r->integer, round);
        }
        /* Master 1 forgets every script: the next round reloads it there. */
        redisReply *r = redisCommand(node[1], "SCRIPT FLUSH");
        freeReplyObject(r);
    }
}

/* A hash as "field=value ..." (insertion order), read from master m. */
static const char *hash_on(int m, const char *key)
{
    static char out[256];
    redisReply *r = redisCommand(node[m], "HGETALL %s", key);
    size_t len = 0;
    cr_assert(r && r->type == REDIS_REPLY_ARRAY, "HGETALL %s", key);
    out[0] = '\0';
    for (size_t i = 0; i + 1 < r->elements && len < sizeof out; i += 2)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", i ? " " : "",
                                r->element[i]->str, r->element[i + 1]->str);
    freeReplyObject(r);
    return out;
}

/* In a slot being migrated, the old master runs a script only while every
 * key it names is there, and fails a command on a key the script itself
 * emptied, after keeping what the script wrote before. ff_apply.lua must
 * apply a batch whole there: ops that empty a key and write it again,
 * stale outcomes pruned, a counter reaching zero. */
Test(redis_cluster, the_apply_script_applies_a_whole_batch_in_a_slot_being_migrated)
{
    static const char *const stems[] = {"applied", "outcomes", "count", "scores", "cart", "zero"};
    static const char *const argv[] = {
        "1", "t:0", "4", "7", "3",          /* source t:0: applied 4 -> 7, floor 3 */
        "0",                                /* no guard */
        "9",                                /* ops: */
        "HINCRBYZ", "3", "2", "n", "-1",    /*   count emptied... */
        "HINCRBY", "3", "2", "n", "4",      /*   ...and written again */
        "HPRUNE", "4", "1", "10",           /*   scores emptied... */
        "HSETCAP", "4", "3", "c", "1", "2", /*   ...and one field set */
        "HDEL", "5", "1", "sku",            /*   cart emptied... */
        "HSET", "5", "2", "sku", "y",       /*   ...and set again */
        "PEXPIRE", "5", "1", "60000",
        "HINCRBYZ", "6", "2", "z", "-1",    /*   zero: emptied for good */
        "HDEL", "6", "1", "z",              /*   a field deleted already */
        "1", "t:0:5", "blob",               /* the batch's outcome */
        "60000",
    };
    const char *base = key_on(1, "applied");
    const char *tag = strchr(base, '{');
    unsigned slot = ff_redis_key_slot(base, strlen(base));
    char key[FF_ARRAY_LEN(stems)][64];
    const char *keys[FF_ARRAY_LEN(stems)];
    redisReply *r;

    for (size_t i = 0; i < FF_ARRAY_LEN(stems); i++) {
        snprintf(key[i], sizeof key[i], "%s%s", stems[i], tag);
        keys[i] = key[i];
    }
    ff_rpipe_cmd(&pipe_, "HSET", key[0], "t:0", "4", NULL);
    ff_rpipe_cmd(&pipe_, "HSET", key[1], "t:0:1", "old", NULL);
    ff_rpipe_cmd(&pipe_, "HSET", key[2], "n", "1", NULL);
    ff_rpipe_cmd(&pipe_, "HSET", key[3], "a", "5", "b", "9", NULL);
    ff_rpipe_cmd(&pipe_, "HSET", key[4], "sku", "x", NULL);
    ff_rpipe_cmd(&pipe_, "HSET", key[5], "z", "1", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);

    migrate(slot, 1, 0, NULL, false); /* migrating, every key still on master 1 */
    r = ff_apply_script(client, &pipe_, keys, FF_ARRAY_LEN(keys), argv, FF_ARRAY_LEN(argv));
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->integer == 1,
              "applied: %s", r->type == REDIS_REPLY_ERROR ? r->str : "(not {1})");

    /* The migration called off: read master 1 as it is. */
    for (int m = 0; m < 2; m++)
        expect(redisCommand(node[m], "CLUSTER SETSLOT %u STABLE", slot), "stable");
    cr_assert_str_eq(hash_on(1, key[0]), "t:0=7");
    cr_assert_str_eq(hash_on(1, key[1]), "t:0:5=blob", "stale outcome pruned, new one stored");
    cr_assert_str_eq(hash_on(1, key[2]), "n=4");
    cr_assert_str_eq(hash_on(1, key[3]), "c=1");
    cr_assert_str_eq(hash_on(1, key[4]), "sku=y");
    cr_assert_str_eq(hash_on(1, key[5]), "");
    r = redisCommand(node[1], "PTTL %s", key[4]);
    cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 60000);
    freeReplyObject(r);

    /* An op the script does not know (DEL would empty a key) is refused. */
    static const char *const unknown[] = {"0", "0", "1", "DEL", "3", "0", "0", "60000"};
    r = ff_apply_script(client, &pipe_, keys, FF_ARRAY_LEN(keys), unknown, FF_ARRAY_LEN(unknown));
    cr_assert(r->type == REDIS_REPLY_ERROR && strstr(r->str, "unknown op DEL"), "%s",
              r->type == REDIS_REPLY_ERROR ? r->str : "(not an error)");
}

static void count_key(void *opaque, const char *key)
{
    (void)key;
    (*(int *)opaque)++;
}

Test(redis_cluster, scan_visits_every_master)
{
    int found = 0;
    for (int i = 0; i < 200; i++) {
        char k[32];
        snprintf(k, sizeof k, "scan:{%d}", i);
        ff_rpipe_cmd(&pipe_, "SET", k, "x", NULL);
    }
    ff_rpipe_cmd(&pipe_, "SET", "other", "x", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_redis_scan(client, "scan:*", count_key, &found, errstr, sizeof errstr), 0,
                 "%s", errstr);
    cr_assert_eq(found, 200);
}

Test(redis_cluster, a_client_not_told_of_the_cluster_says_what_to_set)
{
    char url[64];
    const char *k = key_on(2, "x");
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", env.stack.cluster_ports[0]);
    ff_redis_t *plain = ff_redis_new(url, 0, 2000, errstr, sizeof errstr);
    ff_rpipe_cmd(&pipe_, "GET", k, NULL);
    cr_assert_eq(ff_redis_exec(plain, &pipe_, errstr, sizeof errstr), -1);
    cr_assert(strstr(errstr, "redis.cluster=true"), "%s", errstr);
    ff_redis_destroy(plain);

    /* redis.cluster=true with a redis:// URL is a cluster client. */
    ff_redis_t *told = ff_redis_new(url, 1, 2000, errstr, sizeof errstr);
    cr_assert_eq(ff_redis_exec(told, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_rpipe_reply(&pipe_, 0)->type, REDIS_REPLY_NIL);
    ff_redis_destroy(told);
}

Test(redis_cluster, a_lost_master_fails_its_round_trip_and_the_others_go_on)
{
    const char *on0 = key_on(0, "alive"), *on2 = key_on(2, "gone");
    char port[16];
    ff_rpipe_cmd(&pipe_, "SET", on0, "1", NULL);
    ff_rpipe_cmd(&pipe_, "SET", on2, "2", NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);

    cr_assert_eq(ff_reap(env.stack.cluster_pids[2], SIGKILL, 5000), 128 + SIGKILL);
    env.stack.cluster_pids[2] = 0;
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), -1);
    snprintf(port, sizeof port, "%d", env.stack.cluster_ports[2]);
    cr_assert(strstr(errstr, port), "the error names the master: %s", errstr);

    ff_rpipe_reset(&pipe_);
    ff_rpipe_cmd(&pipe_, "GET", on0, NULL);
    cr_assert_eq(ff_redis_exec(client, &pipe_, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_str_eq(ff_rpipe_reply(&pipe_, 0)->str, "1");
}
