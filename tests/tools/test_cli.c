/* Tests of the binaries' command lines: help, exit statuses, errors that name the setting. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_testenv.h"

#define SHELF FF_BIN_DIR "/footfall-shelf"
#define CLI FF_BIN_DIR "/footfall"

TestSuite(cli, .timeout = 60);

static void expect_config_error(const char *const argv[], const char *const env[],
                                const char *key)
{
    char *out, *err;
    int rc = ff_run(argv, env, &out, &err);
    cr_assert_eq(rc, 2, "a bad setting exits with status 2 (got %d, stderr: %s)", rc, err);
    cr_assert(strstr(err, key), "the error names %s: %s", key, err);
    free(out);
    free(err);
}

Test(cli, processor_help_lists_its_settings_and_exits_0)
{
    const char *const argv[] = {SHELF, "--help", NULL};
    char *out, *err;
    cr_assert_eq(ff_run(argv, NULL, &out, &err), 0);
    cr_assert(strstr(out, "usage: footfall-shelf"), "%s", out);
    cr_assert(strstr(out, "--stock.low.percent"), "its own settings are listed");
    cr_assert(strstr(out, "env FOOTFALL_REDIS_URL, default 'redis://localhost:6379/0'"),
              "each with its environment name and default");
    cr_assert(strstr(out, "default 'footfall-shelf'"), "group.id defaults to the binary's name");
    cr_assert_null(strstr(out, "--topic.pos"), "other processors' settings are not");
    free(out);
    free(err);
}

Test(cli, bad_settings_name_the_key_and_exit_2)
{
    const char *const flag[] = {SHELF, "--batch.size=0", NULL};
    const char *const bad_url[] = {SHELF, NULL};
    const char *const url_env[] = {"FOOTFALL_REDIS_URL=http://nope", NULL};
    const char *const dur[] = {SHELF, "--batch.timeout", "soon", NULL};
    const char *const unknown[] = {SHELF, "--stock.low.pct=5", NULL};
    const char *const cross[] = {SHELF, "--stock.low.percent=60", NULL};
    const char *const kafka[] = {SHELF, "--kafka.no.such.property=1", NULL};
    const char *const posarg[] = {SHELF, "extra", NULL};
    const char *const clock_env[] = {"FOOTFALL_NOW=yesterday", NULL};

    expect_config_error(flag, NULL, "batch.size");
    expect_config_error(bad_url, url_env, "redis.url (from FOOTFALL_REDIS_URL)");
    expect_config_error(dur, NULL, "batch.timeout");
    expect_config_error(unknown, NULL, "--stock.low.pct");
    expect_config_error(cross, NULL, "stock.low.percent");
    expect_config_error(kafka, NULL, "kafka.no.such.property");
    expect_config_error(posarg, NULL, "extra");
    expect_config_error(bad_url, clock_env, "FOOTFALL_NOW");
}

Test(cli, config_file_errors_name_the_file_and_line)
{
    char path[] = "/tmp/footfall-conf-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "# shelf settings\nredis.url=redis://r:6379/0\nbatch.size=lots\n";
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const char *const argv[] = {SHELF, "--config", path, NULL};
    char where[64];
    snprintf(where, sizeof where, "%s:3", path);
    expect_config_error(argv, NULL, where);
    unlink(path);
}

Test(cli, unknown_commands_and_options_exit_2)
{
    const char *const none[] = {CLI, NULL};
    const char *const bogus[] = {CLI, "frobnicate", NULL};
    const char *const badopt[] = {CLI, "broker", "--partitions", "0", NULL};
    char *out, *err;
    cr_assert_eq(ff_run(none, NULL, &out, &err), 2);
    cr_assert(strstr(out, "broker"), "usage lists the commands");
    free(out);
    free(err);
    cr_assert_eq(ff_run(bogus, NULL, &out, &err), 2);
    cr_assert(strstr(err, "unknown command 'frobnicate'"));
    free(out);
    free(err);
    cr_assert_eq(ff_run(badopt, NULL, &out, &err), 2);
    cr_assert(strstr(err, "--partitions"));
    free(out);
    free(err);
}

Test(cli, gen_is_deterministic_for_a_seed)
{
    const char *const a[] = {CLI, "gen", "--print", "--seed", "5", "--count", "50", "--start",
                             "2026-11-23T08:00:00Z", NULL};
    const char *const b[] = {CLI, "gen", "--print", "--seed", "6", "--count", "50", "--start",
                             "2026-11-23T08:00:00Z", NULL};
    char *out1, *out2, *out3, *err;
    cr_assert_eq(ff_run(a, NULL, &out1, &err), 0, "%s", err);
    free(err);
    cr_assert_eq(ff_run(a, NULL, &out2, &err), 0);
    free(err);
    cr_assert_eq(ff_run(b, NULL, &out3, &err), 0);
    free(err);
    int lines = 0;
    for (const char *p = out1; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 50, "--count 50 gives 50 records");
    cr_assert(strstr(out1, "{\"topic\":\"shelf.events\",\"key\":\"S001\",\"value\":{"),
              "records are keyed by store: %.200s", out1);
    cr_assert(strstr(out1, "\"ts\":1795420800"), "event times start at --start");
    cr_assert_str_eq(out1, out2, "the same seed gives the same records");
    cr_assert_str_neq(out1, out3, "another seed gives others");
    free(out1);
    free(out2);
    free(out3);
}

Test(cli, gen_and_tail_through_the_embedded_broker, .timeout = 90)
{
    ff_env_t env;
    char servers[300];
    char *out, *err;
    ff_env_start(&env, 2, NULL);
    snprintf(servers, sizeof servers, "FOOTFALL_KAFKA_BOOTSTRAP_SERVERS=%s", env.stack.bootstrap);
    const char *const envp[] = {servers, NULL};
    const char *const gen[] = {CLI, "gen", "--count", "40", "--seed", "3", NULL};
    const char *const tail[] = {CLI, "tail", "shelf.events", "--from-beginning", "--exit-at-end",
                                "--value-only", NULL};
    cr_assert_eq(ff_run(gen, envp, &out, &err), 0, "gen: %s", err);
    free(out);
    free(err);
    cr_assert_eq(ff_run(tail, envp, &out, &err), 0, "tail: %s", err);
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 40, "tail prints the 40 records, one JSON object each");
    cr_assert_eq(strncmp(out, "{\"event_id\":\"shelf-3-", 21), 0, "%.100s", out);
    free(out);
    free(err);
    ff_env_stop(&env);
}

/* A child gets the parent's environment with the given entries set, a
 * later entry winning, all made before the fork (ff_spawn). */
Test(cli, a_spawned_program_sees_the_environment_it_was_given)
{
    const char *extra[] = {"FF_T_NEW=1", "HOME=/elsewhere", "FF_T_NEW=2", NULL};
    char **envp = ff_env_with(extra);
    size_t home = 0, fresh = 0, path = 0;
    for (size_t i = 0; envp[i]; i++) {
        home += !strncmp(envp[i], "HOME=", 5);
        fresh += !strncmp(envp[i], "FF_T_NEW=", 9);
        path += !strncmp(envp[i], "PATH=", 5);
        if (!strncmp(envp[i], "HOME=", 5))
            cr_assert_str_eq(envp[i], "HOME=/elsewhere");
        if (!strncmp(envp[i], "FF_T_NEW=", 9))
            cr_assert_str_eq(envp[i], "FF_T_NEW=2");
    }
    free(envp);
    cr_assert_eq(home, 1, "HOME replaced, not doubled");
    cr_assert_eq(fresh, 1, "the later FF_T_NEW wins");
    cr_assert_eq(path, getenv("PATH") ? 1 : 0, "the rest of the environment is kept");

    char *out, *err;
    const char *argv[] = {"/bin/sh", "-c", "echo \"$FF_T_NEW $HOME\"", NULL};
    cr_assert_eq(ff_run(argv, extra, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "2 /elsewhere\n");
    free(out);
    free(err);
}
