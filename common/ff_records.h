/* ff_records: the C form of every record in schemas/, which stays the source of truth. */
#ifndef FF_RECORDS_H
#define FF_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every record footfall reads or writes. The order is the order of the
 * descriptors in ff_record_descs[]. */
typedef enum {
    FF_REC_WEB_EVENT = 0,
    FF_REC_GEOFENCE_EVENT,
    FF_REC_CONSENT_EVENT,
    FF_REC_SHELF_READING,
    FF_REC_POS_TRANSACTION,
    FF_REC_DRIVE_TO_STORE_OFFER,
    FF_REC_STORE_ASSIST,
    FF_REC_STOCK_ALERT,
    FF_REC_OFFER_CONVERSION,
    FF_REC_DECISION,
    FF_REC__COUNT
} ff_rec_t;

/* Optional ("null" | x) numbers. */
typedef struct {
    bool set;
    int64_t v;
} ff_opt_i64_t;
typedef struct {
    bool set;
    double v;
} ff_opt_f64_t;

/* Strings are NUL-terminated; an optional one is NULL when null. Decoded
 * records point into the batch arena they were decoded into. */

typedef enum { FF_WEB_PAGE_VIEW, FF_WEB_PRODUCT_VIEW, FF_WEB_SEARCH, FF_WEB_ADD_TO_CART,
               FF_WEB_REMOVE_FROM_CART, FF_WEB_WISHLIST } ff_web_type_t;

typedef struct ff_web_event_s {
    const char *event_id;
    const char *customer_id;
    const char *session_id;
    int64_t ts;
    int type; /* ff_web_type_t */
    const char *sku;
    const char *category;
    ff_opt_i64_t price_cents;
    const char *query;
} ff_web_event_t;

typedef enum { FF_GEO_ENTER, FF_GEO_DWELL, FF_GEO_EXIT } ff_geo_transition_t;

typedef struct ff_geofence_event_s {
    const char *event_id;
    const char *customer_id;
    const char *device_id;
    int64_t ts;
    const char *store_id;
    int transition; /* ff_geo_transition_t */
    ff_opt_i64_t dwell_seconds;
    ff_opt_f64_t accuracy_m;
} ff_geofence_event_t;

typedef enum { FF_CH_PUSH, FF_CH_EMAIL, FF_CH_SMS, FF_CH_ALL } ff_consent_channel_t;
typedef enum { FF_CONSENT_GRANTED, FF_CONSENT_DENIED, FF_CONSENT_REVOKED } ff_consent_status_t;

typedef struct ff_consent_event_s {
    const char *event_id;
    const char *customer_id;
    int64_t ts;
    int channel; /* ff_consent_channel_t */
    int status;  /* ff_consent_status_t */
} ff_consent_event_t;

typedef enum { FF_SENSOR_WEIGHT, FF_SENSOR_RFID, FF_SENSOR_CAMERA } ff_sensor_t;

typedef struct ff_shelf_reading_s {
    const char *event_id;
    const char *store_id;
    const char *shelf_id;
    const char *sku;
    const char *category;
    int64_t ts;
    int64_t quantity;
    int64_t capacity;
    int sensor; /* ff_sensor_t */
    ff_opt_f64_t confidence;
} ff_shelf_reading_t;

typedef struct ff_pos_line_s {
    const char *sku;
    const char *category;
    int64_t quantity;
    int64_t unit_price_cents;
} ff_pos_line_t;

typedef struct ff_pos_transaction_s {
    const char *event_id;
    const char *store_id;
    const char *customer_id; /* NULL: anonymous */
    int64_t ts;
    ff_pos_line_t *lines;
    size_t lines_cnt;
    int64_t total_cents;
    const char **offer_codes;
    size_t offer_codes_cnt;
} ff_pos_transaction_t;

typedef enum { FF_OFFER_NEARBY, FF_OFFER_INVITE } ff_offer_kind_t;

typedef struct ff_offer_s {
    const char *trigger_id;
    int kind; /* ff_offer_kind_t */
    const char *customer_id;
    const char *store_id;
    const char *sku; /* NULL: category offer */
    const char *category;
    const char *reason;
    int64_t in_stock_qty;
    const char *offer_code;
    int64_t ts;
    int64_t expires_at;
    const char *source_event_id;
    bool replayed;
} ff_offer_t;

typedef struct ff_interest_s {
    const char *sku; /* NULL: a category interest */
    const char *category;
    double score;
    int64_t in_stock_qty;
} ff_interest_t;

typedef struct ff_store_assist_s {
    const char *trigger_id;
    const char *customer_id;
    const char *store_id;
    int64_t ts;
    int64_t lifetime_spend_cents;
    ff_interest_t *top_interests;
    size_t top_interests_cnt;
    const char *source_event_id;
    bool replayed;
} ff_store_assist_t;

typedef enum { FF_LEVEL_LOW, FF_LEVEL_OUT, FF_LEVEL_RESTOCKED } ff_stock_level_t;
typedef enum { FF_PRIORITY_NORMAL, FF_PRIORITY_HIGH } ff_priority_t;

typedef struct ff_stock_alert_s {
    const char *trigger_id;
    const char *store_id;
    const char *shelf_id;
    const char *sku;
    const char *category;
    int64_t ts;
    int level;    /* ff_stock_level_t */
    int64_t quantity;
    int64_t capacity;
    int priority; /* ff_priority_t */
    int64_t online_demand;
    const char *source_event_id;
    bool replayed;
} ff_stock_alert_t;

typedef enum { FF_TREATMENT, FF_CONTROL } ff_treatment_t;
typedef enum { FF_MATCH_OFFER_CODE, FF_MATCH_SKU, FF_MATCH_CATEGORY } ff_match_t;

typedef struct ff_conversion_s {
    const char *trigger_id;
    const char *offer_trigger_id;
    const char *customer_id;
    const char *store_id;
    const char *transaction_id;
    int treatment; /* ff_treatment_t */
    int match;     /* ff_match_t */
    int64_t revenue_cents;
    int64_t latency_seconds;
    int64_t ts;
    bool replayed;
} ff_conversion_t;

typedef enum { FF_OUTCOME_FIRED, FF_OUTCOME_SUPPRESSED } ff_outcome_t;
typedef enum {
    FF_REASON_ELIGIBLE = 0,
    FF_REASON_FREQUENCY_CAP,
    FF_REASON_QUIET_HOURS,
    FF_REASON_NO_CONSENT,
    FF_REASON_HOLDOUT,
    FF_REASON_STALE_EVENT,
    FF_REASON_NO_STOCK,
    FF_REASON_REPLAY,
    FF_REASON__COUNT
} ff_reason_t;

typedef struct ff_decision_s {
    const char *decision_id;
    const char *processor;
    const char *rule;
    int outcome; /* ff_outcome_t */
    int reason;  /* ff_reason_t */
    const char *detail;
    const char *customer_id;
    const char *store_id;
    const char *trigger_id;
    const char *source_topic;
    int64_t source_partition;
    int64_t source_offset;
    const char *source_event_id;
    int64_t ts;
    bool replayed;
} ff_decision_t;

/* ---- descriptors: how a C struct maps onto its Avro record ------------- */

typedef enum {
    FF_F_STR,       /* string -> const char * */
    FF_F_OPT_STR,   /* ["null","string"] -> const char * or NULL */
    FF_F_LONG,      /* long / int -> int64_t */
    FF_F_INT,       /* int -> int64_t (encoded as Avro int) */
    FF_F_OPT_LONG,  /* ["null","long"] -> ff_opt_i64_t */
    FF_F_OPT_INT,   /* ["null","int"] -> ff_opt_i64_t */
    FF_F_DOUBLE,    /* double -> double */
    FF_F_OPT_FLOAT, /* ["null","float"] -> ff_opt_f64_t */
    FF_F_BOOL,      /* boolean -> bool */
    FF_F_ENUM,      /* enum -> int (symbol index) */
    FF_F_ARRAY_REC, /* array of record -> T *, size_t count */
    FF_F_ARRAY_STR, /* array of string -> const char **, size_t count */
} ff_ftype_t;

typedef struct ff_rdesc_s ff_rdesc_t;

typedef struct ff_fdesc_s {
    const char *name;
    ff_ftype_t type;
    size_t off;
    size_t count_off;       /* arrays: offset of the size_t count */
    const ff_rdesc_t *sub;  /* FF_F_ARRAY_REC: the element record */
} ff_fdesc_t;

struct ff_rdesc_s {
    const char *name;        /* Avro full name: io.footfall.WebEvent */
    const char *schema_file; /* schemas/web_event.avsc (NULL for nested records) */
    size_t size;             /* sizeof the C struct */
    const ff_fdesc_t *fields;
    size_t nfields;
};

extern const ff_rdesc_t *const ff_record_descs[FF_REC__COUNT];

/* Names of the enum symbols (from the schemas), for logs, JSON and tests. */
const char *ff_reason_name(int reason);
const char *ff_level_name(int level);
const char *ff_offer_kind_name(int kind);
const char *ff_web_type_name(int type);
const char *ff_transition_name(int transition);

/* Room for any input record (generators that make several kinds). */
typedef union ff_input_rec_u {
    ff_web_event_t web;
    ff_geofence_event_t geo;
    ff_consent_event_t consent;
    ff_shelf_reading_t shelf;
    ff_pos_transaction_t pos;
} ff_input_rec_t;

/* Room for any record footfall reads or writes (decoders of any topic). */
typedef union ff_any_rec_u {
    ff_input_rec_t in;
    ff_offer_t offer;
    ff_store_assist_t assist;
    ff_stock_alert_t alert;
    ff_conversion_t conversion;
    ff_decision_t decision;
} ff_any_rec_t;

#endif
