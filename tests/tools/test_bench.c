/* test_bench: footfall bench runs end to end on a small load and writes the figures it printed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_testenv.h"

/* Latency is left out here: on a load this small a processor may have
 * nothing to say within seconds (make bench measures it). */
static const char *const number_keys[] = {"ceiling_rps",       "rps",
                                          "redis_roundtrips_per_record", "cpu_s_per_million",
                                          "redis_cpu_s_per_million",     "rss_mb_1m",
                                          "rss_mb_10m"};

/* The JSON a run wrote to dir (its only file). */
static json_t *result_json(const char *dir)
{
    char path[256];
    FILE *ls;
    json_error_t jerr;
    snprintf(path, sizeof path, "ls %s/*.json", dir);
    ls = popen(path, "r");
    cr_assert(fgets(path, sizeof path, ls), "no JSON written to %s", dir);
    pclose(ls);
    path[strcspn(path, "\n")] = '\0';
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", path, jerr.text);
    return root;
}

/* Each of keys in the object busy is a share of the machine: some work,
 * none beyond its CPUs. */
static void assert_busy(const json_t *busy, const char *const *keys, size_t n)
{
    double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
    for (size_t i = 0; i < n; i++) {
        double v = json_number_value(json_object_get(busy, keys[i]));
        cr_assert(v > 0 && v <= ncpu + 0.1, "cpus_busy.%s %f", keys[i], v);
    }
}

Test(bench, measures_a_processor_and_writes_every_figure, .timeout = 300)
{
    char dir[] = "/tmp/footfall-bench-test-XXXXXX", path[128], *out = NULL, *err = NULL;
    char stray_name[64];
    cr_assert_not_null(mkdtemp(dir));
    /* A redis-server left running (no port: it listens nowhere): the run
     * names it among what else uses the machine. */
    const char *stray_argv[] = {"/usr/bin/redis-server", "--port", "0", "--save", "",
                                "--appendonly", "no", NULL};
    pid_t stray = ff_spawn(stray_argv, NULL, "/dev/null");
    cr_assert_gt(stray, 0, "a stray redis-server starts");
    snprintf(stray_name, sizeof stray_name, "redis-server (pid %d)", (int)stray);
    /* The results go to a directory not made yet, two levels down. */
    char outdir[160];
    snprintf(outdir, sizeof outdir, "%s/results/today", dir);
    const char *argv[] = {FF_BIN_DIR "/footfall",
                          "bench",
                          "--records",
                          "20000",
                          "--rss-at",
                          "5000",
                          "--latency-seconds",
                          "0",
                          "--partitions",
                          "4",
                          "--processors",
                          "shelf",
                          "--out",
                          outdir,
                          NULL};
    int rc = ff_run(argv, NULL, &out, &err);
    ff_reap(stray, SIGTERM, 5000);
    /* Targets may be missed on a load this small (exit 1), never a failure to run. */
    cr_assert(rc == 0 || rc == 1, "exit %d\n%s\n%s", rc, out, err);
    cr_assert_not_null(strstr(out, "targets:"), "%s", out);
    cr_assert_null(strstr(err, "did not"), "%s", err);

    json_t *root = result_json(outdir);
    cr_assert_gt(strlen(json_string_value(json_object_get(root, "machine"))), 0);
    cr_assert_eq(json_integer_value(json_object_get(root, "records")), 20000);
    json_t *foreign = json_object_get(root, "foreign");
    cr_assert(json_is_number(json_object_get(foreign, "cpus_busy")), "the machine's load");
    cr_assert_not_null(strstr(json_string_value(json_object_get(foreign, "processes")), stray_name),
                       "the stray %s is named", stray_name);
    cr_assert(strstr(out, "the machine is not idle") && strstr(out, stray_name),
              "and said so: %s", out);
    /* State is warmed by every processor first: a tenth of --records each. */
    /* The machine's own speed: a codec round takes some ns (not whole
     * seconds), a loopback round trip some us, and the steal is a share. */
    json_t *speed = json_object_get(root, "speed");
    double codec_ns = json_number_value(json_object_get(speed, "codec_ns"));
    double rtt_us = json_number_value(json_object_get(speed, "loopback_rtt_us"));
    cr_assert(codec_ns > 0 && codec_ns < 1e6, "codec_ns %f", codec_ns);
    cr_assert(rtt_us > 0 && rtt_us < 1e5, "loopback_rtt_us %f", rtt_us);
    cr_assert(json_is_number(json_object_get(speed, "steal_share")), "steal_share");
    cr_assert_leq(json_number_value(json_object_get(speed, "steal_share")), 1.0);
    cr_assert_not_null(strstr(out, "this machine: a geofence event encoded and decoded in "), "%s",
                       out);
    cr_assert_eq(json_integer_value(json_object_get(root, "warmup_records")), 2000);
    cr_assert_not_null(strstr(out, "warm-up: 2000 records per processor"), "%s", out);
    json_t *procs = json_object_get(root, "processors");
    cr_assert_eq(json_object_size(procs), 1, "only the processor asked for");
    json_t *shelf = json_object_get(procs, "shelf");
    cr_assert_not_null(shelf);
    for (size_t i = 0; i < sizeof number_keys / sizeof *number_keys; i++)
        cr_assert(json_is_number(json_object_get(shelf, number_keys[i])), "%s", number_keys[i]);
    double get[7];
    for (size_t i = 0; i < 7; i++)
        get[i] = json_number_value(json_object_get(shelf, number_keys[i]));
    cr_assert_gt(get[0], 0, "a ceiling");
    json_t *reads = json_object_get(shelf, "ceiling_reads_rps");
    double best = 0;
    cr_assert_eq(json_array_size(reads), 3, "the ceiling is the best of three reads");
    for (size_t i = 0; i < 3; i++)
        best = FF_MAX(best, json_number_value(json_array_get(reads, i)));
    cr_assert_eq(best, get[0]);
    cr_assert_gt(get[1], 0, "a throughput");
    /* footfall-shelf makes one round trip per batch: far fewer than records. */
    cr_assert_gt(get[2], 0);
    cr_assert_lt(get[2], 0.1);
    cr_assert_gt(get[3], 0, "the processor used CPU");
    /* How busy each was while it caught up, in CPUs: every one worked,
     * none beyond the machine, the main thread within its process; and the
     * throughput target names the busier of Redis and the main thread. */
    json_t *busy = json_object_get(shelf, "cpus_busy");
    const char *busy_keys[] = {"processor", "processor_main_thread", "redis", "broker"};
    assert_busy(busy, busy_keys, 4);
    cr_assert_leq(json_number_value(json_object_get(busy, "processor_main_thread")),
                  json_number_value(json_object_get(busy, "processor")) + 0.01);
    cr_assert(
        strstr(out, "of the ceiling (>= 70%; the busiest: redis-server at ") ||
            strstr(out, "of the ceiling (>= 70%; the busiest: the processor's main thread at "),
        "%s", out);
    cr_assert_null(json_object_get(shelf, "p99_ms"), "no latency run was asked for");
    cr_assert_gt(get[5], 1, "an RSS in MB");
    cr_assert_gt(get[6], 1);
    json_decref(root);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    cr_assert_eq(system(path), 0);
    free(out);
    free(err);
}

/* The latency run says what it was made of: who kept the CPUs busy while
 * it was fed, the processor's batches, and p50/p99 by second of event
 * time (the first second is left out, so 3 s make two windows), printed
 * and in the JSON. footfall-shelf alerts on a few hundred of its records a
 * second even on this small load, so each second has outputs. */
Test(bench, the_latency_run_shows_its_load_and_its_windows, .timeout = 300)
{
    char dir[] = "/tmp/footfall-bench-test-XXXXXX", path[256], *out = NULL, *err = NULL;
    cr_assert_not_null(mkdtemp(dir));
    const char *argv[] = {FF_BIN_DIR "/footfall",
                          "bench",
                          "--records",
                          "20000",
                          "--no-memory",
                          "--latency-seconds",
                          "3",
                          "--partitions",
                          "4",
                          "--processors",
                          "shelf",
                          "--out",
                          dir,
                          NULL};
    int rc = ff_run(argv, NULL, &out, &err);
    cr_assert(rc == 0 || rc == 1, "exit %d\n%s\n%s", rc, out, err);
    cr_assert_not_null(strstr(out, "    latency run: batches of "), "%s", out);
    cr_assert_not_null(strstr(out, "    p50 / p99 ms by 1 s of event time: "), "%s", out);

    json_t *root = result_json(dir);
    json_t *shelf = json_object_get(json_object_get(root, "processors"), "shelf");
    double p99 = json_number_value(json_object_get(shelf, "p99_ms"));
    cr_assert_gt(p99, 0, "a latency was measured");
    json_t *run = json_object_get(shelf, "latency_run");
    cr_assert_not_null(run, "the latency run's own figures");
    const char *who[] = {"processor", "redis", "broker", "harness"};
    assert_busy(json_object_get(run, "cpus_busy"), who, 4);
    cr_assert_gt(json_number_value(json_object_get(run, "batch_records")), 0);
    cr_assert(json_is_number(json_object_get(json_object_get(run, "batch_phase_ms"), "fill")));
    cr_assert_eq(json_number_value(json_object_get(run, "window_s")), 1.0);
    json_t *p50w = json_object_get(run, "p50_ms_by_window");
    json_t *p99w = json_object_get(run, "p99_ms_by_window");
    cr_assert_eq(json_array_size(p50w), 2, "seconds 1 to 3 of the feed");
    cr_assert_eq(json_array_size(p99w), 2);
    double top = 0;
    for (size_t w = 0; w < 2; w++) {
        double a = json_number_value(json_array_get(p50w, w));
        double b = json_number_value(json_array_get(p99w, w));
        cr_assert(a > 0 && b >= a, "window %zu: p50 %f, p99 %f", w, a, b);
        top = FF_MAX(top, b);
    }
    /* Every sample is in a window: the run's p99 is no higher than the
     * highest window's, which is no higher than the longest wait. */
    cr_assert_leq(p99, top + 1e-9, "p99 %f, windows' highest %f", p99, top);
    cr_assert_geq(json_number_value(json_object_get(shelf, "max_ms")), top);
    json_decref(root);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    cr_assert_eq(system(path), 0);
    free(out);
    free(err);
}

Test(bench, a_bad_option_names_itself_and_exits_2)
{
    char *out = NULL, *err = NULL;
    const char *argv[] = {FF_BIN_DIR "/footfall", "bench", "--processors", "shelf,till", NULL};
    cr_assert_eq(ff_run(argv, NULL, &out, &err), 2);
    cr_assert_not_null(strstr(err, "'till'"), "%s", err);
    free(out);
    free(err);
    const char *argv2[] = {FF_BIN_DIR "/footfall", "bench", "--records", "ten", NULL};
    cr_assert_eq(ff_run(argv2, NULL, &out, &err), 2);
    cr_assert_not_null(strstr(err, "--records"), "%s", err);
    free(out);
    free(err);
    /* A results directory that cannot be made fails at once, not after the run. */
    const char *argv3[] = {FF_BIN_DIR "/footfall", "bench", "--records", "1000", "--warmup", "0",
                           "--no-memory", "--latency-seconds", "0", "--processors", "shelf",
                           "--out", "/proc/footfall/results", NULL};
    cr_assert_eq(ff_run(argv3, NULL, &out, &err), 2);
    cr_assert_not_null(strstr(err, "--out /proc/footfall/results: "), "%s", err);
    cr_assert_null(strstr(out, "warm-up"), "nothing ran: %s", out);
    free(out);
    free(err);
}
