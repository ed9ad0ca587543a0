/* Tests of small pure modules: ff_map, ff_sha1, Redis URLs and slots, engine outputs, ids. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_engine.h"
#include "ff_http.h"
#include "ff_map.h"
#include "ff_redis.h"
#include "ff_sha1.h"
#include "ff_testenv.h"
#include "ff_util.h"
#include "ff_validate.h"

/* ---- ff_map ------------------------------------------------------------------- */

/* Values are the addresses of these, so a wrong slot shows as a wrong value. */
static int values[4096];

/* The map under test for the many-key cases: customer-<i> -> &values[i]. */
static const char *key_of(int i, char *buf, size_t size)
{
    snprintf(buf, size, "customer-%d", i);
    return buf;
}

static void *put_nth(ff_map_t *m, int i)
{
    char k[32];
    key_of(i, k, sizeof k);
    return ff_map_put(m, k, strlen(k), &values[i]);
}

static void *get_nth(const ff_map_t *m, int i)
{
    char k[32];
    key_of(i, k, sizeof k);
    return ff_map_get(m, k, strlen(k));
}

static void *del_nth(ff_map_t *m, int i)
{
    char k[32];
    key_of(i, k, sizeof k);
    return ff_map_del(m, k, strlen(k));
}

Test(ff_map, get_and_del_on_an_empty_map_find_nothing)
{
    ff_map_t m;
    ff_map_init(&m);
    cr_assert_null(ff_map_get(&m, "x", 1));
    cr_assert_null(ff_map_del(&m, "x", 1));
    cr_assert_eq(m.count, 0);
    ff_map_term(&m);
}

Test(ff_map, put_get_replace_and_del)
{
    ff_map_t m;
    ff_map_init(&m);
    cr_assert_null(ff_map_put(&m, "a", 1, &values[1]), "a new key has no previous value");
    cr_assert_null(ff_map_put(&m, "b", 1, &values[2]));
    cr_assert_eq(m.count, 2);
    cr_assert_eq(ff_map_get(&m, "a", 1), &values[1]);
    cr_assert_eq(ff_map_get(&m, "b", 1), &values[2]);
    cr_assert_null(ff_map_get(&m, "c", 1));

    cr_assert_eq(ff_map_put(&m, "a", 1, &values[3]), &values[1], "replace returns the old value");
    cr_assert_eq(m.count, 2, "replacing does not add an entry");
    cr_assert_eq(ff_map_get(&m, "a", 1), &values[3]);

    cr_assert_eq(ff_map_del(&m, "a", 1), &values[3], "del returns the value");
    cr_assert_null(ff_map_get(&m, "a", 1));
    cr_assert_null(ff_map_del(&m, "a", 1), "a second del finds nothing");
    cr_assert_eq(m.count, 1);
    cr_assert_eq(ff_map_get(&m, "b", 1), &values[2]);
    ff_map_term(&m);
    cr_assert_null(m.slots);
    cr_assert_eq(m.count, 0);
}

Test(ff_map, keys_are_byte_strings_of_klen)
{
    ff_map_t m;
    const char buf[] = "store-1:shelf-2";
    ff_map_init(&m);
    ff_map_put(&m, buf, 7, &values[1]);    /* "store-1" */
    ff_map_put(&m, "a\0b", 3, &values[2]); /* embedded NUL */
    cr_assert_eq(ff_map_get(&m, "store-1", 7), &values[1], "the key is the first klen bytes");
    cr_assert_null(ff_map_get(&m, buf, sizeof buf - 1));
    cr_assert_null(ff_map_get(&m, "store-", 6));
    cr_assert_eq(ff_map_get(&m, "a\0b", 3), &values[2]);
    cr_assert_null(ff_map_get(&m, "a", 1));
    cr_assert_null(ff_map_get(&m, "a\0c", 3));
    ff_map_term(&m);
}

Test(ff_map, holds_many_keys_across_growth)
{
    ff_map_t m;
    ff_map_init(&m);
    for (int i = 0; i < 3000; i++)
        cr_assert_null(put_nth(&m, i), "customer-%d is new", i);
    cr_assert_eq(m.count, 3000);
    cr_assert_leq(m.count * 4, m.cap * 3, "load factor stays at most 3/4");
    for (int i = 0; i < 3000; i++)
        cr_assert_eq(get_nth(&m, i), &values[i], "customer-%d", i);
    cr_assert_null(get_nth(&m, 3000));
    ff_map_term(&m);
}

Test(ff_map, backward_shift_deletion_keeps_every_other_key_reachable)
{
    ff_map_t m;
    ff_map_init(&m);
    for (int i = 0; i < 3000; i++)
        put_nth(&m, i);
    /* Delete in an order unrelated to insertion, so holes open in the
     * middle of probe runs. */
    for (int i = 0; i < 3000; i += 3)
        cr_assert_eq(del_nth(&m, i), &values[i], "del customer-%d", i);
    for (int i = 2999; i >= 0; i -= 3)
        cr_assert_eq(del_nth(&m, i), &values[i], "del customer-%d", i);
    cr_assert_eq(m.count, 1000);
    for (int i = 0; i < 3000; i++) {
        void *want = i % 3 == 1 ? &values[i] : NULL;
        cr_assert_eq(get_nth(&m, i), want, "customer-%d should be %s", i,
                     want ? "present" : "gone");
    }
    /* Every key is reachable from its home slot without crossing a hole. */
    size_t occupied = 0;
    for (size_t s = 0; s < m.cap; s++) {
        if (!m.slots[s].key)
            continue;
        occupied++;
        for (size_t j = (size_t)m.slots[s].hash & (m.cap - 1); j != s; j = (j + 1) & (m.cap - 1))
            cr_assert_not_null(m.slots[j].key, "a hole between %s's home and its slot",
                               m.slots[s].key);
    }
    cr_assert_eq(occupied, 1000);
    for (int i = 1; i < 3000; i += 3)
        cr_assert_eq(del_nth(&m, i), &values[i], "del customer-%d", i);
    cr_assert_eq(m.count, 0);
    for (size_t s = 0; s < m.cap; s++)
        cr_assert_null(m.slots[s].key, "slot %zu still holds a key", s);
    ff_map_term(&m);
}

/* Finds n keys "w<i>" whose home slot in a table of cap slots is `home`. */
static void keys_homed_at(size_t home, size_t cap, int n, char keys[][16])
{
    int found = 0;
    for (int i = 0; found < n; i++) {
        snprintf(keys[found], 16, "w%d", i);
        if ((ff_hash64(keys[found], strlen(keys[found]), 0) & (cap - 1)) == home)
            found++;
    }
}

Test(ff_map, backward_shift_deletion_wraps_around_the_end_of_the_table)
{
    ff_map_t m;
    char last[3][16], first[2][16];
    ff_map_init(&m);
    ff_map_put(&m, "seed", 4, &values[0]);
    cr_assert_eq(m.cap, 16, "a new map starts with 16 slots");
    ff_map_del(&m, "seed", 4);
    keys_homed_at(15, 16, 3, last);
    keys_homed_at(0, 16, 2, first);
    /* last[0] sits in slot 15; last[1], last[2] wrap to 0 and 1; first[*]
     * are pushed to 2 and 3. */
    for (int i = 0; i < 3; i++)
        ff_map_put(&m, last[i], strlen(last[i]), &values[10 + i]);
    for (int i = 0; i < 2; i++)
        ff_map_put(&m, first[i], strlen(first[i]), &values[20 + i]);
    cr_assert_eq(m.cap, 16, "five keys fit without growing");
    cr_assert_str_eq(m.slots[15].key, last[0]);
    cr_assert_str_eq(m.slots[3].key, first[1]);

    cr_assert_eq(ff_map_del(&m, last[0], strlen(last[0])), &values[10]);
    cr_assert_str_eq(m.slots[15].key, last[1], "the run shifts back across the wrap");
    for (int i = 1; i < 3; i++)
        cr_assert_eq(ff_map_get(&m, last[i], strlen(last[i])), &values[10 + i], "%s", last[i]);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(ff_map_get(&m, first[i], strlen(first[i])), &values[20 + i], "%s",
                     first[i]);
    cr_assert_eq(ff_map_del(&m, first[0], strlen(first[0])), &values[20]);
    cr_assert_eq(ff_map_get(&m, first[1], strlen(first[1])), &values[21]);
    cr_assert_eq(m.count, 3);
    ff_map_term(&m);
}

static void count_entry(const char *key, void *value, void *opaque)
{
    int *seen = opaque;
    int i = (int)((int *)value - values);
    cr_assert_str_eq(key, i == 1 ? "one" : i == 2 ? "two" : "three");
    seen[i]++;
}

Test(ff_map, each_visits_every_entry_once_and_clear_empties)
{
    ff_map_t m;
    int seen[4] = {0};
    ff_map_init(&m);
    ff_map_put(&m, "one", 3, &values[1]);
    ff_map_put(&m, "two", 3, &values[2]);
    ff_map_put(&m, "three", 5, &values[3]);
    ff_map_del(&m, "two", 3);
    ff_map_put(&m, "two", 3, &values[2]);
    ff_map_each(&m, count_entry, seen);
    cr_assert_eq(seen[1], 1);
    cr_assert_eq(seen[2], 1);
    cr_assert_eq(seen[3], 1);
    size_t cap = m.cap;
    ff_map_clear(&m);
    cr_assert_eq(m.count, 0);
    cr_assert_eq(m.cap, cap, "clear keeps the table");
    cr_assert_null(ff_map_get(&m, "one", 3));
    cr_assert_null(ff_map_put(&m, "one", 3, &values[1]), "the map is usable after clear");
    cr_assert_eq(ff_map_get(&m, "one", 3), &values[1]);
    ff_map_term(&m);
}

/* ---- ff_sha1 -------------------------------------------------------------------- */

static void assert_sha1(const void *data, size_t len, const char *want)
{
    char hex[41];
    memset(hex, 'x', sizeof hex);
    ff_sha1_hex(data, len, hex);
    cr_assert_str_eq(hex, want, "SHA-1 of %zu bytes", len);
}

Test(ff_sha1, matches_the_fips_180_vectors)
{
    assert_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    assert_sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                112, "a49b2446a02c645bf419f995b67091253a04a259");
}

Test(ff_sha1, pads_correctly_around_the_block_boundary)
{
    char a[65];
    memset(a, 'a', sizeof a);
    assert_sha1(a, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    assert_sha1(a, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    assert_sha1(a, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    assert_sha1(a, 65, "11655326c708d70319be2610e8a57d9a5b959d3b");
}

Test(ff_sha1, hashes_a_million_a)
{
    size_t n = 1000000;
    char *a = malloc(n);
    cr_assert_not_null(a);
    memset(a, 'a', n);
    assert_sha1(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
}

/* ---- Redis URLs and slots -------------------------------------------------------- */

static ff_redis_url_t parse_ok(const char *url)
{
    ff_redis_url_t u;
    char err[256] = "";
    cr_assert_eq(ff_redis_url_parse(url, &u, err, sizeof err), 0, "%s: %s", url, err);
    return u;
}

Test(ff_redis_url_parse, reads_host_port_and_db)
{
    ff_redis_url_t u = parse_ok("redis://cache.internal:6380/5");
    cr_assert_str_eq(u.host, "cache.internal");
    cr_assert_eq(u.port, 6380);
    cr_assert_eq(u.db, 5);
    cr_assert_str_eq(u.path, "");
    cr_assert_str_eq(u.user, "");
    cr_assert_str_eq(u.pass, "");
}

Test(ff_redis_url_parse, defaults_port_6379_and_db_0)
{
    ff_redis_url_t u = parse_ok("redis://localhost");
    cr_assert_str_eq(u.host, "localhost");
    cr_assert_eq(u.port, 6379);
    cr_assert_eq(u.db, 0);
    u = parse_ok("redis://localhost/");
    cr_assert_eq(u.db, 0, "a trailing slash means db 0");
    u = parse_ok("redis://10.0.0.1/7");
    cr_assert_str_eq(u.host, "10.0.0.1");
    cr_assert_eq(u.port, 6379);
    cr_assert_eq(u.db, 7);
}

Test(ff_redis_url_parse, reads_a_password_alone)
{
    ff_redis_url_t u = parse_ok("redis://:s3cret@h:1/2");
    cr_assert_str_eq(u.user, "");
    cr_assert_str_eq(u.pass, "s3cret");
    cr_assert_str_eq(u.host, "h");
    cr_assert_eq(u.port, 1);
    cr_assert_eq(u.db, 2);
}

Test(ff_redis_url_parse, reads_user_and_password)
{
    ff_redis_url_t u = parse_ok("redis://user:pass@h");
    cr_assert_str_eq(u.user, "user");
    cr_assert_str_eq(u.pass, "pass");
    cr_assert_str_eq(u.host, "h");
    cr_assert_eq(u.port, 6379);
    cr_assert_eq(u.db, 0);
}

Test(ff_redis_url_parse, reads_a_unix_socket_with_and_without_db)
{
    ff_redis_url_t u = parse_ok("unix:///tmp/x.sock?db=3");
    cr_assert_str_eq(u.path, "/tmp/x.sock");
    cr_assert_eq(u.db, 3);
    cr_assert_str_eq(u.host, "");
    u = parse_ok("unix:///var/run/redis.sock");
    cr_assert_str_eq(u.path, "/var/run/redis.sock");
    cr_assert_eq(u.db, 0);
}

Test(ff_redis_url_parse, rejects_what_it_cannot_connect_to)
{
    const char *bad[] = {
        "http://x",         "redis:/h",        "redis://",         "redis:///0",
        "redis://:6379",    "redis://h:",      "redis://h:0",      "redis://h:99999",
        "redis://h:port",   "redis://h:-1",    "redis://h/db",     "redis://h/-1",
        "redis://h/70000",  "redis://u:p@",    "unix://tmp/x",     "unix://",
        "unix:///x?db=",    "unix:///x?db=-1", "unix:///x?db=a",   "unix:///x?foo=1",
        "",
    };
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        ff_redis_url_t u;
        char err[256] = "";
        cr_assert_eq(ff_redis_url_parse(bad[i], &u, err, sizeof err), -1, "'%s' should be rejected",
                     bad[i]);
        cr_assert_not_null(strstr(err, "expected redis://"), "the error says what would do: %s",
                           err);
        /* The client names the URL (the settings name the key and value). */
        cr_assert_null(ff_redis_new(bad[i], 0, 1000, err, sizeof err));
        char safe[256];
        cr_assert_not_null(strstr(err, ff_redis_url_redact(bad[i], safe, sizeof safe)),
                           "the error names the URL (without a password): %s", err);
    }
}

Test(ff_redis_url_parse, redacts_passwords_for_logs)
{
    char buf[256];
    cr_assert_str_eq(ff_redis_url_redact("redis://u:s3cret@h:1/2", buf, sizeof buf),
                     "redis://u:***@h:1/2");
    cr_assert_str_eq(ff_redis_url_redact("redis://s3cret@h", buf, sizeof buf), "redis://***@h");
    cr_assert_str_eq(ff_redis_url_redact("redis-cluster://:pw@a:1,b:2", buf, sizeof buf),
                     "redis-cluster://:***@a:1,b:2");
    cr_assert_str_eq(ff_redis_url_redact("redis://h:1/0", buf, sizeof buf), "redis://h:1/0");
    cr_assert_str_eq(ff_redis_url_redact("unix:///tmp/r.sock", buf, sizeof buf),
                     "unix:///tmp/r.sock");
    char err[256];
    cr_assert_null(ff_redis_new("redis://u:s3cret@h:1/0/x", 0, 1000, err, sizeof err));
    cr_assert_null(strstr(err, "s3cret"), "no password in errors: %s", err);
}

Test(ff_redis_url_parse, reads_cluster_seed_nodes)
{
    ff_redis_url_t u = parse_ok("redis-cluster://user:pw@10.0.0.1:7000,10.0.0.2,node3:7002");
    cr_assert_eq(u.cluster, 1);
    cr_assert_eq(u.nseeds, 3);
    cr_assert_str_eq(u.seeds[0].host, "10.0.0.1");
    cr_assert_eq(u.seeds[0].port, 7000);
    cr_assert_str_eq(u.seeds[1].host, "10.0.0.2");
    cr_assert_eq(u.seeds[1].port, 6379, "the default port");
    cr_assert_str_eq(u.seeds[2].host, "node3");
    cr_assert_eq(u.seeds[2].port, 7002);
    cr_assert_str_eq(u.host, "10.0.0.1", "host and port are the first seed");
    cr_assert_eq(u.port, 7000);
    cr_assert_str_eq(u.user, "user");
    cr_assert_str_eq(u.pass, "pw");
    cr_assert_eq(u.db, 0);
    u = parse_ok("redis-cluster://h:1/0");
    cr_assert_eq(u.nseeds, 1);
    u = parse_ok("redis://h:1");
    cr_assert_eq(u.cluster, 0);
    cr_assert_eq(u.nseeds, 1);
}

Test(ff_redis_url_parse, rejects_bad_cluster_urls)
{
    const char *bad[] = {"redis-cluster://",      "redis-cluster://h:1,",  "redis-cluster://,h:1",
                         "redis-cluster://h:1,,h", "redis-cluster://h:x,h", "redis://h:1,h:2",
                         "redis-cluster://h:1/3"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        ff_redis_url_t u;
        char err[256] = "";
        cr_assert_eq(ff_redis_url_parse(bad[i], &u, err, sizeof err), -1, "'%s' should be rejected",
                     bad[i]);
    }
    char err[256] = "";
    ff_redis_url_t u;
    ff_redis_url_parse("redis-cluster://h:1/3", &u, err, sizeof err);
    cr_assert_str_eq(err, "a Redis Cluster has only db 0");
    /* redis.cluster=true with a URL a cluster cannot have. */
    cr_assert_null(ff_redis_new("redis://h:1/2", 1, 1000, err, sizeof err));
    cr_assert(strstr(err, "db 0"), "%s", err);
    cr_assert_null(ff_redis_new("unix:///tmp/r.sock", 1, 1000, err, sizeof err));
    cr_assert(strstr(err, "over TCP"), "%s", err);
}

Test(ff_redis_url_parse, rejects_a_unix_socket_db_out_of_range)
{
    /* redis://h/70000 is rejected; the same database number over a socket
     * must not be accepted either, let alone wrap to another database. */
    const char *bad[] = {"unix:///x?db=70000", "unix:///x?db=4294967296"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        ff_redis_url_t u;
        char err[256] = "";
        int rc = ff_redis_url_parse(bad[i], &u, err, sizeof err);
        cr_expect_eq(rc, -1, "'%s' should be rejected, got db %d", bad[i], u.db);
    }
}

Test(ff_redis_key_slot, matches_redis_cluster)
{
    cr_assert_eq(ff_redis_key_slot("foo", 3), 12182);
    cr_assert_eq(ff_redis_key_slot("123456789", 9), 12739, "CRC16/XMODEM check value 0x31c3");
    cr_assert_eq(ff_redis_key_slot("", 0), 0);
}

Test(ff_redis_key_slot, hashes_only_the_hash_tag)
{
    const char *a = "{user1000}.following", *b = "{user1000}.followers";
    cr_assert_eq(ff_redis_key_slot(a, strlen(a)), ff_redis_key_slot(b, strlen(b)));
    cr_assert_eq(ff_redis_key_slot(a, strlen(a)), 3443, "the slot of user1000");
    cr_assert_eq(ff_redis_key_slot("ff:{s:S001}:stock", 17), ff_redis_key_slot("s:S001", 6));
}

Test(ff_redis_key_slot, follows_the_cluster_spec_for_odd_braces)
{
    /* An empty tag hashes the whole key; the first '}' after the first '{' closes it. */
    /* Slots computed with an independent CRC16/XMODEM. */
    cr_assert_eq(ff_redis_key_slot("bar", 3), 5061);
    cr_assert_eq(ff_redis_key_slot("foo{}{bar}", 10), 8363, "the whole key, not bar");
    cr_assert_eq(ff_redis_key_slot("foo{{bar}}zap", 13), 4015, "the tag is {bar");
    cr_assert_eq(ff_redis_key_slot("foo{bar}{zap}", 13), 5061, "the first tag wins");
    cr_assert_eq(ff_redis_key_slot("foo{bar", 7), 15278, "an unclosed brace is no tag");
    cr_assert_eq(ff_redis_key_slot("{abc}", 3), ff_redis_key_slot("{ab", 3),
                 "only len bytes count, so the '}' beyond them does not close a tag");
}

/* ---- stored outputs (ff_engine) ----------------------------------------------------- */

static const char binary_value[] = {0, 1, 2, '\0', (char)0xff};

static ff_output_t sample_outputs(ff_output_t *second)
{
    *second = (ff_output_t){
        .next = NULL,
        .topic = "triggers.holdout",
        .key = NULL,
        .key_len = 0,
        .value = binary_value,
        .value_len = sizeof binary_value,
        .label = -1,
    };
    return (ff_output_t){
        .next = second,
        .topic = "triggers.stock-alert",
        .key = "S001",
        .key_len = 4,
        .value = "{\"alert\":\"LOW\"}",
        .value_len = 15,
        .label = 3,
    };
}

static void assert_sample_outputs(const ff_output_t *o)
{
    cr_assert_not_null(o, "first output");
    cr_assert_str_eq(o->topic, "triggers.stock-alert");
    cr_assert_not_null(o->key);
    cr_assert_eq(o->key_len, 4);
    cr_assert_eq(memcmp(o->key, "S001", 4), 0);
    cr_assert_eq(o->value_len, 15);
    cr_assert_eq(memcmp(o->value, "{\"alert\":\"LOW\"}", 15), 0);
    cr_assert_eq(o->label, 3);
    o = o->next;
    cr_assert_not_null(o, "second output");
    cr_assert_str_eq(o->topic, "triggers.holdout");
    cr_assert_null(o->key, "a NULL key stays NULL, not an empty key");
    cr_assert_eq(o->key_len, 0);
    cr_assert_eq(o->value_len, sizeof binary_value);
    cr_assert_eq(memcmp(o->value, binary_value, sizeof binary_value), 0);
    cr_assert_eq(o->label, -1);
    cr_assert_null(o->next, "only two outputs");
}

/* Freed in teardown, so a failed assertion does not leak them. */
static ff_buf_t blob;
static ff_arena_t arena;

static void outputs_setup(void)
{
    ff_buf_init(&blob);
    ff_arena_init(&arena, 1024);
}

static void outputs_teardown(void)
{
    ff_arena_term(&arena);
    ff_buf_term(&blob);
}

TestSuite(ff_outputs, .init = outputs_setup, .fini = outputs_teardown);

Test(ff_outputs, round_trip_into_an_empty_list_as_the_engine_keeps_it)
{
    /* take_outcomes() decodes into ev->outputs = NULL with
     * ev->outputs_tail = &ev->outputs (ent_reset). */
    ff_output_t o2, o1 = sample_outputs(&o2);
    ff_event_t ev = {0};
    ev.outputs = NULL;
    ev.outputs_tail = &ev.outputs;
    ff_outputs_encode(&o1, &blob);
    cr_assert_eq(ff_outputs_decode(blob.data, blob.len, &arena, &ev.outputs, &ev.outputs_tail), 0);
    assert_sample_outputs(ev.outputs);
    cr_assert_eq(ev.outputs_tail, &ev.outputs->next->next, "the tail is the last output's next");
}

Test(ff_outputs, round_trip_appends_after_existing_outputs)
{
    ff_output_t o2, o1 = sample_outputs(&o2);
    ff_output_t existing = {.topic = "t0", .value = "", .value_len = 0};
    ff_output_t *head = &existing, **tail = &existing.next;
    ff_outputs_encode(&o1, &blob);
    /* 3 lengths and a label per output, then its bytes. */
    cr_assert_eq(blob.len, 2 * 16 + 20 + 4 + 15 + 16 + sizeof binary_value);
    cr_assert_eq(ff_outputs_decode(blob.data, blob.len, &arena, &head, &tail), 0);
    cr_assert_eq(head, &existing, "the list keeps its head");
    assert_sample_outputs(existing.next);
    cr_assert_eq(tail, &existing.next->next->next);
}

Test(ff_outputs, empty_blob_decodes_to_no_outputs)
{
    ff_output_t o2, o1 = sample_outputs(&o2);
    ff_output_t *head = &o1, **tail = &o2.next;
    ff_outputs_encode(NULL, &blob);
    cr_assert_eq(blob.len, 0, "no outputs encode to nothing");
    cr_assert_eq(ff_outputs_decode("", 0, &arena, &head, &tail), 0);
    cr_assert_eq(head, &o1);
    cr_assert_eq(tail, &o2.next);
}

Test(ff_outputs, truncated_blob_is_rejected)
{
    ff_output_t o2, o1 = sample_outputs(&o2);
    size_t first_len;
    /* The first output alone is a prefix that is itself a whole blob. */
    o1.next = NULL;
    ff_outputs_encode(&o1, &blob);
    first_len = blob.len;
    ff_buf_reset(&blob);
    o1.next = &o2;
    ff_outputs_encode(&o1, &blob);
    for (size_t len = 1; len < blob.len; len++) {
        ff_output_t *head = NULL, **tail = NULL;
        if (len == first_len)
            continue;
        cr_assert_eq(ff_outputs_decode(blob.data, len, &arena, &head, &tail), -1,
                     "%zu of %zu bytes should be rejected", len, blob.len);
    }
}

Test(ff_outputs, lengths_past_the_end_are_rejected)
{
    const char huge_topic[] = {0, 0, 0, 1, (char)0xff, (char)0xff, (char)0xff, (char)0xff, 't'};
    const char huge_key[] = {0, 0, 0, 1, 0, 0, 0, 1, 't', (char)0xff, (char)0xff, (char)0xff,
                             (char)0xff};
    ff_output_t *head = NULL, **tail = NULL;
    cr_assert_eq(ff_outputs_decode(huge_topic, sizeof huge_topic, &arena, &head, &tail), -1);
    cr_assert_eq(ff_outputs_decode(huge_key, sizeof huge_key, &arena, &head, &tail), -1);
    cr_assert_null(head, "nothing is linked from a corrupt blob");
}

/* ---- ff_validate -------------------------------------------------------------------- */

Test(ff_validate_id, accepts_ordinary_ids)
{
    char buf[128];
    char longest[FF_ID_MAX + 1];
    memset(longest, 'x', FF_ID_MAX);
    longest[FF_ID_MAX] = '\0';
    cr_assert_null(ff_validate_id("customer_id", "C-00042", buf, sizeof buf));
    cr_assert_null(ff_validate_id("store_id", "Zürich 1", buf, sizeof buf), "UTF-8 is fine");
    cr_assert_null(ff_validate_id("sku", longest, buf, sizeof buf), "FF_ID_MAX bytes is fine");
}

Test(ff_validate_id, rejects_missing_ids_naming_the_field)
{
    char buf[128];
    const char *why = ff_validate_id("customer_id", NULL, buf, sizeof buf);
    cr_assert_eq(why, buf, "the reason is written into buf");
    cr_assert_str_eq(why, "customer_id is missing");
    why = ff_validate_id("store_id", "", buf, sizeof buf);
    cr_assert_str_eq(why, "store_id is missing");
}

Test(ff_validate_id, rejects_overlong_ids)
{
    char buf[128];
    char id[FF_ID_MAX + 2];
    memset(id, 'x', FF_ID_MAX + 1);
    id[FF_ID_MAX + 1] = '\0';
    const char *why = ff_validate_id("sku", id, buf, sizeof buf);
    cr_assert_not_null(why, "%d bytes is too long", FF_ID_MAX + 1);
    cr_assert_not_null(strstr(why, "sku"), "%s", why);
    cr_assert_not_null(strstr(why, "257"), "%s", why);
}

Test(ff_validate_id, rejects_control_characters)
{
    const char *bad[] = {"C\n1", "\tC1", "C1\x01", "C\x7f" "1"};
    const char *code[] = {"0x0a", "0x09", "0x01", "0x7f"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        char buf[128];
        const char *why = ff_validate_id("customer_id", bad[i], buf, sizeof buf);
        cr_assert_not_null(why, "id %zu should be rejected", i);
        cr_assert_not_null(strstr(why, "customer_id"), "%s", why);
        cr_assert_not_null(strstr(why, code[i]), "%s should name %s", why, code[i]);
    }
}

Test(ff_validate_ts, accepts_past_and_near_future_times)
{
    char buf[128];
    const int64_t now = 1795430700000LL, day = 86400000LL;
    cr_assert_null(ff_validate_ts(0, now, day, buf, sizeof buf), "the epoch itself is fine");
    cr_assert_null(ff_validate_ts(now - day, now, day, buf, sizeof buf));
    cr_assert_null(ff_validate_ts(now + day, now, day, buf, sizeof buf), "exactly max_future");
}

Test(ff_validate_ts, rejects_negative_times)
{
    char buf[128];
    const char *why = ff_validate_ts(-1, 1795430700000LL, 0, buf, sizeof buf);
    cr_assert_eq(why, buf);
    cr_assert_str_eq(why, "ts -1 is before 1970");
}

Test(ff_validate_ts, rejects_times_too_far_ahead_with_both_times)
{
    char buf[128];
    const int64_t now = 1795430700000LL, day = 86400000LL;
    const char *why = ff_validate_ts(now + day + 1, now, day, buf, sizeof buf);
    cr_assert_not_null(why);
    cr_assert_str_eq(why,
                     "ts 2026-11-24T10:45:00.001Z is in the future (now 2026-11-23T10:45:00.000Z)");
}

/* ---- the stall watchdog ---------------------------------------------------------- */

/* Runs a watchdog (stale after 1 s) over a loop last seen age_ms ago in
 * `step`, with stderr in a file: until it has warned (10 s at most), or,
 * for a loop that keeps turning (beating), for 2.5 s. Returns the log. */
static char *watchdog_log(const char *step, int64_t age_ms, bool beating)
{
    char path[] = "/tmp/footfall-watchdog-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ff_status_t status = {0};
    ff_watchdog_t *w;
    char *text = NULL;
    cr_assert_geq(fd, 0);
    atomic_store(&status.heartbeat_ms, ff_mono_ms() - age_ms);
    atomic_store(&status.step, step);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    w = ff_watchdog_start(&status, 1000);
    cr_assert_not_null(w);
    for (int i = 0; i < (beating ? 50 : 200); i++) {
        free(text);
        text = ff_slurp(path);
        if (!beating && strstr(text, "loop.stalled"))
            break;
        if (beating)
            atomic_store(&status.heartbeat_ms, ff_mono_ms());
        ff_sleep_ms(50);
    }
    ff_watchdog_stop(w);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    free(text);
    text = ff_slurp(path);
    close(fd);
    unlink(path);
    return text;
}

Test(ff_watchdog, a_loop_that_has_not_turned_is_reported_with_its_step)
{
    char *log = watchdog_log("committing the transaction", 5000, false);
    const char *line = strstr(log, "\"event\":\"loop.stalled\"");
    cr_assert_not_null(line, "warned: %s", log);
    cr_assert(strstr(line, "has not turned for 5 s (committing the transaction)"), "%s", line);
    free(log);
}

Test(ff_watchdog, a_loop_that_turns_is_not_reported)
{
    char *log = watchdog_log("waiting for records", 0, true);
    cr_assert_null(strstr(log, "loop.stalled"), "%s", log);
    free(log);
}

/* Trigger and decision ids name the source record, for any partition and
 * offset (the longest numbers included) and any rule. */
Test(ff_outputs, trigger_and_decision_ids_name_topic_partition_offset_and_rule)
{
    ff_event_t ev = {0};
    ev.topic = "geofence.events";
    ev.partition = 3;
    ev.offset = 0;
    cr_assert_str_eq(ff_trigger_id(&arena, &ev, "NEARBY"), "geofence.events:3:0:NEARBY");
    ev.partition = INT32_MAX;
    ev.offset = INT64_MAX;
    cr_assert_str_eq(ff_event_rule_id(&arena, &ev, "STORE-ASSIST", ":decision"),
                     "geofence.events:2147483647:9223372036854775807:STORE-ASSIST:decision");
    ev.partition = INT32_MIN;
    ev.offset = INT64_MIN;
    cr_assert_str_eq(ff_event_rule_id(&arena, &ev, "", ""),
                     "geofence.events:-2147483648:-9223372036854775808:");
}
