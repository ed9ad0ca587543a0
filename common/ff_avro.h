/* ff_avro: Avro schemas, binary encoding and writer-to-reader resolution, with Confluent framing.
 *
 * footfall carries its own Avro binary codec because Avro-C 1.11 cannot
 * resolve a reader field that the writer lacks (it does not keep field
 * defaults), which is the first thing schema evolution needs. Avro-C stays
 * the reference: the test suite checks that both read each other's bytes. */
#ifndef FF_AVRO_H
#define FF_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "ff_records.h"
#include "ff_util.h"

/* ---- schemas ------------------------------------------------------------ */

typedef enum {
    FF_AV_NULL,
    FF_AV_BOOLEAN,
    FF_AV_INT,
    FF_AV_LONG,
    FF_AV_FLOAT,
    FF_AV_DOUBLE,
    FF_AV_BYTES,
    FF_AV_STRING,
    FF_AV_RECORD,
    FF_AV_ENUM,
    FF_AV_ARRAY,
    FF_AV_MAP,
    FF_AV_UNION,
    FF_AV_FIXED,
} ff_av_kind_t;

typedef struct ff_av_type_s ff_av_type_t;

typedef struct ff_av_field_s {
    char *name;
    ff_av_type_t *type;
    char *default_json; /* the field's default as JSON text, NULL if none */
} ff_av_field_t;

struct ff_av_type_s {
    ff_av_kind_t kind;
    char *name;     /* full name of a record, enum or fixed */
    char *logical;  /* logicalType, or NULL */
    size_t n;       /* fields, symbols or branches */
    ff_av_field_t *fields;
    char **symbols;
    char *enum_default; /* enum "default" symbol, or NULL */
    ff_av_type_t **branches;
    ff_av_type_t *items; /* array items, map values */
    size_t fixed_size;
};

typedef struct ff_av_schema_s ff_av_schema_t;

/* Parses a schema from its JSON text. NULL with errstr on error. */
ff_av_schema_t *ff_av_schema_parse(const char *json, char *errstr, size_t errstr_size);
void ff_av_schema_destroy(ff_av_schema_t *schema);
const ff_av_type_t *ff_av_schema_root(const ff_av_schema_t *schema);
/* The JSON text the schema was parsed from (what a registry stores). */
const char *ff_av_schema_json(const ff_av_schema_t *schema);

/* ---- decoding errors ---------------------------------------------------- */

typedef enum {
    FF_DEC_OK = 0,
    FF_DEC_EMPTY,           /* no value at all (a tombstone) */
    FF_DEC_BAD_MAGIC,       /* first byte is not the Confluent magic 0 */
    FF_DEC_UNKNOWN_SCHEMA,  /* schema id not in the registry */
    FF_DEC_SCHEMA_MISMATCH, /* writer schema cannot be read as the expected record */
    FF_DEC_TRUNCATED,       /* body ends before the record does */
    FF_DEC_MALFORMED,       /* bad varint, union branch, enum index, trailing bytes… */
    FF_DEC__COUNT
} ff_dec_status_t;

/* Stable names of the statuses: the DLQ's error class header. */
const char *ff_dec_status_name(ff_dec_status_t status);

typedef struct ff_dec_err_s {
    ff_dec_status_t status;
    char msg[256];
} ff_dec_err_t;

/* ---- plans: writer schema read as a reader record ----------------------- */

typedef struct ff_av_plan_s ff_av_plan_t;

/* Compiles how to read data written with `writer` into the C struct of
 * `desc`, whose Avro form is `reader`. NULL with errstr when the two are not
 * compatible under Avro's resolution rules (including a reader field without
 * a default that the writer lacks). */
ff_av_plan_t *ff_av_plan_new(const ff_av_type_t *writer, const ff_av_type_t *reader,
                             const ff_rdesc_t *desc, char *errstr, size_t errstr_size);
void ff_av_plan_destroy(ff_av_plan_t *plan);

/* Decodes one Avro binary body (no framing) into out (desc->size bytes),
 * strings and arrays allocated from arena. Never reads past len. */
int ff_av_plan_decode(const ff_av_plan_t *plan, const void *data, size_t len, ff_arena_t *arena,
                      void *out, ff_dec_err_t *err);

/* Checks that desc matches reader field by field (names, order, types).
 * 0, or -1 with errstr: the C structs follow the schemas, never the reverse. */
int ff_av_check_desc(const ff_av_type_t *reader, const ff_rdesc_t *desc, char *errstr,
                     size_t errstr_size);

/* Appends the Avro binary body of the struct `in` (schema: its desc). */
void ff_av_encode(const ff_rdesc_t *desc, const void *in, ff_buf_t *out);

/* Renders one Avro binary body written with `writer` as plain JSON (unions
 * unwrapped, enums as strings, bytes as escaped strings). */
int ff_av_to_json(const ff_av_type_t *writer, const void *data, size_t len, ff_buf_t *out,
                  ff_dec_err_t *err);

/* Varint helpers (zig-zag), exposed for tests and fuzzing. */
void ff_av_put_long(ff_buf_t *out, int64_t v);
/* Confluent framing: magic byte 0 then the 4-byte big-endian schema id. */
#define FF_AV_FRAME_LEN 5
void ff_av_put_frame(ff_buf_t *out, int32_t schema_id);
/* Splits a framed value; 0, or -1 with err (EMPTY, BAD_MAGIC, TRUNCATED). */
int ff_av_parse_frame(const void *data, size_t len, int32_t *schema_id, ff_dec_err_t *err);

#endif
