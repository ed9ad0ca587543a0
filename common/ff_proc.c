/* ff_proc: the main() every processor binary shares: settings, clients, the loop, a graceful stop. */
#include "ff_proc.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_codec.h"
#include "ff_http.h"
#include "ff_metrics.h"
#include "ff_registry.h"
#include "ff_log.h"
#include "ff_loop.h"
#include "ff_redis.h"

volatile sig_atomic_t ff_stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    ff_stop_requested = 1;
}

void ff_proc_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

const char *ff_label_name(int label)
{
    static const char *const names[] = {
        [FF_LABEL_DLQ] = "dlq",
        [FF_LABEL_FIRED] = "fired",
        [FF_LABEL_SUPPRESSED + FF_REASON_ELIGIBLE] = "suppressed_eligible",
        [FF_LABEL_SUPPRESSED + FF_REASON_FREQUENCY_CAP] = "suppressed_frequency_cap",
        [FF_LABEL_SUPPRESSED + FF_REASON_QUIET_HOURS] = "suppressed_quiet_hours",
        [FF_LABEL_SUPPRESSED + FF_REASON_NO_CONSENT] = "suppressed_no_consent",
        [FF_LABEL_SUPPRESSED + FF_REASON_HOLDOUT] = "suppressed_holdout",
        [FF_LABEL_SUPPRESSED + FF_REASON_STALE_EVENT] = "suppressed_stale_event",
        [FF_LABEL_SUPPRESSED + FF_REASON_NO_STOCK] = "suppressed_no_stock",
        [FF_LABEL_SUPPRESSED + FF_REASON_REPLAY] = "suppressed_replay",
        [FF_LABEL_NEARBY] = "nearby",
        [FF_LABEL_INVITE] = "invite",
        [FF_LABEL_HOLDOUT] = "holdout",
        [FF_LABEL_ASSIST] = "store_assist",
        [FF_LABEL_CONVERSION] = "conversion",
        [FF_LABEL_STOCK_LOW] = "stock_low",
        [FF_LABEL_STOCK_OUT] = "stock_out",
        [FF_LABEL_STOCK_RESTOCKED] = "stock_restocked",
    };
    return label >= 0 && label < FF_LABEL__COUNT && names[label] ? names[label] : "other";
}

static void usage(const ff_processor_t *def, FILE *fp)
{
    fprintf(fp, "usage: footfall-%s [--config FILE] [--KEY=VALUE …]\n\n%s\n\nReads:", def->name,
            def->summary);
    for (size_t i = 0; i < def->ninputs; i++)
        fprintf(fp, " %s (setting %s)", ff_record_descs[def->inputs[i].rec]->name,
                def->inputs[i].topic_setting);
    fprintf(fp, "\n\n");
    ff_conf_print_help(fp, def->procs, def->name);
    fprintf(fp, "\nFOOTFALL_NOW (epoch ms or RFC 3339 UTC) freezes the clock, for tests.\n");
}

static void log_summary(ff_loop_t *loop, ff_engine_t *engine,
                        ff_redis_t *redis)
{
    const ff_loop_stats_t *ls = ff_loop_stats(loop);
    const ff_engine_stats_t *es = ff_engine_stats(engine);
    ff_buf_t labels;
    ff_buf_init(&labels);
    for (int l = FF_LABEL_FIRED; l < FF_LABEL__COUNT; l++) {
        if (!ls->labels[l])
            continue;
        ff_buf_printf(&labels, "%s%s=%llu", labels.len ? " " : "", ff_label_name(l),
                      (unsigned long long)ls->labels[l]);
    }
    ff_info("proc.summary",
            "consumed=%llu batches=%llu dlq=%llu outputs=%llu txn_commits=%llu "
            "txn_aborts=%llu outage_pauses=%llu stalls=%llu redis_roundtrips=%llu "
            "engine_rounds=%llu "
            "conflicts=%llu replayed=%llu cache_hits=%llu cache_misses=%llu "
            "redis_redirects=%llu%s%s",
            (unsigned long long)ls->consumed, (unsigned long long)ls->batches,
            (unsigned long long)ls->dlq, (unsigned long long)ls->outputs, (unsigned long long)ls->txn_commits,
            (unsigned long long)ls->txn_aborts, (unsigned long long)ls->outage_pauses,
            (unsigned long long)ls->stalls, (unsigned long long)ff_redis_roundtrips(redis), (unsigned long long)es->rounds,
            (unsigned long long)es->conflicts, (unsigned long long)es->replayed,
            (unsigned long long)es->cache_hits, (unsigned long long)es->cache_misses,
            (unsigned long long)ff_redis_redirects(redis), labels.len ? " " : "", labels.len ? labels.data : "");
    ff_buf_term(&labels);
}

int ff_proc_run(const ff_processor_t *def, const ff_conf_t *conf, const ff_run_opts_t *opts,
                char *errstr, size_t errstr_size)
{
    char name[64];
    int rc, status = 1;
    ff_codec_t *codec = NULL;
    ff_redis_t *redis = NULL;
    ff_engine_t *engine = NULL;
    ff_loop_t *loop = NULL;
    void *proc = NULL;
    ff_run_opts_t none = {0};
    ff_metrics_t *metrics = ff_metrics_new();
    ff_http_t *http = NULL;
    ff_watchdog_t *watchdog = NULL;
    ff_status_t probe = {0};
    ff_registry_t *registry = NULL;
    int config_error = 0;

    if (!opts)
        opts = &none;
    snprintf(name, sizeof name, "footfall-%s", def->name);
    codec = ff_codec_new(errstr, errstr_size);
    if (!codec)
        goto out;
    /* A registry that cannot be reached at start-up stops the start: better a
     * clear error now than records written with ids nobody can read. */
    if (ff_codec_use_registry(codec, conf, def->outputs, &registry, &config_error, errstr,
                              errstr_size) == -1) {
        status = config_error ? 2 : 1;
        goto out;
    }
    redis = ff_redis_from_conf(conf, errstr, errstr_size);
    if (!redis) {
        status = 2;
        goto out;
    }
    proc = def->create(conf, errstr, errstr_size);
    if (!proc) {
        status = 2;
        goto out;
    }
    /* The processor's input topics, left out of its applied token. */
    const char *own_topics[8] = {0};
    for (size_t i = 0; i < def->ninputs && i + 1 < FF_ARRAY_LEN(own_topics); i++)
        own_topics[i] = ff_conf_str(conf, def->inputs[i].topic_setting);
    ff_engine_opts_t eopts = {
        .prefix = ff_conf_str(conf, "state.prefix"),
        .state_size = def->state_size,
        .cache_applied = def->owns_state && ff_conf_int(conf, "state.cache.size") > 0,
        .cache_max = (size_t)ff_conf_int(conf, "state.cache.size"),
        .outcome_ttl_ms = 7 * 86400000LL,
        .applied_token = def->applied_token,
        .own_topics = own_topics,
        .route = {
            .decisions_topic = ff_conf_str(conf, "topic.decisions"),
            .processor = name,
        },
    };
    eopts.route.mode = ff_triggers_mode(ff_conf_str(conf, "triggers"), &eopts.route.shadow_topic);
    engine = ff_engine_new(redis, codec, def->ops, proc, &eopts);
    loop = ff_loop_new(def, proc, conf, codec, engine, errstr, errstr_size);
    if (!loop) {
        status = 2;
        goto out;
    }
    if (opts->bounds)
        ff_loop_set_bounds(loop, opts->bounds, opts->nbounds);
    if (opts->progress)
        ff_loop_set_progress(loop, opts->progress, opts->opaque);
    atomic_store(&probe.heartbeat_ms, ff_mono_ms());
    atomic_store(&probe.readiness, (int)FF_NOT_READY_STARTING);
    ff_loop_set_observability(loop, metrics, &probe);
    ff_redis_set_latency(redis, ff_metrics_histogram(metrics, "footfall_redis_roundtrip_seconds",
                                                     "duration of each Redis round trip", "",
                                                     ff_buckets_seconds, ff_buckets_seconds_n));
    {
        char labels[128];
        snprintf(labels, sizeof labels, "processor=\"%s\",version=\"%s\"", def->name, FF_VERSION);
        ff_series_set(ff_metrics_gauge(metrics, "footfall_info", "the processor and its version",
                                       labels),
                      1);
    }
    if (ff_conf_int(conf, "http.port") > 0) {
        http = ff_http_start((int)ff_conf_int(conf, "http.port"), metrics, &probe, FF_STALL_MS,
                             errstr, errstr_size);
        if (!http) {
            status = 2;
            goto out;
        }
    }
    char safe_url[600];
    ff_info("proc.start", "reading from %s, state in %s under prefix '%s', group %s%s%s",
            ff_conf_str(conf, "kafka.bootstrap.servers"),
            ff_redis_url_redact(ff_conf_str(conf, "redis.url"), safe_url, sizeof safe_url),
            eopts.prefix, ff_conf_str(conf, "group.id"),
            eopts.route.mode != FF_TRIGGERS_ON ? ", triggers " : "",
            eopts.route.mode != FF_TRIGGERS_ON ? ff_conf_str(conf, "triggers") : "");
    if (ff_redis_connect(redis, errstr, errstr_size) == -1)
        ff_warn("redis.connect", "%s (will keep trying)", errstr);
    watchdog = ff_watchdog_start(&probe, FF_STALL_MS);
    rc = ff_loop_run(loop);
    ff_watchdog_stop(watchdog);
    log_summary(loop, engine, redis);
    if (opts->stats)
        *opts->stats = *ff_loop_stats(loop);
    status = rc == 0 ? 0 : 1;
    ff_info("proc.stop", "stopped %s", status == 0 ? "cleanly" : "on an error");
out:
    ff_http_stop(http);
    ff_loop_destroy(loop);
    ff_engine_destroy(engine);
    if (proc)
        def->destroy(proc);
    ff_redis_destroy(redis);
    ff_codec_destroy(codec);
    ff_registry_destroy(registry);
    ff_metrics_destroy(metrics);
    return status;
}

int ff_proc_main(const ff_processor_t *def, int argc, char **argv)
{
    static char name[64];
    char errstr[1024];
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0, rc, status = 1;
    ff_conf_t *conf;

    snprintf(name, sizeof name, "footfall-%s", def->name);
    ff_log_set_name(name);
    conf = ff_conf_new(def->name);
    rc = ff_conf_from_args(conf, argc, argv, NULL, rest, &nrest, errstr, sizeof errstr);
    if (rc == 1) {
        usage(def, stdout);
        status = 0;
        goto out;
    }
    if (rc == -1 || nrest > 0) {
        if (rc != -1)
            snprintf(errstr, sizeof errstr, "unexpected argument '%s'; see --help", rest[0]);
        fprintf(stderr, "%s: %s\n", name, errstr);
        status = 2;
        goto out;
    }
    ff_log_set_level(ff_log_level_parse(ff_conf_str(conf, "log.level")));
    if (ff_clock_init_from_env(errstr, sizeof errstr) == -1) {
        fprintf(stderr, "%s: %s\n", name, errstr);
        status = 2;
        goto out;
    }
    ff_proc_install_signals();
    errstr[0] = '\0';
    status = ff_proc_run(def, conf, NULL, errstr, sizeof errstr);
    if (status == 2)
        fprintf(stderr, "%s: %s\n", name, errstr);
    else if (status == 1 && errstr[0])
        ff_error("proc.start", "%s", errstr);
out:
    ff_conf_destroy(conf);
    free(rest);
    return status;
}
