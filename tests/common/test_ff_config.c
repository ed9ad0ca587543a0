/* Tests of ff_config and its settings table: defaults, file < env < flags, kafka.*, errors. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_config.h"
#include "ff_util.h"

extern char **environ;

#define MAX_ARGS 32

static ff_conf_t *conf;
static char errstr[512];
static char *args[MAX_ARGS]; /* argv of the last parse_args, owned here */
static int nargs;
static char *rest[MAX_ARGS];
static int nrest;
static char config_path[64]; /* the temporary config file, "" if none */

/* Removes every FOOTFALL_* variable, so the caller's environment cannot
 * leak into a test. Names are collected first: unsetenv edits environ. */
static void clear_footfall_env(void)
{
    char names[64][128];
    size_t n = 0;
    for (char **e = environ; *e && n < FF_ARRAY_LEN(names); e++)
        if (!strncmp(*e, "FOOTFALL_", 9))
            snprintf(names[n++], sizeof names[0], "%.*s", (int)strcspn(*e, "="), *e);
    for (size_t i = 0; i < n; i++)
        unsetenv(names[i]);
}

static void remove_config_file(void)
{
    if (config_path[0])
        unlink(config_path);
    config_path[0] = '\0';
}

static void free_args(void)
{
    for (int i = 0; i < nargs; i++)
        free(args[i]);
    nargs = 0;
}

static void setup(void)
{
    clear_footfall_env();
    conf = ff_conf_new("shelf");
    errstr[0] = '\0';
}

static void teardown(void)
{
    ff_conf_destroy(conf);
    free_args();
    remove_config_file();
    clear_footfall_env();
}

TestSuite(ff_config, .init = setup, .fini = teardown);

/* Writes text to a new temporary file (replacing the previous one) and
 * returns its path. */
static const char *write_config(const char *text)
{
    int fd;
    size_t len = strlen(text);
    remove_config_file();
    snprintf(config_path, sizeof config_path, "/tmp/ff_test_conf_XXXXXX");
    fd = mkstemp(config_path);
    cr_assert_neq(fd, -1, "mkstemp");
    cr_assert_eq(write(fd, text, len), (ssize_t)len, "write %s", config_path);
    close(fd);
    return config_path;
}

/* Runs ff_conf_from_args on "footfall-shelf" and the NULL-terminated
 * arguments that follow. */
static int parse_args(ff_conf_own_flag_fn own, ...)
{
    va_list ap;
    const char *a;
    free_args();
    args[nargs++] = ff_strdup("footfall-shelf");
    va_start(ap, own);
    while ((a = va_arg(ap, const char *)) && nargs < MAX_ARGS)
        args[nargs++] = ff_strdup(a);
    va_end(ap);
    return ff_conf_from_args(conf, nargs, args, own, rest, &nrest, errstr, sizeof errstr);
}

static void assert_error_mentions(const char *needle)
{
    cr_assert_not_null(strstr(errstr, needle), "the error should mention '%s': %s", needle,
                       errstr);
}

/* The value of kafka pass-through property key, or NULL. */
static const char *kafka_value(const char *key)
{
    for (size_t i = 0; i < ff_conf_kafka_count(conf); i++) {
        const char *k, *v;
        ff_conf_kafka_get(conf, i, &k, &v);
        if (!strcmp(k, key))
            return v;
    }
    return NULL;
}

/* The flags footfall-shelf would claim for itself. */
static int shelf_flags(const char *flag)
{
    if (!strcmp(flag, "--since"))
        return 2;
    if (!strcmp(flag, "--dry-run"))
        return 1;
    return 0;
}

/* ---- defaults ------------------------------------------------------------------- */

Test(ff_config, defaults_come_from_the_table)
{
    cr_assert_str_eq(ff_conf_str(conf, "redis.url"), "redis://localhost:6379/0");
    cr_assert_str_eq(ff_conf_source(conf, "redis.url"), "default");
    cr_assert_str_eq(ff_conf_str(conf, "kafka.bootstrap.servers"), "localhost:9092");
    cr_assert_eq(ff_conf_int(conf, "batch.size"), 10000);
    cr_assert_eq(ff_conf_int(conf, "http.port"), 0);
    cr_assert_eq(ff_conf_int(conf, "redis.timeout"), 5000, "5s in ms");
    cr_assert_eq(ff_conf_int(conf, "batch.timeout"), 10);
    cr_assert_eq(ff_conf_int(conf, "intent.window"), 7 * 86400000LL, "7d in ms");
    cr_assert_eq(ff_conf_int(conf, "offsets.plain_commit"), 1);
    cr_assert_str_eq(ff_conf_str(conf, "log.level"), "info");
    cr_assert_eq(ff_conf_kafka_count(conf), 0, "no kafka.* property was set");
}

Test(ff_config, group_id_default_names_the_processor)
{
    cr_assert_str_eq(ff_conf_str(conf, "group.id"), "footfall-shelf");
    ff_conf_t *web = ff_conf_new("web");
    cr_assert_str_eq(ff_conf_str(web, "group.id"), "footfall-web");
    ff_conf_destroy(web);
}

Test(ff_config, a_default_may_differ_by_processor)
{
    ff_conf_t *geo = ff_conf_new("geofence"), *web = ff_conf_new("web");
    cr_assert_eq(ff_conf_int(geo, "batch.size"), 5000, "geofence's own default");
    cr_assert_str_eq(ff_conf_source(geo, "batch.size"), "default");
    cr_assert_eq(ff_conf_int(web, "batch.size"), 10000, "everyone else's");
    ff_conf_destroy(geo);
    ff_conf_destroy(web);
}

/* ---- the settings table ------------------------------------------------------------ */

Test(ff_config, table_keys_and_env_names_are_unique_and_documented)
{
    cr_assert_gt(ff_settings_count, 0);
    for (size_t i = 0; i < ff_settings_count; i++) {
        const ff_setting_t *s = &ff_settings[i];
        char env_i[256];
        cr_assert(s->help && *s->help, "%s has help", s->key);
        cr_assert_neq(s->procs, 0, "%s concerns some binary", s->key);
        cr_assert_leq(s->min, s->max, "%s: min <= max", s->key);
        ff_conf_env_name(s->key, env_i, sizeof env_i);
        for (size_t j = i + 1; j < ff_settings_count; j++) {
            char env_j[256];
            cr_assert_str_neq(s->key, ff_settings[j].key, "key %s appears twice", s->key);
            ff_conf_env_name(ff_settings[j].key, env_j, sizeof env_j);
            cr_assert_str_neq(env_i, env_j, "%s and %s share %s", s->key, ff_settings[j].key,
                              env_i);
        }
    }
}

Test(ff_config, every_default_passes_its_own_validation)
{
    /* ff_conf_new only parses defaults; ff_conf_set also runs the validator. */
    for (size_t i = 0; i < ff_settings_count; i++) {
        const char *key = ff_settings[i].key;
        char *def = ff_strdup(ff_conf_str(conf, key));
        int64_t num = ff_conf_int(conf, key);
        cr_assert_eq(ff_conf_set(conf, key, def, "test", errstr, sizeof errstr), 0,
                     "default of %s: %s", key, errstr);
        cr_assert_eq(ff_conf_int(conf, key), num, "%s parses the same way twice", key);
        free(def);
    }
}

/* ---- environment names --------------------------------------------------------------- */

Test(ff_config, env_name_is_footfall_and_the_key_in_upper_case)
{
    char env[64];
    ff_conf_env_name("trigger.max_age", env, sizeof env);
    cr_assert_str_eq(env, "FOOTFALL_TRIGGER_MAX_AGE");
    ff_conf_env_name("kafka.bootstrap.servers", env, sizeof env);
    cr_assert_str_eq(env, "FOOTFALL_KAFKA_BOOTSTRAP_SERVERS");
    ff_conf_env_name("redis.url", env, sizeof env);
    cr_assert_str_eq(env, "FOOTFALL_REDIS_URL");
}

Test(ff_config, env_name_truncates_to_the_buffer)
{
    char env[14];
    memset(env, 'x', sizeof env);
    ff_conf_env_name("redis.url", env, sizeof env);
    cr_assert_str_eq(env, "FOOTFALL_REDI", "13 characters and the NUL");
    char tiny[5];
    ff_conf_env_name("redis.url", tiny, sizeof tiny);
    cr_assert_str_eq(tiny, "FOOT");
}

/* ---- precedence ------------------------------------------------------------------------ */

Test(ff_config, flags_beat_environment_beat_file_beat_defaults)
{
    const char *path = write_config("# footfall.conf\n"
                                    "batch.size = 10\n"
                                    "state.prefix=file\n"
                                    "log.level=debug\n");
    char file_line4[128];
    setenv("FOOTFALL_BATCH_SIZE", "20", 1);
    setenv("FOOTFALL_STATE_PREFIX", "env", 1);
    /* --config after the flag: the file still comes first. */
    cr_assert_eq(parse_args(NULL, "--batch.size=30", "--config", path, NULL), 0, "%s", errstr);

    cr_assert_eq(ff_conf_int(conf, "batch.size"), 30);
    cr_assert_str_eq(ff_conf_source(conf, "batch.size"), "--batch.size");
    cr_assert_str_eq(ff_conf_str(conf, "state.prefix"), "env");
    cr_assert_str_eq(ff_conf_source(conf, "state.prefix"), "FOOTFALL_STATE_PREFIX");
    cr_assert_str_eq(ff_conf_str(conf, "log.level"), "debug");
    snprintf(file_line4, sizeof file_line4, "%s:4", path);
    cr_assert_str_eq(ff_conf_source(conf, "log.level"), file_line4);
    cr_assert_str_eq(ff_conf_str(conf, "redis.url"), "redis://localhost:6379/0");
    cr_assert_str_eq(ff_conf_source(conf, "redis.url"), "default");
    cr_assert_eq(nrest, 0, "every argument was a setting");
}

Test(ff_config, environment_applies_without_a_file_or_flags)
{
    setenv("FOOTFALL_REDIS_URL", "redis://cache:6380/2", 1);
    setenv("FOOTFALL_INPUT_MAX_FUTURE", "2h", 1);
    cr_assert_eq(parse_args(NULL, NULL), 0, "%s", errstr);
    cr_assert_str_eq(ff_conf_str(conf, "redis.url"), "redis://cache:6380/2");
    cr_assert_str_eq(ff_conf_source(conf, "redis.url"), "FOOTFALL_REDIS_URL");
    cr_assert_eq(ff_conf_int(conf, "input.max_future"), 7200000);
}

Test(ff_config, config_file_reads_equals_form_comments_blanks_and_crlf)
{
    const char *path = write_config("\n"
                                    "   # indented comment\n"
                                    "group.id=g1\r\n"
                                    "\t state.prefix \t=\t  p2  \n"
                                    "kafka.sasl.password = se=cret\n"
                                    "group.id=g2\n");
    cr_assert_eq(parse_args(NULL, "--config", path, NULL), 0, "%s", errstr);
    cr_assert_str_eq(ff_conf_str(conf, "group.id"), "g2", "the last line for a key wins");
    cr_assert_str_eq(ff_conf_str(conf, "state.prefix"), "p2", "spaces around key and value go");
    cr_assert_str_eq(kafka_value("sasl.password"), "se=cret", "only the first '=' splits");
}

Test(ff_config, config_file_can_be_loaded_directly)
{
    const char *path = write_config("batch.size=7\n");
    cr_assert_eq(ff_conf_load_file(conf, path, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_conf_int(conf, "batch.size"), 7);
}

/* ---- kafka.* pass-through ----------------------------------------------------------------- */

Test(ff_config, kafka_properties_pass_through_from_file_env_and_flags)
{
    const char *path = write_config("kafka.security.protocol=SASL_SSL\n"
                                    "kafka.client.id=from-file\n");
    setenv("FOOTFALL_KAFKA_SASL_MECHANISM", "PLAIN", 1);
    setenv("FOOTFALL_KAFKA_CLIENT_ID", "from-env", 1);
    cr_assert_eq(parse_args(NULL, "--config", path, "--kafka.client.id=from-flag",
                            "--kafka.sasl.username", "alice", NULL),
                 0, "%s", errstr);

    cr_assert_eq(ff_conf_kafka_count(conf), 4, "one entry per property, overrides replace");
    const char *k, *v;
    ff_conf_kafka_get(conf, 0, &k, &v);
    cr_assert_str_eq(k, "security.protocol", "the prefix is stripped, order is kept");
    cr_assert_str_eq(v, "SASL_SSL");
    ff_conf_kafka_get(conf, 1, &k, &v);
    cr_assert_str_eq(k, "client.id");
    cr_assert_str_eq(v, "from-flag", "flag beats environment beats file");
    ff_conf_kafka_get(conf, 2, &k, &v);
    cr_assert_str_eq(k, "sasl.mechanism", "FOOTFALL_KAFKA_SASL_MECHANISM maps to dots");
    cr_assert_str_eq(v, "PLAIN");
    ff_conf_kafka_get(conf, 3, &k, &v);
    cr_assert_str_eq(k, "sasl.username");
    cr_assert_str_eq(v, "alice");
}

Test(ff_config, bootstrap_servers_is_a_setting_and_passes_through_once)
{
    setenv("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS", "b1:9092,b2:9092", 1);
    cr_assert_eq(parse_args(NULL, NULL), 0, "%s", errstr);
    cr_assert_str_eq(ff_conf_str(conf, "kafka.bootstrap.servers"), "b1:9092,b2:9092");
    cr_assert_str_eq(ff_conf_source(conf, "kafka.bootstrap.servers"),
                     "FOOTFALL_KAFKA_BOOTSTRAP_SERVERS");
    cr_assert_eq(ff_conf_kafka_count(conf), 1, "not applied twice from the environment");
    cr_assert_str_eq(kafka_value("bootstrap.servers"), "b1:9092,b2:9092");

    cr_assert_eq(parse_args(NULL, "--kafka.bootstrap.servers", "b3:9092", NULL), 0, "%s", errstr);
    cr_assert_str_eq(ff_conf_str(conf, "kafka.bootstrap.servers"), "b3:9092");
    cr_assert_eq(ff_conf_kafka_count(conf), 1);
    cr_assert_str_eq(kafka_value("bootstrap.servers"), "b3:9092");
}

Test(ff_config, kafka_prefix_alone_is_not_a_property)
{
    cr_assert_eq(ff_conf_set(conf, "kafka.", "x", "test", errstr, sizeof errstr), -1);
    assert_error_mentions("'kafka.'");
    cr_assert_eq(ff_conf_kafka_count(conf), 0);
}

/* ---- values ------------------------------------------------------------------------------ */

Test(ff_config, durations_are_read_in_any_unit)
{
    cr_assert_eq(parse_args(NULL, "--backoff.max=10m", "--redis.timeout", "250ms",
                            "--intent.window=2h", "--batch.timeout=5", NULL),
                 0, "%s", errstr);
    cr_assert_eq(ff_conf_int(conf, "backoff.max"), 600000, "10m");
    cr_assert_str_eq(ff_conf_str(conf, "backoff.max"), "10m", "the raw text is kept");
    cr_assert_eq(ff_conf_int(conf, "redis.timeout"), 250);
    cr_assert_eq(ff_conf_int(conf, "intent.window"), 7200000);
    cr_assert_eq(ff_conf_int(conf, "batch.timeout"), 5, "a bare number is milliseconds");
}

Test(ff_config, booleans_accept_true_false_yes_no_1_0)
{
    const char *truthy[] = {"true", "yes", "1"}, *falsy[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(ff_conf_set(conf, "offsets.plain_commit", truthy[i], "t", errstr, sizeof errstr),
                     0, "%s", errstr);
        cr_assert_eq(ff_conf_int(conf, "offsets.plain_commit"), 1, "%s", truthy[i]);
        cr_assert_eq(ff_conf_set(conf, "offsets.plain_commit", falsy[i], "t", errstr, sizeof errstr),
                     0, "%s", errstr);
        cr_assert_eq(ff_conf_int(conf, "offsets.plain_commit"), 0, "%s", falsy[i]);
    }
}

Test(ff_config, integer_bounds_are_inclusive)
{
    cr_assert_eq(ff_conf_set(conf, "batch.size", "1", "t", errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_conf_set(conf, "batch.size", "100000", "t", errstr, sizeof errstr), 0, "%s",
                 errstr);
    cr_assert_eq(ff_conf_int(conf, "batch.size"), 100000);
    cr_assert_eq(ff_conf_set(conf, "batch.size", "100001", "t", errstr, sizeof errstr), -1);
    cr_assert_eq(ff_conf_set(conf, "http.port", "65535", "t", errstr, sizeof errstr), 0, "%s",
                 errstr);
    cr_assert_eq(ff_conf_set(conf, "http.port", "-1", "t", errstr, sizeof errstr), -1);
}

/* ---- bad values ---------------------------------------------------------------------------- */

static const struct {
    const char *key, *value;
} bad_values[] = {
    {"batch.size", "0"},         {"batch.size", "abc"},    {"http.port", "70000"},
    {"redis.url", "foo"},        {"log.level", "loud"},    {"backoff.max", "11m"},
    {"intent.window", "59m"},    {"batch.timeout", "-1"},  {"redis.timeout", "5 s"},
    {"offsets.plain_commit", "maybe"},
};

Test(ff_config, bad_value_from_the_environment_names_key_value_and_variable)
{
    for (size_t i = 0; i < FF_ARRAY_LEN(bad_values); i++) {
        char env[128];
        ff_conf_env_name(bad_values[i].key, env, sizeof env);
        setenv(env, bad_values[i].value, 1);
        errstr[0] = '\0';
        cr_assert_eq(parse_args(NULL, NULL), -1, "%s=%s should be refused", env,
                     bad_values[i].value);
        assert_error_mentions(bad_values[i].key);
        assert_error_mentions(env);
        assert_error_mentions(bad_values[i].value);
        unsetenv(env);
    }
}

Test(ff_config, bad_value_from_a_file_names_key_value_and_file_line)
{
    for (size_t i = 0; i < FF_ARRAY_LEN(bad_values); i++) {
        char text[256], where[128];
        snprintf(text, sizeof text, "# ok\n\n%s=%s\n", bad_values[i].key, bad_values[i].value);
        const char *path = write_config(text);
        snprintf(where, sizeof where, "%s:3", path);
        errstr[0] = '\0';
        cr_assert_eq(parse_args(NULL, "--config", path, NULL), -1, "%s should be refused", text);
        assert_error_mentions(bad_values[i].key);
        assert_error_mentions(where);
        assert_error_mentions(bad_values[i].value);
    }
}

Test(ff_config, bad_value_from_a_flag_names_key_and_flag)
{
    cr_assert_eq(parse_args(NULL, "--http.port=70000", NULL), -1);
    assert_error_mentions("'70000' for http.port (from --http.port)");
    assert_error_mentions("0 to 65535");
    cr_assert_eq(ff_conf_int(conf, "http.port"), 0, "a refused value leaves the old one");
    cr_assert_str_eq(ff_conf_source(conf, "http.port"), "default");
}

Test(ff_config, error_says_what_was_expected)
{
    cr_assert_eq(ff_conf_set(conf, "batch.size", "abc", "src", errstr, sizeof errstr), -1);
    assert_error_mentions("from 1 to 100000");
    cr_assert_eq(ff_conf_set(conf, "backoff.max", "11m", "src", errstr, sizeof errstr), -1);
    assert_error_mentions("duration");
    cr_assert_eq(ff_conf_set(conf, "redis.url", "foo", "src", errstr, sizeof errstr), -1);
    assert_error_mentions("redis://");
    cr_assert_eq(ff_conf_set(conf, "log.level", "loud", "src", errstr, sizeof errstr), -1);
    assert_error_mentions("debug, info, warn, error or off");
}

Test(ff_config, unknown_key_in_a_file_is_refused_naming_key_and_line)
{
    const char *path = write_config("batch.size=5\nbatch.sise=6\n");
    char where[128];
    snprintf(where, sizeof where, "%s:2", path);
    cr_assert_eq(parse_args(NULL, "--config", path, NULL), -1);
    assert_error_mentions("'batch.sise'");
    assert_error_mentions(where);
}

Test(ff_config, unknown_key_set_directly_is_refused)
{
    cr_assert_eq(ff_conf_set(conf, "no.such", "1", "somewhere", errstr, sizeof errstr), -1);
    assert_error_mentions("'no.such'");
    assert_error_mentions("somewhere");
}

Test(ff_config, line_without_equals_is_refused_naming_line_and_text)
{
    const char *path = write_config("# comment\nbatch.size 5\n");
    char where[128];
    snprintf(where, sizeof where, "%s:2", path);
    cr_assert_eq(parse_args(NULL, "--config", path, NULL), -1);
    assert_error_mentions(where);
    assert_error_mentions("'batch.size 5'");
    assert_error_mentions("key=value");
}

Test(ff_config, missing_config_file_is_an_error_naming_the_path)
{
    cr_assert_eq(parse_args(NULL, "--config", "/nonexistent/footfall.conf", NULL), -1);
    assert_error_mentions("/nonexistent/footfall.conf");
    cr_assert_eq(parse_args(NULL, "--config=/nonexistent/other.conf", NULL), -1);
    assert_error_mentions("/nonexistent/other.conf");
}

Test(ff_config, config_flag_without_a_path_is_an_error)
{
    cr_assert_eq(parse_args(NULL, "--config", NULL), -1);
    assert_error_mentions("--config");
}

/* ---- arguments ------------------------------------------------------------------------------ */

Test(ff_config, help_returns_1_before_anything_is_applied)
{
    cr_assert_eq(parse_args(NULL, "--batch.size=abc", "--help", NULL), 1);
    cr_assert_eq(parse_args(NULL, "-h", "--config", "/nonexistent", NULL), 1);
    cr_assert_eq(ff_conf_int(conf, "batch.size"), 10000, "nothing was applied");
}

Test(ff_config, help_after_double_dash_is_an_argument)
{
    cr_assert_eq(parse_args(NULL, "--", "--help", NULL), 0, "%s", errstr);
    cr_assert_eq(nrest, 1);
    cr_assert_str_eq(rest[0], "--help");
}

Test(ff_config, unknown_flag_is_an_error_naming_it)
{
    cr_assert_eq(parse_args(NULL, "--batch.sise=5", NULL), -1);
    assert_error_mentions("'--batch.sise'");
    cr_assert_eq(parse_args(shelf_flags, "--nope", NULL), -1, "the caller did not claim it");
    assert_error_mentions("'--nope'");
}

Test(ff_config, setting_flag_without_a_value_is_an_error)
{
    cr_assert_eq(parse_args(NULL, "--batch.size", NULL), -1);
    assert_error_mentions("--batch.size");
    assert_error_mentions("needs a value");
}

Test(ff_config, own_flags_and_positionals_land_in_rest_in_order)
{
    cr_assert_eq(parse_args(shelf_flags, "run", "--since", "5m", "--batch.size=5", "--dry-run",
                            "--since=1h", "-v", "--", "--not-a-setting", "x", NULL),
                 0, "%s", errstr);
    const char *want[] = {"run", "--since", "5m", "--dry-run", "--since=1h", "-v",
                          "--not-a-setting", "x"};
    cr_assert_eq(nrest, (int)FF_ARRAY_LEN(want));
    for (size_t i = 0; i < FF_ARRAY_LEN(want); i++)
        cr_assert_str_eq(rest[i], want[i], "rest[%zu]", i);
    cr_assert_eq(rest[0], args[1], "rest points into argv");
    cr_assert_eq(rest[2], args[3], "the value of --since came along");
    cr_assert_eq(ff_conf_int(conf, "batch.size"), 5, "settings between them still apply");
}

Test(ff_config, own_flag_missing_its_value_is_an_error)
{
    cr_assert_eq(parse_args(shelf_flags, "--since", NULL), -1);
    assert_error_mentions("--since");
    assert_error_mentions("needs a value");
}

/* ---- --help text ----------------------------------------------------------------------------- */

/* What ff_conf_print_help writes, malloc'd. */
static char *help_text(unsigned procs, const char *proc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    cr_assert_not_null(fp);
    ff_conf_print_help(fp, procs, proc);
    fclose(fp);
    return text;
}

Test(ff_config, help_lists_this_binarys_settings_with_env_and_default)
{
    char *text = help_text(FF_P_SHELF, "shelf");
    cr_assert_not_null(strstr(text, "--group.id\n"), "%s", text);
    cr_assert_not_null(strstr(text, "env FOOTFALL_GROUP_ID, default 'footfall-shelf'"));
    cr_assert_not_null(strstr(text, "--stock.low.percent\n"));
    cr_assert_not_null(strstr(text, "--kafka.<property>"));
    cr_assert_null(strstr(text, "--topic.web\n"), "web's input is not shelf's business");
    cr_assert_null(strstr(text, "{proc}"), "defaults are expanded");
    cr_assert_not_null(strstr(text, "env FOOTFALL_BATCH_TIMEOUT, default '10ms'\n"), "%s", text);
    free(text);
}

Test(ff_config, help_for_any_processor_shows_every_processors_default)
{
    char *text = help_text(FF_P_ALL, "<processor>");
    cr_assert_not_null(strstr(text, "env FOOTFALL_BATCH_SIZE, default '10000 (geofence: 5000)'\n"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "env FOOTFALL_BATCH_TIMEOUT, default '10ms'\n"), "%s", text);
    cr_assert_not_null(strstr(text, "default 'footfall-<processor>'\n"), "%s", text);
    free(text);
}

/* ---- validators ------------------------------------------------------------------------------ */

Test(ff_config, tz_parse_reads_utc_offsets)
{
    int m = 1;
    cr_assert_eq(ff_tz_parse("Z", &m), 0);
    cr_assert_eq(m, 0);
    cr_assert_eq(ff_tz_parse("+05:30", &m), 0);
    cr_assert_eq(m, 330);
    cr_assert_eq(ff_tz_parse("-08:00", &m), 0);
    cr_assert_eq(m, -480);
    cr_assert_eq(ff_tz_parse("-00:30", &m), 0);
    cr_assert_eq(m, -30);
    const char *bad[] = {"", "05:00", "+15:00", "+05:60", "+05:00x", "+0500", "CET"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++)
        cr_assert_eq(ff_tz_parse(bad[i], &m), -1, "'%s' should be rejected", bad[i]);
}

Test(ff_config, tz_map_validator_checks_every_entry)
{
    char why[256] = "";
    cr_assert_eq(ff_conf_check_tz_map("S001=-05:00,S002=+01:00,S003=Z", why, sizeof why), 0);
    cr_assert_eq(ff_conf_check_tz_map("S001=-05:00,S002", why, sizeof why), -1);
    cr_assert_not_null(strstr(why, "'S002'"), "%s", why);
    cr_assert_eq(ff_conf_check_tz_map("=+01:00", why, sizeof why), -1, "a store is needed");
    cr_assert_eq(ff_conf_check_tz_map("S001=+25:00", why, sizeof why), -1);
}

Test(ff_config, redis_url_validator_accepts_the_three_schemes)
{
    char why[256] = "";
    cr_assert_eq(ff_conf_check_redis_url("redis://h:6379/0", why, sizeof why), 0);
    cr_assert_eq(ff_conf_check_redis_url("unix:///tmp/r.sock", why, sizeof why), 0);
    cr_assert_eq(ff_conf_check_redis_url("redis-cluster://a:1,b:2", why, sizeof why), 0);
    cr_assert_eq(ff_conf_check_redis_url("redis://", why, sizeof why), -1);
    cr_assert_eq(ff_conf_check_redis_url("unix://rel", why, sizeof why), -1);
    cr_assert_eq(ff_conf_check_redis_url("http://h", why, sizeof why), -1);
}
