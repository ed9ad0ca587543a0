/* ff_records: descriptors binding each C record struct to its schema in schemas/. */
#include "ff_records.h"

#include "ff_util.h"

#define F(T, field, ftype) {#field, ftype, offsetof(T, field), 0, NULL}
#define A(T, field, ftype, sub) {#field, ftype, offsetof(T, field), offsetof(T, field##_cnt), sub}
#define DESC(var, T, fullname, file, fields) \
    static const ff_rdesc_t var = {fullname, file, sizeof(T), fields, FF_ARRAY_LEN(fields)}

static const ff_fdesc_t web_event_fields[] = {
    F(ff_web_event_t, event_id, FF_F_STR),      F(ff_web_event_t, customer_id, FF_F_STR),
    F(ff_web_event_t, session_id, FF_F_STR),    F(ff_web_event_t, ts, FF_F_LONG),
    F(ff_web_event_t, type, FF_F_ENUM),         F(ff_web_event_t, sku, FF_F_OPT_STR),
    F(ff_web_event_t, category, FF_F_OPT_STR),  F(ff_web_event_t, price_cents, FF_F_OPT_LONG),
    F(ff_web_event_t, query, FF_F_OPT_STR),
};
DESC(web_event_desc, ff_web_event_t, "io.footfall.WebEvent", "schemas/web_event.avsc",
     web_event_fields);

static const ff_fdesc_t geofence_event_fields[] = {
    F(ff_geofence_event_t, event_id, FF_F_STR),
    F(ff_geofence_event_t, customer_id, FF_F_STR),
    F(ff_geofence_event_t, device_id, FF_F_STR),
    F(ff_geofence_event_t, ts, FF_F_LONG),
    F(ff_geofence_event_t, store_id, FF_F_STR),
    F(ff_geofence_event_t, transition, FF_F_ENUM),
    F(ff_geofence_event_t, dwell_seconds, FF_F_OPT_INT),
    F(ff_geofence_event_t, accuracy_m, FF_F_OPT_FLOAT),
};
DESC(geofence_event_desc, ff_geofence_event_t, "io.footfall.GeofenceEvent",
     "schemas/geofence_event.avsc", geofence_event_fields);

static const ff_fdesc_t consent_event_fields[] = {
    F(ff_consent_event_t, event_id, FF_F_STR), F(ff_consent_event_t, customer_id, FF_F_STR),
    F(ff_consent_event_t, ts, FF_F_LONG),      F(ff_consent_event_t, channel, FF_F_ENUM),
    F(ff_consent_event_t, status, FF_F_ENUM),
};
DESC(consent_event_desc, ff_consent_event_t, "io.footfall.ConsentEvent",
     "schemas/consent_event.avsc", consent_event_fields);

static const ff_fdesc_t shelf_reading_fields[] = {
    F(ff_shelf_reading_t, event_id, FF_F_STR),  F(ff_shelf_reading_t, store_id, FF_F_STR),
    F(ff_shelf_reading_t, shelf_id, FF_F_STR),  F(ff_shelf_reading_t, sku, FF_F_STR),
    F(ff_shelf_reading_t, category, FF_F_STR),  F(ff_shelf_reading_t, ts, FF_F_LONG),
    F(ff_shelf_reading_t, quantity, FF_F_INT),  F(ff_shelf_reading_t, capacity, FF_F_INT),
    F(ff_shelf_reading_t, sensor, FF_F_ENUM),   F(ff_shelf_reading_t, confidence, FF_F_OPT_FLOAT),
};
DESC(shelf_reading_desc, ff_shelf_reading_t, "io.footfall.ShelfReading",
     "schemas/shelf_reading.avsc", shelf_reading_fields);

static const ff_fdesc_t pos_line_fields[] = {
    F(ff_pos_line_t, sku, FF_F_STR),
    F(ff_pos_line_t, category, FF_F_STR),
    F(ff_pos_line_t, quantity, FF_F_INT),
    F(ff_pos_line_t, unit_price_cents, FF_F_LONG),
};
DESC(pos_line_desc, ff_pos_line_t, "io.footfall.PosLine", NULL, pos_line_fields);

static const ff_fdesc_t pos_transaction_fields[] = {
    F(ff_pos_transaction_t, event_id, FF_F_STR),
    F(ff_pos_transaction_t, store_id, FF_F_STR),
    F(ff_pos_transaction_t, customer_id, FF_F_OPT_STR),
    F(ff_pos_transaction_t, ts, FF_F_LONG),
    A(ff_pos_transaction_t, lines, FF_F_ARRAY_REC, &pos_line_desc),
    F(ff_pos_transaction_t, total_cents, FF_F_LONG),
    A(ff_pos_transaction_t, offer_codes, FF_F_ARRAY_STR, NULL),
};
DESC(pos_transaction_desc, ff_pos_transaction_t, "io.footfall.PosTransaction",
     "schemas/pos_transaction.avsc", pos_transaction_fields);

static const ff_fdesc_t offer_fields[] = {
    F(ff_offer_t, trigger_id, FF_F_STR),      F(ff_offer_t, kind, FF_F_ENUM),
    F(ff_offer_t, customer_id, FF_F_STR),     F(ff_offer_t, store_id, FF_F_STR),
    F(ff_offer_t, sku, FF_F_OPT_STR),         F(ff_offer_t, category, FF_F_STR),
    F(ff_offer_t, reason, FF_F_STR),          F(ff_offer_t, in_stock_qty, FF_F_INT),
    F(ff_offer_t, offer_code, FF_F_STR),      F(ff_offer_t, ts, FF_F_LONG),
    F(ff_offer_t, expires_at, FF_F_LONG),     F(ff_offer_t, source_event_id, FF_F_STR),
    F(ff_offer_t, replayed, FF_F_BOOL),
};
DESC(offer_desc, ff_offer_t, "io.footfall.DriveToStoreOffer", "schemas/drive_to_store_offer.avsc",
     offer_fields);

static const ff_fdesc_t interest_fields[] = {
    F(ff_interest_t, sku, FF_F_OPT_STR),
    F(ff_interest_t, category, FF_F_STR),
    F(ff_interest_t, score, FF_F_DOUBLE),
    F(ff_interest_t, in_stock_qty, FF_F_INT),
};
DESC(interest_desc, ff_interest_t, "io.footfall.Interest", NULL, interest_fields);

static const ff_fdesc_t store_assist_fields[] = {
    F(ff_store_assist_t, trigger_id, FF_F_STR),
    F(ff_store_assist_t, customer_id, FF_F_STR),
    F(ff_store_assist_t, store_id, FF_F_STR),
    F(ff_store_assist_t, ts, FF_F_LONG),
    F(ff_store_assist_t, lifetime_spend_cents, FF_F_LONG),
    A(ff_store_assist_t, top_interests, FF_F_ARRAY_REC, &interest_desc),
    F(ff_store_assist_t, source_event_id, FF_F_STR),
    F(ff_store_assist_t, replayed, FF_F_BOOL),
};
DESC(store_assist_desc, ff_store_assist_t, "io.footfall.StoreAssist", "schemas/store_assist.avsc",
     store_assist_fields);

static const ff_fdesc_t stock_alert_fields[] = {
    F(ff_stock_alert_t, trigger_id, FF_F_STR),   F(ff_stock_alert_t, store_id, FF_F_STR),
    F(ff_stock_alert_t, shelf_id, FF_F_STR),     F(ff_stock_alert_t, sku, FF_F_STR),
    F(ff_stock_alert_t, category, FF_F_STR),     F(ff_stock_alert_t, ts, FF_F_LONG),
    F(ff_stock_alert_t, level, FF_F_ENUM),       F(ff_stock_alert_t, quantity, FF_F_INT),
    F(ff_stock_alert_t, capacity, FF_F_INT),     F(ff_stock_alert_t, priority, FF_F_ENUM),
    F(ff_stock_alert_t, online_demand, FF_F_INT), F(ff_stock_alert_t, source_event_id, FF_F_STR),
    F(ff_stock_alert_t, replayed, FF_F_BOOL),
};
DESC(stock_alert_desc, ff_stock_alert_t, "io.footfall.StockAlert", "schemas/stock_alert.avsc",
     stock_alert_fields);

static const ff_fdesc_t conversion_fields[] = {
    F(ff_conversion_t, trigger_id, FF_F_STR),      F(ff_conversion_t, offer_trigger_id, FF_F_STR),
    F(ff_conversion_t, customer_id, FF_F_STR),     F(ff_conversion_t, store_id, FF_F_STR),
    F(ff_conversion_t, transaction_id, FF_F_STR),  F(ff_conversion_t, treatment, FF_F_ENUM),
    F(ff_conversion_t, match, FF_F_ENUM),          F(ff_conversion_t, revenue_cents, FF_F_LONG),
    F(ff_conversion_t, latency_seconds, FF_F_LONG), F(ff_conversion_t, ts, FF_F_LONG),
    F(ff_conversion_t, replayed, FF_F_BOOL),
};
DESC(conversion_desc, ff_conversion_t, "io.footfall.OfferConversion",
     "schemas/offer_conversion.avsc", conversion_fields);

static const ff_fdesc_t decision_fields[] = {
    F(ff_decision_t, decision_id, FF_F_STR),    F(ff_decision_t, processor, FF_F_STR),
    F(ff_decision_t, rule, FF_F_STR),           F(ff_decision_t, outcome, FF_F_ENUM),
    F(ff_decision_t, reason, FF_F_ENUM),        F(ff_decision_t, detail, FF_F_OPT_STR),
    F(ff_decision_t, customer_id, FF_F_OPT_STR), F(ff_decision_t, store_id, FF_F_OPT_STR),
    F(ff_decision_t, trigger_id, FF_F_OPT_STR), F(ff_decision_t, source_topic, FF_F_STR),
    F(ff_decision_t, source_partition, FF_F_INT), F(ff_decision_t, source_offset, FF_F_LONG),
    F(ff_decision_t, source_event_id, FF_F_STR), F(ff_decision_t, ts, FF_F_LONG),
    F(ff_decision_t, replayed, FF_F_BOOL),
};
DESC(decision_desc, ff_decision_t, "io.footfall.Decision", "schemas/decision.avsc",
     decision_fields);

const ff_rdesc_t *const ff_record_descs[FF_REC__COUNT] = {
    [FF_REC_WEB_EVENT] = &web_event_desc,
    [FF_REC_GEOFENCE_EVENT] = &geofence_event_desc,
    [FF_REC_CONSENT_EVENT] = &consent_event_desc,
    [FF_REC_SHELF_READING] = &shelf_reading_desc,
    [FF_REC_POS_TRANSACTION] = &pos_transaction_desc,
    [FF_REC_DRIVE_TO_STORE_OFFER] = &offer_desc,
    [FF_REC_STORE_ASSIST] = &store_assist_desc,
    [FF_REC_STOCK_ALERT] = &stock_alert_desc,
    [FF_REC_OFFER_CONVERSION] = &conversion_desc,
    [FF_REC_DECISION] = &decision_desc,
};

static const char *pick(const char *const *names, size_t n, int i)
{
    return i >= 0 && (size_t)i < n ? names[i] : "?";
}

const char *ff_reason_name(int reason)
{
    static const char *const names[] = {"ELIGIBLE",    "FREQUENCY_CAP", "QUIET_HOURS",
                                        "NO_CONSENT",  "HOLDOUT",       "STALE_EVENT",
                                        "NO_STOCK",    "REPLAY"};
    return pick(names, FF_ARRAY_LEN(names), reason);
}

const char *ff_level_name(int level)
{
    static const char *const names[] = {"LOW", "OUT", "RESTOCKED"};
    return pick(names, FF_ARRAY_LEN(names), level);
}

const char *ff_offer_kind_name(int kind)
{
    static const char *const names[] = {"NEARBY", "INVITE"};
    return pick(names, FF_ARRAY_LEN(names), kind);
}

const char *ff_web_type_name(int type)
{
    static const char *const names[] = {"PAGE_VIEW",   "PRODUCT_VIEW",     "SEARCH",
                                        "ADD_TO_CART", "REMOVE_FROM_CART", "WISHLIST"};
    return pick(names, FF_ARRAY_LEN(names), type);
}

const char *ff_transition_name(int transition)
{
    static const char *const names[] = {"ENTER", "DWELL", "EXIT"};
    return pick(names, FF_ARRAY_LEN(names), transition);
}
