/* ff_codec: footfall's records on the wire: schema ids, Confluent framing, plan cache. */
#ifndef FF_CODEC_H
#define FF_CODEC_H

#include <stdint.h>

#include "ff_avro.h"
#include "ff_records.h"

typedef struct ff_codec_s ff_codec_t;

/* Looks up the writer schema of an id the codec does not know (the Schema
 * Registry client). Returns the schema JSON (caller frees), or NULL with
 * *retry = 1 when the registry could not be asked (a transient failure) or
 * *retry = 0 when it answered that there is no such id. */
typedef char *(*ff_codec_fetch_fn)(void *opaque, int32_t id, int *retry, char *errstr,
                                   size_t errstr_size);

/* A codec with every embedded schema and its pinned id (schemas/ids). It
 * checks every record's C descriptor against its schema. NULL with errstr. */
ff_codec_t *ff_codec_new(char *errstr, size_t errstr_size);
void ff_codec_destroy(ff_codec_t *codec);

/* Adds a writer schema under id (another version of a record, or one the
 * registry returned). 0, or -1 with errstr (bad JSON, id taken by another
 * schema). Registering the same text again is a no-op. */
int ff_codec_register(ff_codec_t *codec, int32_t id, const char *json, char *errstr,
                      size_t errstr_size);
/* The schema of an id, or NULL. */
const ff_av_schema_t *ff_codec_schema(const ff_codec_t *codec, int32_t id);
/* The reader schema of rec (the current one from schemas/). */
const ff_av_schema_t *ff_codec_reader_schema(const ff_codec_t *codec, ff_rec_t rec);

/* The id records of rec are written with; by default the pinned one. */
int32_t ff_codec_writer_id(const ff_codec_t *codec, ff_rec_t rec);
void ff_codec_set_writer_id(ff_codec_t *codec, ff_rec_t rec, int32_t id);

void ff_codec_set_fetcher(ff_codec_t *codec, ff_codec_fetch_fn fetch, void *opaque);

/* Decodes a framed value as a rec (resolving the writer's schema against
 * ours) into out, a struct of rec's type; strings and arrays go to arena.
 * 0, or -1 with err. err->status FF_DEC_UNKNOWN_SCHEMA with *retry set (if
 * retry is not NULL) means the registry was unreachable: try again later. */
int ff_codec_decode(ff_codec_t *codec, ff_rec_t rec, const void *data, size_t len,
                    ff_arena_t *arena, void *out, ff_dec_err_t *err, int *retry);

/* Appends the framed encoding of in (a struct of rec's type) to out. */
void ff_codec_encode(const ff_codec_t *codec, ff_rec_t rec, const void *in, ff_buf_t *out);

/* Renders any framed value whose schema the codec knows as JSON. */
int ff_codec_to_json(ff_codec_t *codec, const void *data, size_t len, ff_buf_t *out,
                     ff_dec_err_t *err);

/* The record type of an Avro full name ("io.footfall.ShelfReading"), or
 * FF_REC__COUNT. */
ff_rec_t ff_codec_rec_by_name(const char *avro_name);
/* The record type a topic setting carries ("topic.shelf" -> SHELF_READING),
 * or FF_REC__COUNT. */
ff_rec_t ff_codec_rec_of_setting(const char *topic_setting);

struct ff_conf_s;
/* The record type a topic carries, by the topic names in conf, or
 * FF_REC__COUNT. */
ff_rec_t ff_codec_rec_of_topic(const struct ff_conf_s *conf, const char *topic);
struct ff_registry_s;
/* With schema.registry.url set: a registry client whose lookups serve the
 * codec's unknown ids, and the writer ids of the records written to the
 * topics of `writes` (topic settings, NULL-terminated), registered (or
 * found) under "<topic>-value". Without the setting: *registry = NULL and
 * the pinned ids stay. 0, or -1 with errstr and *config_error (1: a
 * setting is wrong, 0: the registry could not be reached). */
int ff_codec_use_registry(ff_codec_t *codec, const struct ff_conf_s *conf,
                          const char *const *writes, struct ff_registry_s **registry,
                          int *config_error, char *errstr, size_t errstr_size);

#endif
