/* ff_config: one settings table drives parsing, validation and --help for every binary. */
#ifndef FF_CONFIG_H
#define FF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Which binaries a setting concerns (for --help; every binary accepts every
 * key, so one config file or ConfigMap can serve the whole pipeline). */
#define FF_P_SHELF 0x01u
#define FF_P_WEB 0x02u
#define FF_P_GEOFENCE 0x04u
#define FF_P_POS 0x08u
#define FF_P_CLI 0x10u
#define FF_P_PROCS (FF_P_SHELF | FF_P_WEB | FF_P_GEOFENCE | FF_P_POS)
#define FF_P_ALL (FF_P_PROCS | FF_P_CLI)
#define FF_P_CUSTOMER (FF_P_WEB | FF_P_GEOFENCE | FF_P_POS)

typedef enum {
    FF_CONF_STR,
    FF_CONF_INT,
    FF_CONF_BOOL,
    FF_CONF_DURATION, /* "10m", "7d", "500ms" -> milliseconds */
    FF_CONF_CLOCKTIME, /* "21:00" -> minutes after midnight */
} ff_conf_type_t;

/* A validator gets the raw value and returns 0, or -1 with a description of
 * what was expected in errstr. */
typedef int (*ff_conf_check_fn)(const char *value, char *errstr, size_t errstr_size);

typedef struct ff_setting_s {
    const char *key;
    ff_conf_type_t type;
    const char *def; /* "{proc}" is replaced by the processor name */
    int64_t min, max; /* for INT and DURATION; min == max means unbounded */
    unsigned procs;
    ff_conf_check_fn check;
    const char *help;
} ff_setting_t;

/* The table itself (common/ff_settings.c). */
extern const ff_setting_t ff_settings[];
extern const size_t ff_settings_count;

typedef struct ff_conf_s ff_conf_t;

/* A configuration for `proc` ("shelf", "web", … or "cli"), holding defaults. */
ff_conf_t *ff_conf_new(const char *proc);
void ff_conf_destroy(ff_conf_t *conf);

/* Sets key (a table key or any "kafka.*" key) from `source` (a file:line, an
 * environment variable or "--flag", used in errors). 0, or -1 with errstr
 * naming the key, the value and what was expected. */
int ff_conf_set(ff_conf_t *conf, const char *key, const char *value, const char *source,
                char *errstr, size_t errstr_size);
/* Reads a key=value file (# comments, blank lines). */
int ff_conf_load_file(ff_conf_t *conf, const char *path, char *errstr, size_t errstr_size);
/* The same for text already in memory; `name` stands for the file in errors. */
int ff_conf_load_text(ff_conf_t *conf, const char *text, size_t len, const char *name,
                      char *errstr, size_t errstr_size);
/* Applies FOOTFALL_<KEY> variables; FOOTFALL_KAFKA_X_Y becomes kafka.x.y. */
int ff_conf_load_env(ff_conf_t *conf, char *errstr, size_t errstr_size);

/* The standard sequence for a binary: --config FILE, then the environment,
 * then --key=value / --key value flags. Arguments that are not settings are
 * left in rest[] (in order, *nrest of them, pointing into argv) for the
 * caller. Returns 0; 1 when --help was given; -1 with errstr on a bad value,
 * an unknown --flag that `is_own_flag` does not claim, or a missing file.
 * `is_own_flag` (may be NULL) says whether a flag belongs to the caller and
 * whether it takes a value (return 1 = flag alone, 2 = takes a value). */
typedef int (*ff_conf_own_flag_fn)(const char *flag);
int ff_conf_from_args(ff_conf_t *conf, int argc, char **argv, ff_conf_own_flag_fn is_own_flag,
                      char **rest, int *nrest, char *errstr, size_t errstr_size);

/* Getters. Asking for a key that is not in the table is a programming error
 * and aborts. Durations come back in milliseconds, booleans as 0/1. */
const char *ff_conf_str(const ff_conf_t *conf, const char *key);
int64_t ff_conf_int(const ff_conf_t *conf, const char *key);
/* Where a key's value came from: "default", a file:line, a variable, a flag. */
const char *ff_conf_source(const ff_conf_t *conf, const char *key);

/* kafka.* pass-through settings, without the prefix, in the order set. */
size_t ff_conf_kafka_count(const ff_conf_t *conf);
void ff_conf_kafka_get(const ff_conf_t *conf, size_t i, const char **key, const char **value);

/* The env name of a key: FOOTFALL_ + upper case, dots as underscores. */
void ff_conf_env_name(const char *key, char *buf, size_t size);

/* Prints the settings for this binary's procs mask: key, env, default, help. */
void ff_conf_print_help(FILE *fp, unsigned procs, const char *proc);

/* Shared validators, also used by the settings table. */
int ff_conf_check_redis_url(const char *value, char *errstr, size_t errstr_size);
int ff_conf_check_tz_map(const char *value, char *errstr, size_t errstr_size);
int ff_conf_check_tz(const char *value, char *errstr, size_t errstr_size);
int ff_conf_check_log_level(const char *value, char *errstr, size_t errstr_size);
int ff_conf_check_triggers(const char *value, char *errstr, size_t errstr_size);

/* Parses "+05:30" / "-08:00" / "Z" into minutes east of UTC; -1 if bad. */
int ff_tz_parse(const char *s, int *minutes);
/* Parses a store.tz map "S1=-05:00, S2 = +05:30" (spaces around ids and
 * offsets ignored), calling fn for each store. 0, or -1 with errstr on the
 * first bad entry (fn is then not called for the rest). */
int ff_tz_map_each(const char *value, void (*fn)(void *opaque, const char *store, int minutes),
                   void *opaque, char *errstr, size_t errstr_size);

#endif
