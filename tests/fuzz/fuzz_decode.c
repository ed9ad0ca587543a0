/* libFuzzer target: any bytes as a framed record of every type, as JSON, and as a schema. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_codec.h"

static ff_codec_t *codec;
static ff_arena_t arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    ff_dec_err_t derr;
    ff_buf_t json;
    ff_any_rec_t out;

    if (!codec) {
        codec = ff_codec_new(err, sizeof err);
        if (!codec)
            abort();
        ff_arena_init(&arena, 64 * 1024);
    }
    /* As a record of each type; a decoded record encodes again. */
    for (int r = 0; r < FF_REC__COUNT; r++) {
        if (ff_codec_decode(codec, r, data, size, &arena, &out, &derr, NULL) == 0) {
            ff_buf_t again;
            ff_buf_init(&again);
            ff_codec_encode(codec, r, &out, &again);
            ff_buf_term(&again);
        } else if (derr.status == FF_DEC_OK) {
            abort(); /* an error must say which */
        }
        ff_arena_reset(&arena);
    }
    ff_buf_init(&json);
    ff_codec_to_json(codec, data, size, &json, &derr);
    ff_buf_term(&json);
    /* As a schema, read with every reader: plans must fail cleanly. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    ff_av_schema_t *schema = ff_av_schema_parse(text, err, sizeof err);
    if (schema) {
        for (int r = 0; r < FF_REC__COUNT; r++) {
            ff_av_plan_t *plan = ff_av_plan_new(ff_av_schema_root(schema),
                                                ff_av_schema_root(ff_codec_reader_schema(codec, r)),
                                                ff_record_descs[r], err, sizeof err);
            if (plan) {
                ff_av_plan_decode(plan, data, size, &arena, &out, &derr);
                ff_arena_reset(&arena);
            }
            ff_av_plan_destroy(plan);
        }
        ff_av_schema_destroy(schema);
    }
    free(text);
    return 0;
}
