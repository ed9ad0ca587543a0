/* ff_proc: what a processor is (its inputs and its engine callbacks) and the main() they share. */
#ifndef FF_PROC_H
#define FF_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_config.h"
#include "ff_engine.h"
#include "ff_records.h"

#define FF_VERSION "0.1.0"

/* One input topic of a processor. */
typedef struct ff_input_s {
    const char *topic_setting; /* "topic.shelf" */
    ff_rec_t rec;
    /* Why a decoded record cannot be used (a reason written into buf), or
     * NULL. `now` is the clock. */
    const char *(*validate)(void *proc, const void *rec, int64_t now, char *buf, size_t size);
    /* The record's event time. */
    int64_t (*event_time)(const void *rec);
} ff_input_t;

/* What an output is, for metrics and the run summary. */
enum {
    FF_LABEL_DLQ = 0,
    FF_LABEL_FIRED,           /* a decision that a trigger fired */
    FF_LABEL_SUPPRESSED,      /* + ff_reason_t: a decision that one was suppressed */
    FF_LABEL_NEARBY = FF_LABEL_SUPPRESSED + FF_REASON__COUNT,
    FF_LABEL_INVITE,
    FF_LABEL_HOLDOUT,
    FF_LABEL_ASSIST,
    FF_LABEL_CONVERSION,
    FF_LABEL_STOCK_LOW,
    FF_LABEL_STOCK_OUT,
    FF_LABEL_STOCK_RESTOCKED,
    FF_LABEL__COUNT
};

/* "dlq", "fired", "suppressed_frequency_cap", "nearby", "stock_out", … */
const char *ff_label_name(int label);

typedef struct ff_processor_s {
    const char *name;    /* "shelf": binary footfall-shelf, group footfall-shelf */
    unsigned procs;      /* its FF_P_* bit, for --help */
    const char *summary; /* one line for --help */
    const ff_input_t *inputs;
    size_t ninputs;
    const char *const *outputs; /* topic settings it writes, NULL-terminated */
    const ff_engine_ops_t *ops;
    size_t state_size;   /* per-entity state handed to the ops */
    bool owns_state;     /* the only writer of its entities: cache applied offsets */
    bool applied_token;  /* reads ff_ent_applied_token (ff_engine_opts_t) */
    /* Makes the processor's context from the settings; NULL with errstr (a
     * bad setting: the message names the key). */
    void *(*create)(const ff_conf_t *conf, char *errstr, size_t errstr_size);
    void (*destroy)(void *proc);
} ff_processor_t;

/* The whole life of a processor binary: settings, clients, the loop, a
 * graceful stop. Returns the exit status: 0 after a graceful stop, 2 for a
 * bad setting, 1 for anything else. */
int ff_proc_main(const ff_processor_t *def, int argc, char **argv);

struct ff_bound_s;
struct ff_loop_s;
struct ff_loop_stats_s;

/* How ff_proc_run runs (all optional). */
typedef struct ff_run_opts_s {
    struct ff_bound_s *bounds; /* a bounded run (footfall replay) */
    size_t nbounds;
    void (*progress)(void *opaque, const struct ff_loop_s *loop);
    void *opaque;
    struct ff_loop_stats_s *stats; /* receives the loop's counters at the end */
} ff_run_opts_t;

/* Runs processor def with the settings in conf until a stop (or the end of
 * its bounds). Logs go through ff_log, whose name and level the caller set.
 * Returns 0 after a graceful stop, 2 for a bad setting (errstr says which),
 * 1 for anything else. */
int ff_proc_run(const ff_processor_t *def, const ff_conf_t *conf, const ff_run_opts_t *opts,
                char *errstr, size_t errstr_size);

/* Set by SIGTERM and SIGINT. */
extern volatile sig_atomic_t ff_stop_requested;
/* Installs the handlers that set ff_stop_requested. */
void ff_proc_install_signals(void);

#endif
