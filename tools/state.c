/* footfall state: a customer's or a store's rolling state as a person reads it, and a diff of two prefixes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ff_clock.h"
#include "ff_customer_io.h"
#include "ff_map.h"
#include "ff_redis.h"
#include "ff_util.h"

static void help(void)
{
    printf("usage: footfall state customer ID [--json] [--prefix P]\n"
           "       footfall state store ID [--sku SKU] [--json] [--prefix P]\n"
           "       footfall state diff --prefix A --prefix B [--sample N]\n\n"
           "Reads Redis (redis.url) and shows the rolling state footfall keeps: for a\n"
           "customer, intent by SKU and category over intent.window (per day), the cart,\n"
           "recent purchases, store visits and the preferred store, consent per channel,\n"
           "offers (outstanding, converted, control), lifetime spend and the offsets\n"
           "applied; for a store, every shelf position with its alert level, debounced\n"
           "and last readings, and stock per SKU and category. --prefix reads another\n"
           "namespace (a backfill); --json prints one JSON object for machines.\n\n"
           "diff compares two prefixes key by key (stored outputs and TTLs aside) and exits\n"
           "1 if they differ: check a backfill against live before switching. --sample N\n"
           "checks N random keys from each side instead of all of them.\n");
}

static int own_flag(const char *flag)
{
    if (!strcmp(flag, "--prefix") || !strcmp(flag, "--sku") || !strcmp(flag, "--sample"))
        return 2;
    return !strcmp(flag, "--json") ? 1 : 0;
}

/* ---- reading keys ---------------------------------------------------------------- */

/* A glob pattern matching exactly s, then the rest of pattern. */
static char *glob_escape(const char *prefix, const char *tag, const char *rest)
{
    ff_buf_t b;
    ff_buf_init(&b);
    for (const char *p = prefix; *p; p++) {
        if (strchr("*?[]\\", *p))
            ff_buf_putc(&b, '\\');
        ff_buf_putc(&b, *p);
    }
    ff_buf_puts(&b, ":{");
    for (const char *p = tag; *p; p++) {
        if (strchr("*?[]\\", *p))
            ff_buf_putc(&b, '\\');
        ff_buf_putc(&b, *p);
    }
    ff_buf_puts(&b, "}:");
    ff_buf_puts(&b, rest);
    return ff_buf_detach(&b);
}

typedef struct keys_s {
    char **keys;
    size_t n, cap;
} keys_t;

static void collect(void *opaque, const char *key)
{
    keys_t *k = opaque;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->keys = ff_realloc(k->keys, k->cap * sizeof(char *));
    }
    k->keys[k->n++] = ff_strdup(key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* s with control characters as \xNN (and a backslash doubled, so that two
 * keys' forms differ when they do): a SKU's intent counter names its
 * category after 0x1f (FF_SKU_CATEGORY_SEP), which a terminal hides. */
static char *visible(const char *s)
{
    ff_buf_t b;
    ff_buf_init(&b);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            ff_buf_printf(&b, "\\x%02x", c);
        else if (c == '\\')
            ff_buf_puts(&b, "\\\\");
        else
            ff_buf_putc(&b, (char)c);
    }
    return ff_buf_detach(&b);
}

static void keys_free(keys_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
}

/* HGETALL of every key, one round trip; replies stay in p. */
static int hgetall_all(ff_redis_t *redis, const keys_t *k, ff_rpipe_t *p, char *errstr,
                       size_t errstr_size)
{
    for (size_t i = 0; i < k->n; i++)
        ff_rpipe_cmd(p, "HGETALL", k->keys[i], NULL);
    return ff_redis_exec(redis, p, errstr, errstr_size);
}

static const char *field(const redisReply *r, const char *name)
{
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (!strcmp(r->element[i]->str, name))
            return r->element[i + 1]->str;
    return NULL;
}

static const char *when(int64_t ms, char *buf, size_t size)
{
    if (ms <= 0)
        return "-";
    ff_format_rfc3339(ms, buf, size);
    return buf;
}

static void json_kv(ff_buf_t *b, const char *k, const char *v, bool comma)
{
    if (comma)
        ff_buf_putc(b, ',');
    ff_buf_json_str(b, k, strlen(k));
    ff_buf_putc(b, ':');
    if (v)
        ff_buf_json_str(b, v, strlen(v));
    else
        ff_buf_puts(b, "null");
}

/* ---- a customer ------------------------------------------------------------------- */

static int show_customer(ff_conf_t *conf, ff_redis_t *redis, const char *prefix, const char *id,
                         bool json)
{
    char errstr[512], t[40], *pattern, *tag = ff_asprintf("c:%s", id);
    keys_t k = {0};
    ff_rpipe_t p;
    ff_arena_t arena;
    ff_customer_t c;
    ff_candidate_t cands[64];
    size_t ncands, applied_at = SIZE_MAX;
    int64_t now = ff_clock_state_ms();
    ff_intent_conf_t ic = {
        .window_ms = ff_conf_int(conf, "intent.window"),
        .sku_views = ff_conf_int(conf, "intent.sku.views"),
        .cart_adds = ff_conf_int(conf, "intent.cart.adds"),
        .category_views = ff_conf_int(conf, "intent.category.views"),
        .cart_weight = ff_conf_int(conf, "intent.cart.weight"),
        .purchase_window_ms = ff_conf_int(conf, "purchase.window"),
    };
    int rc = 1;

    ff_rpipe_init(&p);
    ff_arena_init(&arena, 64 * 1024);
    ff_customer_init(&c, id, &arena);
    pattern = glob_escape(prefix, tag, "*");
    if (ff_redis_scan(redis, pattern, collect, &k, errstr, sizeof errstr) == -1)
        goto err;
    if (k.n == 0) {
        fprintf(stderr, "footfall state: no state for customer %s under prefix '%s'\n", id,
                prefix);
        rc = 3;
        goto out;
    }
    qsort(k.keys, k.n, sizeof(char *), cmp_str);
    if (hgetall_all(redis, &k, &p, errstr, sizeof errstr) == -1)
        goto err;
    size_t plen = strlen(prefix) + strlen(tag) + 4;
    /* Conversions mark offers: take them last. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < k.n; i++) {
            const char *suffix = k.keys[i] + plen;
            if ((pass == 1) != !strcmp(suffix, "conv"))
                continue;
            if (!strcmp(suffix, "applied"))
                applied_at = i;
            ff_customer_take(&c, suffix, ff_rpipe_reply(&p, i));
        }
    }
    ncands = ff_intent_all(&c, &ic, now, cands, FF_ARRAY_LEN(cands));
    const char *preferred =
        ff_customer_preferred_store(&c, now, ff_conf_int(conf, "visit.window"));
    static const char *const channels[] = {"PUSH", "EMAIL", "SMS", "ALL"};
    static const char *const statuses[] = {"GRANTED", "DENIED", "REVOKED"};

    if (json) {
        ff_buf_t b;
        ff_buf_init(&b);
        ff_buf_putc(&b, '{');
        json_kv(&b, "customer_id", id, false);
        json_kv(&b, "prefix", prefix, true);
        ff_buf_printf(&b, ",\"intent\":[");
        for (size_t i = 0; i < ncands; i++) {
            ff_buf_printf(&b, "%s{", i ? "," : "");
            json_kv(&b, "sku", cands[i].sku, false);
            json_kv(&b, "category", cands[i].category, true);
            ff_buf_printf(&b, ",\"views\":%lld,\"cart_adds\":%lld,\"score\":%g,\"intent\":%s}",
                          (long long)cands[i].views, (long long)cands[i].adds, cands[i].score,
                          (cands[i].sku ? cands[i].views >= ic.sku_views ||
                                              cands[i].adds >= ic.cart_adds
                                        : cands[i].views >= ic.category_views) &&
                                  !(cands[i].sku &&
                                    ff_customer_bought_recently(&c, &ic, cands[i].sku, now))
                              ? "true"
                              : "false");
        }
        ff_buf_puts(&b, "],\"cart\":{");
        for (size_t i = 0, n = 0; i < c.ncart; i++)
            if (c.cart[i].n > 0)
                ff_buf_printf(&b, "%s\"%s\":%lld", n++ ? "," : "", c.cart[i].key,
                              (long long)c.cart[i].n);
        ff_buf_puts(&b, "},\"bought\":{");
        for (size_t i = 0, n = 0; i < c.nbought; i++)
            if (c.bought[i].ts)
                ff_buf_printf(&b, "%s\"%s\":%lld", n++ ? "," : "", c.bought[i].key,
                              (long long)c.bought[i].ts);
        ff_buf_puts(&b, "},\"visits\":[");
        for (size_t i = 0; i < c.nvisits; i++)
            ff_buf_printf(&b, "%s{\"store_id\":\"%s\",\"count\":%lld,\"last\":%lld,"
                              "\"last_heads_up\":%lld}",
                          i ? "," : "", c.visits[i].store_id, (long long)c.visits[i].count,
                          (long long)c.visits[i].last_ts, (long long)c.visits[i].last_assist);
        ff_buf_puts(&b, "]");
        json_kv(&b, "preferred_store", preferred, true);
        ff_buf_puts(&b, ",\"consent\":{");
        for (int ch = 0, n = 0; ch < 4; ch++)
            if (c.consent[ch].set)
                ff_buf_printf(&b, "%s\"%s\":{\"status\":\"%s\",\"ts\":%lld}", n++ ? "," : "",
                              channels[ch], statuses[c.consent[ch].status % 3],
                              (long long)c.consent[ch].ts);
        ff_buf_puts(&b, "},\"offers\":[");
        for (size_t i = 0; i < c.noffers; i++) {
            const ff_offer_state_t *o = &c.offers[i];
            ff_buf_printf(&b, "%s{", i ? "," : "");
            json_kv(&b, "trigger_id", o->trigger_id, false);
            json_kv(&b, "kind", ff_offer_kind_name(o->kind), true);
            json_kv(&b, "store_id", o->store_id, true);
            json_kv(&b, "sku", o->sku, true);
            json_kv(&b, "category", o->category, true);
            json_kv(&b, "offer_code", o->code, true);
            ff_buf_printf(&b, ",\"ts\":%lld,\"expires_at\":%lld,\"control\":%s,\"converted\":%s}",
                          (long long)o->ts, (long long)o->expires_at,
                          o->control ? "true" : "false", o->converted ? "true" : "false");
        }
        ff_buf_printf(&b, "],\"lifetime_spend_cents\":%lld,\"purchases\":%lld,\"applied\":{",
                      (long long)c.spend, (long long)c.purchases);
        redisReply *ap = applied_at != SIZE_MAX ? ff_rpipe_reply(&p, applied_at) : NULL;
        for (size_t i = 0; ap && i + 1 < ap->elements; i += 2)
            ff_buf_printf(&b, "%s\"%s\":%s", i ? "," : "", ap->element[i]->str,
                          ap->element[i + 1]->str);
        ff_buf_puts(&b, "}}\n");
        fputs(b.data, stdout);
        ff_buf_term(&b);
    } else {
        printf("customer %s (prefix '%s', as of %s)\n", id, prefix, when(now, t, sizeof t));
        printf("  intent over the last %lld days (score = views + %lld x cart adds):\n",
               (long long)(ic.window_ms / FF_DAY_MS), (long long)ic.cart_weight);
        if (!ncands)
            printf("    none\n");
        for (size_t i = 0; i < ncands; i++) {
            bool bought = cands[i].sku && ff_customer_bought_recently(&c, &ic, cands[i].sku, now);
            bool intent = cands[i].sku ? cands[i].views >= ic.sku_views || cands[i].adds >= ic.cart_adds
                                       : cands[i].views >= ic.category_views;
            if (cands[i].sku)
                printf("    %-12s %-10s views %-3lld cart adds %-3lld score %-4g %s\n",
                       cands[i].sku, cands[i].category, (long long)cands[i].views,
                       (long long)cands[i].adds, cands[i].score,
                       bought ? "(bought recently: not offered)" : intent ? "INTENT" : "");
            else
                printf("    category %-12s views %-3lld %s\n", cands[i].category,
                       (long long)cands[i].views, intent ? "INTENT" : "");
        }
        printf("  cart:");
        bool any = false;
        for (size_t i = 0; i < c.ncart; i++)
            if (c.cart[i].n > 0) {
                printf(" %s x%lld", c.cart[i].key, (long long)c.cart[i].n);
                any = true;
            }
        printf("%s\n  bought within %lld days:", any ? "" : " empty",
               (long long)(ic.purchase_window_ms / FF_DAY_MS));
        any = false;
        for (size_t i = 0; i < c.nbought; i++)
            if (c.bought[i].ts) {
                printf(" %s (%s)", c.bought[i].key, when(c.bought[i].ts, t, sizeof t));
                any = true;
            }
        printf("%s\n  visits:", any ? "" : " none");
        for (size_t i = 0; i < c.nvisits; i++)
            printf(" %s x%lld (last %s)", c.visits[i].store_id, (long long)c.visits[i].count,
                   when(c.visits[i].last_ts, t, sizeof t));
        printf("%s\n  preferred store: %s\n  consent:", c.nvisits ? "" : " none",
               preferred ? preferred : "none");
        any = false;
        for (int ch = 0; ch < 4; ch++)
            if (c.consent[ch].set) {
                printf(" %s %s (%s)", channels[ch], statuses[c.consent[ch].status % 3],
                       when(c.consent[ch].ts, t, sizeof t));
                any = true;
            }
        printf("%s\n  offers:\n", any ? "" : " no record (offers allowed)");
        if (!c.noffers)
            printf("    none\n");
        for (size_t i = 0; i < c.noffers; i++) {
            const ff_offer_state_t *o = &c.offers[i];
            printf("    %-7s %s %s%s%s code %s at %s%s%s\n", ff_offer_kind_name(o->kind),
                   o->store_id, o->sku ? o->sku : "", o->sku ? " " : "", o->category, o->code,
                   when(o->ts, t, sizeof t), o->control ? " [control: withheld]" : "",
                   o->converted ? " [converted]" : "");
        }
        printf("  lifetime spend %lld.%02lld in %lld purchases\n", (long long)(c.spend / 100),
               (long long)(c.spend % 100), (long long)c.purchases);
        redisReply *ap = applied_at != SIZE_MAX ? ff_rpipe_reply(&p, applied_at) : NULL;
        printf("  applied:");
        for (size_t i = 0; ap && i + 1 < ap->elements; i += 2)
            printf(" %s@%s", ap->element[i]->str, ap->element[i + 1]->str);
        printf("\n");
    }
    rc = 0;
    goto out;
err:
    fprintf(stderr, "footfall state: %s\n", errstr);
out:
    free(pattern);
    free(tag);
    keys_free(&k);
    ff_rpipe_term(&p);
    ff_arena_term(&arena);
    return rc;
}

/* ---- a store ----------------------------------------------------------------------- */

static int show_store(ff_redis_t *redis, const char *prefix, const char *id, const char *sku,
                      bool json)
{
    char errstr[512], *tag = ff_asprintf("s:%s", id), *pattern = glob_escape(prefix, tag, "*");
    keys_t k = {0};
    ff_rpipe_t p;
    ff_buf_t b;
    int rc = 1;
    size_t plen = strlen(prefix) + strlen(tag) + 4;
    redisReply *stock = NULL, *catstock = NULL;

    ff_rpipe_init(&p);
    ff_buf_init(&b);
    if (ff_redis_scan(redis, pattern, collect, &k, errstr, sizeof errstr) == -1)
        goto err;
    if (k.n == 0) {
        fprintf(stderr, "footfall state: no state for store %s under prefix '%s'\n", id, prefix);
        rc = 3;
        goto out;
    }
    qsort(k.keys, k.n, sizeof(char *), cmp_str);
    /* Only the hashes: the shelves set is an index of them. */
    keys_t hashes = {0};
    for (size_t i = 0; i < k.n; i++) {
        const char *s = k.keys[i] + plen;
        if (!strncmp(s, "shelf:", 6) || !strcmp(s, "stock") || !strcmp(s, "catstock"))
            collect(&hashes, k.keys[i]);
    }
    if (hgetall_all(redis, &hashes, &p, errstr, sizeof errstr) == -1) {
        keys_free(&hashes);
        goto err;
    }
    if (json)
        ff_buf_printf(&b, "{\"store_id\":\"%s\",\"prefix\":\"%s\",\"shelves\":[", id, prefix);
    else
        printf("store %s (prefix '%s')\n  %-8s %-12s %-10s %-6s %9s %6s  %s\n", id, prefix,
               "shelf", "sku", "category", "level", "qty/cap", "last", "readings (ts:qty)");
    int nshelves = 0;
    for (size_t i = 0; i < hashes.n; i++) {
        const char *s = hashes.keys[i] + plen;
        redisReply *r = ff_rpipe_reply(&p, i);
        if (!strcmp(s, "stock")) {
            stock = r;
            continue;
        }
        if (!strcmp(s, "catstock")) {
            catstock = r;
            continue;
        }
        if (sku && (!field(r, "sku") || strcmp(field(r, "sku"), sku)))
            continue;
        if (json) {
            ff_buf_printf(&b, "%s{", nshelves ? "," : "");
            static const char *const names[] = {"shelf", "sku", "cat", "level", "qty",
                                                "cap",   "last", "ts", "win"};
            for (size_t f = 0; f < FF_ARRAY_LEN(names); f++)
                json_kv(&b, names[f], field(r, names[f]), f > 0);
            ff_buf_putc(&b, '}');
        } else {
            char qc[32];
            snprintf(qc, sizeof qc, "%s/%s", field(r, "qty") ? field(r, "qty") : "?",
                     field(r, "cap") ? field(r, "cap") : "?");
            printf("  %-8s %-12s %-10s %-6s %9s %6s  %s\n", field(r, "shelf"), field(r, "sku"),
                   field(r, "cat"), field(r, "level"), qc, field(r, "last"), field(r, "win"));
        }
        nshelves++;
    }
    if (json) {
        ff_buf_puts(&b, "],\"stock\":{");
        for (size_t i = 0, n = 0; stock && i + 1 < stock->elements; i += 2)
            if (!sku || !strcmp(stock->element[i]->str, sku))
                ff_buf_printf(&b, "%s\"%s\":%s", n++ ? "," : "", stock->element[i]->str,
                              stock->element[i + 1]->str);
        ff_buf_puts(&b, "},\"category_stock\":{");
        for (size_t i = 0; catstock && i + 1 < catstock->elements; i += 2)
            ff_buf_printf(&b, "%s\"%s\":%s", i ? "," : "", catstock->element[i]->str,
                          catstock->element[i + 1]->str);
        ff_buf_puts(&b, "}}\n");
        fputs(b.data, stdout);
    } else {
        if (!nshelves)
            printf("  no shelf%s%s\n", sku ? " holds " : "", sku ? sku : "");
        printf("  stock on the shelves:");
        for (size_t i = 0; stock && i + 1 < stock->elements; i += 2)
            if (!sku || !strcmp(stock->element[i]->str, sku))
                printf(" %s %s", stock->element[i]->str, stock->element[i + 1]->str);
        printf("\n  by category:");
        for (size_t i = 0; catstock && i + 1 < catstock->elements; i += 2)
            printf(" %s %s", catstock->element[i]->str, catstock->element[i + 1]->str);
        printf("\n");
    }
    keys_free(&hashes);
    rc = 0;
    goto out;
err:
    fprintf(stderr, "footfall state: %s\n", errstr);
out:
    free(pattern);
    free(tag);
    keys_free(&k);
    ff_rpipe_term(&p);
    ff_buf_term(&b);
    return rc;
}

/* ---- diff --------------------------------------------------------------------------- */

/* A key's content in a canonical form: hashes and sets sorted, HyperLogLogs
 * by their count. TTLs are not content. */
static char *canonical(ff_redis_t *redis, const char *key, char *errstr, size_t errstr_size)
{
    ff_rpipe_t p;
    ff_buf_t b;
    redisReply *t, *v;
    char **items = NULL;
    size_t n = 0, step = 1;
    ff_rpipe_init(&p);
    ff_buf_init(&b);
    ff_rpipe_cmd(&p, "TYPE", key, NULL);
    if (ff_redis_exec(redis, &p, errstr, errstr_size) == -1)
        goto err;
    t = ff_rpipe_reply(&p, 0);
    ff_buf_printf(&b, "[%s]", t->str);
    if (!strcmp(t->str, "none")) {
        ff_rpipe_term(&p);
        return ff_buf_detach(&b);
    }
    const char *cmd = !strcmp(t->str, "hash") ? "HGETALL"
                      : !strcmp(t->str, "set") ? "SMEMBERS"
                      : strstr(key, ":demand:") ? "PFCOUNT"
                                                : "DUMP";
    step = !strcmp(cmd, "HGETALL") ? 2 : 1;
    ff_rpipe_reset(&p);
    ff_rpipe_cmd(&p, cmd, key, NULL);
    if (ff_redis_exec(redis, &p, errstr, errstr_size) == -1)
        goto err;
    v = ff_rpipe_reply(&p, 0);
    if (v->type == REDIS_REPLY_INTEGER) {
        ff_buf_printf(&b, " %lld", (long long)v->integer);
    } else if (v->type == REDIS_REPLY_STRING) {
        ff_buf_putc(&b, ' ');
        ff_buf_json_str(&b, v->str, v->len);
    } else if (v->type == REDIS_REPLY_ARRAY) {
        items = ff_calloc(v->elements / step + 1, sizeof(char *));
        for (size_t i = 0; i + step - 1 < v->elements; i += step) {
            char *raw = step == 2 ? ff_asprintf("%s=%s", v->element[i]->str,
                                                v->element[i + 1]->str)
                                  : ff_strdup(v->element[i]->str);
            items[n++] = visible(raw);
            free(raw);
        }
        qsort(items, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
            ff_buf_printf(&b, " %s", items[i]);
            free(items[i]);
        }
        free(items);
    }
    ff_rpipe_term(&p);
    return ff_buf_detach(&b);
err:
    ff_rpipe_term(&p);
    ff_buf_term(&b);
    return NULL;
}

static bool skip_key(const char *suffix)
{
    size_t n = strlen(suffix);
    /* Stored outputs depend on where batches started and on the triggers
     * mode: they are not state. */
    return n >= 4 && !strcmp(suffix + n - 4, ":out");
}

/* Keys under prefix, as what follows "<prefix>:". */
static int keys_under(ff_redis_t *redis, const char *prefix, keys_t *k, char *errstr,
                      size_t errstr_size)
{
    ff_buf_t pat;
    keys_t raw = {0};
    int rc;
    ff_buf_init(&pat);
    for (const char *p = prefix; *p; p++) {
        if (strchr("*?[]\\", *p))
            ff_buf_putc(&pat, '\\');
        ff_buf_putc(&pat, *p);
    }
    ff_buf_puts(&pat, ":*");
    rc = ff_redis_scan(redis, pat.data, collect, &raw, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < raw.n; i++)
        if (!skip_key(raw.keys[i] + strlen(prefix) + 1))
            collect(k, raw.keys[i] + strlen(prefix) + 1);
    keys_free(&raw);
    ff_buf_term(&pat);
    return rc;
}

static int diff(ff_redis_t *redis, const char *a, const char *b, int64_t sample)
{
    char errstr[512];
    keys_t ka = {0}, kb = {0};
    int64_t checked = 0, differ = 0, only_a = 0, only_b = 0, shown = 0;
    ff_map_t in_b;
    int rc = 2;

    ff_map_init(&in_b);
    if (keys_under(redis, a, &ka, errstr, sizeof errstr) == -1 ||
        keys_under(redis, b, &kb, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall state: %s\n", errstr);
        goto out;
    }
    for (size_t i = 0; i < kb.n; i++)
        ff_map_put(&in_b, kb.keys[i], strlen(kb.keys[i]), kb.keys[i]);
    qsort(ka.keys, ka.n, sizeof(char *), cmp_str);
    qsort(kb.keys, kb.n, sizeof(char *), cmp_str);
    /* Sampling: a fixed stride through the sorted keys, so a run is repeatable. */
    size_t stride_a = sample > 0 && (size_t)sample < ka.n ? ka.n / (size_t)sample : 1;
    for (size_t i = 0; i < ka.n; i += stride_a) {
        char *ca, *cb, *full_a = ff_asprintf("%s:%s", a, ka.keys[i]),
                       *full_b = ff_asprintf("%s:%s", b, ka.keys[i]);
        checked++;
        ca = canonical(redis, full_a, errstr, sizeof errstr);
        cb = ff_map_get(&in_b, ka.keys[i], strlen(ka.keys[i]))
                 ? canonical(redis, full_b, errstr, sizeof errstr)
                 : NULL;
        if (!ca) {
            fprintf(stderr, "footfall state: %s\n", errstr);
            free(full_a);
            free(full_b);
            goto out;
        }
        if (!cb) {
            only_a++;
            if (shown++ < 20)
                printf("  only in %s: %s\n", a, ka.keys[i]);
        } else if (strcmp(ca, cb)) {
            differ++;
            if (shown++ < 20)
                printf("  differs: %s\n    %s: %.200s\n    %s: %.200s\n", ka.keys[i], a, ca, b,
                       cb);
        }
        free(ca);
        free(cb);
        free(full_a);
        free(full_b);
    }
    ff_map_t in_a;
    ff_map_init(&in_a);
    for (size_t i = 0; i < ka.n; i++)
        ff_map_put(&in_a, ka.keys[i], strlen(ka.keys[i]), ka.keys[i]);
    size_t stride_b = sample > 0 && (size_t)sample < kb.n ? kb.n / (size_t)sample : 1;
    for (size_t i = 0; i < kb.n; i += stride_b) {
        if (!ff_map_get(&in_a, kb.keys[i], strlen(kb.keys[i]))) {
            only_b++;
            if (shown++ < 20)
                printf("  only in %s: %s\n", b, kb.keys[i]);
        }
    }
    ff_map_term(&in_a);
    printf("%s %s and %s: %lld keys checked (of %zu and %zu), %lld differ, %lld only in %s, "
           "%lld only in %s\n",
           differ + only_a + only_b ? "DIFFERENT" : "IDENTICAL", a, b, (long long)checked, ka.n,
           kb.n, (long long)differ, (long long)only_a, a, (long long)only_b, b);
    rc = differ + only_a + only_b ? 1 : 0;
out:
    ff_map_term(&in_b);
    keys_free(&ka);
    keys_free(&kb);
    return rc;
}

int cmd_state(int argc, char **argv)
{
    ff_conf_t *conf = ff_conf_new("cli");
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, status = 2;
    const char *what = NULL, *id = NULL, *prefixes[2] = {NULL, NULL};
    int nprefix = 0;
    int64_t sample = 0;
    ff_redis_t *redis = NULL;

    rc = cli_parse("state", conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    for (int i = 0; i < nrest; i++) {
        if (!strcmp(rest[i], "--prefix") && i + 1 < nrest) {
            if (nprefix < 2)
                prefixes[nprefix++] = rest[i + 1];
            i++;
        } else if (!strncmp(rest[i], "--prefix=", 9)) {
            if (nprefix < 2)
                prefixes[nprefix++] = rest[i] + 9;
        } else if (rest[i][0] == '-') {
            if (own_flag(rest[i]) == 2 && !strchr(rest[i], '='))
                i++;
        } else if (!what) {
            what = rest[i];
        } else if (!id) {
            id = rest[i];
        }
    }
    if (cli_opt(rest, nrest, "--sample") &&
        (ff_parse_i64(cli_opt(rest, nrest, "--sample"), &sample) == -1 || sample < 1)) {
        fprintf(stderr, "footfall state: --sample wants a positive number\n");
        goto out;
    }
    redis = ff_redis_from_conf(conf, errstr, sizeof errstr);
    if (!redis) {
        fprintf(stderr, "footfall state: %s\n", errstr);
        goto out;
    }
    if (!prefixes[0])
        prefixes[0] = ff_conf_str(conf, "state.prefix");
    if (what && !strcmp(what, "diff")) {
        if (nprefix != 2) {
            fprintf(stderr, "footfall state diff: give two --prefix\n");
            goto out;
        }
        status = diff(redis, prefixes[0], prefixes[1], sample);
    } else if (what && id && !strcmp(what, "customer")) {
        status = show_customer(conf, redis, prefixes[0], id, cli_flag(rest, nrest, "--json"));
    } else if (what && id && !strcmp(what, "store")) {
        status = show_store(redis, prefixes[0], id, cli_opt(rest, nrest, "--sku"),
                            cli_flag(rest, nrest, "--json"));
    } else {
        fprintf(stderr, "footfall state: customer ID, store ID or diff; see --help\n");
    }
out:
    ff_redis_destroy(redis);
    free(rest);
    ff_conf_destroy(conf);
    return status;
}
