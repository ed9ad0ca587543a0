/* ff_codec: footfall's records on the wire: schema ids, Confluent framing, plan cache. */
#include "ff_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_config.h"
#include "ff_embedded.h"
#include "ff_registry.h"

typedef struct schema_entry_s {
    int32_t id;
    ff_av_schema_t *schema;
} schema_entry_t;

typedef struct plan_entry_s {
    int32_t id;
    ff_av_plan_t *plan; /* NULL: incompatible, see err */
    char *err;
} plan_entry_t;

typedef struct rec_state_s {
    ff_av_schema_t *reader; /* owned */
    int32_t writer_id;
    plan_entry_t *plans;
    size_t nplans;
    size_t last; /* most recently used plan: nearly every record hits it */
} rec_state_t;

struct ff_codec_s {
    schema_entry_t *schemas;
    size_t nschemas;
    rec_state_t recs[FF_REC__COUNT];
    ff_codec_fetch_fn fetch;
    void *fetch_opaque;
};

static schema_entry_t *find_schema(const ff_codec_t *codec, int32_t id)
{
    for (size_t i = 0; i < codec->nschemas; i++)
        if (codec->schemas[i].id == id)
            return &codec->schemas[i];
    return NULL;
}

int ff_codec_register(ff_codec_t *codec, int32_t id, const char *json, char *errstr,
                      size_t errstr_size)
{
    schema_entry_t *e = find_schema(codec, id);
    ff_av_schema_t *schema;
    char err[256];

    if (e) {
        if (!strcmp(ff_av_schema_json(e->schema), json))
            return 0;
        snprintf(errstr, errstr_size, "schema id %d is already taken by another schema", id);
        return -1;
    }
    schema = ff_av_schema_parse(json, err, sizeof err);
    if (!schema) {
        snprintf(errstr, errstr_size, "schema id %d: %s", id, err);
        return -1;
    }
    codec->schemas = ff_realloc(codec->schemas, (codec->nschemas + 1) * sizeof(*codec->schemas));
    codec->schemas[codec->nschemas].id = id;
    codec->schemas[codec->nschemas].schema = schema;
    codec->nschemas++;
    return 0;
}

static int load_embedded(ff_codec_t *codec, char *errstr, size_t errstr_size)
{
    const char *ids = ff_embedded_get("schemas/ids");
    char *copy, *line, *save = NULL;
    int rc = 0;

    if (!ids) {
        snprintf(errstr, errstr_size, "schemas/ids is not embedded");
        return -1;
    }
    copy = ff_strdup(ids);
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char file[256], path[300];
        int id;
        const char *json;
        if (line[0] == '#' || sscanf(line, "%d %255s", &id, file) != 2)
            continue;
        snprintf(path, sizeof path, "schemas/%s", file);
        json = ff_embedded_get(path);
        if (!json) {
            snprintf(errstr, errstr_size, "schemas/ids names %s, which is not embedded", path);
            rc = -1;
            break;
        }
        if (ff_codec_register(codec, id, json, errstr, errstr_size) == -1) {
            rc = -1;
            break;
        }
        /* The current schema of a record is the one its descriptor names. */
        for (int r = 0; r < FF_REC__COUNT; r++)
            if (!strcmp(ff_record_descs[r]->schema_file, path))
                codec->recs[r].writer_id = id;
    }
    free(copy);
    return rc;
}

ff_codec_t *ff_codec_new(char *errstr, size_t errstr_size)
{
    ff_codec_t *codec = ff_calloc(1, sizeof(*codec));
    if (load_embedded(codec, errstr, errstr_size) == -1)
        goto err;
    for (int r = 0; r < FF_REC__COUNT; r++) {
        const ff_rdesc_t *desc = ff_record_descs[r];
        const char *json = ff_embedded_get(desc->schema_file);
        char err[256];
        if (!json) {
            snprintf(errstr, errstr_size, "%s is not embedded", desc->schema_file);
            goto err;
        }
        codec->recs[r].reader = ff_av_schema_parse(json, err, sizeof err);
        if (!codec->recs[r].reader) {
            snprintf(errstr, errstr_size, "%s: %s", desc->schema_file, err);
            goto err;
        }
        if (ff_av_check_desc(ff_av_schema_root(codec->recs[r].reader), desc, err, sizeof err) ==
            -1) {
            snprintf(errstr, errstr_size, "%s does not match its C struct: %s",
                     desc->schema_file, err);
            goto err;
        }
        if (!codec->recs[r].writer_id) {
            snprintf(errstr, errstr_size, "%s has no pinned id in schemas/ids",
                     desc->schema_file);
            goto err;
        }
    }
    return codec;
err:
    ff_codec_destroy(codec);
    return NULL;
}

void ff_codec_destroy(ff_codec_t *codec)
{
    if (!codec)
        return;
    for (int r = 0; r < FF_REC__COUNT; r++) {
        rec_state_t *rs = &codec->recs[r];
        for (size_t i = 0; i < rs->nplans; i++) {
            ff_av_plan_destroy(rs->plans[i].plan);
            free(rs->plans[i].err);
        }
        free(rs->plans);
        ff_av_schema_destroy(rs->reader);
    }
    for (size_t i = 0; i < codec->nschemas; i++)
        ff_av_schema_destroy(codec->schemas[i].schema);
    free(codec->schemas);
    free(codec);
}

const ff_av_schema_t *ff_codec_schema(const ff_codec_t *codec, int32_t id)
{
    schema_entry_t *e = find_schema(codec, id);
    return e ? e->schema : NULL;
}

const ff_av_schema_t *ff_codec_reader_schema(const ff_codec_t *codec, ff_rec_t rec)
{
    return codec->recs[rec].reader;
}

int32_t ff_codec_writer_id(const ff_codec_t *codec, ff_rec_t rec)
{
    return codec->recs[rec].writer_id;
}

void ff_codec_set_writer_id(ff_codec_t *codec, ff_rec_t rec, int32_t id)
{
    codec->recs[rec].writer_id = id;
}

void ff_codec_set_fetcher(ff_codec_t *codec, ff_codec_fetch_fn fetch, void *opaque)
{
    codec->fetch = fetch;
    codec->fetch_opaque = opaque;
}

/* The schema of id, fetched from the registry when unknown. */
static const ff_av_schema_t *schema_for(ff_codec_t *codec, int32_t id, ff_dec_err_t *err,
                                        int *retry)
{
    const ff_av_schema_t *schema = ff_codec_schema(codec, id);
    char why[256] = "";
    if (schema)
        return schema;
    if (codec->fetch) {
        int again = 0;
        char *json = codec->fetch(codec->fetch_opaque, id, &again, why, sizeof why);
        if (json) {
            int rc = ff_codec_register(codec, id, json, why, sizeof why);
            free(json);
            if (rc == 0)
                return ff_codec_schema(codec, id);
        } else if (again && retry) {
            *retry = 1;
        }
    }
    err->status = FF_DEC_UNKNOWN_SCHEMA;
    snprintf(err->msg, sizeof err->msg, "unknown schema id %d%s%s", id, why[0] ? ": " : "", why);
    return NULL;
}

static plan_entry_t *plan_for(ff_codec_t *codec, ff_rec_t rec, int32_t id, ff_dec_err_t *err,
                              int *retry)
{
    rec_state_t *rs = &codec->recs[rec];
    const ff_av_schema_t *writer;
    char why[256];
    plan_entry_t *pe;

    if (rs->nplans && rs->plans[rs->last].id == id)
        return &rs->plans[rs->last];
    for (size_t i = 0; i < rs->nplans; i++) {
        if (rs->plans[i].id == id) {
            rs->last = i;
            return &rs->plans[i];
        }
    }
    writer = schema_for(codec, id, err, retry);
    if (!writer)
        return NULL;
    rs->plans = ff_realloc(rs->plans, (rs->nplans + 1) * sizeof(*rs->plans));
    pe = &rs->plans[rs->nplans];
    pe->id = id;
    pe->err = NULL;
    pe->plan = ff_av_plan_new(ff_av_schema_root(writer), ff_av_schema_root(rs->reader),
                              ff_record_descs[rec], why, sizeof why);
    if (!pe->plan)
        pe->err = ff_asprintf("schema id %d cannot be read as %s: %s", id,
                              ff_record_descs[rec]->name, why);
    rs->last = rs->nplans++;
    return pe;
}

int ff_codec_decode(ff_codec_t *codec, ff_rec_t rec, const void *data, size_t len,
                    ff_arena_t *arena, void *out, ff_dec_err_t *err, int *retry)
{
    int32_t id;
    plan_entry_t *pe;

    err->status = FF_DEC_OK;
    err->msg[0] = '\0';
    if (retry)
        *retry = 0;
    if (ff_av_parse_frame(data, len, &id, err) == -1)
        return -1;
    pe = plan_for(codec, rec, id, err, retry);
    if (!pe)
        return -1;
    if (!pe->plan) {
        err->status = FF_DEC_SCHEMA_MISMATCH;
        snprintf(err->msg, sizeof err->msg, "%s", pe->err);
        return -1;
    }
    return ff_av_plan_decode(pe->plan, (const char *)data + FF_AV_FRAME_LEN,
                             len - FF_AV_FRAME_LEN, arena, out, err);
}

void ff_codec_encode(const ff_codec_t *codec, ff_rec_t rec, const void *in, ff_buf_t *out)
{
    ff_av_put_frame(out, codec->recs[rec].writer_id);
    ff_av_encode(ff_record_descs[rec], in, out);
}

int ff_codec_to_json(ff_codec_t *codec, const void *data, size_t len, ff_buf_t *out,
                     ff_dec_err_t *err)
{
    int32_t id;
    const ff_av_schema_t *schema;
    err->status = FF_DEC_OK;
    if (ff_av_parse_frame(data, len, &id, err) == -1)
        return -1;
    schema = schema_for(codec, id, err, NULL);
    if (!schema)
        return -1;
    return ff_av_to_json(ff_av_schema_root(schema), (const char *)data + FF_AV_FRAME_LEN,
                         len - FF_AV_FRAME_LEN, out, err);
}

ff_rec_t ff_codec_rec_by_name(const char *avro_name)
{
    for (int r = 0; r < FF_REC__COUNT; r++)
        if (!strcmp(ff_record_descs[r]->name, avro_name))
            return (ff_rec_t)r;
    return FF_REC__COUNT;
}

/* Which record each topic setting carries. */
static const struct {
    const char *setting;
    ff_rec_t rec;
} topic_recs[] = {
    {"topic.web", FF_REC_WEB_EVENT},
    {"topic.geofence", FF_REC_GEOFENCE_EVENT},
    {"topic.consent", FF_REC_CONSENT_EVENT},
    {"topic.shelf", FF_REC_SHELF_READING},
    {"topic.pos", FF_REC_POS_TRANSACTION},
    {"topic.drive_to_store", FF_REC_DRIVE_TO_STORE_OFFER},
    {"topic.holdout", FF_REC_DRIVE_TO_STORE_OFFER},
    {"topic.store_assist", FF_REC_STORE_ASSIST},
    {"topic.stock_alert", FF_REC_STOCK_ALERT},
    {"topic.conversion", FF_REC_OFFER_CONVERSION},
    {"topic.decisions", FF_REC_DECISION},
};

ff_rec_t ff_codec_rec_of_setting(const char *topic_setting)
{
    for (size_t i = 0; i < sizeof topic_recs / sizeof topic_recs[0]; i++)
        if (!strcmp(topic_recs[i].setting, topic_setting))
            return topic_recs[i].rec;
    return FF_REC__COUNT;
}

ff_rec_t ff_codec_rec_of_topic(const struct ff_conf_s *conf, const char *topic)
{
    for (size_t i = 0; i < sizeof topic_recs / sizeof topic_recs[0]; i++)
        if (!strcmp(ff_conf_str(conf, topic_recs[i].setting), topic))
            return topic_recs[i].rec;
    return FF_REC__COUNT;
}

int ff_codec_use_registry(ff_codec_t *codec, const ff_conf_t *conf, const char *const *writes,
                          ff_registry_t **registry, int *config_error, char *errstr,
                          size_t errstr_size)
{
    const char *url = ff_conf_str(conf, "schema.registry.url");
    ff_registry_t *r;
    *registry = NULL;
    *config_error = 0;
    if (!*url)
        return 0;
    r = ff_registry_new(url, ff_conf_str(conf, "schema.registry.basic.auth.user.info"),
                        ff_conf_int(conf, "schema.registry.timeout"), errstr, errstr_size);
    if (!r) {
        *config_error = 1;
        return -1;
    }
    ff_codec_set_fetcher(codec, ff_registry_fetch, r);
    for (size_t i = 0; writes && writes[i]; i++) {
        ff_rec_t rec = ff_codec_rec_of_setting(writes[i]);
        char subject[600];
        int retry = 0;
        int32_t id;
        if (rec == FF_REC__COUNT)
            continue;
        snprintf(subject, sizeof subject, "%s-value", ff_conf_str(conf, writes[i]));
        id = ff_registry_register(r, subject, ff_av_schema_json(codec->recs[rec].reader), &retry,
                                  errstr, errstr_size);
        if (id < 0) {
            *config_error = !retry;
            ff_registry_destroy(r);
            ff_codec_set_fetcher(codec, NULL, NULL);
            return -1;
        }
        ff_codec_set_writer_id(codec, rec, id);
    }
    *registry = r;
    return 0;
}
