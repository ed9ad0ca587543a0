/* ff_settings: the table of every setting footfall has, its default and its help. */
#include "ff_config.h"

#define DAY (86400000LL)
#define UNBOUNDED 0, 0

const ff_setting_t ff_settings[] = {
    /* ---- connections ---------------------------------------------------- */
    {"kafka.bootstrap.servers", FF_CONF_STR, "localhost:9092", UNBOUNDED, FF_P_ALL, NULL,
     "Kafka brokers, host:port[,host:port…]"},
    {"redis.url", FF_CONF_STR, "redis://localhost:6379/0", UNBOUNDED, FF_P_ALL,
     ff_conf_check_redis_url,
     "Redis: redis://[user:pass@]host:port/db, unix:///path, or "
     "redis-cluster://[user:pass@]host:port[,host:port…] for a Redis Cluster"},
    {"redis.cluster", FF_CONF_BOOL, "false", UNBOUNDED, FF_P_ALL, NULL,
     "true: redis.url names a seed node of a Redis Cluster (as redis-cluster:// does)"},
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
    {"schema.registry.basic.auth.user.info", FF_CONF_STR, "", UNBOUNDED, FF_P_ALL, NULL,
     "USER:PASSWORD for the Schema Registry (basic auth)"},
    {"schema.registry.timeout", FF_CONF_DURATION, "5s", 100, 600000, FF_P_ALL, NULL,
     "how long a Schema Registry request may take"},

    /* ---- the consume loop ----------------------------------------------- */
    /* Each batch is a transaction, and librdkafka 2.0 spends about 2 ms of
     * CPU on each (bench/README.md): large batches for the processors that
     * catch up fastest. footfall-geofence holds a week of intent for each
     * customer of a batch, and its CPU goes to reading them, not to the
     * transactions: at 10000 its RSS grew by a quarter for no gain. */
    {"batch.size", FF_CONF_INT, "10000|geofence=5000", 1, 100000, FF_P_PROCS, NULL,
     "most records handled in one batch (one Redis round trip, one transaction)"},
    {"batch.timeout", FF_CONF_DURATION, "10ms", 1, 10000, FF_P_PROCS, NULL,
     "longest a batch waits to fill up, counted from when the previous one stopped"},
    {"backoff.initial", FF_CONF_DURATION, "100ms", 1, 60000, FF_P_PROCS, NULL,
     "first retry delay after Redis or Kafka fails"},
    {"backoff.max", FF_CONF_DURATION, "10s", 1, 600000, FF_P_PROCS, NULL,
     "longest retry delay (the delay doubles up to this)"},
    {"stall.timeout", FF_CONF_DURATION, "60s", 0, 3600000, FF_P_PROCS, NULL,
     "how long records may wait on an assigned partition without one arriving before the "
     "Kafka clients are restarted (librdkafka can hold a partition it never fetches; 0: never)"},
    {"input.max_future", FF_CONF_DURATION, "1d", 0, 0, FF_P_PROCS, NULL,
     "records with an event time further ahead of the clock go to the DLQ"},
    {"triggers", FF_CONF_STR, "on", UNBOUNDED, FF_P_PROCS, ff_conf_check_triggers,
     "on; off (no triggers: a REPLAY decision for each); replayed (sent, marked replayed=true); "
     "shadow:TOPIC (every output to TOPIC instead)"},
    {"offsets.plain_commit", FF_CONF_BOOL, "true", UNBOUNDED, FF_P_PROCS, NULL,
     "also commit offsets outside the transaction (needed by the embedded broker, which "
     "ignores transactional offsets; on Kafka it keeps footfall_consumer_lag current, which "
     "librdkafka counts from the consumer's own commits)"},
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

    /* ---- intent (footfall-web writes it, the others read it) --------------- */
    {"intent.sku.views", FF_CONF_INT, "2", 1, 1000, FF_P_CUSTOMER, NULL,
     "product views within intent.window that make intent for a SKU"},
    {"intent.cart.adds", FF_CONF_INT, "1", 1, 1000, FF_P_CUSTOMER, NULL,
     "cart adds within intent.window that make intent for a SKU"},
    {"intent.category.views", FF_CONF_INT, "3", 1, 1000, FF_P_CUSTOMER, NULL,
     "views within intent.window that make intent for a category"},
    {"intent.cart.weight", FF_CONF_INT, "3", 0, 1000, FF_P_CUSTOMER, NULL,
     "a cart add counts this many views in the intent score that ranks candidates"},
    {"intent.bucket.max", FF_CONF_INT, "2000", 0, 1000000, FF_P_CUSTOMER, NULL,
     "most fields in a customer's intent bucket for a day: once full, SKUs not in it are not "
     "counted that day (categories always are); 0: no limit"},
    {"intent.cache.mb", FF_CONF_INT, "64", 0, 65536, FF_P_GEOFENCE, NULL,
     "megabytes of customers' intent kept in memory between visits, while footfall-web has "
     "written nothing new (0: read it every time)"},
    {"purchase.window", FF_CONF_DURATION, "30d", 0, 365 * DAY, FF_P_CUSTOMER, NULL,
     "a SKU bought this recently is never offered"},
    {"visit.window", FF_CONF_DURATION, "90d", 0, 365 * DAY, FF_P_CUSTOMER, NULL,
     "a preferred store must have been visited this recently"},

    /* ---- offers -------------------------------------------------------------- */
    {"offer.stock.min", FF_CONF_INT, "2", 1, 1000000, FF_P_CUSTOMER, NULL,
     "items a store must have on its shelves to be offered"},
    {"offer.ttl", FF_CONF_DURATION, "2h", 60000, 30 * DAY, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "an offer expires this long after the event that made it"},
    {"offer.code.salt", FF_CONF_STR, "footfall", UNBOUNDED, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "secret mixed into offer codes so that they cannot be guessed from trigger ids"},
    {"nearby.dwell.min", FF_CONF_DURATION, "120s", 0, DAY, FF_P_GEOFENCE, NULL,
     "a DWELL this long or longer can make a NEARBY offer (ENTER always can)"},
    {"invite.interval", FF_CONF_DURATION, "14d", 0, 365 * DAY, FF_P_WEB, NULL,
     "at most one INVITE per customer this often"},
    {"assist.spend.min", FF_CONF_INT, "50000", 0, 0, FF_P_GEOFENCE, NULL,
     "lifetime spend in cents that makes a customer worth a staff heads-up"},
    {"assist.top.n", FF_CONF_INT, "3", 1, 20, FF_P_GEOFENCE, NULL,
     "interests listed in a staff heads-up"},
    {"assist.interval", FF_CONF_DURATION, "4h", 0, 30 * DAY, FF_P_GEOFENCE, NULL,
     "at most one heads-up per customer and store this often"},
    {"conversion.window", FF_CONF_DURATION, "7d", 0, 90 * DAY, FF_P_CUSTOMER, NULL,
     "a purchase this soon after an offer can convert it"},

    /* ---- guardrails (every customer-facing trigger) ---------------------------- */
    {"cap.daily", FF_CONF_INT, "1", 0, 100, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "drive-to-store offers per customer per calendar day (store-local)"},
    {"cap.store.interval", FF_CONF_DURATION, "7d", 0, 365 * DAY, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "never offer the same store to a customer twice within this"},
    {"quiet.start", FF_CONF_CLOCKTIME, "21:00", UNBOUNDED, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "no offers from this store-local time…"},
    {"quiet.end", FF_CONF_CLOCKTIME, "08:00", UNBOUNDED, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "…until this one (equal to quiet.start: no quiet hours)"},
    {"store.tz", FF_CONF_STR, "", UNBOUNDED, FF_P_WEB | FF_P_GEOFENCE, ff_conf_check_tz_map,
     "UTC offsets of stores: S001=-05:00,S002=+01:00 (fixed offsets, no DST)"},
    {"store.tz.default", FF_CONF_STR, "+00:00", UNBOUNDED, FF_P_WEB | FF_P_GEOFENCE,
     ff_conf_check_tz, "UTC offset of stores not in store.tz"},
    {"holdout.percent", FF_CONF_INT, "10", 0, 100, FF_P_CUSTOMER, NULL,
     "share of customers in the control group: their offers go to topic.holdout"},
    {"holdout.salt", FF_CONF_STR, "footfall", UNBOUNDED, FF_P_CUSTOMER, NULL,
     "salt of the hash that puts a customer in the control group"},
    {"trigger.max_age", FF_CONF_DURATION, "10m", 0, 365 * DAY, FF_P_WEB | FF_P_GEOFENCE, NULL,
     "no customer-facing trigger for an event older than this by the clock"},
};

const size_t ff_settings_count = sizeof(ff_settings) / sizeof(ff_settings[0]);
