/* footfall replay: a processor's logic over its inputs, bounded, into another state prefix, without side effects. */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ff_clock.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "ff_loop.h"
#include "ff_proc.h"
#include "geofence/geofence_proc.h"
#include "pos/pos_proc.h"
#include "shelf/shelf_proc.h"
#include "web/web_proc.h"

static const ff_processor_t *const processors[] = {&shelf_processor, &web_processor,
                                                   &geofence_processor, &pos_processor};

typedef struct replay_s {
    const ff_processor_t *def;
    ff_conf_t *conf;
    rd_kafka_t *rk;    /* the replay group's handle: metadata, offsets */
    rd_kafka_t *probe; /* reads single records to bisect on timestamps */
    ff_bound_t *bounds;
    size_t nbounds;
    int64_t *initial; /* positions when this run started */
    int64_t total;
    int64_t t0;
    int tty;
    int drew;
} replay_t;

static void help(void)
{
    printf("usage: footfall replay PROCESSOR --state-prefix P [--from WHEN] [--to WHEN]\n"
           "                      [--triggers off|replayed|shadow:TOPIC] [--clock event|wall]\n"
           "                      [--group G] [--dry-run] [--restart]\n\n"
           "Runs a processor's logic (shelf, web, geofence or pos) over its input topics,\n"
           "from a start up to end offsets captured when it starts, writing state under\n"
           "prefix P. It reads in its own consumer group (default footfall-replay-PROC-P)\n"
           "and never moves the live group's offsets.\n\n"
           "  --from WHEN     earliest (default), offset:N, a time (RFC 3339 or epoch ms, by\n"
           "                  record timestamp), or a duration ago (7d, 12h)\n"
           "  --to WHEN       end (default: the end offsets now), a time, or committed[:GROUP]\n"
           "                  (where the live group, default footfall-PROC, has got to)\n"
           "  --triggers      off (default): decisions only, a REPLAY decision for each\n"
           "                  trigger; replayed: to the real topics marked replayed=true,\n"
           "                  still behind the freshness guard; shadow:TOPIC: every output\n"
           "                  to TOPIC, for comparison\n"
           "  --clock event   windows and TTLs follow the records' event time, as they did\n"
           "                  when the events happened (the freshness guard keeps the clock)\n"
           "  --dry-run       print the plan: partitions, start and end offsets, counts\n"
           "  --restart       ignore the progress of an earlier run and start from --from\n\n"
           "Interrupt it with Ctrl-C: the same command again continues where it stopped.\n");
}

static int own_flag(const char *flag)
{
    static const char *const with_value[] = {"--state-prefix", "--from", "--to",
                                             "--triggers",     "--clock", "--group"};
    for (size_t i = 0; i < FF_ARRAY_LEN(with_value); i++)
        if (!strcmp(flag, with_value[i]))
            return 2;
    return !strcmp(flag, "--dry-run") || !strcmp(flag, "--restart") ? 1 : 0;
}

/* ---- the plan ------------------------------------------------------------- */

/* The timestamp of the first record at or after offset, or -1. The probe
 * handle uses the simple consumer API: each probe starts exactly at its
 * offset, with nothing left over from the previous one. */
static int64_t ts_at(rd_kafka_t *probe, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(probe, topic, NULL);
    int64_t ts = -1, deadline = ff_mono_ms() + 10000;
    if (rd_kafka_consume_start(rkt, partition, offset) == -1) {
        rd_kafka_topic_destroy(rkt);
        return -1;
    }
    while (ts < 0 && ff_mono_ms() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consume(rkt, partition, 100);
        if (!rkm)
            continue;
        if (!rkm->err && rkm->offset >= offset)
            ts = rd_kafka_message_timestamp(rkm, NULL);
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consume_stop(rkt, partition);
    rd_kafka_topic_destroy(rkt);
    ff_debug("replay.probe", "%s [%d] @%lld: timestamp %lld", topic, (int)partition,
             (long long)offset, (long long)ts);
    return ts;
}

/* The first offset in [lo, hi) whose record timestamp is at or after t,
 * or hi if there is none: what ListOffsets by time answers. A broker that
 * cannot answer by time (the embedded one says -1 for everything) is
 * bisected on the records' timestamps, which assumes they grow with the
 * offsets (one producer per partition, CreateTime). */
static int64_t offset_for_time(rd_kafka_t *rk, rd_kafka_t *probe, const char *topic,
                               int32_t partition, int64_t lo, int64_t hi, int64_t t)
{
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(1);
    int64_t found = -1;
    rd_kafka_topic_partition_list_add(q, topic, partition)->offset = t;
    if (rd_kafka_offsets_for_times(rk, q, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        !q->elems[0].err)
        found = q->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(q);
    if (found >= 0)
        return found < lo ? lo : found > hi ? hi : found;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2, ts = ts_at(probe, topic, partition, mid);
        if (ts < 0 || ts >= t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

typedef enum { WHEN_EARLIEST, WHEN_END, WHEN_OFFSET, WHEN_TIME, WHEN_COMMITTED } when_kind_t;

typedef struct when_s {
    when_kind_t kind;
    int64_t value;
    const char *group;
} when_t;

static int parse_when(const char *s, bool is_to, when_t *w, const char *proc)
{
    int64_t v;
    memset(w, 0, sizeof(*w));
    if (!s) {
        w->kind = is_to ? WHEN_END : WHEN_EARLIEST;
        return 0;
    }
    if (!strcmp(s, "earliest") && !is_to) {
        w->kind = WHEN_EARLIEST;
    } else if (!strcmp(s, "end") && is_to) {
        w->kind = WHEN_END;
    } else if (!strncmp(s, "offset:", 7) && !is_to && ff_parse_i64(s + 7, &v) == 0 && v >= 0) {
        w->kind = WHEN_OFFSET;
        w->value = v;
    } else if (!strncmp(s, "committed", 9) && is_to && (!s[9] || s[9] == ':')) {
        w->kind = WHEN_COMMITTED;
        static char live[256];
        snprintf(live, sizeof live, "footfall-%s", proc);
        w->group = s[9] ? s + 10 : live;
    } else if (ff_parse_time_ms(s, &v) == 0) {
        w->kind = WHEN_TIME;
        w->value = v;
    } else if (ff_parse_duration_ms(s, &v) == 0) {
        w->kind = WHEN_TIME;
        w->value = ff_clock_now_ms() - v;
    } else {
        return -1;
    }
    return 0;
}

static int committed_of(replay_t *r, const char *group, rd_kafka_topic_partition_list_t *parts)
{
    char errstr[256];
    const char *extra[] = {"group.id", group, NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(r->conf, NULL, extra, errstr, sizeof errstr);
    rd_kafka_t *rk;
    rd_kafka_resp_err_t err;
    if (!kconf || !(rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr)))
        return -1;
    err = rd_kafka_committed(rk, parts, 10000);
    rd_kafka_destroy(rk);
    return err ? -1 : 0;
}

static int make_plan(replay_t *r, const when_t *from, const when_t *to, bool restart,
                     const char *group, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *mine = rd_kafka_topic_partition_list_new(16);
    rd_kafka_topic_partition_list_t *live = NULL;
    int rc = -1;

    for (size_t i = 0; i < r->def->ninputs; i++) {
        const char *topic = ff_conf_str(r->conf, r->def->inputs[i].topic_setting);
        const rd_kafka_metadata_t *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, topic, NULL);
        rd_kafka_resp_err_t err = rd_kafka_metadata(r->rk, 0, rkt, &md, 10000);
        rd_kafka_topic_destroy(rkt);
        if (err || md->topic_cnt != 1 || md->topics[0].err) {
            snprintf(errstr, errstr_size, "cannot find topic %s: %s", topic,
                     rd_kafka_err2str(err ? err : md->topics[0].err));
            if (!err)
                rd_kafka_metadata_destroy(md);
            goto out;
        }
        for (int p = 0; p < md->topics[0].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(mine, topic, md->topics[0].partitions[p].id);
        rd_kafka_metadata_destroy(md);
    }
    if (committed_of(r, group, mine) == -1) {
        snprintf(errstr, errstr_size, "cannot read the offsets of group %s", group);
        goto out;
    }
    if (to->kind == WHEN_COMMITTED) {
        live = rd_kafka_topic_partition_list_copy(mine);
        if (committed_of(r, to->group, live) == -1) {
            snprintf(errstr, errstr_size, "cannot read the offsets of group %s", to->group);
            goto out;
        }
    }
    r->nbounds = (size_t)mine->cnt;
    r->bounds = ff_calloc(r->nbounds + 1, sizeof(*r->bounds));
    r->initial = ff_calloc(r->nbounds + 1, sizeof(int64_t));
    for (int i = 0; i < mine->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &mine->elems[i];
        ff_bound_t *b = &r->bounds[i];
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(r->rk, tp->topic, tp->partition, &lo, &hi, 10000)) {
            snprintf(errstr, errstr_size, "cannot read the offsets of %s [%d]", tp->topic,
                     (int)tp->partition);
            goto out;
        }
        b->topic = ff_strdup(tp->topic);
        b->partition = tp->partition;
        switch (to->kind) {
        case WHEN_TIME:
            b->end = offset_for_time(r->rk, r->probe, tp->topic, tp->partition, lo, hi, to->value);
            break;
        case WHEN_COMMITTED:
            b->end = live->elems[i].offset >= 0 ? live->elems[i].offset : lo;
            break;
        default:
            b->end = hi;
        }
        if (!restart && tp->offset >= 0) {
            b->start = tp->offset; /* an earlier run got this far */
        } else {
            switch (from->kind) {
            case WHEN_OFFSET:
                b->start = from->value < lo ? lo : from->value > hi ? hi : from->value;
                break;
            case WHEN_TIME:
                b->start = offset_for_time(r->rk, r->probe, tp->topic, tp->partition, lo, hi,
                                           from->value);
                break;
            default:
                b->start = lo;
            }
        }
        if (b->end < b->start)
            b->end = b->start;
        b->position = b->start;
        r->initial[i] = b->start;
        r->total += b->end - b->start;
    }
    rc = 0;
out:
    if (live)
        rd_kafka_topic_partition_list_destroy(live);
    rd_kafka_topic_partition_list_destroy(mine);
    return rc;
}

static void print_plan(const replay_t *r, const char *group)
{
    printf("replay plan for footfall-%s (group %s):\n", r->def->name, group);
    printf("  %-24s %9s %12s %12s %12s\n", "topic", "partition", "start", "end", "records");
    for (size_t i = 0; i < r->nbounds; i++)
        printf("  %-24s %9d %12lld %12lld %12lld\n", r->bounds[i].topic,
               (int)r->bounds[i].partition, (long long)r->bounds[i].start,
               (long long)r->bounds[i].end, (long long)(r->bounds[i].end - r->bounds[i].start));
    printf("  %-24s %9s %12s %12s %12lld\n", "total", "", "", "", (long long)r->total);
}

/* ---- running ---------------------------------------------------------------- */

static void progress(void *opaque, const ff_loop_t *loop)
{
    replay_t *r = opaque;
    int64_t done = 0, elapsed = ff_mono_ms() - r->t0;
    double rate, pct;
    (void)loop;
    for (size_t i = 0; i < r->nbounds; i++)
        done += r->bounds[i].position - r->initial[i];
    rate = elapsed > 0 ? (double)done * 1000.0 / (double)elapsed : 0;
    pct = r->total ? 100.0 * (double)done / (double)r->total : 100.0;
    if (r->tty) {
        char bar[31];
        int fill = (int)(pct * 30 / 100);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        char eta[32] = "-";
        if (rate > 0 && done < r->total)
            snprintf(eta, sizeof eta, "%.0fs", (double)(r->total - done) / rate);
        fprintf(stderr, "\r  [%s] %5.1f%%  %lld/%lld records  %.0f/s  ETA %s     ", bar, pct,
                (long long)done, (long long)r->total, rate, eta);
        r->drew = 1;
    } else if (elapsed / 5000 != (elapsed - 1000) / 5000 || done >= r->total) {
        fprintf(stderr, "replay: %lld/%lld records (%.1f%%), %.0f/s\n", (long long)done,
                (long long)r->total, pct, rate);
    }
}

static void summary(const replay_t *r, const ff_loop_stats_t *st, int64_t elapsed, int stopped)
{
    int64_t done = 0;
    for (size_t i = 0; i < r->nbounds; i++)
        done += r->bounds[i].position - r->initial[i];
    if (r->drew)
        fprintf(stderr, "\n");
    printf("replay %s: %lld of %lld records in %.1f s\n", stopped ? "interrupted" : "done",
           (long long)done, (long long)r->total, (double)elapsed / 1000.0);
    printf("  triggers:    ");
    int any = 0;
    for (int l = FF_LABEL_NEARBY; l < FF_LABEL__COUNT; l++) {
        if (st->labels[l]) {
            printf("%s%s %llu", any ? ", " : "", ff_label_name(l),
                   (unsigned long long)st->labels[l]);
            any = 1;
        }
    }
    printf("%s\n  decisions:   fired %llu", any ? "" : "none", (unsigned long long)st->labels[FF_LABEL_FIRED]);
    for (int reason = 0; reason < FF_REASON__COUNT; reason++)
        if (st->labels[FF_LABEL_SUPPRESSED + reason])
            printf(", %s %llu", ff_reason_name(reason),
                   (unsigned long long)st->labels[FF_LABEL_SUPPRESSED + reason]);
    printf("\n  dlq:         %llu\n", (unsigned long long)st->dlq);
    if (stopped)
        printf("  run the same command again to continue\n");
}

int cmd_replay(int argc, char **argv)
{
    replay_t r;
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[1024], group_buf[512], *group;
    int nrest = 0, rc, status = 2;
    const char *proc = NULL, *prefix, *v, *triggers;
    when_t from, to;
    ff_loop_stats_t st;

    memset(&r, 0, sizeof r);
    memset(&st, 0, sizeof st);
    r.conf = ff_conf_new("cli");
    rc = cli_parse("replay", r.conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    for (int i = 0; i < nrest; i++) {
        if (rest[i][0] == '-') {
            if (own_flag(rest[i]) == 2 && !strchr(rest[i], '='))
                i++;
            continue;
        }
        proc = rest[i];
    }
    for (size_t i = 0; proc && i < FF_ARRAY_LEN(processors); i++)
        if (!strcmp(processors[i]->name, proc))
            r.def = processors[i];
    if (!r.def) {
        fprintf(stderr, "footfall replay: which processor? shelf, web, geofence or pos\n");
        goto out;
    }
    prefix = cli_opt(rest, nrest, "--state-prefix");
    if (!prefix || !*prefix) {
        fprintf(stderr, "footfall replay: --state-prefix is required (state goes there, not to "
                        "the live prefix)\n");
        goto out;
    }
    triggers = cli_opt(rest, nrest, "--triggers");
    if (!triggers)
        triggers = "off";
    if (!strcmp(triggers, "on") || ff_conf_check_triggers(triggers, errstr, sizeof errstr)) {
        fprintf(stderr, "footfall replay: --triggers wants off, replayed or shadow:TOPIC, not "
                        "'%s'\n", triggers);
        goto out;
    }
    if (parse_when(cli_opt(rest, nrest, "--from"), false, &from, r.def->name) == -1 ||
        parse_when(cli_opt(rest, nrest, "--to"), true, &to, r.def->name) == -1) {
        fprintf(stderr, "footfall replay: --from wants earliest, offset:N, a time or a duration; "
                        "--to end, a time or committed[:GROUP]\n");
        goto out;
    }
    if ((v = cli_opt(rest, nrest, "--clock")) && strcmp(v, "event") && strcmp(v, "wall")) {
        fprintf(stderr, "footfall replay: --clock wants event or wall, not '%s'\n", v);
        goto out;
    }
    if (v && !strcmp(v, "event"))
        ff_clock_set_event_mode(1);
    snprintf(group_buf, sizeof group_buf, "footfall-replay-%s-%s", r.def->name, prefix);
    group = cli_opt(rest, nrest, "--group") ? (char *)cli_opt(rest, nrest, "--group") : group_buf;
    if (strcmp(ff_conf_source(r.conf, "log.level"), "default") == 0)
        ff_log_set_level(FF_LOG_WARN); /* the progress bar is the interface */

    /* The processor's settings, redirected. */
    if (ff_conf_set(r.conf, "state.prefix", prefix, "--state-prefix", errstr, sizeof errstr) ||
        ff_conf_set(r.conf, "group.id", group, "--group", errstr, sizeof errstr) ||
        ff_conf_set(r.conf, "instance.id", "replay", "replay", errstr, sizeof errstr) ||
        ff_conf_set(r.conf, "triggers", triggers, "--triggers", errstr, sizeof errstr)) {
        fprintf(stderr, "footfall replay: %s\n", errstr);
        goto out;
    }
    const char *extra[] = {"group.id", group, "enable.auto.commit", "false", NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(r.conf, NULL, extra, errstr, sizeof errstr);
    if (!kconf || !(r.rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr))) {
        fprintf(stderr, "footfall replay: %s\n", errstr);
        goto out;
    }
    const char *probe_extra[] = {"group.id", "footfall-replay-probe", "enable.auto.commit",
                                 "false", NULL};
    kconf = ff_kafka_conf(r.conf, NULL, probe_extra, errstr, sizeof errstr);
    if (!kconf || !(r.probe = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr))) {
        fprintf(stderr, "footfall replay: %s\n", errstr);
        goto out;
    }
    status = 1;
    if (make_plan(&r, &from, &to, cli_flag(rest, nrest, "--restart"), group, errstr,
                  sizeof errstr) == -1) {
        fprintf(stderr, "footfall replay: %s\n", errstr);
        goto out;
    }
    if (cli_flag(rest, nrest, "--dry-run")) {
        print_plan(&r, group);
        status = 0;
        goto out;
    }
    rd_kafka_destroy(r.rk);
    r.rk = NULL;
    rd_kafka_destroy(r.probe);
    r.probe = NULL;
    r.tty = isatty(STDERR_FILENO);
    r.t0 = ff_mono_ms();
    fprintf(stderr, "replaying %lld records of footfall-%s into prefix '%s', triggers %s\n",
            (long long)r.total, r.def->name, prefix, triggers);
    ff_log_set_name("footfall-replay");
    ff_proc_install_signals();
    ff_run_opts_t opts = {.bounds = r.bounds, .nbounds = r.nbounds, .progress = progress,
                          .opaque = &r, .stats = &st};
    status = ff_proc_run(r.def, r.conf, &opts, errstr, sizeof errstr);
    if (status == 2 || (status == 1 && errstr[0]))
        fprintf(stderr, "footfall replay: %s\n", errstr);
    if (status == 0) {
        int stopped = 0;
        for (size_t i = 0; i < r.nbounds; i++)
            stopped |= r.bounds[i].position < r.bounds[i].end;
        summary(&r, &st, ff_mono_ms() - r.t0, stopped);
        status = stopped ? 130 : 0;
    }
out:
    if (r.rk)
        rd_kafka_destroy(r.rk);
    if (r.probe)
        rd_kafka_destroy(r.probe);
    for (size_t i = 0; i < r.nbounds; i++)
        free((char *)r.bounds[i].topic);
    free(r.bounds);
    free(r.initial);
    free(rest);
    ff_conf_destroy(r.conf);
    return status;
}
