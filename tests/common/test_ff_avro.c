/* Tests of the Avro codec: round trips, schema evolution, malformed input, and Avro-C interop. */
#include <avro.h>
#include <criterion/criterion.h>
#include <string.h>

#include "ff_codec.h"

static ff_codec_t *codec;
static ff_arena_t arena;

static void setup(void)
{
    char err[512];
    codec = ff_codec_new(err, sizeof err);
    cr_assert_not_null(codec, "codec: %s", err);
    ff_arena_init(&arena, 4096);
}

static void teardown(void)
{
    ff_codec_destroy(codec);
    ff_arena_term(&arena);
}

TestSuite(ff_avro, .init = setup, .fini = teardown);

static ff_shelf_reading_t sample_reading(void)
{
    ff_shelf_reading_t r = {
        .event_id = "e-1", .store_id = "S001", .shelf_id = "A3", .sku = "SKU-42",
        .category = "shoes", .ts = 1795430400123LL, .quantity = 7, .capacity = 40,
        .sensor = FF_SENSOR_RFID, .confidence = {true, 0.5},
    };
    return r;
}

Test(ff_avro, every_schema_parses_and_matches_its_struct)
{
    for (int r = 0; r < FF_REC__COUNT; r++) {
        cr_assert_not_null(ff_codec_reader_schema(codec, r));
        cr_assert_gt(ff_codec_writer_id(codec, r), 0);
    }
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_SHELF_READING), 4);
}

Test(ff_avro, shelf_reading_round_trips)
{
    ff_shelf_reading_t in = sample_reading(), out;
    ff_buf_t b;
    ff_dec_err_t err;
    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_SHELF_READING, &in, &b);
    cr_assert_eq(b.data[0], 0, "magic byte");
    cr_assert_eq(b.data[4], 4, "pinned schema id in the frame");
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &err,
                                 NULL),
                 0, "%s", err.msg);
    cr_assert_str_eq(out.event_id, "e-1");
    cr_assert_str_eq(out.store_id, "S001");
    cr_assert_str_eq(out.shelf_id, "A3");
    cr_assert_str_eq(out.sku, "SKU-42");
    cr_assert_str_eq(out.category, "shoes");
    cr_assert_eq(out.ts, 1795430400123LL);
    cr_assert_eq(out.quantity, 7);
    cr_assert_eq(out.capacity, 40);
    cr_assert_eq(out.sensor, FF_SENSOR_RFID);
    cr_assert(out.confidence.set);
    cr_assert_float_eq(out.confidence.v, 0.5, 1e-9);
    ff_buf_term(&b);
}

Test(ff_avro, pos_transaction_with_arrays_round_trips)
{
    ff_pos_line_t lines[2] = {{"SKU-1", "shoes", 2, 4999}, {"SKU-2", "socks", 1, 599}};
    const char *codes[1] = {"FF-ABC"};
    ff_pos_transaction_t in = {"tx-1", "S001", NULL, 1000, lines, 2, 10597, codes, 1}, out;
    ff_buf_t b;
    ff_dec_err_t err;
    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_POS_TRANSACTION, &in, &b);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_POS_TRANSACTION, b.data, b.len, &arena, &out,
                                 &err, NULL),
                 0, "%s", err.msg);
    cr_assert_null(out.customer_id, "anonymous sale stays null");
    cr_assert_eq(out.lines_cnt, 2);
    cr_assert_str_eq(out.lines[1].sku, "SKU-2");
    cr_assert_eq(out.lines[1].unit_price_cents, 599);
    cr_assert_eq(out.offer_codes_cnt, 1);
    cr_assert_str_eq(out.offer_codes[0], "FF-ABC");
    cr_assert_eq(out.total_cents, 10597);
    ff_buf_term(&b);
}

Test(ff_avro, json_rendering_is_plain_json)
{
    ff_shelf_reading_t in = sample_reading();
    ff_buf_t b, j;
    ff_dec_err_t err;
    ff_buf_init(&b);
    ff_buf_init(&j);
    in.confidence.set = false;
    ff_codec_encode(codec, FF_REC_SHELF_READING, &in, &b);
    cr_assert_eq(ff_codec_to_json(codec, b.data, b.len, &j, &err), 0, "%s", err.msg);
    cr_assert_str_eq(j.data,
                     "{\"event_id\":\"e-1\",\"store_id\":\"S001\",\"shelf_id\":\"A3\","
                     "\"sku\":\"SKU-42\",\"category\":\"shoes\",\"ts\":1795430400123,"
                     "\"quantity\":7,\"capacity\":40,\"sensor\":\"RFID\",\"confidence\":null}");
    ff_buf_term(&b);
    ff_buf_term(&j);
}

/* ---- schema evolution ---------------------------------------------------- */

/* An older ShelfReading: no confidence field, ts still an int-promotable long. */
static const char *shelf_v0 =
    "{\"type\":\"record\",\"name\":\"ShelfReading\",\"namespace\":\"io.footfall\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},{\"name\":\"store_id\",\"type\":\"string\"},"
    "{\"name\":\"shelf_id\",\"type\":\"string\"},{\"name\":\"sku\",\"type\":\"string\"},"
    "{\"name\":\"category\",\"type\":\"string\"},{\"name\":\"ts\",\"type\":\"long\"},"
    "{\"name\":\"quantity\",\"type\":\"int\"},{\"name\":\"capacity\",\"type\":\"int\"},"
    "{\"name\":\"sensor\",\"type\":{\"type\":\"enum\",\"name\":\"ShelfSensor\","
    "\"symbols\":[\"WEIGHT\",\"RFID\",\"CAMERA\"]}}]}";

/* A newer ShelfReading: an added defaulted field in the middle, a new
 * sensor symbol, and fields in another order. */
static const char *shelf_v2 =
    "{\"type\":\"record\",\"name\":\"ShelfReading\",\"namespace\":\"io.footfall\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},{\"name\":\"store_id\",\"type\":\"string\"},"
    "{\"name\":\"aisle\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"shelf_id\",\"type\":\"string\"},{\"name\":\"sku\",\"type\":\"string\"},"
    "{\"name\":\"category\",\"type\":\"string\"},{\"name\":\"ts\",\"type\":\"long\"},"
    "{\"name\":\"capacity\",\"type\":\"int\"},{\"name\":\"quantity\",\"type\":\"int\"},"
    "{\"name\":\"sensor\",\"type\":{\"type\":\"enum\",\"name\":\"ShelfSensor\","
    "\"symbols\":[\"WEIGHT\",\"RFID\",\"CAMERA\",\"LIDAR\"]}},"
    "{\"name\":\"confidence\",\"type\":[\"null\",\"float\"],\"default\":null},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]}]}";

static void frame(ff_buf_t *b, int32_t id)
{
    ff_buf_reset(b);
    ff_av_put_frame(b, id);
}

static void put_str(ff_buf_t *b, const char *s)
{
    ff_av_put_long(b, (int64_t)strlen(s));
    ff_buf_puts(b, s);
}

Test(ff_avro, older_writer_without_a_defaulted_field_decodes)
{
    char err[256];
    ff_buf_t b;
    ff_dec_err_t derr;
    ff_shelf_reading_t out;
    cr_assert_eq(ff_codec_register(codec, 104, shelf_v0, err, sizeof err), 0, "%s", err);
    ff_buf_init(&b);
    frame(&b, 104);
    put_str(&b, "e-9");
    put_str(&b, "S002");
    put_str(&b, "B1");
    put_str(&b, "SKU-7");
    put_str(&b, "toys");
    ff_av_put_long(&b, 123456);
    ff_av_put_long(&b, 3);
    ff_av_put_long(&b, 30);
    ff_av_put_long(&b, 2); /* CAMERA */
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &derr,
                                 NULL),
                 0, "%s", derr.msg);
    cr_assert_str_eq(out.shelf_id, "B1");
    cr_assert_eq(out.quantity, 3);
    cr_assert_eq(out.capacity, 30);
    cr_assert_eq(out.sensor, FF_SENSOR_CAMERA);
    cr_assert_not(out.confidence.set, "the reader's default (null) fills the missing field");
    ff_buf_term(&b);
}

Test(ff_avro, newer_writer_with_added_fields_and_reordering_decodes)
{
    char err[256];
    ff_buf_t b;
    ff_dec_err_t derr;
    ff_shelf_reading_t out;
    cr_assert_eq(ff_codec_register(codec, 204, shelf_v2, err, sizeof err), 0, "%s", err);
    ff_buf_init(&b);
    frame(&b, 204);
    put_str(&b, "e-10");
    put_str(&b, "S003");
    ff_av_put_long(&b, 1); /* aisle: string branch */
    put_str(&b, "aisle 7");
    put_str(&b, "C2");
    put_str(&b, "SKU-8");
    put_str(&b, "games");
    ff_av_put_long(&b, 99);
    ff_av_put_long(&b, 50); /* capacity before quantity */
    ff_av_put_long(&b, 12);
    ff_av_put_long(&b, 1); /* RFID */
    ff_av_put_long(&b, 0); /* confidence null */
    ff_av_put_long(&b, 2); /* tags: two strings */
    put_str(&b, "x");
    put_str(&b, "y");
    ff_av_put_long(&b, 0);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &derr,
                                 NULL),
                 0, "%s", derr.msg);
    cr_assert_str_eq(out.shelf_id, "C2");
    cr_assert_eq(out.quantity, 12);
    cr_assert_eq(out.capacity, 50);
    cr_assert_eq(out.sensor, FF_SENSOR_RFID);

    /* The new symbol is not one the reader knows and the reader enum has no
     * default: that one record is a schema mismatch, not a crash. */
    b.data[b.len - 8] = 6; /* sensor index 3 (zig-zag 6) = LIDAR */
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &derr,
                                 NULL),
                 -1);
    cr_assert_eq(derr.status, FF_DEC_SCHEMA_MISMATCH, "%s", derr.msg);
    ff_buf_term(&b);
}

Test(ff_avro, reader_field_without_default_missing_from_writer_is_a_mismatch)
{
    /* A writer without `capacity`: the reader cannot invent one. */
    const char *json =
        "{\"type\":\"record\",\"name\":\"ShelfReading\",\"namespace\":\"io.footfall\","
        "\"fields\":[{\"name\":\"event_id\",\"type\":\"string\"}]}";
    char err[256];
    ff_buf_t b;
    ff_dec_err_t derr;
    ff_shelf_reading_t out;
    cr_assert_eq(ff_codec_register(codec, 300, json, err, sizeof err), 0);
    ff_buf_init(&b);
    frame(&b, 300);
    put_str(&b, "e");
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &derr,
                                 NULL),
                 -1);
    cr_assert_eq(derr.status, FF_DEC_SCHEMA_MISMATCH);
    cr_assert(strstr(derr.msg, "no default"), "message says why: %s", derr.msg);
    ff_buf_term(&b);
}

/* A writer whose array items are not a record (an empty union, found by
 * fuzz_decode, or a union with a record in it) is a mismatch, not a crash
 * nor a record read without its branch index. */
Test(ff_avro, array_items_that_are_not_a_record_are_a_mismatch)
{
    const char *items[] = {
        "[]",
        "[\"null\",{\"type\":\"record\",\"name\":\"Interest\",\"fields\":["
        "{\"name\":\"category\",\"type\":\"string\"}]}]",
    };
    for (int i = 0; i < 2; i++) {
        char json[512], err[256];
        ff_buf_t b;
        ff_dec_err_t derr;
        ff_store_assist_t out;
        snprintf(json, sizeof json,
                 "{\"type\":\"record\",\"name\":\"StoreAssist\",\"namespace\":"
                 "\"io.footfall\",\"fields\":[{\"name\":\"top_interests\",\"type\":"
                 "{\"type\":\"array\",\"items\":{\"type\":%s}}}]}",
                 items[i]);
        cr_assert_eq(ff_codec_register(codec, 310 + i, json, err, sizeof err), 0, "%s", err);
        ff_buf_init(&b);
        frame(&b, 310 + i);
        put_str(&b, ""); /* bytes enough for the plan to be asked for */
        cr_assert_eq(ff_codec_decode(codec, FF_REC_STORE_ASSIST, b.data, b.len, &arena, &out,
                                     &derr, NULL),
                     -1);
        cr_assert_eq(derr.status, FF_DEC_SCHEMA_MISMATCH, "items %s: %s", items[i], derr.msg);
        cr_assert(strstr(derr.msg, "expects record"), "message says why: %s", derr.msg);
        ff_buf_term(&b);
    }
}

/* ---- malformed input --------------------------------------------------- */

Test(ff_avro, framing_errors_are_classified)
{
    ff_dec_err_t err;
    ff_shelf_reading_t out;
    const char bad_magic[] = {1, 0, 0, 0, 4, 2};
    const char short_hdr[] = {0, 0, 0};
    const char unknown[] = {0, 0, 0, 0x7f, 0x11, 2, 'a'};

    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, NULL, 0, &arena, &out, &err, NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_EMPTY);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, bad_magic, sizeof bad_magic, &arena,
                                 &out, &err, NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_BAD_MAGIC);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, short_hdr, sizeof short_hdr, &arena,
                                 &out, &err, NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_TRUNCATED);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, unknown, sizeof unknown, &arena,
                                 &out, &err, NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_UNKNOWN_SCHEMA);
    cr_assert_str_eq(ff_dec_status_name(err.status), "UNKNOWN_SCHEMA");
}

Test(ff_avro, every_truncation_of_a_valid_record_is_an_error)
{
    ff_pos_line_t lines[1] = {{"SKU-1", "shoes", 2, 4999}};
    const char *codes[1] = {"FF-ABC"};
    ff_pos_transaction_t in = {"tx-1", "S001", "C1", 1000, lines, 1, 9998, codes, 1}, out;
    ff_buf_t b;
    ff_dec_err_t err;
    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_POS_TRANSACTION, &in, &b);
    for (size_t n = 0; n < b.len; n++) {
        cr_assert_eq(ff_codec_decode(codec, FF_REC_POS_TRANSACTION, b.data, n, &arena, &out, &err,
                                     NULL),
                     -1, "prefix of %zu bytes must not decode", n);
        cr_assert_neq(err.status, FF_DEC_OK);
    }
    ff_buf_term(&b);
}

Test(ff_avro, trailing_bytes_and_wrong_records_are_errors)
{
    ff_shelf_reading_t in = sample_reading(), out;
    ff_web_event_t web;
    ff_buf_t b;
    ff_dec_err_t err;
    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_SHELF_READING, &in, &b);
    /* A valid ShelfReading is not a WebEvent. */
    cr_assert_eq(ff_codec_decode(codec, FF_REC_WEB_EVENT, b.data, b.len, &arena, &web, &err,
                                 NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_SCHEMA_MISMATCH, "%s", err.msg);
    ff_buf_putc(&b, 0);
    cr_assert_eq(ff_codec_decode(codec, FF_REC_SHELF_READING, b.data, b.len, &arena, &out, &err,
                                 NULL),
                 -1);
    cr_assert_eq(err.status, FF_DEC_MALFORMED);
    ff_buf_term(&b);
}

Test(ff_avro, corrupt_bytes_never_crash)
{
    ff_shelf_reading_t in = sample_reading(), out;
    ff_buf_t b;
    ff_dec_err_t err;
    unsigned seed = 7;
    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_SHELF_READING, &in, &b);
    for (int round = 0; round < 5000; round++) {
        char copy[256];
        size_t n = b.len;
        memcpy(copy, b.data, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245 + 12345;
            size_t pos = FF_AV_FRAME_LEN + (seed >> 8) % (n - FF_AV_FRAME_LEN);
            copy[pos] = (char)(seed >> 16);
        }
        /* Either it decodes to something or it is an error; never a crash. */
        if (ff_codec_decode(codec, FF_REC_SHELF_READING, copy, n, &arena, &out, &err, NULL) == -1)
            cr_assert_neq(err.status, FF_DEC_OK);
        ff_arena_reset(&arena);
    }
    ff_buf_term(&b);
}

/* ---- interop with Avro-C, the reference implementation ----------------- */

static avro_schema_t avroc_schema(ff_rec_t rec)
{
    avro_schema_t s;
    const char *json = ff_av_schema_json(ff_codec_reader_schema(codec, rec));
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &s), 0, "%s", avro_strerror());
    return s;
}

Test(ff_avro, avro_c_reads_what_we_write)
{
    ff_shelf_reading_t in = sample_reading();
    avro_schema_t schema = avroc_schema(FF_REC_SHELF_READING);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t val, field, branch;
    avro_reader_t reader;
    ff_buf_t b;
    const char *s;
    size_t size;
    int32_t i32;
    int64_t i64;
    float f;
    int disc;

    ff_buf_init(&b);
    ff_codec_encode(codec, FF_REC_SHELF_READING, &in, &b);
    reader = avro_reader_memory(b.data + FF_AV_FRAME_LEN, (int64_t)(b.len - FF_AV_FRAME_LEN));
    avro_generic_value_new(iface, &val);
    cr_assert_eq(avro_value_read(reader, &val), 0, "%s", avro_strerror());
    avro_value_get_by_name(&val, "sku", &field, NULL);
    avro_value_get_string(&field, &s, &size);
    cr_assert_str_eq(s, "SKU-42");
    avro_value_get_by_name(&val, "ts", &field, NULL);
    avro_value_get_long(&field, &i64);
    cr_assert_eq(i64, 1795430400123LL);
    avro_value_get_by_name(&val, "capacity", &field, NULL);
    avro_value_get_int(&field, &i32);
    cr_assert_eq(i32, 40);
    avro_value_get_by_name(&val, "sensor", &field, NULL);
    avro_value_get_enum(&field, &disc);
    cr_assert_eq(disc, FF_SENSOR_RFID);
    avro_value_get_by_name(&val, "confidence", &field, NULL);
    avro_value_get_discriminant(&field, &disc);
    cr_assert_eq(disc, 1);
    avro_value_get_current_branch(&field, &branch);
    avro_value_get_float(&branch, &f);
    cr_assert_float_eq(f, 0.5f, 1e-6);

    avro_value_decref(&val);
    avro_value_iface_decref(iface);
    avro_reader_free(reader);
    avro_schema_decref(schema);
    ff_buf_term(&b);
}

Test(ff_avro, we_read_what_avro_c_writes)
{
    avro_schema_t schema = avroc_schema(FF_REC_WEB_EVENT);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t val, field, branch;
    avro_writer_t writer;
    char body[512];
    ff_buf_t b;
    ff_web_event_t out;
    ff_dec_err_t err;

    avro_generic_value_new(iface, &val);
    avro_value_get_by_name(&val, "event_id", &field, NULL);
    avro_value_set_string(&field, "w-1");
    avro_value_get_by_name(&val, "customer_id", &field, NULL);
    avro_value_set_string(&field, "C42");
    avro_value_get_by_name(&val, "session_id", &field, NULL);
    avro_value_set_string(&field, "sess");
    avro_value_get_by_name(&val, "ts", &field, NULL);
    avro_value_set_long(&field, -5);
    avro_value_get_by_name(&val, "type", &field, NULL);
    avro_value_set_enum(&field, FF_WEB_ADD_TO_CART);
    avro_value_get_by_name(&val, "sku", &field, NULL);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string(&branch, "SKU-\xc3\xa9");
    avro_value_get_by_name(&val, "category", &field, NULL);
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
    avro_value_get_by_name(&val, "price_cents", &field, NULL);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_long(&branch, 123456789012LL);
    avro_value_get_by_name(&val, "query", &field, NULL);
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);

    writer = avro_writer_memory(body, sizeof body);
    cr_assert_eq(avro_value_write(writer, &val), 0, "%s", avro_strerror());
    ff_buf_init(&b);
    ff_av_put_frame(&b, ff_codec_writer_id(codec, FF_REC_WEB_EVENT));
    ff_buf_append(&b, body, (size_t)avro_writer_tell(writer));
    cr_assert_eq(ff_codec_decode(codec, FF_REC_WEB_EVENT, b.data, b.len, &arena, &out, &err, NULL),
                 0, "%s", err.msg);
    cr_assert_str_eq(out.customer_id, "C42");
    cr_assert_eq(out.ts, -5);
    cr_assert_eq(out.type, FF_WEB_ADD_TO_CART);
    cr_assert_str_eq(out.sku, "SKU-\xc3\xa9");
    cr_assert_null(out.category);
    cr_assert(out.price_cents.set);
    cr_assert_eq(out.price_cents.v, 123456789012LL);
    cr_assert_null(out.query);

    avro_writer_free(writer);
    avro_value_decref(&val);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    ff_buf_term(&b);
}
