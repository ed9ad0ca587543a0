/* ff_config: one settings table drives parsing, validation and --help for every binary. */
#include "ff_config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ff_log.h"
#include "ff_redis.h"
#include "ff_util.h"

extern char **environ;

typedef struct conf_value_s {
    char *value;
    int64_t num;
    char *source;
} conf_value_t;

typedef struct kafka_kv_s {
    char *key;
    char *value;
} kafka_kv_t;

struct ff_conf_s {
    char *proc;
    conf_value_t *values; /* parallel to ff_settings */
    kafka_kv_t *kafka;
    size_t kafka_cnt;
};

static const char *const type_expect[] = {
    [FF_CONF_STR] = "a string",
    [FF_CONF_INT] = "an integer",
    [FF_CONF_BOOL] = "true or false",
    [FF_CONF_DURATION] = "a duration such as 500ms, 30s, 10m, 2h or 7d",
    [FF_CONF_CLOCKTIME] = "a time of day HH:MM",
};

static int setting_index(const char *key)
{
    for (size_t i = 0; i < ff_settings_count; i++)
        if (!strcmp(ff_settings[i].key, key))
            return (int)i;
    return -1;
}

/* A default is "VALUE" or "VALUE|PROC=VALUE|…": the value for proc, else
 * the first. "{proc}" in it is replaced by the processor's name. */

/* The next "PROC=VALUE" after *at (which points at a '|' or the end of the
 * default); false when there is none. A segment without '=' is skipped. */
static bool next_override(const char **at, const char **name, size_t *nlen, const char **val,
                          size_t *vlen)
{
    while (**at == '|') {
        const char *seg = *at + 1, *end = strchr(seg, '|'), *eq;
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        *at = seg + len;
        eq = memchr(seg, '=', len);
        if (!eq)
            continue;
        *name = seg;
        *nlen = (size_t)(eq - seg);
        *val = eq + 1;
        *vlen = len - *nlen - 1;
        return true;
    }
    return false;
}

static char *expand_default(const char *def, const char *proc)
{
    size_t n = strcspn(def, "|"), plen = strlen(proc), nlen, vlen;
    const char *at = def + n, *name, *val, *p;
    while (next_override(&at, &name, &nlen, &val, &vlen))
        if (nlen == plen && !strncmp(name, proc, plen)) {
            def = val;
            n = vlen;
            break;
        }
    p = strstr(def, "{proc}");
    if (!p || (size_t)(p - def) + 6 > n)
        return ff_asprintf("%.*s", (int)n, def);
    return ff_asprintf("%.*s%s%.*s", (int)(p - def), def, proc, (int)(n - (size_t)(p - def) - 6),
                       p + 6);
}

/* The default as help shows it: for one processor, its value; for any,
 * "VALUE (PROC: VALUE, …)". */
static char *describe_default(const char *def, const char *proc)
{
    const char *at = def + strcspn(def, "|"), *name, *val, *sep = " (";
    size_t nlen, vlen;
    char *out = expand_default(def, proc);
    ff_buf_t b;
    if (!*at || proc[0] != '<') /* a real processor: its own value */
        return out;
    ff_buf_init(&b);
    ff_buf_puts(&b, out);
    free(out);
    while (next_override(&at, &name, &nlen, &val, &vlen)) {
        ff_buf_printf(&b, "%s%.*s: %.*s", sep, (int)nlen, name, (int)vlen, val);
        sep = ", ";
    }
    if (sep[0] == ',') /* at least one */
        ff_buf_puts(&b, ")");
    return b.data;
}

static int parse_value(const ff_setting_t *s, const char *value, int64_t *num)
{
    int64_t v = 0;
    switch (s->type) {
    case FF_CONF_STR:
        return 0;
    case FF_CONF_INT:
        if (ff_parse_i64(value, &v) == -1)
            return -1;
        break;
    case FF_CONF_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
            v = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
            v = 0;
        else
            return -1;
        break;
    case FF_CONF_DURATION:
        if (ff_parse_duration_ms(value, &v) == -1)
            return -1;
        break;
    case FF_CONF_CLOCKTIME: {
        int h, m, n = 0;
        if (sscanf(value, "%2d:%2d%n", &h, &m, &n) != 2 || value[n] || h < 0 || h > 23 ||
            m < 0 || m > 59)
            return -1;
        v = h * 60 + m;
        break;
    }
    }
    if (s->min != s->max && (v < s->min || v > s->max))
        return -1;
    *num = v;
    return 0;
}

static void describe_expected(const ff_setting_t *s, char *buf, size_t size)
{
    if ((s->type == FF_CONF_INT || s->type == FF_CONF_DURATION) && s->min != s->max) {
        if (s->type == FF_CONF_INT)
            snprintf(buf, size, "an integer from %lld to %lld", (long long)s->min,
                     (long long)s->max);
        else
            snprintf(buf, size, "%s, from %lldms to %lldms", type_expect[s->type],
                     (long long)s->min, (long long)s->max);
    } else {
        snprintf(buf, size, "%s", type_expect[s->type]);
    }
}

ff_conf_t *ff_conf_new(const char *proc)
{
    ff_conf_t *conf = ff_calloc(1, sizeof(*conf));
    conf->proc = ff_strdup(proc);
    conf->values = ff_calloc(ff_settings_count, sizeof(*conf->values));
    for (size_t i = 0; i < ff_settings_count; i++) {
        const ff_setting_t *s = &ff_settings[i];
        conf->values[i].value = expand_default(s->def, proc);
        conf->values[i].source = ff_strdup("default");
        if (parse_value(s, conf->values[i].value, &conf->values[i].num) == -1) {
            /* A default that does not parse is a bug in the table. */
            fprintf(stderr, "footfall: default of %s does not parse\n", s->key);
            abort();
        }
    }
    return conf;
}

void ff_conf_destroy(ff_conf_t *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < ff_settings_count; i++) {
        free(conf->values[i].value);
        free(conf->values[i].source);
    }
    for (size_t i = 0; i < conf->kafka_cnt; i++) {
        free(conf->kafka[i].key);
        free(conf->kafka[i].value);
    }
    free(conf->kafka);
    free(conf->values);
    free(conf->proc);
    free(conf);
}

static void set_kafka(ff_conf_t *conf, const char *key, const char *value)
{
    for (size_t i = 0; i < conf->kafka_cnt; i++) {
        if (!strcmp(conf->kafka[i].key, key)) {
            free(conf->kafka[i].value);
            conf->kafka[i].value = ff_strdup(value);
            return;
        }
    }
    conf->kafka = ff_realloc(conf->kafka, (conf->kafka_cnt + 1) * sizeof(*conf->kafka));
    conf->kafka[conf->kafka_cnt].key = ff_strdup(key);
    conf->kafka[conf->kafka_cnt].value = ff_strdup(value);
    conf->kafka_cnt++;
}

int ff_conf_set(ff_conf_t *conf, const char *key, const char *value, const char *source,
                char *errstr, size_t errstr_size)
{
    int idx = setting_index(key);
    int64_t num = 0;

    if (idx == -1) {
        if (!strncmp(key, "kafka.", 6) && key[6]) {
            set_kafka(conf, key + 6, value);
            return 0;
        }
        snprintf(errstr, errstr_size, "unknown setting '%s' (from %s); see --help", key, source);
        return -1;
    }

    const ff_setting_t *s = &ff_settings[idx];
    if (parse_value(s, value, &num) == -1) {
        char expect[160];
        describe_expected(s, expect, sizeof expect);
        snprintf(errstr, errstr_size, "invalid value '%s' for %s (from %s): expected %s", value,
                 key, source, expect);
        return -1;
    }
    if (s->check) {
        char why[256] = "";
        if (s->check(value, why, sizeof why) == -1) {
            snprintf(errstr, errstr_size, "invalid value '%s' for %s (from %s): %s", value, key,
                     source, why);
            return -1;
        }
    }
    conf_value_t *v = &conf->values[idx];
    free(v->value);
    free(v->source);
    v->value = ff_strdup(value);
    v->source = ff_strdup(source);
    v->num = num;
    /* kafka.* keys in the table (bootstrap.servers) pass through as well. */
    if (!strncmp(key, "kafka.", 6))
        set_kafka(conf, key + 6, value);
    return 0;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int ff_conf_load_text(ff_conf_t *conf, const char *text, size_t len, const char *name,
                      char *errstr, size_t errstr_size)
{
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = ff_strndup(p, n), *key, *eq, *val, source[512];
        bool nul = memchr(p, '\0', n) != NULL;
        int rc = 0;
        lineno++;
        p += n + (nl ? 1 : 0);
        key = trim(line);
        if (nul || (*key && *key != '#')) {
            snprintf(source, sizeof source, "%s:%d", name, lineno);
            eq = strchr(key, '=');
            if (!eq || nul) {
                snprintf(errstr, errstr_size, "%s: expected key=value, got '%s'", source, key);
                rc = -1;
            } else {
                *eq = '\0';
                val = trim(eq + 1);
                key = trim(key);
                rc = ff_conf_set(conf, key, val, source, errstr, errstr_size);
            }
        }
        free(line);
        if (rc == -1)
            return -1;
    }
    return 0;
}

int ff_conf_load_file(ff_conf_t *conf, const char *path, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "r");
    ff_buf_t text;
    char chunk[4096];
    size_t n;
    int rc;

    if (!fp) {
        snprintf(errstr, errstr_size, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    ff_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        ff_buf_append(&text, chunk, n);
    fclose(fp);
    rc = ff_conf_load_text(conf, text.data ? text.data : "", text.len, path, errstr, errstr_size);
    ff_buf_term(&text);
    return rc;
}

void ff_conf_env_name(const char *key, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "FOOTFALL_");
    for (const char *p = key; *p && n + 1 < size; p++)
        buf[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    buf[n < size ? n : size - 1] = '\0';
}

int ff_conf_load_env(ff_conf_t *conf, char *errstr, size_t errstr_size)
{
    char env[256];
    for (size_t i = 0; i < ff_settings_count; i++) {
        const char *v;
        ff_conf_env_name(ff_settings[i].key, env, sizeof env);
        v = getenv(env);
        if (v && ff_conf_set(conf, ff_settings[i].key, v, env, errstr, errstr_size) == -1)
            return -1;
    }
    /* FOOTFALL_KAFKA_SASL_MECHANISM -> kafka.sasl.mechanism: librdkafka's
     * property names use dots only, so the mapping is unambiguous. */
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        char name[256], key[256];
        size_t n;
        if (strncmp(*e, "FOOTFALL_KAFKA_", 15) || !eq || (size_t)(eq - *e) >= sizeof name)
            continue;
        memcpy(name, *e, (size_t)(eq - *e));
        name[eq - *e] = '\0';
        n = 0;
        for (const char *p = name + 9; *p && n + 1 < sizeof key; p++)
            key[n++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        key[n] = '\0';
        if (setting_index(key) != -1)
            continue; /* already applied above */
        if (ff_conf_set(conf, key, eq + 1, name, errstr, errstr_size) == -1)
            return -1;
    }
    return 0;
}

int ff_conf_from_args(ff_conf_t *conf, int argc, char **argv, ff_conf_own_flag_fn is_own_flag,
                      char **rest, int *nrest, char *errstr, size_t errstr_size)
{
    const char *config_path = NULL;
    int help = 0, i;

    *nrest = 0;
    /* First pass: find --config and --help, so that the file is applied
     * before the environment and the flags whatever the argument order. */
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            break;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help = 1;
        } else if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                snprintf(errstr, errstr_size, "--config needs a file path");
                return -1;
            }
            config_path = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            config_path = argv[i] + 9;
        }
    }
    if (help)
        return 1;
    if (config_path && ff_conf_load_file(conf, config_path, errstr, errstr_size) == -1)
        return -1;
    if (ff_conf_load_env(conf, errstr, errstr_size) == -1)
        return -1;

    for (i = 1; i < argc; i++) {
        char *arg = argv[i];
        char key[256], source[300];
        const char *value;
        int own;

        if (!strcmp(arg, "--")) {
            for (i++; i < argc; i++)
                rest[(*nrest)++] = argv[i];
            break;
        }
        if (!strcmp(arg, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(arg, "--config=", 9))
            continue;
        if (strncmp(arg, "--", 2) || !arg[2]) {
            rest[(*nrest)++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (klen >= sizeof key) {
            snprintf(errstr, errstr_size, "option too long: %s", arg);
            return -1;
        }
        memcpy(key, arg + 2, klen);
        key[klen] = '\0';

        if (setting_index(key) == -1 && strncmp(key, "kafka.", 6)) {
            /* Not a setting: the caller's own option, or a mistake. */
            char flag[260];
            snprintf(flag, sizeof flag, "--%s", key);
            own = is_own_flag ? is_own_flag(flag) : 0;
            if (!own) {
                snprintf(errstr, errstr_size, "unknown option '%s'; see --help", flag);
                return -1;
            }
            rest[(*nrest)++] = arg;
            if (own == 2 && !eq) {
                if (i + 1 >= argc) {
                    snprintf(errstr, errstr_size, "%s needs a value", flag);
                    return -1;
                }
                rest[(*nrest)++] = argv[++i];
            }
            continue;
        }
        if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(errstr, errstr_size, "--%s needs a value", key);
                return -1;
            }
            value = argv[++i];
        }
        snprintf(source, sizeof source, "--%s", key);
        if (ff_conf_set(conf, key, value, source, errstr, errstr_size) == -1)
            return -1;
    }
    return 0;
}

static const conf_value_t *value_of(const ff_conf_t *conf, const char *key)
{
    int idx = setting_index(key);
    if (idx == -1) {
        fprintf(stderr, "footfall: internal error: no setting named %s\n", key);
        abort();
    }
    return &conf->values[idx];
}

const char *ff_conf_str(const ff_conf_t *conf, const char *key)
{
    return value_of(conf, key)->value;
}

int64_t ff_conf_int(const ff_conf_t *conf, const char *key)
{
    return value_of(conf, key)->num;
}

const char *ff_conf_source(const ff_conf_t *conf, const char *key)
{
    return value_of(conf, key)->source;
}

size_t ff_conf_kafka_count(const ff_conf_t *conf)
{
    return conf->kafka_cnt;
}

void ff_conf_kafka_get(const ff_conf_t *conf, size_t i, const char **key, const char **value)
{
    *key = conf->kafka[i].key;
    *value = conf->kafka[i].value;
}

void ff_conf_print_help(FILE *fp, unsigned procs, const char *proc)
{
    char env[256];
    fprintf(fp, "Settings (precedence: --key=value flag > environment > --config file > "
                "default):\n\n");
    for (size_t i = 0; i < ff_settings_count; i++) {
        const ff_setting_t *s = &ff_settings[i];
        char *def;
        if (!(s->procs & procs))
            continue;
        def = describe_default(s->def, proc);
        ff_conf_env_name(s->key, env, sizeof env);
        fprintf(fp, "  --%s\n      %s\n      env %s, default '%s'\n", s->key, s->help, env, def);
        free(def);
    }
    fprintf(fp, "\n  --kafka.<property>=VALUE\n      any librdkafka property (SASL, TLS, "
                "timeouts…), env FOOTFALL_KAFKA_<PROPERTY>\n");
}

/* ---- validators -------------------------------------------------------- */

int ff_conf_check_redis_url(const char *value, char *errstr, size_t errstr_size)
{
    ff_redis_url_t u;
    return ff_redis_url_parse(value, &u, errstr, errstr_size);
}

int ff_tz_parse(const char *s, int *minutes)
{
    int h, m, n = 0;
    if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
        *minutes = 0;
        return 0;
    }
    if ((s[0] != '+' && s[0] != '-') ||
        sscanf(s + 1, "%2d:%2d%n", &h, &m, &n) != 2 || s[1 + n] || h > 14 || m > 59)
        return -1;
    *minutes = (h * 60 + m) * (s[0] == '-' ? -1 : 1);
    return 0;
}

int ff_conf_check_tz(const char *value, char *errstr, size_t errstr_size)
{
    int m;
    if (ff_tz_parse(value, &m) == 0)
        return 0;
    snprintf(errstr, errstr_size, "expected a UTC offset such as +01:00, -05:00 or Z");
    return -1;
}

int ff_tz_map_each(const char *value, void (*fn)(void *opaque, const char *store, int minutes),
                   void *opaque, char *errstr, size_t errstr_size)
{
    char *copy = ff_strdup(value), *save = NULL, *tok;
    int rc = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *store;
        int m;
        if (eq)
            *eq = '\0';
        store = trim(tok);
        if (!eq || !*store || ff_tz_parse(trim(eq + 1), &m) == -1) {
            if (eq)
                *eq = '=';
            snprintf(errstr, errstr_size,
                     "expected STORE=OFFSET[,STORE=OFFSET…] such as S001=-05:00,S002=+01:00; "
                     "'%s' is not",
                     trim(tok));
            rc = -1;
            break;
        }
        if (fn)
            fn(opaque, store, m);
    }
    free(copy);
    return rc;
}

int ff_conf_check_tz_map(const char *value, char *errstr, size_t errstr_size)
{
    return ff_tz_map_each(value, NULL, NULL, errstr, errstr_size);
}

int ff_conf_check_log_level(const char *value, char *errstr, size_t errstr_size)
{
    if (ff_log_level_parse(value) >= 0)
        return 0;
    snprintf(errstr, errstr_size, "expected debug, info, warn, error or off");
    return -1;
}

int ff_conf_check_triggers(const char *value, char *errstr, size_t errstr_size)
{
    if (!strcmp(value, "on") || !strcmp(value, "off") || !strcmp(value, "replayed") ||
        (!strncmp(value, "shadow:", 7) && value[7]))
        return 0;
    snprintf(errstr, errstr_size, "expected on, off, replayed or shadow:TOPIC");
    return -1;
}
