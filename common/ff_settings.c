/* ff_settings: the table of every setting footfall has, its default and its help. */
#include "ff_config.h"

#define DAY (86400000LL)
#define UNBOUNDED 0, 0

const ff_setting_t ff_settings[] = {
    /* ---- connections ---------------------------------------------------- */
    {"kafka.bootstrap.servers", FF_CONF_STR, "localhost:9092", UNBOUNDED, FF_P_ALL, NULL,
     "Kafka brokers, host:port[,host:port…]"},
    {"redis.url", FF_CONF_STR, "redis://localhost:6379/0", UNBOUNDED, FF_P_ALL,
     ff_conf_check_redis_url, "Redis: redis://[user:pass@]host:port/db or unix:///path"},
    {"redis.timeout", FF_CONF_DURATION, "5s", 10, 600000, FF_P_ALL, NULL,
     "how long a Redis round trip may take before it counts as an outage"},
    {"group.id", FF_CONF_STR, "footfall-{proc}", UNBOUNDED, FF_P_PROCS, NULL,
     "Kafka consumer group of this processor"},
    {"instance.id", FF_CONF_STR, "", UNBOUNDED, FF_P_PROCS, NULL,
     "stable name of this instance, part of its transactional.id (default: the host name)"},
    {"state.prefix", FF_CONF_STR, "ff", UNBOUNDED, FF_P_ALL, NULL,
     "prefix of every Redis key; a backfill writes under another one"},
    {"http.port", FF_CONF_INT, "0", 0, 65535, FF_P_PROCS, NULL,
     "port of /metrics, /healthz and /readyz (0: off)"},
    {"log.level", FF_CONF_STR, "info", UNBOUNDED, FF_P_ALL, ff_conf_check_log_level,
     "debug, info, warn, error or off"},
    {"schema.registry.url", FF_CONF_STR, "", UNBOUNDED, FF_P_ALL, NULL,
     "Confluent Schema Registry; empty: the schema ids pinned in schemas/ids"},

    /* ---- the consume loop ----------------------------------------------- */
    {"batch.size", FF_CONF_INT, "2000", 1, 100000, FF_P_PROCS, NULL,
     "most records handled in one batch (one Redis round trip, one transaction)"},
    {"batch.timeout", FF_CONF_DURATION, "20ms", 1, 10000, FF_P_PROCS, NULL,
     "longest a batch waits to fill up"},
    {"backoff.initial", FF_CONF_DURATION, "100ms", 1, 60000, FF_P_PROCS, NULL,
     "first retry delay after Redis or Kafka fails"},
    {"backoff.max", FF_CONF_DURATION, "10s", 1, 600000, FF_P_PROCS, NULL,
     "longest retry delay (the delay doubles up to this)"},
    {"input.max_future", FF_CONF_DURATION, "1d", 0, 0, FF_P_PROCS, NULL,
     "records with an event time further ahead of the clock go to the DLQ"},
    {"triggers.replayed", FF_CONF_BOOL, "false", UNBOUNDED, FF_P_PROCS, NULL,
     "mark every trigger replayed=true (set by footfall replay, rarely by hand)"},
    {"state.cache.size", FF_CONF_INT, "200000", 0, 100000000, FF_P_SHELF, NULL,
     "entries of state a processor that owns its keys keeps in memory (0: none)"},

    /* ---- topics ----------------------------------------------------------- */
    {"topic.web", FF_CONF_STR, "web.events", UNBOUNDED, FF_P_WEB | FF_P_CLI, NULL,
     "web clickstream input"},
    {"topic.geofence", FF_CONF_STR, "geofence.events", UNBOUNDED, FF_P_GEOFENCE | FF_P_CLI,
     NULL, "geofence transitions input"},
    {"topic.consent", FF_CONF_STR, "consent.events", UNBOUNDED, FF_P_GEOFENCE | FF_P_CLI, NULL,
     "consent changes input"},
    {"topic.shelf", FF_CONF_STR, "shelf.events", UNBOUNDED, FF_P_SHELF | FF_P_CLI, NULL,
     "smart-shelf readings input"},
    {"topic.pos", FF_CONF_STR, "pos.events", UNBOUNDED, FF_P_POS | FF_P_CLI, NULL,
     "point-of-sale transactions input"},
    {"topic.drive_to_store", FF_CONF_STR, "triggers.drive-to-store", UNBOUNDED,
     FF_P_WEB | FF_P_GEOFENCE | FF_P_CLI, NULL, "NEARBY and INVITE offers output"},
    {"topic.store_assist", FF_CONF_STR, "triggers.store-assist", UNBOUNDED,
     FF_P_GEOFENCE | FF_P_CLI, NULL, "staff heads-ups output"},
    {"topic.stock_alert", FF_CONF_STR, "triggers.stock-alert", UNBOUNDED, FF_P_SHELF | FF_P_CLI,
     NULL, "stock alerts output"},
    {"topic.conversion", FF_CONF_STR, "triggers.conversion", UNBOUNDED, FF_P_POS | FF_P_CLI,
     NULL, "offer conversions output"},
    {"topic.holdout", FF_CONF_STR, "triggers.holdout", UNBOUNDED,
     FF_P_WEB | FF_P_GEOFENCE | FF_P_CLI, NULL, "offers withheld from the control group"},
    {"topic.decisions", FF_CONF_STR, "footfall.decisions", UNBOUNDED, FF_P_ALL, NULL,
     "why each customer-facing trigger fired or was suppressed"},
    {"dlq.suffix", FF_CONF_STR, ".dlq", UNBOUNDED, FF_P_PROCS, NULL,
     "bad records of topic T go to T plus this suffix"},

    /* ---- stock alerts (footfall-shelf) -------------------------------------- */
    {"stock.debounce.readings", FF_CONF_INT, "3", 1, 15, FF_P_SHELF, NULL,
     "readings whose median drives the alert state (odd numbers make a true median)"},
    {"stock.low.percent", FF_CONF_INT, "20", 0, 100, FF_P_SHELF, NULL,
     "LOW at or below this share of capacity"},
    {"stock.restock.percent", FF_CONF_INT, "50", 0, 100, FF_P_SHELF, NULL,
     "back to OK (RESTOCKED) at or above this share of capacity"},
    {"stock.demand.high", FF_CONF_INT, "25", 0, 1000000000, FF_P_SHELF, NULL,
     "a LOW alert is HIGH priority with at least this many customers showing online intent"},
    {"intent.window", FF_CONF_DURATION, "7d", 3600000, 90 * DAY, FF_P_SHELF | FF_P_CUSTOMER,
     NULL, "how far back browsing counts as intent (and as online demand)"},
};

const size_t ff_settings_count = sizeof(ff_settings) / sizeof(ff_settings[0]);
